"""tui/link.py: the one decision of what the link to the terminal is given."""

from __future__ import annotations

import pytest

from tui.link import (
    LOW_STATUS_INTERVAL,
    LOW_STREAM_FPS,
    STATUS_INTERVAL,
    STREAM_FPS,
    decide,
    over_ssh,
)

SSH = {"SSH_CONNECTION": "10.0.0.1 51000 10.0.0.2 22", "TERM": "xterm-256color"}
LOCAL = {"TERM": "xterm-256color"}


def test_over_ssh_is_told_by_ssh_connection_alone() -> None:
    assert over_ssh(SSH)
    assert not over_ssh(LOCAL)
    assert not over_ssh({"SSH_CONNECTION": "  "})
    assert not over_ssh({"SSH_AUTH_SOCK": "/tmp/agent"})  # an agent is not a session


def test_locally_nothing_is_held_back_but_the_mouse_movements() -> None:
    link = decide(LOCAL)
    assert not link.low_bandwidth
    assert link.cursor_blink and link.animations
    assert link.stream_fps == STREAM_FPS and link.status_interval == STATUS_INTERVAL
    assert link.mouse == "clicks" and link.redraw == "changes"


def test_over_ssh_low_bandwidth_is_on_by_itself() -> None:
    link = decide(SSH)
    assert link.low_bandwidth and link.why == "SSH_CONNECTION is set"
    assert not link.cursor_blink and not link.animations
    assert link.stream_fps == LOW_STREAM_FPS and link.status_interval == LOW_STATUS_INTERVAL


@pytest.mark.parametrize(
    ("env", "config", "flag", "low", "why"),
    [
        (SSH, False, None, False, "low_bandwidth = false"),  # the config beats the environment
        (LOCAL, True, None, True, "low_bandwidth = true"),
        (SSH, False, True, True, "--low-bandwidth"),  # the command line beats both
        (LOCAL, True, False, False, "--no-low-bandwidth"),
        (LOCAL, None, None, False, "not over SSH"),
    ],
)
def test_the_command_line_beats_the_config_which_beats_the_environment(
    env: dict[str, str], config: bool | None, flag: bool | None, low: bool, why: str
) -> None:
    link = decide(env, low_bandwidth=config, flag=flag)
    assert (link.low_bandwidth, link.why) == (low, why)
    assert link.cursor_blink is not low and link.animations is not low


def test_a_cursor_blink_set_in_the_config_beats_the_mode() -> None:
    assert decide(SSH, cursor_blink=True).cursor_blink
    assert not decide(LOCAL, cursor_blink=False).cursor_blink
    assert decide(SSH, cursor_blink=True).low_bandwidth  # the rest of the mode stays


def test_mouse_and_redraw_are_the_configs_whatever_the_mode() -> None:
    for env in (SSH, LOCAL):
        assert decide(env, mouse="off").mouse == "off"
        assert decide(env, mouse="on").mouse == "on"
        assert decide(env, redraw="full").redraw == "full"
    assert decide(LOCAL, mouse="bogus").mouse == "clicks"  # config.py refuses it first


def test_the_command_line_flag_is_for_the_app_only(capsys: pytest.CaptureFixture[str]) -> None:
    from tui.__main__ import build_parser, main

    parse = build_parser().parse_args
    assert parse([]).low_bandwidth is None
    assert parse(["--low-bandwidth"]).low_bandwidth is True
    assert parse(["--no-low-bandwidth"]).low_bandwidth is False
    with pytest.raises(SystemExit) as info:
        main(["--low-bandwidth", "sessions", "list"])
    assert info.value.code == 2
    assert "--low-bandwidth applies to the app, not to `sessions`" in capsys.readouterr().err


def test_only_changed_cells_are_sent_locally_and_over_ssh_unless_full_is_chosen() -> None:
    assert decide({}).redraw == "changes"
    assert decide({"SSH_CONNECTION": "1 2 3 4"}).redraw == "changes"
    assert decide({}, redraw="full").redraw == "full"
    assert decide({"SSH_CONNECTION": "1 2 3 4"}, redraw="full").redraw == "full"

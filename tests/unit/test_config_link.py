"""config.toml's link settings: low_bandwidth, cursor_blink, mouse, redraw (tui/link.py)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tui import config as cfg


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, "utf-8")
    return path


def test_left_out_they_are_automatic_and_the_defaults(tmp_path: Path) -> None:
    config = cfg.load(write(tmp_path, "theme = 'nord'\n"))
    assert config.low_bandwidth is None and config.cursor_blink is None
    assert (config.mouse, config.redraw) == ("clicks", "changes")


def test_valid_values_are_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "low_bandwidth = true\ncursor_blink = false\nmouse = 'off'\nredraw = 'changes'\n",
    )
    config = cfg.load(path)
    assert (config.low_bandwidth, config.cursor_blink) == (True, False)
    assert (config.mouse, config.redraw) == ("off", "changes")


@pytest.mark.parametrize(
    ("text", "key", "wanted"),
    [
        ("low_bandwidth = 'yes'\n", "low_bandwidth", "true or false"),
        ("low_bandwidth = 1\n", "low_bandwidth", "true or false"),
        ("cursor_blink = 'auto'\n", "cursor_blink", "true or false"),
        ("mouse = 'clicky'\n", "mouse", '"clicks", "on", "off"'),
        ("mouse = true\n", "mouse", '"clicks", "on", "off"'),
        ("redraw = 'some'\n", "redraw", '"changes", "full"'),
    ],
)
def test_a_wrong_value_names_the_file_the_key_and_what_it_takes(
    tmp_path: Path, text: str, key: str, wanted: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(cfg.ConfigError) as info:
        cfg.load(path)
    message = str(info.value)
    assert str(path) in message and f"{key} must be" in message and wanted in message


def test_a_save_round_trips_them_and_drops_the_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "some_future_key = 3\n")
    config = cfg.load(path)
    config.low_bandwidth, config.cursor_blink, config.mouse = False, True, "on"
    cfg.save(config)
    again = cfg.load(path)
    assert (again.low_bandwidth, again.cursor_blink, again.mouse) == (False, True, "on")
    assert again.redraw == "changes"
    written = tomllib.loads(path.read_text("utf-8"))
    assert written["some_future_key"] == 3  # unknown keys are kept
    assert "redraw" not in written  # a default is not written

    again.low_bandwidth = again.cursor_blink = None  # back to automatic: the keys go
    again.mouse = "clicks"
    cfg.save(again)
    written = tomllib.loads(path.read_text("utf-8"))
    assert not {"low_bandwidth", "cursor_blink", "mouse"} & written.keys()


def test_validated_refuses_a_mouse_mode_set_in_code(tmp_path: Path) -> None:
    config = cfg.load(write(tmp_path, ""))
    config.mouse = "sometimes"
    with pytest.raises(cfg.ConfigError, match="mouse must be"):
        cfg.validated(config)

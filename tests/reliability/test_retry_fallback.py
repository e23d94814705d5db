"""429 and fallback: what chatterm does before the first word, and what it never does after.

A short Retry-After is waited out with a countdown and retried once; a long one is
reported at once. Fallback providers are tried only while nothing has arrived: once a
reply has started, a failure is reported and never restarted elsewhere.
"""

from __future__ import annotations

import os
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.host import screen_text, wait_until
from tests.servers import LoopbackServer, OllamaServer, OpenAIServer, free_port
from tui.__main__ import main as chatterm_main
from tui.app import ChattermApp
from tui.chat import RETRY_AFTER_LIMIT
from tui.config import load
from tui.store import SessionStore

MAIN_REPLY = "The main provider answers this."
BACKUP_REPLY = "The backup provider answers instead."


class Setup:
    """A config with a main OpenAI-compatible provider and, optionally, fallbacks."""

    def __init__(self, tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
        self.tmp = tmp
        self.capsys = capsys
        self.config_path = tmp / "config.toml"
        self.data_dir = tmp / "data"
        monkeypatch.setenv("CHATTERM_CONFIG", str(self.config_path))
        monkeypatch.setenv("CHATTERM_DATA_DIR", str(self.data_dir))

    def write(self, main: str, fallbacks: dict[str, tuple[str, str]] | None = None) -> None:
        """*main* is a base_url; *fallbacks* maps name -> (kind, base_url), in order."""
        fallbacks = fallbacks or {}
        lines = [
            'default_provider = "main"',
            "request_timeout = 5",
            f"fallback = [{', '.join(repr(n) for n in fallbacks)}]".replace("'", '"'),
            "[providers.main]",
            'kind = "openai"',
            f'base_url = "{main}"',
            'default_model = "main-model"',
        ]
        for name, (kind, url) in fallbacks.items():
            lines += [f"[providers.{name}]", f'kind = "{kind}"', f'base_url = "{url}"']
            lines.append(f'default_model = "{name}-model"')
        self.config_path.write_text("\n".join(lines) + "\n", "utf-8")
        os.chmod(self.config_path, 0o600)

    def ask(self, *args: str) -> tuple[int, str, str]:
        code = chatterm_main(["ask", *args])
        out, err = self.capsys.readouterr()
        return code, out, err

    def reply(self) -> dict:
        [path] = (self.data_dir / "sessions").glob("*.toml")
        return tomllib.loads(path.read_text("utf-8"))["messages"][-1]


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Setup:
    return Setup(tmp_path, monkeypatch, capsys)


@pytest.fixture
def main_server() -> Iterator[OpenAIServer]:
    with OpenAIServer(reply=MAIN_REPLY) as server:
        yield server


@pytest.fixture
def backup_server() -> Iterator[OllamaServer]:
    with OllamaServer(reply=BACKUP_REPLY) as server:
        yield server


def chats(server: LoopbackServer) -> int:
    return len(server.chat_requests)


# -- 429 -------------------------------------------------------------------------------------
def test_short_retry_after_is_waited_out_with_a_countdown_and_retried_once(
    setup: Setup, main_server: OpenAIServer
) -> None:
    main_server.retry_after = "1"
    main_server.script("429")  # the first request is rate limited, the retry is not
    setup.write(main_server.base_url)
    started = time.monotonic()
    code, out, err = setup.ask("hi")
    waited = time.monotonic() - started
    assert code == 0, err
    assert out == MAIN_REPLY + "\n"
    assert chats(main_server) == 2
    assert 0.9 <= waited < 5
    assert "main: rate limited; retrying in 1 s" in err  # the countdown
    assert "main: retrying now" in err
    assert "Traceback" not in err
    assert setup.reply()["status"] == "complete"


def test_a_second_429_after_the_retry_is_reported_not_retried_again(
    setup: Setup, main_server: OpenAIServer
) -> None:
    main_server.mode, main_server.retry_after = "429", "1"
    setup.write(main_server.base_url)
    code, _out, err = setup.ask("hi")
    assert code == 1
    assert chats(main_server) == 2  # the first try and one retry, no more
    assert err.splitlines()[-1].startswith("chatterm: main: rate limited (HTTP 429)")
    assert setup.reply()["status"] == "error"


@pytest.mark.parametrize("retry_after", [str(int(RETRY_AFTER_LIMIT) + 1), "3600", ""])
def test_long_or_missing_retry_after_is_reported_at_once(
    setup: Setup, main_server: OpenAIServer, retry_after: str
) -> None:
    main_server.mode, main_server.retry_after = "429", retry_after
    setup.write(main_server.base_url)
    started = time.monotonic()
    code, _out, err = setup.ask("hi")
    assert time.monotonic() - started < 3  # reported, not waited
    assert code == 1 and chats(main_server) == 1
    [line] = err.splitlines()
    waits = {"3600": "retry after 1 h", "": "wait and try again"}  # under a minute: "21 s"
    hint = waits.get(retry_after, f"retry after {retry_after} s")
    said = f'"Rate limit reached for main-model. Please try again in {retry_after}s."'
    assert line == f"chatterm: main: rate limited (HTTP 429): {said}; {hint}"


async def test_the_app_shows_the_countdown_while_it_waits(
    tmp_path: Path, main_server: OpenAIServer
) -> None:
    main_server.retry_after = "1"
    main_server.script("429")
    setup_path = tmp_path / "config.toml"
    setup_path.write_text(
        f'default_provider = "main"\n[providers.main]\nkind = "openai"\n'
        f'base_url = "{main_server.base_url}"\n',
        "utf-8",
    )
    config = load(setup_path)
    app = ChattermApp(config, SessionStore(tmp_path / "s"), state_path=tmp_path / "state.json")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.conversation
        screen.prompt.text = "hi"
        await pilot.press("enter")
        await wait_until(pilot, lambda: "rate limited; retrying in" in screen_text(app), 10)
        await wait_until(pilot, lambda: not screen.streaming, 10)
        assert MAIN_REPLY.split()[1] in screen_text(app)
        assert chats(main_server) == 2


# -- fallback --------------------------------------------------------------------------------
@pytest.mark.parametrize("fault", ["refused", "401", "500", "429", "drop", "empty"])
def test_a_failure_before_the_first_word_moves_on_to_the_fallback(
    setup: Setup, main_server: OpenAIServer, backup_server: OllamaServer, fault: str
) -> None:
    main_url = main_server.base_url
    if fault == "refused":
        main_url = f"http://127.0.0.1:{free_port()}/v1"
    else:
        main_server.mode, main_server.retry_after = fault, "120"
    setup.write(main_url, {"backup": ("ollama", backup_server.url)})
    code, out, err = setup.ask("hi")
    assert code == 0, err
    assert out == BACKUP_REPLY + "\n"
    assert "trying backup" in err and "Traceback" not in err
    reply = setup.reply()
    # The saved reply says who really answered.
    assert (reply["provider"], reply["model"], reply["status"]) == (
        "backup",
        "backup-model",
        "complete",
    )
    assert reply["content"] == BACKUP_REPLY
    assert backup_server.requests[-1].json["model"] == "backup-model"


@pytest.mark.parametrize("fault", ["cut", "not_json", "error_event"])
def test_a_failure_after_the_first_word_is_reported_never_restarted_elsewhere(
    setup: Setup, main_server: OpenAIServer, backup_server: OllamaServer, fault: str
) -> None:
    main_server.mode = fault
    setup.write(main_server.base_url, {"backup": ("ollama", backup_server.url)})
    code, out, err = setup.ask("hi")
    assert code == 1
    assert chats(backup_server) == 0  # the fallback got no request at all
    [line] = err.splitlines()
    assert line.startswith("chatterm: main: ") and "trying" not in line
    reply = setup.reply()
    assert (reply["provider"], reply["status"]) == ("main", "error")
    assert reply["content"] and MAIN_REPLY.startswith(reply["content"])
    assert out == reply["content"] + "\n"


def test_every_fallback_is_tried_once_in_order_and_the_last_failure_is_reported(
    setup: Setup, main_server: OpenAIServer, backup_server: OllamaServer
) -> None:
    main_server.mode, backup_server.mode = "500", "empty"
    third = f"http://127.0.0.1:{free_port()}"
    setup.write(
        main_server.base_url,
        {"backup": ("ollama", backup_server.url), "third": ("ollama", third)},
    )
    code, out, err = setup.ask("hi")
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("chatterm: main: HTTP 500") and lines[0].endswith("trying backup")
    assert lines[1].startswith("chatterm: backup: ") and "empty reply" in lines[1]
    assert lines[1].endswith("trying third")
    assert lines[2].startswith("chatterm: third: cannot reach")
    assert (chats(main_server), chats(backup_server)) == (1, 1)
    reply = setup.reply()
    assert reply["status"] == "error" and reply["content"] == ""


def test_a_short_429_is_retried_on_the_same_provider_before_any_fallback(
    setup: Setup, main_server: OpenAIServer, backup_server: OllamaServer
) -> None:
    main_server.retry_after = "1"
    main_server.script("429")
    setup.write(main_server.base_url, {"backup": ("ollama", backup_server.url)})
    code, out, _err = setup.ask("hi")
    assert code == 0 and out == MAIN_REPLY + "\n"
    assert (chats(main_server), chats(backup_server)) == (2, 0)
    assert setup.reply()["provider"] == "main"

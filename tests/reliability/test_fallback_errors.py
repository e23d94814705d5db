"""With fallback, every provider's error is kept: under the reply, in the saved `error`
(one line per provider, in the order tried) and on stderr for `ask`. Before, the first
provider's error only flashed by and the file kept the last one alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.host import screen_text, wait_until
from tests.reliability.test_retry_fallback import BACKUP_REPLY, Setup
from tests.servers import OllamaServer, OpenAIServer, free_port
from tui.app import ChattermApp
from tui.config import load
from tui.store import SessionStore


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Setup:
    return Setup(tmp_path, monkeypatch, capsys)


@pytest.fixture
def main_server() -> Iterator[OpenAIServer]:
    with OpenAIServer(reply="unused") as server:
        server.mode = "500"
        yield server


@pytest.fixture
def backup_server() -> Iterator[OllamaServer]:
    with OllamaServer(reply=BACKUP_REPLY) as server:
        yield server


def three_failing(setup: Setup, main: OpenAIServer, backup: OllamaServer) -> None:
    backup.mode = "empty"
    third = f"http://127.0.0.1:{free_port()}"
    setup.write(main.base_url, {"backup": ("ollama", backup.url), "third": ("ollama", third)})


def test_the_saved_error_names_every_provider_that_failed_in_order(
    setup: Setup, main_server: OpenAIServer, backup_server: OllamaServer
) -> None:
    three_failing(setup, main_server, backup_server)
    code, _out, err = setup.ask("hi")
    assert code == 1
    saved = setup.reply()["error"].splitlines()
    assert [line.split(":")[0] for line in saved] == ["main", "backup", "third"]
    assert saved[0].startswith("main: HTTP 500") and "empty reply" in saved[1]
    assert saved[2].startswith("third: cannot reach")
    # stderr: one line per provider as well
    assert [line.split(":")[1].strip() for line in err.splitlines()] == [
        "main",
        "backup",
        "third",
    ]


def test_a_reply_from_the_fallback_keeps_the_first_providers_error(
    setup: Setup, main_server: OpenAIServer, backup_server: OllamaServer
) -> None:
    setup.write(main_server.base_url, {"backup": ("ollama", backup_server.url)})
    code, out, _err = setup.ask("hi")
    assert code == 0 and out == BACKUP_REPLY + "\n"
    reply = setup.reply()
    assert (reply["status"], reply["provider"]) == ("complete", "backup")
    assert reply["error"].startswith("main: HTTP 500")


async def test_the_app_shows_every_providers_error_under_the_reply(
    setup: Setup, tmp_path: Path, main_server: OpenAIServer, backup_server: OllamaServer
) -> None:
    three_failing(setup, main_server, backup_server)
    app = ChattermApp(
        load(setup.config_path), SessionStore(tmp_path / "s"), state_path=tmp_path / "st.json"
    )
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.conversation
        screen.prompt.text = "hi"
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: not screen.streaming and "third: cannot reach" in screen_text(app), 20
        )
        text = screen_text(app)
        assert "main: HTTP 500" in text
        assert "backup: " in text and "empty reply" in text
        assert "third: cannot reach" in text
        assert screen.session.messages[-1].error.count("\n") == 2

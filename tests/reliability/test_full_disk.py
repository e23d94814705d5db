"""A full disk mid-reply: the reply streams on into memory, a warning says it is not saved
yet, saving is retried every second and at the end, and the final file is whole once
saving works again. If it never does, the command says so and the text is still shown.

Saving is made to fail by replacing the store's atomic write with one that raises ENOSPC
(what a full disk gives) for a while: the code under test is the exchange's handling of a
failed save, not the store.
"""

from __future__ import annotations

import errno
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.host import screen_text, wait_until
from tests.servers import OpenAIServer
from tui import store as store_module
from tui.__main__ import main as chatterm_main
from tui.app import ChattermApp
from tui.config import load
from tui.store import SessionStore

WORDS = [f"word{n:03d} " for n in range(60)]
REPLY = "".join(WORDS)


class Disk:
    """Makes every save fail with ENOSPC until ``mend()``; counts the failures."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.full = True
        self.failures = 0
        real = store_module.files.write_atomic

        def write(path: Path, data: bytes) -> None:
            if self.full:
                self.failures += 1
                raise OSError(errno.ENOSPC, "No space left on device")
            real(path, data)

        monkeypatch.setattr(store_module.files, "write_atomic", write)

    def mend(self) -> None:
        self.full = False


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer(reply=WORDS, delay=0.05) as running:  # 3 s of reply
        yield running


@pytest.fixture
def env(tmp_path: Path, server: OpenAIServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f"default_provider = 'local'\n[providers.local]\nkind = 'openai'\n"
        f"base_url = '{server.base_url}'\n",
        "utf-8",
    )
    config.chmod(0o600)
    monkeypatch.setenv("CHATTERM_CONFIG", str(config))
    monkeypatch.setenv("CHATTERM_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def warnings(app: ChattermApp) -> str:
    """The toasts titled "Not saved yet" (they are drawn on a layer screen_text skips)."""
    return " ".join(n.message for n in app._notifications if n.title == "Not saved yet")


def saved(tmp_path: Path) -> list[dict]:
    files = list((tmp_path / "data" / "sessions").glob("*.toml"))
    return [tomllib.loads(f.read_text("utf-8")) for f in files]


def test_ask_streams_on_through_a_full_disk_and_saves_once_it_has_room(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    disk = Disk(monkeypatch)
    started = time.monotonic()
    real_write = store_module.files.write_atomic

    def write(path: Path, data: bytes) -> None:
        if disk.failures >= 3 or time.monotonic() - started > 2.0:
            disk.mend()  # room again after a few failed saves (the first second or two)
        real_write(path, data)

    monkeypatch.setattr(store_module.files, "write_atomic", write)
    code = chatterm_main(["ask", "tell me"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out == REPLY + "\n"  # the stream never stopped
    assert disk.failures >= 2  # the prompt and the first save failed, at least
    assert "warning: could not save the reply" in err and "No space left" in err
    assert "saved again" in err
    [doc] = saved(env)
    user, reply = doc["messages"]
    assert user["content"] == "tell me"
    assert (reply["status"], reply["content"]) == ("complete", REPLY)


def test_ask_says_clearly_when_the_reply_could_not_be_saved_at_all(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    disk = Disk(monkeypatch)
    code = chatterm_main(["ask", "tell me"])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == REPLY + "\n"  # every word still reached the user
    assert disk.failures >= 3  # retried while it streamed, and at the end
    assert err.count("warning: could not save") == 1  # said once, not every second
    assert "the reply was not saved" in err and "No space left" in err
    assert saved(env) == []


def status_text(app: ChattermApp) -> str:
    return str(app.conversation.status.render())


async def test_the_app_warns_streams_to_the_end_and_saves_when_the_disk_has_room(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = Disk(monkeypatch)
    app = ChattermApp(
        load(env / "config.toml"),
        SessionStore(env / "data" / "sessions"),
        state_path=env / "state.json",
    )
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.conversation
        screen.prompt.text = "tell me"
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(warnings(app)), 20)
        assert "No space left" in warnings(app)
        assert screen.streaming  # the warning came while the reply went on
        # ...and it stays under the reply (the status line), not only in a passing toast.
        await wait_until(pilot, lambda: "not saved yet" in status_text(app), 20)
        disk.mend()
        await wait_until(pilot, lambda: not screen.streaming, 20)
        # saved again: the warning goes
        await wait_until(pilot, lambda: "not saved yet" not in status_text(app), 20)
        assert "word059" in screen_text(app)
    [doc] = saved(env)
    reply = doc["messages"][-1]
    assert (reply["status"], reply["content"]) == ("complete", REPLY)

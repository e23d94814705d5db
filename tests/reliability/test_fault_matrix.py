"""The fault matrix: every provider × every failure, through `chatterm ask` and the app.

Each cell checks what a user would notice: nothing crashes and no traceback shows; one
line says what failed and what to do; the text that arrived before the fault stays on
screen and is saved with ``status = "error"``; and the next prompt works once the server
is healthy again. The table of cells tried and held prints at the end of the run
(tests/reliability/matrix.py).

`chatterm ask` runs in-process for the full matrix: ``tui.__main__.main`` is the console
script's own entry point, so this is the code path of the command, only without paying
~0.3 s of interpreter start per run; an exception escaping it fails the test as a
traceback would. A diagonal of the matrix also runs the installed command for real.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from tests.app.host import screen_text, wait_until
from tests.reliability.faults import (
    FAULT,
    FAULTS,
    NEXT_PROMPT,
    PROMPT,
    PROVIDERS,
    REPLY,
    Cell,
    Fault,
    check_failed_ask,
    check_next_ask,
    check_partial,
    make_cell,
)
from tui.__main__ import main as chatterm_main
from tui.app import ChattermApp
from tui.config import load
from tui.store import SessionStore

CHATTERM = str(Path(sys.executable).with_name("chatterm"))
SIZE = (100, 30)


# -- chatterm ask, in-process: the whole matrix -----------------------------------------------
def ask_in_process(
    cell: Cell, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    monkeypatch.setenv("CHATTERM_CONFIG", str(cell.config_path))
    monkeypatch.setenv("CHATTERM_DATA_DIR", str(cell.data_dir))
    code = chatterm_main(["ask", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.fault_cell("chatterm ask")
@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.id)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_ask_says_what_failed_keeps_the_partial_reply_and_the_next_prompt_works(
    provider: str,
    fault: Fault,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with make_cell(provider, fault, tmp_path) as cell:
        started = time.monotonic()
        check_failed_ask(cell, *ask_in_process(cell, monkeypatch, capsys, PROMPT))
        # Fails fast: a refused port, an unknown host (NXDOMAIN) or a long Retry-After is
        # reported at once, a stall after request_timeout (2 s); the bound leaves room for
        # a busy machine and still catches a fault that waits for the 10 s default.
        assert time.monotonic() - started < 9
        cell.heal()
        check_next_ask(cell, *ask_in_process(cell, monkeypatch, capsys, "-c", NEXT_PROMPT))


def test_ask_reports_a_bug_in_a_provider_in_one_line_and_keeps_the_partial_reply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not a network fault: a provider with a parsing bug. `ask` used to let it escape
    as a traceback; now it says it in one line, as the app does."""
    from tui.providers.echo import EchoProvider

    async def broken(self, model, messages, params=None):  # a provider with a parsing bug
        yield "first words "
        raise KeyError("choices")

    monkeypatch.setattr(EchoProvider, "_stream", broken)
    config = tmp_path / "config.toml"
    config.write_text('default_provider = "echo"\n', "utf-8")
    monkeypatch.setenv("CHATTERM_CONFIG", str(config))
    code = chatterm_main(["ask", PROMPT])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == "first words \n"
    [line] = err.splitlines()
    assert line.startswith("chatterm: unexpected KeyError: 'choices'") and "report" in line
    [session] = SessionStore(Path(os.environ["CHATTERM_DATA_DIR"]) / "sessions").list()
    reply = SessionStore(session.path.parent).load(session.id).messages[-1]
    assert (reply.status, reply.content) == ("error", "first words ")


# -- chatterm ask, the installed command: a sample of the matrix ------------------------------
# Every provider once, over the paths that differ in a real process: text on stdout before
# the fault, a timeout, a usage error (exit 2), a failed name lookup, an HTML error page and
# the size bound. (~0.8 s a cell, so the in-process cells above carry the full matrix.)
INSTALLED_CELLS = [
    ("openai", "cut"),
    ("raycast", "stall"),
    ("ollama", "404_model"),
    ("groq", "dns"),
    ("voigpt", "500"),
    ("openai", "endless"),
]


def ask_subprocess(cell: Cell, *args: str) -> tuple[int, str, str]:
    result = subprocess.run(
        [CHATTERM, "ask", *args], env=cell.env(), capture_output=True, text=True, timeout=60
    )
    return result.returncode, result.stdout, result.stderr


@pytest.mark.e2e
@pytest.mark.fault_cell("chatterm ask (installed command)")
@pytest.mark.parametrize(("provider", "fault"), INSTALLED_CELLS)
def test_installed_ask_survives_the_fault_without_a_traceback(
    provider: str, fault: str, tmp_path: Path
) -> None:
    with make_cell(provider, FAULT[fault], tmp_path) as cell:
        check_failed_ask(cell, *ask_subprocess(cell, PROMPT))
        cell.heal()
        check_next_ask(cell, *ask_subprocess(cell, "-c", NEXT_PROMPT))


# -- the app: every fault over openai, and each other provider once ---------------------------
# (~0.75 s a cell under the pilot; the providers' own handling is the same code as above.)
APP_CELLS = [("openai", f.id) for f in FAULTS] + [
    ("raycast", "cut"),
    ("ollama", "stall"),
    ("groq", "refused"),
    ("voigpt", "empty"),
]


async def send(pilot, app: ChattermApp, text: str) -> None:
    """Paste *text* into the prompt and press Enter (typing it costs ~0.1 s a key)."""
    app.conversation.prompt.text = text
    await pilot.press("enter")


def saved_messages(app: ChattermApp) -> list[dict]:
    path = app.services.store.path(app.conversation.session.id)
    return tomllib.loads(path.read_text("utf-8"))["messages"]


def reply_saved(app: ChattermApp) -> bool:
    """The file holds the prompt and its reply, no longer streaming."""
    messages = saved_messages(app)
    return len(messages) == 2 and messages[-1].get("status") != "streaming"


@pytest.mark.fault_cell("app")
@pytest.mark.parametrize(("provider", "fault"), APP_CELLS)
async def test_app_stays_up_shows_the_error_under_the_partial_reply_and_goes_on(
    provider: str, fault: str, tmp_path: Path
) -> None:
    with make_cell(provider, FAULT[fault], tmp_path) as cell:
        config = load(cell.config_path)  # the user's file, read as the app reads it
        store = SessionStore(cell.data_dir / "sessions")
        app = ChattermApp(config, store, state_path=tmp_path / "state.json")
        async with app.run_test(size=SIZE) as pilot:
            screen = app.conversation
            await send(pilot, app, PROMPT)
            await wait_until(
                pilot, lambda: not screen.streaming and len(screen.session.messages) == 2
            )
            await wait_until(pilot, lambda: reply_saved(app))
            assert app.is_running
            user, reply = saved_messages(app)
            assert user["content"] == PROMPT
            if cell.expect_error:
                assert reply["status"] == "error"
                assert re.search(cell.fault.says, reply["error"]), reply["error"]
                shown = " ".join(screen_text(app).split())
                assert "✗ error: " in shown
                assert re.search(cell.fault.says, shown), shown
                if cell.shows_partial:  # the partial reply stays, above its error line
                    first = REPLY.split()[0]
                    if fault != "endless":  # 4 MB of text: its start has scrolled away
                        assert shown.index(first) < shown.index("✗ error: ")
            if cell.expect_error:
                check_partial(cell, reply["content"])
            # The user fixes base_url (the providers screen drops the old instance), the
            # service recovers, and the next prompt works.
            cell.heal()
            config.providers[provider].base_url = cell.server.base_url
            await app.services.core.forget(provider)
            sent_before = len(cell.chat_requests())
            await send(pilot, app, NEXT_PROMPT)
            await wait_until(
                pilot, lambda: not screen.streaming and len(cell.chat_requests()) > sent_before
            )
            await wait_until(pilot, lambda: saved_messages(app)[-1]["status"] != "streaming")
            messages = saved_messages(app)
            assert [m["content"] for m in messages[-2:]] == [NEXT_PROMPT, REPLY]
            assert messages[-1]["status"] == "complete"
            assert "then the rest of the answer." in " ".join(screen_text(app).split())

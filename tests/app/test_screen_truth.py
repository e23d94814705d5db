"""The screen shows the truth: status line, recent models, focus, state file, TERM=dumb."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.app.host import local_app, screen_text, type_and_send, wait_until
from tests.servers import OpenAIServer
from tui.app import ChattermApp
from tui.screens.conversation import ConversationScreen
from tui.screens.sessions import SessionsScreen
from tui.store import Message

SIZE = (100, 30)
CHATTERM = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "chatterm"


def make_app(tmp_path: Path, server: OpenAIServer, notes: list[str] | None = None) -> ChattermApp:
    app = local_app(tmp_path, server.base_url, ("m1", "m2"))
    if notes is not None:
        original = app.notify

        def notify(message: str, **kwargs: object) -> None:
            notes.append(message)
            original(message, **kwargs)  # type: ignore[arg-type]

        app.notify = notify  # type: ignore[method-assign]
    return app


def status_text(app: ChattermApp) -> str:
    return str(app.conversation.status.render())


async def start_streaming(pilot: Pilot[None], app: ChattermApp) -> ConversationScreen:
    """Send "hi" and wait until the status line says the reply streams."""
    await type_and_send(pilot, "hi")
    await wait_until(pilot, lambda: "streaming" in status_text(app))
    assert app.conversation is not None
    return app.conversation


async def test_ctrl_t_returns_to_the_starting_model(tmp_path: Path) -> None:
    with OpenAIServer(reply="ok") as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            app.conversation.switch_model("local", "m2")
            await pilot.press("ctrl+t")
            await wait_until(pilot, lambda: app.conversation.session.model == "m1")
            assert "local · m1" in status_text(app)


async def test_stopped_reply_says_cancelled_in_the_status_line(tmp_path: Path) -> None:
    with OpenAIServer(reply="word " * 400, delay=0.05) as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            screen = await start_streaming(pilot, app)
            await pilot.press("escape")
            await wait_until(pilot, lambda: not screen.streaming)
            assert "cancelled" in status_text(app)


async def test_status_line_names_the_answering_model_until_the_reply_ends(
    tmp_path: Path,
) -> None:
    with OpenAIServer(reply="word " * 200, delay=0.02) as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            screen = await start_streaming(pilot, app)
            app.conversation.switch_model("local", "m2")
            await pilot.pause()
            assert screen.streaming
            assert "local · m1" in status_text(app)
            await wait_until(pilot, lambda: not screen.streaming, 30)
            assert "local · m2" in status_text(app)


async def test_malformed_or_deeply_nested_state_file_is_ignored_with_a_warning(
    tmp_path: Path,
) -> None:
    for text in ("[" * 100_000 + "]" * 100_000, "{not json"):
        (tmp_path / "state.json").write_text(text)
        notes: list[str] = []
        with OpenAIServer(reply="ok") as server:
            app = make_app(tmp_path, server, notes)
            async with app.run_test(size=SIZE) as pilot:
                await wait_until(pilot, lambda notes=notes: any("state.json" in n for n in notes))
                assert app.conversation is not None
                warning = next(n for n in notes if "state.json" in n)
                assert "\n" not in warning and "ignored" in warning


async def test_opening_a_session_from_f3_focuses_the_prompt(tmp_path: Path) -> None:
    with OpenAIServer(reply="ok") as server:
        app = make_app(tmp_path, server)
        store = app.services.store
        old = store.new("local", "m1")
        store.append(old, Message(role="user", content="old prompt"))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("ctrl+l")
            await wait_until(pilot, lambda: app.focused is app.conversation.log_view)
            await pilot.press("f3")
            await wait_until(pilot, lambda: isinstance(app.screen, SessionsScreen))
            await wait_until(pilot, lambda: app.screen._loaded)  # type: ignore[attr-defined]
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.conversation.session.id == old.id)
            await wait_until(pilot, lambda: app.focused is app.conversation.prompt)
            await pilot.press(*"typed")
            await wait_until(pilot, lambda: app.conversation.prompt.text == "typed")


def test_term_dumb_refuses_and_points_to_ask(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TERM": "dumb",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "CHATTERM_DATA_DIR": str(tmp_path / "data"),
    }
    env.pop("CHATTERM_CONFIG", None)
    done = subprocess.run(
        [str(CHATTERM)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "chatterm ask" in lines[0] and "terminal" in lines[0]
    assert "\x1b" not in done.stdout + done.stderr


async def _keys_seen(app: ChattermApp, pilot) -> str:
    """Every row the F1 list shows, scrolling down a row at a time to its end."""
    from tui.screens.help import KeysScreen

    await pilot.press("f1")
    await wait_until(pilot, lambda: isinstance(app.screen, KeysScreen))
    await pilot.pause()
    seen = screen_text(app)
    if app.size.height <= 24:  # too short for the list: a sign says there is more
        await wait_until(pilot, lambda: "more below" in screen_text(app))
    for _ in range(200):  # to the end of the list, however long it grows
        await pilot.press("down")
        await pilot.pause()
        seen += "\n" + screen_text(app)
        if "more below" not in screen_text(app):
            break
    return seen


async def test_f1_lists_every_key_at_80x24_and_120x40(tmp_path: Path) -> None:
    from tui import keymap

    for size in ((80, 24), (120, 40)):
        with OpenAIServer(reply="ok") as server:
            app = make_app(tmp_path, server)
            async with app.run_test(size=size) as pilot:
                seen = await _keys_seen(app, pilot)
                for _scope, key, what, _id in keymap.rows():
                    assert key in seen and what in seen, (size, key)
                for key in ("F5", "ctrl+p", "F1", "ctrl+q"):
                    assert key in seen, (size, key)


async def test_c_copies_the_newest_reply_after_an_old_message_was_marked(tmp_path: Path) -> None:
    with OpenAIServer(reply=["first reply"]) as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.conversation
            await pilot.press(*"one", "enter")
            await wait_until(
                pilot, lambda: not screen.streaming and len(screen.session.messages) == 2
            )
            await pilot.press("ctrl+l", "left_square_bracket", "left_square_bracket")
            await wait_until(pilot, lambda: screen.log_view.focused_index == 0)  # "one" marked
            server.reply = ["second reply"]
            await pilot.press("tab", *"two", "enter")
            await wait_until(
                pilot, lambda: not screen.streaming and len(screen.session.messages) == 4
            )
            await wait_until(pilot, lambda: "second reply" in screen_text(app))
            await pilot.press("ctrl+l", "c")
            await wait_until(pilot, lambda: app.clipboard != "")
            assert app.clipboard == "second reply"
            # "[" from the bottom marks the newest message on screen, then goes up from it.
            await pilot.press("left_square_bracket")
            await wait_until(pilot, lambda: screen.log_view.focused_index == 3)
            await pilot.press("left_square_bracket", "c")
            await wait_until(pilot, lambda: app.clipboard == "two")


async def test_at_40_columns_the_test_button_and_updated_column_are_whole(
    tmp_path: Path,
) -> None:
    from textual.widgets import Button, DataTable

    from tui.screens.providers import ProvidersScreen

    with OpenAIServer(reply="ok") as server:
        app = make_app(tmp_path, server)
        session = app.services.store.new("local", "m1")
        app.services.store.append(session, Message(role="user", content="hello"))
        async with app.run_test(size=(40, 24)) as pilot:
            await pilot.press("f4")
            await wait_until(pilot, lambda: isinstance(app.screen, ProvidersScreen))
            button = app.screen.query_one("#provider-test", Button)
            details = app.screen.query_one("#provider-details")
            # The whole button lies inside its pane (at 40 columns it was cut to "Tes").
            await pilot.pause()
            assert details.content_region.contains_region(button.region), (
                details.content_region,
                button.region,
            )
            await pilot.press("escape")
            await pilot.press("f3")
            await wait_until(pilot, lambda: isinstance(app.screen, SessionsScreen))
            await wait_until(pilot, lambda: app.screen._loaded)  # type: ignore[attr-defined]
            table = app.screen.query_one(DataTable)
            widths = {str(c.key.value): c.width for c in table.columns.values()}
            assert widths.get("updated", 16) >= 16  # whole "YYYY-MM-DD HH:MM", or dropped
            total = sum(c.get_render_width(table) for c in table.columns.values())
            assert total <= table.size.width  # nothing is cut off at the right
            stamp = table.get_cell_at((0, list(table.columns).index("updated")))
            assert stamp is not None
            await wait_until(pilot, lambda: str(stamp)[:10] in screen_text(app))


async def test_the_status_line_estimates_tokens_from_text_not_from_chunks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One chunk of 400 characters is about 100 tokens, not one: the figure says so."""
    from textual.app import App, ComposeResult

    from tui.widgets import status as status_module

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield status_module.StatusLine()

    async with One().run_test() as pilot:
        status = pilot.app.query_one(status_module.StatusLine)
        now = [100.0]
        monkeypatch.setattr(status_module.time, "monotonic", lambda: now[0])
        status.set_state("waiting")
        status.count("x" * 400)
        now[0] += 1.0  # a second later
        speed = status.speed_text()
        monkeypatch.undo()  # the real clock again before the app shuts down
        assert speed == "~100 tok/s · first token 0.00 s"

"""Keys from the registry, remapped through config.toml's [keys], pressed as a user would."""

from __future__ import annotations

from pathlib import Path

from tests.app.host import host_config, screen_text, wait_until
from tui import keymap
from tui.app import ChattermApp
from tui.screens.help import KeysScreen
from tui.screens.model_picker import ModelPickerScreen
from tui.store import SessionStore

SIZE = (100, 30)


def make_app(tmp_path: Path, keys: dict | None = None) -> ChattermApp:
    config = host_config(tmp_path, keys=keymap.parse_overrides(keys or {}))
    return ChattermApp(config, SessionStore(tmp_path / "s"), state_path=tmp_path / "st.json")


async def test_a_remapped_key_opens_the_picker_and_the_old_one_does_not(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"model_picker": "f9"})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        assert not isinstance(app.screen, ModelPickerScreen)
        await pilot.press("f9")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPickerScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ModelPickerScreen))
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, KeysScreen))
        row = next(line for line in screen_text(app).splitlines() if "choose a model" in line)
        assert "F9" in row and "F2" not in row


async def test_an_action_takes_a_list_of_keys(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"copy_code": ["f7", "ctrl+y"]})
    async with app.run_test(size=SIZE) as pilot:
        screen = app.conversation
        assert screen is not None
        await pilot.press(*"hi", "enter")  # echo's reply ends with a Python code block
        await wait_until(pilot, lambda: not screen.streaming and len(screen.session.messages) == 2)
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: app.clipboard.startswith("message = 'hi'"))
        app.copy_to_clipboard("")
        await pilot.press("f7")
        await wait_until(pilot, lambda: app.clipboard.startswith("message = 'hi'"))


async def test_send_can_move_off_enter(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"send": "f8"})
    async with app.run_test(size=SIZE) as pilot:
        screen = app.conversation
        assert screen is not None
        await pilot.press(*"one", "enter", *"two")
        assert screen.prompt.text == "one\ntwo"  # Enter is the TextArea's again: a new line
        assert screen.session.messages == []
        await pilot.press("f8")
        await wait_until(pilot, lambda: len(screen.session.messages) == 2)
        assert screen.session.messages[0].content == "one\ntwo"


async def test_a_key_shared_by_two_actions_is_a_warning_naming_both(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"new": "f6"})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        warnings = [n.message for n in app._notifications if n.title == "Keys"]
        assert len(warnings) == 1 and "new" in warnings[0] and "copy_reply" in warnings[0]


async def test_the_palette_runs_registry_actions_and_shows_their_keys(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"model_picker": "f9"})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"choose model")
        await wait_until(pilot, lambda: "Choose model…" in screen_text(app))
        assert "F9" in screen_text(app)  # the key in force, not the default
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPickerScreen))


async def test_every_palette_action_runs_where_it_lives(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        entries = {e.title: e for e in app.palette_entries()}
        for action in keymap.palette_actions():
            assert action.palette in entries, action.id
        await pilot.press("ctrl+p", *"focus the log", "enter")
        screen = app.conversation
        assert screen is not None
        await wait_until(pilot, lambda: app.focused is screen.log_view)

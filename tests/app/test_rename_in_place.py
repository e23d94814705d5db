"""The conversation's title is on the status line, and F9 renames it where it is."""

from __future__ import annotations

import tomllib
from pathlib import Path

from textual.widgets import Input

from tests.app.host import host_config, screen_text, wait_until
from tui.app import ChattermApp
from tui.screens.sessions import RenameScreen
from tui.store import SessionStore

SIZE = (100, 30)


def make_app(tmp_path: Path) -> ChattermApp:
    config = host_config(tmp_path)
    return ChattermApp(config, SessionStore(tmp_path / "s"), state_path=tmp_path / "state.json")


async def rename(pilot, title: str) -> None:
    await pilot.press("f9")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, RenameScreen))
    field = pilot.app.screen.query_one("#rename-input", Input)
    field.value = ""
    await pilot.press(*title, "enter")
    await wait_until(pilot, lambda: not isinstance(pilot.app.screen, RenameScreen))


async def test_the_title_shows_and_f9_renames_and_saves_it(tmp_path: Path) -> None:
    async with make_app(tmp_path).run_test(size=SIZE) as pilot:
        screen = pilot.app.conversation
        assert "new conversation" in screen_text(pilot.app)
        await pilot.press(*"plan a trip to Porto", "enter")
        await wait_until(pilot, lambda: not screen.streaming and len(screen.session.messages) == 2)
        await wait_until(pilot, lambda: "plan a trip to Porto" in screen.status.render().plain)
        await rename(pilot, "  Porto,   May ")
        assert "Porto, May" in str(screen.status.render())
        path = pilot.app.services.store.path(screen.session.id)
        assert tomllib.loads(path.read_text("utf-8"))["title"] == "Porto, May"
        await pilot.press(*"and food?", "enter")  # later saves keep the new title
        await wait_until(pilot, lambda: not screen.streaming and len(screen.session.messages) == 4)
        assert tomllib.loads(path.read_text("utf-8"))["title"] == "Porto, May"


async def test_a_new_conversation_is_named_before_its_first_prompt(tmp_path: Path) -> None:
    async with make_app(tmp_path).run_test(size=SIZE) as pilot:
        screen = pilot.app.conversation
        await rename(pilot, "Ideas")
        assert not pilot.app.services.store.path(screen.session.id).exists()  # nothing sent
        await pilot.press(*"first idea", "enter")
        await wait_until(pilot, lambda: not screen.streaming and len(screen.session.messages) == 2)
        saved = tomllib.loads(pilot.app.services.store.path(screen.session.id).read_text())
        assert saved["title"] == "Ideas"


async def test_esc_or_an_empty_title_changes_nothing(tmp_path: Path) -> None:
    async with make_app(tmp_path).run_test(size=SIZE) as pilot:
        screen = pilot.app.conversation
        await pilot.press(*"hello", "enter")
        await wait_until(pilot, lambda: not screen.streaming and len(screen.session.messages) == 2)
        await rename(pilot, "   ")
        assert screen.session.title == "hello"
        await pilot.press("f9")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, RenameScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(pilot.app.screen, RenameScreen))
        assert screen.session.title == "hello"

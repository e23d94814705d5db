"""Up/Down and ctrl+r in the prompt: every earlier prompt, across conversations."""

from __future__ import annotations

from pathlib import Path

from tests.app.host import host_config, screen_text, wait_until
from tui.app import ChattermApp
from tui.screens.conversation import ConversationScreen
from tui.screens.history_search import HistorySearchScreen
from tui.store import SessionStore

SIZE = (100, 30)


def make_app(tmp_path: Path) -> ChattermApp:
    config = host_config(tmp_path)
    return ChattermApp(config, SessionStore(tmp_path / "s"), state_path=tmp_path / "state.json")


async def send(pilot, screen: ConversationScreen, text: str) -> None:
    count = len(screen.session.messages)
    await pilot.press(*text, "enter")
    await wait_until(pilot, lambda: not screen.streaming and len(screen.session.messages) > count)


async def test_up_walks_every_earlier_prompt_across_conversations(tmp_path: Path) -> None:
    async with make_app(tmp_path).run_test(size=SIZE) as pilot:
        screen = pilot.app.conversation
        await send(pilot, screen, "first")
        await pilot.press("ctrl+n")  # a new conversation: the history goes on
        await send(pilot, screen, "second")
    # a new start of the app reads the same history
    async with make_app(tmp_path).run_test(size=SIZE) as pilot:
        screen = pilot.app.conversation
        prompt = screen.prompt
        await pilot.press(*"draft")
        await pilot.press("up")
        assert prompt.text == "second"
        await pilot.press("up")
        assert prompt.text == "first"
        await pilot.press("up")  # the oldest stays
        assert prompt.text == "first"
        await pilot.press("down", "down")
        assert prompt.text == "draft"  # past the newest: the draft is back


async def test_up_inside_a_multi_line_prompt_moves_the_cursor(tmp_path: Path) -> None:
    async with make_app(tmp_path).run_test(size=SIZE) as pilot:
        screen = pilot.app.conversation
        await send(pilot, screen, "old")
        await pilot.press(*"line one", "ctrl+j", *"line two")
        await pilot.press("up")
        assert screen.prompt.text == "line one\nline two"
        assert screen.prompt.cursor_location[0] == 0
        await pilot.press("up")  # now on the first line: the history
        assert screen.prompt.text == "old"


async def test_ctrl_r_searches_earlier_prompts_and_enter_puts_one_back(tmp_path: Path) -> None:
    async with make_app(tmp_path).run_test(size=SIZE) as pilot:
        screen = pilot.app.conversation
        for text in ("docker compose up", "git rebase -i", "docker build ."):
            await send(pilot, screen, text)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, HistorySearchScreen))
        await pilot.press(*"docker")
        await wait_until(pilot, lambda: "2 of 3" in screen_text(pilot.app))
        await pilot.press("ctrl+r", "enter")  # ctrl+r again: the older match
        await wait_until(pilot, lambda: not isinstance(pilot.app.screen, HistorySearchScreen))
        assert screen.prompt.text == "docker compose up"
        assert pilot.app.focused is screen.prompt


async def test_esc_leaves_the_prompt_as_it_was(tmp_path: Path) -> None:
    async with make_app(tmp_path).run_test(size=SIZE) as pilot:
        screen = pilot.app.conversation
        await send(pilot, screen, "something")
        await pilot.press(*"half typed", "ctrl+r")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, HistorySearchScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(pilot.app.screen, HistorySearchScreen))
        assert screen.prompt.text == "half typed"

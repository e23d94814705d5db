"""The link settings in the app: no blink over SSH, F5 switches low-bandwidth mode (saved,
and in force at once), the mouse setting saved. The bytes themselves: tests/reliability/
test_quiet_link.py, in a real terminal."""

from __future__ import annotations

import time
import tomllib
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select

from tests.app.host import host_config, wait_until
from tui.app import ChattermApp
from tui.link import LOW_STREAM_FPS, STREAM_FPS
from tui.screens.settings import SettingsScreen
from tui.store import SessionStore
from tui.widgets.prompt import PromptArea

SIZE = (100, 30)
SSH = "10.0.0.1 51000 10.0.0.2 22"
BLINK = 0.5  # seconds between Textual's cursor blinks


def echo_app(tmp_path: Path, **values: object) -> ChattermApp:
    config = host_config(tmp_path, default_provider="echo", **values)
    return ChattermApp(
        config, SessionStore(tmp_path / "sessions"), state_path=tmp_path / "state.json"
    )


async def focused_prompt(pilot: Pilot[None]) -> PromptArea:
    app = pilot.app
    assert isinstance(app, ChattermApp)
    await wait_until(pilot, lambda: app.conversation is not None and app.conversation.is_mounted)
    assert app.conversation is not None
    prompt = app.conversation.prompt
    await wait_until(pilot, lambda: prompt.has_focus)
    return prompt


async def cursor_states(pilot: Pilot[None], field: Input | PromptArea, seconds: float) -> set[bool]:
    """Whether the field's cursor was drawn, sampled over an idle window of *seconds*."""
    seen = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen.add(field._cursor_visible)  # Textual's blink phase: no public reading of it
        await pilot.pause(0.05)
    return seen


async def test_over_ssh_the_prompt_does_not_blink(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSH_CONNECTION", SSH)
    app = echo_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = await focused_prompt(pilot)
        assert not prompt.cursor_blink
        assert await cursor_states(pilot, prompt, 2.5 * BLINK) == {True}  # shown, steadily
        assert app.animation_level == "none"
        assert app.conversation is not None
        assert app.conversation.log_view.STREAM_FPS == LOW_STREAM_FPS


async def test_locally_the_prompt_blinks(tmp_path: Path) -> None:
    app = echo_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = await focused_prompt(pilot)
        assert prompt.cursor_blink
        await wait_until(pilot, lambda: not prompt._cursor_visible, 5)
        await wait_until(pilot, lambda: prompt._cursor_visible, 5)
        assert app.animation_level != "none"
        assert app.conversation is not None
        assert app.conversation.log_view.STREAM_FPS == STREAM_FPS


async def test_cursor_blink_in_the_config_beats_ssh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSH_CONNECTION", SSH)
    app = echo_app(tmp_path, cursor_blink=True)
    async with app.run_test(size=SIZE) as pilot:
        prompt = await focused_prompt(pilot)
        await wait_until(pilot, lambda: not prompt._cursor_visible, 5)
        assert app.services.link.low_bandwidth  # the rest of the mode stays


async def open_settings(pilot: Pilot[None]) -> SettingsScreen:
    app = pilot.app
    await pilot.press("f5")
    await wait_until(
        pilot, lambda: isinstance(app.screen, SettingsScreen) and app.screen.is_mounted
    )
    assert isinstance(app.screen, SettingsScreen)
    return app.screen


async def test_f5_switches_low_bandwidth_on_saves_it_and_puts_it_in_force(
    tmp_path: Path,
) -> None:
    app = echo_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        prompt = await focused_prompt(pilot)
        assert prompt.cursor_blink and not app.services.link.low_bandwidth
        screen = await open_settings(pilot)
        field = screen.query_one("#settings-low-bandwidth", Select)
        field.focus()
        await pilot.press("enter")  # the menu opens on "automatic"; "on" is the next one
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: field.value == "on")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.services.config.low_bandwidth is True)
        written = tomllib.loads(app.services.config.path.read_text("utf-8"))
        assert written["low_bandwidth"] is True
        await wait_until(pilot, lambda: not prompt.cursor_blink)
        assert app.animation_level == "none"
        assert app.conversation is not None
        assert app.conversation.log_view.STREAM_FPS == LOW_STREAM_FPS
        assert app.services.link.why == "low_bandwidth = true"


async def test_f5_saves_the_mouse_mode(tmp_path: Path) -> None:
    app = echo_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await focused_prompt(pilot)
        screen = await open_settings(pilot)
        assert screen.query_one("#settings-mouse", Select).value == "clicks"
        screen.query_one("#settings-mouse", Select).value = "off"
        screen.query_one("#settings-redraw", Select).value = "full"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.services.config.mouse == "off")
        written = tomllib.loads(app.services.config.path.read_text("utf-8"))
        assert (written["mouse"], written["redraw"]) == ("off", "full")
        assert app.services.link.mouse == "off"


async def test_over_ssh_no_text_field_blinks_on_any_screen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSH_CONNECTION", SSH)
    app = echo_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await focused_prompt(pilot)
        screen = await open_settings(pilot)
        field = screen.query_one("#settings-model", Input)
        field.focus()
        await wait_until(pilot, lambda: field.has_focus and not field.cursor_blink)
        assert await cursor_states(pilot, field, 2.5 * BLINK) == {True}

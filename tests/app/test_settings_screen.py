"""SettingsScreen: valid values saved with ctrl+s, invalid ones refused, theme live."""

from __future__ import annotations

import tomllib
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, Select

from tests.app.host import HostApp, host_config, screen_text
from tui.config import load
from tui.screens.settings import SettingsScreen, parse_timeout

THEME = "nord"


async def open_settings(pilot: Pilot[None]) -> SettingsScreen:
    screen = SettingsScreen(pilot.app.services)
    pilot.app.push_screen(screen)
    await pilot.pause()
    return screen


async def type_into(pilot: Pilot[None], selector: str, text: str) -> None:
    pilot.app.screen.query_one(selector, Input).focus()  # as Tab would: all text selected
    await pilot.press(*text)  # so typing replaces it


async def choose_theme(pilot: Pilot[None], theme: str) -> None:
    """Open the theme menu and pick by typing, as a user would."""
    pilot.app.screen.query_one("#settings-theme", Select).focus()
    await pilot.press("enter", *theme, "enter")
    await pilot.pause()


def test_parse_timeout_accepts_positive_finite_numbers_only() -> None:
    assert parse_timeout(" 12.5 ") == 12.5
    for bad in ("0", "-3", "abc", "", "inf", "nan"):
        assert parse_timeout(bad) is None


async def test_timeout_and_theme_are_saved_with_ctrl_s(tmp_path: Path) -> None:
    config = host_config(tmp_path)
    async with HostApp(config).run_test(size=(80, 24)) as pilot:
        assert pilot.app.theme != THEME
        await open_settings(pilot)
        await type_into(pilot, "#settings-timeout", "12.5")
        await type_into(pilot, "#settings-fallback", "ollama,echo")
        await choose_theme(pilot, THEME)
        assert pilot.app.theme == THEME  # live, before any save
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert f"Saved to {config.path}" in [n.message for n in pilot.app._notifications]

    saved = load(config.path)
    assert saved.request_timeout == 12.5
    assert saved.fallback == ["ollama", "echo"]
    assert saved.theme == THEME
    assert saved.providers["echo"].options == {"delay": 0}  # the rest of the file survives


async def test_an_invalid_timeout_is_marked_and_not_saved(tmp_path: Path) -> None:
    config = host_config(tmp_path)
    async with HostApp(config).run_test(size=(80, 24)) as pilot:
        screen = await open_settings(pilot)
        await type_into(pilot, "#settings-timeout", "-5")
        assert screen.query_one("#settings-timeout", Input).has_class("-invalid")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "positive number" in screen_text(pilot.app)
        assert config.request_timeout == 60.0
    assert not config.path.exists()


async def test_an_unknown_fallback_provider_is_not_saved(tmp_path: Path) -> None:
    config = host_config(tmp_path)
    async with HostApp(config).run_test(size=(80, 24)) as pilot:
        await open_settings(pilot)
        await type_into(pilot, "#settings-fallback", "nosuch")
        await pilot.click("#settings-save")
        await pilot.pause()
        assert "Unknown provider in fallback: nosuch" in screen_text(pilot.app)
    assert not config.path.exists()
    assert config.fallback == []


async def test_escape_without_saving_restores_the_theme(tmp_path: Path) -> None:
    config = host_config(tmp_path)
    async with HostApp(config).run_test(size=(80, 24)) as pilot:
        before = pilot.app.theme
        await open_settings(pilot)
        await choose_theme(pilot, THEME)
        assert pilot.app.theme == THEME
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(pilot.app.screen, SettingsScreen)
        assert pilot.app.theme == before
        assert any("discarded" in n.message for n in pilot.app._notifications)
    assert not config.path.exists()


async def test_a_config_error_is_shown_and_saving_replaces_the_file(tmp_path: Path) -> None:
    config = host_config(tmp_path, error="config.toml: request_timeout must be a number")
    config.path.write_text("request_timeout = 'soon'\n", "utf-8")
    async with HostApp(config).run_test(size=(80, 24)) as pilot:
        screen = await open_settings(pilot)
        assert "request_timeout must be a number" in screen_text(pilot.app)
        default = screen.query_one("#settings-provider", Select)
        default.focus()
        await pilot.press("enter", *"echo", "enter")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert pilot.app.services.config.error is None  # the saved config is the one in force
        assert not screen.query_one("#settings-error").display
    document = tomllib.loads(config.path.read_text("utf-8"))
    assert document["default_provider"] == "echo"
    assert "request_timeout" not in document
    assert (tmp_path / "config.toml.bak").read_text("utf-8") == "request_timeout = 'soon'\n"

"""ModelPickerScreen: every provider's models, filtered as typed, picked with Enter."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from tests.app.host import HostApp, host_config, screen_text
from tests.servers import OllamaServer
from tui.config import ProviderConfig
from tui.screens.model_picker import ModelPickerScreen

Result = list[tuple[str, str] | None]


async def open_picker(
    pilot: Pilot[None], current: tuple[str, str] = ("echo", "echo")
) -> tuple[ModelPickerScreen, Result]:
    results: Result = []
    screen = ModelPickerScreen(pilot.app.services, current)
    pilot.app.push_screen(screen, results.append)
    await pilot.pause()
    return screen, results


def shown(screen: ModelPickerScreen) -> list[tuple[str, str]]:
    return [entry.choice for entry in screen._shown]


async def test_lists_every_provider_and_enter_picks_the_highlighted(tmp_path: Path) -> None:
    async with HostApp(host_config(tmp_path)).run_test(size=(80, 24)) as pilot:
        screen, results = await open_picker(pilot)
        choices = shown(screen)
        assert choices[0] == ("echo", "echo")  # the current one leads when nothing is recent
        assert ("echo", "echo-fast") in choices
        assert {name for name, _ in choices} == {"echo", "openai", "ollama", "raycast", "voigpt"}
        assert "echo/echo-fast" in screen_text(pilot.app)
        await pilot.press("enter")
        await pilot.pause()
        assert results == [("echo", "echo")]


async def test_typing_filters_and_enter_returns_the_match(tmp_path: Path) -> None:
    async with HostApp(host_config(tmp_path)).run_test(size=(80, 24)) as pilot:
        screen, results = await open_picker(pilot)
        await pilot.press(*"ecfst")  # no substring: a fuzzy match, letters in order
        assert shown(screen) == [("echo", "echo-fast")]
        await pilot.press("ctrl+u", *"FAST")  # a substring, whatever the case
        assert shown(screen) == [("echo", "echo-fast")]
        text = screen_text(pilot.app)
        assert "echo/echo-fast" in text and "raycast/" not in text
        await pilot.press("enter")
        await pilot.pause()
        assert results == [("echo", "echo-fast")]


async def test_up_down_move_while_the_input_keeps_focus(tmp_path: Path) -> None:
    async with HostApp(host_config(tmp_path)).run_test(size=(80, 24)) as pilot:
        screen, results = await open_picker(pilot)
        await pilot.press("down", "down", "up")
        assert isinstance(pilot.app.focused, Input)
        assert screen.query_one(OptionList).highlighted == 1
        await pilot.press("enter")
        await pilot.pause()
        assert results == [shown(screen)[1]]


async def test_escape_returns_none(tmp_path: Path) -> None:
    async with HostApp(host_config(tmp_path)).run_test(size=(80, 24)) as pilot:
        _, results = await open_picker(pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert results == [None]
        assert not isinstance(pilot.app.screen, ModelPickerScreen)


async def test_recent_models_come_first_then_the_current(tmp_path: Path) -> None:
    async with HostApp(host_config(tmp_path)).run_test(size=(80, 24)) as pilot:
        pilot.app.services.recent.push("voigpt", "gpt-3.5-turbo")
        pilot.app.services.recent.push("openai", "gpt-4o")
        # a provider no longer configured is skipped
        pilot.app.services.recent.push("gone", "model")
        screen, _ = await open_picker(pilot, current=("echo", "echo-fast"))
        assert shown(screen)[:3] == [
            ("openai", "gpt-4o"),
            ("voigpt", "gpt-3.5-turbo"),
            ("echo", "echo-fast"),
        ]
        assert len(shown(screen)) == len(set(shown(screen)))  # each model once


async def test_provider_flags_are_shown_beside_the_models(tmp_path: Path) -> None:
    async with HostApp(host_config(tmp_path)).run_test(size=(80, 24)) as pilot:
        await open_picker(pilot)
        await pilot.press(*"t/gpt-4")
        rows = [line for line in screen_text(pilot.app).splitlines() if "raycast/gpt-4" in line]
        assert len(rows) == 1
        assert "needs key · not working" in rows[0]
        await pilot.press("ctrl+u", *"voigpt")
        assert "no streaming" in screen_text(pilot.app)


async def test_a_typed_model_is_offered_for_open_ended_providers_only(tmp_path: Path) -> None:
    async with HostApp(host_config(tmp_path)).run_test(size=(80, 24)) as pilot:
        screen, results = await open_picker(pilot)
        await pilot.press(*"raycast/zz")  # a fixed list: the core would refuse it
        assert ("raycast", "zz") not in shown(screen)
        await pilot.press("enter")
        assert results == []  # Enter on an empty list does nothing
        await pilot.press("ctrl+u")
        await pilot.press(*"ollama/q:3b")
        assert shown(screen)[0] == ("ollama", "q:3b")
        await pilot.press("enter")
        await pilot.pause()
        assert results == [("ollama", "q:3b")]


async def test_untrusted_model_names_render_as_plain_text(tmp_path: Path) -> None:
    evil = ("[bold]loud[/bold]", "red\x1b[31mtext", "clip\x1b]52;c;SGVsbG8=\x07board", "[/]")
    config = host_config(tmp_path)
    config.providers["openai"] = ProviderConfig(name="openai", kind="openai", models=evil)
    async with HostApp(config).run_test(size=(80, 24)) as pilot:
        _, results = await open_picker(pilot)
        await pilot.press(*"openai/")
        text = screen_text(pilot.app)
        assert "openai/[bold]loud[/bold]" in text  # markup shown as typed, not applied
        assert "openai/redtext" in text and "openai/clipboard" in text
        assert "\x1b" not in text and "\x07" not in text
        pilot.app.export_screenshot()  # the full render path copes too
        await pilot.press("enter")
        await pilot.pause()
        assert results == [("openai", "[bold]loud[/bold]")]


async def test_live_list_is_merged_in_when_it_arrives(tmp_path: Path) -> None:
    with OllamaServer(models=["llama3.2:latest", "qwen2.5:0.5b"]) as server:
        config = host_config(tmp_path)
        config.providers["ollama"] = ProviderConfig(
            name="ollama", kind="ollama", base_url=server.base_url
        )
        async with HostApp(config).run_test(size=(80, 24)) as pilot:
            screen, _ = await open_picker(pilot)
            assert ("ollama", "llama3.2") in shown(screen)  # the static list, at once
            await screen.workers.wait_for_complete()
            await pilot.pause()
            assert ("ollama", "qwen2.5:0.5b") in shown(screen)
            assert ("ollama", "llama3.2:latest") in shown(screen)


async def test_a_silent_server_does_not_hold_up_the_picker(tmp_path: Path) -> None:
    with OllamaServer(aux_mode="stall") as server:
        config = host_config(tmp_path)
        config.providers["ollama"] = ProviderConfig(
            name="ollama", kind="ollama", base_url=server.base_url
        )
        async with HostApp(config).run_test(size=(80, 24)) as pilot:
            _, results = await open_picker(pilot)
            await pilot.press(*"fast", "enter")
            await pilot.pause()
            assert results == [("echo", "echo-fast")]

"""ModelPickerScreen: every provider's models, filtered as typed, picked with Enter."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from tests.app.host import HostApp, host_config, local_app, screen_text, wait_until
from tests.servers import OllamaServer, OpenAIServer
from tui import model_lists
from tui.app import ChattermApp
from tui.config import Config, ProviderConfig
from tui.screens.model_picker import ModelPickerScreen, UseTypedModelScreen

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


def text(pilot: Pilot[None]) -> str:
    return screen_text(pilot.app)


def flat(pilot: Pilot[None]) -> str:
    """The screen's words in one line, the box's borders taken off: wrapped rows read whole."""
    return " ".join(" ".join(line.strip().strip("│").split()) for line in text(pilot).splitlines())


def row(pilot: Pilot[None], name: str) -> str:
    """The one line of the screen that shows *name*, its box's borders taken off."""
    lines = [line for line in text(pilot).splitlines() if f"{name} " in line and "▊" not in line]
    assert len(lines) == 1, (name, lines)
    return lines[0].strip().strip("│").strip()


def local(tmp_path: Path, server: OpenAIServer, models: tuple[str, ...] = ("m1",)) -> Config:
    """The host config with [providers.local]: kind openai at *server*, *models* configured."""
    config = host_config(tmp_path)
    config.providers["local"] = ProviderConfig(
        name="local", kind="openai", base_url=server.base_url, models=models
    )
    return config


def model_requests(server: OpenAIServer) -> int:
    return sum(1 for r in server.requests if r.method == "GET" and r.path == "/v1/models")


async def test_lists_every_provider_and_enter_picks_the_highlighted(tmp_path: Path) -> None:
    async with HostApp(host_config(tmp_path)).run_test(size=(80, 24)) as pilot:
        screen, results = await open_picker(pilot)
        choices = shown(screen)
        assert choices[0] == ("echo", "echo")  # the current one leads when nothing is recent
        assert ("echo", "echo-fast") in choices
        # (the [g4f] extra's providers follow them: test_g4f_providers_are_listed_after_the_rest)
        assert {name for name, _ in choices if not name.startswith("g4f/")} == {
            "echo",
            "openai",
            "anthropic",
            "gemini",
            "ollama",
            "raycast",
            "voigpt",
        }
        assert "echo/echo-fast" in screen_text(pilot.app)
        await pilot.press("enter")
        await pilot.pause()
        assert results == [("echo", "echo")]


async def test_typing_filters_and_enter_returns_the_match(tmp_path: Path) -> None:
    async with HostApp(host_config(tmp_path)).run_test(size=(80, 24)) as pilot:
        screen, results = await open_picker(pilot)
        await pilot.press(*"ecfst")  # no substring: a fuzzy match, letters in order
        assert shown(screen)[0] == ("echo", "echo-fast")  # the best (g4f's may follow)
        assert ("echo", "echo") not in shown(screen)
        await pilot.press("ctrl+u", *"O-FAST")  # a substring, whatever the case
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
        await wait_until(pilot, lambda: "raycast takes only the models it lists" in text(pilot))
        assert ("raycast", "zz") not in shown(screen)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "raycast takes only" in " ".join(pilot.app.notified))
        assert results == []  # Enter on an empty list does nothing
        await pilot.press("ctrl+u", *"raycast/gpt-4")  # listed: no word against it
        await wait_until(pilot, lambda: shown(screen)[:1] == [("raycast", "gpt-4")])
        assert "takes only" not in text(pilot)
        await pilot.press("ctrl+u")
        await pilot.press(*"ollama/q:3b")
        await wait_until(pilot, lambda: shown(screen)[:1] == [("ollama", "q:3b")])
        await pilot.press("enter")  # asks first, then is chosen as a listed one would be
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, UseTypedModelScreen))
        assert "Use model 'q:3b' with provider 'ollama'?" in flat(pilot)
        await pilot.press("y")
        await wait_until(pilot, lambda: results == [("ollama", "q:3b")])


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
            await pilot.press(*"ollama/")
            await wait_until(pilot, lambda: ("ollama", "qwen2.5:0.5b") in shown(screen))
            assert ("ollama", "llama3.2:latest") in shown(screen)
            # the live list stands instead of the built-in one, and says so
            assert ("ollama", "llama3.2") not in shown(screen)
            assert row(pilot, "ollama/qwen2.5:0.5b").endswith("live · just now")
            assert screen.query_one("#picker-filter", Input).value == "ollama/"


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


async def test_each_row_says_where_its_model_came_from(tmp_path: Path) -> None:
    with OpenAIServer() as server:  # lists gpt-4o-mini, gpt-4o, o4-mini
        async with HostApp(local(tmp_path, server)).run_test(size=(80, 24)) as pilot:
            screen, _ = await open_picker(pilot)
            await pilot.press(*"local/")
            await wait_until(pilot, lambda: ("local", "gpt-4o") in shown(screen))
            assert row(pilot, "local/gpt-4o").endswith("live · just now")
            assert row(pilot, "local/m1").endswith("configured")  # the user's own, beside live
            await pilot.press("ctrl+u", *"ollama/llama3.2")
            await wait_until(pilot, lambda: shown(screen)[:1] == [("ollama", "llama3.2")])
            assert row(pilot, "ollama/llama3.2").endswith("built-in")


async def test_a_cached_list_shows_its_age_and_is_not_asked_for_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with OpenAIServer(models=["cached-7b"]) as server:
        app = HostApp(local(tmp_path, server))
        async with app.run_test(size=(80, 24)) as pilot:
            lists = app.services.model_lists
            await lists.refresh(app.services.core.provider("local"), force=True)  # the cache
            assert model_requests(server) == 1
            later = time.time() + 150  # two and a half minutes on: not stale yet
            clock = SimpleNamespace(time=lambda: later, monotonic=time.monotonic)
            monkeypatch.setattr(model_lists, "time", clock)
            screen, _ = await open_picker(pilot)
            await pilot.press(*"local/")
            await wait_until(pilot, lambda: ("local", "cached-7b") in shown(screen))
            assert row(pilot, "local/cached-7b").endswith("live · 2 min old")
            await screen.workers.wait_for_complete()  # ollama's (stale) is asked; local's not
            assert model_requests(server) == 1


async def test_a_failing_live_list_says_why_in_a_row_that_cannot_be_chosen(
    tmp_path: Path,
) -> None:
    with OpenAIServer(aux_mode="500") as server:
        async with HostApp(local(tmp_path, server)).run_test(size=(80, 24)) as pilot:
            screen, results = await open_picker(pilot)
            await pilot.press(*"local")
            reason = "local: live list failed: the server answered HTTP 500"
            await wait_until(pilot, lambda: reason in text(pilot))
            assert shown(screen) == [("local", "m1")]  # the configured list still stands
            assert row(pilot, "local/m1").endswith("configured")
            option_list = screen.query_one(OptionList)
            assert option_list.option_count == 2
            assert option_list.get_option_at_index(1).disabled
            await pilot.press("down", "enter")  # the highlight never lands on the reason
            await wait_until(pilot, lambda: results == [("local", "m1")])


async def test_a_filter_that_matches_nothing_says_so(tmp_path: Path) -> None:
    async with HostApp(host_config(tmp_path)).run_test(size=(120, 30)) as pilot:
        screen, results = await open_picker(pilot)
        await pilot.press(*"xyzzy")
        said = "no model matches 'xyzzy' — type provider/model and Enter to use one not listed"
        await wait_until(pilot, lambda: said in flat(pilot))
        assert shown(screen) == []
        await pilot.press("enter")
        await pilot.pause()
        assert results == [] and isinstance(pilot.app.screen, ModelPickerScreen)
        await pilot.press("ctrl+u", *"nosuch/model")
        await wait_until(pilot, lambda: "no provider named 'nosuch'" in flat(pilot))
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: "no provider named 'nosuch'" in " ".join(pilot.app.notified)
        )
        assert results == []


async def typed_and_asked(pilot: Pilot[None], app: ChattermApp, typed: str) -> ModelPickerScreen:
    """F2, *typed* into the filter, Enter: the confirmation is up; the picker is returned."""
    await pilot.press("f2")
    await wait_until(pilot, lambda: isinstance(app.screen, ModelPickerScreen))
    picker = app.screen
    assert isinstance(picker, ModelPickerScreen)
    await pilot.press(*typed)
    await wait_until(pilot, lambda: picker._shown[:1] and picker._shown[0].typed)
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, UseTypedModelScreen))
    return picker


async def test_a_typed_provider_model_is_used_after_saying_yes(tmp_path: Path) -> None:
    with OpenAIServer() as server:
        app = local_app(tmp_path, server.base_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("f2")
            await wait_until(pilot, lambda: isinstance(app.screen, ModelPickerScreen))
            await wait_until(pilot, lambda: model_requests(server) == 1)
            await app.screen.workers.wait_for_complete()
            await pilot.press("ctrl+r")  # the picker's, not the conversation's history search
            await wait_until(pilot, lambda: model_requests(server) == 2)
            assert isinstance(app.screen, ModelPickerScreen)
            await pilot.press("escape")
            await typed_and_asked(pilot, app, "local/org/big:7b")  # "/" and ":" in the model
            question = " ".join(screen_text(app).split())
            assert "Use model 'org/big:7b' with provider 'local'?" in question
            await pilot.press("enter")
            session = app.conversation.session
            await wait_until(
                pilot, lambda: (session.provider, session.model) == ("local", "org/big:7b")
            )
            assert app.conversation.status.model == "org/big:7b"
            assert "local/org/big:7b" in app.services.recent.items


async def test_escape_on_the_question_changes_nothing(tmp_path: Path) -> None:
    with OpenAIServer() as server:
        app = local_app(tmp_path, server.base_url)
        async with app.run_test(size=(100, 30)) as pilot:
            picker = await typed_and_asked(pilot, app, "local/other")
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.screen is picker)
            assert picker.query_one("#picker-filter", Input).value == "local/other"
            await pilot.press("escape")
            await wait_until(pilot, lambda: not isinstance(app.screen, ModelPickerScreen))
            session = app.conversation.session
            assert (session.provider, session.model) == ("local", "m1")
            assert app.conversation.status.model == "m1"


async def test_the_refresh_key_asks_the_servers_again(tmp_path: Path) -> None:
    with OpenAIServer() as server:
        async with HostApp(local(tmp_path, server)).run_test(size=(80, 24)) as pilot:
            screen, _ = await open_picker(pilot)
            await wait_until(pilot, lambda: ("local", "gpt-4o") in shown(screen))
            await screen.workers.wait_for_complete()
            assert model_requests(server) == 1
            await pilot.press(*"4o-m")  # openai's built-in gpt-4o-mini, then local's
            await wait_until(pilot, lambda: shown(screen)[1:2] == [("local", "gpt-4o-mini")])
            await pilot.press("down")
            await wait_until(pilot, lambda: screen.query_one(OptionList).highlighted == 1)
            server.models = ["gpt-4o-mini", "brand-new"]
            await pilot.press("ctrl+r")
            await wait_until(pilot, lambda: model_requests(server) == 2)
            await wait_until(
                pilot, lambda: ("local", "brand-new") in [e.choice for e in screen._entries()]
            )
            notice = " ".join(pilot.app.notified)
            assert "Asking" in notice and "local" in notice and "again" in notice
            # the filter and the highlight stay as they were
            assert screen.query_one("#picker-filter", Input).value == "4o-m"
            highlighted = screen.query_one(OptionList).highlighted
            assert highlighted is not None
            assert shown(screen)[highlighted] == ("local", "gpt-4o-mini")
            await pilot.press("escape")
            screen, _ = await open_picker(pilot)  # fresh now: opening again asks nothing
            await screen.workers.wait_for_complete()
            assert model_requests(server) == 2


async def test_a_g4f_provider_is_chosen_by_typing_its_name_and_model(tmp_path: Path) -> None:
    from tui.providers import g4f_bridge

    [first, *_] = g4f_bridge.names()  # a class of the installed g4f that is marked working
    with OpenAIServer() as server:
        app = local_app(tmp_path, server.base_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await typed_and_asked(pilot, app, f"{first}/some-model")
            question = " ".join(screen_text(app).split())
            assert f"Use model 'some-model' with provider '{first}'?" in question
            await pilot.press("enter")
            session = app.conversation.session
            await wait_until(
                pilot, lambda: (session.provider, session.model) == (first, "some-model")
            )


async def test_g4f_providers_are_listed_after_the_rest_with_their_models(tmp_path: Path) -> None:
    from tui.providers import g4f_bridge

    working = g4f_bridge.names()
    hidden = set(g4f_bridge.names(include_not_working=True)) - set(working)
    assert working and hidden  # the installed g4f has both kinds, or this proves nothing
    app = HostApp(host_config(tmp_path))
    async with app.run_test(size=(120, 30)) as pilot:
        screen, _ = await open_picker(pilot)
        await wait_until(pilot, lambda: any(n.startswith("g4f/") for n, _ in shown(screen)))
        names = [name for name, _ in shown(screen)]
        assert names.index("echo") < names.index(working[0])  # built-in ones first
        listed = {name for name in names if name.startswith("g4f/")}
        assert not listed & hidden  # not working: hidden (typed g4f/NAME/model still works)
        # a working class's declared models are rows, as a built-in provider's are
        name, models = next(
            (n, p.instance_models)
            for n in working
            if (p := app.services.core.provider(n)).instance_models
        )
        assert {(name, m) for m in models} <= set(shown(screen))
        await pilot.press(*f"{name}/{models[0]}")
        await wait_until(pilot, lambda: shown(screen)[0] == (name, models[0]))
        assert "built-in" in row(pilot, f"{name}/{models[0]}")

"""ProvidersScreen: details, live models, test prompts, and keys saved masked."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from tests.app.host import HostApp, host_config, screen_text
from tests.servers import OpenAIServer, free_port
from tui.config import ProviderConfig
from tui.screens.providers import ProvidersScreen, mask_key

KEY = "rc-tqk-SECRET-0123456789"  # t, q and k are keys of the screen, yet typed here
OPENAI_KEY = "sk-test-key-000000"


async def open_providers(pilot: Pilot[None], selected: str | None = None) -> ProvidersScreen:
    screen = ProvidersScreen(pilot.app.services, selected)
    pilot.app.push_screen(screen)
    await pilot.pause()
    return screen


def widget_text(screen: ProvidersScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def settle(pilot: Pilot[None], screen: ProvidersScreen) -> None:
    await screen.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize(
    ("key", "shown"),
    [("sk-proj-abcdefghijkl1234", "sk-…1234"), ("short-key-12", "••••"), ("", "••••")],
)
def test_mask_key_shows_ends_of_long_keys_only(key: str, shown: str) -> None:
    assert mask_key(key) == shown


async def test_lists_providers_with_their_state_and_details(tmp_path: Path) -> None:
    async with HostApp(host_config(tmp_path)).run_test(size=(80, 24)) as pilot:
        screen = await open_providers(pilot)
        text = screen_text(pilot.app)
        for name in ("echo", "openai", "ollama", "raycast"):
            assert name in text
        assert "Echo (offline)" in text and "configured" in text and "needs key" in text
        await pilot.press(
            "down", "down", "down", "down", "down"
        )  # echo, openai, anthropic, gemini, ollama, raycast
        assert screen.selected == "raycast"
        info = screen_text(pilot.app)
        assert "https://backend.raycast.com" in info
        assert "needs key · not working" in info
        assert "RAYCAST_API_KEY" in info  # where a key would go
        assert "gpt-3.5-turbo, gpt-4" in widget_text(screen, "#provider-models")


async def test_t_sends_a_test_prompt_and_shows_the_reply(tmp_path: Path) -> None:
    async with HostApp(host_config(tmp_path)).run_test(size=(80, 24)) as pilot:
        screen = await open_providers(pilot)
        assert screen.selected == "echo"
        await pilot.press("t")
        await settle(pilot, screen)
        result = screen.query_one("#provider-test-result", Static)
        assert str(result.render()) == "replied: ### Echo"
        assert not result.has_class("-error")


async def test_button_test_without_a_key_shows_the_missing_key_in_red(tmp_path: Path) -> None:
    async with HostApp(host_config(tmp_path)).run_test(size=(80, 24)) as pilot:
        screen = await open_providers(pilot, "raycast")
        await pilot.click("#provider-test")
        await settle(pilot, screen)
        result = screen.query_one("#provider-test-result", Static)
        assert "RAYCAST_API_KEY" in str(result.render())
        assert result.has_class("-error")


async def test_a_key_is_saved_to_the_config_file_and_shown_masked(tmp_path: Path) -> None:
    config = host_config(tmp_path)
    async with HostApp(config).run_test(size=(80, 24)) as pilot:
        screen = await open_providers(pilot, "raycast")
        await pilot.press("k")
        assert isinstance(pilot.app.focused, Input) and pilot.app.focused.password
        await pilot.press(*KEY)
        assert KEY not in screen_text(pilot.app)  # dots while typing
        await pilot.press("enter")
        await pilot.pause()

        document = tomllib.loads(config.path.read_text("utf-8"))
        assert document["providers"]["raycast"]["api_key"] == KEY
        assert stat.S_IMODE(config.path.stat().st_mode) == 0o600
        assert pilot.app.services.core.provider(
            "raycast"
        ).configured  # the core was told to rebuild

        assert screen.query_one("#provider-key", Input).value == ""
        assert "rc-…6789 in config.toml" in screen_text(pilot.app)
        text = screen_text(pilot.app)
        assert "rc-…6789" in text
        for rendered in (text, pilot.app.export_screenshot()):
            assert KEY not in rendered and "SECRET" not in rendered
        assert all(KEY not in str(n.message) for n in pilot.app._notifications)


async def test_a_key_with_spaces_is_refused(tmp_path: Path) -> None:
    config = host_config(tmp_path)
    async with HostApp(config).run_test(size=(80, 24)) as pilot:
        await open_providers(pilot, "openai")
        await pilot.press("k", *"a b", "enter")
        await pilot.pause()
        assert not config.path.exists()
        assert "openai" not in config.providers


async def test_live_models_load_in_a_worker(tmp_path: Path) -> None:
    # The list waits 1.5 s (under LIVE_LIST_TIMEOUT): the loading state shows even on a busy machine
    # (with 0.5 s, opening the screen under load once took longer and the list was in).
    server = OpenAIServer(
        api_key=OPENAI_KEY, models=["gpt-live-1", "gpt-live-2"], aux_mode="stall", stall=1.5
    )
    with server:
        config = host_config(tmp_path)
        config.providers["openai"] = ProviderConfig(
            name="openai", kind="openai", base_url=server.base_url, api_key=OPENAI_KEY
        )
        async with HostApp(config).run_test(size=(80, 24)) as pilot:
            screen = await open_providers(pilot, "openai")
            assert "loading…" in widget_text(screen, "#provider-models")
            await settle(pilot, screen)
            models = widget_text(screen, "#provider-models")
            assert "loading…" not in models
            assert "gpt-live-1, gpt-live-2" in models
            assert "live, just now" in models  # where the list came from


async def test_a_server_on_a_local_address_needs_no_key(tmp_path: Path) -> None:
    with OpenAIServer(models=["qwen3-8b"]) as server:  # on 127.0.0.1, asking no key
        config = host_config(tmp_path)
        config.providers["lmstudio"] = ProviderConfig(
            name="lmstudio", kind="openai", base_url=server.base_url
        )
        async with HostApp(config).run_test(size=(100, 30)) as pilot:
            screen = await open_providers(pilot, "lmstudio")
            await settle(pilot, screen)
            info = " ".join(screen_text(pilot.app).split())
            assert "key not needed here (add one if the server asks for it)" in info
            assert "missing" not in info
            assert "qwen3-8b" in widget_text(screen, "#provider-models")


async def test_a_live_list_that_fails_says_why(tmp_path: Path) -> None:
    config = host_config(tmp_path)
    url = f"http://127.0.0.1:{free_port()}/v1"
    config.providers["lan"] = ProviderConfig(name="lan", kind="openai", base_url=url)
    async with HostApp(config).run_test(size=(100, 30)) as pilot:
        screen = await open_providers(pilot, "lan")
        await settle(pilot, screen)
        models = widget_text(screen, "#provider-models")
        assert "(none listed)" in models and "gpt-4o" not in models  # no OpenAI built-ins
        assert f"live list failed: unreachable: {url}" in models


async def test_escape_and_q_go_back(tmp_path: Path) -> None:
    async with HostApp(host_config(tmp_path)).run_test(size=(80, 24)) as pilot:
        await open_providers(pilot)
        await pilot.press("escape")
        assert not isinstance(pilot.app.screen, ProvidersScreen)
        await open_providers(pilot)
        await pilot.press("q")
        assert not isinstance(pilot.app.screen, ProvidersScreen)


async def test_the_g4f_providers_are_listed_with_their_own_declarations(tmp_path: Path) -> None:
    from tui.providers import g4f_bridge

    classes = g4f_bridge.provider_classes()
    working = [n for n, c in classes.items() if g4f_bridge.declared(c, "working", False) is True]
    broken = [n for n, c in classes.items() if g4f_bridge.declared(c, "working", False) is False]
    async with HostApp(host_config(tmp_path)).run_test(size=(100, 30)) as pilot:
        screen = await open_providers(pilot, f"g4f/{working[0]}")
        await settle(pilot, screen)
        assert screen.selected == f"g4f/{working[0]}"
        assert "(g4f)" in screen_text(pilot.app)  # its label, from its class
        assert all(f"g4f/{n}" in screen._names for n in working)
        assert not any(f"g4f/{n}" in screen._names for n in broken)  # hidden, as asked

"""F4 adds, changes and removes a provider: the form's values are checked with the config
file's own messages, saved to config.toml (mode 0600), and the list shows the result."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input

from tests.app.host import HostApp, host_config, screen_text, wait_until
from tests.servers import OpenAIServer
from tui.screens.provider_form import ProviderFormScreen
from tui.screens.providers import ProvidersScreen

SECRET = "gsk-form-SECRET-0123456789"


async def open_providers(pilot: Pilot[None]) -> ProvidersScreen:
    screen = ProvidersScreen(pilot.app.services)
    pilot.app.push_screen(screen)
    await wait_until(pilot, lambda: pilot.app.screen is screen)
    return screen


async def open_form(pilot: Pilot[None], key: str) -> ProviderFormScreen:
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ProviderFormScreen))
    form = pilot.app.screen
    assert isinstance(form, ProviderFormScreen)
    return form


async def type_into(pilot: Pilot[None], form: ProviderFormScreen, field: str, text: str) -> None:
    widget = form.query_one(f"#provider-form-{field}", Input)
    widget.focus()
    await wait_until(pilot, lambda: widget.has_focus)
    await pilot.press(*text)
    await wait_until(pilot, lambda: widget.value.endswith(text))


def saved(tmp_path: Path) -> dict:
    return tomllib.loads((tmp_path / "config.toml").read_text())


async def test_a_provider_added_in_f4_is_saved_listed_and_its_models_are_live(
    tmp_path: Path,
) -> None:
    with OpenAIServer(models=["served-model"], api_key=SECRET) as server:
        async with HostApp(host_config(tmp_path)).run_test(size=(100, 36)) as pilot:
            screen = await open_providers(pilot)
            form = await open_form(pilot, "a")
            await type_into(pilot, form, "name", "lan")
            await type_into(pilot, form, "base-url", server.base_url)
            await type_into(pilot, form, "key", SECRET)
            assert SECRET not in screen_text(pilot.app)  # the key field is masked
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: pilot.app.screen is screen)
            await wait_until(pilot, lambda: screen.selected == "lan")
            await wait_until(pilot, lambda: "served-model" in screen_text(pilot.app))
            assert SECRET not in screen_text(pilot.app)
            assert any(n.message.startswith("Saved lan to") for n in pilot.app._notifications)
    table = saved(tmp_path)["providers"]["lan"]
    assert table == {"kind": "openai", "base_url": server.base_url, "api_key": SECRET}
    assert stat.S_IMODE((tmp_path / "config.toml").stat().st_mode) == 0o600


async def test_a_bad_value_is_refused_with_the_files_message_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    async with HostApp(host_config(tmp_path)).run_test(size=(100, 36)) as pilot:
        await open_providers(pilot)
        form = await open_form(pilot, "a")
        await type_into(pilot, form, "name", "x")
        await type_into(pilot, form, "base-url", "ftp://host")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "providers.x.base_url" in screen_text(pilot.app))
        assert pilot.app.screen is form  # still there, the values still typed
        await type_into(pilot, form, "name", "/y")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ProvidersScreen))
    assert not (tmp_path / "config.toml").exists()


async def test_edit_keeps_the_saved_key_and_remove_asks_first(tmp_path: Path) -> None:
    config = host_config(tmp_path)
    async with HostApp(config).run_test(size=(100, 36)) as pilot:
        screen = await open_providers(pilot)
        form = await open_form(pilot, "a")
        await type_into(pilot, form, "name", "lan")
        await type_into(pilot, form, "base-url", "http://10.0.0.9:8000/v1")
        await type_into(pilot, form, "key", SECRET)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: screen.selected == "lan")
        form = await open_form(pilot, "e")
        assert form.query_one("#provider-form-name", Input).disabled
        assert form.query_one("#provider-form-key", Input).value == ""  # never drawn
        await type_into(pilot, form, "default-model", "qwen3")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: pilot.app.screen is screen)
        await wait_until(
            pilot, lambda: saved(tmp_path)["providers"]["lan"].get("default_model") == "qwen3"
        )
        assert saved(tmp_path)["providers"]["lan"]["api_key"] == SECRET  # kept
        await pilot.press("d")
        await wait_until(pilot, lambda: "Remove lan from config.toml?" in screen_text(pilot.app))
        await pilot.press("n")
        await wait_until(pilot, lambda: pilot.app.screen is screen)
        assert "lan" in saved(tmp_path)["providers"]
        await pilot.press("d")
        await wait_until(pilot, lambda: "Remove lan" in screen_text(pilot.app))
        await pilot.press("y")
        await wait_until(pilot, lambda: "lan" not in saved(tmp_path)["providers"])
        await wait_until(pilot, lambda: "lan" not in screen._names)

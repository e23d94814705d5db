"""Services: config edits are copy -> validate -> save -> swap; a failure changes nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui.config import Config, ConfigError, ProviderConfig, load
from tui.services import Services
from tui.store import SessionStore


def services(tmp_path: Path) -> Services:
    config = Config(path=tmp_path / "config.toml")
    return Services.build(config, SessionStore(tmp_path / "sessions"), tmp_path / "state.json")


async def test_a_saved_change_is_swapped_in_and_providers_are_rebuilt(tmp_path: Path) -> None:
    s = services(tmp_path)
    before = s.config
    old_echo = s.core.provider("echo")

    def change(config: Config) -> None:
        config.request_timeout = 5.0
        config.providers["lab"] = ProviderConfig(name="lab", kind="openai", base_url="http://x")

    new = await s.change_config(change)
    assert s.config is new and s.core.config is new and new is not before
    assert before.request_timeout == 60.0 and "lab" not in before.providers  # untouched
    assert load(before.path).providers["lab"].base_url == "http://x"
    assert s.core.provider("echo") is not old_echo  # rebuilt with the new settings
    assert s.core.provider("echo").settings.timeout == 5.0
    await s.core.aclose()


async def test_an_invalid_change_is_refused_in_the_files_words(tmp_path: Path) -> None:
    s = services(tmp_path)
    before = s.config

    def change(config: Config) -> None:
        config.fallback = ["nosuch"]

    with pytest.raises(ConfigError) as caught:
        await s.change_config(change)
    assert "unknown provider 'nosuch'" in str(caught.value)
    assert s.config is before and before.fallback == []
    assert not before.path.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
async def test_a_failed_save_leaves_the_config_in_force(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    s = Services.build(
        Config(path=folder / "c.toml"), SessionStore(tmp_path / "s"), tmp_path / "st"
    )
    folder.chmod(0o500)
    try:
        with pytest.raises(OSError):
            await s.change_config(lambda config: setattr(config, "theme", "nord"))
    finally:
        folder.chmod(0o700)
    assert s.config.theme is None


async def test_a_save_into_a_file_in_the_way_leaves_the_config_in_force(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("not a folder", "utf-8")
    config = Config(path=tmp_path / "blocker" / "config.toml")
    s = Services.build(config, SessionStore(tmp_path / "s"), tmp_path / "st")
    with pytest.raises(OSError):
        await s.change_config(lambda c: setattr(c, "theme", "nord"))
    assert s.config is config and config.theme is None

"""A minimal host App for screen tests: it builds the ``Services`` a screen is given.

Screens get ``Services`` (config, core, store, recent models) in their constructor; this
host builds them from a tmp dir and shows nothing itself, so a test pushes the screen it
wants with ``app.services`` and drives it with the pilot.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Static

from tests.servers import free_port
from tui.chat import Core
from tui.config import Config, ProviderConfig
from tui.services import Services
from tui.state import RecentModels
from tui.store import SessionStore


def host_config(tmp: Path, **values: Any) -> Config:
    """A config at tmp/config.toml (not written yet): echo replies at once, and Ollama points
    at a loopback port nothing listens on, so no test depends on a local Ollama."""
    config = Config(path=tmp / "config.toml", **values)
    config.providers.setdefault(
        "echo", ProviderConfig(name="echo", kind="echo", options={"delay": 0})
    )
    config.providers.setdefault(
        "ollama",
        ProviderConfig(name="ollama", kind="ollama", base_url=f"http://127.0.0.1:{free_port()}"),
    )
    return config


CSS_FILE = Path(__file__).resolve().parents[2] / "tui" / "chatterm.tcss"


class HostApp(App[None]):
    """``HostApp(config)``; state (recent models) and sessions live beside the config file."""

    CSS_PATH = CSS_FILE  # the app's one stylesheet, so screens look as they do in chatterm

    def __init__(self, config: Config, *, store: SessionStore | None = None) -> None:
        super().__init__()
        store = store if store is not None else SessionStore(config.path.parent / "sessions")
        self.services = Services.build(config, store, config.path.parent / "state.json")

    @property
    def core(self) -> Core:
        return self.services.core

    @property
    def config(self) -> Config:
        return self.services.config

    @property
    def store(self) -> SessionStore:
        return self.services.store

    @property
    def recent(self) -> RecentModels:
        return self.services.recent

    def compose(self) -> ComposeResult:
        yield Static("host", id="host")

    async def on_unmount(self) -> None:
        await self.core.aclose()


def screen_text(app: App[Any]) -> str:
    """Everything the current screen shows, as plain text lines (what a user would read)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)


def services_for(store: SessionStore) -> Services:
    """Services around *store*, with the host config beside it (for screens of the store)."""
    folder = store.root.parent
    return Services.build(host_config(folder), store, folder / "state.json")


async def wait_until(pilot: Pilot[Any], test: Callable[[], bool], seconds: float = 15) -> None:
    """Let the app run until *test()* holds; fail after a generous wall-clock deadline."""
    deadline = time.monotonic() + seconds
    while not test():
        if time.monotonic() > deadline:
            raise AssertionError("condition never became true")
        await pilot.pause(0.02)

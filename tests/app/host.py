"""A minimal host App for screen tests: the attributes ChattermApp gives its screens.

Screens reach ``app.core``, ``app.config``, ``app.store`` and ``app.recent``; this host
builds all four from a tmp dir and shows nothing itself, so a test pushes the screen it
wants and drives it with the pilot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Static

from tests.servers import free_port
from tui.chat import Core
from tui.config import Config, ProviderConfig
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
        self.config = config
        self.store = store if store is not None else SessionStore(config.path.parent / "sessions")
        self.core = Core(config, self.store)
        self.recent = RecentModels(config.path.parent / "state.json")

    def compose(self) -> ComposeResult:
        yield Static("host", id="host")

    async def on_unmount(self) -> None:
        await self.core.aclose()


def screen_text(app: App[Any]) -> str:
    """Everything the current screen shows, as plain text lines (what a user would read)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)

"""What the app tests share: a host App for one screen, configs, chatterm on a loopback
server, the text on the screen, and waiting for a condition.

Screens get ``Services`` (config, core, store, recent models) in their constructor;
``HostApp`` builds them from a tmp dir and shows nothing itself, so a test pushes the screen
it wants with ``app.services`` and drives it with the pilot. ``local_app`` is the whole
chatterm with its default provider on a test server.
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
from tui.app import ChattermApp
from tui.config import Config, ProviderConfig
from tui.screens.providers import ProvidersScreen
from tui.services import Services
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


def local_config(
    tmp: Path, base_url: str, models: tuple[str, ...] = ("m1",), **values: Any
) -> Config:
    """``host_config`` whose default is provider "local" (kind openai at *base_url*) on its
    first model."""
    config = host_config(tmp, default_provider="local", default_model=models[0], **values)
    config.providers["local"] = ProviderConfig(
        name="local", kind="openai", base_url=base_url, models=models
    )
    return config


def local_app(
    tmp: Path, base_url: str, models: tuple[str, ...] = ("m1",), **values: Any
) -> ChattermApp:
    """chatterm on ``local_config``, its sessions and state in *tmp* too."""
    config = local_config(tmp, base_url, models, **values)
    return ChattermApp(config, SessionStore(tmp / "sessions"), state_path=tmp / "state.json")


CSS_FILE = Path(__file__).resolve().parents[2] / "tui" / "chatterm.tcss"


class HostApp(App[None]):
    """``HostApp(config)``; state (recent models) and sessions live beside the config file."""

    CSS_PATH = CSS_FILE  # the app's one stylesheet, so screens look as they do in chatterm

    def __init__(self, config: Config, *, store: SessionStore | None = None) -> None:
        super().__init__()
        store = store if store is not None else SessionStore(config.path.parent / "sessions")
        self.services = Services.build(config, store, config.path.parent / "state.json")
        # Every notification's text, to read back paths: kept, where a toast expires.
        self.notified: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("host", id="host")

    def notify(self, message: str, **kwargs: Any) -> None:  # type: ignore[override]
        self.notified.append(message)
        super().notify(message, **kwargs)

    async def on_unmount(self) -> None:
        await self.services.core.aclose()


def screen_text(app: App[Any]) -> str:
    """Everything the current screen shows, as plain text lines (what a user would read).

    Textual 8 has no public way to read the screen as text: ``export_screenshot`` gives
    SVG (styles, one ``<text>`` per run) and goes through ``screen._compositor`` itself, so
    this is the one place the tests reach that private attribute.
    """
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)


def notices(app: App[Any]) -> list[str]:
    """What the app's notifications (toasts) still shown say, oldest first; they are drawn
    on a layer ``screen_text`` does not read."""
    return [notification.message for notification in app._notifications]


def services_for(store: SessionStore) -> Services:
    """Services around *store*, with the host config beside it (for screens of the store)."""
    folder = store.root.parent
    return Services.build(host_config(folder), store, folder / "state.json")


async def type_and_send(pilot: Pilot[Any], text: str) -> None:
    """Type *text* into the focused prompt key by key, then press Enter."""
    await pilot.press(*text)
    await pilot.press("enter")


async def ask(pilot: Pilot[Any], text: str, seconds: float = 15) -> None:
    """Type *text* into chatterm's prompt and press Enter, then wait until that exchange has
    ended: its two messages are in the session and nothing streams (``not streaming`` alone
    holds before the key is handled, too)."""
    screen = pilot.app.conversation if isinstance(pilot.app, ChattermApp) else None
    assert screen is not None, "ask() drives chatterm's conversation screen"
    before = len(screen.session.messages)
    await type_and_send(pilot, text)
    await wait_until(
        pilot, lambda: len(screen.session.messages) >= before + 2 and not screen.streaming, seconds
    )


async def each_provider_shown(pilot: Pilot[Any]) -> list[str]:
    """F4, then the screen's text with each provider selected in turn, top to bottom."""
    app = pilot.app
    await pilot.press("f4")
    await wait_until(pilot, lambda: isinstance(app.screen, ProvidersScreen))
    screen = app.screen
    assert isinstance(screen, ProvidersScreen)
    texts: list[str] = []
    for n, name in enumerate(screen.services.core.provider_names()):
        if n:
            await pilot.press("down")
        await wait_until(pilot, lambda name=name: screen.selected == name)
        texts.append(screen_text(app))
    return texts


async def wait_until(pilot: Pilot[Any], test: Callable[[], bool], seconds: float = 15) -> None:
    """Let the app run until *test()* holds; fail after a generous wall-clock deadline.

    ``pilot.press`` returns once Textual's idle heuristic says the app is idle, which on a
    busy machine (CPU time stalls while the process waits for a core) can be before the key
    has gone through every queue: a focus change, a bubbled ``Input.Changed`` or a relayout
    may still be pending. So every check after a key waits for its condition.
    """
    deadline = time.monotonic() + seconds
    while not test():
        if time.monotonic() > deadline:
            try:
                shown = screen_text(pilot.app)
            except Exception as err:  # the app has ended: say so, not why the text failed
                shown = f"(nothing: {err!r})"
            raise AssertionError(f"not true within {seconds} s; the screen shows:\n{shown}")
        await pilot.pause(0.02)

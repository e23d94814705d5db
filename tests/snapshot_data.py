"""The deterministic echo conversation that ``screenshots/`` and the snapshot tests show.

``scripts/screenshots.py`` and ``tests/app/test_snapshots.py`` both build the app with
``demo_app`` inside ``demo_environment``, so the pictures change only when a screen really
does: every timestamp is fixed (and shown in UTC), sessions live in a folder of the caller's
(never on screen), the config path on the settings screen is a fixed one that is never
written, no provider key or local Ollama of the developer's can show, and the one reply
"mid-stream" is half of a known echo reply put straight into the log, not a timed stream.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, TextArea

from tests.app.host import screen_text, wait_until
from tests.servers import OpenAIServer
from tui import providers
from tui.app import ChattermApp
from tui.attachments import chip
from tui.config import Config, ProviderConfig
from tui.providers.echo import compose_reasoning, compose_reply
from tui.screens.attach import AttachScreen
from tui.screens.conversation import ConversationScreen
from tui.screens.conversation_settings import ConversationSettingsScreen
from tui.screens.help import KeysScreen
from tui.screens.model_picker import ModelPickerScreen
from tui.screens.providers import ProvidersScreen
from tui.screens.sessions import SessionsScreen
from tui.screens.settings import SettingsScreen
from tui.state import RecentModels
from tui.store import Message, SessionStore
from tui.widgets import message_log

T0 = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
# What the settings screen shows as the config file. Nothing in the screens shown writes
# the config (only saving settings or a key does), so this path is only ever displayed.
CONFIG_PATH = Path("/home/user/.config/chatterm/config.toml")
TOPICS = [  # (title, provider, model) of the saved conversations, oldest first
    ("Plan a weekend in Lisbon", "openai", "gpt-4o-mini"),
    ("Why does my Rust borrow checker complain?", "ollama", "llama3.2"),
    ("Summarise RFC 9110 caching rules", "openai", "gpt-4o"),
    ("Regex for ISO dates", "echo", "echo"),
]
PARTIAL_PROMPT = "Show me how to count words in Python"
PARTIAL_SHARE = 0.85  # of the echo reply: its code block is still open
# A line of the partial reply only (the prompt and the saved replies quote other text): on
# the screen once the log has rendered what arrived.
PARTIAL_MARK = f"message = {PARTIAL_PROMPT!r}"
# The demo's LM Studio: an OpenAI-compatible server on loopback whose live model list F2
# and F4 show. Its URL is in the F4 picture, so its port is fixed (see live_server).
LIVE_PORT = 47611
LIVE_URL = f"http://127.0.0.1:{LIVE_PORT}/v1"
LIVE_MODELS = ("qwen3-8b", "gemma-3-12b-it", "llama-3.2-3b-instruct", "mistral-small-3.2")
RECENT = ["lmstudio/qwen3-8b", "openai/gpt-4o-mini"]  # so F2's first rows show a live list
LIVE_PICTURES = ("model_picker", "providers")  # the pictures that ask it


def seed(store: SessionStore) -> str:
    """Save one conversation per topic with fixed ids and times; the id of the newest."""
    last = ""
    for n, (title, provider, model) in enumerate(TOPICS):
        session = store.new(provider, model)
        session.id = f"20261122-09{n:02d}00-a{n:03d}"
        when = T0 + timedelta(hours=n)
        session.created = session.updated = when
        store.append(session, Message(role="user", content=title, created=when))
        reply = Message(
            role="assistant",
            content=compose_reply(title),
            created=when + timedelta(seconds=2),
            provider=provider,
            model=model,
            status="complete",
        )
        if provider == "echo":  # echo reasons as a reasoning model does: the folded line
            reply.reasoning = "".join(compose_reasoning(title))
            reply.reasoning_tokens = len(reply.reasoning.split())  # a word a token, as echo's
        store.append(session, reply)
        if n == len(TOPICS) - 1:  # regenerated once: the old reply is an alternative, ‹ 2/2 ›
            older = Message(
                role="assistant",
                content="An older answer, kept when the reply was regenerated.",
                created=when + timedelta(seconds=1),
                id=f"m-older-{n}",
                provider=provider,
                model=model,
                status="complete",
                parent=session.messages[0].id,
            )
            session.alternatives.append(older)
        session.updated = when + timedelta(seconds=2)  # append stamped it with the clock
        store.save(session)
        last = session.id
    return last


def demo_config() -> Config:
    config = Config(path=CONFIG_PATH, default_provider="echo")
    config.providers["echo"] = ProviderConfig(name="echo", kind="echo", options={"delay": 0})
    # Nothing listens on port 9: a local Ollama must not change what the picker shows.
    config.providers["ollama"] = ProviderConfig(
        name="ollama", kind="ollama", base_url="http://127.0.0.1:9"
    )
    config.providers["lmstudio"] = ProviderConfig(name="lmstudio", kind="openai", base_url=LIVE_URL)
    return config


def demo_app(folder: Path) -> ChattermApp:
    """chatterm on the seeded conversations, kept (with the recent models) in *folder*."""
    store = SessionStore(folder / "sessions")
    session = store.load(seed(store))
    recent = RecentModels(folder / "state.json")
    for item in reversed(RECENT):
        recent.push(*item.split("/", 1))
    return ChattermApp(demo_config(), store, session=session, state_path=folder / "state.json")


@contextmanager
def live_server() -> Iterator[OpenAIServer]:
    """The demo's LM Studio on LIVE_PORT, listing LIVE_MODELS. Pictures taken at the same
    time (pytest -n) take turns through a lock file, as they share the port."""
    lock_path = Path(tempfile.gettempdir()) / f"chatterm-demo-{LIVE_PORT}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with OpenAIServer(port=LIVE_PORT, models=LIVE_MODELS) as server:
            yield server


# Besides every *_API_KEY: what would point the app elsewhere or change how it draws.
_UNSET = ("OLLAMA_HOST", "CHATTERM_CONFIG", "NO_COLOR", "TEXTUAL")


def _environment(folder: Path) -> dict[str, str | None]:
    """The variables to set (None: to remove) for *folder*'s demo."""
    changes: dict[str, str | None] = {
        "TZ": "UTC",  # the sessions screen and the log show local times
        "CHATTERM_DATA_DIR": str(folder),  # whatever writes to the data folder writes here
        # A developer's cached live model lists would show in F2 and F4.
        "CHATTERM_CACHE_DIR": str(folder / "cache"),
    }
    for name in os.environ:
        if name.endswith("_API_KEY") or name in _UNSET:
            changes[name] = None  # a developer's keys would show on the providers screen
    return changes


@contextmanager
def demo_environment(folder: Path, live: bool = False) -> Iterator[None]:
    """Fixed variables for the demo while it runs, and a render budget no machine misses:
    a reply the log takes too long to render goes on as plain text (RENDER_BUDGET), and
    the pictures must not depend on how busy the machine is. The g4f extra's providers
    are left out (the pictures show a plain install, whatever g4f version is here); with
    *live*, the demo's LM Studio (live_server) answers."""
    changes = _environment(folder)
    saved = {name: os.environ.get(name) for name in changes}
    budget, g4f = message_log.RENDER_BUDGET, providers.g4f_installed
    here = os.getcwd()
    try:
        _apply(changes)
        message_log.RENDER_BUDGET = 3600.0
        providers.g4f_installed = lambda: False
        os.chdir("/")  # the attach box names the folder paths start from: the same everywhere
        with live_server() if live else nullcontext():
            yield
    finally:
        os.chdir(here)
        message_log.RENDER_BUDGET, providers.g4f_installed = budget, g4f
        _apply(saved)


def _apply(changes: dict[str, str | None]) -> None:
    for name, value in changes.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    time.tzset()


def show_partial_reply(screen: ConversationScreen) -> None:
    """Freeze a reply mid-stream: the prompt, then part of its echo reply, still streaming.
    The log renders it at its next tick; ``PARTIAL_MARK`` is on the screen after that."""
    screen.log_view.add_message(
        "user", PARTIAL_PROMPT, created=T0 + timedelta(hours=5), chips=[chip("words.py", 1234)]
    )
    screen.log_view.start_reply("echo", "echo")
    text = compose_reply(PARTIAL_PROMPT)
    screen.log_view.append(text[: int(len(text) * PARTIAL_SHARE)])
    screen.status.set_state("streaming", "")


def steady_cursors(app: App[Any]) -> None:
    """Stop every cursor blinking (it stays shown where it is focused): a picture taken
    half a second later must be the same picture."""
    for screen in app.screen_stack:
        for widget in screen.query("Input, TextArea"):
            if isinstance(widget, Input | TextArea):
                widget.cursor_blink = False


# The pictures: the conversation mid-reply, and each screen its key opens from it.
SCREENS: dict[str, tuple[str, type[Screen[Any]]]] = {
    "model_picker": ("f2", ModelPickerScreen),
    "sessions": ("f3", SessionsScreen),
    "providers": ("f4", ProvidersScreen),
    "settings": ("f5", SettingsScreen),
    "keys": ("f1", KeysScreen),
    "conversation_settings": ("f10", ConversationSettingsScreen),
    "attach": ("ctrl+f", AttachScreen),
}
PICTURES = ["conversation", *SCREENS]


async def show(pilot: Pilot[Any], picture: str) -> None:
    """Bring *picture* on the screen of a ``demo_app`` just started, and wait until it is
    complete: its lists loaded, live model lists asked, every worker done."""
    app = pilot.app

    def shows(kind: type[Screen[Any]]) -> bool:
        return isinstance(app.screen, kind) and app.screen.is_mounted

    await wait_until(pilot, lambda: shows(ConversationScreen))
    if picture in SCREENS:
        key, kind = SCREENS[picture]
        await pilot.press(key)
        await wait_until(pilot, lambda: shows(kind))
        if picture == "providers":  # the reader has moved to LM Studio: its live list
            await pilot.press("end")
            await wait_until(pilot, lambda: "live, just now" in screen_text(app))
    else:
        assert isinstance(app.screen, ConversationScreen), picture
        show_partial_reply(app.screen)
        await wait_until(pilot, lambda: PARTIAL_MARK in screen_text(app))
        # The reader has marked the saved reply above it (regenerated once: ‹ 2/2 ›), so
        # the picture shows that and the new prompt's attachment chip too.
        app.screen.log_view.focus_message(1)
        await wait_until(pilot, lambda: "‹ 2/2 ›" in screen_text(app))
    await wait_until(pilot, lambda: not list(app.workers))
    steady_cursors(app)
    await pilot.pause()

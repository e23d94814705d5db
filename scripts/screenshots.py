"""Regenerate screenshots/*.svg from a deterministic echo conversation.

    .venv/bin/python scripts/screenshots.py

Everything comes from the offline echo provider and fixed timestamps in temporary folders,
so the SVGs change only when a screen really does.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "screenshots"
SIZE = (100, 30)
T0 = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)


def _seed(store) -> str:  # -> id of the conversation shown first
    from tui.providers.echo import compose_reply
    from tui.store import Message

    topics = [
        ("Plan a weekend in Lisbon", "openai", "gpt-4o-mini"),
        ("Why does my Rust borrow checker complain?", "ollama", "llama3.2"),
        ("Summarise RFC 9110 caching rules", "openai", "gpt-4o"),
        ("Regex for ISO dates", "echo", "echo"),
    ]
    last = ""
    for n, (title, provider, model) in enumerate(topics):
        session = store.new(provider, model)
        session.id = f"20261122-09{n:02d}00-a{n:03d}"
        when = T0 + timedelta(hours=n)
        session.created = session.updated = when
        store.append(session, Message(role="user", content=title, created=when))
        reply = compose_reply(title)
        store.append(
            session,
            Message(
                role="assistant",
                content=reply,
                created=when + timedelta(seconds=2),
                provider=provider,
                model=model,
                status="complete",
            ),
        )
        session.updated = when + timedelta(seconds=2)
        store.save(session)
        last = session.id
    return last


async def _shoot(app, pilot, name: str) -> None:
    await pilot.pause(0.3)
    app.save_screenshot(filename=f"{name}.svg", path=str(OUT))
    print(f"wrote screenshots/{name}.svg")


async def main() -> None:
    from tui.app import ChattermApp
    from tui.config import Config, ProviderConfig
    from tui.providers.echo import compose_reply
    from tui.store import SessionStore

    # A fixed folder: the settings screen shows the config path.
    tmp = Path(tempfile.gettempdir()) / "chatterm-screenshots"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    os.environ["CHATTERM_DATA_DIR"] = str(tmp / "data")
    os.environ["TZ"] = "UTC"  # the sessions screen shows local times
    time.tzset()
    config = Config(path=tmp / "config.toml", default_provider="echo")
    config.providers["echo"] = ProviderConfig(name="echo", kind="echo", options={"delay": 0})
    # Nothing on this port: a local Ollama must not change what the picker shows.
    config.providers["ollama"] = ProviderConfig(
        name="ollama", kind="ollama", base_url="http://127.0.0.1:9"
    )
    store = SessionStore(tmp / "data" / "sessions")
    session = store.load(_seed(store))
    app = ChattermApp(config, store, session=session, state_path=tmp / "state.json")
    OUT.mkdir(exist_ok=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.conversation
        assert screen is not None
        # Freeze a reply mid-stream: half of a known echo reply, with its code block open.
        prompt = "Show me how to count words in Python"
        screen.log_view.add_message("user", prompt, created=T0 + timedelta(hours=5))
        screen.log_view.start_reply("echo", "echo")
        text = compose_reply(prompt)
        screen.log_view.append(text[: int(len(text) * 0.85)])
        screen.status.set_state("streaming", "")
        await _shoot(app, pilot, "conversation")
        screen.log_view.finish_reply("complete")
        screen.status.set_state("idle")
        await pilot.press("f2")
        await _shoot(app, pilot, "model_picker")
        await pilot.press("escape", "f4")
        await _shoot(app, pilot, "providers")
        await pilot.press("escape", "f5")
        await _shoot(app, pilot, "settings")
        await pilot.press("escape", "f3")
        await _shoot(app, pilot, "sessions")
        await pilot.press("escape", "f1")
        await _shoot(app, pilot, "keys")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    asyncio.run(main())

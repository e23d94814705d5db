"""The app closing while a reply streams (ctrl+q, a test's end) tears the screen down under
the reply's worker: the worker must end quietly, with the reply saved as cancelled, not
fail on widgets that are gone (a worker error ends a Textual app with an error)."""

from __future__ import annotations

from pathlib import Path

from tests.app.host import screen_text, type_and_send, wait_until
from tui.app import ChattermApp
from tui.config import Config, ProviderConfig
from tui.store import SessionStore


async def test_closing_mid_reply_ends_the_worker_quietly_and_keeps_the_reply(
    tmp_path: Path,
) -> None:
    config = Config(path=tmp_path / "config.toml", default_provider="echo")
    config.providers["echo"] = ProviderConfig(name="echo", kind="echo", options={"delay": 0.05})
    store = SessionStore(tmp_path / "sessions")
    app = ChattermApp(config, store, state_path=tmp_path / "state.json")
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_send(pilot, "a question that takes a while to answer")
        await wait_until(pilot, lambda: "You wrote" in screen_text(app))
        assert app.conversation is not None and app.conversation.streaming
        session_id = app.conversation.session.id
        # Leaving the block closes the app with the reply still streaming.
    assert app.return_code in (0, None)
    reply = store.load(session_id).messages[-1]
    assert reply.role == "assistant" and reply.content.startswith("### Echo")
    assert reply.status in ("cancelled", "complete")

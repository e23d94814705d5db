"""Edits of a conversation that the app and scripts share: what regenerate and
edit-and-resend remove. Each saves the session and returns how many messages left it, so
a screen can take the same number off its log. No Textual here."""

from __future__ import annotations

from .store import Session, SessionStore


def last_prompt(session: Session) -> str | None:
    return next((m.content for m in reversed(session.messages) if m.role == "user"), None)


def drop_last_reply(store: SessionStore, session: Session) -> int:
    """Regenerate: the last reply leaves (if the conversation ends with one), so the next
    exchange answers the last prompt again. Nothing changes when there is no prompt."""
    messages = session.messages
    if last_prompt(session) is None or messages[-1].role != "assistant":
        return 0
    messages.pop()
    store.save(session)
    return 1


def drop_last_exchange(store: SessionStore, session: Session) -> int:
    """Edit and resend: the last prompt and the replies after it leave the conversation."""
    messages = session.messages
    removed = 0
    while messages and messages[-1].role == "assistant":
        messages.pop()
        removed += 1
    if messages and messages[-1].role == "user":
        messages.pop()
        removed += 1
    if removed:
        store.save(session)
    return removed

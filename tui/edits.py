"""Edits of a conversation that the app and scripts share. No Textual here.

Nothing a model said is thrown away by an edit: regenerating a reply, or editing a prompt
to send it again, moves the old message and everything after it off the path on screen
into ``Session.alternatives``, each naming the message it follows (its ``parent``). The
messages that follow one parent are alternatives of each other; stepping through them
puts another one, and what followed it, back on the path. What is sent to a provider is
the path (``Session.history``).

Each edit saves the session and returns the index from which the path changed, so a
screen can redraw its log from there.
"""

from __future__ import annotations

from .store import Message, Session, SessionStore


class EditError(Exception):
    """The edit cannot be made (no such message, a reply in flight); the text says why."""


def last_prompt(session: Session) -> str | None:
    return next((m.content for m in reversed(session.messages) if m.role == "user"), None)


def last_prompt_index(session: Session) -> int | None:
    return next(
        (i for i in range(len(session.messages) - 1, -1, -1) if session.messages[i].role == "user"),
        None,
    )


def _order(m: Message) -> tuple:
    # Times are whole seconds; new ids grow with time (store.model.new_message_id).
    return (m.created, m.id)


def _parent_id(session: Session, index: int) -> str:
    return session.messages[index - 1].id if index > 0 else ""


def alternatives(session: Session, index: int) -> list[Message]:
    """The message at *index* on the path and every one off it that follows the same
    message, oldest first: what ``‹ 2/3 ›`` counts."""
    parent = _parent_id(session, index)
    others = [m for m in session.alternatives if m.parent == parent]
    return sorted([session.messages[index], *others], key=_order)


def position(session: Session, index: int) -> tuple[int, int]:
    """(which of them is on the path, counting from 1; how many there are)."""
    choices = alternatives(session, index)
    return choices.index(session.messages[index]) + 1, len(choices)


def positions(session: Session) -> dict[int, tuple[int, int]]:
    """``position`` of every path message that has alternatives (one pass, for the log)."""
    by_parent: dict[str, int] = {}
    for m in session.alternatives:
        by_parent[m.parent] = by_parent.get(m.parent, 0) + 1
    return {
        i: position(session, i)
        for i in range(len(session.messages))
        if by_parent.get(_parent_id(session, i))
    }


def _detach(session: Session, index: int) -> None:
    """The path from *index* on moves off it, each message naming its parent."""
    tail = session.messages[index:]
    parent = _parent_id(session, index)
    for m in tail:
        m.parent, parent = parent, m.id
    del session.messages[index:]
    session.alternatives.extend(tail)


def _attach(session: Session, first: Message) -> None:
    """*first* and, after it, the newest of each generation of what followed it, back on
    the path."""
    chain, current = [first], first
    while children := [m for m in session.alternatives if m.parent == current.id]:
        current = max(children, key=_order)
        chain.append(current)
    chosen = {id(m) for m in chain}
    session.alternatives[:] = [m for m in session.alternatives if id(m) not in chosen]
    for m in chain:
        m.parent = ""  # on the path, the message before it is its parent
    session.messages.extend(chain)


def _check(session: Session, index: int) -> Message:
    if not 0 <= index < len(session.messages):
        raise EditError(f"no message {index + 1} in this conversation")
    message = session.messages[index]
    if message.status == "streaming":
        raise EditError("that reply is still streaming: Esc stops it first")
    return message


def step(store: SessionStore, session: Session, index: int, by: int) -> int | None:
    """Put the alternative *by* places from the one at *index* on the path (with what
    followed it). Returns *index*, or None when there is none that way."""
    _check(session, index)
    choices = alternatives(session, index)
    where = choices.index(session.messages[index]) + by
    if not 0 <= where < len(choices) or len(choices) < 2:
        return None
    target = choices[where]
    _detach(session, index)
    _attach(session, target)
    store.save(session)
    return index


def keep_last_reply(store: SessionStore, session: Session) -> int | None:
    """Regenerate: the last reply moves off the path, so the next exchange answers the last
    prompt again and the old answer stays one step away. None when there is no prompt or
    the conversation does not end with a reply."""
    messages = session.messages
    if last_prompt(session) is None or not messages or messages[-1].role != "assistant":
        return None
    _check(session, len(messages) - 1)
    index = len(messages) - 1
    _detach(session, index)
    store.save(session)
    return index


def branch_at(store: SessionStore, session: Session, index: int) -> int:
    """Edit and resend the prompt at *index*: it and everything after it move off the path;
    the edited prompt, sent next, becomes their alternative."""
    if _check(session, index).role != "user":
        raise EditError("only a prompt is sent again; a reply is edited in place")
    _detach(session, index)
    store.save(session)
    return index


def replace_text(store: SessionStore, session: Session, index: int, text: str) -> int:
    """A message's text, edited in place (a reply corrected by hand)."""
    _check(session, index).content = text
    store.save(session)
    return index


def delete(store: SessionStore, session: Session, index: int) -> int:
    """The message at *index* leaves the conversation; what followed it, on the path and
    off it, now follows the message before it."""
    message = _check(session, index)
    parent = _parent_id(session, index)
    for m in session.alternatives:
        if m.parent == message.id:
            m.parent = parent
    del session.messages[index]
    store.save(session)
    return index

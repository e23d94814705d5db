"""Conversation edits keep every reply: regenerate and edit-and-resend make alternatives,
stepping through them changes the path on screen (and what is sent), and all of it is
saved as TOML that reads as the conversation and comes back the same."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tui.edits import (
    EditError,
    branch_at,
    delete,
    keep_last_reply,
    last_prompt,
    position,
    positions,
    replace_text,
    step,
)
from tui.store import Message, Session, SessionStore


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    return SessionStore(tmp_path / "sessions")


def conversation(store: SessionStore, *texts: str) -> Session:
    """Prompts and replies in turn: "q1", "a1", "q2", ..."""
    session = store.new("echo", "echo")
    for i, text in enumerate(texts):
        role = "user" if i % 2 == 0 else "assistant"
        store.append(session, Message(role, text, status="complete" if role == "assistant" else ""))
    return session


def path(session: Session) -> list[str]:
    return [m.content for m in session.messages]


def answer(store: SessionStore, session: Session, text: str) -> None:
    store.append(session, Message("assistant", text, status="complete"))


def test_regenerate_keeps_the_old_reply_one_step_away(store: SessionStore) -> None:
    session = conversation(store, "q1", "a1", "q2", "a2")
    assert keep_last_reply(store, session) == 3
    assert path(session) == ["q1", "a1", "q2"]
    answer(store, session, "a2 again")
    assert position(session, 3) == (2, 2)
    assert step(store, session, 3, -1) == 3
    assert path(session) == ["q1", "a1", "q2", "a2"] and position(session, 3) == (1, 2)
    assert step(store, session, 3, -1) is None  # no older one
    assert step(store, session, 3, 1) == 3
    assert path(session) == ["q1", "a1", "q2", "a2 again"]


def test_what_is_sent_is_the_path_on_screen(store: SessionStore) -> None:
    session = conversation(store, "q1", "a1")
    keep_last_reply(store, session)
    answer(store, session, "a1 again")
    assert [m["content"] for m in session.history()] == ["q1", "a1 again"]
    step(store, session, 1, -1)
    assert [m["content"] for m in session.history()] == ["q1", "a1"]


def test_editing_an_earlier_prompt_branches_and_keeps_what_followed(store: SessionStore) -> None:
    session = conversation(store, "q1", "a1", "q2", "a2", "q3", "a3")
    assert branch_at(store, session, 2) == 2
    assert path(session) == ["q1", "a1"]
    store.append(session, Message("user", "q2 edited"))
    answer(store, session, "a2 new")
    assert position(session, 2) == (2, 2)
    step(store, session, 2, -1)  # back to the old prompt: its whole branch returns
    assert path(session) == ["q1", "a1", "q2", "a2", "q3", "a3"]
    step(store, session, 2, 1)
    assert path(session) == ["q1", "a1", "q2 edited", "a2 new"]


def test_a_branch_comes_back_with_its_newest_regenerated_reply(store: SessionStore) -> None:
    session = conversation(store, "q1", "a1")
    keep_last_reply(store, session)
    answer(store, session, "a1 second")
    branch_at(store, session, 0)
    store.append(session, Message("user", "q1 edited"))
    step(store, session, 0, -1)
    assert path(session) == ["q1", "a1 second"]
    assert position(session, 1) == (2, 2)


def test_only_a_prompt_is_resent_and_nothing_streaming_is_edited(store: SessionStore) -> None:
    session = conversation(store, "q1", "a1")
    with pytest.raises(EditError, match="reply is edited in place"):
        branch_at(store, session, 1)
    session.messages[1].status = "streaming"
    with pytest.raises(EditError, match="still streaming"):
        delete(store, session, 1)
    with pytest.raises(EditError, match="no message 9"):
        replace_text(store, session, 8, "x")


def test_delete_and_replace_change_one_message_and_keep_the_rest(store: SessionStore) -> None:
    session = conversation(store, "q1", "a1", "q2", "a2")
    replace_text(store, session, 1, "a1 corrected")
    delete(store, session, 2)
    assert path(session) == ["q1", "a1 corrected", "a2"]
    assert path(store.load(session.id)) == ["q1", "a1 corrected", "a2"]
    assert last_prompt(session) == "q1"


def test_deleting_a_message_with_alternatives_after_it_keeps_them(store: SessionStore) -> None:
    session = conversation(store, "q1", "a1")
    keep_last_reply(store, session)
    answer(store, session, "a1 again")
    delete(store, session, 0)  # the prompt both replies answer
    assert path(session) == ["a1 again"]
    assert position(session, 0) == (2, 2)


def test_alternatives_are_saved_after_the_path_and_come_back(store: SessionStore) -> None:
    session = conversation(store, "q1", "a1", "q2", "a2")
    branch_at(store, session, 2)
    store.append(session, Message("user", "q2 edited"))
    answer(store, session, "a2 new")
    text = store.path(session.id).read_text("utf-8")
    doc = tomllib.loads(text)
    assert doc["schema"] == 2
    # The [[messages]] read as the conversation on screen; what is off it follows.
    assert [m["content"] for m in doc["messages"]] == ["q1", "a1", "q2 edited", "a2 new"]
    assert [(m["content"], m["parent"]) for m in doc["alternatives"]] == [
        ("q2", doc["messages"][1]["id"]),
        ("a2", doc["alternatives"][0]["id"]),
    ]
    assert "parent" not in doc["messages"][0]
    again = SessionStore(store.root).load(session.id)
    assert path(again) == path(session)
    assert positions(again) == {2: (2, 2)}
    step(store, again, 2, -1)
    assert path(again) == ["q1", "a1", "q2", "a2"]


def test_a_schema_1_file_opens_unchanged_with_no_alternatives(store: SessionStore) -> None:
    store.root.mkdir(parents=True)
    old = (
        'schema = 1\nid = "s"\ntitle = "old"\ncreated = 2025-01-01T10:00:00Z\n'
        'updated = 2025-01-01T10:00:00Z\nprovider = "echo"\nmodel = "echo"\n'
        'system_prompt = ""\n\n[[messages]]\nid = "m-1"\nrole = "user"\ncontent = "hello"\n'
        "created = 2025-01-01T10:00:00Z\n"
    )
    file = store.path("20250101-100000-abcd")
    file.write_text(old, "utf-8")
    session = store.load("20250101-100000-abcd")
    assert path(session) == ["hello"] and session.alternatives == []
    assert file.read_text("utf-8") == old  # reading never rewrites it


def test_two_writers_one_regenerating_keep_both_replies(store: SessionStore) -> None:
    session = conversation(store, "q1", "a1")
    other = SessionStore(store.root).load(session.id)
    keep_last_reply(store, session)
    answer(store, session, "a1 again")
    store.append(other, Message("user", "q2 from the other window"))  # merges with ours
    merged = SessionStore(store.root).load(session.id)
    assert path(merged) == ["q1", "a1 again", "q2 from the other window"]
    assert [m.content for m in merged.alternatives] == ["a1"]

"""The three-way merge: two writers of one conversation never undo each other's work."""

from __future__ import annotations

from copy import deepcopy
from datetime import UTC, datetime

from tui.store import Message, Session
from tui.store.merge import SyncState, merge, put

WHEN = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)


def base_session() -> Session:
    session = Session("s", "Title", WHEN, WHEN, "openai", "gpt")
    session.messages = [
        Message("user", "one", WHEN, "m-1"),
        Message("assistant", "re", WHEN, "m-2"),
    ]
    return session


def two_writers() -> tuple[Session, Session, SyncState]:
    """Ours and theirs, both from the same file; the state ours last saw."""
    ours = base_session()
    return ours, deepcopy(ours), SyncState.of(ours, (1, 2, 3))


def contents(session: Session) -> list[str]:
    return [m.content for m in session.messages]


def test_both_writers_new_messages_are_kept_theirs_first() -> None:
    ours, theirs, base = two_writers()
    theirs.messages.append(Message("user", "theirs", WHEN, "m-3"))
    ours.messages.append(Message("user", "ours", WHEN, "m-4"))
    merge(ours, theirs, base, set())
    assert contents(ours) == ["one", "re", "theirs", "ours"]


def test_a_message_we_changed_wins_and_one_they_changed_is_taken() -> None:
    ours, theirs, base = two_writers()
    held = ours.messages[0]
    held.content = "one, edited here"
    theirs.messages[1].content = "re, finished there"
    merge(ours, theirs, base, set())
    assert contents(ours) == ["one, edited here", "re, finished there"]
    assert ours.messages[0] is held  # callers keep the objects they hold


def test_removed_by_either_writer_stays_removed() -> None:
    ours, theirs, base = two_writers()
    del ours.messages[1]
    merge(ours, theirs, base, set())
    assert contents(ours) == ["one"]

    ours, theirs, base = two_writers()
    del theirs.messages[1]
    merge(ours, theirs, base, set())
    assert contents(ours) == ["one"]


def test_a_message_they_removed_comes_back_if_we_are_writing_it() -> None:
    ours, theirs, base = two_writers()
    del theirs.messages[1]
    merge(ours, theirs, base, {"m-2"})  # e.g. the reply we are streaming into
    assert contents(ours) == ["one", "re"]


def test_header_fields_merge_one_by_one() -> None:
    ours, theirs, base = two_writers()
    ours.title = "Renamed here"
    theirs.model = "switched-there"
    merge(ours, theirs, base, set())
    assert (ours.title, ours.model) == ("Renamed here", "switched-there")


def test_a_session_never_seen_on_disk_counts_as_all_ours() -> None:
    ours, theirs, _ = two_writers()
    ours.title, theirs.title = "Mine", "Theirs"
    merge(ours, theirs, SyncState.unknown(), set())
    assert ours.title == "Mine" and contents(ours) == ["one", "re"]


def test_put_replaces_the_message_with_its_id_or_appends() -> None:
    messages = base_session().messages
    put(messages, Message("assistant", "new text", WHEN, "m-2"))
    put(messages, Message("user", "three", WHEN, "m-3"))
    assert [m.content for m in messages] == ["one", "new text", "three"]

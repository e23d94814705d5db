"""The sessions index: a listing reads only the files that changed since the last one."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import tomli_w

from tui.store import INDEX_NAME, Message, Session, SessionStore
from tui.store.index import entry, newer_entry

WHEN = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    return SessionStore(tmp_path / "sessions")


def test_an_entry_holds_what_the_listing_shows_and_the_files_signature() -> None:
    session = Session("s", "Title", WHEN, WHEN, "openai", "gpt")
    session.messages = [Message("user", "hi", WHEN)]
    assert entry(session, (1, 2, 3)) == {
        "title": "Title",
        "provider": "openai",
        "model": "gpt",
        "created": "2026-11-22T10:00:00Z",
        "updated": "2026-11-22T10:00:00Z",
        "count": 1,
        "mtime_ns": 1,
        "size": 2,
        "ino": 3,
    }
    assert newer_entry(9, (1, 2, 3)) == {"newer": 9, "mtime_ns": 1, "size": 2, "ino": 3}


def test_files_another_tool_wrote_are_listed_with_their_counts(store: SessionStore) -> None:
    store.root.mkdir(parents=True)
    doc = {
        "title": "From elsewhere",
        "provider": "ollama",
        "model": "llama3.2",
        "updated": WHEN,
        "messages": [{"role": "user", "content": f"message {n}\n" * 20} for n in range(3)],
    }
    (store.root / "20261122-100000-else.toml").write_text(tomli_w.dumps(doc))

    [summary] = store.list()
    assert (summary.title, summary.count, summary.updated) == ("From elsewhere", 3, WHEN)


def test_a_newer_file_is_reported_on_every_listing_but_parsed_once(store: SessionStore) -> None:
    store.root.mkdir(parents=True)
    (store.root / "20261122-100000-beef.toml").write_text("schema = 5\n")
    first = SessionStore(store.root)
    assert first.list() == [] and first.parse_count == 1
    second = SessionStore(store.root)
    assert second.list() == [] and second.parse_count == 0
    assert len(second.problems) == 1 and "newer chatterm (schema 5)" in second.problems[0]


def test_the_index_is_not_rewritten_when_nothing_changed(store: SessionStore) -> None:
    session = store.new("echo", "echo")
    store.append(session, Message("user", "hello"))
    store.list()
    index = store.root / INDEX_NAME
    inode = index.stat().st_ino
    assert [s.id for s in SessionStore(store.root).list()] == [session.id]
    assert index.stat().st_ino == inode
    assert list(json.loads(index.read_text())) == [session.id]

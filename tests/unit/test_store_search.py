"""Search finds what a conversation says, however its file spells it, and reads only the
files that changed since the last search."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import tomli_w

from tui.store import SEARCH_NAME, Message, SessionStore


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    return SessionStore(tmp_path / "sessions")


def put(store: SessionStore, session_id: str, text: str) -> Path:
    store.root.mkdir(parents=True, exist_ok=True)
    path = store.root / f"{session_id}.toml"
    path.write_text(text, "utf-8")
    return path


def chat(store: SessionStore, *prompts: str) -> str:
    session = store.new("openai", "gpt-4o-mini")
    for prompt in prompts:
        store.append(session, Message("user", prompt))
    return session.id


def test_a_file_tomli_w_wrote_with_escaped_one_line_strings_is_searched(
    store: SessionStore,
) -> None:
    doc = {
        "schema": 1,
        "title": "Escapes",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "user", "content": 'line one\nthe Needle said "hi" \\o/\n\tindented'},
            {"role": "assistant", "content": "x" * 120},  # long: [[messages]] tables
        ],
    }
    text = tomli_w.dumps(doc)
    assert "\\n" in text and '\\"' in text and "[[messages]]" in text  # escaped, one line
    put(store, "20261122-100000-tomw", text)

    assert store.search("needle") == {"20261122-100000-tomw"}
    assert store.search('said "hi" \\o/') == {"20261122-100000-tomw"}
    assert store.search("one\nthe needle") == {"20261122-100000-tomw"}  # across its lines
    assert store.search("ESCAPES") == {"20261122-100000-tomw"}  # the title
    assert store.search("\\n") == set()  # the escape is how it is written, not what it says
    assert store.search("gpt-4o") == set()


def test_a_hand_written_file_is_searched_for_what_it_says(store: SessionStore) -> None:
    put(
        store,
        "20261122-100000-hand",
        """\
# written by hand
title = 'Trip plans'  # a literal string
provider = "echo"
model = "echo"
messages = [{ role = "user", content = "an inline Needle" }]
""",
    )
    put(
        store,
        "20261122-100000-more",
        '''\
provider = "echo"
model = "echo"

[[messages]]
role = "user"
content = """
Where should we \\
go in Zürich?"""
''',
    )
    assert store.search("trip") == {"20261122-100000-hand"}
    assert store.search("needle") == {"20261122-100000-hand"}
    assert store.search("we go in zürich") == {"20261122-100000-more"}  # the line joined
    assert store.search("echo") == set() and store.search("role") == set()


def test_text_never_matches_across_two_messages(store: SessionStore) -> None:
    chat(store, "the end of one", "start of the next")
    assert store.search("onestart") == set() and store.search("one\x00start") == set()
    assert store.search("one") and store.search("start")


def test_what_the_screen_shows_is_what_is_found(store: SessionStore) -> None:
    session_id = chat(store, "a nee\x1b[31mdle in colour")  # control sequences never show
    assert store.search("needle") == {session_id}


def test_a_warm_search_parses_nothing_and_a_changed_file_alone_is_read(
    store: SessionStore,
) -> None:
    ids = [chat(store, f"conversation {n}") for n in range(20)]
    cold = SessionStore(store.root)
    assert cold.search("conversation 7") == {ids[7]} and cold.parse_count == 20

    warm = SessionStore(store.root)
    assert warm.search("conversation 1") == {ids[1], *ids[10:20]} and warm.parse_count == 0
    session = warm.load(ids[3])
    warm.append(session, Message("user", "news"))
    (store.root / f"{ids[4]}.toml").unlink()
    before = warm.parse_count

    assert warm.search("news") == {ids[3]}
    assert warm.parse_count == before + 1
    assert ids[4] not in json.loads((store.root / SEARCH_NAME).read_text())


def test_the_search_cache_is_private_and_rebuilt_when_damaged(store: SessionStore) -> None:
    session_id = chat(store, "private words")
    store.search("words")
    cache = store.root / SEARCH_NAME
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    for damage in ["{", "[]", json.dumps({session_id: {"text": 5}}), json.dumps({"x": 1})]:
        cache.write_text(damage)
        assert SessionStore(store.root).search("words") == {session_id}


def test_a_corrupt_or_newer_file_is_not_found_and_left_where_it_is(store: SessionStore) -> None:
    good = chat(store, "needle here")
    corrupt = put(store, "20261122-100000-dead", "needle = [")
    newer = put(store, "20261122-100000-beef", "schema = 9\ntitle = 'needle'\n")

    assert store.search("needle") == {good}
    assert store.search("needle") == {good}  # from the cache, still not found
    assert corrupt.exists() and newer.exists()
    assert store.search("") == {good, "20261122-100000-dead", "20261122-100000-beef"}

"""Saved conversations: what a user would notice when files are read, written, merged, lost."""

from __future__ import annotations

import json
import os
import stat
import tomllib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui import store as store_module
from tui.sanitize import clean
from tui.store import (
    Message,
    Session,
    SessionCorrupt,
    SessionError,
    SessionNotFound,
    SessionStore,
    SessionUnsupported,
    default_root,
    export_json,
    export_markdown,
)

WHEN = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)

SMALL_FILE = """\
schema = 1
id = "{id}"
title = "{title}"
created = 2020-01-01T10:00:00Z
updated = {updated}
provider = "openai"
model = "gpt-4o-mini"

[[messages]]
id = "m-1"
role = "user"
content = "{content}"
created = 2020-01-01T10:00:00Z
"""


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    return SessionStore(tmp_path / "sessions")


def write_file(store: SessionStore, session_id: str, **values: str) -> Path:
    """A session file written directly, as another program (or an older chatterm) would."""
    values = {"title": "hello", "content": "hi there", "updated": "2020-01-01T10:01:00Z"} | values
    path = store.root / f"{session_id}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SMALL_FILE.format(id=session_id, **values), "utf-8")
    return path


def chat(store: SessionStore, *prompts: str) -> Session:
    """A conversation with one complete reply per prompt."""
    session = store.new("openai", "gpt-4o-mini")
    for prompt in prompts:
        store.append(session, Message("user", prompt))
        reply = Message("assistant", f"re: {prompt}", provider="openai", model="gpt-4o-mini")
        reply.status = "complete"
        store.append(session, reply)
    return session


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*.tmp")]


# -- round trips --------------------------------------------------------------------------------
def test_every_field_and_unknown_keys_survive_a_round_trip(store: SessionStore) -> None:
    session = store.new("openai", "gpt-4o-mini", system_prompt="Answer briefly.")
    session.extra = {"future_flag": True, "tags": ["a", "b"], "sync": {"peer": "laptop"}}
    user = Message("user", "What is TOML?", created=WHEN, extra={"attachments": ["x.png"]})
    reply = Message(
        "assistant",
        "A config format.",
        created=WHEN,
        provider="openai",
        model="gpt-4o-mini",
        status="error",
        error="connection reset",
        extra={"usage": {"prompt_tokens": 12, "detail": {"cached": [1, 2]}}, "ms": 840},
    )
    store.append(session, user)
    store.append(session, reply)
    session.title = "Renamed"
    store.save(session)

    loaded = SessionStore(store.root).load(session.id)

    assert loaded == session
    assert loaded.messages[1].extra["usage"]["detail"] == {"cached": [1, 2]}
    assert loaded.extra["sync"] == {"peer": "laptop"}


def test_unknown_keys_written_by_someone_else_are_kept_on_rewrite(store: SessionStore) -> None:
    path = write_file(store, "20261122-100000-aaaa")
    text = path.read_text().replace(
        'model = "gpt-4o-mini"\n', 'model = "gpt-4o-mini"\nfolder = "work"\n\n[ui]\npinned = true\n'
    )
    path.write_text(text + 'rating = 5\n\n[messages.meta]\nsource = "voice"\n')
    session = store.load("20261122-100000-aaaa")
    store.append(session, Message("user", "more"))

    doc = tomllib.loads(path.read_text())
    assert doc["folder"] == "work" and doc["ui"] == {"pinned": True}
    assert doc["messages"][0]["rating"] == 5
    assert doc["messages"][0]["meta"] == {"source": "voice"}
    assert [m["content"] for m in doc["messages"]] == ["hi there", "more"]


def test_file_layout_is_the_documented_one(store: SessionStore) -> None:
    session = chat(store, "hi")
    text = store.path(session.id).read_text()
    doc = tomllib.loads(text)

    assert text.startswith("schema = 2\n")
    assert text.count("[[messages]]") == 2  # even short messages are tables, not inline
    assert f"created = {session.created:%Y-%m-%dT%H:%M:%S}Z" in text
    assert set(doc["messages"][0]) == {"id", "role", "content", "created"}  # user: no empties
    assert set(doc["messages"][1]) == {
        "id",
        "role",
        "content",
        "created",
        "provider",
        "model",
        "status",
        "error",
    }


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.text(), title=st.text(min_size=1, max_size=80), error=st.text(max_size=40))
def test_any_text_comes_back_as_written_minus_control_characters(
    store: SessionStore, content: str, title: str, error: str
) -> None:
    special = content + '"""' + "'''" + "\\" + "😀" + "שלום עולם" + "\\u0041" + "\r\n"
    session = store.new("openai", "gpt-4o-mini", system_prompt=content)
    store.append(session, Message("user", special))
    store.append(session, Message("assistant", content, status="error", error=error))
    session.title = title
    store.save(session)

    loaded = store.load(session.id)

    assert loaded.title == clean(title)
    assert loaded.system_prompt == clean(content)
    assert [m.content for m in loaded.messages] == [clean(special), clean(content)]
    assert loaded.messages[1].error == clean(error)


def test_a_one_megabyte_reply_round_trips(store: SessionStore) -> None:
    big = ('line with "quotes" and \\ backslashes — ünïcödé 😀\n' * 20_000)[:1_000_000]
    session = store.new("openai", "gpt-4o-mini")
    store.append(session, Message("user", "write a lot"))
    store.append(session, Message("assistant", big, status="complete"))

    assert store.load(session.id).messages[1].content == big


# -- the file format: text of several lines, and the fast reader --------------------------------
REPLY = (
    "## Plan\n\nSteps:\n\n- one\n- two with a \\ backslash and \"quotes\"\n\n```py\nx = '1'\n```\n"
)


def test_text_of_several_lines_is_written_as_its_lines(store: SessionStore) -> None:
    session = store.new("openai", "gpt-4o-mini", system_prompt="Be brief.\nUse lists.")
    store.append(session, Message("user", "first line\nsecond line"))
    store.append(session, Message("assistant", REPLY, status="error", error="cut\noff"))

    text = store.path(session.id).read_text()

    # A person reading the file sees the conversation, not "\n" escapes.
    assert "content = '''\nfirst line\nsecond line'''\n" in text
    assert f"content = '''\n{REPLY}'''\n" in text
    assert "system_prompt = '''\nBe brief.\nUse lists.'''\n" in text
    assert "error = '''\ncut\noff'''\n" in text
    assert 'content = "' not in text
    doc = tomllib.loads(text)  # any TOML reader gets the text back exactly
    assert [m["content"] for m in doc["messages"]] == ["first line\nsecond line", REPLY]
    loaded = SessionStore(store.root).load(session.id)
    assert [m.content for m in loaded.messages] == ["first line\nsecond line", REPLY]
    assert (loaded.system_prompt, loaded.messages[1].error) == ("Be brief.\nUse lists.", "cut\noff")


@pytest.mark.parametrize(
    "content",
    [
        "it holds '''\nits own delimiter",
        "ends with a quote\n'",
        "ends with two quotes\n''",
        "windows\r\nline ends",
        "a NUL \x00\nbyte",
        "a tab\tstays raw\n but ESC \x1b[31m and DEL \x7f do not",
        "a form feed \x0c\nhere",
    ],
)
def test_text_a_literal_string_cannot_hold_is_written_escaped(
    store: SessionStore, content: str
) -> None:
    session = store.new("openai", "gpt-4o-mini")
    store.append(session, Message("user", content))

    text = store.path(session.id).read_text()

    [line] = [line for line in text.splitlines() if line.startswith("content = ")]
    assert line.startswith('content = "')  # one line, with escapes
    assert tomllib.loads(text)["messages"][0]["content"] == content
    assert SessionStore(store.root).load(session.id).messages[0].content == clean(content)


CONTROLS = {chr(c) for c in [*range(0x09), *range(0x0B, 0x20), 0x7F]}


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(alphabet=st.characters(max_codepoint=0x7F)))
def test_plain_ascii_text_read_back_loses_only_its_control_characters(
    store: SessionStore, text: str
) -> None:
    session = store.new("openai", "gpt-4o-mini")
    store.append(session, Message("user", f"{text}\nline"))

    content = SessionStore(store.root).load(session.id).messages[0].content

    if CONTROLS.isdisjoint(text):
        assert content == f"{text}\nline"  # kept exactly (the fast path)
    else:
        assert CONTROLS.isdisjoint(content) and content.endswith("\nline")


def test_files_written_before_multi_line_strings_still_load(store: SessionStore) -> None:
    escaped = "line one\\nline two\\n\\n```py\\nx = 1\\n```\\n"
    write_file(store, "20261122-100000-0ld0", content=escaped)

    session = store.load("20261122-100000-0ld0")

    assert session.messages[0].content == "line one\nline two\n\n```py\nx = 1\n```\n"
    store.append(session, Message("assistant", "re\nply", status="complete"))
    assert "content = '''\nre\nply'''" in store.path(session.id).read_text()
    assert [m.content for m in store.load(session.id).messages][1] == "re\nply"


TRICKY = st.lists(
    st.characters(blacklist_categories=("Cs",))
    | st.sampled_from(["\n", "'", "''", "'''", '"', "\\", "\\n", "\t", "\r\n", "\x7f", "\x85"]),
    max_size=30,
).map("".join)


@settings(max_examples=150, deadline=None)
@given(texts=st.lists(TRICKY, min_size=1, max_size=4), title=TRICKY, system=TRICKY)
def test_tomllib_reads_every_file_the_store_writes_exactly(
    texts: list[str], title: str, system: str
) -> None:
    session = Session("s", title, WHEN, WHEN, "openai", "gpt-4o-mini", system)
    session.messages = [
        Message("assistant" if n % 2 else "user", text, WHEN, f"m-{n}", error=text[:5])
        for n, text in enumerate(texts)
    ]
    doc = tomllib.loads(store_module.codec.dump(session).decode("utf-8"))

    # Literal strings for text of several lines, escapes for the rest: the same text back.
    assert (doc["title"], doc.get("system_prompt", "")) == (title, system)
    assert [m["content"] for m in doc["messages"]] == texts
    assert [m.get("error", "") for m in doc["messages"]] == [t[:5] for t in texts]


def test_a_file_tomllib_refuses_is_refused_though_json_would_read_it(
    store: SessionStore,
) -> None:
    write_file(store, "20261122-100000-bad0", content="\\ud83d\\ude00 and a\\/b")

    with pytest.raises(SessionCorrupt):
        store.load("20261122-100000-bad0")


def test_a_schema_line_inside_a_message_does_not_make_a_broken_file_look_newer(
    store: SessionStore,
) -> None:
    session = chat(store, "see below:\nschema = 99\nthat was all")
    path = store.path(session.id)
    broken = path.read_text().replace("schema = 1\n", "").replace("[[messages]]", "[[messages]", 1)
    path.write_text(broken)

    with pytest.raises(SessionCorrupt):  # set aside, where a newer file would be left alone
        SessionStore(store.root).load(session.id)


def test_control_sequences_in_a_file_never_reach_the_screen(store: SessionStore) -> None:
    osc52 = "\\u001b]52;c;aGVsbG8=\\u0007"
    path = write_file(store, "20261122-100000-bbbb", title=f"t{osc52}", content="x\\u001b[2Jy")
    path.write_text(path.read_text().replace('"gpt-4o-mini"', f'"gpt{osc52}"'))

    session = store.load("20261122-100000-bbbb")

    assert (session.title, session.model, session.messages[0].content) == ("t", "gpt", "xy")
    assert store.list()[0].title == "t"


# -- titles, history, new sessions --------------------------------------------------------------
def test_a_new_conversation_leaves_no_file_until_its_first_message(store: SessionStore) -> None:
    session = store.new("echo", "echo")
    assert not store.root.exists()
    store.append(session, Message("user", "hello"))
    assert store.path(session.id).exists()
    assert store.latest() == session.id


def test_the_first_prompt_names_the_conversation(store: SessionStore) -> None:
    session = chat(store, "\n  Explain   TCP slow start " + "x" * 80 + "\nsecond line", "later")
    assert session.title.startswith("Explain TCP slow start x")
    assert len(session.title) == 60 and session.title.endswith("…")
    assert store.load(session.id).title == session.title


def test_history_puts_the_system_prompt_first_and_skips_empty_replies(
    store: SessionStore,
) -> None:
    session = store.new("openai", "m", system_prompt="Be terse.")
    session.messages = [
        Message("user", "one"),
        Message("assistant", "", status="error", error="HTTP 500"),
        Message("user", "two"),
        Message("assistant", "partial", status="cancelled"),
        Message("assistant", "", status="streaming"),
    ]
    assert session.history() == [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "one"},
        {"role": "user", "content": "two"},
        {"role": "assistant", "content": "partial"},
    ]


def test_a_new_session_whose_id_is_taken_gets_a_fresh_one(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    existing = chat(store, "first conversation")
    monkeypatch.setattr(store_module.sessions, "new_session_id", lambda: existing.id)
    clash = store.new("openai", "m")
    monkeypatch.undo()

    store.append(clash, Message("user", "second conversation"))

    assert clash.id != existing.id
    assert store.load(existing.id).messages[0].content == "first conversation"
    assert store.load(clash.id).messages[0].content == "second conversation"


# -- atomic, private writes ---------------------------------------------------------------------
def test_conversations_are_readable_only_by_their_owner(store: SessionStore) -> None:
    session = chat(store, "secret")
    store.list()
    assert stat.S_IMODE(store.path(session.id).stat().st_mode) == 0o600
    assert stat.S_IMODE((store.root / ".index.json").stat().st_mode) == 0o600
    assert stat.S_IMODE(store.root.stat().st_mode) == 0o700


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_temp_file(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = chat(store, "keep me")
    path = store.path(session.id)
    before = path.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(SessionError, match="No space left") as info:
        store.append(session, Message("user", "lost"))

    assert str(path) in str(info.value)
    assert path.read_bytes() == before
    assert leftovers(store.root) == []


# -- damaged and future files -------------------------------------------------------------------
BAD_FILES = {
    "bad TOML": 'schema = 1\ntitle = "unterminated\n',
    "wrong type": SMALL_FILE.replace('content = "{content}"', "content = 3"),
    "time of the wrong type": SMALL_FILE.replace(
        "created = 2020-01-01T10:00:00Z\nupdated", "created = true\nupdated"
    ),
    "role of the wrong type": SMALL_FILE.replace('role = "user"', "role = 7"),
    "not UTF-8": "schema = 1\ntitle = \udcff\n",
}


@pytest.mark.parametrize("damage", list(BAD_FILES))
def test_corrupt_session_is_set_aside_and_others_still_load(
    store: SessionStore, damage: str
) -> None:
    good = chat(store, "still here")
    bad_path = store.path("20261122-100000-dead")
    text = BAD_FILES[damage].format(id="x", title="t", content="c", updated="2020-01-01T10:01:00Z")
    bad_bytes = text.encode("utf-8", "surrogateescape")
    bad_path.write_bytes(bad_bytes)

    with pytest.raises(SessionCorrupt) as info:
        SessionStore(store.root).load("20261122-100000-dead")

    moved = store.root / "corrupt" / "20261122-100000-dead.toml"
    assert str(moved) in str(info.value) and "\n" not in str(info.value)
    assert moved.read_bytes() == bad_bytes
    assert not bad_path.exists()
    assert [s.id for s in store.list()] == [good.id]
    assert store.load(good.id).messages[0].content == "still here"


def test_listing_reports_a_corrupt_file_and_lists_the_rest(store: SessionStore) -> None:
    good = chat(store, "fine")
    store.path("20261122-100000-dead").write_text("this is not toml = = =")

    summaries = store.list()

    assert [s.id for s in summaries] == [good.id]
    assert len(store.problems) == 1
    assert "20261122-100000-dead" in store.problems[0] and "corrupt" in store.problems[0]
    assert store.list() and store.problems == []  # reported once: the file has moved


def test_a_second_corrupt_copy_does_not_overwrite_the_first(store: SessionStore) -> None:
    store.root.mkdir()
    for text in ("first broken [", "second broken ["):
        store.path("20261122-100000-dead").write_text(text)
        with pytest.raises(SessionCorrupt):
            store.load("20261122-100000-dead")
    corrupt = store.root / "corrupt"
    assert (corrupt / "20261122-100000-dead.toml").read_text() == "first broken ["
    assert (corrupt / "20261122-100000-dead.1.toml").read_text() == "second broken ["


@pytest.mark.parametrize(
    "text",
    [
        SMALL_FILE.replace("schema = 1", "schema = 3"),
        "schema = 3\nwhen = 2027-01-01 10:00\n",  # TOML 1.1, which we cannot read
    ],
)
def test_a_session_from_a_newer_chatterm_is_left_untouched(store: SessionStore, text: str) -> None:
    good = chat(store, "ours")
    path = store.path("20261122-100000-beef")
    original = text.format(id="x", title="t", content="c", updated="2020-01-01T10:01:00Z")
    path.write_text(original)

    with pytest.raises(SessionUnsupported, match="newer"):
        store.load("20261122-100000-beef")
    assert [s.id for s in store.list()] == [good.id]
    assert len(store.problems) == 1 and "newer" in store.problems[0]
    assert [s.id for s in store.list()] == [good.id] and len(store.problems) == 1

    assert path.read_text() == original
    assert not (store.root / "corrupt").exists()


def test_a_newer_chatterm_rewriting_an_open_session_is_never_overwritten(
    store: SessionStore,
) -> None:
    session = chat(store, "hello")
    path = store.path(session.id)
    newer = path.read_text().replace("schema = 2", "schema = 3") + "\nnew = 1\n"
    path.write_text(newer)

    with pytest.raises(SessionUnsupported):
        store.append(session, Message("user", "more"))
    assert path.read_text() == newer


def test_an_open_session_corrupted_on_disk_is_set_aside_and_saved_again(
    store: SessionStore,
) -> None:
    session = chat(store, "hello")
    path = store.path(session.id)
    path.write_text("garbage [")

    store.append(session, Message("user", "again"))

    assert (store.root / "corrupt" / path.name).read_text() == "garbage ["
    assert [m.content for m in store.load(session.id).messages] == ["hello", "re: hello", "again"]
    assert "corrupt" in store.problems[0]


# -- concurrent writers (two windows in one process; real processes in test_store_concurrency) ---
def test_streaming_keeps_a_message_another_window_added(store: SessionStore) -> None:
    here = store.new("openai", "m")
    store.append(here, Message("user", "question"))
    reply = Message("assistant", "", status="streaming")
    store.append(here, reply)

    there_store = SessionStore(store.root)
    there = there_store.load(here.id)
    there_store.append(there, Message("user", "from the other window"))

    reply.content, reply.status = "answer", "complete"
    store.update_message(here, reply)

    expected = ["question", "answer", "from the other window"]
    assert [m.content for m in here.messages] == expected
    assert here.messages[1] is reply
    assert [m.content for m in store.load(here.id).messages] == expected


def test_a_removed_exchange_stays_removed_when_another_window_wrote(store: SessionStore) -> None:
    here = chat(store, "keep", "drop")
    there_store = SessionStore(store.root)
    there = there_store.load(here.id)
    there_store.append(there, Message("user", "theirs"))

    del here.messages[2:]  # edit-and-resend removes the last exchange
    store.save(here)

    assert [m.content for m in store.load(here.id).messages] == ["keep", "re: keep", "theirs"]


def test_a_rename_elsewhere_is_not_undone_by_the_open_conversation(store: SessionStore) -> None:
    here = chat(store, "hello")
    SessionStore(store.root).rename(here.id, "Renamed elsewhere")

    store.append(here, Message("user", "more"))

    assert here.title == "Renamed elsewhere"
    assert store.load(here.id).title == "Renamed elsewhere"


def test_a_finished_reply_is_not_reverted_by_a_stale_window(store: SessionStore) -> None:
    here = store.new("openai", "m")
    store.append(here, Message("user", "q"))
    with store.streaming(here):  # as Exchange does for the whole reply
        reply = Message("assistant", "par", status="streaming")
        store.append(here, reply)
        stale = SessionStore(store.root).load(here.id)
        reply.content, reply.status = "partial then done", "complete"
        store.update_message(here, reply)

    stale.model = "other-model"  # the stale window switches model: a whole-session save
    SessionStore(store.root).save(stale)

    loaded = store.load(here.id)
    assert (loaded.model, loaded.messages[1].content) == ("other-model", "partial then done")


def test_streaming_updates_do_not_reread_the_file(store: SessionStore) -> None:
    session = store.new("openai", "m")
    session.messages = [Message("user", f"message {i} " + "x" * 200) for i in range(1000)]
    store.save(session)
    reply = Message("assistant", "", status="streaming")
    store.append(session, reply)
    before = store.parse_count
    for step in range(10):
        reply.content += f"chunk {step} "
        store.update_message(session, reply)
    assert store.parse_count == before
    assert store.load(session.id).messages[-1].content == reply.content


def test_a_session_deleted_elsewhere_is_saved_again_while_open(store: SessionStore) -> None:
    session = chat(store, "hello")
    SessionStore(store.root).delete(session.id)
    store.append(session, Message("user", "still typing"))
    assert len(store.load(session.id).messages) == 3


# -- listing and its index ----------------------------------------------------------------------
def test_list_shows_newest_first_with_counts(store: SessionStore) -> None:
    write_file(store, "20261122-100000-0001", title="old", updated="2020-01-01T10:00:00Z")
    write_file(store, "20261122-100000-0002", title="new", updated="2020-01-02T10:00:00Z")
    summaries = store.list()
    assert [(s.title, s.count) for s in summaries] == [("new", 1), ("old", 1)]
    assert summaries[0].path == store.path("20261122-100000-0002")
    assert summaries[0].updated == datetime(2020, 1, 2, 10, tzinfo=UTC)
    assert store.latest() == "20261122-100000-0002"


def test_listing_thousands_of_sessions_parses_nothing_when_nothing_changed(
    store: SessionStore,
) -> None:
    for n in range(2000):
        write_file(store, f"20261122-100000-{n:04x}", title=f"chat {n}")

    cold = SessionStore(store.root)
    assert len(cold.list()) == 2000 and cold.parse_count == 2000

    warm = SessionStore(store.root)
    summaries = warm.list()
    assert len(summaries) == 2000 and warm.parse_count == 0
    index_inode = (store.root / ".index.json").stat().st_ino

    changed = warm.load("20261122-100000-0007")
    warm.append(changed, Message("user", "news"))
    (store.root / "20261122-100000-0009.toml").unlink()
    before = warm.parse_count
    summaries = warm.list()

    assert warm.parse_count == before + 1  # only the changed file
    assert len(summaries) == 1999 and summaries[0].id == "20261122-100000-0007"
    assert summaries[0].count == 2
    assert "20261122-100000-0009" not in json.loads((store.root / ".index.json").read_text())
    assert (store.root / ".index.json").stat().st_ino != index_inode  # rewritten


def test_a_damaged_index_is_rebuilt(store: SessionStore) -> None:
    write_file(store, "20261122-100000-0001")
    store.list()
    index = store.root / ".index.json"
    index.write_text('{"20261122-100000-0001": {"title": 5}, "x": [')
    assert [s.title for s in store.list()] == ["hello"]
    index.write_text('{"20261122-100000-0001": {"title": 5}}')
    assert [s.title for s in store.list()] == ["hello"]
    assert json.loads(index.read_text())["20261122-100000-0001"]["title"] == "hello"


def test_list_of_an_empty_or_missing_folder_is_empty(store: SessionStore) -> None:
    assert store.list() == [] and store.latest() is None
    assert not store.root.exists()


# -- delete, rename, search -------------------------------------------------------------------
def test_deleted_session_goes_to_the_trash(store: SessionStore) -> None:
    session = chat(store, "bye")
    content = store.path(session.id).read_bytes()

    where = store.delete(session.id)

    assert where == store.root / "trash" / f"{session.id}.toml"
    assert where.read_bytes() == content
    assert store.list() == []
    with pytest.raises(SessionNotFound):
        store.load(session.id)
    with pytest.raises(SessionNotFound):
        store.delete(session.id)


def test_rename_changes_the_title_and_nothing_else(store: SessionStore) -> None:
    session = chat(store, "hello")
    store.rename(session.id, "Greetings")
    loaded = store.load(session.id)
    assert loaded.title == "Greetings"
    assert loaded.messages == session.messages
    assert store.list()[0].title == "Greetings"


def test_search_finds_titles_and_contents_in_any_case(store: SessionStore) -> None:
    one = chat(store, "How do I bake BREAD?")
    two = chat(store, "Tell me about Zürich")
    store.rename(two.id, "Swiss trip")
    three = chat(store, 'She said "hello\nworld" \\o/')

    assert store.search("bread") == {one.id}
    assert store.search("SWISS") == {two.id}
    assert store.search("zürich") == {two.id}
    assert store.search('"hello\nworld"') == {three.id}
    assert store.search("\\o/") == {three.id}
    assert store.search("") == {one.id, two.id, three.id}


def test_search_ignores_keys_ids_and_model_names(store: SessionStore) -> None:
    chat(store, "plain words")
    assert store.search("role") == set()
    assert store.search("gpt-4o") == set()
    assert store.search("assistant") == set()
    assert store.search("m-") == set()


def test_search_finds_words_on_any_line_of_a_message_and_nowhere_else(
    store: SessionStore,
) -> None:
    one = chat(store, "intro\n[a link](https://x)\nthe Needle is here\nend")
    other = store.new("openai", "gpt-4o-mini", system_prompt="find the needle\nplease")
    store.append(other, Message("user", "plain\ntext"))
    store.append(other, Message("assistant", "", status="error", error="needle\nin an error"))
    quoted = chat(store, "it's '''quoted''' needle")  # one line holding the delimiter
    chat(store, "nee\ndle, cut by a line")

    assert store.search("needle") == {one.id, quoted.id}
    assert store.search("here\nEND") == {one.id}  # across lines of one message
    assert store.search("please") == set()  # the system prompt is not searched
    assert store.search("content") == set()  # nor the keys around the text
    assert store.search("''") == {quoted.id}


def test_search_finds_a_title_below_a_prompt_with_a_line_like_a_table(
    store: SessionStore,
) -> None:
    path = write_file(store, "20261122-100000-0002", title="the needle title")
    text = path.read_text().replace('title = "the needle title"\n', "")
    text = text.replace(
        'model = "gpt-4o-mini"\n',
        "model = \"gpt-4o-mini\"\nsystem_prompt = '''\n[rules]\nbe kind'''\n"
        'title = "the needle title"\n',
    )
    path.write_text(text)
    assert tomllib.loads(text)["title"] == "the needle title"

    assert store.search("needle") == {"20261122-100000-0002"}


def test_search_reads_hand_written_multiline_strings(store: SessionStore) -> None:
    path = write_file(store, "20261122-100000-0001")
    path.write_text(path.read_text().replace('"hi there"', '"""\nfirst\nNeedle here\n"""'))
    assert store.search("needle") == {"20261122-100000-0001"}
    assert store.search("model") == set()


# -- export, ids, root --------------------------------------------------------------------------
def test_markdown_export_has_a_heading_per_message(store: SessionStore) -> None:
    session = chat(store, "Why is the sky blue?")
    session.messages.append(Message("assistant", "", provider="openai", status="error"))
    session.messages[-1].error = "HTTP 500"

    text = export_markdown(session)

    assert text.startswith("# Why is the sky blue?\n")
    assert "\n### user\n\nWhy is the sky blue?\n" in text
    assert "\n### assistant (openai/gpt-4o-mini, complete)\n\nre: Why is the sky blue?\n" in text
    assert "### assistant (openai, error)" in text and "> error: HTTP 500" in text


def test_json_export_carries_every_message(store: SessionStore) -> None:
    session = chat(store, "one", "two")
    doc = json.loads(export_json(session))
    assert doc["id"] == session.id and doc["title"] == "one"
    assert [m["content"] for m in doc["messages"]] == ["one", "re: one", "two", "re: two"]
    assert doc["messages"][1]["status"] == "complete"
    assert doc["created"].endswith("Z")
    assert "params" not in doc
    session.params = {"temperature": 0.2, "max_tokens": 50}
    assert json.loads(export_json(session))["params"] == {"temperature": 0.2, "max_tokens": 50}


@pytest.mark.parametrize(
    "bad_id", ["../escape", "..", ".", "", "a/b", "/etc/passwd", "x.toml", "a\x00b", "id\n", "é"]
)
def test_ids_that_could_reach_outside_the_folder_are_rejected(
    store: SessionStore, bad_id: str
) -> None:
    with pytest.raises(SessionNotFound):
        store.path(bad_id)
    with pytest.raises(SessionNotFound):
        store.load(bad_id)
    with pytest.raises(SessionNotFound):
        store.delete(bad_id)


def test_default_root_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATTERM_DATA_DIR", str(tmp_path / "mine"))
    assert default_root() == tmp_path / "mine" / "sessions"
    monkeypatch.delenv("CHATTERM_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_root() == tmp_path / "xdg" / "chatterm" / "sessions"


def test_a_hand_built_copy_of_a_session_merges_instead_of_overwriting(store: SessionStore) -> None:
    session = chat(store, "hello")
    copy = replace(session, title="Copied", messages=[Message("user", "from the copy")])

    store.save(copy)

    loaded = store.load(session.id)
    assert copy.id == session.id and loaded.title == "Copied"
    assert [m.content for m in loaded.messages] == ["hello", "re: hello", "from the copy"]


HOSTILE_FILES = {
    "nested 5000 deep": "deep = " + "[" * 5000 + "]" * 5000 + "\n" + SMALL_FILE,
    "date with no UTC equivalent": SMALL_FILE.replace(
        "created = 2020-01-01T10:00:00Z\nupdated", "created = 0001-01-01T00:00:00+01:00\nupdated"
    ),
}


@pytest.mark.parametrize("hostile", list(HOSTILE_FILES))
def test_hostile_files_are_set_aside_not_crashed_on(store: SessionStore, hostile: str) -> None:
    store.root.mkdir()
    path = store.path("20261122-100000-0bad")
    path.write_text(
        HOSTILE_FILES[hostile].format(
            id="x", title="t", content="c", updated="2020-01-01T10:01:00Z"
        )
    )
    assert store.list() == [] and len(store.problems) == 1
    assert (store.root / "corrupt" / path.name).exists()


# -- ids by prefix (what `sessions show`, `-s`, `export` and `rm` take) -------------------------
def test_a_unique_start_of_an_id_finds_the_conversation(store: SessionStore) -> None:
    write_file(store, "20261122-101400-aaaa")
    write_file(store, "20261122-101400-bbbb")
    write_file(store, "20261123-090000-cccc")
    assert store.resolve("20261123") == "20261123-090000-cccc"
    assert store.resolve("20261122-101400-b") == "20261122-101400-bbbb"
    assert store.resolve("20261122-101400-aaaa") == "20261122-101400-aaaa"


def test_an_ambiguous_prefix_names_every_match(store: SessionStore) -> None:
    write_file(store, "20261122-101400-aaaa")
    write_file(store, "20261122-101400-bbbb")
    with pytest.raises(SessionNotFound) as info:
        store.resolve("20261122")
    message = str(info.value)
    assert "20261122-101400-aaaa" in message and "20261122-101400-bbbb" in message
    assert "matches 2" in message


def test_a_prefix_nothing_starts_with_is_not_found(store: SessionStore) -> None:
    write_file(store, "20261122-101400-aaaa")
    with pytest.raises(SessionNotFound, match="no saved conversation 2025"):
        store.resolve("2025")
    with pytest.raises(SessionNotFound):
        store.resolve("../20261122")

"""Attachments in the session file: saved beside the text sent, read back, merged, exported,
searched; and files without them read as before."""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tui import attachments as att
from tui.store import Message, Session, SessionStore, codec, export_json, export_markdown
from tui.store.errors import Invalid
from tui.store.model import Attachment

WHEN = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)
MTIME = datetime(2026, 1, 1, tzinfo=UTC)
NOTES = b'def f():\n    return "```"\n'


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    return SessionStore(tmp_path / "sessions")


def prompt_with_files(tmp_path: Path) -> Message:
    (tmp_path / "notes.py").write_bytes(NOTES)
    notes = att.read_file(str(tmp_path / "notes.py"), limit=4096)
    piped = att.from_piped(b"line one\n", limit=4096)
    content, records = att.compose("Explain these.", [notes, piped])
    return Message("user", content, WHEN, "m-1", attachments=records)


def conversation(tmp_path: Path) -> Session:
    session = Session("s-1", "Files", WHEN, WHEN, "echo", "echo")
    session.messages = [
        prompt_with_files(tmp_path),
        Message("assistant", "They are short.", WHEN, "m-2", "echo", "echo", "complete"),
    ]
    return session


def test_attachments_are_saved_beside_the_text_sent_and_read_back(
    store: SessionStore, tmp_path: Path
) -> None:
    session = conversation(tmp_path)
    store.save(session)
    saved = tomllib.loads(store.path("s-1").read_text("utf-8"))
    [prompt, _reply] = saved["messages"]
    assert prompt["content"].startswith("Explain these.\n\n`notes.py`:\n````python\n")
    notes, piped = prompt["attachments"]
    assert notes["path"] == str(tmp_path / "notes.py") and notes["name"] == "notes.py"
    assert notes["size"] == len(NOTES)
    assert notes["sha256"] == hashlib.sha256(NOTES).hexdigest()
    assert (piped["name"], piped["path"], piped["size"]) == ("stdin", "-", 9)
    again = SessionStore(store.root).load("s-1")
    assert again.messages == session.messages
    assert again.messages[0].typed == "Explain these."
    # Later turns send the files again: the history holds the text sent, blocks and all.
    assert again.history()[0]["content"] == session.messages[0].content


def test_the_text_sent_is_what_the_file_gives_again(tmp_path: Path) -> None:
    message = prompt_with_files(tmp_path)
    [notes, _] = message.attachments
    again = att.read_file(notes.path, limit=4096)
    assert again.sha256 == notes.sha256
    assert again.block in message.content


def test_files_with_attachments_take_the_fast_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = conversation(tmp_path)
    data = codec.dump(session)
    assert data.count(b"\n[[messages.attachments]]\n") == 2

    def refuse(text: str) -> dict:
        raise AssertionError("tomllib was asked")

    monkeypatch.setattr(tomllib, "loads", refuse)
    assert codec.parse_document(data, "s-1", MTIME) == session


def test_an_attachments_unknown_keys_and_tables_survive_a_rewrite(tmp_path: Path) -> None:
    session = conversation(tmp_path)
    session.messages[0].extra = {"rating": 5, "ui": {"pinned": True}}
    records = session.messages[0].attachments
    records[0] = replace(records[0], extra={"lang": "text/x-python", "seen": {"by": "me"}})
    data = codec.dump(session)
    assert codec.parse_document(data, "s-1", MTIME) == session
    assert tomllib.loads(data.decode())["messages"][0]["rating"] == 5  # still the message's


def test_a_file_without_attachments_reads_and_writes_as_before(store: SessionStore) -> None:
    raw = (
        b'schema = 1\nid = "old"\ntitle = "Old"\ncreated = 2026-11-22T10:00:00Z\n'
        b'updated = 2026-11-22T10:00:00Z\nprovider = "echo"\nmodel = "echo"\n\n'
        b'[[messages]]\nid = "m-1"\nrole = "user"\ncontent = "hi"\n'
        b"created = 2026-11-22T10:00:00Z\n"
    )
    session = codec.parse_document(raw, "old", MTIME)
    assert session.messages[0].attachments == [] and session.messages[0].typed == "hi"
    assert b"attachments" not in codec.dump(session)


def test_a_hand_written_attachment_needs_only_a_name() -> None:
    raw = b"""\
[[messages]]
role = "user"
content = "see the file"

[[messages.attachments]]
path = "/home/me/plan.md"
"""
    [message] = codec.parse_document(raw, "h", MTIME).messages
    assert message.attachments == [Attachment(name="plan.md", path="/home/me/plan.md")]
    assert message.typed == "see the file"  # no chars: nothing of the text is a block


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ('[[messages.attachments]]\nname = "a"\nsize = -1', "attachments[0].size"),
        ('[[messages.attachments]]\nname = "a"\nchars = "12"', "attachments[0].chars"),
        ("[[messages.attachments]]\nname = 5", "attachments[0].name: expected a string"),
    ],
)
def test_an_unusable_attachment_record_is_named(table: str, words: str) -> None:
    raw = f'[[messages]]\nrole = "user"\ncontent = "x"\n{table}\n'.encode()
    with pytest.raises(Invalid, match=words.replace("[", r"\[")):
        codec.parse_document(raw, "h", MTIME)


@pytest.mark.parametrize("value", ['"notes.py"', '["x.png"]', "[]", "3"])
def test_a_key_named_attachments_that_holds_no_tables_is_somebodys_own(value: str) -> None:
    raw = f'[[messages]]\nrole = "user"\ncontent = "x"\nattachments = {value}\n'.encode()
    [message] = codec.parse_document(raw, "h", MTIME).messages
    assert message.attachments == [] and message.extra == {
        "attachments": tomllib.loads(f"v = {value}")["v"]
    }
    assert codec.parse_document(
        codec.dump(Session("h", "", WHEN, WHEN, "", "", messages=[message])), "h", MTIME
    ).messages == [message]


def test_a_name_or_path_with_control_characters_is_cleaned_on_reading(tmp_path: Path) -> None:
    session = conversation(tmp_path)
    records = session.messages[0].attachments
    records[0] = replace(records[0], name="evil\x1b]52;c;aGk=\x07.py")
    again = codec.parse_document(codec.dump(session), "s-1", MTIME)
    assert again.messages[0].attachments[0].name == "evil.py"


def test_exports_keep_the_records_and_the_text_sent(tmp_path: Path) -> None:
    session = conversation(tmp_path)
    doc = json.loads(export_json(session))
    assert [a["name"] for a in doc["messages"][0]["attachments"]] == ["notes.py", "stdin"]
    assert "attachments" not in doc["messages"][1]
    markdown = export_markdown(session)
    assert "Explain these.\n\n`notes.py`:\n````python\n" in markdown


def test_search_finds_a_conversation_by_the_text_of_its_files(
    store: SessionStore, tmp_path: Path
) -> None:
    store.save(conversation(tmp_path))
    assert store.search("return") == {"s-1"}
    assert store.search("notes.py") == {"s-1"}


def test_two_windows_merge_a_prompt_with_files(store: SessionStore, tmp_path: Path) -> None:
    session = conversation(tmp_path)
    store.save(session)
    other = store.load("s-1")
    other.messages.append(Message("user", "and more", WHEN, "m-3"))
    store.save(other)
    records = session.messages[0].attachments
    records[1] = replace(records[1], name="renamed")  # ours changed since: ours wins
    store.save(session)
    merged = store.load("s-1")
    assert [m.id for m in merged.messages] == ["m-1", "m-2", "m-3"]
    assert merged.messages[0].attachments[1].name == "renamed"

"""The session file format: what is written, and how any file is read back."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime

import pytest
import tomli_w

from tui.store import Message, Session, codec
from tui.store.errors import Invalid, Newer

WHEN = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)
MTIME = datetime(2026, 1, 1, tzinfo=UTC)


def conversation() -> Session:
    session = Session("s-1", "Plans", WHEN, WHEN, "openai", "gpt-4o-mini", "Be brief.")
    session.extra = {"folder": "work", "ui": {"pinned": True}}
    session.messages = [
        Message("user", "first line\nsecond line", WHEN, "m-1"),
        Message("assistant", 'a "quoted" reply', WHEN, "m-2", "openai", "gpt", "complete"),
    ]
    session.messages[1].extra = {"usage": {"tokens": 12}}
    return session


def test_what_is_written_reads_back_as_the_same_conversation() -> None:
    session = conversation()
    assert codec.parse_document(codec.dump(session), "s-1", MTIME) == session


def test_a_file_another_tool_rewrote_reads_back_the_same() -> None:
    session = conversation()
    rewritten = tomli_w.dumps(tomllib.loads(codec.dump(session).decode())).encode()
    assert codec.parse_document(rewritten, "s-1", MTIME) == session


def test_text_of_several_lines_is_written_as_it_reads() -> None:
    text = codec.dump(conversation()).decode()
    assert "content = '''\nfirst line\nsecond line'''\n" in text
    assert 'content = "a \\"quoted\\" reply"\n' in text
    assert text.startswith('schema = 2\nid = "s-1"\n')


def test_our_files_never_need_tomllib(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(text: str) -> dict:
        raise AssertionError("tomllib was asked")

    session = conversation()
    session.extra, session.messages[1].extra = {}, {}  # unknown tables go through tomllib
    data = codec.dump(session)
    monkeypatch.setattr(tomllib, "loads", refuse)
    assert codec.parse_document(data, "s-1", MTIME) == session


def test_a_hand_written_file_is_read_for_what_it_means() -> None:
    raw = b"""\
# notes from the train
title = 'Trip'
provider = "echo"
model = "echo"
[[messages]]
role = "user"
content = \"\"\"
Where to \\
go?\"\"\"
"""
    session = codec.parse_document(raw, "hand", MTIME)
    assert (session.title, session.messages[0].content) == ("Trip", "Where to go?")
    assert session.created == session.updated == MTIME  # no times: the file's
    again = codec.parse_document(raw, "hand", MTIME)
    assert session.messages[0].id == again.messages[0].id  # made up, the same every read


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"", Invalid),
        (b'schema = 1\ntitle = "open\n', Invalid),
        (b"schema = 0\n", Invalid),
        (b"schema = 'one'\n", Invalid),
        (b"schema = 3\n", Newer),
        (b"schema = 7\nsyntax of the future = {{ }}\n", Newer),
        (b"schema = 1\n[[messages]]\nrole = 5\n", Invalid),
    ],
)
def test_unusable_files_say_why(raw: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        codec.parse_document(raw, "x", MTIME)


def test_control_characters_are_escaped_and_removed_on_reading() -> None:
    session = conversation()
    session.messages[0].content = "red \x1b[31mtext\x1b[0m\nand a bell\x07"
    data = codec.dump(session)
    assert b"\x1b" not in data and b"\\u001b" in data
    assert codec.parse_document(data, "s-1", MTIME).messages[0].content == "red text\nand a bell"

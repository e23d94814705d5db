"""A reply's reasoning, token counts and finish reason in the session file: written in
fields of their own, read back (on the fast road too), never sent to a provider, and
files from before them load as they did."""

from __future__ import annotations

from datetime import UTC, datetime

from tui.store import Message, Session, codec, fast_toml

WHEN = datetime(2026, 12, 2, 10, 0, 0, tzinfo=UTC)


def with_parts() -> Session:
    session = Session("s-1", "Plans", WHEN, WHEN, "openai", "m")
    reply = Message("assistant", "The answer.", WHEN, "m-2", "openai", "m", "complete")
    reply.reasoning = "First, think.\nThen answer."
    reply.input_tokens, reply.output_tokens, reply.finish = 12, 840, "length"
    reply.reasoning_tokens = 610  # of the 840
    session.messages = [Message("user", "hi", WHEN, "m-1"), reply]
    return session


def test_reasoning_usage_and_finish_round_trip_in_their_own_fields() -> None:
    raw = codec.dump(with_parts())
    text = raw.decode()
    assert "reasoning = '''\nFirst, think.\nThen answer.'''" in text
    assert (
        'input_tokens = 12\noutput_tokens = 840\nreasoning_tokens = 610\nfinish = "length"' in text
    )
    assert fast_toml.loads(raw) is not None  # the fast reader takes the new fields
    assert codec.parse_document(raw, "s-1", WHEN) == with_parts()


def test_a_reply_without_parts_writes_no_new_keys() -> None:
    session = with_parts()
    reply = session.messages[1]
    reply.reasoning, reply.input_tokens, reply.output_tokens, reply.finish = "", None, None, ""
    reply.reasoning_tokens = None
    text = codec.dump(session).decode()
    assert "reasoning" not in text and "tokens" not in text and "finish" not in text


def test_reasoning_is_never_sent_back() -> None:
    history = with_parts().history()
    assert history[-1] == {"role": "assistant", "content": "The answer."}
    assert all("think" not in m["content"] for m in history)


OLD_FILE = b"""schema = 1
id = "s-1"
title = "Old"
created = 2026-01-01T00:00:00Z
updated = 2026-01-01T00:00:00Z
provider = "echo"
model = "echo"
system_prompt = ""

[[messages]]
id = "m-1"
role = "assistant"
content = "hello"
created = 2026-01-01T00:00:00Z
status = "complete"
"""


def test_an_older_file_loads_unchanged() -> None:
    session = codec.parse_document(OLD_FILE, "s-1", WHEN)
    reply = session.messages[0]
    assert (reply.reasoning, reply.input_tokens, reply.output_tokens, reply.finish) == (
        "",
        None,
        None,
        "",
    )
    assert reply.reasoning_tokens is None
    assert reply.extra == {}


def test_a_hand_written_key_of_another_type_is_kept_as_the_files_own() -> None:
    # Somebody's tool wrote "reasoning" as a table and "finish" as a number: not ours, kept.
    raw = OLD_FILE + b"finish = 3\n\n[messages.reasoning]\nsteps = 2\n"
    reply = codec.parse_document(raw, "s-1", WHEN).messages[0]
    assert (reply.reasoning, reply.finish) == ("", "")
    assert reply.extra == {"finish": 3, "reasoning": {"steps": 2}}
    again = codec.parse_document(codec.dump(codec.parse_document(raw, "s-1", WHEN)), "s-1", WHEN)
    assert again.messages[0].extra == reply.extra

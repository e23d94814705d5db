"""Stream framing: the same lines, events and objects whatever the network's chunking."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import AsyncIterator, Coroutine, Sequence
from typing import Any, TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.providers.errors import ResponseTooLarge, StreamBroken
from tui.providers.sse import iter_lines, iter_ndjson, iter_sse_data, parse_json_line

T = TypeVar("T")
ENDINGS = st.sampled_from(["\n", "\r\n", "\r"])
# Text without line breaks, rich in multi-byte characters (2, 3 and 4 bytes in UTF-8).
LINE_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n")
    | st.sampled_from("é€😀ж"),
    max_size=30,
)
FAST = settings(max_examples=150, deadline=None)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Drive a coroutine that never waits on I/O (the parsers here) without an event loop."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    raise AssertionError("the parser waited on something")


async def source(chunks: Sequence[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def split_at(blob: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(cuts), len(blob)]
    return [blob[a:b] for a, b in itertools.pairwise(bounds)]


async def lines_of(chunks: Sequence[bytes], max_line: int = 1 << 20) -> list[str]:
    return [line async for line in iter_lines(source(chunks), max_line)]


async def lines_until_error(chunks: Sequence[bytes], max_line: int) -> tuple[list[str], Any]:
    got: list[str] = []
    try:
        async for line in iter_lines(source(chunks), max_line):
            got.append(line)
    except ResponseTooLarge as err:
        return got, err
    return got, None


def reference_lines(blob: bytes) -> list[str]:
    """What the whole stream holds, read in one piece: LF, CRLF and CR all end a line."""
    parts = re.split(r"\r\n|\r|\n", blob.decode("utf-8", "replace"))
    return parts[:-1] if parts[-1] == "" else parts


# -- iter_lines --------------------------------------------------------------------------------
@FAST
@given(lines=st.lists(st.tuples(LINE_TEXT, ENDINGS), max_size=8), last=LINE_TEXT, data=st.data())
def test_lines_are_the_same_whatever_the_chunking(lines, last, data) -> None:
    blob = ("".join(text + end for text, end in lines) + last).encode()
    cuts = data.draw(st.lists(st.integers(0, len(blob)), max_size=12))
    assert run(lines_of(split_at(blob, cuts))) == reference_lines(blob)


@FAST
@given(blob=st.binary(max_size=60), data=st.data())
def test_invalid_utf8_is_replaced_the_same_whatever_the_chunking(blob, data) -> None:
    cuts = data.draw(st.lists(st.integers(0, len(blob)), max_size=12))
    assert run(lines_of(split_at(blob, cuts))) == reference_lines(blob)


@pytest.mark.parametrize(
    ("chunks", "lines"),
    [
        ([b"a\r", b"\nb"], ["a", "b"]),  # CRLF split between chunks is one ending
        ([b"a\r", b"b"], ["a", "b"]),  # a lone CR still ends a line
        ([b"a\r\r"], ["a", ""]),  # two CRs: a line and an empty line
        ([b"a\r"], ["a"]),
        ([b"caf\xc3", b"\xa9\n"], ["café"]),  # a 2-byte character split in two
        ([b"\xf0\x9f", b"\x98", b"\x80!"], ["😀!"]),  # a 4-byte one split in three
        ([b"x\r", b"\xc3"], ["x", "\ufffd"]),  # a truncated character at the very end
        ([b"", b"\n", b""], [""]),
    ],
)
def test_tricky_boundaries(chunks: list[bytes], lines: list[str]) -> None:
    assert run(lines_of(chunks)) == lines


@FAST
@given(
    short=st.lists(st.text("abc", max_size=10), max_size=4),
    extra=st.integers(1, 30),
    ended=st.booleans(),
    data=st.data(),
)
def test_overlong_line_is_refused_whatever_the_chunking(short, extra, ended, data) -> None:
    long_line = "x" * (10 + extra)
    blob = ("".join(s + "\n" for s in short) + long_line + ("\n" if ended else "")).encode()
    cuts = data.draw(st.lists(st.integers(0, len(blob)), max_size=12))
    got, err = run(lines_until_error(split_at(blob, cuts), max_line=10))
    assert got == short  # every line before the long one came out first
    assert isinstance(err, ResponseTooLarge) and "10 characters" in str(err)


def test_a_line_of_exactly_the_bound_is_fine() -> None:
    assert run(lines_of([b"x" * 10 + b"\n", b"y" * 10], max_line=10)) == ["x" * 10, "y" * 10]


# -- iter_sse_data -----------------------------------------------------------------------------
async def sse_of(chunks: Sequence[bytes]) -> list[str]:
    return [data async for data in iter_sse_data(iter_lines(source(chunks)))]


def sse_line(value: str, spaced: bool) -> str:
    # "data:x" and "data: x" mean the same; only one leading space is dropped
    return f"data: {value}" if spaced or value.startswith(" ") else f"data:{value}"


@FAST
@given(
    events=st.lists(st.lists(LINE_TEXT, min_size=1, max_size=3), max_size=5),
    ending=ENDINGS,
    spaced=st.booleans(),
    noise=st.booleans(),
    data=st.data(),
)
def test_sse_events_are_the_same_whatever_the_chunking(events, ending, spaced, noise, data):
    out = []
    for values in events:
        if noise:  # comments and other fields are ignored
            out += [": keep-alive", "event: message", "id: 7"]
        out += [sse_line(value, spaced) for value in values]
        out.append("")
    blob = "".join(line + ending for line in out).encode()
    cuts = data.draw(st.lists(st.integers(0, len(blob)), max_size=12))
    assert run(sse_of(split_at(blob, cuts))) == ["\n".join(values) for values in events]


def test_sse_last_event_without_blank_line_still_counts() -> None:
    assert run(sse_of([b"data: one\n\ndata: two"])) == ["one", "two"]


def test_sse_multiline_data_is_joined_with_newlines() -> None:
    assert run(sse_of([b"data: a\ndata:b\ndata:  c\n\n"])) == ["a\nb\n c"]


# -- iter_ndjson -------------------------------------------------------------------------------
async def ndjson_of(chunks: Sequence[bytes]) -> list[Any]:
    return [obj async for obj in iter_ndjson(iter_lines(source(chunks)), "Ollama")]


JSON_VALUES = st.dictionaries(
    st.text(max_size=5), st.integers() | LINE_TEXT | st.booleans() | st.none(), max_size=3
)


@FAST
@given(
    objects=st.lists(JSON_VALUES, max_size=6),
    ending=ENDINGS,
    blank=st.booleans(),
    data=st.data(),
)
def test_ndjson_objects_are_the_same_whatever_the_chunking(objects, ending, blank, data):
    text = ending.join(json.dumps(o, ensure_ascii=False) for o in objects)
    if blank:
        text = ending + text + ending + ending  # blank lines are skipped
    blob = text.encode()
    cuts = data.draw(st.lists(st.integers(0, len(blob)), max_size=12))
    assert run(ndjson_of(split_at(blob, cuts))) == objects


def test_ndjson_line_that_is_not_json_breaks_the_stream_and_names_it() -> None:
    with pytest.raises(StreamBroken, match="Ollama stream sent a line that is not JSON"):
        run(ndjson_of([b'{"ok": 1}\n<html>oops</html>\n']))


def test_unparsable_line_excerpt_is_short_and_clean() -> None:
    with pytest.raises(StreamBroken) as info:
        parse_json_line("\x1b]52;c;aGk=\x07" + "y" * 500, "OpenAI")
    assert "\x1b" not in str(info.value) and len(str(info.value)) < 160

"""Saved conversations for the benchmarks, made once through ``tui.store`` and cached.

``saved_conversation(n)`` is one conversation of *n* mixed-Markdown messages of about 2 KB
(prose, lists, code, tables), "ZQFIRST" in the first and "ZQLAST" on the last line of the
last. ``many_sessions(n)`` is *n* short conversations titled "bench session 00000" up,
the last one the newest. Both live under the system temp folder and are reused by later
runs; a data folder is built beside its final name and renamed into place when complete.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import tomli_w

from tui.store import Message, Session, SessionStore

CACHE = Path(tempfile.gettempdir()) / "chatterm-bench-cache"
VERSION = 3  # bump when the generated data or the file format changes
SAVED_ID = "bench-saved"
FIRST_MARK = "ZQFIRST"
LAST_MARK = "ZQLAST"
_START = datetime(2026, 1, 1, tzinfo=UTC)

_PROSE = (
    "This paragraph explains one idea at a time, the way a careful answer does. It has "
    "*emphasis*, **strong words**, `inline code` and a [link](https://example.com/{i}) so "
    "that every inline style is drawn. It is long enough to wrap twice in a wide terminal.\n\n"
)
_LIST = (
    "- point {i}: measure first\n- then change one thing\n  - and measure again\n"
    "- write the result down\n\n1. first step\n2. second step\n3. third step\n\n"
)
_CODE = (
    "```python\ndef step_{i}(values: list[int]) -> int:\n    # sum the even values\n"
    "    return sum(v for v in values if v % 2 == 0)\n```\n\n"
)
_TABLE = "| name | value | note |\n|---|---|---|\n| a{i} | {i} | first |\n| b{i} | 2 | second |\n\n"
_SHAPES = ((_PROSE, _LIST), (_PROSE, _CODE), (_PROSE, _TABLE), (_PROSE, _PROSE, _LIST))


def message_text(i: int, size: int = 2000) -> str:
    """About *size* characters of Markdown; the mix of blocks depends on *i*."""
    shape = _SHAPES[i % len(_SHAPES)]
    parts = [f"## Message {i}\n\n"]
    while sum(map(len, parts)) < size:
        parts.extend(block.format(i=i) for block in shape)
    return "".join(parts)


def _cached(name: str, build: Callable[[Path], None]) -> Path:
    """The data folder *name* in the cache, built by *build(folder)* the first time."""
    final = CACHE / f"{name}-v{VERSION}"
    if final.is_dir():
        return final
    CACHE.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=CACHE))
    try:
        build(work)
        os.rename(work, final)
    except OSError:
        if not final.is_dir():  # another run won the rename: use theirs
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final


def saved_conversation(count: int) -> Path:
    """A data folder holding conversation ``SAVED_ID`` of *count* messages."""

    def build(folder: Path) -> None:
        messages = []
        for i in range(count):
            role = "user" if i % 2 == 0 else "assistant"
            text = message_text(i)
            if i == 0:
                text = f"{FIRST_MARK} {text}"
            if i == count - 1:
                text = f"{text}{LAST_MARK} end of the conversation.\n"
            status = "complete" if role == "assistant" else ""
            created = _START + timedelta(seconds=i)
            messages.append(Message(role, text, created, f"m-{i:06d}", status=status))
        end = _START + timedelta(seconds=count)
        session = Session(SAVED_ID, "bench saved", _START, end, "bench", "bench-model")
        session.messages = messages
        SessionStore(folder / "sessions").save(session)

    return _cached(f"saved-{count}", build)


def saved_conversation_tomli_w(count: int) -> Path:
    """``saved_conversation(count)`` as another tool writes it: the document rewritten by
    tomli-w, so every text is an escaped one-line string."""

    def build(folder: Path) -> None:
        name = f"{SAVED_ID}.toml"
        source = saved_conversation(count) / "sessions" / name
        (folder / "sessions").mkdir()
        doc = tomllib.loads(source.read_text("utf-8"))
        (folder / "sessions" / name).write_text(tomli_w.dumps(doc), "utf-8")

    return _cached(f"saved-tomli-w-{count}", build)


def many_sessions(count: int) -> Path:
    """A data folder holding *count* short conversations."""

    def build(folder: Path) -> None:
        store = SessionStore(folder / "sessions")
        for i in range(count):
            when = _START + timedelta(minutes=i)
            session = Session(f"bench-{i:05d}", title_of(i), when, when, "bench", "bench-model")
            session.messages = [
                Message("user", f"question {i}", when, f"m-{i:05d}-q"),
                Message("assistant", message_text(i, 300), when, f"m-{i:05d}-a", status="complete"),
            ]
            store.save(session)
        store.list()  # writes the index, as the first listing on a user's machine does

    return _cached(f"sessions-{count}", build)


def title_of(i: int) -> str:
    return f"bench session {i:05d}"

"""Huge text and the keyboard: the figures of "Responsiveness with huge text" (issue 10).

Run through ``python -m benchmarks.run --only huge`` (chatterm only: the baseline has no
such cases). In the real app in a pty, against loopback servers:

- a 1 MB Markdown table streamed in 4,000 chunks 2 ms apart: keys typed while it renders,
  key written → key on the screen (median), and Esc written → "cancelled" on the screen;
- a saved conversation holding one 4 MB reply opened with ``-s``: a key written as soon as
  the prompt shows → that key on the screen;
- a 5 MB bracketed paste: paste written → its marker on the screen; then Enter → the request
  at the server.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.pty_driver import PtyApp
from tests.servers import OpenAIServer

HUGE_ID = "bench-huge"
TABLE_END = "ZQTABLEEND"
ECHO_PREFIX = "zqh"
PASTE_MARK = "pasted text 1"
ESC = b"\x1b"
_ROW = re.compile(r"\| (\d+) \| row")
PASTE_START, PASTE_END = b"\x1b[200~", b"\x1b[201~"


def table_reply(rows: int = 22_000) -> str:
    """About 1 MB of one Markdown table (rows=22,000), ending with a marker line."""
    header = "| n | name | value | note |\n|---|---|---|---|\n"
    body = "".join(f"| {n} | row{n} | {n * 7} | some words here |\n" for n in range(rows))
    return f"{header}{body}\n{TABLE_END}\n"


def big_reply(size: int = 4_000_000) -> str:
    paragraph = "A paragraph of a very long answer, " + "word " * 30 + "\n\n"
    return "# Big\n\n" + paragraph * (size // len(paragraph) + 1)


def paste_text(size: int = 5_000_000) -> str:
    line = "pasted line with some text in it, long enough to look like a log file\n"
    return line * (size // len(line) + 1)


class ArrivalServer(OpenAIServer):
    """The loopback server, noting when each chat request arrived."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.arrived: list[float] = []

    def chat(self, ex: Any, mode: str) -> None:
        self.arrived.append(time.perf_counter())
        super().chat(ex, mode)


def huge_data(folder: Path, reply: str) -> Path:
    """A data folder holding conversation HUGE_ID: one prompt and a 4 MB reply."""
    from tui.store import Message, Session, SessionStore

    start = datetime(2026, 1, 1, tzinfo=UTC)
    session = Session(HUGE_ID, "huge", start, start, "bench", "bench-model")
    session.messages = [
        Message("user", "a long one please", created=start),
        Message("assistant", reply, status="complete", created=start),
    ]
    SessionStore(folder / "sessions").save(session)
    return folder


def _write_all(pty: PtyApp, data: bytes, piece: int = 65536) -> float:
    """Write *data* in pieces (a pty takes a few KB at a time); returns the first write."""
    first = pty.send(data[:piece])
    for start in range(piece, len(data), piece):
        pty.send(data[start : start + piece])
    return first


def _rows_shown(screen: str) -> int:
    return max((int(n) for n in _ROW.findall(screen)), default=-1)


def while_rendering(pty: PtyApp, keys: int, rows: int) -> dict[str, float]:
    """Keys typed and Esc pressed while the table reply streams and renders."""
    pty.wait_screen(lambda screen: _rows_shown(screen) >= rows // 10, 60, "a tenth of the table")
    typed = ECHO_PREFIX
    pty.send(typed)
    pty.wait_on_screen(typed, 30)
    delays = []
    for key in "abcdefghijklmnopqrst"[:keys]:
        pty.settle(0.1)
        typed += key
        sent = pty.send(key)
        delays.append(pty.wait_on_screen(typed, 30).time - sent)
    sent = pty.send(ESC)
    # The status line (or the reply's header) says the reply stopped.
    stopped = pty.wait_screen(lambda s: "· stopped" in s or "· cancelled" in s, 60, "stopped")
    delays.sort()
    return {"huge_echo": delays[len(delays) // 2] * 1000, "huge_esc": stopped.time - sent}


def first_key_after_open(pty: PtyApp, ready: str) -> dict[str, float]:
    pty.wait_on_screen(ready, 60)
    sent = pty.send("k" + ECHO_PREFIX)
    shown = pty.wait_on_screen("k" + ECHO_PREFIX, 60)
    return {"huge_open": shown.time - sent}


def paste_and_send(pty: PtyApp, server: ArrivalServer, text: str, ready: str) -> dict[str, float]:
    pty.wait_on_screen(ready, 60)
    pty.settle(0.3)
    before = len(server.arrived)
    sent = _write_all(pty, PASTE_START + text.encode() + PASTE_END)
    pasted = pty.wait_on_screen(PASTE_MARK, 120)
    enter = pty.send(b"\r")
    deadline = time.perf_counter() + 300
    while len(server.arrived) == before and time.perf_counter() < deadline:
        time.sleep(0.001)
    arrived = server.arrived[-1] if len(server.arrived) > before else float("inf")
    return {"huge_paste": pasted.time - sent, "huge_send": arrived - enter}

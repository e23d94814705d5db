"""Bracketed pastes are taken whole, and everything else reads as Textual reads it."""

from __future__ import annotations

import random

from textual import events
from textual._xterm_parser import XTermParser

from tui.widgets.paste_parser import FastPasteParser

START, END = "\x1b[200~", "\x1b[201~"


def events_of(parser: XTermParser, pieces: list[str]) -> list[tuple[str, str]]:
    seen = []
    for piece in pieces:
        for event in parser.feed(piece):
            if isinstance(event, events.Paste):
                seen.append(("paste", event.text))
            elif isinstance(event, events.Key):
                seen.append(("key", event.key))
    return seen


def split(text: str, rng: random.Random) -> list[str]:
    cuts = sorted(rng.sample(range(1, len(text)), min(len(text) - 1, rng.randint(1, 12))))
    return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]


def test_a_paste_however_split_gives_the_same_events_as_textuals_parser() -> None:
    rng = random.Random(7)
    stream = f"ab{START}line one\nline two \x00 ✓ {END}cd\x1b[A{START}second{END}\r"
    expected = events_of(XTermParser(), [stream])
    assert ("paste", "line one\nline two  ✓ ") in expected
    for _ in range(300):
        assert events_of(FastPasteParser(), split(stream, rng)) == expected


def test_a_five_megabyte_paste_arrives_whole_in_one_event() -> None:
    text = ("x" * 79 + "\n") * 65_536  # 5 MiB
    data = START + text + END
    # As the driver reads it: 4 KiB at a time. (How fast: benchmarks/huge_text.py.)
    got = events_of(FastPasteParser(), [data[i : i + 4096] for i in range(0, len(data), 4096)])
    assert got == [("paste", text)]

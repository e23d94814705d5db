"""Untrusted text never carries a terminal control sequence out of sanitize."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from tui.sanitize import StreamCleaner, clean, one_line

HOSTILE = [
    "\x1b[2J\x1b[H",  # clear screen
    "\x1b]52;c;aGVsbG8=\x07",  # OSC 52: write the clipboard
    "\x1b]0;pwned\x1b\\",  # window title, ST-terminated
    "\x1bP+q544e\x1b\\",  # DCS
    "\x9b31m",  # 8-bit CSI
    "\x9d0;title\x9c",  # 8-bit OSC
    "\x7f\x07\x08\x00",
]
FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def test_hostile_sequences_vanish_and_text_stays() -> None:
    for seq in HOSTILE:
        out = clean(f"before{seq}after")
        assert out == "beforeafter", repr(seq)


def test_newlines_tabs_and_unicode_are_kept() -> None:
    text = "línea 1\n\tcode → 日本語 😀 שלום [bold]x[/]"
    assert clean(text) == text
    assert clean("a\r\nb") == "a\nb"


@given(st.text(), st.lists(st.integers(min_value=0, max_value=64), max_size=8))
def test_stream_cleaner_never_lets_a_control_through_whatever_the_split(
    text: str, cuts: list[int]
) -> None:
    text = text + "".join(HOSTILE)
    points = sorted({min(c, len(text)) for c in cuts})
    parts = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]
    cleaner = StreamCleaner()
    out = "".join(cleaner.feed(p) for p in parts) + cleaner.flush()
    assert not FORBIDDEN.search(out)


def test_stream_cleaner_joins_a_sequence_split_across_chunks() -> None:
    cleaner = StreamCleaner()
    parts = ["red: \x1b", "[3", "1mX\x1b]52;c;", "Zm9v\x07 done\r", "\n"]
    out = "".join(cleaner.feed(p) for p in parts) + cleaner.flush()
    assert out == "red: X done\n"


def test_one_line_folds_and_cuts() -> None:
    assert one_line("a\n  b\x1b[1m c", 100) == "a b c"
    assert len(one_line("x" * 500, 50)) == 50

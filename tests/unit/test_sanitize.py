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


# Trojan Source: controls that reorder text, and characters that are not seen at all.
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
ZERO_WIDTH = "\u200b\u2060\ufeff"


def test_bidi_controls_and_zero_width_characters_are_shown_as_code_points() -> None:
    for char in BIDI + ZERO_WIDTH:
        out = clean(f"access{char}level")
        assert out == f"access⟨U+{ord(char):04X}⟩level", repr(char)
    # The classic: an override that makes "exe.txt" read as "txt.exe".
    assert clean("invoice\u202etxt.exe") == "invoice⟨U+202E⟩txt.exe"


def test_joiners_outside_emoji_are_shown_inside_emoji_and_words_kept() -> None:
    assert clean("pay\u200dpal \u200c.com") == "pay⟨U+200D⟩pal ⟨U+200C⟩.com"
    for kept in ("👨\u200d👩\u200d👧", "🏳️\u200d🌈", "❤️\u200d🔥", "کتاب\u200cها"):
        assert clean(f"a {kept} b") == f"a {kept} b"
    assert clean("end 👨\u200d") == "end 👨⟨U+200D⟩"


def test_rtl_text_and_flags_read_as_written() -> None:
    scotland = "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
    text = f"שלום עולם\nمرحبا بالعالم\n{scotland}"
    assert clean(text) == text
    assert clean("x\U000e0041y") == "x⟨U+E0041⟩y"  # tags smuggle text to models


def test_one_line_shows_bidi_controls_in_error_lines() -> None:
    assert one_line("bad model \u202eevil\u2066") == "bad model ⟨U+202E⟩evil⟨U+2066⟩"


def test_stream_cleaner_keeps_a_zwj_between_emoji_split_across_chunks() -> None:
    cleaner = StreamCleaner()
    parts = ["family 👨", "\u200d", "👩\u200d", "👧 pay", "\u200d", "pal \u202e"]
    out = "".join(cleaner.feed(p) for p in parts) + cleaner.flush()
    assert out == "family 👨\u200d👩\u200d👧 pay⟨U+200D⟩pal ⟨U+202E⟩"
    cleaner = StreamCleaner()
    assert cleaner.feed("last 😀\u200d") == "last 😀"
    assert cleaner.flush() == "⟨U+200D⟩"  # nothing joined it: shown


@given(st.text(alphabet=st.sampled_from(f"ab 😀👩{BIDI}{ZERO_WIDTH}\u200c\u200d")), st.data())
def test_stream_cleaner_reveals_like_clean_whatever_the_split(
    text: str, data: st.DataObject
) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=6)))
    parts = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    cleaner = StreamCleaner()
    out = "".join(cleaner.feed(p) for p in parts) + cleaner.flush()
    assert out == clean(text)
    assert clean(out) == out  # cleaning again (the log does) changes nothing
    assert not re.search("[\u202a-\u202e\u2066-\u2069\u200b\u200e\u200f\u061c\u2060\ufeff]", out)

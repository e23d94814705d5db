"""ScreenDiff: what it sends leaves the terminal showing what Textual's own output would,
cell for cell and colour for colour, after every write; and it sends much less.

The terminal here is a model written apart from the module (SGR read attribute by
attribute, wide characters, erase, the alternate screen), so a mistake shared by both
would have to be made twice.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from tui.screen_diff import SYNC_END, SYNC_START, ScreenDiff

COLUMNS, LINES = 40, 6


@dataclass
class Pen:
    bold: bool = False
    italic: bool = False
    underline: bool = False
    reverse: bool = False
    fg: str = "default"
    bg: str = "default"
    link: str = ""

    def key(self) -> tuple[object, ...]:
        return (self.bold, self.italic, self.underline, self.reverse, self.fg, self.bg, self.link)


@dataclass
class Terminal:
    """A VT screen with autowrap off, as Textual sets it (``?7l``)."""

    columns: int = COLUMNS
    lines: int = LINES
    x: int = 0
    y: int = 0
    pen: Pen = field(default_factory=Pen)
    cells: list[list[tuple[str, tuple[object, ...]]]] = field(default_factory=list)
    last: tuple[int, int] = (0, 0)  # the cell last written: a combining mark joins it

    def __post_init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        blank = (" ", Pen().key())
        self.cells = [[blank] * self.columns for _ in range(self.lines)]

    def feed(self, data: str) -> None:
        token = re.compile(
            r"\x1b\[([0-?]*)[ -/]*([@-~])|\x1b\]8;[^;\x1b]*;([^\x1b\x07]*)(?:\x1b\\|\x07)"
            r"|\x1b\][^\x1b\x07]*(?:\x1b\\|\x07)|(\n)|([\x00-\x1f])|([^\x00-\x1f]+)"
        )
        for match in token.finditer(data):
            params, final, link, newline, _control, text = match.groups()
            if final is not None:
                self._csi(params, final)
            elif link is not None:
                self.pen.link = link
            elif newline:
                self.x, self.y = 0, min(self.lines - 1, self.y + 1)
            elif text is not None:
                self._text(text)

    def _csi(self, params: str, final: str) -> None:
        if params[:1] in ("?", "<", ">", "="):  # modes and queries
            if params.startswith("?") and final == "h" and params[1:] in ("1049", "47", "1047"):
                self.clear()
            return
        if final in "np":  # a query (6n), a mode query ($p): nothing drawn
            return
        numbers = [int(n) if n else 0 for n in params.split(";")] if params else []
        if final == "H":
            row = numbers[0] if numbers and numbers[0] else 1
            column = numbers[1] if len(numbers) > 1 and numbers[1] else 1
            self.y, self.x = min(row, self.lines) - 1, min(column, self.columns) - 1
        elif final == "m":
            self._sgr(numbers or [0])
        elif final == "J":
            self.clear()
        elif final == "K":
            for x in range(self.x, self.columns):
                self.cells[self.y][x] = (" ", Pen(bg=self.pen.bg).key())

    def _sgr(self, numbers: list[int]) -> None:
        pen, i = self.pen, 0
        while i < len(numbers):
            n = numbers[i]
            if n == 0:
                self.pen = pen = Pen(link=pen.link)  # a reset leaves the link open
            elif n in (1, 3, 4, 7):
                setattr(pen, {1: "bold", 3: "italic", 4: "underline", 7: "reverse"}[n], True)
            elif n in (22, 23, 24, 27):
                setattr(pen, {22: "bold", 23: "italic", 24: "underline", 27: "reverse"}[n], False)
            elif 30 <= n <= 37 or 90 <= n <= 97:
                pen.fg = str(n)
            elif 40 <= n <= 47 or 100 <= n <= 107:
                pen.bg = str(n)
            elif n in (39, 49):
                setattr(pen, "fg" if n == 39 else "bg", "default")
            elif n in (38, 48):
                size = 3 if numbers[i + 1] == 5 else 5
                colour = ":".join(map(str, numbers[i + 1 : i + size]))
                setattr(pen, "fg" if n == 38 else "bg", colour)
                i += size - 1
            i += 1

    def _text(self, text: str) -> None:
        for char in text:
            if unicodedata.combining(char):
                y, x = self.last
                old, look = self.cells[y][x]
                self.cells[y][x] = (old + char, look)
                continue
            wide = unicodedata.east_asian_width(char) in ("W", "F")
            if self.x + (2 if wide else 1) > self.columns:
                continue  # autowrap off: what does not fit is lost
            row = self.cells[self.y]
            look = self.pen.key()
            for x in (self.x, self.x + 1) if wide else (self.x,):
                # Half of a wide character written over: its other half goes blank.
                if row[x][0] == "" and x > 0:
                    row[x - 1] = (" ", row[x - 1][1])
                if x + 1 < self.columns and row[x + 1][0] == "" and row[x][0] != "":
                    row[x + 1] = (" ", row[x + 1][1])
            row[self.x] = (char, look)
            self.last = (self.y, self.x)
            if wide:
                row[self.x + 1] = ("", look)
            self.x = min(self.columns - 1, self.x + (2 if wide else 1))

    def screen(self) -> list[list[tuple[str, tuple[object, ...]]]]:
        return [list(row) for row in self.cells]


def frame(rows: dict[int, list[tuple[str, str]]], cursor: tuple[int, int] = (0, 0)) -> str:
    """What Textual writes for *rows* (row -> [(SGR params or "", text)]): a move per row,
    each segment as ``\\x1b[Pm text \\x1b[0m``, rows joined by newlines, then the cursor."""
    parts = []
    for y, segments in rows.items():
        parts.append(f"\x1b[{y + 1};1H")
        for style, text in segments:
            parts.append(f"\x1b[{style}m{text}\x1b[0m" if style else text)
        parts.append("\n")
    if parts:
        parts.pop()
    parts.append(f"\x1b[{cursor[0] + 1};{cursor[1] + 1}H")
    return "".join(parts)


def both(*writes: str) -> tuple[Terminal, Terminal, list[str]]:
    """Feed *writes* to one terminal as they are, to another through a ScreenDiff; the two
    must show the same after every write."""
    plain, diffed, diff = Terminal(), Terminal(), ScreenDiff()
    sent = []
    for data in writes:
        plain.feed(data)
        out = diff.feed(data)
        diffed.feed(out)
        sent.append(out)
        assert diffed.screen() == plain.screen(), f"after {data!r}, sent {out!r}"
    return plain, diffed, sent


LINE = [("38;5;253;48;5;233", "  "), ("1;38;5;253;48;5;233", "• "), ("38;5;253", "hello world")]


def test_a_frame_sent_again_sends_nothing() -> None:
    first = frame({0: LINE, 1: LINE}, cursor=(5, 2))
    _, _, sent = both(first, first)
    assert sent[0]
    assert sent[1] == ""


def test_a_growing_line_sends_only_the_new_text() -> None:
    before = frame({2: [*LINE, ("38;5;253", "          ")]})
    after = frame({2: [*LINE, ("38;5;253", " and more ")]})
    _, _, sent = both(before, after)
    assert "and more" in sent[1]
    assert "hello" not in sent[1] and "•" not in sent[1]
    assert len(sent[1]) < 40


def test_the_cursor_ends_where_textual_put_it() -> None:
    first = frame({0: LINE}, cursor=(4, 3))
    second = frame({0: [*LINE[:2], ("38;5;253", "hello there")]}, cursor=(4, 3))
    _, diffed, sent = both(first, second)
    assert sent[1].endswith("\x1b[5;4H") or sent[1].endswith("\x1b[0m")
    assert (diffed.y, diffed.x) == (4, 3)


def test_style_changes_alone_are_sent() -> None:
    plain = frame({1: [("38;5;243", "placeholder text")]})
    cursor_on = frame({1: [("38;5;233;48;5;253", "p"), ("38;5;243", "laceholder text")]})
    _, _, sent = both(plain, cursor_on, plain)
    assert "laceholder" not in sent[1] and "laceholder" not in sent[2]
    assert sent[1].count("p") == 1


def test_wide_and_combining_characters_keep_their_cells() -> None:
    writes = [
        frame({0: [("", "ab界c")]}),  # a wide character takes two cells
        frame({0: [("", "ab界d")]}),
        frame({0: [("", "abxyd")]}),  # narrow ones over its two halves
        frame({0: [("", "a界yd")]}),  # and a wide one over two narrow
        frame({0: [("", "e\u0301 café")]}),  # combining accents ride with their letter
        frame({0: [("", "e\u0301 cafe")]}),
    ]
    _, _, sent = both(*writes)
    assert "ab" not in sent[1]


def test_links_are_part_of_a_cells_look() -> None:
    link, unlink = "\x1b]8;id=1;https://a.example\x1b\\", "\x1b]8;;\x1b\\"
    linked = f"\x1b[1;1H{link}\x1b[4mdocs\x1b[0m{unlink} end\x1b[6;1H"
    unlinked = "\x1b[1;1H\x1b[4mdocs\x1b[0m end\x1b[6;1H"
    _, _, sent = both(linked, unlinked, linked)
    assert "docs" in sent[1] and "docs" in sent[2]


def test_anything_else_goes_as_it_came_and_the_screen_is_forgotten() -> None:
    first = frame({0: LINE, 3: LINE})
    _, _, sent = both(first, "\x1b[2J", first)
    assert "\x1b[2J" in sent[1]
    assert "hello world" in sent[2]  # sent again: the terminal was cleared
    _, _, sent = both(first, "\x1b[?1049h", first)  # the alternate screen starts blank
    assert "hello world" in sent[2]
    _, _, sent = both(first, "\r\x1b[3A", "more", first)  # relative moves: followed blind
    assert "more" in sent[2]


def test_modes_queries_and_clipboard_pass_through_and_change_nothing() -> None:
    first = frame({0: LINE})
    quiet = "\x1b[?1000h\x1b[?1006h\x1b[?2026$p\x1b[6n\x1b]52;c;aGk=\x07\x1b[>25u\x07"
    _, _, sent = both(first, quiet, first)
    assert sent[1] == quiet
    assert sent[2] == ""


def test_forget_sends_the_next_frame_whole() -> None:
    diff = ScreenDiff()
    first = frame({0: LINE})
    diff.feed(first)
    assert diff.feed(first) == ""
    diff.forget()
    assert "hello world" in diff.feed(first)


def test_a_synchronized_frame_that_changes_nothing_is_not_sent() -> None:
    diff = ScreenDiff()
    first = frame({0: LINE})
    assert SYNC_START in diff.feed(SYNC_START) + diff.feed(first)
    assert diff.feed(SYNC_END) == SYNC_END
    assert [diff.feed(SYNC_START), diff.feed(first), diff.feed(SYNC_END)] == ["", "", ""]
    changed = frame({0: [*LINE[:2], ("38;5;253", "hello there")]})
    sent = diff.feed(SYNC_START) + diff.feed(changed) + diff.feed(SYNC_END)
    assert sent.startswith(SYNC_START) and sent.endswith(SYNC_END) and "there" in sent


# -- any sequence of frames -----------------------------------------------------------------
STYLES = ["", "1", "38;5;253;48;5;233", "7;38;5;23;48;5;233", "3;38;2;10;20;30", "48;5;0"]
TEXT = st.text(alphabet="ab  xyz·•界é\u0301", min_size=1, max_size=6).filter(
    lambda t: not unicodedata.combining(t[0])
)
SEGMENT = st.tuples(st.sampled_from(STYLES), TEXT)


def cells(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


@st.composite
def frames(draw: st.DrawFn) -> str:
    """A Textual-like frame: some rows (or parts of rows) rewritten, then the cursor; now
    and then something else: a clear, the alternate screen, a mode, a resize."""
    extra = draw(st.sampled_from(["", "", "", "\x1b[2J", "\x1b[?1049h", "\x1b[?25l", "forget"]))
    if extra:
        return extra
    chops = []
    for _ in range(draw(st.integers(1, 4))):
        y, x = draw(st.integers(0, LINES - 1)), draw(st.integers(0, COLUMNS - 1))
        segments = draw(st.lists(SEGMENT, min_size=1, max_size=4))
        room = COLUMNS - x
        kept, used = [], 0
        for style, text in segments:  # Textual never writes past the edge
            width = sum(cells(c) for c in text)
            if used + width > room:
                break
            kept.append((style, text))
            used += width
        if kept:
            body = "".join(f"\x1b[{s}m{t}\x1b[0m" if s else t for s, t in kept)
            chops.append(f"\x1b[{y + 1};{x + 1}H{body}")
    cursor = f"\x1b[{draw(st.integers(1, LINES))};{draw(st.integers(1, COLUMNS))}H"
    return "\n".join(chops) + cursor


@settings(max_examples=300, deadline=None)
@given(st.lists(frames(), min_size=1, max_size=12))
def test_any_frames_leave_the_screen_as_textuals_own_output_would(writes: list[str]) -> None:
    plain, diffed, diff = Terminal(), Terminal(), ScreenDiff()
    for data in writes:
        if data == "forget":
            diff.forget()  # the owner's call on a resize; the screen itself is unchanged
            continue
        plain.feed(data)
        diffed.feed(diff.feed(data))
        assert diffed.screen() == plain.screen()
        assert (diffed.y, diffed.x) == (plain.y, plain.x)
        assert diffed.pen.key() == plain.pen.key()

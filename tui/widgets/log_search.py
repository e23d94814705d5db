"""Search in a conversation, apart from the widget: pure and unit-tested.

A match is found in a message's text *as drawn*: the plain text of its rendered lines
(``Strip.text``), so its (line, start, end) is where it shows and the highlight lands on
the cells the reader sees (``cell_spans`` turns characters into cells: a CJK character or
an emoji takes two). A match never runs across two lines: a phrase broken by the wrap of a
paragraph, or by a line break, is not found.

Rendering a message takes milliseconds (~6 ms for 2 KB of Markdown), so a 1,000-message
conversation cannot be rendered on each key typed. Until the search needs a message's
lines (stepping into it with n / N, or drawing it), its count is that of its text as
written, the Markdown source, which differs from the drawn text only where markup or
wrapping does (``**re**d`` hides "red"; a code fence's backticks are not drawn). A
message's count is corrected when its lines are read, so "match 3 of 12" can become "of
11" as n steps past a message whose markup hid a match; one whose text has no match is
never rendered for the search at all.

Smart case, as in vim and less: a query in lower case matches any case; one with a
capital letter matches exactly. Case is compared a character at a time (Python's
``re.IGNORECASE``): "É" finds "é", but "ß" does not find "ss". The query is text, never a
pattern.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

Span = tuple[int, int]
# The drawn lines of message n, as plain text (the widget renders it if it must).
LinesOf = Callable[[int], Sequence[str]]


@dataclass(frozen=True)
class Query:
    """What to look for; ``ignore_case`` is decided by ``smart`` for a typed query."""

    text: str
    ignore_case: bool = True

    @classmethod
    def smart(cls, text: str) -> Query:
        """Any case unless *text* has a capital letter (smart case)."""
        return cls(text, ignore_case=not any(char.isupper() for char in text))

    @cached_property
    def pattern(self) -> re.Pattern[str] | None:
        """None for a query that can match nothing: empty, or of more than one line."""
        if not self.text or "\n" in self.text:
            return None
        return re.compile(re.escape(self.text), re.IGNORECASE if self.ignore_case else 0)


@dataclass(frozen=True)
class Match:
    """One match: body line *line* of message *message*, characters start..end-1."""

    message: int
    line: int
    start: int
    end: int


@dataclass(frozen=True)
class SearchStatus:
    """What the search bar says: the query, the current match's number (from 1), the total."""

    text: str
    position: int | None
    total: int

    def describe(self) -> str:
        if not self.text:
            return ""
        if not self.total:
            return "no match"
        if self.position is None:
            return f"{self.total:,} match" + ("" if self.total == 1 else "es")
        return f"match {self.position:,} of {self.total:,}"


def spans(line: str, query: Query) -> list[Span]:
    """Where *query* is in *line*: (start, end) in characters, left to right, not overlapping."""
    pattern = query.pattern
    if pattern is None:
        return []
    return [found.span() for found in pattern.finditer(line)]


def count(text: str, query: Query) -> int:
    """Matches in *text* (a match never spans a line break, as the query has none)."""
    pattern = query.pattern
    if pattern is None:
        return 0
    return sum(1 for _ in pattern.finditer(text))


def cell_spans(line: str, found: Sequence[Span]) -> list[Span]:
    """*found* (character offsets into *line*) as cell offsets, for a drawn line."""
    if line.isascii():
        return list(found)
    return [(cell_len(line[:start]), cell_len(line[:end])) for start, end in found]


def find(messages: Sequence[Sequence[str]], query: Query) -> list[Match]:
    """Every match in *messages* (each a list of drawn lines), in reading order."""
    return [
        Match(number, row, start, end)
        for number, lines in enumerate(messages)
        for row, line in enumerate(lines)
        for start, end in spans(line, query)
    ]


def highlight(strip: Strip, marks: Sequence[tuple[int, int, Style]]) -> Strip:
    """*strip* with cells start..end-1 of each mark drawn in its style, over the style they
    had (a colour the mark does not set stays as it was). Marks are in order, apart."""
    if not marks:
        return strip
    cuts: list[int] = []
    styles: dict[int, Style] = {}  # the cut ending a marked piece -> its style
    for start, end, style in marks:
        if start > 0 and (not cuts or cuts[-1] != start):
            cuts.append(start)
        cuts.append(end)
        styles[end] = style
    if cuts[-1] != strip.cell_length:
        cuts.append(strip.cell_length)
    pieces: list[Strip] = []
    for cut, piece in zip(cuts, strip.divide(cuts), strict=False):
        style = styles.get(cut)
        if style is not None:
            piece = Strip(Segment.apply_style(piece, post_style=style), piece.cell_length)
        pieces.append(piece)
    return Strip.join(pieces)


class Matches:
    """One query over one conversation: each message's count (from its text as written
    until its drawn lines are read, see the module docstring) and the current match."""

    def __init__(self, query: Query, texts: Sequence[str]) -> None:
        self.query = query
        self._counts = [count(text, query) for text in texts]
        self.current: Match | None = None
        self._nth = 0  # the current match's number within its message, from 0
        self._current_line = ""  # the text of its line when it was found
        self._lines: Sequence[str] = ()  # the lines of the message read last

    @property
    def total(self) -> int:
        return sum(self._counts)

    def count_in(self, message: int) -> int:
        return self._counts[message] if 0 <= message < len(self._counts) else 0

    def status(self) -> SearchStatus:
        position = None
        if self.current is not None:
            position = sum(self._counts[: self.current.message]) + self._nth + 1
        return SearchStatus(self.query.text, position, self.total)

    def set_text(self, message: int, text: str) -> None:
        """Message *message* (one past the last: a new one) reads *text* now, as written:
        a reply that streamed on, or a message added after the search began."""
        if message == len(self._counts):
            self._counts.append(0)
        self._counts[message] = count(text, self.query)

    def read(self, message: int, lines: Sequence[str]) -> list[Match]:
        """The matches of message *message* in its drawn *lines*; its count becomes theirs."""
        found = [
            Match(message, row, start, end)
            for row, line in enumerate(lines)
            for start, end in spans(line, self.query)
        ]
        self._counts[message] = len(found)
        self._lines = lines
        return found

    def first(self, start: int, lines_of: LinesOf) -> Match | None:
        """The first match in message *start* or after it, wrapping to the top."""
        return self._seek(start, 1, lines_of)

    def step(self, forward: bool, lines_of: LinesOf, start: int = 0) -> Match | None:
        """The next (or previous) match, wrapping round; with no current match, the first
        at or after message *start* (or the last at or before it)."""
        current = self.current
        if current is None:
            return self._seek(start, 1 if forward else -1, lines_of)
        here = self.read(current.message, lines_of(current.message))  # may be re-wrapped
        nth = min(self._nth, len(here))
        if forward and nth + 1 < len(here):
            return self._go(here, nth + 1)
        if not forward and 0 < nth:
            return self._go(here, nth - 1)
        direction = 1 if forward else -1
        return self._seek(current.message + direction, direction, lines_of)

    def _seek(self, start: int, direction: int, lines_of: LinesOf) -> Match | None:
        """The match nearest message *start* going *direction* (1 down, -1 up), wrapping:
        a message's first match going down, its last going up. None if there is none."""
        total = len(self._counts)
        for offset in range(total):
            message = (start + offset * direction) % total
            if not self._counts[message]:
                continue  # no match in its text: not even rendered
            found = self.read(message, lines_of(message))
            if found:
                return self._go(found, 0 if direction > 0 else len(found) - 1)
        self.current = None
        return None

    def _go(self, found: list[Match], nth: int) -> Match:
        """Make match *nth* of *found* (just read) the current one."""
        match = found[nth]
        self.current, self._nth = match, nth
        self._current_line = self._lines[match.line]
        return match

    def marks(self, message: int, row: int, text: str) -> list[tuple[int, int, bool]]:
        """The matches on body line *row* of *message*, drawn as *text*: (start, end) in
        cells, and whether it is the current match. None on a message without a match."""
        if not self.count_in(message):
            return []
        found = spans(text, self.query)
        if not found:
            return []
        current = self.current
        chosen = None  # the current match's characters, if it is on this line as drawn now
        if current is not None and (current.message, current.line) == (message, row):
            chosen = (current.start, current.end) if text == self._current_line else None
        return [
            (start, end, span == chosen)
            for span, (start, end) in zip(found, cell_spans(text, found), strict=True)
        ]

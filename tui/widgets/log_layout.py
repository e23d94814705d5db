"""The layout of the conversation view, apart from the widget: pure and unit-testable.

``MessageLog`` (the Textual widget) keeps a list of ``Entry`` objects. This module holds
what does not need Textual's event loop: the rows of a huge message drawn on demand
(``PlainBody``), the height guessed for a message not rendered yet (``estimate``), the
first row of every message and which message covers a row (``Offsets``), and the cache of
rendered lines (``RenderCache``, on Textual's ``LRUCache``).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, overload

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from textual.cache import LRUCache
from textual.strip import Strip

if TYPE_CHECKING:
    from .markdown_render import StreamRenderer


class PlainBody(Sequence[Strip]):
    """The rows of a huge message, wrapped by cell width; each row is drawn when asked for.

    Wrapping is a split of each source line into runs of at most ``width`` cells (ASCII
    lines by slicing, others with Rich's ``chop_cells``), so a few megabytes take tens of
    milliseconds, and ``extend`` re-wraps only from the last source line on.
    """

    def __init__(self, text: str, width: int, extra: list[Strip] | None = None) -> None:
        self.width = width
        self.extra: list[Strip] = extra or []  # the error line(s), drawn after the text
        self._rows: list[str] = []
        self._last_line_row = 0  # first row of the last source line (it may still grow)
        self._last_line_start = 0  # its offset in the text
        self._length = 0
        self.extend(text)

    def extend(self, text: str) -> int:
        """Take *text* (the old text plus more); return the first row that may have changed."""
        start = self._last_line_start
        del self._rows[self._last_line_row :]
        first = self._last_line_row
        rows = self._rows
        width = self.width
        segment = text[start:]
        offset = start
        for line in segment.split("\n"):
            self._last_line_row = len(rows)
            self._last_line_start = offset
            offset += len(line) + 1
            if len(line) <= width and line.isascii() and "\t" not in line:
                rows.append(line)
            elif line.isascii() and "\t" not in line:
                rows.extend(line[i : i + width] for i in range(0, len(line), width))
            else:
                rows.extend(chop_cells(line.expandtabs(4), width) or [""])
        self._length = len(text)
        return first

    def __len__(self) -> int:
        return len(self._rows) + len(self.extra)

    @overload
    def __getitem__(self, index: int) -> Strip: ...
    @overload
    def __getitem__(self, index: slice) -> list[Strip]: ...
    def __getitem__(self, index: int | slice) -> Strip | list[Strip]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if index >= len(self._rows):
            return self.extra[index - len(self._rows)]
        row = self._rows[index]
        return Strip([Segment(row)], cell_len(row)).extend_cell_length(self.width)


# A top-level fenced code block, for messages too big to parse (see code_blocks).
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n(.*?\n)?^ {0,3}\1[`~]*[ \t]*$", re.M | re.S)


# Identity hashing: entries are keys of the render cache. No repr: bodies can be megabytes.
@dataclass(eq=False, repr=False)
class Entry:
    role: str
    content: str
    provider: str = ""
    model: str = ""
    status: str = ""
    error: str = ""
    created: datetime | None = None
    height: int = 2  # rows: header + body + separator; an estimate until `measured`
    measured: bool = False
    plain: bool = False  # drawn as plain text lines (huge, or too slow to render as Markdown)
    plain_for_now: bool = False  # plain only while streaming: Markdown comes back at the end
    stream: StreamRenderer | None = None  # set while the reply streams
    pending: list[str] = field(default_factory=list)  # chunks not yet rendered
    cache: RenderCache | None = None  # where its rendered lines are kept
    rows: PlainBody | None = None  # a plain body: kept here, it draws rows on demand

    @property
    def body(self) -> Sequence[Strip] | None:
        """The rendered body (+ error line) at the log's width; None if not (or no longer)
        rendered."""
        if self.rows is not None:
            return self.rows
        return self.cache.get(self) if self.cache is not None else None


class RenderCache:
    """Rendered bodies, the least recently used dropped first once *limit* messages hold one.

    A plain body (``PlainBody``) is kept on its entry instead: it costs no lines, and
    wrapping megabytes again after an eviction would cost tens of milliseconds.
    Heights stay on the entries, so an evicted message keeps its place in the layout.
    """

    def __init__(self, limit: int) -> None:
        self._lru: LRUCache[Entry, Sequence[Strip]] = LRUCache(limit)

    def __len__(self) -> int:
        return len(self._lru)

    def __contains__(self, entry: Entry) -> bool:
        return entry.rows is not None or entry in self._lru

    def get(self, entry: Entry) -> Sequence[Strip] | None:
        """The body of *entry* (marking it used), or None."""
        if entry.rows is not None:
            return entry.rows
        return self._lru.get(entry)

    def store(self, entry: Entry, body: Sequence[Strip]) -> None:
        self.drop(entry)  # LRUCache.set keeps the old value of a key it already holds
        entry.cache = self
        if isinstance(body, PlainBody):
            entry.rows = body
        else:
            self._lru.set(entry, body)

    def drop(self, entry: Entry) -> None:
        entry.rows = None
        self._lru.discard(entry)

    def clear(self, entries: Sequence[Entry] = ()) -> None:
        """Forget every cached body (and the plain bodies of *entries*)."""
        self._lru.clear()
        for entry in entries:
            entry.rows = None


class Offsets:
    """The first row of each entry, then the total; only the stale tail is recomputed."""

    def __init__(self) -> None:
        self._rows: list[int] = [0]
        self._valid = 0  # _rows[: _valid + 1] are correct

    def __getitem__(self, index: int) -> int:
        return self._rows[index]

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def total(self) -> int:
        return self._rows[-1]

    @property
    def stale(self) -> int:
        """Index of the first entry whose offset may be out of date."""
        return self._valid

    def clear(self) -> None:
        self._rows = [0]
        self._valid = 0

    def invalidate(self, index: int) -> None:
        """Entry *index* changed height (or was removed): offsets after it are stale."""
        self._valid = min(self._valid, index)

    def update(self, entries: Sequence[Entry]) -> int:
        """Bring the offsets up to date with the entries' heights; return the total."""
        rows = self._rows
        del rows[self._valid + 1 :]
        total = rows[self._valid]
        for entry in entries[self._valid :]:
            total += entry.height
            rows.append(total)
        self._valid = len(entries)
        return total

    def index_at(self, y: int) -> int:
        """Index of the entry covering row *y* (offsets must be current)."""
        return max(0, min(len(self._rows) - 2, bisect_right(self._rows, y) - 1))


def estimate(entry: Entry, width: int) -> int:
    """Rows for a message not rendered yet: one per source line plus wrapping."""
    text = entry.content
    body = (text.count("\n") + 1 + len(text) // max(1, width)) if text else 0
    if entry.error:
        body += 1 + len(entry.error) // max(1, width)
    return 2 + body

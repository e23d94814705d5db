"""The layout of the conversation view, apart from the widget: pure and unit-tested.

``MessageLog`` (the Textual widget) keeps one ``Entry`` per message. What does not need
Textual's event loop lives here: the height guessed for a message not rendered yet
(``estimate``), the first row of every message and which message covers a row
(``Offsets``), which messages to render so that the view holds no estimates (``covering``),
the rows a streaming tick must repaint (``repaint_span``), a message's header row
(``header_text``), the rendered lines of finished messages (``LineCache``, on Textual's
``LRUCache``) and the rows of a huge message drawn on demand (``PlainBody``).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, overload

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.strip import Strip

from ..attachments import chip
from ..sanitize import clean

if TYPE_CHECKING:
    from .markdown_render import StreamRenderer

HEADER_ROWS = 1
SEPARATOR_ROWS = 1
FRAME_ROWS = HEADER_ROWS + SEPARATOR_ROWS  # a message's rows besides its body
# In the meta of the style of every segment of a fenced code block (markdown_render puts it
# there), so the log can draw a rule beside the block: a background alone can vanish in 16
# colours, where many themes' panel and background become the same grey.
CODE_MARK = "chatterm.code"


LENGTH = "length"  # the finish reason of a reply the service stopped at its token limit
LENGTH_LABEL = "stopped at the token limit"
CHARS_PER_TOKEN = 4  # a rough average, for reasoning the service did not count


def reasoning_label(entry: Entry, now: float) -> str:
    """The folded line of *entry*'s reasoning: "▸ thinking… 12 s, ~840 tokens" while the
    model thinks, "▸ thought for 12 s, 840 tokens" after; "▾" when unfolded. The count is
    the service's, else an estimate marked "~"; a loaded reply has no time."""
    mark = "▾" if entry.reasoning_open else "▸"
    if entry.reasoning_tokens is not None:
        tokens = f"{entry.reasoning_tokens} tokens"
    else:
        tokens = f"~{max(1, round(len(entry.reasoning) / CHARS_PER_TOKEN))} tokens"
    if entry.thought_for is None and entry.thinking_since is not None:
        return f"{mark} thinking… {max(0.0, now - entry.thinking_since):.0f} s, {tokens}"
    if entry.thought_for is not None:
        return f"{mark} thought for {entry.thought_for:.0f} s, {tokens}"
    return f"{mark} thought, {tokens}"


GUTTER = 2  # columns left of every row: the focus mark, then the code rule; blank otherwise
FOCUS_MARK = "▌"
CODE_RULE = "▎"


def is_code_line(line: Strip) -> bool:
    """True if *line* is a row of a fenced code block."""
    first = next(iter(line), None)  # every row of a block starts with its padding
    return first is not None and first.style is not None and CODE_MARK in first.style.meta


def gutter(content: Strip, focused: bool, look: Mapping[str, Style]) -> Strip:
    """The gutter beside row *content*: the focus mark on a focused message, a rule beside a
    code block; *look* gives the styles of "focus-mark" and "code-rule"."""
    mark = Segment(FOCUS_MARK, look["focus-mark"]) if focused else Segment(" ")
    rule = Segment(CODE_RULE, look["code-rule"]) if is_code_line(content) else Segment(" ")
    return Strip([mark, rule], GUTTER)


# Identity hashing: entries are keys of the line cache. No repr: bodies can be megabytes.
@dataclass(eq=False, repr=False)
class Entry:
    """One message of the log and what is known of its layout."""

    role: str
    content: str
    provider: str = ""
    model: str = ""
    status: str = ""
    error: str = ""
    created: datetime | None = None
    height: int = FRAME_ROWS  # header + body + separator; an estimate until `measured`
    measured: bool = False  # rendered at the current width: `height` is exact
    # Lines kept on the entry rather than in the LineCache: a streaming reply's (rendered
    # again on every tick) or a plain body (a PlainBody draws its rows on demand).
    held: Sequence[Strip] | None = None
    plain: bool = False  # drawn as plain text lines (huge, or too slow to render as Markdown)
    plain_for_now: bool = False  # plain only while streaming: Markdown comes back at the end
    stream: StreamRenderer | None = None  # set while the reply streams
    pending: list[str] = field(default_factory=list)  # chunks not yet rendered
    # (which, of how many) when the message has alternatives (tui/edits.py): "‹ 2/3 ›"
    choice: tuple[int, int] | None = None
    # One line per file sent with a prompt ("▣ notes.py · 2.1 KB"), drawn after its text,
    # which is then the prompt as typed (the files' text is sent, not shown).
    chips: tuple[str, ...] = ()
    # The model's reasoning, drawn above the reply: one folded line ("▸ thinking… 12 s,
    # ~840 tokens") until unfolded. Streamed pieces wait in pending_reasoning like text.
    reasoning: str = ""
    reasoning_open: bool = False
    pending_reasoning: list[str] = field(default_factory=list)
    thinking_since: float | None = None  # monotonic time of its first piece, while live
    thought_for: float | None = None  # seconds it took (set once the reply's text starts)
    reasoning_tokens: int | None = None  # the service's count, when it sent one
    finish: str = ""  # why the reply ended: "length" is marked in the header
    reasoning_rows: int = 0  # rows the reasoning block took in the last render

    @classmethod
    def from_message(cls, message: object) -> Entry:
        """An entry for a stored message (any object with its fields: ``store.Message``)."""
        fields = {
            name: str(getattr(message, name, "") or "")
            for name in ("role", "content", "provider", "model", "status", "error")
        }
        created = getattr(message, "created", None)
        entry = cls(**fields, created=created if isinstance(created, datetime) else None)
        entry.reasoning = str(getattr(message, "reasoning", "") or "")
        counted = getattr(message, "reasoning_tokens", None)
        entry.reasoning_tokens = counted if isinstance(counted, int) else None
        entry.finish = str(getattr(message, "finish", "") or "")
        if files := getattr(message, "attachments", None):
            entry.content = str(getattr(message, "typed", entry.content))
            entry.chips = tuple(chip(a.name, a.size) for a in files)
        return entry


def estimate(entry: Entry, width: int) -> int:
    """Rows for a message not rendered yet: one per source line plus wrapping.

    Only a guess: ``MessageLog`` renders what comes into view and corrects the height then,
    holding the view still, so a guess costs no jump.
    """
    width = max(1, width)
    text = entry.content
    body = (text.count("\n") + 1 + len(text) // width) if text else 0
    if entry.error:
        body += 1 + len(entry.error) // width
    return FRAME_ROWS + body + len(entry.chips) + bool(entry.reasoning)


class Offsets:
    """The first row of each message, then the total row count.

    A height change invalidates only the offsets after it, and ``update`` recomputes from
    the first stale one on: a streaming reply, always last, costs one addition per tick.
    """

    def __init__(self) -> None:
        self._rows: list[int] = [0]
        self._valid = 0  # _rows[: _valid + 1] are correct

    def __getitem__(self, index: int) -> int:
        return self._rows[index]

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def total(self) -> int:
        """Rows of every message counted by the last ``update``."""
        return self._rows[-1]

    def is_current(self, count: int) -> bool:
        """True if the offsets are up to date for *count* messages (no ``update`` needed)."""
        return self._valid == count == len(self._rows) - 1

    def clear(self) -> None:
        self._rows = [0]
        self._valid = 0

    def invalidate(self, index: int) -> None:
        """Message *index* changed height, was removed or added: offsets after it are stale."""
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
        """Index of the message covering row *y*, clamped to the first and last message."""
        return max(0, min(len(self._rows) - 2, bisect_right(self._rows, y) - 1))

    def starting_between(self, top: int, bottom: int) -> range:
        """Indices of the messages whose first row (the header) is in rows top..bottom-1."""
        count = len(self._rows) - 1
        return range(
            min(count, bisect_left(self._rows, top)), bisect_left(self._rows, bottom, hi=count)
        )


def covering(
    entries: Sequence[Entry], start: int, step: int, rows: int, skip: int = 0
) -> Iterator[int]:
    """Indices from *start* on, by *step* (1 down, -1 up), until they cover *rows* rows.

    Each height is read after the caller has handled the index it was given, so the caller
    can render a message (turning its estimate into its real height) and have that count.
    *skip* rows of the first message are not counted (they are above the view).
    """
    covered = -skip
    index = start
    while 0 <= index < len(entries) and covered < rows:
        yield index
        covered += entries[index].height
        index += step


def repaint_span(
    offset: int, first: int, old_rows: int, new_rows: int, top: int, view: int
) -> tuple[int, int] | None:
    """Rows (start, end) of the view to repaint after a message's body changed from body row
    *first* on and went from *old_rows* to *new_rows* rows; None if none is in view.

    *offset* is the message's first row, *top* the first row in view, *view* its height.
    """
    start = offset + HEADER_ROWS + first
    end = offset + HEADER_ROWS + max(old_rows, new_rows)
    if new_rows != old_rows:
        end += SEPARATOR_ROWS  # the separator moved
    start, end = max(start, top), min(end, top + view)
    return (start, end) if start < end else None


def scroll_step(view: int, fraction: float) -> int:
    """Rows to scroll by at once while following a growing reply: *fraction* of the view,
    at least one row and less than the whole view (the reader keeps a line of context)."""
    return max(1, min(view - 1, round(view * fraction)))


ROLE_LABELS = {"user": "you", "assistant": "assistant", "system": "system"}
STATUS_LABELS = {"streaming": "streaming…", "cancelled": "cancelled", "error": "error"}
ROLE_PARTS = {"user": "user", "assistant": "assistant", "system": "system"}
STATUS_PARTS = {
    "streaming": "status-streaming",
    "cancelled": "status-cancelled",
    "error": "status-error",
}


def header_text(entry: Entry, width: int, look: Mapping[str, Style], focused: bool) -> Text:
    """The header row of *entry*, *width* cells: role · provider/model · status, the time at
    the right edge. *look* gives the styles of the parts (see ``MessageLog``'s ``PARTS``):
    the role's ("user", ... "role" for any other), "meta" (separators, time), the status's
    ("status-streaming", ... "status") and "focused". What does not fit ends in "…", and the
    time stays."""
    meta = look["meta"]
    header = Text(end="", no_wrap=True)
    header.append(
        ROLE_LABELS.get(entry.role, clean(entry.role) or "?"),
        look[ROLE_PARTS.get(entry.role, "role")],
    )
    who = "/".join(part for part in (entry.provider, entry.model) if part)
    if who and entry.role == "assistant":
        header.append(" · ", meta)
        header.append(clean(who))
    if entry.status and entry.status != "complete":
        status = STATUS_LABELS.get(entry.status, clean(entry.status))
        header.append(" · ", meta)
        header.append(status, look[STATUS_PARTS.get(entry.status, "status")])
    if entry.finish == LENGTH:
        header.append(" · ", meta)
        header.append(LENGTH_LABEL, look["status-cancelled"])  # cut short, like Esc
    if focused:
        header.stylize(look["focused"])
    stamp = entry.created.astimezone().strftime("%H:%M") if entry.created else ""
    if entry.choice is not None:  # by the time, where a long model name cannot cut it off
        stamp = f"‹ {entry.choice[0]}/{entry.choice[1]} ›" + (f"  {stamp}" if stamp else "")
    room = width - (len(stamp) + 1 if stamp else 0)
    header.truncate(max(1, room), overflow="ellipsis")
    if stamp:
        header.pad_right(width - header.cell_len - len(stamp))
        header.append(stamp, meta)
    header.truncate(width, pad=True)
    return header


class LineCache:
    """The rendered body lines of finished messages, by (message, row), on Textual's
    ``LRUCache`` as its own ``Log`` keeps its lines: once *limit* lines are held, those drawn
    least recently go first. Heights stay on the entries, so a message whose lines went keeps
    its place in the layout and is rendered again when it is drawn.
    """

    def __init__(self, limit: int) -> None:
        self._lines: LRUCache[tuple[Entry, int], Strip] = LRUCache(limit)
        self._rows: dict[Entry, int] = {}  # rows stored per message, to drop them again

    def __len__(self) -> int:
        """Lines held."""
        return len(self._lines)

    @property
    def limit(self) -> int:
        return self._lines.maxsize

    def get(self, entry: Entry, row: int) -> Strip | None:
        """Body row *row* of *entry* (marking it used), or None if it is not held."""
        return self._lines.get((entry, row))

    def rows(self, entry: Entry) -> int:
        """Body rows *entry* had when last stored (0 if never)."""
        return self._rows.get(entry, 0)

    def holds(self, entry: Entry) -> bool:
        """True if every body row of *entry* is held."""
        rows = self._rows.get(entry)
        return rows is not None and all((entry, row) in self._lines for row in range(rows))

    def store(self, entry: Entry, lines: Sequence[Strip]) -> None:
        """Hold *lines* as the body of *entry*, replacing what it had."""
        self.drop(entry)  # LRUCache.set keeps the old value of a key it already holds
        # One message longer than the limit would push out its own first rows and be
        # rendered again on every frame: the cache grows to hold it whole.
        self._lines.grow(len(lines))
        for row, line in enumerate(lines):
            self._lines.set((entry, row), line)
        self._rows[entry] = len(lines)

    def drop(self, entry: Entry) -> None:
        """Forget the body of *entry* (removed, or rendered again)."""
        for row in range(self._rows.pop(entry, 0)):
            self._lines.discard((entry, row))

    def clear(self) -> None:
        """Forget every body (the width or the theme changed)."""
        self._lines.clear()
        self._rows.clear()


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
        self.extend(text)

    def extend(self, text: str) -> int:
        """Take *text* (the old text plus more); return the first row that may have changed."""
        start = self._last_line_start
        del self._rows[self._last_line_row :]
        first = self._last_line_row
        rows = self._rows
        width = self.width
        offset = start
        for line in text[start:].split("\n"):
            self._last_line_row = len(rows)
            self._last_line_start = offset
            offset += len(line) + 1
            if not line.isascii() or "\t" in line:
                rows.extend(chop_cells(line.expandtabs(4), width) or [""])
            elif len(line) <= width:
                rows.append(line)  # the common case, without a slice
            else:
                rows.extend(line[i : i + width] for i in range(0, len(line), width))
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

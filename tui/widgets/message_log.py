"""The conversation view: one virtualised ScrollView drawing cached lines.

Textual's ``Markdown`` widget mounts a widget per block and re-parses as a reply streams,
which costs seconds of CPU for a long answer and does not scale to a long conversation.
Here every message is rendered with Rich into ``Strip`` lines at the log's width, cached,
and ``render_line`` only picks lines out of the cache (the pattern of Textualize/toolong's
``LogLines``). Only messages near the viewport are rendered at all; the rest keep an
estimated height that is corrected, with the view held still, once they come into view.
While a reply streams, ``append`` only buffers; a timer (``STREAM_FPS``) renders the
reply's last Markdown block again, so the terminal gets at most one update per tick however
fast the chunks arrive, and repaints only the lines that changed. Every frame that scrolls
repaints the whole view, which is most of what crosses an SSH link, so while following a
streaming reply the view scrolls in steps (``STREAM_SCROLL_STEP`` of a screen): blank rows
below the text (``_floor``) take the next lines without moving anything, until they are
used up. They go when the reply ends.

Text reaching this widget has been cleaned by ``tui.sanitize``; it is cleaned again when
rendered (cheap) and is only ever put into Rich ``Text``/``Markdown`` objects, never parsed
as Rich markup, so "[bold]" or "[@click=app.quit]" in a reply is shown, not obeyed.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from time import perf_counter
from types import ModuleType
from typing import TYPE_CHECKING, ClassVar, overload

from rich.cells import cell_len, chop_cells
from rich.console import Console, ConsoleOptions
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer

from ..sanitize import clean

if TYPE_CHECKING:
    from .markdown_render import StreamRenderer

ROLE_LABELS = {"user": "you", "assistant": "assistant", "system": "system"}
# Plain ANSI colours so the header reads the same in a 16-colour terminal.
ROLE_STYLES = {"user": "bold cyan", "assistant": "bold green", "system": "bold magenta"}
STATUS_LABELS = {"streaming": "streaming…", "cancelled": "cancelled", "error": "error"}
STATUS_STYLES = {"streaming": "italic yellow", "cancelled": "yellow", "error": "bold red"}


def _markdown() -> ModuleType:
    """``markdown_render``, imported at first use: it pulls in Rich's Markdown, Pygments and
    markdown-it (~50 ms), which the first paint of an empty conversation does not need."""
    from . import markdown_render

    return markdown_render


GUTTER = 2  # left columns: "▌ " on the focused message, blank otherwise
FOCUS_MARK = "▌"
MIN_BODY_WIDTH = 8
FALLBACK_WIDTH = 80  # for estimates made before the widget has a size
# Past this many characters a message is drawn as plain text lines (_PlainBody), not as
# Markdown: Rich lays out a whole block at once (a 1 MB table took >20 s), and the UI must
# keep taking keys. Every character is still shown, wrapped at the width.
PLAIN_LIMIT = 200_000
# A streaming reply whose Markdown render on one tick takes longer than this goes on as
# plain text, so one slow block (a growing table) cannot hold keys up for long.
# Such a reply (under PLAIN_LIMIT) gets its Markdown back when it ends, rendered in a thread
# (a 46 KB table takes ~1.4 s) and swapped in when ready.
RENDER_BUDGET = 0.05  # seconds


class _PlainBody(Sequence[Strip]):
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
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n(.*?\n)?^ {0,3}\1[`~]*[ \t]*$", re.M | re.S)


def _cost(body: Sequence[Strip] | None) -> int:
    """Lines a body holds in the cache (a plain body draws its rows on demand: none)."""
    return 0 if body is None or isinstance(body, _PlainBody) else len(body)


# Identity hashing: entries are keys of the line cache. No repr: bodies can be megabytes.
@dataclass(eq=False, repr=False)
class _Entry:
    role: str
    content: str
    provider: str = ""
    model: str = ""
    status: str = ""
    error: str = ""
    created: datetime | None = None
    height: int = 2  # rows: header + body + separator; an estimate until `measured`
    measured: bool = False
    body: Sequence[Strip] | None = None  # rendered body (+ error line) at the log's width
    plain: bool = False  # drawn as plain text lines (huge, or too slow to render as Markdown)
    plain_for_now: bool = False  # plain only while streaming: Markdown comes back at the end
    stream: StreamRenderer | None = None  # set while the reply streams
    pending: list[str] = field(default_factory=list)  # chunks not yet rendered


class MessageLog(ScrollView, can_focus=True):
    """A whole conversation, drawn from cached lines; see the module docstring."""

    DEFAULT_CSS = """
    MessageLog {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: scroll;
        scrollbar-size-vertical: 1;
        &:focus {
            background-tint: $foreground 4%;
        }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "scroll_up", "Scroll up", show=False),
        Binding("down", "scroll_down", "Scroll down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "scroll_home", "Top", show=False),
        Binding("end", "scroll_end", "Bottom"),
        Binding("left_square_bracket,shift+up", "previous_message", "Prev msg", key_display="["),
        Binding("right_square_bracket,shift+down", "next_message", "Next msg", key_display="]"),
        Binding("c", "copy_message", "Copy msg"),
        Binding("y", "copy_code", "Copy code"),
        *(
            Binding(str(n), f"copy_code({n})", f"Copy code block {n}", show=False)
            for n in range(1, 10)
        ),
    ]

    STREAM_FPS: ClassVar[int] = 10
    # Fraction of the view to scroll by at once while following a streaming reply.
    STREAM_SCROLL_STEP: ClassVar[float] = 0.5
    # Rendered lines kept across all messages; heights stay known after eviction.
    LINE_CACHE_LIMIT: ClassVar[int] = 20_000

    following: var[bool] = var(True)
    """True while the view sticks to the bottom. Set it to True to jump there."""

    class Copy(Message):
        """The user asked to copy *text* (``kind`` is "message" or "code")."""

        def __init__(self, text: str, kind: str = "message") -> None:
            super().__init__()
            self.text = text
            self.kind = kind

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._entries: list[_Entry] = []
        self._offsets: list[int] = [0]  # first row of each entry, then the total
        self._valid = 0  # _offsets[: _valid + 1] are correct
        self._width = -1  # body width the caches were rendered at; -1 until sized
        self._cached: OrderedDict[_Entry, None] = OrderedDict()  # LRU of entries with body
        self._cached_lines = 0
        self._streaming: int | None = None
        self._timer: Timer | None = None
        self._focused: int | None = None
        self._adjusting = False  # our own scroll corrections must not change `following`
        # While a reply streams: the least virtual height, so blank rows under the text
        # take new lines without scrolling (see STREAM_SCROLL_STEP). 0 otherwise.
        self._floor = 0

    # ------------------------------------------------------------------ public API

    @property
    def message_count(self) -> int:
        return len(self._entries)

    @property
    def focused_index(self) -> int | None:
        """The message selected with ``[``/``]`` (None until one is)."""
        return self._focused

    def clear(self) -> None:
        self._stop_timer()
        self._entries.clear()
        self._offsets = [0]
        self._valid = 0
        self._cached.clear()
        self._cached_lines = 0
        self._streaming = None
        self._focused = None
        self._floor = 0
        self._update_virtual_size()
        self.following = True
        self.scroll_to(y=0, animate=False)
        self.refresh()

    def add_message(
        self,
        role: str,
        content: str,
        *,
        provider: str = "",
        model: str = "",
        status: str = "",
        error: str = "",
        created: datetime | None = None,
    ) -> int:
        """Add a finished message. A user message brings the view back to the bottom:
        the reader has just sent it and will want to see the reply."""
        if role == "user":
            self.following = True
            self._focused = None  # a mark from before the new exchange would copy an old one
        entry = _Entry(role, content, provider, model, status, error, created)
        return self._add(entry)

    def load(self, messages: Iterable[object]) -> None:
        """Replace the conversation. Heights are estimated; only what shows is rendered."""
        self.clear()
        width = self._body_width_or_fallback()
        for message in messages:
            field_text = {
                name: str(getattr(message, name, "") or "")
                for name in ("role", "content", "provider", "model", "status", "error")
            }
            created = getattr(message, "created", None)
            entry = _Entry(**field_text, created=created if isinstance(created, datetime) else None)
            entry.height = _estimate(entry, width)
            self._entries.append(entry)
        self._valid = 0
        self._layout()
        self._settle()
        self.refresh()

    def start_reply(self, provider: str, model: str) -> int:
        if self._streaming is not None:  # never two live replies; close the old one
            self.finish_reply("cancelled")
        self._focused = None  # a new reply resets the mark: `c` and `[` start from the end
        entry = _Entry("assistant", "", provider, model, status="streaming")
        entry.stream = _markdown().StreamRenderer()
        index = self._add(entry)
        self._streaming = index
        self._start_timer()
        return index

    def append(self, text: str) -> None:
        """Queue streamed text; the next tick renders it. Ignored when nothing streams."""
        if self._streaming is not None and text:
            self._entries[self._streaming].pending.append(text)

    def finish_reply(
        self, status: str, error: str = "", provider: str = "", model: str = ""
    ) -> None:
        index = self._streaming
        if index is None:
            return
        self._stop_timer()
        self._streaming = None
        self._floor = 0
        entry = self._entries[index]
        self._take_pending(entry)
        entry.status = status
        entry.error = error
        entry.provider = provider or entry.provider
        entry.model = model or entry.model
        stream, entry.stream = entry.stream, None
        body: Sequence[Strip] | None = None
        if entry.plain and isinstance(entry.body, _PlainBody) and entry.body.width == self._width:
            body = entry.body  # already holds every row; only the error line may be new
            body.extra = self._error_lines(entry, *self._render_context())
            body.extend(entry.content)
        elif (
            stream is not None
            and self._width > 0
            and not entry.plain
            and not stream.needs_full_render(entry.content)
        ):
            # The streamed blocks equal a whole render; only the tail may be stale.
            body = stream.render(*self._render_context(), entry.content)
        self._set_body(index, body)
        if entry.plain_for_now and len(entry.content) <= PLAIN_LIMIT:
            self._render_in_thread(entry)

    def _render_in_thread(self, entry: _Entry) -> None:
        """Render *entry* as Markdown off the event loop; swap it in when done."""
        if self._width <= 0:
            return
        width = self._width
        console, options = self._render_context()
        text = clean(entry.content)
        render = _markdown().render_markdown

        def work() -> None:
            lines = render(console, options, text)
            self.app.call_from_thread(self._rendered_in_thread, entry, width, lines)

        self.run_worker(work, thread=True, exit_on_error=False, group="markdown")

    def _rendered_in_thread(self, entry: _Entry, width: int, lines: list[Strip]) -> None:
        if width != self._width or entry.stream is not None or entry not in self._entries:
            return  # re-wrapped, restarted or removed meanwhile: this render is stale
        entry.plain = entry.plain_for_now = False
        self._set_body(self._entries.index(entry), lines)

    def set_header(
        self,
        index: int,
        *,
        provider: str | None = None,
        model: str | None = None,
        status: str | None = None,
    ) -> None:
        entry = self._entries[index]
        if provider is not None:
            entry.provider = provider
        if model is not None:
            entry.model = model
        if status is not None:
            entry.status = status
        self._layout()
        self.refresh_lines(self._offsets[index], 1)

    def remove_last(self) -> None:
        """Drop the last message (regenerate)."""
        if not self._entries:
            return
        index = len(self._entries) - 1
        if self._streaming == index:
            self._stop_timer()
            self._streaming = None
        self._floor = 0
        entry = self._entries.pop()
        self._drop_body(entry)
        if self._focused is not None and self._focused >= len(self._entries):
            self._focused = len(self._entries) - 1 if self._entries else None
        self._valid = min(self._valid, index)
        self._layout()
        self._settle()
        self.refresh()

    def message_text(self, index: int) -> str:
        """The raw Markdown of message *index* (what was streamed so far, if live)."""
        entry = self._entries[index]
        return entry.content + "".join(entry.pending)

    def code_blocks(self, index: int) -> list[str]:
        """The fenced code blocks of message *index*, raw, in order."""
        text = self.message_text(index)
        if len(text) > PLAIN_LIMIT:
            # Parsing megabytes of Markdown takes seconds; top-level fences are found by
            # a scan of the lines instead (the message is shown as plain text anyway).
            return [match.group(2) or "" for match in _FENCE.finditer(text)]
        return _markdown().code_blocks(text)

    # ------------------------------------------------------------------ layout

    def _body_width(self) -> int:
        return max(MIN_BODY_WIDTH, self.scrollable_content_region.width - GUTTER)

    def _body_width_or_fallback(self) -> int:
        return self._width if self._width > 0 else FALLBACK_WIDTH

    def _viewport_height(self) -> int:
        return self.scrollable_content_region.height

    def _render_context(self) -> tuple[Console, ConsoleOptions]:
        console = self.app.console
        # height=None: the console's own options carry the terminal height, which
        # render_lines would otherwise crop every message to.
        options = console.options.update_width(self._width).update(height=None)
        return console, options

    def _layout(self) -> None:
        """Bring the row offsets up to date and publish the virtual size."""
        offsets = self._offsets
        entries = self._entries
        del offsets[self._valid + 1 :]
        total = offsets[self._valid]
        for entry in entries[self._valid :]:
            total += entry.height
            offsets.append(total)
        self._valid = len(entries)
        self._update_virtual_size()

    def _update_virtual_size(self) -> None:
        height = max(self._offsets[-1], self._floor) if self._entries else 0
        size = Size(self.scrollable_content_region.width, height)
        current = self.virtual_size
        if size == current:
            return
        if (
            size.width == current.width
            and self.styles.overflow_y == "scroll"
            and self.container_size
        ):
            # Only the height changed and the scrollbar is always shown, so nothing on the
            # screen can move: skip the full-screen relayout and repaint that setting the
            # reactive would cause on every new line of a streaming reply, and just update
            # the scrollbar and clamp the scroll position as that layout would.
            self.set_reactive(MessageLog.virtual_size, size)
            self._scroll_update(size)
        else:
            self.virtual_size = size

    def _index_at(self, y: int) -> int:
        """Index of the entry covering row *y* (offsets must be current)."""
        return max(0, min(len(self._entries) - 1, bisect_right(self._offsets, y) - 1))

    def _add(self, entry: _Entry) -> int:
        self._floor = 0
        entry.height = _estimate(entry, self._body_width_or_fallback())
        self._entries.append(entry)
        index = len(self._entries) - 1
        self._layout()
        if self._width > 0:
            self._measure(index)
            self._layout()
        if self.following:
            self._scroll_to_end()
        self.refresh()
        return index

    def _measure(self, index: int) -> bool:
        """Render entry *index* if needed; True if its height changed."""
        entry = self._entries[index]
        if entry.body is None:
            self._set_body_quiet(entry, self._render_body(entry))
        height = 2 + len(entry.body or ())
        entry.measured = True
        if height == entry.height:
            return False
        entry.height = height
        self._valid = min(self._valid, index)
        return True

    def _settle(self) -> None:
        """Render what is in (or near) view and fix heights without moving the view.

        Following: measure from the bottom up, then stay at the end. Otherwise the message
        at the top of the view is the anchor: heights corrected above it would shift the
        content, so the scroll position moves by the same amount.
        """
        if self._adjusting or self._width <= 0 or not self._entries:
            return
        self._adjusting = True
        try:
            height = self._viewport_height()
            margin = max(height, 10)  # a screen either side, so paging never shows estimates
            changed = False
            entries = self._entries
            if self.following:
                covered = 0
                for index in range(len(entries) - 1, -1, -1):
                    changed |= self._measure(index)
                    covered += entries[index].height
                    if covered >= height + margin:
                        break
                self._layout()
                self._scroll_to_end()
            else:
                self._layout()
                top = round(self.scroll_y)
                anchor = self._index_at(top)
                row = top - self._offsets[anchor]
                covered = -row
                for index in range(anchor, len(entries)):
                    changed |= self._measure(index)
                    covered += entries[index].height
                    if covered >= height + margin:
                        break
                covered = 0
                for index in range(anchor - 1, -1, -1):
                    changed |= self._measure(index)
                    covered += entries[index].height
                    if covered >= margin:
                        break
                self._layout()
                new_top = self._offsets[anchor] + min(row, entries[anchor].height - 1)
                if new_top != top:
                    self.scroll_to(y=new_top, animate=False)
            if changed:
                self.refresh()
        finally:
            self._adjusting = False

    def _scroll_to_end(self) -> None:
        if self.scroll_y != self.max_scroll_y:
            adjusting, self._adjusting = self._adjusting, True
            try:
                self.scroll_to(y=self.max_scroll_y, animate=False)
            finally:
                self._adjusting = adjusting

    def _check_width(self) -> None:
        """Re-wrap everything if the width changed, keeping the view where it was."""
        if not self.size:
            return
        width = self._body_width()
        if width == self._width:
            return
        anchor: tuple[int, float] | None = None
        if self._width > 0 and self._entries and not self.following:
            self._layout()
            top = round(self.scroll_y)
            index = self._index_at(top)
            fraction = (top - self._offsets[index]) / max(1, self._entries[index].height)
            anchor = (index, fraction)
        self._width = width
        self._floor = 0
        self._cached.clear()
        self._cached_lines = 0
        for entry in self._entries:
            entry.body = None
            entry.measured = False
            entry.height = _estimate(entry, width)
            if entry.stream is not None:
                entry.stream.reset()
        self._valid = 0
        self._layout()
        if anchor is not None:
            index, fraction = anchor
            self._measure(index)
            self._layout()
            row = int(fraction * self._entries[index].height)
            self._adjusting = True
            try:
                self.scroll_to(y=self._offsets[index] + row, animate=False)
            finally:
                self._adjusting = False
        self._settle()
        self.refresh()

    # ------------------------------------------------------------------ rendering

    def _render_body(self, entry: _Entry) -> Sequence[Strip]:
        console, options = self._render_context()
        if entry.plain or len(entry.content) > PLAIN_LIMIT:
            entry.plain = True
            errors = self._error_lines(entry, console, options)
            return _PlainBody(clean(entry.content), self._width, errors)
        if entry.stream is not None:
            lines = entry.stream.render(console, options, entry.content)
        elif entry.role == "assistant":
            lines = _markdown().render_markdown(console, options, clean(entry.content))
        else:
            plain = _markdown().render_plain
            lines = plain(console, options, clean(entry.content)) if entry.content else []
        return lines + self._error_lines(entry, console, options)

    def _error_lines(self, entry: _Entry, console: Console, options: ConsoleOptions) -> list[Strip]:
        if not entry.error:
            return []
        text = Text.assemble(("✗ error: ", "bold red"), (clean(entry.error), "red"), end="")
        return _markdown().to_strips(console, text, options)

    def _set_body_quiet(self, entry: _Entry, body: Sequence[Strip]) -> None:
        self._drop_body(entry)
        entry.body = body
        if isinstance(body, _PlainBody):
            return  # rows are drawn on demand; nothing to evict
        self._cached[entry] = None
        self._cached_lines += len(body)
        self._evict()

    def _drop_body(self, entry: _Entry) -> None:
        if entry in self._cached:
            del self._cached[entry]
            self._cached_lines -= _cost(entry.body)
        entry.body = None

    def _evict(self) -> None:
        # Oldest first; a message that is streaming keeps its lines.
        while self._cached_lines > self.LINE_CACHE_LIMIT and len(self._cached) > 1:
            entry = next(iter(self._cached))
            if entry.stream is not None:
                self._cached.move_to_end(entry)
                continue
            self._drop_body(entry)

    def _set_body(self, index: int, body: Sequence[Strip] | None) -> None:
        """Replace a message's lines (None: render now) and update the view."""
        entry = self._entries[index]
        if self._width <= 0:  # not sized yet; rendered once we know the width
            self._drop_body(entry)
            return
        if body is None:
            body = self._render_body(entry)
        elif entry.error and not isinstance(body, _PlainBody):
            body = list(body) + self._error_lines(entry, *self._render_context())
        self._set_body_quiet(entry, body)
        self._measure(index)
        self._layout()
        if self.following:
            self._scroll_to_end()
        self.refresh()

    def _header(self, index: int, entry: _Entry, focused: bool) -> Strip:
        width = self._width
        label = ROLE_LABELS.get(entry.role, clean(entry.role) or "?")
        header = Text(end="", no_wrap=True)
        header.append(label, ROLE_STYLES.get(entry.role, "bold"))
        who = "/".join(part for part in (entry.provider, entry.model) if part)
        if who and entry.role == "assistant":
            header.append(" · ", "dim")
            header.append(clean(who))
        if entry.status and entry.status != "complete":
            status = STATUS_LABELS.get(entry.status, clean(entry.status))
            header.append(" · ", "dim")
            header.append(status, STATUS_STYLES.get(entry.status, "italic"))
        if focused:
            header.stylize("reverse")
        stamp = entry.created.astimezone().strftime("%H:%M") if entry.created else ""
        room = width - (len(stamp) + 1 if stamp else 0)
        header.truncate(max(1, room), overflow="ellipsis")
        if stamp:
            header.pad_right(width - header.cell_len - len(stamp))
            header.append(stamp, "dim")
        header.truncate(width, pad=True)
        return Strip(list(header.render(self.app.console)), width)

    def _line(self, y: int) -> Strip | None:
        """Content row *y* of the whole log, gutter included; None past the end."""
        entries = self._entries
        if not entries or y < 0 or self._width <= 0:
            return None
        if self._valid < len(entries):
            self._layout()
        if y >= self._offsets[-1]:
            return None
        index = self._index_at(y)
        entry = entries[index]
        row = y - self._offsets[index]
        last_row = row == entry.height - 1  # the separator: no focus mark, so messages part
        focused = index == self._focused and self.has_focus and not last_row
        if row == 0:
            content = self._header(index, entry, focused)
        else:
            if entry.body is None:
                # Normally _settle has rendered it; if not, render now and fix the
                # layout right after this frame.
                if self._measure(index):
                    self.call_after_refresh(self._settle)
            elif entry in self._cached:  # a plain body is not in the line cache
                self._cached.move_to_end(entry)
            body = entry.body or []
            content = body[row - 1] if row - 1 < len(body) else Strip.blank(self._width)
        gutter = Strip(
            [Segment(FOCUS_MARK, Style(bold=True, color="cyan")), Segment(" ")]
            if focused
            else [Segment(" " * GUTTER)],
            GUTTER,
        )
        return Strip.join([gutter, content])

    def render_lines(self, crop: Region) -> list[Strip]:
        # The Resize event can arrive after a frame at the new size; never paint stale wraps.
        self._check_width()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        scroll_y = round(self.scroll_y)
        width = self.size.width
        style = self.rich_style
        line = self._line(scroll_y + y)
        if line is None:
            return Strip.blank(width, style)
        return line.apply_style(style).crop_extend(0, width, style)

    # ------------------------------------------------------------------ streaming

    def _start_timer(self, mounting: bool = False) -> None:
        # Before mount there is no loop to run a timer on; on_mount starts it then.
        if self._timer is None and (mounting or self.is_mounted):
            self._timer = self.set_interval(1 / self.STREAM_FPS, self._tick)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _take_pending(self, entry: _Entry) -> bool:
        if not entry.pending:
            return False
        entry.content += clean("".join(entry.pending))
        entry.pending.clear()
        return True

    def _tick(self) -> None:
        index = self._streaming
        if index is None:
            self._stop_timer()
            return
        entry = self._entries[index]
        if not self._take_pending(entry) or self._width <= 0:
            return
        plain = entry.body if isinstance(entry.body, _PlainBody) else None
        if plain is not None and plain.width == self._width:
            # Plain rows: only the last source line and what follows are wrapped again.
            old_rows = len(plain)
            first = plain.extend(entry.content)
            self._after_tick(index, first, old_rows, len(plain))
            return
        old = entry.body or []
        # Where the previous render's tail began: a block that was still growing then (and
        # is final now) may have changed, so the comparison starts there, not at the new tail.
        first = entry.stream.tail_start if entry.stream is not None else 0
        started = perf_counter()
        self._set_body_quiet(entry, self._render_body(entry))
        if perf_counter() - started > RENDER_BUDGET and not entry.plain:
            # Rendering this reply as Markdown holds keys up: go on with plain text lines.
            entry.plain = entry.plain_for_now = True
            first = 0
            self._set_body_quiet(entry, self._render_body(entry))
        new = entry.body or []
        self._measure(index)
        self._layout()
        if self.following and self._scroll_in_steps():
            return  # scrolling repaints the whole view anyway
        # Repaint only the lines that changed: usually just the last one or two.
        while first < len(old) and first < len(new) and old[first] == new[first]:
            first += 1
        self._refresh_rows(index, first, len(old), len(new))

    def _after_tick(self, index: int, first: int, old_rows: int, new_rows: int) -> None:
        self._measure(index)
        self._layout()
        if self.following and self._scroll_in_steps():
            return
        self._refresh_rows(index, first, old_rows, new_rows)

    def _refresh_rows(self, index: int, first: int, old_rows: int, new_rows: int) -> None:
        """Repaint body rows *first* on of message *index*, as far as they are in view."""
        start = self._offsets[index] + 1 + first
        end = self._offsets[index] + 1 + max(old_rows, new_rows)  # header + body rows
        if new_rows != old_rows:
            end += 1  # the separator moved
        top = round(self.scroll_y)
        start = max(start, top)
        end = min(end, top + self._viewport_height())
        if start < end:
            self.refresh_lines(start, end - start)

    def _scroll_in_steps(self) -> bool:
        """Keep the end of a growing reply in view, scrolling by a step; True if it scrolled.

        When the text passes the bottom of the view, scroll so that it ends a step above
        the bottom, with blank rows under it (the floor) for the next lines to fill.
        """
        view = self._viewport_height()
        content = self._offsets[-1]
        if content <= round(self.scroll_y) + view:
            if self.scroll_y != self.max_scroll_y:
                self._scroll_to_end()  # the text got shorter than the floor kept room for
                return True
            return False
        step = max(1, min(view - 1, round(view * self.STREAM_SCROLL_STEP)))
        self._floor = content + step
        self._update_virtual_size()
        self._scroll_to_end()
        return True

    # ------------------------------------------------------------------ events

    def on_mount(self) -> None:
        if self._streaming is not None:
            self._start_timer(mounting=True)

    def on_resize(self, event: events.Resize) -> None:
        self._check_width()
        self._settle()

    def on_unmount(self) -> None:
        self._stop_timer()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._adjusting:
            return
        # The reader's own scrolling decides whether we stick to the bottom.
        self.following = round(new_value) >= self.max_scroll_y
        self._settle()

    def watch_following(self, following: bool) -> None:
        if following:
            self._settle()

    # ------------------------------------------------------------------ actions

    def _scroll_by(self, rows: int) -> None:
        # Not animated: animation would repaint many times and blur following detection.
        self.scroll_to(y=round(self.scroll_y) + rows, animate=False)

    def action_scroll_up(self) -> None:
        self._scroll_by(-1)

    def action_scroll_down(self) -> None:
        self._scroll_by(1)

    def action_page_up(self) -> None:
        self._scroll_by(-max(1, self._viewport_height() - 1))

    def action_page_down(self) -> None:
        self._scroll_by(max(1, self._viewport_height() - 1))

    def action_scroll_home(self) -> None:
        self.scroll_to(y=0, animate=False)

    def action_scroll_end(self) -> None:
        self.following = True
        self._settle()

    def _visible_headers(self) -> list[int]:
        self._layout()
        top = round(self.scroll_y)
        bottom = top + self._viewport_height()
        first = self._index_at(top)
        return [
            index
            for index in range(first, len(self._entries))
            if top <= self._offsets[index] < bottom
        ]

    def _focus_message(self, index: int) -> None:
        self._focused = index
        self._layout()
        top = round(self.scroll_y)
        header = self._offsets[index]
        if not top <= header < top + self._viewport_height():
            self.scroll_to(y=header, animate=False)
        self.refresh()

    def action_previous_message(self) -> None:
        if not self._entries:
            return
        if self._focused is None:
            visible = self._visible_headers()
            index = visible[-1] if visible else self._index_at(round(self.scroll_y))
        else:
            index = max(0, self._focused - 1)
        self._focus_message(index)

    def action_next_message(self) -> None:
        if not self._entries:
            return
        if self._focused is None:
            visible = self._visible_headers()
            index = visible[0] if visible else self._index_at(round(self.scroll_y))
        else:
            index = min(len(self._entries) - 1, self._focused + 1)
        self._focus_message(index)

    def _target(self) -> int | None:
        """The message the copy keys act on: the focused one, else the last."""
        if not self._entries:
            return None
        return self._focused if self._focused is not None else len(self._entries) - 1

    def action_copy_message(self) -> None:
        index = self._target()
        if index is not None:
            self.post_message(self.Copy(self.message_text(index), "message"))

    def action_copy_code(self, number: int = 0) -> None:
        """Copy the last code block of the message (or block *number*, counted from 1)."""
        index = self._target()
        if index is None:
            return
        blocks = self.code_blocks(index)
        if not blocks or number > len(blocks):
            self.notify("No such code block in this message.", severity="warning")
            return
        self.post_message(self.Copy(blocks[number - 1] if number else blocks[-1], "code"))


def _estimate(entry: _Entry, width: int) -> int:
    """Rows for a message not rendered yet: one per source line plus wrapping."""
    text = entry.content
    body = (text.count("\n") + 1 + len(text) // max(1, width)) if text else 0
    if entry.error:
        body += 1 + len(entry.error) // max(1, width)
    return 2 + body

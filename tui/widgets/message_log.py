"""The conversation view: one virtualised ScrollView drawing cached lines.

Textual's ``Markdown`` widget mounts a widget per block and re-parses as a reply streams,
which costs seconds of CPU for a long answer and does not scale to a long conversation.
Here every message is rendered with Rich into ``Strip`` lines at the log's width, cached,
and ``render_line`` only picks lines out of the cache (the pattern of Textualize/toolong's
``LogLines``). Only messages near the viewport are rendered at all; the rest keep an
estimated height that is corrected, with the view held still, once they come into view.
The bookkeeping (offsets, estimates, the line cache) is in ``log_layout``, apart from Textual.
While a reply streams, ``append`` only buffers; a timer (``STREAM_FPS``) renders the
reply's last Markdown block again, so the terminal gets at most one update per tick however
fast the chunks arrive, and repaints only the lines that changed. Every frame that scrolls
repaints the whole view, which is most of what crosses an SSH link, so while following a
streaming reply the view scrolls in steps (``STREAM_SCROLL_STEP`` of a screen): blank rows
below the text (``_floor``) take the next lines without moving anything, until they are
used up. They go when the reply ends.

Colours come from the theme through component classes (``PARTS``, styled in
``chatterm.tcss``); when they change (another theme, the stylesheet) the rendered lines are
dropped and drawn again. The search (``/``: ``log_search_view``, over ``log_search``) paints
its highlights over the cached lines as they are drawn, and only on the lines of messages
that have a match.

Text reaching this widget has been cleaned by ``tui.sanitize``; it is cleaned again when
rendered (cheap) and is only ever put into Rich ``Text``/``Markdown`` objects, never parsed
as Rich markup, so "[bold]" or "[@click=app.quit]" in a reply is shown, not obeyed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from time import monotonic, perf_counter
from types import ModuleType
from typing import ClassVar

from rich.console import Console, ConsoleOptions
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer

from ..sanitize import clean
from .bindings import bindings
from .log_layout import (
    FRAME_ROWS,
    GUTTER,
    Entry,
    LineCache,
    Offsets,
    PlainBody,
    covering,
    estimate,
    gutter,
    header_text,
    reasoning_label,
    repaint_span,
    scroll_step,
)
from .log_search import SearchStatus
from .log_search_view import LogSearchView
from .scrollbar_pace import Pace

__all__ = ["GUTTER", "MessageLog"]

# The parts of the log's look: component classes "message-log--<part>", styled in
# chatterm.tcss from the theme's variables. Header parts are drawn on every frame.
HEADER_PARTS = (
    "user",  # the role in a header
    "assistant",
    "system",
    "role",  # any other role
    "meta",  # the " · " between header fields, and the time
    "status-streaming",
    "status-cancelled",
    "status-error",
    "status",  # any other status
    "focused",  # the header of the message chosen with [ and ]
    "focus-mark",  # the mark in the gutter beside it
    "code-rule",  # the rule in the gutter beside a code block (it shows in any colours)
)
# Parts drawn into the cached lines: a change drops them.
BODY_PARTS = (
    "error-label",  # "✗ error: "
    "error",  # the error's text
    # Markdown (see markdown_render.MARKDOWN_PARTS)
    "code-block",
    "code-inline",
    "heading",
    "link",
    "quote",
    "list",
    "table",
    "attachment",  # the chip of a file sent with a prompt
    "reasoning",  # the model's reasoning above its reply, folded or not
)
# The search's marks (see log_search), drawn over the cached lines on every frame.
SEARCH_PARTS = (
    "search-match",  # every match of the search
    "search-current",  # the one n / N went to
)
PARTS = HEADER_PARTS + BODY_PARTS + SEARCH_PARTS


def _markdown() -> ModuleType:
    """``markdown_render``, imported at first use: it pulls in Rich's Markdown, Pygments and
    markdown-it (~50 ms), which the first paint of an empty conversation does not need."""
    from . import markdown_render

    return markdown_render


MIN_BODY_WIDTH = 8
FALLBACK_WIDTH = 80  # for estimates made before the widget has a size
# Past this many characters a message is drawn as plain text lines (PlainBody), not as
# Markdown: Rich lays out a whole block at once (a 1 MB table took >20 s), and the UI must
# keep taking keys. Every character is still shown, wrapped at the width.
PLAIN_LIMIT = 200_000
# A streaming reply whose Markdown render on one tick takes longer than this goes on as
# plain text, so one slow block (a growing table) cannot hold keys up for long.
# Such a reply (under PLAIN_LIMIT) gets its Markdown back when it ends, rendered in a thread
# (a 46 KB table takes ~1.4 s) and swapped in when ready.
RENDER_BUDGET = 0.05  # seconds


class MessageLog(LogSearchView, ScrollView, can_focus=True):
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

    COMPONENT_CLASSES: ClassVar[set[str]] = {f"message-log--{part}" for part in PARTS}

    BINDINGS: ClassVar[list[BindingType]] = [*bindings("log")]  # tui/keys.toml, scope "log"

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

    class Edit(Message):
        """The user asked to change message *index*: ``what`` is "edit", "delete", or
        "older" / "newer" (another of its alternatives). The screen asks the core."""

        def __init__(self, index: int, what: str) -> None:
            super().__init__()
            self.index = index
            self.what = what

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._entries: list[Entry] = []
        self._offsets = Offsets()
        self._cache = LineCache(self.LINE_CACHE_LIMIT)
        self._width = -1  # body width the caches were rendered at; -1 until sized
        self._streaming: int | None = None
        self._timer: Timer | None = None
        self._focused: int | None = None
        self._adjusting = False  # our own scroll corrections must not change `following`
        # While a reply streams: the least virtual height, so blank rows under the text
        # take new lines without scrolling (see STREAM_SCROLL_STEP). 0 otherwise.
        self._floor = 0
        self._styles: dict[str, Style] | None = None  # the parts, as last read
        self._body_console: Console | None = None  # renders bodies in those styles; None: make it
        self._scrollbar = Pace(self)  # redraws the scrollbar as a reply grows: see scrollbar_pace
        self._init_search()  # the search (/): log_search_view

    # ------------------------------------------------------------------ public API

    @property
    def message_count(self) -> int:
        return len(self._entries)

    @property
    def focused_index(self) -> int | None:
        """The message selected with ``[``/``]`` (None until one is)."""
        return self._focused

    @property
    def cached_lines(self) -> int:
        """Rendered lines held in the cache (at most about ``LINE_CACHE_LIMIT``)."""
        return len(self._cache)

    def rendered_messages(self) -> list[int]:
        """Indices of the messages whose lines are rendered now; the others are drawn (or,
        if never rendered, measured) when they come into view."""
        return [n for n, entry in enumerate(self._entries) if self._is_rendered(entry)]

    def message_height(self, index: int) -> int:
        """Rows of message *index*: header, body and separator (an estimate until rendered)."""
        return self._entries[index].height

    def clear(self) -> None:
        self._stop_timer()
        self._entries.clear()
        self._offsets.clear()
        self._cache.clear()
        self._streaming = None
        self._focused = None
        self._floor = 0
        self._drop_search()
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
        chips: Sequence[str] = (),
    ) -> int:
        """Add a finished message. A user message brings the view back to the bottom:
        the reader has just sent it and will want to see the reply. *chips*: one line per
        file it attached, drawn after *content* (the prompt as typed)."""
        if role == "user":
            self.following = True
            self._focused = None  # a mark from before the new exchange would copy an old one
        entry = Entry(role, content, provider, model, status, error, created)
        entry.chips = tuple(chips)
        return self._add(entry)

    def load(self, messages: Iterable[object]) -> None:
        """Replace the conversation. Heights are estimated; only what shows is rendered."""
        self.clear()
        width = self._body_width_or_fallback()
        for message in messages:
            entry = Entry.from_message(message)
            entry.height = estimate(entry, width)
            self._entries.append(entry)
        self._offsets.invalidate(0)
        self._layout()
        self._settle()
        self.refresh()

    def start_reply(self, provider: str, model: str) -> int:
        if self._streaming is not None:  # never two live replies; close the old one
            self.finish_reply("cancelled")
        self._focused = None  # a new reply resets the mark: `c` and `[` start from the end
        entry = Entry("assistant", "", provider, model, status="streaming")
        entry.stream = _markdown().StreamRenderer()
        index = self._add(entry)
        self._streaming = index
        self._start_timer()
        return index

    def resume_reply(self, message: object) -> int:
        """Stream on into the last message (a reply continued after the token limit): it
        is drawn live again, from its text and reasoning so far (a ``store.Message``)."""
        self.remove_last()
        done = Entry.from_message(message)
        index = self.start_reply(done.provider, done.model)
        entry = self._entries[index]
        entry.content, entry.reasoning, entry.created = done.content, done.reasoning, done.created
        entry.reasoning_tokens = done.reasoning_tokens
        self._set_body(index, None)
        return index

    def append(self, text: str) -> None:
        """Queue streamed text; the next tick renders it. Ignored when nothing streams."""
        if self._streaming is not None and text:
            self._entries[self._streaming].pending.append(text)

    def append_reasoning(self, text: str) -> None:
        """Queue streamed reasoning (cleaned by the core); the next tick draws it, folded,
        so a model thinking for a minute shows it is working from its first token."""
        if self._streaming is None or not text:
            return
        entry = self._entries[self._streaming]
        if entry.thinking_since is None:
            entry.thinking_since = monotonic()
        entry.pending_reasoning.append(text)

    def set_reasoning_tokens(self, tokens: int | None) -> None:
        """The service's count of the streaming reply's reasoning tokens (else "~" chars/4)."""
        if self._streaming is not None:
            self._entries[self._streaming].reasoning_tokens = tokens

    def toggle_reasoning(self) -> bool:
        """Unfold or fold the reasoning of the focused message, else of the last one that
        has any; False when none has."""
        index = self._reasoning_target()
        if index is None:
            return False
        entry = self._entries[index]
        entry.reasoning_open = not entry.reasoning_open
        if entry.stream is None:
            self._set_body(index, None)
            return True
        old = len(entry.held or [])
        self._keep(entry, self._render_body(entry))
        self._after_tick(index, 0, old, len(entry.held or []))
        return True

    def _reasoning_target(self) -> int | None:
        focused = self._focused
        if focused is not None and self._entries[focused].reasoning:
            return focused
        for index in range(len(self._entries) - 1, -1, -1):
            entry = self._entries[index]
            if entry.reasoning or entry.pending_reasoning:
                return index
        return None

    def finish_reply(
        self, status: str, error: str = "", provider: str = "", model: str = "", finish: str = ""
    ) -> None:
        index = self._streaming
        if index is None:
            return
        self._stop_timer()
        self._streaming = None
        self._floor = 0
        entry = self._entries[index]
        self._take_pending(entry)
        if entry.thinking_since is not None and entry.thought_for is None:
            entry.thought_for = monotonic() - entry.thinking_since  # it never got to text
        entry.status = status
        entry.finish = finish
        entry.error = error
        entry.provider = provider or entry.provider
        entry.model = model or entry.model
        stream, entry.stream = entry.stream, None
        body: Sequence[Strip] | None = None
        held = entry.held
        if entry.plain and isinstance(held, PlainBody) and held.width == self._width:
            body = held  # already holds every row; only the error line may be new
            held.extra = self._error_lines(entry, *self._render_context())
            held.extend(entry.content)
        elif (
            stream is not None
            and self._width > 0
            and not entry.plain
            and not stream.needs_full_render(entry.content)
        ):
            # The streamed blocks equal a whole render; only the tail may be stale.
            console, options = self._render_context()
            body = self._reasoning_lines(entry, console, options)
            body += stream.render(console, options, entry.content)
        self._set_body(index, body)
        if entry.plain_for_now and len(entry.content) <= PLAIN_LIMIT:
            self._render_in_thread(entry)

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

    def replace_from(self, index: int, messages: Iterable[object]) -> None:
        """Messages *index* on are *messages* now (stored messages: an edit or another
        alternative changed the path). The mark stays on *index* where it still exists."""
        if self._streaming is not None and self._streaming >= index:
            self._stop_timer()
            self._streaming = None
        self._floor = 0
        for entry in self._entries[index:]:
            self._drop_body(entry)
        del self._entries[index:]
        width = self._body_width_or_fallback()
        for message in messages:
            entry = Entry.from_message(message)
            entry.height = estimate(entry, width)
            self._entries.append(entry)
        if self._focused is not None and self._focused >= len(self._entries):
            self._focused = len(self._entries) - 1 if self._entries else None
        self._offsets.invalidate(index)
        self._layout()
        self._settle()
        self.refresh()

    def set_choices(self, choices: Mapping[int, tuple[int, int]]) -> None:
        """Which alternative each message shows (``‹ 2/3 ›``); messages not named have none."""
        for index, entry in enumerate(self._entries):
            entry.choice = choices.get(index)
        self.refresh()

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
        self._offsets.invalidate(index)
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
        if len(text) > PLAIN_LIMIT:  # shown as plain text anyway; a parse would take seconds
            return _markdown().scan_code_blocks(text)
        return _markdown().code_blocks(text)

    # ------------------------------------------------------------------ search

    class SearchRequested(Message):
        """The user asked to search this conversation (``/``): the screen opens its bar."""

    class SearchChanged(Message):
        """The search changed or moved; ``status`` is None once there is none."""

        def __init__(self, status: SearchStatus | None) -> None:
            super().__init__()
            self.status = status

    # ------------------------------------------------------------------ the look

    def _part(self, part: str) -> Style:
        """The style of component class "message-log--<part>": its own attributes, its
        colours blended over the log's background (a translucent colour is only right so).
        A colour it does not set stays unset, so the segment beneath shows through."""
        name = f"message-log--{part}"
        blended = self.get_component_rich_style(name, default=Style.null())
        own = self.get_component_rich_style(name, partial=True, default=Style.null())
        return own.without_color + Style.from_color(
            blended.color if own.color is not None else None,
            blended.bgcolor if own.bgcolor is not None else None,
        )

    @property
    def _look(self) -> dict[str, Style]:
        if self._styles is None:
            self._styles = {part: self._part(part) for part in PARTS}
        return self._styles

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self._styles is not None:
            # The stylesheet gives component classes their styles after this call: read
            # them once it has (a theme change, the stylesheet reloaded, focus).
            self.call_next(self._check_look)

    def _check_look(self) -> None:
        """Read the parts again; drop the rendered lines if what they were drawn in changed."""
        old, self._styles = self._styles, None
        new = self._look
        if new == old:
            return
        if old is None or any(new[part] != old[part] for part in BODY_PARTS):
            self._body_console = None
            self._forget_lines()
        self.refresh()

    def _forget_lines(self) -> None:
        """Drop every rendered line; each message is rendered again when drawn."""
        self._cache.clear()
        for entry in self._entries:
            entry.held = None
            if entry.stream is not None:
                entry.stream.reset()

    # ------------------------------------------------------------------ rendering

    def _render_context(self) -> tuple[Console, ConsoleOptions]:
        if self._body_console is None:
            look = self._look
            parts = {part: look[part] for part in BODY_PARTS}
            self._body_console = _markdown().themed_console(self.app.console, parts)
        # height=None: the console's own options carry the terminal height, which
        # render_lines would otherwise crop every message to.
        options = self.app.console.options.update_width(self._width).update(height=None)
        return self._body_console, options

    def _render_body(self, entry: Entry) -> Sequence[Strip]:
        console, options = self._render_context()
        if entry.plain or len(entry.content) > PLAIN_LIMIT:
            entry.plain = True
            errors = self._chip_lines(entry, console, options)
            errors += self._error_lines(entry, console, options)
            return PlainBody(clean(entry.content), self._width, errors)
        if entry.stream is not None:
            lines = entry.stream.render(console, options, entry.content)
            if entry.reasoning:  # not prepended: the stream keeps its own lines
                lines = self._reasoning_lines(entry, console, options) + lines
        elif entry.role == "assistant":
            lines = self._reasoning_lines(entry, console, options)
            lines += _markdown().render_markdown(console, options, clean(entry.content))
        else:
            plain = _markdown().render_plain
            lines = plain(console, options, clean(entry.content)) if entry.content else []
        return (
            lines
            + self._chip_lines(entry, console, options)
            + self._error_lines(entry, console, options)
        )

    def _reasoning_lines(
        self, entry: Entry, console: Console, options: ConsoleOptions
    ) -> list[Strip]:
        """The reasoning block above a reply: its folded line, and its text when unfolded
        (plain: it is the model's working, not a document). Cleaned like the reply."""
        if not entry.reasoning:
            entry.reasoning_rows = 0
            return []
        style, strips = self._look["reasoning"], _markdown().to_strips
        label = Text(reasoning_label(entry, monotonic()), style, end="", overflow="ellipsis")
        lines = strips(console, label, options)
        if entry.reasoning_open:
            lines += strips(console, Text(entry.reasoning.strip("\n"), style, end=""), options)
        entry.reasoning_rows = len(lines)
        return lines

    def _chip_lines(self, entry: Entry, console: Console, options: ConsoleOptions) -> list[Strip]:
        """One line per attached file (cut with "…" rather than wrapped)."""
        style, strips = self._look["attachment"], _markdown().to_strips
        lines: list[Strip] = []
        for chip in entry.chips:
            text = Text(clean(chip), style, end="", no_wrap=True, overflow="ellipsis")
            lines += strips(console, text, options)
        return lines

    def _error_lines(self, entry: Entry, console: Console, options: ConsoleOptions) -> list[Strip]:
        if not entry.error:
            return []
        look = self._look
        text = Text.assemble(
            ("✗ error: ", look["error-label"]), (clean(entry.error), look["error"]), end=""
        )
        return _markdown().to_strips(console, text, options)

    def _render_in_thread(self, entry: Entry) -> None:
        """Render *entry* as Markdown off the event loop; swap it in when done."""
        if self._width <= 0:
            return
        width = self._width
        console, options = self._render_context()
        text = clean(entry.content)
        render = _markdown().render_markdown

        def work() -> None:
            lines = render(console, options, text)
            self.app.call_from_thread(self._rendered_in_thread, entry, width, console, lines)

        self.run_worker(work, thread=True, exit_on_error=False, group="markdown")

    def _rendered_in_thread(
        self, entry: Entry, width: int, console: Console, lines: list[Strip]
    ) -> None:
        if entry.stream is not None or entry not in self._entries:
            return  # restarted or removed meanwhile
        if width != self._width or console is not self._body_console:
            self._render_in_thread(entry)  # re-wrapped or re-themed meanwhile: once more
            return
        entry.plain = entry.plain_for_now = False
        above = self._reasoning_lines(entry, console, options=self._render_context()[1])
        self._set_body(self._entries.index(entry), above + lines)

    def _keep(self, entry: Entry, body: Sequence[Strip]) -> None:
        """Make *body* the lines of *entry*, without touching the view."""
        self._drop_body(entry)
        if entry.stream is not None or isinstance(body, PlainBody):
            entry.held = body  # rendered again every tick, or rows drawn on demand
        else:
            self._cache.store(entry, body)

    def _drop_body(self, entry: Entry) -> None:
        self._cache.drop(entry)
        entry.held = None

    def _is_rendered(self, entry: Entry) -> bool:
        return entry.held is not None or self._cache.holds(entry)

    def _set_body(self, index: int, body: Sequence[Strip] | None) -> None:
        """Replace a message's lines (None: render now) and update the view."""
        entry = self._entries[index]
        if self._width <= 0:  # not sized yet; rendered once we know the width
            self._drop_body(entry)
            return
        if body is None:
            body = self._render_body(entry)
        elif entry.error and not isinstance(body, PlainBody):
            body = list(body) + self._error_lines(entry, *self._render_context())
        self._keep(entry, body)
        self._measure(index)
        self._layout()
        if self.following:
            self._scroll_to_end()
        self.refresh()

    def _header(self, entry: Entry, focused: bool) -> Strip:
        text = header_text(entry, self._width, self._look, focused)
        return Strip(list(text.render(self.app.console)), self._width)

    def _body_line(self, index: int, row: int) -> Strip:
        """Body row *row* of message *index*, rendering the message if it must."""
        entry = self._entries[index]
        if entry.held is None and entry.measured:
            if row >= entry.height - FRAME_ROWS:
                return Strip.blank(self._width)  # the separator
            line = self._cache.get(entry, row)
            if line is not None:
                return line
        body = entry.held
        if body is None:
            # Normally _settle has rendered it; if not (or its lines were evicted), render
            # now and fix the layout right after this frame if its height changed.
            body = self._render_body(entry)
            self._keep(entry, body)
            if self._measure(index):
                self.call_after_refresh(self._settle)
        return body[row] if row < len(body) else Strip.blank(self._width)

    def _line(self, y: int) -> Strip | None:
        """Content row *y* of the whole log, gutter included; None past the end."""
        entries = self._entries
        if not entries or y < 0 or self._width <= 0:
            return None
        if not self._offsets.is_current(len(entries)):
            self._layout()
        if y >= self._offsets.total:
            return None
        index = self._offsets.index_at(y)
        entry = entries[index]
        row = y - self._offsets[index]
        last_row = row == entry.height - 1  # the separator: no focus mark, so messages part
        focused = index == self._focused and self.has_focus and not last_row
        if row == 0:
            content = self._header(entry, focused)
        else:
            content = self._body_line(index, row - 1)
            if self._search is not None:
                content = self._marked(index, row - 1, content)
        return Strip.join([gutter(content, focused, self._look), content])

    def render_lines(self, crop: Region) -> list[Strip]:
        # The Resize event can arrive after a frame at the new size; never paint stale wraps.
        self._check_width()
        self._sync_search()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        scroll_y = round(self.scroll_y)
        width = self.size.width
        style = self.rich_style
        line = self._line(scroll_y + y)
        if line is None:
            return Strip.blank(width, style)
        return line.apply_style(style).crop_extend(0, width, style)

    # ------------------------------------------------------------------ layout

    def _body_width(self) -> int:
        return max(MIN_BODY_WIDTH, self.scrollable_content_region.width - GUTTER)

    def _body_width_or_fallback(self) -> int:
        return self._width if self._width > 0 else FALLBACK_WIDTH

    def _viewport_height(self) -> int:
        return self.scrollable_content_region.height

    def _layout(self) -> None:
        """Bring the row offsets up to date and publish the virtual size."""
        self._offsets.update(self._entries)
        self._update_virtual_size()

    def _update_virtual_size(self) -> None:
        height = max(self._offsets.total, self._floor) if self._entries else 0
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
            self._scrollbar.update(size)  # redrawn when its thumb moves, twice a second at most
        else:
            self.virtual_size = size

    def _index_at(self, y: int) -> int:
        """Index of the entry covering row *y* (offsets must be current)."""
        return self._offsets.index_at(y)

    def _add(self, entry: Entry) -> int:
        self._floor = 0
        entry.height = estimate(entry, self._body_width_or_fallback())
        self._entries.append(entry)
        index = len(self._entries) - 1
        self._offsets.invalidate(index)
        self._layout()
        if self._width > 0:
            self._measure(index)
            self._layout()
        if self.following:
            self._scroll_to_end()
        self.refresh()
        return index

    def _measure(self, index: int) -> bool:
        """Render entry *index* if its lines are not held; True if its height changed."""
        entry = self._entries[index]
        if not self._is_rendered(entry):
            self._keep(entry, self._render_body(entry))
        rows = len(entry.held) if entry.held is not None else self._cache.rows(entry)
        height = FRAME_ROWS + rows
        entry.measured = True
        if height == entry.height:
            return False
        entry.height = height
        self._offsets.invalidate(index)
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
            entries = self._entries
            changed = False
            if self.following:
                for index in covering(entries, len(entries) - 1, -1, height + margin):
                    changed |= self._measure(index)
                self._layout()
                self._scroll_to_end()
            else:
                self._layout()
                top = round(self.scroll_y)
                anchor = self._index_at(top)
                row = top - self._offsets[anchor]
                for index in covering(entries, anchor, 1, height + margin, skip=row):
                    changed |= self._measure(index)
                for index in covering(entries, anchor - 1, -1, margin):
                    changed |= self._measure(index)
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
        self._forget_lines()
        for entry in self._entries:
            entry.measured = False
            entry.height = estimate(entry, width)
        self._offsets.invalidate(0)
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

    # ------------------------------------------------------------------ streaming

    def _start_timer(self, mounting: bool = False) -> None:
        # Before mount there is no loop to run a timer on; on_mount starts it then.
        if self._timer is None and (mounting or self.is_mounted):
            self._timer = self.set_interval(1 / self.STREAM_FPS, self._tick)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _take_pending(self, entry: Entry) -> bool:
        thought = self._take_reasoning(entry)
        if not entry.pending:
            return thought
        if entry.thinking_since is not None and entry.thought_for is None:
            entry.thought_for = monotonic() - entry.thinking_since  # the reply has begun
        entry.content += clean("".join(entry.pending))
        entry.pending.clear()
        return True

    @staticmethod
    def _take_reasoning(entry: Entry) -> bool:
        if not entry.pending_reasoning:
            return False
        entry.reasoning += clean("".join(entry.pending_reasoning))
        entry.pending_reasoning.clear()
        return True

    def _tick(self) -> None:
        index = self._streaming
        if index is None:
            self._stop_timer()
            return
        entry = self._entries[index]
        if not self._take_pending(entry) or self._width <= 0:
            return
        plain = entry.held if isinstance(entry.held, PlainBody) else None
        if plain is not None and plain.width == self._width:
            # Plain rows: only the last source line and what follows are wrapped again.
            old_rows = len(plain)
            first = plain.extend(entry.content)
            self._after_tick(index, first, old_rows, len(plain))
            return
        old = entry.held or []
        # Where the previous render's tail began: a block that was still growing then (and
        # is final now) may have changed, so the comparison starts there, not at the new tail.
        first = entry.stream.tail_start if entry.stream is not None else 0
        above = entry.reasoning_rows  # the reasoning block's rows, above the stream's
        started = perf_counter()
        self._keep(entry, self._render_body(entry))
        # Rows of reasoning came or went (it streams, unfolded): all below them moved.
        first = first + above if entry.reasoning_rows == above else 0
        if perf_counter() - started > RENDER_BUDGET and not entry.plain:
            # Rendering this reply as Markdown holds keys up: go on with plain text lines.
            entry.plain = entry.plain_for_now = True
            first = 0
            self._keep(entry, self._render_body(entry))
        new = entry.held or []
        # Repaint only the lines that changed: usually just the last one or two.
        while first < len(old) and first < len(new) and old[first] == new[first]:
            first += 1
        self._after_tick(index, first, len(old), len(new))
        # The folded line counts time and tokens, above where the comparison began: it is
        # repainted when its words changed, not at every tick.
        if entry.reasoning_rows and old[:1] != new[:1]:
            self._repaint_rows(index, 0, 1)

    def _repaint_rows(self, index: int, first: int, rows: int) -> None:
        span = repaint_span(
            self._offsets[index], first, rows, rows, round(self.scroll_y), self._viewport_height()
        )
        if span is not None:
            self.refresh_lines(span[0], span[1] - span[0])

    def _after_tick(self, index: int, first: int, old_rows: int, new_rows: int) -> None:
        self._measure(index)
        self._layout()
        if self.following and self._scroll_in_steps():
            return  # scrolling repaints the whole view anyway
        span = repaint_span(
            self._offsets[index],
            first,
            old_rows,
            new_rows,
            round(self.scroll_y),
            self._viewport_height(),
        )
        if span is not None:
            start, end = span
            self.refresh_lines(start, end - start)

    def _scroll_in_steps(self) -> bool:
        """Keep the end of a growing reply in view, scrolling by a step; True if it scrolled.

        When the text passes the bottom of the view, scroll so that it ends a step above
        the bottom, with blank rows under it (the floor) for the next lines to fill.
        """
        view = self._viewport_height()
        content = self._offsets.total
        if content <= round(self.scroll_y) + view:
            if self.scroll_y != self.max_scroll_y:
                self._scroll_to_end()  # the text got shorter than the floor kept room for
                return True
            return False
        self._floor = content + scroll_step(view, self.STREAM_SCROLL_STEP)
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

    def _visible_headers(self) -> range:
        self._layout()
        top = round(self.scroll_y)
        return self._offsets.starting_between(top, top + self._viewport_height())

    def focus_message(self, index: int) -> None:
        """Mark message *index* and scroll it into view."""
        if 0 <= index < len(self._entries):
            self._focus_message(index)

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

    def _edit(self, what: str) -> None:
        if (index := self._target()) is not None:
            self.post_message(self.Edit(index, what))

    def action_edit_message(self) -> None:
        self._edit("edit")

    def action_delete_message(self) -> None:
        self._edit("delete")

    def action_older_alternative(self) -> None:
        self._edit("older")

    def action_newer_alternative(self) -> None:
        self._edit("newer")

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

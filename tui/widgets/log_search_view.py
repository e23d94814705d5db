"""The search (``/``, ``n``, ``N``) over a ``MessageLog``, as a mixin of it.

What a match is, how it is counted and highlighted is ``log_search`` (pure, unit-tested);
this part keeps the log's search state in step with its messages (a reply that streams on
is counted again, a conversation that changed is searched again), moves the view to a
match, and marks the matches over the cached lines as ``MessageLog`` draws them.
Apart from ``message_log`` to keep that file to the drawing of messages; it uses the log's
layout (``_offsets``, ``_layout``, ``_measure``, ``_body_line``) and nothing else of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.strip import Strip

from .log_layout import FRAME_ROWS, HEADER_ROWS, Entry, Offsets
from .log_search import Match, Matches, Query, SearchStatus, highlight

if TYPE_CHECKING:
    from rich.style import Style
    from textual.app import App
    from textual.message import Message


class LogSearchView:
    """The search's state and steps; mixed into ``MessageLog``, which posts its messages
    (``SearchRequested``, ``SearchChanged``) and calls ``_marked`` as it draws a line."""

    if TYPE_CHECKING:  # the log's, used here
        _entries: list[Entry]
        _offsets: Offsets
        _focused: int | None
        _width: int
        _look: dict[str, Style]
        following: bool
        scroll_y: float
        app: App
        SearchRequested: type[Message]
        SearchChanged: Callable[[SearchStatus | None], Message]

        def post_message(self, message: Message) -> bool: ...
        def refresh(self) -> object: ...
        def scroll_to(self, *, y: float, animate: bool) -> None: ...
        def _layout(self) -> None: ...
        def _index_at(self, y: int) -> int: ...
        def _measure(self, index: int) -> bool: ...
        def _settle(self) -> None: ...
        def _viewport_height(self) -> int: ...
        def _body_line(self, index: int, row: int) -> Strip: ...

    def _init_search(self) -> None:
        # Its matches, the entries it looked in (when they change, it looks again) and the
        # message it starts from (the marked one, else the top one in view).
        self._search: Matches | None = None
        self._searched: list[tuple[Entry, int, int]] = []  # with its text's and error's sizes
        self._search_origin: int | None = None

    @property
    def search_status(self) -> SearchStatus | None:
        """The query, the current match's number and the count; None when not searching."""
        return self._search.status() if self._search is not None else None

    def search(self, query: Query, start: int | None = None) -> SearchStatus:
        """Look for *query* (see ``log_search``) and go to its first match in message *start*
        or below (by default the message the search was opened from), marking that message.
        The matches stay highlighted until ``clear_search``."""
        if start is None:
            start = self._search_origin if self._search_origin is not None else self._top()
        self._search_origin = start
        self._search = Matches(query, [self._search_text(entry) for entry in self._entries])
        self._searched = self._search_snapshot()
        search = self._search
        return self._go_to(lambda: search.first(start, self._drawn_lines))

    def clear_search(self) -> None:
        """Forget the search and its highlights (Esc)."""
        if not self._drop_search():
            self.post_message(self.SearchChanged(None))  # the bar may be open, still empty

    def action_search(self) -> None:
        self._search_origin = self._focused if self._focused is not None else self._top()
        self.post_message(self.SearchRequested())

    def action_next_match(self) -> None:
        self._step(forward=True)

    def action_previous_match(self) -> None:
        self._step(forward=False)

    def _step(self, forward: bool) -> None:
        self._sync_search()  # first: a changed conversation is searched again
        search = self._search
        if search is None or not search.query.text or not self._entries:
            self.app.bell()
            return
        start = self._focused if self._focused is not None else self._top()
        self._go_to(lambda: search.step(forward, self._drawn_lines, start))

    def _drop_search(self) -> bool:
        """Forget the search; True (and SearchChanged said so) if there was one."""
        had, self._search = self._search is not None, None
        self._searched = []
        self._search_origin = None
        if had:
            self.post_message(self.SearchChanged(None))
            self.refresh()
        return had

    @staticmethod
    def _search_text(entry: Entry) -> str:
        """What a message's count is first taken from: its text as written (see log_search)."""
        chips = "".join(f"\n{chip}" for chip in entry.chips)
        return entry.content + chips + (f"\n✗ error: {entry.error}" if entry.error else "")

    def _search_snapshot(self) -> list[tuple[Entry, int, int]]:
        return [(entry, len(entry.content), len(entry.error)) for entry in self._entries]

    def _sync_search(self) -> None:
        """Count again the messages that changed since the search (a reply streamed on, a
        message was added); if any went or was replaced, search again from the start."""
        search = self._search
        if search is None:
            return
        now = self._search_snapshot()
        if now == self._searched:
            return
        old = self._searched
        if len(now) < len(old) or any(a[0] is not b[0] for a, b in zip(now, old, strict=False)):
            self._search = Matches(search.query, [self._search_text(e) for e in self._entries])
        else:
            for index, seen in enumerate(now):
                if index >= len(old) or seen != old[index]:
                    search.set_text(index, self._search_text(seen[0]))
        self._searched = now
        self.post_message(self.SearchChanged(self._search.status()))

    def _top(self) -> int:
        """The message at the top of the view."""
        self._layout()
        return self._index_at(round(self.scroll_y)) if self._entries else 0

    def _drawn_lines(self, index: int) -> list[str]:
        """The body lines of message *index* as drawn, as text (rendered if not held)."""
        entry = self._entries[index]
        if self._width <= 0:  # not sized yet: its text as written
            return self._search_text(entry).split("\n")
        self._measure(index)
        return [self._body_line(index, row).text for row in range(entry.height - FRAME_ROWS)]

    def _go_to(self, find: Callable[[], Match | None]) -> SearchStatus:
        """Run *find* (it may render messages, which corrects their heights), then show the
        match it gives; with none, hold the view where it was."""
        self._layout()
        top = round(self.scroll_y)
        anchor = self._index_at(top) if self._entries else 0
        row = top - self._offsets[anchor]
        match = find()
        self._layout()
        if match is not None:
            self._reveal(match)
        elif self.following:
            self._settle()
        elif self._entries and self._offsets[anchor] + row != top:
            self.scroll_to(y=self._offsets[anchor] + row, animate=False)
        self.refresh()
        status = self._search.status() if self._search is not None else SearchStatus("", None, 0)
        self.post_message(self.SearchChanged(status))
        return status

    def _reveal(self, match: Match) -> None:
        """Mark the match's message and scroll the match into view: with its message's
        header when both fit, else a third of the way down."""
        self._focused = match.message
        header = self._offsets[match.message]
        y = header + HEADER_ROWS + match.line
        top, view = round(self.scroll_y), self._viewport_height()
        if not top <= y < top + view:
            self.scroll_to(y=header if y - header < view else y - view // 3, animate=False)

    def _marked(self, index: int, row: int, line: Strip) -> Strip:
        """Body line *row* of message *index* with the search's matches on it highlighted:
        drawn over the cached line, so the cache holds lines without them."""
        search = self._search
        if search is None or not search.count_in(index):
            return line
        searched = self._searched
        if index >= len(searched) or searched[index][0] is not self._entries[index]:
            return line
        marks = search.marks(index, row, line.text)
        if not marks:
            return line
        match, current = self._look["search-match"], self._look["search-current"]
        return highlight(line, [(a, b, current if now else match) for a, b, now in marks])

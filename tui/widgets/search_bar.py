"""The search bar at the foot of the log, as in less and vim: ``/``, the query, the count.

Open, it is an input: what is typed is searched at once (``Changed``), Enter keeps the
matches (``Submitted``) and Esc clears them (``Cancelled``). Closed, it shows the query and
"match 3 of 12" while n / N step through the matches, and goes when the search does. The
screen wires it to ``MessageLog``; the query is the user's own text, drawn as plain text.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Static

from ..sanitize import one_line
from .log_search import SearchStatus


class SearchInput(Input):
    """The query; Esc clears the search (Enter, Input's own, keeps it)."""

    BINDINGS = [Binding("escape", "cancel", "Clear search", show=False)]

    def action_cancel(self) -> None:
        self.post_message(SearchBar.Cancelled())


class SearchBar(Horizontal):
    """One row: "/", the query (an input while it is typed), the count at the right."""

    DEFAULT_CSS = """
    SearchBar {
        height: 1;
        display: none;
        &.-shown { display: block; }
        & > #search-slash { width: 2; }
        & > #search-input { width: 1fr; height: 1; border: none; padding: 0; }
        & > #search-query { width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
        & > #search-count { width: auto; padding: 0 0 0 2; }
    }
    """

    class Changed(Message):
        """The query as typed so far."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Submitted(Message):
        """Enter: keep the matches of *text* and go back to the log."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Cancelled(Message):
        """Esc in the input: clear the search."""

    def compose(self) -> ComposeResult:
        yield Static("/", id="search-slash", markup=False)
        yield SearchInput(
            id="search-input", placeholder="search this conversation", select_on_focus=True
        )
        yield Static(id="search-query", markup=False)
        yield Static(id="search-count", markup=False)

    @property
    def input(self) -> SearchInput:
        return self.query_one(SearchInput)

    @property
    def is_open(self) -> bool:
        """True while the query is being typed."""
        return self.has_class("-shown") and self.input.display

    def open(self, text: str = "") -> None:
        """Show the input holding *text* (all of it selected, so typing replaces it)."""
        self.add_class("-shown")
        field = self.input
        with field.prevent(Input.Changed):
            field.value = text
        field.display = True
        self.query_one("#search-query").display = False
        field.focus()
        field.select_all()

    def close(self, text: str) -> None:
        """Show *text* as the query kept, the input gone (n / N step on from the log)."""
        self.add_class("-shown")
        self.input.display = False
        query = self.query_one("#search-query", Static)
        query.update(one_line(text, 200))
        query.display = True

    def show(self, status: SearchStatus | None) -> None:
        """The log's search as it is now: None hides the bar."""
        count = self.query_one("#search-count", Static)
        if status is None:
            self.remove_class("-shown")
            count.update("")
            return
        self.add_class("-shown")
        count.update(status.describe())
        count.set_class(bool(status.text) and not status.total, "-none")

    @on(Input.Changed, "#search-input")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(event.value))

    @on(Input.Submitted, "#search-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Submitted(event.value))

"""F3: every saved conversation, newest first: open, rename, delete, export, filter.

The list comes from ``store.list()`` in a thread, so thousands of sessions never hold up
the first paint. Typing in the filter narrows by title at once and, after a short pause,
by content through ``store.search`` (also in a thread). Titles and model names come from
files on disk and from servers: they pass through ``clean`` (via ``one_line``) and are
shown only as ``Text``, never as markup.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.events import Resize
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Input, Static

from ..sanitize import one_line
from ..services import Services
from ..store import SessionError, SessionSummary
from ..widgets.bindings import bindings

LOADING = "loading…"
EMPTY = "No saved conversations yet — start one with ctrl+n"
NO_MATCH = "No conversation matches the filter."
SEARCH_DELAY = 0.15  # seconds of quiet typing before the content search runs
FIRST_ROWS = 100  # rows added at once: more than any screen shows
FILL_CHUNK = 250  # then this many per turn of the event loop

# Column widths in cells; the title takes whatever the terminal has left.
MODEL_WIDTH = 22
UPDATED_WIDTH = 16  # "YYYY-MM-DD HH:MM"
COUNT_WIDTH = 4
MIN_TITLE_WIDTH = 12
# Two cells of padding per column, and one for the vertical scrollbar (see chatterm.tcss).
CHROME_WIDTH = 4 * 2 + 1
# Below this many columns the provider/model column is dropped, so the title and a whole
# "Updated" still fit (at 40 columns the four columns would cut Updated to one character).
NARROW_WIDTH = 70

StorageErrors = (SessionError, OSError)


# -- pure helpers -------------------------------------------------------------------------
def shows_model(screen_width: int) -> bool:
    return screen_width >= NARROW_WIDTH


def title_width(screen_width: int) -> int:
    if shows_model(screen_width):
        rest = MODEL_WIDTH + UPDATED_WIDTH + COUNT_WIDTH + CHROME_WIDTH
    else:  # one column fewer: its cells and its two of padding
        rest = UPDATED_WIDTH + COUNT_WIDTH + CHROME_WIDTH - 2
    return max(MIN_TITLE_WIDTH, screen_width - rest)


def format_updated(when: datetime) -> str:
    """Local time; a naive datetime is taken as local already."""
    return when.astimezone().strftime("%Y-%m-%d %H:%M")


def display_title(summary: SessionSummary) -> str:
    """What the row shows and the title filter matches: cleaned, on one line."""
    return one_line(summary.title, 500) or "(untitled)"


def row_cells(summary: SessionSummary) -> tuple[Text, Text, Text, Text]:
    """One row as plain ``Text`` (never markup): title, provider/model, updated, count.

    ``one_line`` runs ``clean`` first, so no escape sequence from a file reaches the screen.
    """
    model = one_line(f"{summary.provider}/{summary.model}", 200)
    return (
        Text(display_title(summary), no_wrap=True, overflow="ellipsis"),
        Text(model, no_wrap=True, overflow="ellipsis"),
        Text(format_updated(summary.updated), no_wrap=True),
        Text(str(summary.count), no_wrap=True, justify="right"),
    )


def filter_summaries(
    summaries: list[SessionSummary], query: str, content_hits: set[str]
) -> list[SessionSummary]:
    """Rows whose title contains *query* (any case) or whose id the content search found."""
    needle = query.strip().lower()
    if not needle:
        return list(summaries)
    return [s for s in summaries if needle in display_title(s).lower() or s.id in content_hits]


def set_aside_line(problems: list[str], root: Path) -> str:
    """The one-line warning above the table, e.g. ``1 file set aside: bad.toml could not…``.

    Paths under the sessions folder are shown relative to it, so the reason fits in a line;
    the notification keeps them whole.
    """
    count = len(problems)
    noun = "file" if count == 1 else "files"
    more = f" (+{count - 1} more)" if count > 1 else ""
    first = problems[0].replace(f"{root}{os.sep}", "")
    return one_line(f"⚠ {count} {noun} set aside: {first}{more}", 300)


# -- widgets ------------------------------------------------------------------------------
class SessionFilter(Input):
    """The filter box: Down hands focus to the table, Enter opens the highlighted row."""

    BINDINGS = [
        Binding("down", "screen.focus_table", "To the list", show=False),
        Binding("enter", "submit", "Open"),
    ]


class SessionTable(DataTable[Text]):
    """The list; its Enter is shown in the footer (DataTable's own is hidden)."""

    BINDINGS = [Binding("enter", "select_cursor", "Open")]


# -- the screen ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SessionChoice:
    """The conversation F3 opens, and the filter it was found with ("" when none): the
    conversation opens at the filter's first match in its messages, if it has one."""

    id: str
    search: str = ""


class SessionsScreen(Screen[SessionChoice | None]):
    """Returns the session to open, or None when closed with Esc."""

    AUTO_FOCUS = ""  # focus goes to the table once it is filled, see _show_loaded

    BINDINGS = [Binding("escape", "close", "Back"), *bindings("sessions")]

    def __init__(self, services: Services, current_id: str | None = None) -> None:
        super().__init__()
        self.services = services
        self.store = services.store
        self.current_id = current_id
        self._summaries: list[SessionSummary] = []
        self._loaded = False
        self._content_query = ""  # the query the content hits below belong to
        self._content_hits: set[str] = set()
        self._title_width = MIN_TITLE_WIDTH
        self._with_model = True

    def compose(self) -> ComposeResult:
        yield SessionFilter(placeholder="filter by title or content  ( / )", id="sessions-filter")
        yield Static(id="sessions-warning", markup=False)
        yield Static(LOADING, id="sessions-message", markup=False)
        yield SessionTable(id="sessions-table", cursor_type="row", zebra_stripes=False)
        yield Footer()

    def on_mount(self) -> None:
        self._title_width = title_width(self.size.width or 80)
        self._with_model = shows_model(self.size.width or 80)
        self._add_columns()
        self._load()

    # -- loading --------------------------------------------------------------------------
    @work(exclusive=True, group="sessions-load")
    async def _load(self) -> None:
        try:
            summaries = await asyncio.to_thread(self.store.list)
        except Exception as err:  # any failure shows here instead of ending the app
            self._show_message(f"Could not list conversations: {one_line(str(err))}")
            return
        self._show_loaded(summaries)

    def _show_loaded(self, summaries: list[SessionSummary]) -> None:
        self._summaries = summaries
        self._loaded = True
        self._show_problems(list(self.store.problems))
        self._refresh_rows(keep=self.current_id)
        if query := self.query_one(SessionFilter).value.strip():
            self._search_content(query)  # typed while the list was loading
        if self.focused is None:  # unless "/" already took the user to the filter
            self.query_one(SessionTable).focus()

    def _show_problems(self, problems: list[str]) -> None:
        if not problems:
            return
        warning = self.query_one("#sessions-warning", Static)
        warning.update(set_aside_line(problems, self.store.root))
        warning.display = True
        self.notify(
            "\n".join(one_line(p) for p in problems[:5]),
            title="Files set aside",
            severity="warning",
            markup=False,
        )

    # -- the table ------------------------------------------------------------------------
    def _add_columns(self) -> None:
        table = self.query_one(SessionTable)
        table.add_column("Title", width=self._title_width, key="title")
        if self._with_model:
            table.add_column("Provider/model", width=MODEL_WIDTH, key="model")
        table.add_column("Updated", width=UPDATED_WIDTH, key="updated")
        table.add_column(Text("Msgs", justify="right"), width=COUNT_WIDTH, key="count")

    def _refresh_rows(self, keep: str | None = None) -> None:
        """Fill the table with the rows the filter lets through; the cursor goes to *keep*.

        DataTable spends ~0.1 ms per row, so thousands of rows would freeze typing: the
        first screenful goes in now, the rest in a worker that the next refresh cancels.
        """
        self.workers.cancel_group(self, "sessions-fill")
        table = self.query_one(SessionTable)
        query = self.query_one(SessionFilter).value
        hits = self._content_hits if self._content_query == query.strip() else set()
        shown = filter_summaries(self._summaries, query, hits)
        table.clear()
        self._add_rows(shown[:FIRST_ROWS], keep)
        self._show_table_or_message(bool(shown))
        if len(shown) > FIRST_ROWS:
            self._fill_rest(shown[FIRST_ROWS:], keep)

    def _add_rows(self, summaries: list[SessionSummary], keep: str | None) -> None:
        table = self.query_one(SessionTable)
        for summary in summaries:
            title, model, updated, count = row_cells(summary)
            cells = (title, model, updated, count) if self._with_model else (title, updated, count)
            table.add_row(*cells, key=summary.id)
            if summary.id == keep:
                table.move_cursor(row=table.row_count - 1, animate=False)

    @work(exclusive=True, group="sessions-fill")
    async def _fill_rest(self, summaries: list[SessionSummary], keep: str | None) -> None:
        for start in range(0, len(summaries), FILL_CHUNK):
            await asyncio.sleep(0)  # keys and paints get their turn between chunks
            self._add_rows(summaries[start : start + FILL_CHUNK], keep)

    def _show_table_or_message(self, has_rows: bool) -> None:
        if has_rows:
            self.query_one(SessionTable).display = True
            self.query_one("#sessions-message", Static).display = False
        else:
            self._show_message(NO_MATCH if self._summaries else EMPTY)

    def _show_message(self, text: str) -> None:
        message = self.query_one("#sessions-message", Static)
        message.update(text)
        message.display = True
        self.query_one(SessionTable).display = False

    def _highlighted(self) -> SessionSummary | None:
        table = self.query_one(SessionTable)
        if not table.display or table.row_count == 0:
            return None
        session_id = table.ordered_rows[table.cursor_row].key.value
        return next((s for s in self._summaries if s.id == session_id), None)

    def _target(self) -> SessionSummary | None:
        """The highlighted row an action works on; a bell when there is none."""
        summary = self._highlighted()
        if summary is None:
            self.app.bell()
        return summary

    def on_resize(self, event: Resize) -> None:
        """The title column takes the width left over, so it is rebuilt when that changes."""
        width = title_width(event.size.width)
        with_model = shows_model(event.size.width)
        if (width, with_model) == (self._title_width, self._with_model):
            return
        self._title_width, self._with_model = width, with_model
        table = self.query_one(SessionTable)
        kept = self._highlighted()
        table.clear(columns=True)
        self._add_columns()
        if self._loaded:
            self._refresh_rows(keep=kept.id if kept else None)

    # -- filter ---------------------------------------------------------------------------
    @on(Input.Changed, "#sessions-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if not self._loaded:
            return  # _show_loaded applies whatever was typed meanwhile
        self._refresh_rows(keep=self._current_choice())
        query = event.value.strip()
        if query:
            self._search_content(query)
        else:
            self.workers.cancel_group(self, "sessions-search")

    def _current_choice(self) -> str | None:
        summary = self._highlighted()
        return summary.id if summary else None

    @work(exclusive=True, group="sessions-search")
    async def _search_content(self, query: str) -> None:
        # exclusive: the next keystroke cancels this sleep, so only a pause searches
        await asyncio.sleep(SEARCH_DELAY)
        try:
            hits = await asyncio.to_thread(self.store.search, query)
        except Exception as err:  # the title filter still works; only content hits are lost
            self.notify(f"Search failed: {one_line(str(err))}", severity="error", markup=False)
            return
        if query != self.query_one(SessionFilter).value.strip():
            return  # typed on while the search ran; a newer search is on its way
        self._content_query, self._content_hits = query, hits
        self._refresh_rows(keep=self._current_choice())

    @on(Input.Submitted, "#sessions-filter")
    def _filter_submitted(self) -> None:
        self.action_open()

    def action_focus_table(self) -> None:
        table = self.query_one(SessionTable)
        if table.display:
            table.focus()

    def action_focus_filter(self) -> None:
        self.query_one(SessionFilter).focus()

    # -- actions --------------------------------------------------------------------------
    @on(DataTable.RowSelected, "#sessions-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.dismiss(self._choice(str(event.row_key.value)))

    def action_open(self) -> None:
        if (summary := self._target()) is None:
            return
        self.dismiss(self._choice(summary.id))

    def _choice(self, session_id: str) -> SessionChoice:
        return SessionChoice(session_id, self.query_one(SessionFilter).value.strip())

    def action_close(self) -> None:
        self.dismiss(None)

    def action_rename(self) -> None:
        if (summary := self._target()) is None:
            return

        def renamed(title: str | None) -> None:
            if title is not None:
                self._rename(summary, title)

        self.app.push_screen(RenameScreen(one_line(summary.title, 500)), renamed)

    def _rename(self, summary: SessionSummary, title: str) -> None:
        title = title.strip()
        if not title or title == one_line(summary.title, 500):
            return
        try:
            self.store.rename(summary.id, title)
        except StorageErrors as err:
            self.notify(f"Rename failed: {one_line(str(err))}", severity="error", markup=False)
            return
        self._summaries = [
            replace(s, title=title) if s.id == summary.id else s for s in self._summaries
        ]
        self._refresh_rows(keep=summary.id)

    def action_delete(self) -> None:
        if (summary := self._target()) is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._delete(summary)

        question = f"Move '{one_line(display_title(summary), 50)}' to the trash? y/n"
        self.app.push_screen(ConfirmScreen(question), confirmed)

    def _delete(self, summary: SessionSummary) -> None:
        try:
            moved_to = self.store.delete(summary.id)
        except StorageErrors as err:
            self.notify(f"Delete failed: {one_line(str(err))}", severity="error", markup=False)
            return
        neighbour = self._neighbour(summary.id)
        self._summaries = [s for s in self._summaries if s.id != summary.id]
        self._refresh_rows(keep=neighbour)
        self.notify(f"Moved to {moved_to}", title="Deleted", markup=False)

    def _neighbour(self, session_id: str) -> str | None:
        """The row the cursor should land on once *session_id* is gone: next, else previous."""
        table = self.query_one(SessionTable)
        ids = [str(row.key.value) for row in table.ordered_rows]
        if session_id not in ids:
            return None
        index = ids.index(session_id)
        rest = ids[index + 1 : index + 2] or ids[index - 1 : index]
        return rest[0] if rest else None

    def action_export(self) -> None:
        if (summary := self._target()) is None:
            return
        try:
            path = self.store.export(summary.id)
        except StorageErrors as err:
            self.notify(f"Export failed: {one_line(str(err))}", severity="error", markup=False)
            return
        self.notify(f"Exported to {path}", title="Markdown", markup=False)


# -- small modals -------------------------------------------------------------------------
class RenameScreen(ModalScreen[str | None]):
    """An Input prefilled with the title: Enter returns the text, Esc returns None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str) -> None:
        super().__init__()
        self.current_title = title

    def compose(self) -> ComposeResult:
        with Vertical(id="rename-box") as box:
            box.border_title = "Rename"
            box.border_subtitle = "Enter save · Esc cancel"
            yield Input(self.current_title, id="rename-input", select_on_focus=False)

    def on_mount(self) -> None:
        self.query_one("#rename-input", Input).focus()

    @on(Input.Submitted, "#rename-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question: y returns True; n or Esc returns False."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        yield Static(self.question, id="confirm-text", markup=False)

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

"""Search in the conversation on screen: the part of ``ConversationScreen`` that opens the
search bar on the log's ``/``, searches as the query is typed (smart case), keeps the
matches on Enter and clears them on Esc; and, from F3, opens a conversation found by its
text at the first match of the filter, with n / N stepping on through the rest.

The finding and the highlighting are the log's (``MessageLog.search``, over
``widgets/log_search``); this only passes the query and the count between it and the bar.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..widgets.log_search import Query
from ..widgets.message_log import MessageLog
from ..widgets.search_bar import SearchBar

if TYPE_CHECKING:
    from .conversation import ConversationScreen
    from .sessions import SessionChoice


class ConversationSearch:
    """Mixed into ConversationScreen (which provides log_view and composes a SearchBar)."""

    @property
    def search_bar(self: ConversationScreen) -> SearchBar:
        return self.query_one(SearchBar)

    def on_message_log_search_requested(
        self: ConversationScreen, event: MessageLog.SearchRequested
    ) -> None:
        event.stop()
        status = self.log_view.search_status
        self.search_bar.open(status.text if status is not None else "")

    def on_message_log_search_changed(
        self: ConversationScreen, event: MessageLog.SearchChanged
    ) -> None:
        event.stop()
        self.search_bar.show(event.status)

    def on_search_bar_changed(self: ConversationScreen, event: SearchBar.Changed) -> None:
        event.stop()
        self.log_view.search(Query.smart(event.text))

    def on_search_bar_submitted(self: ConversationScreen, event: SearchBar.Submitted) -> None:
        event.stop()
        if event.text:
            self.search_bar.close(event.text)
        else:
            self.log_view.clear_search()
        self.log_view.focus()

    def on_search_bar_cancelled(self: ConversationScreen, event: SearchBar.Cancelled) -> None:
        event.stop()
        self.log_view.clear_search()
        self.log_view.focus()

    def clear_search(self: ConversationScreen) -> bool:
        """Esc, with nothing else to stop: clear the search; False if there was none."""
        if self.log_view.search_status is None:
            return False
        self.log_view.clear_search()
        return True

    def open_chosen(self: ConversationScreen, chosen: SessionChoice | None) -> None:
        """From F3: open the conversation chosen (None: F3 was left without one), at the
        first match of the filter it was found with, if its messages have one."""
        if chosen is None:
            return
        self.open_session_id(chosen.id)
        if chosen.search and self.session.id == chosen.id:
            self.search_opened(chosen.search)

    def search_opened(self: ConversationScreen, text: str) -> bool:
        """Look for *text* (the F3 filter: any case, as F3 matched it) in the conversation
        just opened, from its top. Found: the log has focus and shows the first match,
        the bar the query and its count, and True. Not found (the filter matched only the
        title): no search, and False."""
        log = self.log_view
        if not text.strip() or not log.search(Query(text, ignore_case=True), start=0).total:
            log.clear_search()
            return False
        self.search_bar.close(text)
        log.focus()
        return True

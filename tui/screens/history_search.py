"""ctrl+r: search every prompt sent before, in all conversations, newest first.

Typing filters (case-insensitive substring); ctrl+r or Down goes to an older match, Up to a
newer one; Enter puts the highlighted prompt into the prompt to edit or send; Esc leaves
the prompt as it was. Prompts are the user's own text but may hold anything a model was
sent, so they are shown through ``one_line`` as plain ``Content``.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ..history import PromptHistory
from ..sanitize import one_line

SHOWN = 200  # matches listed at once; typing more narrows the rest
HINT = "type to search · ctrl+r / ↓ older · ↑ newer · Enter edit · Esc cancel"


class HistorySearchScreen(ModalScreen[str | None]):
    """Returns the chosen prompt, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        # priority: the Input keeps focus, so the list moves without ever taking it
        Binding("ctrl+r,down", "move(1)", "Older", show=False, priority=True),
        Binding("up", "move(-1)", "Newer", show=False, priority=True),
    ]

    def __init__(self, history: PromptHistory, query: str = "") -> None:
        super().__init__()
        self.history = history
        self.query_text = query if "\n" not in query else ""
        self._shown: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="history-box") as box:
            box.border_title = "Earlier prompts"
            yield Input(self.query_text, placeholder="search", id="history-filter")
            matches = OptionList(id="history-list", markup=False)
            matches.can_focus = False
            yield matches
            yield Static(HINT, id="history-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one("#history-filter", Input).focus()
        self._refresh()

    @on(Input.Changed, "#history-filter")
    def _refresh(self) -> None:
        query = self.query_one("#history-filter", Input).value
        self._shown = self.history.matches(query)[:SHOWN]
        matches = self.query_one("#history-list", OptionList)
        matches.set_options(Option(Content(one_line(p, 200))) for p in self._shown)
        if self._shown:
            matches.highlighted = 0
        counts = f"{len(self._shown)} of {len(self.history.entries)}"
        self.query_one("#history-hint", Static).update(f"{counts} · {HINT}")

    def action_move(self, step: int) -> None:
        matches = self.query_one("#history-list", OptionList)
        if step > 0:
            matches.action_cursor_down()
        else:
            matches.action_cursor_up()

    @on(Input.Submitted, "#history-filter")
    def _submitted(self) -> None:
        index = self.query_one("#history-list", OptionList).highlighted
        if index is None or index >= len(self._shown):
            self.app.bell()
            return
        self.dismiss(self._shown[index])

    @on(OptionList.OptionSelected, "#history-list")
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._shown[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)

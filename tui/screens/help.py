"""F1: every key of the app in one list."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: list[tuple[str, str]] = [
    ("Enter", "send the prompt"),
    ("ctrl+j / shift+enter", "new line in the prompt"),
    ("Up (empty prompt)", "bring back the last prompt"),
    ("Esc", "stop the reply, keep what arrived"),
    ("F2", "choose a model (all providers)"),
    ("ctrl+t", "next recently used model"),
    ("ctrl+n", "new conversation"),
    ("ctrl+r", "regenerate the last reply"),
    ("ctrl+o", "edit and resend the last prompt"),
    ("F6 / F7", "copy the last reply / last code block"),
    ("ctrl+l", "focus the log (Tab back to the prompt)"),
    ("log: ↑↓ PgUp PgDn Home End", "scroll; End follows new text again"),
    ("log: [ / ]", "previous / next message"),
    ("log: c / y", "copy the message / its code block"),
    ("F3", "sessions: open, rename, delete, export"),
    ("F4", "providers: keys, models, test"),
    ("F5", "settings"),
    ("ctrl+p", "palette: every action and model"),
    ("F1", "this list"),
    ("ctrl+q", "quit"),
]


MORE = "↓ more below · Esc closes"
END = "↑↓ scroll · Esc closes"


class KeysBox(VerticalScroll, can_focus=True):
    """The list scrolls with the keys when the terminal is too short for it."""


class KeysScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        table = Table(show_header=False, box=None, padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for key, what in KEYS:
            table.add_row(key, what)
        with KeysBox(id="keys-box") as box:
            box.border_title = "chatterm keys"
            box.border_subtitle = END
            yield Static(table)

    def on_mount(self) -> None:
        box = self.query_one(KeysBox)
        box.focus()
        # The subtitle says when rows are hidden below, as the scrollbar alone may not.
        self.watch(box, "scroll_y", self._show_more, init=False)
        self.watch(box, "virtual_size", self._show_more, init=False)
        self.watch(box, "size", self._show_more)

    def _show_more(self, *_: object) -> None:
        box = self.query_one(KeysBox)
        hidden = box.max_scroll_y > 0 and box.scroll_y < box.max_scroll_y
        box.border_subtitle = MORE if hidden else END

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)

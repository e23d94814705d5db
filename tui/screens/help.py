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
    ("ctrl+p", "command palette: every action and model"),
    ("F1", "this list"),
    ("ctrl+q", "quit"),
]


class KeysScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        table = Table(title="chatterm keys", show_header=False, box=None, padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        for key, what in KEYS:
            table.add_row(key, what)
        with VerticalScroll(id="keys-box"):
            yield Static(table)

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)

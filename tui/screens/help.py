"""F1: every key of the app in one list, from the keymap registry with the user's [keys]."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from .. import keymap
from ..services import Services

MORE = "↓ more below · Esc closes"
END = "↑↓ scroll · Esc closes"


class KeysBox(VerticalScroll, can_focus=True):
    """The list scrolls with the keys when the terminal is too short for it."""


def keys_table(overrides: keymap.Overrides) -> Group:
    """Every action under its heading: keys in force, then what they do. One table per
    heading, with the key column as wide in each, so the lists line up."""
    rows = keymap.rows(overrides)
    width = max(len(keys) for _scope, keys, _what, _id in rows)
    parts: list[RenderableType] = []
    for scope in keymap.HEADINGS:
        table = Table(show_header=False, box=None, padding=(0, 2))
        table.add_column(style="bold", no_wrap=True, min_width=width)
        table.add_column()
        for _scope, keys, what, _id in (row for row in rows if row[0] == scope):
            table.add_row(Text(keys), Text(what))  # Text: never markup ("[" is a key here)
        parts += [Text(keymap.HEADINGS[scope], style="underline"), table, Text("")]
    return Group(*parts[:-1])


class KeysScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "close", "Close")]

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services

    def compose(self) -> ComposeResult:
        table = keys_table(self.services.keys)
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

    def action_close(self) -> None:
        self.dismiss(None)

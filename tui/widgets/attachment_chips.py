"""The files attached to the next prompt: one chip a line (name, size) under the prompt.

Hidden while there are none. Tab from the prompt focuses it; ↑/↓ choose a chip, Delete or
Backspace removes it, shift+Delete removes them all (keys from tui/keys.toml, scope
"attachments"). Names were cleaned to one line when the files were read
(``tui.attachments``) and are drawn as ``Text``, never as markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widget import Widget

from ..attachments import Loaded
from .bindings import bindings

MAX_ROWS = 6  # the chips' max-height in chatterm.tcss: past it, a window and a count


class AttachmentChips(Widget, can_focus=True):
    """``AttachmentChips(id=...)``; ``items`` are the files the next prompt sends."""

    BINDINGS = bindings("attachments")
    COMPONENT_CLASSES: ClassVar[set[str]] = {"attachment-chips--chosen"}

    class Emptied(Message):
        """The last chip went while the chips had focus: focus belongs elsewhere now."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._items: list[Loaded] = []
        self._chosen = 0

    @property
    def items(self) -> tuple[Loaded, ...]:
        return tuple(self._items)

    @property
    def chosen(self) -> int:
        return self._chosen

    def on_mount(self) -> None:
        self.display = bool(self._items)

    def add(self, item: Loaded) -> None:
        self._items.append(item)
        self._chosen = len(self._items) - 1
        self._changed()

    def set(self, items: Iterable[Loaded]) -> None:
        self._items = list(items)
        self._chosen = max(0, len(self._items) - 1)
        self._changed()

    def remove_at(self, index: int) -> Loaded | None:
        if not 0 <= index < len(self._items):
            return None
        item = self._items.pop(index)
        self._chosen = min(self._chosen, max(0, len(self._items) - 1))
        self._changed()
        return item

    def clear(self) -> None:
        self.set([])

    def _changed(self) -> None:
        had_focus = self.has_focus
        self.display = bool(self._items)
        self.refresh(layout=True)
        if had_focus and not self._items:
            self.post_message(self.Emptied())

    # -- drawing --------------------------------------------------------------------------
    def render(self) -> Text:
        chosen = self.get_component_rich_style("attachment-chips--chosen", partial=True)
        text = Text(end="", no_wrap=True, overflow="ellipsis")
        first, last = self.window()
        for n in range(first, last):
            if n > first:
                text.append("\n")
            style = chosen if self.has_focus and n == self._chosen else ""
            text.append(self._items[n].chip, style)
        if hidden := len(self._items) - (last - first):
            text.append(f"\n… {hidden} more, ↑/↓ to see them", "dim")
        return text

    def window(self) -> tuple[int, int]:
        """The chips drawn (first, past-the-last): all that fit, else MAX_ROWS - 1 of them
        around the chosen one, so that every chip can be reached and removed."""
        count = len(self._items)
        if count <= MAX_ROWS:
            return 0, count
        rows = MAX_ROWS - 1  # one row says how many are not drawn
        first = min(max(0, self._chosen - rows + 1), count - rows)
        return first, first + rows

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # -- keys -----------------------------------------------------------------------------
    def on_key(self, event: events.Key) -> None:
        # ↑/↓ (choose_attachment, a fixed key the widget reads itself)
        if event.key in ("up", "down") and self._items:
            event.stop()
            event.prevent_default()
            step = -1 if event.key == "up" else 1
            self._chosen = max(0, min(len(self._items) - 1, self._chosen + step))
            self.refresh()

    def action_remove(self) -> None:
        if (item := self.remove_at(self._chosen)) is not None:
            self.notify(f"Removed {item.name}.", markup=False)

    def action_clear(self) -> None:
        if not self._items:
            self.notify("Nothing is attached.")
            return
        count = len(self._items)
        self.clear()
        self.notify(f"Removed {count} attachment{'s' if count > 1 else ''}.")

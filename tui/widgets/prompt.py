"""The multi-line prompt: Enter sends, ctrl+j (or shift+enter) inserts a newline."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.message import Message
from textual.widgets import TextArea
from textual.widgets.text_area import EditResult

from .. import keymap
from .bindings import bindings


class PromptArea(TextArea):
    """A TextArea where Enter submits.

    Terminals send alt+enter as plain Enter, so ctrl+j (a bare LF, which every terminal
    sends) is the newline key; shift+enter works too where the terminal reports it.

    A paste longer than ``PASTE_INLINE_LIMIT`` is not put into the TextArea (wrapping and
    drawing 5 MB there took ~20 s and every key after it was slow): it is kept aside and a
    one-line marker naming its size stands in its place; Enter sends the marker's text.
    Deleting the marker drops the paste; editing inside it leaves the marker's words.
    """

    PASTE_INLINE_LIMIT: ClassVar[int] = 100_000

    BINDINGS = bindings("prompt")  # send (Enter) and newline (ctrl+j, shift+enter)

    class Submitted(Message):
        def __init__(self, prompt: PromptArea, text: str) -> None:
            super().__init__()
            self.prompt = prompt
            self.text = text

    class RecallRequested(Message):
        """Up in an empty prompt: the screen puts the last prompt back for editing."""

    def __init__(self, *, id: str | None = None, keys: keymap.Overrides | None = None) -> None:
        send, newline = (keymap.keys_of(keymap.BY_ID[a], keys) for a in ("send", "newline"))
        super().__init__(
            id=id,
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            compact=True,
            placeholder=f"Message — {keymap.display(send[0])} sends, "
            f"{keymap.display(newline[0])} adds a line",
        )
        self._pastes: dict[str, str] = {}  # marker -> the pasted text it stands for
        # The keys in force for send and newline: the TextArea must not take them first.
        self._bound = frozenset((*send, *newline))

    @property
    def message(self) -> str:
        """The text Enter would send: the prompt with every paste marker expanded."""
        text = self.text
        for marker, pasted in self._pastes.items():
            if marker in text:
                text = text.replace(marker, pasted)
        return text

    async def _on_paste(self, event: events.Paste) -> None:
        if len(event.text) <= self.PASTE_INLINE_LIMIT or self.read_only:
            await super()._on_paste(event)
            return
        event.stop()
        event.prevent_default()
        lines = event.text.count("\n") + 1
        marker = (
            f"⟦pasted text {len(self._pastes) + 1}: "
            f"{len(event.text):,} characters, {lines:,} lines⟧"
        )
        self._pastes[marker] = event.text
        if result := self._replace_via_keyboard(marker, *self.selection):
            self.move_cursor(result.end_location)
            self.focus()

    def clear(self) -> EditResult:
        self._pastes.clear()
        return super().clear()

    def action_submit(self) -> None:
        self.post_message(self.Submitted(self, self.message))

    async def _on_key(self, event: events.Key) -> None:
        # The keys of "send" and "newline" (Enter, ctrl+j unless remapped) bubble on to the
        # bindings, after every key typed before them was handled here.
        if event.key in self._bound:
            event.prevent_default()  # not the TextArea's newline; the event still bubbles
            return
        if event.key == "up" and not self.text:
            event.stop()
            event.prevent_default()
            self.post_message(self.RecallRequested())
            return
        await super()._on_key(event)

    def action_newline(self) -> None:
        start, end = self.selection
        self._replace_via_keyboard("\n", start, end)

    def set_text(self, text: str) -> None:
        """Replace the content and put the cursor at its end."""
        self._pastes.clear()
        self.load_text(text)
        self.move_cursor(self.document.end)

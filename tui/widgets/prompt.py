"""The multi-line prompt: Enter sends, ctrl+j (or shift+enter) inserts a newline."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.message import Message
from textual.widgets import TextArea
from textual.widgets.text_area import EditResult

from .. import keymap
from ..history import HistoryWalk, PromptHistory
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

    def __init__(
        self,
        *,
        id: str | None = None,
        keys: keymap.Overrides | None = None,
        history: PromptHistory | None = None,
    ) -> None:
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
        self.prompt_history = history  # not `history`: TextArea keeps its undo there
        self._walk: HistoryWalk | None = None  # Up/Down through the history, from a draft

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
        self._walk = None
        return super().clear()

    def action_submit(self) -> None:
        self.post_message(self.Submitted(self, self.message))

    async def _on_key(self, event: events.Key) -> None:
        # The keys of "send" and "newline" (Enter, ctrl+j unless remapped) bubble on to the
        # bindings, after every key typed before them was handled here.
        if event.key in self._bound:
            event.prevent_default()  # not the TextArea's newline; the event still bubbles
            return
        if event.key in ("up", "down") and self._walk_history(-1 if event.key == "up" else 1):
            event.stop()
            event.prevent_default()
            return
        await super()._on_key(event)

    def _walk_history(self, delta: int) -> bool:
        """Up on the first line, Down on the last: the previous or next prompt sent (the
        draft comes back after the newest). False where the key moves the cursor instead."""
        row = self.cursor_location[0]
        edge = 0 if delta < 0 else self.document.line_count - 1
        if self.prompt_history is None or row != edge or (delta > 0 and self._walk is None):
            return False
        if self._walk is None:
            self._walk = HistoryWalk(self.prompt_history.entries, self.message)
        text = self._walk.step(delta)
        if text is not None:
            walk = self._walk
            self.set_text(text)
            self._walk = walk  # set_text starts a new draft; this walk goes on
            if delta < 0:
                self.move_cursor((0, len(self.document.get_line(0))))  # Up again goes on
        return True

    def action_newline(self) -> None:
        start, end = self.selection
        self._replace_via_keyboard("\n", start, end)

    def set_text(self, text: str) -> None:
        """Replace the content and put the cursor at its end."""
        self._pastes.clear()
        self._walk = None
        self.load_text(text)
        self.move_cursor(self.document.end)

"""The status line: provider · model · state, with live speed while a reply streams.

Its colours come from the theme through component classes (``PARTS``, styled in
``chatterm.tcss``), so it is redrawn when they change.
"""

from __future__ import annotations

import time
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widgets import Static

from ..sanitize import clean, one_line

CHARS_PER_TOKEN = 4  # a rough English average; real counts come from the service's usage
LENGTH_LABEL = "stopped at the token limit"

# Component classes "status-line--<part>": the states that have a look of their own, the
# provider's name, the detail after the state, and a warning that outlasts a toast.
STATES = ("streaming", "waiting", "cancelled", "error")
PARTS = (*STATES, "title", "provider", "detail", "warning")
TITLE_CELLS = 32  # of the status line: the rest is for the model and the state


class StatusLine(Static):
    """Shows what the conversation talks to and what it is doing."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {f"status-line--{part}" for part in PARTS}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self.title = ""
        self.provider = ""
        self.model = ""
        self.state = "idle"
        self.detail = ""
        self._started = 0.0
        self._first: float | None = None
        self._chars = 0
        # A model chosen while a reply streams: shown once that reply ends, because until
        # then the line names the model that is answering.
        self._next: tuple[str, str] | None = None
        # A problem that outlasts a toast (the disk is full and the reply is not saved yet):
        # shown on this line, just under the reply, until it is solved.
        self.warning = ""
        # The service's counts for the last reply (Usage), None where it sent none; and
        # the model's context size, None while unknown: set by whoever knows it (the hook
        # for the model list's context sizes), shown as "input / size tokens in".
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.context_size: int | None = None
        self._reply_ended: float | None = None  # when the last reply's text ended
        self.finish_reason = ""  # the last reply's finish reason; "length" is said on the line

    @property
    def busy(self) -> bool:
        return self.state in ("waiting", "streaming")

    def set_model(self, provider: str, model: str) -> None:
        if self.busy:
            self._next = (provider, model)
            return
        self.provider, self.model = provider, model
        self._redraw()

    def set_state(self, state: str, detail: str = "") -> None:
        self.state, self.detail = state, detail
        if not self.busy and self._next is not None:
            (self.provider, self.model), self._next = self._next, None
        if state == "waiting":
            self._started, self._first, self._chars = time.monotonic(), None, 0
            self.output_tokens, self._reply_ended, self.finish_reason = None, None, ""
        elif not self.busy and self._reply_ended is None:
            self._reply_ended = time.monotonic()  # the speed is the reply's, not the idle time's
        self._redraw()

    def set_usage(self, input_tokens: int | None, output_tokens: int | None) -> None:
        """The service's token counts for the reply streaming (its Usage part)."""
        if input_tokens is not None:
            self.input_tokens = input_tokens
        self.output_tokens = output_tokens

    def set_finish(self, reason: str) -> None:
        self.finish_reason = reason
        self._redraw()

    def set_context_size(self, tokens: int | None) -> None:
        """The hook for the model's context size (None: unknown, input tokens alone)."""
        self.context_size = tokens
        self._redraw()

    def set_title(self, title: str) -> None:
        """The conversation's title ("new conversation" until its first prompt names it)."""
        self.title = title
        self._redraw()

    def set_warning(self, text: str) -> None:
        self.warning = text
        self._redraw()

    def count(self, text: str) -> None:
        """Called per chunk of output, reply text or reasoning: services count the reasoning
        in their output tokens, so the speed and the first token start with whichever
        comes first. The speed is drawn by ``tick`` at the log's pace."""
        if self._first is None:
            self._first = time.monotonic()
            self.state = "streaming"
        self._chars += len(text)

    def tick(self) -> None:
        if self.state == "streaming":
            self._redraw()

    def speed_text(self) -> str:
        """Output tokens a second, time to first token, input tokens (of the context)."""
        fields = [self._speed(), self._context_text()]
        return " · ".join(field for field in fields if field)

    def _speed(self) -> str:
        if self._first is None:
            return ""
        end = self._reply_ended if self._reply_ended is not None else time.monotonic()
        elapsed = max(end - self._first, 1e-3)
        ttft = self._first - self._started
        if self.output_tokens is not None:  # the service's own count
            rate = f"{self.output_tokens / elapsed:.0f} tok/s"
        else:
            # Services send text in chunks of any size, so chunks are no measure of tokens;
            # about four characters a token (for English), and the "~" says it is a guess.
            rate = f"~{self._chars / CHARS_PER_TOKEN / elapsed:.0f} tok/s"
        return f"{rate} · first token {ttft:.2f} s"

    def _context_text(self) -> str:
        if self.input_tokens is None:
            return ""
        if self.context_size:
            return f"{self.input_tokens} / {self.context_size} tokens in"
        return f"{self.input_tokens} tokens in"

    def notify_style_update(self) -> None:
        super().notify_style_update()
        # The text holds the colours it was drawn in; the component classes get their new
        # styles after this call (another theme, the stylesheet), so redraw then.
        self.call_next(self._redraw)

    def _part(self, part: str) -> Style:
        return self.get_component_rich_style(f"status-line--{part}", default=Style.null())

    def _redraw(self) -> None:
        extra = self.speed_text() if self.state in ("streaming", "idle") else ""
        extra = self.detail or extra
        if self.finish_reason == "length" and not self.busy:
            extra = f"{LENGTH_LABEL} · {extra}" if extra else LENGTH_LABEL
        fields = [
            (one_line(self.title, TITLE_CELLS) or "new conversation", self._part("title")),
            (clean(self.provider) or "-", self._part("provider")),
            (clean(self.model) or "-", None),
            (self.state, self._part(self.state) if self.state in STATES else None),
            (clean(extra), self._part("detail")),
            (f"⚠ {clean(self.warning)}" if self.warning else "", self._part("warning")),
        ]
        text = Text()
        for words, style in fields:
            if not words:
                continue
            # Each field keeps the spaces beside it, so a state on a background of its own
            # reads as a label: "echo · m · streaming · ~40 tok/s".
            text.append(f" {words} " if text else f"{words} ", style=style)
            text.append("·")
        text.right_crop(1)
        # One row (height: 1 in the stylesheet), so no layout pass: one would also repaint
        # the log's scrollbar, four times a second while a reply streams.
        self.update(text, layout=False)

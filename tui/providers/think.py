"""A ``<think>…</think>`` block at the very start of a reply, moved into Reasoning.

Reasoning models served raw (llama.cpp, vLLM without a reasoning parser, Ollama asked
without ``think``) put their reasoning in the reply text itself, as
``<think>\\n…\\n</think>\\n\\nThe answer``. Only a block at the start counts (after optional
whitespace): a ``<think>`` later in the text is text, as the model wrote it. The tags may
be split across chunks anywhere, so what could still be a tag is held until it is known.

Pure: no I/O and no httpx. ``feed`` and ``flush`` give reply text (``str``) and
``Reasoning`` pieces, in order, never an empty one.
"""

from __future__ import annotations

from .parts import Reasoning

OPEN, CLOSE = "<think>", "</think>"
_START, _THINK, _AFTER, _TEXT = range(4)


class ThinkSplitter:
    """One reply's text in, text and Reasoning out; one splitter per reply."""

    def __init__(self) -> None:
        self._state = _START
        self._held = ""  # text not decided yet: a possible tag, or whitespace around one
        self._reasoned = False  # has the block given any reasoning yet (its first is lstripped)

    def feed(self, text: str) -> list[str | Reasoning]:
        if self._state == _TEXT:
            return [text] if text else []
        self._held += text
        out: list[str | Reasoning] = []
        while True:
            before = self._state
            out += self._step()
            if self._state == before or (self._state == _TEXT and not self._held):
                return out

    def flush(self) -> list[str | Reasoning]:
        """The end of the reply: what is held goes out as what it was."""
        held, self._held = self._held, ""
        state, self._state = self._state, _TEXT
        if not held or state == _AFTER:  # whitespace after the block: dropped
            return []
        if state == _THINK:  # a block never closed (the reply was cut): all reasoning
            return [Reasoning(held)]
        return [held]  # undecided at the start: it was text

    def _step(self) -> list[str | Reasoning]:
        """One step of the state machine on the held text."""
        held = self._held
        if self._state == _START:
            rest = held.lstrip()
            if rest.startswith(OPEN):
                self._state, self._held = _THINK, rest[len(OPEN) :]
                return []
            if not rest or OPEN.startswith(rest):
                return []  # only whitespace, or the start of the tag: wait for more
            self._state, self._held = _TEXT, ""
            return [held]
        if self._state == _THINK:
            if not self._reasoned:
                held = self._held = held.lstrip()
            end = held.find(CLOSE)
            if end >= 0:
                self._state, self._held = _AFTER, held[end + len(CLOSE) :]
                return self._reasoning(held[:end])
            keep = _tag_prefix(held, CLOSE)
            self._held = held[len(held) - keep :] if keep else ""
            return self._reasoning(held[: len(held) - keep])
        if self._state == _AFTER:
            rest = held.lstrip()
            if not rest:
                self._held = ""
                return []
            self._state, self._held = _TEXT, ""
            return [rest]
        self._held = ""
        return [held] if held else []

    def _reasoning(self, text: str) -> list[str | Reasoning]:
        if not text:
            return []
        self._reasoned = True
        return [Reasoning(text)]


def _tag_prefix(text: str, tag: str) -> int:
    """The length of the longest end of *text* that is a beginning of *tag*."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0

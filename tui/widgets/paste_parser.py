"""Terminal input with bracketed pastes taken whole.

Textual's XTermParser reads a bracketed paste one character at a time through a generator
(about 3 µs a character: a 5 MB paste took ~15 s before the prompt saw it). This parser
finds the paste's end marker with ``str.find`` and hands the text over in one event; all
other input goes through Textual's parser unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from textual import events
from textual._xterm_parser import BRACKETED_PASTE_END, BRACKETED_PASTE_START, XTermParser
from textual.message import Message

_HOLD = len(BRACKETED_PASTE_END) - 1  # an end marker may be split between two reads


class FastPasteParser(XTermParser):
    def __init__(self, debug: bool = False) -> None:
        super().__init__(debug)
        self._pasting = False
        self._pasted: list[str] = []
        self._held = ""

    def feed(self, data: str) -> Iterable[Message]:
        if not data:  # end of input
            return super().feed(data)
        return list(self._feed(data))

    def _feed(self, data: str) -> Iterator[Message]:
        while data:
            if self._pasting:
                text, self._held = self._held + data, ""
                end = text.find(BRACKETED_PASTE_END)
                if end < 0:
                    cut = max(len(text) - _HOLD, 0)
                    self._pasted.append(text[:cut])
                    self._held = text[cut:]
                    return
                self._pasted.append(text[:end])
                pasted, self._pasted, self._pasting = "".join(self._pasted), [], False
                # As Textual does: NUL removed (textual#1661).
                yield events.Paste(pasted.replace("\x00", ""))
                data = text[end + len(BRACKETED_PASTE_END) :]
                continue
            start = data.find(BRACKETED_PASTE_START)
            if start < 0:
                # A start marker split between reads reaches Textual's own parser, which
                # takes that paste the slow way: still right.
                yield from super().feed(data)
                return
            if start:
                yield from super().feed(data[:start])
            self._pasting = True
            data = data[start + len(BRACKETED_PASTE_START) :]


def install() -> None:
    """Make Textual's Linux driver read input with this parser (it names the class in its
    input thread, so the name is replaced where the driver looks it up)."""
    from textual.drivers import linux_driver

    linux_driver.XTermParser = FastPasteParser  # type: ignore[misc]

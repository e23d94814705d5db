"""Textual's Linux driver, made quiet for an SSH link (see tui/link.py for what applies).

- Mouse: Textual asks the terminal for every movement (``?1003h``: a report per cell the
  pointer crosses, tens a second while it moves). "clicks" asks for button presses,
  releases and drags (``?1000h`` and ``?1002h``) and the wheel, in SGR encoding
  (``?1006h``); "on" is Textual's own; "off" is handled by ``App.run(mouse=False)``, which
  sends no mouse mode at all, so the terminal's own selection works.
- Output: with ``redraw = "changes"`` every write goes through ``ScreenDiff``
  (tui/screen_diff.py), which leaves out the cells the terminal already shows. It forgets
  what the screen shows when the window is resized.

The app makes the driver from ``ChattermApp.get_driver_class``; Textual builds it with the
app, whose ``link_settings()`` it reads. Input is read by Textual's parser, which
``paste_parser.install`` replaces in ``linux_driver``'s namespace: the same for this class.
"""

from __future__ import annotations

import signal
from typing import Any

from textual import events
from textual.drivers.linux_driver import LinuxDriver
from textual.message import Message

from ..link import DEFAULT_MOUSE, Link
from ..screen_diff import ScreenDiff

# The mouse modes each setting asks for, in the order they are sent (Textual's order).
MOUSE_ON = ("1000", "1003", "1015", "1006")  # Textual's: any motion
MOUSE_CLICKS = ("1000", "1002", "1015", "1006")  # presses, releases, drags, the wheel
_ALL_MOUSE = ("1000", "1002", "1003", "1015", "1006")


class LinkDriver(LinuxDriver):
    def __init__(self, app: Any, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        link = _link_of(app)
        self.mouse_mode = link.mouse if link is not None else DEFAULT_MOUSE
        self._diff: ScreenDiff | None = (
            ScreenDiff() if link is None or link.redraw == "changes" else None
        )

    # -- the link's settings, changed in F5 ---------------------------------------------
    def apply(self, link: Link) -> None:
        """Take *link*'s mouse mode and redraw now (called on the app's thread)."""
        if link.redraw == "changes" and self._diff is None:
            self._diff = ScreenDiff()  # knows nothing yet: the next frame goes whole
        elif link.redraw == "full":
            self._diff = None
        if link.mouse != self.mouse_mode or self._mouse != (link.mouse != "off"):
            self._disable_mouse_support()
            self.mouse_mode = link.mouse
            self._mouse = link.mouse != "off"
            self._enable_mouse_support()

    # -- mouse ----------------------------------------------------------------------------
    def _enable_mouse_support(self) -> None:
        if not self._mouse:
            return
        modes = MOUSE_ON if self.mouse_mode == "on" else MOUSE_CLICKS
        for mode in modes:
            self.write(f"\x1b[?{mode}h")
        self.flush()

    def _disable_mouse_support(self) -> None:
        if not self._mouse:
            return
        for mode in _ALL_MOUSE:  # whichever was asked for, none is left on
            self.write(f"\x1b[?{mode}l")
        self.flush()

    # -- output ---------------------------------------------------------------------------
    def write(self, data: str) -> None:
        diff = self._diff
        if diff is not None:
            data = diff.feed(data)
            if not data:
                return
        super().write(data)

    def start_application_mode(self) -> None:
        super().start_application_mode()
        # After a resize the terminal may have moved or cleared cells: send the next frame
        # whole. Textual's own handler (set just now) runs after.
        textual_handler = signal.getsignal(signal.SIGWINCH)

        def on_resize(signum: int, frame: Any) -> None:
            if self._diff is not None:
                self._diff.forget()
            if callable(textual_handler):
                textual_handler(signum, frame)

        signal.signal(signal.SIGWINCH, on_resize)

    def process_message(self, message: Message) -> None:
        if isinstance(message, events.Resize) and self._diff is not None:
            self._diff.forget()  # an in-band resize report (mode 2048)
        super().process_message(message)


def _link_of(app: Any) -> Link | None:
    settings = getattr(app, "link_settings", None)
    return settings() if callable(settings) else None

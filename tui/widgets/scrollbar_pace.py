"""The log's scrollbar while a reply grows: redrawn when its thumb changes, at most twice a
second.

A streaming reply makes the log taller on every tick (10 a second). Textual redraws the
whole scrollbar column for each change of the virtual height, though the thumb moves by an
eighth of a cell every few lines at most; while the reader is scrolled up nothing else
changes, and that column was most of what crossed an SSH link (~13 KB/s). ``Pace`` keeps
the scrollbar's numbers current (so a click or a drag on it is right) and repaints it only
when the thumb it draws differs from the one last drawn, and then at most every
``INTERVAL`` seconds, the last change drawn when the interval ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from math import ceil

from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.timer import Timer

INTERVAL = 0.5  # seconds: at most two redraws a second while the height changes

Thumb = tuple[int, int, int] | None  # (bar height, start, end) in eighths of a cell


def thumb(size: int, virtual_size: float, window_size: float, position: float) -> Thumb:
    """The thumb ``ScrollBarRender.render_bar`` draws for these numbers (as ``ScrollBar``
    passes them): its start and end in eighths of a cell; None when it draws none."""
    eighths = len(ScrollBarRender.VERTICAL_BARS)
    window = ceil(window_size if window_size < virtual_size else 0)
    virtual = ceil(virtual_size)
    if not (window and size and virtual and size != virtual):
        return None
    thumb_size = max(1, window / (virtual / size))
    offset = (size - thumb_size) * (position / (virtual - window))
    start = int(offset * eighths)
    return (size, start, start + ceil(thumb_size * eighths))


class Pace:
    """``Pace(log)``; ``update(virtual_size)`` in place of ``log._scroll_update`` when only
    the height changed and the vertical scrollbar is always shown."""

    def __init__(
        self,
        log: ScrollView,
        interval: float = INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.log = log
        self.interval = interval
        self.clock = clock
        self.drawn: tuple[Thumb, float] | None = None  # (thumb, position) last drawn
        self.last = -interval  # when it was drawn
        self._timer: Timer | None = None

    def update(self, virtual_size: Size) -> None:
        log = self.log
        bar = log.vertical_scrollbar
        bar.set_reactive(ScrollBar.window_virtual_size, virtual_size.height)
        bar.set_reactive(
            ScrollBar.window_size, log.container_size.height - log.scrollbar_size_horizontal
        )
        log.scroll_y = log.validate_scroll_y(log.scroll_y)  # clamped, as Textual does
        self._draw_if_changed()

    def _current(self) -> tuple[Thumb, float]:
        bar = self.log.vertical_scrollbar
        shape = thumb(bar.size.height, bar.window_virtual_size, bar.window_size, bar.position)
        return shape, bar.position

    def _draw_if_changed(self) -> None:
        current = self._current()
        if current == self.drawn:
            return
        wait = self.last + self.interval - self.clock()
        if wait > 0:
            if self._timer is None:
                self._timer = self.log.set_timer(wait, self._due)
            return
        self._draw(current)

    def _due(self) -> None:
        self._timer = None
        current = self._current()
        if current != self.drawn:
            self._draw(current)

    def _draw(self, current: tuple[Thumb, float]) -> None:
        self.drawn, self.last = current, self.clock()
        self.log.vertical_scrollbar.refresh()

"""The log's scrollbar while a reply grows and the reader is scrolled up: redrawn when its
thumb changes, at most twice a second (tui/widgets/scrollbar_pace.py)."""

from __future__ import annotations

import itertools
import time

from textual.app import App, ComposeResult
from textual.scrollbar import ScrollBarRender

from tui.widgets.message_log import MessageLog
from tui.widgets.scrollbar_pace import INTERVAL, thumb


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield MessageLog()


def drawn(size: int, virtual: int, window: int, position: float) -> list[tuple[str, object]]:
    """What Textual's scrollbar draws for these numbers (ScrollBar._render_bar's way)."""
    window = window if window < virtual else 0
    bar = ScrollBarRender.render_bar(size, virtual, window, position)
    return [(segment.text, segment.style) for segment in bar.segments]


def test_the_thumb_changes_exactly_when_the_drawing_does() -> None:
    size, window = 28, 28
    shapes = {}
    for virtual, eighths in itertools.product(range(20, 400, 7), range(0, 400, 5)):
        position = min(eighths / 8, max(0, virtual - window))
        key = thumb(size, virtual, window, position)
        shapes.setdefault(key, set()).add(str(drawn(size, virtual, window, position)))
    assert all(len(drawings) == 1 for drawings in shapes.values())  # same thumb, same drawing
    assert len({next(iter(d)) for d in shapes.values()}) == len(shapes)  # and the converse


async def test_scrolled_up_during_a_reply_the_scrollbar_is_redrawn_twice_a_second_at_most() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(MessageLog)
        for n in range(30):
            log.add_message("user" if n % 2 else "assistant", f"message {n}\n\nwith two lines")
        log.start_reply("p", "m")
        await pilot.pause()
        log.scroll_to(y=0, animate=False)
        await pilot.pause()
        assert not log.following
        redraws: list[float] = []
        bar = log.vertical_scrollbar
        original = bar.refresh

        def spy(*args: object, **kwargs: object) -> object:
            redraws.append(time.monotonic())
            return original(*args, **kwargs)  # type: ignore[arg-type]

        bar.refresh = spy  # type: ignore[method-assign]
        started = time.monotonic()
        heights = set()
        for n in range(25):  # ~2.5 s of a reply that grows by a line every tick
            log.append(f"line {n}\n\n")
            await pilot.pause(1 / log.STREAM_FPS)
            heights.add(log.virtual_size.height)
        seconds = time.monotonic() - started
        assert len(heights) > 12  # the log did grow all the while
        assert redraws, "the thumb moved: it was redrawn"
        assert len(redraws) <= seconds / INTERVAL + 2, redraws
        gaps = [b - a for a, b in itertools.pairwise(redraws)]
        assert all(gap >= INTERVAL * 0.9 for gap in gaps), gaps
        # The numbers behind the thumb are current, whatever was redrawn.
        assert bar.window_virtual_size == log.virtual_size.height
        log.finish_reply("complete")

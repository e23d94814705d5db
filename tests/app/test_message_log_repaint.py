"""MessageLog while a reply streams: what it costs the terminal (scrolls and repainted rows)."""

from __future__ import annotations

import time

from rich.markdown import Markdown
from textual.app import App, ComposeResult
from textual.geometry import Region

from tui.widgets.markdown_render import CODE_THEME, make_markdown
from tui.widgets.message_log import MessageLog


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield MessageLog()


def record_repaints(log: MessageLog) -> list[Region]:
    """The regions the log asks the terminal to repaint from now on (what crosses the link)."""
    repainted: list[Region] = []
    original = log.refresh

    def spy(*regions: Region, **kwargs: object) -> MessageLog:
        repainted.extend(regions)
        return original(*regions, **kwargs)  # type: ignore[arg-type]

    log.refresh = spy  # type: ignore[method-assign]
    return repainted


def visible_text(log: MessageLog) -> str:
    return "\n".join(log.render_line(y).text for y in range(log.size.height))


async def shows(pilot, log: MessageLog, text: str, seconds: float = 10) -> None:
    """Wait until *text* is drawn: a tick on a busy machine can come late."""
    deadline = time.monotonic() + seconds
    while text not in visible_text(log):
        assert time.monotonic() < deadline, visible_text(log)
        await pilot.pause(1 / log.STREAM_FPS)


async def test_a_streaming_reply_scrolls_by_half_a_screen_and_keeps_its_end_in_view() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(MessageLog)
        log.start_reply("p", "m")
        positions = []
        for n in range(120):
            log.append(f"line {n} of the reply\n\n")
            if n % 3 == 2:
                # The end comes into view within a tick or two; on a busy machine a tick can
                # be late, so wait for it (a deadline, not a fixed pause).
                deadline = time.monotonic() + 10
                while f"line {n} of the reply" not in visible_text(log):
                    assert time.monotonic() < deadline, visible_text(log)
                    await pilot.pause(1 / log.STREAM_FPS)
                positions.append(round(log.scroll_y))
                assert log.following and log.scroll_y == log.max_scroll_y
        moves = len(set(positions))
        view = log.scrollable_content_region.height
        # 240 rows of text; one scroll per tick would move ~40 times, half-screen steps ~20.
        assert moves <= 240 // (view // 2) + 2, positions
        log.finish_reply("complete")
        await pilot.pause()
        # Once the reply is complete the blank rows go: its last line sits at the bottom.
        rows = visible_text(log).splitlines()
        assert rows[-2].strip() == "line 119 of the reply"
        assert log.scroll_y == log.max_scroll_y


async def test_a_tick_repaints_only_the_rows_that_changed() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(MessageLog)
        log.start_reply("p", "m")
        log.append("A first paragraph.\n\nThe second one grows")
        await shows(pilot, log, "The second one grows")
        repainted = record_repaints(log)
        log.append(" a little")
        await shows(pilot, log, "The second one grows a little")
        assert repainted, "the tick repainted nothing"
        assert all(region.height == 1 for region in repainted), repainted  # one line, not the view


async def test_a_block_that_completes_is_repainted_whole_when_the_next_one_starts() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(MessageLog)
        log.start_reply("p", "m")
        log.append("A first paragraph.\n\n> A quote that is still gro")
        await shows(pilot, log, "A quote that is still gro")
        repainted = record_repaints(log)
        log.append("wing and ends here.\n\n## Next\n\nThe next paragraph")
        await shows(pilot, log, "The next paragraph")
        rows = visible_text(log).splitlines()
        [quote] = [y for y, row in enumerate(rows) if "A quote that is still growing" in row]
        # The quote's row changed when its block became final: the terminal must get it again,
        # or the reader sees "still gro" until the reply ends.
        assert any(r.y <= quote < r.y + r.height for r in repainted), (quote, repainted)


def test_the_light_markdown_carries_every_setting_rich_markdown_sets() -> None:
    # make_markdown skips Rich's constructor; a Rich upgrade that adds a setting would
    # otherwise fail only when a reply is drawn.
    ours = vars(make_markdown("# hi *there*"))
    theirs = vars(Markdown("# hi *there*", code_theme=CODE_THEME, hyperlinks=False))
    assert ours.keys() == theirs.keys()
    assert {k: v for k, v in ours.items() if k != "parsed"} == {
        k: v for k, v in theirs.items() if k != "parsed"
    }
    assert [t.type for t in ours["parsed"]] == [t.type for t in theirs["parsed"]]

"""Colours of the log and the status line come from the theme chosen in settings, in every
theme and in a 16-colour terminal."""

from __future__ import annotations

import io
import re

import pytest
from rich.color import Color
from rich.console import Console
from textual.app import App, ComposeResult
from textual.color import Color as TextualColor
from textual.strip import Strip

from tests.app.host import CSS_FILE, wait_until
from tui.widgets.log_layout import CODE_RULE
from tui.widgets.message_log import MessageLog
from tui.widgets.status import StatusLine

REPLY = "Some code:\n\n```python\nx = 1\n```\n\nThe end.\n"
THEMES = sorted(name for name in App().available_themes if not name.startswith("ansi"))


class Host(App[None]):
    CSS_PATH = CSS_FILE  # the app's one stylesheet, where the component classes are styled

    def compose(self) -> ComposeResult:  # as the conversation screen lays them out
        yield MessageLog(id="log")
        yield StatusLine(id="status")


def theme_colour(app: App[None], name: str) -> Color:
    """Theme variable *name* as drawn on the theme's background (it may be translucent)."""
    variables = app.get_css_variables()
    background = TextualColor.parse(variables["background"])
    return (background + TextualColor.parse(variables[name])).rich_color


def rows(log: MessageLog) -> list[Strip]:
    return [log.render_line(y) for y in range(log.scrollable_content_region.height)]


def row_with(log: MessageLog, text: str) -> Strip:
    return next(strip for strip in rows(log) if text in strip.text)


def style_of(strip: Strip, text: str):  # -> Style
    return next(s.style for s in strip if text in s.text)


def backgrounds_in_16_colours(strip: Strip) -> set[str]:
    """The SGR background codes of *strip* as a 16-colour terminal receives it."""
    console = Console(color_system="standard", force_terminal=True, file=io.StringIO())
    codes = [
        int(code)
        for sgr in re.findall(r"\x1b\[([\d;]*)m", strip.render(console))
        for code in sgr.split(";")
        if code
    ]
    return {str(code) for code in codes if 40 <= code <= 47 or 100 <= code <= 107}


async def show(pilot, app: Host, theme: str) -> MessageLog:
    log = app.query_one(MessageLog)
    if not log.message_count:
        log.add_message("user", "hello")
        log.add_message("assistant", REPLY, provider="p", model="m")
        status = app.query_one(StatusLine)
        status.set_model("p", "m")
        status.set_state("error", "HTTP 502")
    app.theme = theme
    primary = theme_colour(app, "primary")
    await wait_until(pilot, lambda: style_of(status_row(app), "p").bgcolor == primary)
    return log


def status_row(app: Host) -> Strip:
    return app.query_one(StatusLine).render_line(0)


async def test_a_theme_change_reaches_headers_code_blocks_and_the_status_line() -> None:
    app = Host()
    async with app.run_test(size=(80, 20)) as pilot:
        for theme in ("textual-dark", "nord", "textual-light"):
            await assert_drawn_in(pilot, app, theme)


async def assert_drawn_in(pilot, app: Host, theme: str) -> None:
    log = await show(pilot, app, theme)
    user, panel = theme_colour(app, "text-primary"), theme_colour(app, "panel")
    await wait_until(pilot, lambda: style_of(row_with(log, "you"), "you").color == user)
    assert style_of(row_with(log, "x = 1"), "x").bgcolor == panel, theme
    assert style_of(status_row(app), "error").bgcolor == theme_colour(app, "error"), theme


async def test_a_streaming_reply_is_drawn_again_in_the_new_theme() -> None:
    app = Host()
    async with app.run_test(size=(80, 20)) as pilot:
        log = await show(pilot, app, "textual-dark")
        log.start_reply("p", "m")
        log.append(REPLY + "\nstill going")
        await wait_until(pilot, lambda: any("still going" in s.text for s in rows(log)))
        log = await show(pilot, app, "nord")
        panel = theme_colour(app, "panel")

        def streaming_code_row() -> Strip:
            return [strip for strip in rows(log) if "x = 1" in strip.text][-1]

        await wait_until(pilot, lambda: style_of(streaming_code_row(), "x").bgcolor == panel)


@pytest.mark.parametrize("theme", THEMES)
async def test_in_16_colours_the_status_line_and_code_blocks_stand_out_from_the_log(
    theme: str,
) -> None:
    app = Host()
    async with app.run_test(size=(80, 20)) as pilot:
        log = await show(pilot, app, theme)
        status = status_row(app)
        text_row = row_with(log, "The end.")
        # The status line's own background (beside the "error" label) against the log's.
        assert backgrounds_in_16_colours(status.crop(0, 1)) != backgrounds_in_16_colours(
            text_row
        ), theme
        # A code block keeps a rule in the gutter: it shows even where the 16-colour
        # palette gives the code's background and the log's the same grey.
        code = row_with(log, "x = 1")
        assert code.text[1] == CODE_RULE, (theme, code.text)
        assert text_row.text[1] == " "

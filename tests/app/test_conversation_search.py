"""Search in a conversation (/ in the log, n / N, Esc) and F3 opening a conversation found
by its text at the match, driven by keys as a user would press them."""

from __future__ import annotations

import time
from pathlib import Path

from rich.style import Style
from textual.app import App, ComposeResult
from textual.color import Color
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widgets import Input

from benchmarks.datasets import message_text
from tests.app.host import host_config, screen_text, wait_until
from tui.app import ChattermApp
from tui.screens.sessions import SessionsScreen
from tui.store import Message, SessionStore
from tui.widgets.log_search import Query
from tui.widgets.message_log import GUTTER, MessageLog
from tui.widgets.search_bar import SearchBar

SIZE = (100, 30)
NEEDLES = {
    3: "msg 3: a needle one, and **needle** two",
    10: "msg 10: another needle",
    25: "msg 25: the last Needle",
}


def texts(count: int = 30) -> list[str]:
    """Messages of a few rows each; NEEDLES say "needle" four times in three messages."""
    return [NEEDLES.get(n, f"msg {n}: " + "filler words " * 20) for n in range(count)]


def save(store: SessionStore, title: str, contents: list[str]) -> str:
    session = store.new("echo", "echo")
    for n, content in enumerate(contents):
        role = "user" if n % 2 == 0 else "assistant"
        extra = {"provider": "echo", "model": "echo", "status": "complete"} if n % 2 else {}
        store.append(session, Message(role=role, content=content, **extra))
    store.rename(session.id, title)
    return session.id


def make_app(tmp_path: Path, contents: list[str] | None = None) -> ChattermApp:
    store = SessionStore(tmp_path / "sessions")
    session = store.load(save(store, "Needles", texts() if contents is None else contents))
    return ChattermApp(
        host_config(tmp_path), store, session=session, state_path=tmp_path / "state.json"
    )


def log_of(app: ChattermApp) -> MessageLog:
    assert app.conversation is not None
    return app.conversation.log_view


def bar_of(app: ChattermApp) -> SearchBar:
    assert app.conversation is not None
    return app.conversation.search_bar


def part(log: MessageLog, name: str) -> Color | None:
    """The background a search part is drawn in (as the log blends it)."""
    color = log.get_component_rich_style(f"message-log--{name}").bgcolor
    return Color.from_rich_color(color) if color is not None else None


def cells_in(strip: Strip, background: Color | None) -> str:
    """The text of the segments of *strip* drawn on *background*."""
    return "".join(
        segment.text
        for segment in strip
        if isinstance(segment.style, Style)
        and segment.style.bgcolor is not None
        and Color.from_rich_color(segment.style.bgcolor) == background
    )


def rows(log: MessageLog) -> list[Strip]:
    return [log.render_line(y) for y in range(log.scrollable_content_region.height)]


def marked(log: MessageLog, name: str) -> list[str]:
    """Per row in view, the text drawn in search part *name* ("" for none)."""
    background = part(log, name)
    return [cells_in(strip, background) for strip in rows(log)]


def shows(log: MessageLog, text: str) -> bool:
    return any(text in strip.text for strip in rows(log))


async def open_search(pilot: Pilot[None], app: ChattermApp) -> None:
    """ctrl+l into the log, Home to its top, then / to the search input."""
    log = log_of(app)
    await pilot.press("ctrl+l")
    await wait_until(pilot, lambda: app.focused is log)
    await pilot.press("home")
    await wait_until(pilot, lambda: round(log.scroll_y) == 0)
    await pilot.press("slash")
    await wait_until(pilot, lambda: isinstance(app.focused, Input))


async def test_slash_searches_as_typed_and_n_and_shift_n_step_through_matches(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        log = log_of(app)
        await open_search(pilot, app)
        await pilot.press(*"needle")
        # Smart case: lower case finds "Needle" too; the first match is below the top.
        await wait_until(pilot, lambda: "match 1 of 4" in screen_text(app))
        assert log.focused_index == 3
        await pilot.press("enter")  # the input closes, the matches stay
        await wait_until(pilot, lambda: app.focused is log)
        assert not bar_of(app).is_open
        assert "/ needle" in screen_text(app) and "match 1 of 4" in screen_text(app)

        # The current match is drawn apart from the other matches, on their own cells.
        assert "needle" in marked(log, "search-current")
        row = marked(log, "search-current").index("needle")
        assert log.render_line(row).text[GUTTER:].startswith("msg 3: a needle one")
        assert marked(log, "search-match")[row] == "needle"  # "**needle**": the bold one

        await pilot.press("n")
        await wait_until(pilot, lambda: "match 2 of 4" in screen_text(app))
        assert log.focused_index == 3
        await pilot.press("n")
        await wait_until(pilot, lambda: "match 3 of 4" in screen_text(app))
        assert log.focused_index == 10
        await wait_until(pilot, lambda: shows(log, "msg 10: another needle"))
        await pilot.press("n")
        await wait_until(pilot, lambda: "match 4 of 4" in screen_text(app))
        assert log.focused_index == 25
        await wait_until(pilot, lambda: shows(log, "msg 25: the last Needle"))
        assert "Needle" in marked(log, "search-current")
        await pilot.press("n")  # round to the first again
        await wait_until(pilot, lambda: "match 1 of 4" in screen_text(app))
        assert log.focused_index == 3
        await wait_until(pilot, lambda: shows(log, "msg 3: a needle one"))
        await pilot.press("N")  # and back past the top
        await wait_until(pilot, lambda: "match 4 of 4" in screen_text(app))
        assert log.focused_index == 25
        await pilot.press("N")
        await wait_until(pilot, lambda: "match 3 of 4" in screen_text(app))
        assert log.focused_index == 10

        await pilot.press("escape")  # clears the search: no bar, no highlight
        await wait_until(pilot, lambda: "match" not in screen_text(app))
        assert log.search_status is None and not bar_of(app).display
        await wait_until(pilot, lambda: not any(marked(log, "search-match")))
        assert not any(marked(log, "search-current"))
        assert shows(log, "msg 10: another needle")  # the view stays where the search left it


async def test_a_capital_matches_exactly_and_no_match_says_so(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        log = log_of(app)
        await open_search(pilot, app)
        await pilot.press(*"Needle")
        await wait_until(pilot, lambda: "match 1 of 1" in screen_text(app))
        assert log.focused_index == 25
        await pilot.press(*"zz")
        await wait_until(pilot, lambda: "no match" in screen_text(app))
        assert log.search_status is not None and log.search_status.total == 0
        await pilot.press("escape")  # Esc in the input: cleared, back in the log
        await wait_until(pilot, lambda: app.focused is log)
        assert log.search_status is None and "no match" not in screen_text(app)
        await pilot.press("n")  # nothing to step through: nothing happens
        assert log.search_status is None


async def test_the_query_is_text_and_highlights_land_on_the_drawn_cells(tmp_path: Path) -> None:
    contents = [
        "where is [bold]x[/bold]?",
        "In **Markdown**: `[bold]x[/bold]` and 日本語の[bold]x[/bold] too.",
    ]
    app = make_app(tmp_path, contents)
    async with app.run_test(size=SIZE) as pilot:
        log = log_of(app)
        await open_search(pilot, app)
        await pilot.press(*"[bold]x[/bold]")
        await wait_until(pilot, lambda: "match 1 of 3" in screen_text(app))
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.focused is log)
        await pilot.press("n")
        await wait_until(pilot, lambda: "match 2 of 3" in screen_text(app))
        lines = rows(log)
        row = next(n for n, strip in enumerate(lines) if "日本語" in strip.text)
        # Shown as typed, not obeyed as markup; the marks cover just those cells, after
        # the wide characters (each two cells) as much as after the code span.
        assert "[bold]x[/bold]" in lines[row].text
        assert cells_in(lines[row], part(log, "search-current")) == "[bold]x[/bold]"
        assert cells_in(lines[row], part(log, "search-match")) == "[bold]x[/bold]"


async def test_a_message_that_arrives_during_a_search_is_counted(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        log = log_of(app)
        await open_search(pilot, app)
        await pilot.press(*"needle", "enter")
        await wait_until(pilot, lambda: "match 1 of 4" in screen_text(app))
        log.add_message("user", "one more needle")
        await wait_until(pilot, lambda: "match 1 of 5" in screen_text(app))
        await wait_until(pilot, lambda: "needle" in marked(log, "search-match"))
        log.remove_last()  # a message gone: searched again, and n goes on from the view
        await wait_until(pilot, lambda: "4 matches" in screen_text(app))
        await pilot.press("n")  # (the new prompt took the mark and the view to the end)
        await wait_until(pilot, lambda: "match 4 of 4" in screen_text(app))
        assert log.focused_index == 25


async def test_the_palette_opens_the_search(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p", *"search this conversation")
        await wait_until(pilot, lambda: "Search this conversation…" in screen_text(app))
        await pilot.press("enter")
        await wait_until(pilot, lambda: bar_of(app).is_open)
        await wait_until(pilot, lambda: app.focused is bar_of(app).input)
        await pilot.press(*"needle")
        await wait_until(pilot, lambda: "of 4" in screen_text(app))


async def test_f3_opens_a_conversation_found_by_its_text_at_the_match(tmp_path: Path) -> None:
    app = make_app(tmp_path)  # opens "Needles"
    store = app.services.store
    contents = [f"msg {n}: " + "filler words " * 20 for n in range(40)]
    contents[20] = "msg 20: the pelican is here"
    contents[33] = "msg 33: a second Pelican"
    birds = save(store, "Birds", contents)
    async with app.run_test(size=SIZE) as pilot:
        log = log_of(app)
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionsScreen))
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        await wait_until(pilot, lambda: screen._loaded)
        await pilot.press("slash", *"Pelican")  # F3 matches any case: so does the search
        await wait_until(pilot, lambda: screen._content_query == "Pelican")
        await wait_until(pilot, lambda: "Birds" in screen_text(app))
        await pilot.press("enter")
        conversation = app.conversation
        assert conversation is not None
        await wait_until(pilot, lambda: conversation.session.id == birds)
        await wait_until(pilot, lambda: app.focused is log)
        assert log.focused_index == 20
        await wait_until(pilot, lambda: "match 1 of 2" in screen_text(app))
        await wait_until(pilot, lambda: shows(log, "msg 20: the pelican is here"))
        assert "pelican" in marked(log, "search-current")
        await pilot.press("n")  # n steps on through the conversation's matches
        await wait_until(pilot, lambda: "match 2 of 2" in screen_text(app))
        assert log.focused_index == 33

        # A filter that matched the title only: the conversation opens as ever.
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionsScreen))
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        await wait_until(pilot, lambda: screen._loaded)
        await pilot.press("slash", *"needles")
        await wait_until(pilot, lambda: screen._content_query == "needles")
        await pilot.press("enter")
        await wait_until(pilot, lambda: conversation.session.id != birds)
        await wait_until(pilot, lambda: app.focused is conversation.prompt)
        assert log.search_status is None and not bar_of(app).display


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield MessageLog()


async def test_searching_a_thousand_messages_is_instant() -> None:
    messages = [
        Message("user" if n % 2 == 0 else "assistant", message_text(n)) for n in range(1000)
    ]
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(MessageLog)
        log.load(messages)
        await pilot.pause()
        timings = {}
        for query in ("message", "Message 500", "zebra-unknown"):
            started = time.perf_counter()
            status = log.search(Query.smart(query), start=0)
            timings[query] = time.perf_counter() - started
            assert (status.total > 0) == (query != "zebra-unknown"), query
        log.search(Query.smart("Message"), start=0)  # one a message, in its heading
        started = time.perf_counter()
        for _ in range(10):
            log.action_next_match()
        step = (time.perf_counter() - started) / 10
        assert log.focused_index == 10
        await pilot.pause()
        shown = ", ".join(f"{q!r} {t * 1000:.0f} ms" for q, t in timings.items())
        print(f"\nsearch over 1,000 messages (~2 KB): {shown}; n {step * 1000:.1f} ms")
        assert log.rendered_messages() and len(log.rendered_messages()) < 100  # still lazy
        assert max(timings.values()) < 1.0 and step < 0.5  # ~20-40 ms here; generous

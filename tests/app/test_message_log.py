"""MessageLog: what it draws, how it streams, scrolls, copies and scales."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.markdown import Markdown
from textual import events
from textual.app import App, ComposeResult
from textual.widgets import Input

from benchmarks.datasets import message_text
from tui.store import Message, Session, SessionStore
from tui.widgets.markdown_render import CODE_THEME
from tui.widgets.message_log import GUTTER, MessageLog

REPLY = """# Plan

Intro paragraph with *emphasis*, `inline code` and a [link](https://example.com/docs).

## Steps

1. First step, long enough to wrap around the edge of a narrow terminal window for sure.
2. Second step
   - nested bullet
   - another

```python
def greet(name: str) -> str:
    return f"hello {name}"
```

| Column | Value |
|--------|-------|
| a      | 1     |
| b      | 2     |

> A quote that also goes on for a while so that it wraps at least once in the log.

---

Closing words.
"""


WHEN = datetime(2026, 1, 1, tzinfo=UTC)


class Host(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.copied: list[tuple[str, str]] = []

    def compose(self) -> ComposeResult:
        yield MessageLog()
        yield Input()

    def on_message_log_copy(self, event: MessageLog.Copy) -> None:
        self.copied.append((event.kind, event.text))


@dataclass
class StoredMessage:
    role: str
    content: str
    provider: str = ""
    model: str = ""
    status: str = "complete"
    error: str = ""
    created: datetime | None = None


def screen_text(log: MessageLog) -> list[str]:
    """The rows of the log as they are on screen, without the gutter."""
    height = log.scrollable_content_region.height
    return [log.render_line(y).text[GUTTER:].rstrip() for y in range(height)]


def all_text(log: MessageLog) -> list[str]:
    """Every row of the whole log (rendering any message not rendered yet)."""
    rows = []
    for y in range(log.virtual_size.height):
        line = log._line(y)
        rows.append(line.text[GUTTER:].rstrip() if line is not None else "")
    return rows


def body_rows(log: MessageLog, index: int) -> list[str]:
    """The rows of one message between its header and its separator."""
    log._layout()
    start, end = log._offsets[index] + 1, log._offsets[index + 1] - 1
    return [log._line(y).text[GUTTER:].rstrip() for y in range(start, end)]  # type: ignore[union-attr]


def rich_render(text: str, width: int) -> list[str]:
    console = Console(width=width, color_system="truecolor", force_terminal=True)
    markdown = Markdown(text, code_theme=CODE_THEME, hyperlinks=False)
    return [
        "".join(s.text for s in line).rstrip()
        for line in console.render_lines(markdown, console.options.update(height=None))
    ]


async def test_messages_show_with_headers_headings_and_code() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(MessageLog)
        log.add_message("user", "What is the plan?", created=datetime(2024, 5, 1, 9, 7))
        log.add_message("assistant", REPLY, provider="openai", model="gpt-4o")
        await pilot.pause()
        rows = all_text(log)
        joined = "\n".join(rows)
        assert rows[0].startswith("you")
        assert rows[0].endswith(datetime(2024, 5, 1, 9, 7).astimezone().strftime("%H:%M"))
        assert "What is the plan?" in rows[1]
        assert any(r.startswith("assistant · openai/gpt-4o") for r in rows)
        assert "Plan" in joined and "Steps" in joined
        assert "# Plan" not in joined and "```" not in joined  # rendered, not raw
        assert 'return f"hello {name}"' in joined
        assert "Column" in joined and "nested bullet" in joined
        assert log.message_count == 2
        assert log.message_text(1) == REPLY
        assert log.code_blocks(1) == ['def greet(name: str) -> str:\n    return f"hello {name}"\n']
        # Everything fits the width.
        assert all(len(r) <= log.scrollable_content_region.width for r in rows)


async def test_header_shows_status_and_updates() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(MessageLog)
        index = log.start_reply("anthropic", "claude")
        await pilot.pause()
        assert screen_text(log)[0].startswith("assistant · anthropic/claude · streaming…")
        log.finish_reply("cancelled")
        await pilot.pause()
        assert screen_text(log)[0].startswith("assistant · anthropic/claude · cancelled")
        log.set_header(index, provider="ollama", model="llama3", status="complete")
        await pilot.pause()
        header = screen_text(log)[0]
        assert header.startswith("assistant · ollama/llama3")
        assert "cancelled" not in header


async def test_streaming_matches_a_whole_render() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(MessageLog)
        index = log.start_reply("openai", "gpt-4o")
        assert log.following
        text = REPLY * 3
        for n in range(0, len(text), 7):
            log.append(text[n : n + 7])
            if n % 700 == 0:
                await pilot.pause(0.06)  # let some ticks render partial text
        log.finish_reply("complete", provider="openai", model="gpt-4o-mini")
        await pilot.pause()
        assert log.message_text(index) == text
        assert body_rows(log, index) == rich_render(text, log._width)
        assert screen_text(log)[-2] == "Closing words."  # followed to the end
        assert log.following
        assert "gpt-4o-mini" in all_text(log)[0]


async def test_streaming_ticks_render_partial_text() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(MessageLog)
        log.start_reply("p", "m")
        log.append("Hello, ")
        log.append("world")
        assert "Hello" not in "\n".join(screen_text(log))  # append only buffers
        await pilot.pause(0.15)
        assert "Hello, world" in screen_text(log)[1]


async def test_markup_in_content_is_shown_literally() -> None:
    app = Host()
    hostile = "[bold]x[/] [@click=app.quit]q[/] [/]"
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(MessageLog)
        log.add_message("user", hostile)
        log.add_message("assistant", hostile, provider="[red]p", model="[/]")
        log.start_reply("x", "y")
        log.append(hostile)
        await pilot.pause(0.1)
        log.finish_reply("error", error=hostile)
        await pilot.pause()
        rows = all_text(log)
        assert rows[1] == hostile
        assert rows[4] == hostile  # Markdown keeps brackets too
        assert rows[3].startswith("assistant · [red]p/[/]")
        assert "✗ error: " + hostile in rows
        await pilot.click(MessageLog, offset=(10, 1))
        await pilot.click(MessageLog, offset=(10, 4))
        await pilot.pause()
        assert app.is_running


async def test_links_show_their_address_without_osc8() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(MessageLog)
        log.add_message("assistant", "See [the docs](https://example.com/a?b=1) now.")
        await pilot.pause()
        assert "See the docs (https://example.com/a?b=1) now." in screen_text(log)
        for y in range(3):
            strip = log.render_line(y)
            for segment in strip:
                assert segment.style is None or not segment.style.link
            assert "\x1b]8;" not in strip.render(app.console)


async def test_following_stops_on_scroll_up_and_resumes_on_end() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(MessageLog)
        for n in range(30):
            log.add_message("user" if n % 2 else "assistant", f"message {n}\n\nmore text")
        await pilot.pause()
        assert log.following
        assert log.scroll_y == log.max_scroll_y > 0
        log.focus()
        await pilot.press("up")
        assert not log.following
        await pilot.press("end")
        assert log.following and log.scroll_y == log.max_scroll_y
        # The mouse wheel counts as the reader scrolling too.
        log.post_message(events.MouseScrollUp(log, 5, 5, 0, -1, 0, False, False, False))
        await pilot.pause()
        assert not log.following
        for _ in range(10):
            log.post_message(events.MouseScrollDown(log, 5, 5, 0, 1, 0, False, False, False))
        await pilot.pause()
        assert log.following
        await pilot.press("pageup")
        assert not log.following
        position = log.scroll_y
        # A streaming reply does not drag the reader down while they read.
        log.start_reply("p", "m")
        for _ in range(50):
            log.append("line of text\n\n")
        await pilot.pause(0.15)
        assert log.scroll_y == position and not log.following
        # Scrolling back down to the bottom resumes following.
        for _ in range(40):
            await pilot.press("pagedown")
        assert log.following
        log.append("last words")
        await pilot.pause(0.15)
        assert log.scroll_y == log.max_scroll_y
        assert "last words" in screen_text(log)
        log.finish_reply("complete")
        # Sending a prompt while scrolled up brings the view back down.
        await pilot.press("home")
        assert not log.following
        log.add_message("user", "a new question")
        await pilot.pause()
        assert log.following and screen_text(log)[-2] == "a new question"


async def test_navigation_and_copy() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(MessageLog)
        log.add_message("user", "first question")
        log.add_message("assistant", "Answer:\n\n```sh\nls -l\n```\n\n```py\nprint(1)\n```\n")
        log.add_message("user", "second question")
        await pilot.pause()
        assert log.focused_index is None
        log.focus()
        await pilot.press("left_square_bracket")
        assert log.focused_index == 2
        assert log.render_line(log._offsets[2]).text.startswith("▌")
        await pilot.press("left_square_bracket")
        assert log.focused_index == 1
        await pilot.press("c")
        await pilot.press("y")
        await pilot.press("1")
        await pilot.press("right_square_bracket", "right_square_bracket")
        assert log.focused_index == 2
        await pilot.press("c")
        await pilot.pause()
        assert app.copied == [
            ("message", log.message_text(1)),
            ("code", "print(1)\n"),
            ("code", "ls -l\n"),
            ("message", "second question"),
        ]
        assert log.code_blocks(0) == []


async def test_load_a_thousand_messages_is_lazy() -> None:
    paragraph = "Some words to fill a stored message, repeated to be about two KB. " * 6
    body = "\n\n".join([paragraph] * 4) + "\n\n```python\nx = 1\n```\n"
    messages = [
        StoredMessage("user" if n % 2 == 0 else "assistant", f"message {n}\n\n{body}")
        for n in range(1000)
    ]
    messages[-1].content = "the very last message"
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(MessageLog)
        started = time.perf_counter()
        log.load(messages)
        loaded = time.perf_counter() - started
        await pilot.pause()
        shown = time.perf_counter() - started
        print(f"\nload(1,000 x ~2 KB): {loaded * 1000:.0f} ms, on screen {shown * 1000:.0f} ms")
        assert log.message_count == 1000
        assert "the very last message" in screen_text(log)
        assert len(log.rendered_messages()) < 50  # only the messages near the bottom
        # Jumping to the top renders there and shows the first message.
        log.focus()
        await pilot.press("home")
        await pilot.pause()
        assert screen_text(log)[0].startswith("you")
        assert screen_text(log)[1] == "message 0"
        assert not log.following
        await pilot.press("end")
        await pilot.pause()
        assert "the very last message" in screen_text(log)


async def test_a_saved_conversation_opens_rendering_only_its_last_screens(tmp_path: Path) -> None:
    # The open path of `chatterm -s ID`: the file read by the store, then the log loaded.
    store = SessionStore(tmp_path)
    session = Session("long", "long", WHEN, WHEN, "p", "m")
    session.messages = [
        Message("user" if n % 2 == 0 else "assistant", message_text(n), WHEN, f"m-{n}")
        for n in range(1000)
    ]
    session.messages[-1].content += "ZQLAST end of the conversation.\n"
    store.save(session)
    loaded = SessionStore(tmp_path).load("long")
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(MessageLog)
        log.load(loaded.messages)
        await pilot.pause()

        assert any("ZQLAST" in row for row in screen_text(log))
        rendered = log.rendered_messages()
        # Only the tail, and no more of it than the view and the one-screen margin need.
        assert rendered == list(range(rendered[0], 1000))
        view = log.scrollable_content_region.height
        rows_after_first = sum(log.message_height(n) for n in rendered[1:])
        assert rows_after_first < 2 * view, (len(rendered), rows_after_first, view)


class SmallCacheLog(MessageLog):
    LINE_CACHE_LIMIT = 60


class SmallCacheHost(App[None]):
    def compose(self) -> ComposeResult:
        yield SmallCacheLog()


async def test_lines_evicted_from_the_cache_are_drawn_again_the_same() -> None:
    messages = [StoredMessage("assistant", f"Message {n}\n\n" + "word " * 150) for n in range(40)]
    app = SmallCacheHost()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(MessageLog)
        log.load(messages)
        await pilot.pause()
        bottom, rendered = screen_text(log), set(log.rendered_messages())
        log.focus()
        await pilot.press("home")
        await pilot.pause()
        assert screen_text(log)[1] == "Message 0"
        assert log.cached_lines <= SmallCacheLog.LINE_CACHE_LIMIT
        # Messages at the bottom made way for the top's lines; their heights stay.
        assert not rendered <= set(log.rendered_messages())
        await pilot.press("end")
        await pilot.pause()
        assert screen_text(log) == bottom


async def test_scrolling_up_through_estimates_keeps_the_view_still() -> None:
    messages = [StoredMessage("assistant", f"# Title {n}\n\n" + "word " * 300) for n in range(60)]
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(MessageLog)
        log.load(messages)
        await pilot.pause()
        log.focus()
        for _ in range(40):
            before = screen_text(log)
            await pilot.press("up")
            after = screen_text(log)
            assert after[1:] == before[:-1]  # exactly one row moved, nothing jumped
        # Jump into the middle (all estimates there), then page up: pages join exactly.
        log.scroll_to(y=log.max_scroll_y // 2, animate=False)
        await pilot.pause()
        for _ in range(8):
            before = screen_text(log)
            await pilot.press("pageup")
            after = screen_text(log)
            assert after[-1] == before[0]  # a page is the height less one row of context


async def test_resize_rewraps() -> None:
    words = " ".join(f"word{n}" for n in range(60))
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(MessageLog)
        log.add_message("user", words)
        log.add_message("assistant", words)
        await pilot.pause()
        wide = all_text(log)
        await pilot.resize_terminal(60, 30)
        await pilot.pause()
        narrow = all_text(log)
        assert len(narrow) > len(wide)
        assert max(len(r) for r in narrow) <= 60 - GUTTER
        assert " ".join(body_rows(log, 1)) == words
        assert narrow[-2] == body_rows(log, 1)[-1]  # still at the bottom


async def test_resize_keeps_the_message_in_view_when_not_following() -> None:
    messages = [StoredMessage("assistant", f"Message {n}. " + "word " * 120) for n in range(80)]
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(MessageLog)
        log.load(messages)
        await pilot.pause()
        log.scroll_to(y=log._offsets[40], animate=False)
        await pilot.pause()
        assert screen_text(log)[1].startswith("Message 40.")
        await pilot.resize_terminal(70, 30)
        await pilot.pause()
        assert not log.following
        assert screen_text(log)[1].startswith("Message 40.")
        await pilot.resize_terminal(120, 30)
        await pilot.pause()
        assert screen_text(log)[1].startswith("Message 40.")


async def test_error_finish_keeps_partial_text() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(MessageLog)
        log.add_message("user", "hi")
        index = log.start_reply("openai", "gpt-4o")
        log.append("Partial answer that was")
        await pilot.pause(0.1)
        log.append(" cut off")
        log.finish_reply("error", error="connection reset (502)")
        await pilot.pause()
        rows = body_rows(log, index)
        assert rows == ["Partial answer that was cut off", "✗ error: connection reset (502)"]
        assert "error" in screen_text(log)[3]
        assert log.message_text(index) == "Partial answer that was cut off"


async def test_remove_last_and_clear() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(MessageLog)
        log.add_message("user", "q")
        log.start_reply("p", "m")
        log.append("half")
        log.remove_last()
        await pilot.pause(0.1)
        assert log.message_count == 1
        assert screen_text(log)[:3] == ["you", "q", ""]
        log.append("ignored: no reply in progress")
        log.clear()
        await pilot.pause()
        assert log.message_count == 0
        assert log.virtual_size.height == 0

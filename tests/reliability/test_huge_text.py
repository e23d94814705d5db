"""Huge text never takes the keyboard away: a 1 MB table streaming, a 4 MB reply opened,
a 5 MB paste sent. These assert behaviour with generous deadlines; the times themselves
are measured by ``benchmarks/huge_text.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from textual import events

from tests.app.host import ask, local_app, local_config, screen_text, wait_until
from tests.servers import OpenAIServer
from tui.app import ChattermApp
from tui.store import Message, SessionStore

SIZE = (100, 30)
DEADLINE = 20.0  # seconds to wait for text to arrive
# A key must be handled within this long: 20-100x the targets in benchmarks/, and far
# under the freezes of the report (12 s to 3.5 minutes), so a busy machine cannot fail it.
KEY_DEADLINE = 8.0


def table(rows: int) -> str:
    header = "| n | name | value | note |\n|---|---|---|---|\n"
    body = "".join(f"| {n} | row{n} | {n * 7} | some words here |\n" for n in range(rows))
    return header + body


def make_app(tmp_path: Path, server: OpenAIServer) -> ChattermApp:
    return local_app(tmp_path, server.base_url)


async def wait_within(pilot, test: Callable[[], bool], seconds: float, since: float) -> None:
    """Wait for *test*; fail unless it held within *seconds* of *since* (a time.monotonic).

    Checked after the fact too: a frozen event loop would only let the test see the
    condition once the freeze is over.
    """
    await wait_until(pilot, test, max(0.0, seconds - (time.monotonic() - since)))
    assert time.monotonic() - since < seconds, "the app froze past the deadline"


async def press_handled(
    pilot, key: str, handled: Callable[[], bool], since: float | None = None
) -> None:
    """Press *key* and wait until *handled*, within KEY_DEADLINE of the press (or *since*)."""
    pressed = time.monotonic() if since is None else since
    await pilot.press(key)
    await wait_within(pilot, handled, KEY_DEADLINE, since=pressed)


def chats(server: OpenAIServer) -> list:
    return server.chat_requests


async def test_key_typed_while_a_1mb_table_streams_is_handled_and_esc_keeps_the_partial(
    tmp_path: Path,
) -> None:
    reply = table(22_000)  # ~1 MB
    assert len(reply) > 1_000_000
    with OpenAIServer(reply=reply, chunks=4000, delay=0.002) as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.conversation
            await pilot.press("q", "enter")
            log = screen.log_view
            await wait_until(pilot, lambda: len(log.message_text(1)) > 300_000, DEADLINE)
            assert screen.streaming
            # Typed while the reply renders, then Esc.
            await press_handled(pilot, "z", lambda: screen.prompt.text == "z")
            await press_handled(pilot, "escape", lambda: not screen.streaming)
            partial = screen.session.messages[-1]
            assert partial.status == "cancelled"
            assert 300_000 < len(partial.content) < len(reply)
            assert reply.startswith(partial.content)
            # The last row that arrived is on screen at the bottom of the log.
            last = partial.content.rstrip("\n").rsplit("\n", 1)[-1].strip("| ")
            await wait_until(pilot, lambda: last.split(" |")[0] in screen_text(app), DEADLINE)


async def test_whole_1mb_table_reply_stays_reachable(tmp_path: Path) -> None:
    reply = table(22_000)
    with OpenAIServer(reply=reply, chunks=200) as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.conversation
            await ask(pilot, "q", DEADLINE)
            assert screen.session.messages[-1].content == reply
            await wait_until(pilot, lambda: "row21999" in screen_text(app), DEADLINE)
            screen.log_view.focus()
            await pilot.press("home")
            await wait_until(
                pilot, lambda: "row0 " in screen_text(app) or "row0|" in screen_text(app), DEADLINE
            )


async def test_conversation_with_a_4mb_reply_opens_and_takes_keys(tmp_path: Path) -> None:
    reply = "# Big\n\n" + "".join(f"paragraph {n} " + "word " * 30 + "\n\n" for n in range(24_000))
    reply += "ZQLAST\n"
    assert len(reply) > 4_000_000
    with OpenAIServer(reply="x") as server:
        store = SessionStore(tmp_path / "sessions")
        session = store.new("local", "m1")
        session.messages += [
            Message("user", "big?"),
            Message("assistant", reply, status="complete"),
        ]
        store.save(session)
        config = local_config(tmp_path, server.base_url)
        app = ChattermApp(
            config, store, session=store.load(session.id), state_path=tmp_path / "s.json"
        )
        opening = time.monotonic()  # the report counted from opening: 12 s to the first key
        async with app.run_test(size=SIZE) as pilot:
            screen = app.conversation
            await press_handled(pilot, "k", lambda: screen.prompt.text == "k", since=opening)
            await wait_until(pilot, lambda: "ZQLAST" in screen_text(app), DEADLINE)
            # F7 scans the 4 MB reply for code blocks: it must not hang either.
            await press_handled(
                pilot, "f7", lambda: any("code" in n.message for n in app._notifications)
            )


async def test_5mb_paste_is_sent_whole_and_the_prompt_takes_keys(tmp_path: Path) -> None:
    pasted = "".join(f"pasted line {n} with some text in it\n" for n in range(140_000))
    pasted += "ZQPASTEEND"
    assert len(pasted) > 5_000_000
    with OpenAIServer(reply="got it") as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.conversation
            pasted_at = time.monotonic()
            app.post_message(events.Paste(pasted))  # as the terminal's bracketed paste arrives
            await wait_within(pilot, lambda: screen.prompt.message == pasted, DEADLINE, pasted_at)
            # The prompt still takes keys after the paste.
            await press_handled(pilot, "b", lambda: screen.prompt.text.endswith("b"))
            await pilot.press("backspace")
            await press_handled(pilot, "enter", lambda: len(chats(server)) == 1)
            sent = chats(server)[0].json["messages"][-1]["content"]
            assert sent == pasted
            await wait_until(pilot, lambda: not screen.streaming, DEADLINE)
            await press_handled(pilot, "a", lambda: screen.prompt.text == "a")
            assert screen.session.messages[0].content == pasted


async def test_table_too_slow_to_stream_as_markdown_is_drawn_as_a_table_when_done(
    tmp_path: Path,
) -> None:
    reply = table(800)  # ~33 KB: Rich takes ~1 s to lay it out, too long for one tick
    with OpenAIServer(reply=reply, chunks=400, delay=0.002) as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.conversation
            await ask(pilot, "q", DEADLINE)
            # Plain rows show "| 799 | row799 |"; the Markdown table has no such pipes.
            await wait_until(
                pilot,
                lambda: "row799" in screen_text(app) and "| row799 |" not in screen_text(app),
                DEADLINE,
            )
            await press_handled(pilot, "a", lambda: screen.prompt.text == "a")


def test_plain_rows_of_a_huge_message_keep_every_character_within_the_width() -> None:
    from rich.cells import cell_len

    from tui.widgets.log_layout import PlainBody

    text = "ascii " * 50 + "\n" + "漢字かな" * 40 + "\n\n" + "x" * 250
    body = PlainBody(text, 30)
    rows = [body[i].text for i in range(len(body))]
    assert all(cell_len(row) == 30 for row in rows)  # padded, never wider
    assert "".join(rows).replace(" ", "") == text.replace("\n", "").replace(" ", "")
    grown = text + "y" * 40 + "\nlast"
    first = body.extend(grown)
    assert first == len(rows) - 9  # only the last source line (250 x = 9 rows) is re-wrapped
    assert "".join(body[i].text for i in range(len(body))).replace(" ", "") == grown.replace(
        "\n", ""
    ).replace(" ", "")

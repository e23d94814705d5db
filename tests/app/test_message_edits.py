"""Editing any message, pressed as a user would: ctrl+l marks a message in the log, `e`
edits it, `d` deletes it, ←/→ step through its alternatives; regenerate and resend keep
the old reply or branch one step away, and what is sent is the path on screen."""

from __future__ import annotations

import tomllib
from pathlib import Path

from textual.pilot import Pilot

from tests.app.host import ask, local_app, notices, screen_text, wait_until
from tests.servers import OpenAIServer
from tui.app import ChattermApp

SIZE = (100, 30)


def saved(app: ChattermApp) -> dict:
    session = app.conversation.session
    return tomllib.loads(app.services.store.path(session.id).read_text())


def contents(tables: list[dict]) -> list[str]:
    return [m["content"] for m in tables]


def sent(server: OpenAIServer) -> list[str]:
    """What the last chat request carried, as the provider sees the conversation."""
    chats = server.chat_requests
    return [m["content"] for m in chats[-1].json["messages"]]


def chat_count(server: OpenAIServer) -> int:
    return len(server.chat_requests)


async def regenerated(pilot: Pilot[None], server: OpenAIServer, reply: str) -> None:
    screen = pilot.app.conversation
    before = chat_count(server)
    server.reply = reply
    await pilot.press("ctrl+g")
    await wait_until(pilot, lambda: chat_count(server) > before and not screen.streaming)
    await wait_until(pilot, lambda: reply in screen_text(pilot.app))


async def test_regenerate_keeps_the_old_reply_and_arrows_step_between_them(
    tmp_path: Path,
) -> None:
    with OpenAIServer(reply="first answer") as server:
        app = local_app(tmp_path, server.base_url)
        async with app.run_test(size=SIZE) as pilot:
            await ask(pilot, "q")
            await regenerated(pilot, server, "second answer")
            assert "‹ 2/2 ›" in screen_text(app) and "first answer" not in screen_text(app)
            await pilot.press("ctrl+l", "left")
            await wait_until(pilot, lambda: "first answer" in screen_text(app))
            assert "‹ 1/2 ›" in screen_text(app) and "second answer" not in screen_text(app)
            assert contents(saved(app)["messages"]) == ["q", "first answer"]
            assert contents(saved(app)["alternatives"]) == ["second answer"]
            await pilot.press("right")
            await wait_until(pilot, lambda: "second answer" in screen_text(app))
            assert "‹ 2/2 ›" in screen_text(app)


async def test_what_is_sent_after_stepping_back_is_the_reply_on_screen(tmp_path: Path) -> None:
    with OpenAIServer(reply="first answer") as server:
        app = local_app(tmp_path, server.base_url)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.conversation
            await ask(pilot, "q")
            await regenerated(pilot, server, "second answer")
            await pilot.press("ctrl+l", "left")
            await wait_until(pilot, lambda: "first answer" in screen_text(app))
            screen.prompt.focus()
            server.reply = "third"
            await ask(pilot, "more")
            assert sent(server) == ["q", "first answer", "more"]


async def test_editing_an_earlier_prompt_branches_and_left_brings_the_old_branch_back(
    tmp_path: Path,
) -> None:
    with OpenAIServer(reply="answer one") as server:
        app = local_app(tmp_path, server.base_url)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.conversation
            await ask(pilot, "first question")
            server.reply = "answer two"
            await ask(pilot, "second question")
            # Mark the first prompt: ctrl+l, then [ until it is the marked one.
            await pilot.press("ctrl+l")
            for _ in range(4):
                await pilot.press("left_square_bracket")
            await wait_until(pilot, lambda: screen.log_view.focused_index == 0)
            await pilot.press("e")
            await wait_until(pilot, lambda: screen.prompt.text == "first question")
            assert "editing prompt 1" in screen_text(app)
            await pilot.press(*" again")
            server.reply = "answer again"
            await pilot.press("enter")
            await wait_until(pilot, lambda: chat_count(server) == 3 and not screen.streaming)
            assert sent(server) == ["first question again"]
            doc = saved(app)
            assert contents(doc["messages"]) == ["first question again", "answer again"]
            assert contents(doc["alternatives"]) == [
                "first question", "answer one", "second question", "answer two"
            ]  # fmt: skip
            await wait_until(pilot, lambda: "‹ 2/2 ›" in screen_text(app))

            await pilot.press("ctrl+l", "left_square_bracket", "left_square_bracket")
            await wait_until(pilot, lambda: screen.log_view.focused_index == 0)
            await pilot.press("left")
            await wait_until(pilot, lambda: "second question" in screen_text(app))
            assert [m.content for m in screen.session.messages] == [
                "first question", "answer one", "second question", "answer two"
            ]  # fmt: skip


async def test_editing_a_reply_saves_it_in_place_and_sends_nothing(tmp_path: Path) -> None:
    with OpenAIServer(reply="a reply with a tpyo") as server:
        app = local_app(tmp_path, server.base_url)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.conversation
            await ask(pilot, "q")
            await pilot.press("ctrl+l", "e")  # no mark: the last message
            await wait_until(pilot, lambda: screen.prompt.text == "a reply with a tpyo")
            screen.prompt.set_text("a reply with a typo fixed")
            await pilot.press("enter")
            await wait_until(pilot, lambda: "typo fixed" in screen_text(app))
            assert contents(saved(app)["messages"]) == ["q", "a reply with a typo fixed"]
            assert chat_count(server) == 1 and screen.prompt.text == ""


async def test_esc_while_editing_puts_back_what_the_prompt_held(tmp_path: Path) -> None:
    with OpenAIServer(reply="ans") as server:
        app = local_app(tmp_path, server.base_url)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.conversation
            await ask(pilot, "q")
            await pilot.press(*"half typed")
            await pilot.press("ctrl+o")
            await wait_until(pilot, lambda: screen.prompt.text == "q")
            await pilot.press("escape")
            await wait_until(pilot, lambda: screen.prompt.text == "half typed")
            assert "editing" not in screen_text(app)
            assert contents(saved(app)["messages"]) == ["q", "ans"]


async def test_d_asks_then_deletes_the_marked_message(tmp_path: Path) -> None:
    with OpenAIServer(reply="ans") as server:
        app = local_app(tmp_path, server.base_url)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.conversation
            await ask(pilot, "keep me")
            await pilot.press("ctrl+l", "d")
            await wait_until(pilot, lambda: "Delete reply 2" in screen_text(app))
            await pilot.press("n")
            await wait_until(pilot, lambda: "Delete reply" not in screen_text(app))
            assert contents(saved(app)["messages"]) == ["keep me", "ans"]
            await pilot.press("d")
            await wait_until(pilot, lambda: "Delete reply 2" in screen_text(app))
            await pilot.press("y")
            await wait_until(pilot, lambda: len(screen.session.messages) == 1)
            assert contents(saved(app)["messages"]) == ["keep me"]
            assert screen.log_view.message_count == 1


async def test_arrows_on_a_message_without_alternatives_say_so(tmp_path: Path) -> None:
    with OpenAIServer(reply="ans") as server:
        app = local_app(tmp_path, server.base_url)
        async with app.run_test(size=SIZE) as pilot:
            await ask(pilot, "q")
            await pilot.press("ctrl+l", "left")
            await wait_until(pilot, lambda: any("no alternatives" in n for n in notices(app)))
            assert contents(saved(app)["messages"]) == ["q", "ans"]

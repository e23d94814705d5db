"""Reasoning, token counts and the token limit on screen, driven by keys like a user:
a folded "thinking…" block above the reply (F12 unfolds it), the speed on the status
line, and a reply stopped at the token limit marked and continued (ctrl+\\)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tests.app.host import ask, local_app, screen_text, type_and_send, wait_until
from tests.servers import OpenAIServer
from tui.app import ChattermApp
from tui.widgets.status import StatusLine

SIZE = (100, 30)


def saved(app: ChattermApp) -> dict:
    session = app.conversation.session
    return tomllib.loads(app.services.store.path(session.id).read_text())


async def speed_line(pilot: Pilot[Any], app: ChattermApp, prompt: str) -> str:
    """The status line's speed once the exchange of *prompt* has ended and its usage came."""
    await ask(pilot, prompt)
    status = app.conversation.query_one(StatusLine)
    await wait_until(pilot, lambda: "tokens in" in status.speed_text())
    return status.speed_text()


async def test_reasoning_is_folded_above_the_reply_and_f12_unfolds_it(tmp_path: Path) -> None:
    with OpenAIServer(reasoning=["Weighing ", "the options."], reply="The answer.") as server:
        app = local_app(tmp_path, server.base_url)
        async with app.run_test(size=SIZE) as pilot:
            await ask(pilot, "hi")
            await wait_until(pilot, lambda: "The answer." in screen_text(app))
            text = screen_text(app)
            # the server counts the two reasoning deltas (completion_tokens_details): no "~"
            assert "▸ thought" in text and ", 2 tokens" in text and "~" not in text
            assert "Weighing the options." not in text  # folded
            assert text.index("thought") < text.index("The answer.")  # above the reply
            await pilot.press("f12")
            await wait_until(pilot, lambda: "Weighing the options." in screen_text(app))
            text = screen_text(app)
            assert text.index("Weighing the options.") < text.index("The answer.")
            await pilot.press("f12")
            await wait_until(pilot, lambda: "Weighing the options." not in screen_text(app))
            reply = saved(app)["messages"][-1]
            assert reply["reasoning"] == "Weighing the options."
            assert reply["content"] == "The answer." and reply["finish"] == "stop"
            assert reply["input_tokens"] == 9 and reply["output_tokens"] > 0  # the server's
            assert reply["reasoning_tokens"] == 2


async def test_thinking_shows_from_the_first_reasoning_token(tmp_path: Path) -> None:
    # Reasoning arrives slowly, the reply after it: the block is there while it thinks.
    with OpenAIServer(reasoning=[f"step {n}. " for n in range(30)], reply="Done.") as server:
        server.delay = 0.1
        app = local_app(tmp_path, server.base_url)
        async with app.run_test(size=SIZE) as pilot:
            await type_and_send(pilot, "think")
            await wait_until(pilot, lambda: "▸ thinking…" in screen_text(app))
            assert "Done." not in screen_text(app)
            await wait_until(pilot, lambda: "Done." in screen_text(app), 20)
            await wait_until(pilot, lambda: not app.conversation.streaming)


async def test_status_line_shows_real_speed_first_token_and_input_tokens(tmp_path: Path) -> None:
    with OpenAIServer(reply=["one ", "two ", "three"]) as server:
        app = local_app(tmp_path, server.base_url)
        async with app.run_test(size=SIZE) as pilot:
            line = await speed_line(pilot, app, "hi")
            assert "9 tokens in" in line
            assert "tok/s" in line and "~" not in line.split("tok/s")[0]  # the service's
            assert "first token" in line
            assert " / " not in line  # m1's context is not known


async def test_the_speed_counts_the_reasoning_time_its_tokens_took(tmp_path: Path) -> None:
    """Services count the reasoning in the output tokens (OpenAI, DeepSeek, Gemini as we add
    its thoughts, Anthropic, Ollama): the speed is those over the time from the first token
    of either kind. Over the reply's time alone, 30 tokens of reasoning in 1.5 s and 2 of
    reply in 0.1 s read as ~300 tok/s; the server sends 20 a second."""
    with OpenAIServer(reasoning=[f"r{n} " for n in range(30)], reply=["A ", "b"]) as server:
        server.delay = 0.05
        app = local_app(tmp_path, server.base_url)
        async with app.run_test(size=SIZE) as pilot:
            line = await speed_line(pilot, app, "think")
            rate, first = re.search(r"(\d+) tok/s · first token ([\d.]+) s", line).groups()
            assert int(rate) <= 25, line  # 32 tokens over >= 31 gaps of 0.05 s
            assert float(first) < 1.2, line  # the first reasoning token, not the reply's


async def test_status_line_shows_input_tokens_against_the_models_context(tmp_path: Path) -> None:
    with OpenAIServer(reply=["one ", "two ", "three"]) as server:
        app = local_app(tmp_path, server.base_url)
        app.services.config.providers["local"].options["context_tokens"] = 8192
        async with app.run_test(size=SIZE) as pilot:
            await ask(pilot, "hi")
            await wait_until(pilot, lambda: "9 / 8192 tokens in" in screen_text(app))


async def test_a_reply_at_the_token_limit_is_marked_and_continues_in_place(
    tmp_path: Path,
) -> None:
    with OpenAIServer(reply=["The first ", "half"], finish_reason="length") as server:
        app = local_app(tmp_path, server.base_url)
        async with app.run_test(size=SIZE) as pilot:
            await ask(pilot, "write")
            await wait_until(pilot, lambda: "stopped at the token limit" in screen_text(app))
            status = app.conversation.query_one(StatusLine)
            assert "stopped at the token limit" in str(status.render())
            assert saved(app)["messages"][-1]["finish"] == "length"
            server.reply, server.finish_reason = [" and the rest."], "stop"
            await pilot.press("ctrl+backslash")
            await wait_until(pilot, lambda: "half and the rest." in screen_text(app))
            await wait_until(pilot, lambda: not app.conversation.streaming)
            sent = server.chat_requests[-1].json["messages"]
            assert sent[-1] == {"role": "user", "content": "Continue."}
            messages = saved(app)["messages"]
            assert len(messages) == 2 and messages[-1]["content"] == "The first half and the rest."
            assert messages[-1]["finish"] == "stop"
            assert "stopped at the token limit" not in screen_text(app)


async def test_the_offline_echo_shows_reasoning_and_the_limit(tmp_path: Path) -> None:
    from tests.app.host import host_config
    from tui.store import SessionStore

    config = host_config(tmp_path, default_provider="echo", default_model="echo")
    app = ChattermApp(config, SessionStore(tmp_path / "sessions"), state_path=tmp_path / "s.json")
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "tell me /length")
        await wait_until(pilot, lambda: "stopped at the token limit" in screen_text(app))
        assert "▸ thought" in screen_text(app)
        await pilot.press("ctrl+backslash")
        await wait_until(pilot, lambda: "stopped at the token limit" not in screen_text(app))
        await wait_until(pilot, lambda: not app.conversation.streaming)
        assert "print(len(message.split()" in app.conversation.session.messages[-1].content


async def test_the_services_reasoning_count_adds_up_over_a_continue_and_stays_on_reopening(
    tmp_path: Path,
) -> None:
    thinking = OpenAIServer(reasoning=["a ", "b"], reply=["The first ", "half"])
    with thinking as server:
        server.finish_reason = "length"
        app = local_app(tmp_path, server.base_url)
        async with app.run_test(size=SIZE) as pilot:
            await ask(pilot, "write")
            await wait_until(pilot, lambda: "stopped at the token limit" in screen_text(app))
            await wait_until(pilot, lambda: not app.conversation.streaming)
            assert ", 2 tokens" in screen_text(app)  # the server's count, no "~"
            server.reply, server.reasoning, server.finish_reason = [" and more."], ["c"], "stop"
            await pilot.press("ctrl+backslash")
            await wait_until(pilot, lambda: "half and more." in screen_text(app))
            await wait_until(pilot, lambda: not app.conversation.streaming)
            assert ", 3 tokens" in screen_text(app)  # 2 before the limit, 1 after
            reply = saved(app)["messages"][-1]
            assert (reply["reasoning"], reply["reasoning_tokens"]) == ("a bc", 3)
            session = app.conversation.session
    store = app.services.store
    reopened = ChattermApp(
        app.services.config, store, session=store.load(session.id), state_path=tmp_path / "s2"
    )
    async with reopened.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "▸ thought, 3 tokens" in screen_text(reopened))

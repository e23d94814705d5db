"""Typed parts through the core: Exchange hands them to ``on_part``, keeps the last Usage
and Finish and the cleaned reasoning, and never mixes reasoning into the reply text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.servers import OpenAIServer
from tui.chat import CONTINUE_PROMPT, Core, Exchange, continuable
from tui.config import Config, ProviderConfig
from tui.providers.echo import compose_reply
from tui.providers.errors import EmptyReply
from tui.providers.parts import Finish, Part, Reasoning, Usage
from tui.store import SessionStore


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Core]:
    config = Config(path=tmp_path / "config.toml", request_timeout=5.0)
    config.providers["echo"] = ProviderConfig(name="echo", kind="echo", options={"delay": 0})
    core = Core(config, SessionStore(tmp_path / "sessions"))
    yield core
    await core.aclose()


def serve(core: Core, server: OpenAIServer, **options: object) -> None:
    core.config.providers["openai"] = ProviderConfig(
        name="openai", kind="openai", base_url=server.base_url, options=dict(options)
    )


async def run(exchange: Exchange) -> list[str]:
    return [text async for text in exchange.chunks()]


async def test_echo_parts_reach_on_part_and_stay_out_of_the_reply(core: Core) -> None:
    seen: list[Part] = []
    session = core.store.new("echo", "echo")
    exchange = Exchange(
        core, session, "one two three", provider="echo", model="echo", on_part=seen.append
    )
    texts = await run(exchange)
    assert all(isinstance(t, str) for t in texts)
    assert "".join(texts) == compose_reply("one two three")
    assert exchange.reasoning.startswith("Reading the prompt…")
    assert exchange.reasoning == "".join(p.text for p in seen if isinstance(p, Reasoning))
    assert exchange.reasoning not in "".join(texts)
    written, thought = len(compose_reply("one two three").split()), len(exchange.reasoning.split())
    assert seen[-2:] == [Usage(3, written + thought, thought), Finish("stop")]
    assert (exchange.usage, exchange.finish) == (seen[-2], seen[-1])
    saved = core.store.load(session.id).messages[-1]
    assert saved.content == compose_reply("one two three") and saved.status == "complete"


async def test_reasoning_is_cleaned_like_reply_text(core: Core, openai_server) -> None:
    # An escape sequence split across two reasoning deltas, and a lone one in the text.
    openai_server.reasoning = ["Think \x1b[3", "1mred\x1b[0m, then ", "\x07answer."]
    openai_server.reply = ["Plain \x1b]0;title\x07", "reply."]
    serve(core, openai_server)
    seen: list[Part] = []
    session = core.store.new("openai", "m")
    exchange = Exchange(core, session, "hi", provider="openai", model="m", on_part=seen.append)
    texts = await run(exchange)
    assert exchange.reasoning == "Think red, then answer."
    assert "".join(p.text for p in seen if isinstance(p, Reasoning)) == exchange.reasoning
    assert "".join(texts) == "Plain reply."
    assert "Think" not in core.store.load(session.id).messages[-1].content
    assert exchange.finish == Finish("stop") and exchange.usage == Usage(9, 2 + 3, 3)


async def test_a_reasoning_phase_longer_than_request_timeout_is_not_stopped(
    core: Core, openai_server
) -> None:
    # request_timeout 1 s; reasoning arrives every 0.3 s for about 2 s, then the text.
    core.config.request_timeout = 1.0
    openai_server.reasoning = [f"step {n}. " for n in range(7)]
    openai_server.reply, openai_server.delay = ["Done."], 0.3
    serve(core, openai_server)
    session = core.store.new("openai", "m")
    exchange = Exchange(core, session, "think hard", provider="openai", model="m")
    assert "".join(await run(exchange)) == "Done."
    assert exchange.reasoning == "".join(f"step {n}. " for n in range(7))
    assert core.store.load(session.id).messages[-1].status == "complete"


async def test_reasoning_without_text_is_still_an_empty_reply(core: Core, openai_server) -> None:
    openai_server.reasoning, openai_server.reply = ["all thought, ", "no words"], []
    serve(core, openai_server)
    session = core.store.new("openai", "m")
    exchange = Exchange(core, session, "hi", provider="openai", model="m")
    with pytest.raises(EmptyReply):
        await run(exchange)
    saved = core.store.load(session.id).messages[-1]
    assert saved.status == "error" and saved.content == ""


async def test_params_pass_through_the_exchange_over_the_configured_ones(
    core: Core, openai_server
) -> None:
    serve(core, openai_server, temperature=0.2, max_tokens=99)
    session = core.store.new("openai", "m")
    exchange = Exchange(
        core, session, "hi", provider="openai", model="m", params={"temperature": 1.3}
    )
    await run(exchange)
    sent = openai_server.requests[-1].json
    assert (sent["temperature"], sent["max_tokens"]) == (1.3, 99)


async def test_testing_a_provider_skips_the_parts(core: Core) -> None:
    assert (await core.test_provider("echo")).startswith("### Echo\n\nYou wrote")


async def test_reasoning_usage_and_finish_are_saved_on_the_reply(core: Core) -> None:
    session = core.store.new("echo", "echo")
    exchange = Exchange(core, session, "one two three", provider="echo", model="echo")
    await run(exchange)
    saved = core.store.load(session.id).messages[-1]
    assert saved.reasoning == exchange.reasoning and saved.reasoning.startswith("Reading")
    assert (saved.input_tokens, saved.output_tokens) == (3, exchange.usage.output_tokens)
    assert saved.finish == "stop"
    # Never sent back: the next request's history holds the reply's text only.
    assert all("Reading the prompt" not in m["content"] for m in session.history())


async def test_a_reply_cut_by_the_limit_continues_in_the_same_message(
    core: Core, openai_server
) -> None:
    openai_server.reasoning, openai_server.reply = ["Hmm. "], ["The first ", "half"]
    openai_server.finish_reason = "length"
    serve(core, openai_server)
    session = core.store.new("openai", "m")
    first = Exchange(core, session, "write", provider="openai", model="m")
    await run(first)
    cut = core.store.load(session.id).messages[-1]
    assert cut.finish == "length" and continuable(session) is session.messages[-1]

    openai_server.reasoning, openai_server.reply = ["More. "], [" and the rest."]
    openai_server.finish_reason = "stop"
    more = Exchange(core, session, None, provider="openai", model="m", resume=continuable(session))
    assert "".join(await run(more)) == " and the rest."
    sent = openai_server.requests[-1].json["messages"]
    assert sent[-2:] == [
        {"role": "assistant", "content": "The first half"},
        {"role": "user", "content": CONTINUE_PROMPT},
    ]
    saved = core.store.load(session.id)
    assert [m.role for m in saved.messages] == ["user", "assistant"]  # no new message
    reply = saved.messages[-1]
    assert reply.content == "The first half and the rest." and reply.finish == "stop"
    assert reply.reasoning == "Hmm. More. " and reply.status == "complete"
    assert continuable(saved) is None


async def test_echo_can_be_asked_to_stop_at_the_limit(core: Core) -> None:
    session = core.store.new("echo", "echo")
    exchange = Exchange(core, session, "tell me /length", provider="echo", model="echo")
    cut = "".join(await run(exchange))
    assert exchange.finish == Finish("length") and cut
    more = Exchange(core, session, None, provider="echo", model="echo", resume=session.messages[-1])
    await run(more)
    assert session.messages[-1].content == compose_reply("tell me /length")
    assert more.finish == Finish("stop")


def test_echo_knows_the_cores_continue_prompt() -> None:
    from tui import chat
    from tui.providers import echo

    assert echo.CONTINUE_PROMPT == chat.CONTINUE_PROMPT

"""What models send besides text, per dialect, against the loopback servers: reasoning,
token usage and finish reasons come out as typed parts (tui/providers/parts.py), and the
generation parameters go out in each service's own words."""

from __future__ import annotations

import json

import pytest

from tests.servers import OllamaServer, OpenAIServer, Raw, RaycastServer, VoiGptServer, drain
from tui.providers.echo import EchoProvider, compose_reply
from tui.providers.errors import HTTPError, ResponseTooLarge
from tui.providers.parts import Finish, Reasoning, Usage
from tui.providers.settings import ProviderSettings

HELLO = [{"role": "user", "content": "hi"}]
THOUGHTS = ["The user ", "says hi. ", "Greet back."]


def reasoning_of(parts: list) -> list[str]:
    return [p.text for p in parts if isinstance(p, Reasoning)]


def others(parts: list) -> list:
    return [p for p in parts if not isinstance(p, Reasoning)]


# -- OpenAI-compatible ------------------------------------------------------------------------
@pytest.fixture
def openai(openai_server: OpenAIServer, make_provider):
    return make_provider("openai", base_url=openai_server.base_url, timeout=2.0)


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_openai_reasoning_deltas_are_reasoning_not_text(openai_server, openai, field):
    openai_server.reasoning, openai_server.reasoning_field = THOUGHTS, field
    openai_server.reply = ["Hi ", "there!"]
    result = await drain(openai, HELLO)
    assert result.error is None
    assert result.chunks == ["Hi ", "there!"]  # the role-only first chunk adds nothing
    assert reasoning_of(result.parts) == THOUGHTS
    # output counts the reasoning, and the reasoning's own count comes apart
    assert others(result.parts) == [Finish("stop"), Usage(9, 2 + len(THOUGHTS), len(THOUGHTS))]


async def test_openai_parts_come_in_stream_order(openai_server, openai) -> None:
    openai_server.reasoning, openai_server.reply = ["a ", "b"], ["x"]
    order = [chunk async for chunk in openai.stream("", HELLO)]
    assert order == [Reasoning("a "), Reasoning("b"), "x", Finish("stop"), Usage(9, 3, 2)]


@pytest.mark.parametrize("shape", ["empty_choices", "in_choices"])
async def test_openai_usage_is_read_with_or_without_choices(openai_server, openai, shape):
    openai_server.usage_shape, openai_server.reply = shape, ["one ", "two ", "three"]
    result = await drain(openai, HELLO)
    assert result.error is None and result.text == "one two three"
    assert Usage(input_tokens=9, output_tokens=3) in result.parts


async def test_openai_finish_length_is_said(openai_server, openai) -> None:
    openai_server.finish_reason = "length"
    result = await drain(openai, HELLO)
    assert result.error is None and Finish("length") in result.parts


async def test_openai_asks_for_usage_in_the_stream(openai_server, openai) -> None:
    await drain(openai, HELLO)
    assert openai_server.requests[-1].json["stream_options"] == {"include_usage": True}


async def test_an_endpoint_rejecting_stream_options_is_asked_again_without(
    openai_server, openai
) -> None:
    openai_server.mode = "reject_stream_options"
    first = await drain(openai, HELLO)
    assert first.error is None and first.text == openai_server.reply
    rejected, retried = openai_server.requests
    assert "stream_options" in rejected.json and "stream_options" not in retried.json
    assert rejected.json | {"stream_options": None} == retried.json | {"stream_options": None}
    second = await drain(openai, HELLO)  # remembered: no failing request again
    assert second.error is None and second.text == openai_server.reply
    assert len(openai_server.requests) == 3
    assert "stream_options" not in openai_server.requests[-1].json


async def test_another_400_is_not_retried(openai_server, openai) -> None:
    body = json.dumps({"error": {"message": "temperature must be at most 2"}}).encode()
    # Connection: close, as a server that closes after answering says: without it the client
    # may reuse the connection the server has just closed (once, under load, a "cut").
    head = (
        "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n"
        "Content-Type: application/json\r\nContent-Length: "
    )
    openai_server.script(Raw(f"{head}{len(body)}\r\n\r\n".encode() + body))
    result = await drain(openai, HELLO)
    assert isinstance(result.error, HTTPError)
    assert "temperature must be at most 2" in str(result.error)
    assert len(openai_server.requests) == 1
    assert (await drain(openai, HELLO)).error is None  # and stream_options is still sent
    assert "stream_options" in openai_server.requests[-1].json


async def test_think_tags_in_content_are_reasoning(openai_server, openai) -> None:
    openai_server.reply = ["<thi", "nk>abc</th", "ink>answer"]
    result = await drain(openai, HELLO)
    assert result.error is None
    assert result.text == "answer" and result.reasoning == "abc"


async def test_a_reasoning_phase_longer_than_the_timeout_is_not_stopped(
    openai_server, make_provider
) -> None:
    # A reasoning model thinks for 2 s before its first word; request_timeout is 1 s.
    openai_server.reasoning = [f"step {n}. " for n in range(7)]
    openai_server.reply, openai_server.delay = ["Done."], 0.3
    provider = make_provider("openai", base_url=openai_server.base_url, timeout=1.0)
    result = await drain(provider, HELLO)
    assert result.error is None and result.text == "Done."
    assert len(reasoning_of(result.parts)) == 7


async def test_the_reply_limit_counts_reasoning_too(openai_server, make_provider) -> None:
    openai_server.reasoning = ["x" * 30, "y" * 30]
    limited = make_provider(
        "openai", base_url=openai_server.base_url, options={"max_reply_chars": 40}
    )
    result = await drain(limited, HELLO)
    assert isinstance(result.error, ResponseTooLarge) and result.chunks == []


async def test_openai_whole_json_answer_gives_its_parts(openai_server, openai) -> None:
    message = {"role": "assistant", "content": "Whole.", "reasoning_content": "Thought."}
    answer = {
        "choices": [{"index": 0, "message": message, "finish_reason": "length"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }
    body = json.dumps(answer).encode()
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
    openai_server.script(Raw(head.encode() + b"\r\n\r\n" + body))
    result = await drain(openai, HELLO)
    assert result.error is None and result.chunks == ["Whole."]
    assert result.parts == [Reasoning("Thought."), Finish("length"), Usage(5, 2)]


async def test_openai_params_go_top_level_and_per_call_ones_win(openai_server, make_provider):
    provider = make_provider(
        "openai",
        base_url=openai_server.base_url,
        params={"temperature": 0.2, "max_tokens": 50, "top_p": 0.9},
    )
    assert (await drain(provider, HELLO, params={"temperature": 1.1, "seed": 7})).error is None
    sent = openai_server.requests[-1].json
    assert {k: sent[k] for k in ("temperature", "top_p", "max_tokens", "seed")} == {
        "temperature": 1.1,
        "top_p": 0.9,
        "max_tokens": 50,
        "seed": 7,
    }
    await drain(provider, HELLO, params={"top_p": None})  # None: leave the setting out
    assert "top_p" not in openai_server.requests[-1].json
    assert openai_server.requests[-1].json["temperature"] == 0.2


async def test_openai_sends_no_params_when_none_are_set(openai_server, openai) -> None:
    await drain(openai, HELLO)
    sent = openai_server.requests[-1].json
    assert set(sent) == {"model", "messages", "stream", "stream_options"}


# -- Ollama -----------------------------------------------------------------------------------
@pytest.fixture
def ollama(ollama_server: OllamaServer, make_provider):
    return make_provider("ollama", base_url=ollama_server.base_url, timeout=2.0)


async def test_ollama_thinking_counts_and_done_reason(ollama_server, ollama) -> None:
    ollama_server.thinking, ollama_server.reply = THOUGHTS, ["Bon", "jour"]
    result = await drain(ollama, HELLO)
    assert result.error is None and result.chunks == ["Bon", "jour"]
    assert reasoning_of(result.parts) == THOUGHTS
    assert others(result.parts) == [Usage(26, 2), Finish("stop")]


async def test_ollama_done_reason_length(ollama_server, ollama) -> None:
    ollama_server.done_reason = "length"
    result = await drain(ollama, HELLO)
    assert result.error is None and Finish("length") in result.parts


async def test_ollama_think_tags_in_content_are_reasoning(ollama_server, ollama) -> None:
    ollama_server.reply = ["<think>\n", "Hmm.", "\n</think>\n\n", "Hello"]
    result = await drain(ollama, HELLO)
    assert result.error is None
    assert result.text == "Hello" and result.reasoning == "Hmm.\n"


async def test_ollama_params_go_in_options(ollama_server, make_provider) -> None:
    provider = make_provider(
        "ollama", base_url=ollama_server.base_url, params={"temperature": 0.3, "max_tokens": 64}
    )
    await drain(provider, HELLO, params={"seed": 42, "top_p": 0.5})
    sent = ollama_server.requests[-1].json
    assert sent["options"] == {"temperature": 0.3, "top_p": 0.5, "num_predict": 64, "seed": 42}
    assert not {"temperature", "max_tokens", "seed", "top_p"} & set(sent)


async def test_ollama_runs_the_model_with_the_context_tokens_set(ollama_server, make_provider):
    """Ollama cuts a prompt longer than the context it runs the model with (4,096 tokens
    unless told), from the front and silently: the budget set is sent as num_ctx, so the
    server keeps what chatterm's own fit sends."""
    provider = make_provider(
        "ollama", base_url=ollama_server.base_url, options={"context_tokens": 16384}
    )
    await drain(provider, HELLO, params={"temperature": 0.3})
    assert ollama_server.requests[-1].json["options"] == {"temperature": 0.3, "num_ctx": 16384}


async def test_ollama_sends_no_options_when_no_params_are_set(ollama_server, ollama) -> None:
    await drain(ollama, HELLO)
    assert "options" not in ollama_server.requests[-1].json


# -- Raycast and VoiGpt: text only ------------------------------------------------------------
async def test_raycast_sends_only_temperature(raycast_server: RaycastServer, make_provider):
    provider = make_provider(
        "raycast", base_url=raycast_server.base_url, api_key="rc-key", params={"top_p": 0.5}
    )
    result = await drain(provider, HELLO, params={"temperature": 0.9, "seed": 1, "max_tokens": 9})
    assert result.error is None and result.text == raycast_server.reply and result.parts == []
    sent = raycast_server.requests[-1].json
    assert sent["temperature"] == 0.9
    assert not {"top_p", "seed", "max_tokens", "options"} & set(sent)
    await drain(provider, HELLO)
    assert raycast_server.requests[-1].json["temperature"] == 0.5  # the app's own default


async def test_voigpt_sends_no_params(voigpt_server: VoiGptServer, make_provider) -> None:
    provider = make_provider(
        "voigpt", base_url=voigpt_server.base_url, params={"temperature": 0.1, "seed": 3}
    )
    result = await drain(provider, HELLO, params={"max_tokens": 10})
    assert result.error is None and result.text == voigpt_server.reply and result.parts == []
    assert voigpt_server.requests[-1].json == {"messages": HELLO}


# -- echo -------------------------------------------------------------------------------------
async def test_echo_yields_every_part_around_its_unchanged_reply() -> None:
    echo = EchoProvider(
        ProviderSettings(name="echo", kind="echo", options={"delay": 0}, params={"seed": 1})
    )
    prompt = [{"role": "user", "content": "one two three"}]
    chunks = [chunk async for chunk in echo.stream("", prompt, params={"temperature": 0.5})]
    text = [c for c in chunks if isinstance(c, str)]
    first_text = chunks.index(text[0])
    assert all(isinstance(c, Reasoning) for c in chunks[:first_text]) and first_text >= 2
    assert "".join(text) == compose_reply("one two three")
    reply_words = len(compose_reply("one two three").split())
    thought = sum(len(c.text.split()) for c in chunks[:first_text])  # a word a token
    assert chunks[-2:] == [Usage(3, reply_words + thought, thought), Finish("stop")]
    assert "Reading the prompt" in "".join(c.text for c in chunks[:first_text])

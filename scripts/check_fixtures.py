"""Do the official clients read our loopback servers' output as they read the real services'?

The tests trust ``tests/servers.py`` to speak OpenAI's and Ollama's wire formats byte for
byte; this checks that trust now and then with the clients those services ship: reasoning
(``reasoning_content`` and OpenRouter's ``reasoning``), the role-only first chunk, the
usage chunk in both shapes (OpenAI's ``"choices": []``, LiteLLM's with a choice in it),
finish reasons, the errors with their status and Retry-After; Ollama's thinking, counts,
``done_reason``, ``/api/show`` and ``/api/tags``; Anthropic's thinking block, stop reason
and usage; Gemini's thought parts, finish reason and usageMetadata. Not part of the test
suite (it needs the four clients, which chatterm does not use): run it in a virtualenv of
its own,

    python -m venv /tmp/clients
    /tmp/clients/bin/pip install openai ollama anthropic google-genai
    /tmp/clients/bin/python scripts/check_fixtures.py

It prints one line per check and exits 1 if any failed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import anthropic
import ollama
import openai
from google import genai
from google.genai import types

from tests.servers import (  # after the path: the project's
    AnthropicServer,
    GeminiServer,
    OllamaServer,
    OpenAIServer,
)

REPLY = "Hello there, how are you"
THOUGHT = "The user greets me, so I greet back"
Check = Callable[[], str]


def _openai_stream(server: OpenAIServer) -> tuple[str, str, list[str], object]:
    """(text, reasoning, finish reasons, usage) as the official client reads the stream."""
    client = openai.OpenAI(base_url=server.base_url, api_key="sk-check", max_retries=0)
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text, reasoning, finishes, usage = "", "", [], None
    for chunk in stream:
        usage = chunk.usage or usage
        for choice in chunk.choices:
            extra = choice.delta.model_extra or {}
            text += choice.delta.content or ""
            reasoning += extra.get("reasoning_content") or extra.get("reasoning") or ""
            if choice.finish_reason:
                finishes.append(choice.finish_reason)
    client.close()
    return text, reasoning, finishes, usage


def openai_reasoning_usage_and_limit() -> str:
    with OpenAIServer(reply=REPLY, reasoning=THOUGHT, finish_reason="length") as server:
        text, reasoning, finishes, usage = _openai_stream(server)
    assert (text, reasoning) == (REPLY, THOUGHT), (text, reasoning)
    assert finishes == ["length"], finishes
    assert usage is not None and usage.prompt_tokens == 9, usage
    thought = len(THOUGHT.split())  # the reasoning is output too, and counted apart
    assert usage.completion_tokens == len(REPLY.split()) + thought, usage
    assert usage.completion_tokens_details.reasoning_tokens == thought, usage
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens, usage
    out = f"{usage.completion_tokens} out, {thought} of them reasoning"
    return f"text, reasoning_content, finish 'length', usage {out}"


def openai_openrouter_reasoning_and_litellm_usage() -> str:
    kwargs = {"reasoning_field": "reasoning", "usage_shape": "in_choices"}
    with OpenAIServer(reply=REPLY, reasoning=THOUGHT, **kwargs) as server:
        text, reasoning, finishes, usage = _openai_stream(server)
    assert (text, reasoning) == (REPLY, THOUGHT), (text, reasoning)
    assert finishes == ["stop"], finishes  # the usage chunk's choice has none
    assert usage is not None and usage.total_tokens == 9 + len(f"{REPLY} {THOUGHT}".split()), usage
    return "reasoning (OpenRouter's field), usage in a chunk with a choice (LiteLLM's)"


def openai_errors() -> str:
    said = []
    for mode, error in (("401", openai.AuthenticationError), ("429", openai.RateLimitError)):
        with OpenAIServer(reply=REPLY, mode=mode, retry_after="7") as server:
            client = openai.OpenAI(base_url=server.base_url, api_key="sk-check", max_retries=0)
            try:
                client.chat.completions.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
                )
            except error as err:
                assert err.status_code == int(mode), err
                if mode == "429":
                    assert err.response.headers.get("retry-after") == "7", err.response.headers
                said.append(f"{mode} {type(err).__name__}")
            else:
                raise AssertionError(f"mode {mode}: no {error.__name__}")
            finally:
                client.close()
    return ", ".join(said)


def ollama_thinking_counts_and_reason() -> str:
    with OllamaServer(reply=REPLY, thinking=THOUGHT, done_reason="length") as server:
        client = ollama.Client(host=server.url)
        text = thinking = ""
        last = None
        for part in client.chat(
            model="llama3.2:latest", messages=[{"role": "user", "content": "hi"}], stream=True
        ):
            text += part.message.content or ""
            thinking += part.message.thinking or ""
            last = part
    assert (text, thinking) == (REPLY, THOUGHT), (text, thinking)
    assert last is not None and last.done and last.done_reason == "length", last
    assert (last.prompt_eval_count, last.eval_count) == (26, len(REPLY.split())), last
    return f"thinking, done_reason 'length', counts {last.prompt_eval_count}/{last.eval_count}"


def ollama_show_and_tags() -> str:
    with OllamaServer(reply=REPLY) as server:
        server.shows["qwen3:8b"] = OllamaServer.show_reply(
            context_length=40960, num_ctx=8192, architecture="qwen3"
        )
        client = ollama.Client(host=server.url)
        shown = client.show("qwen3:8b")
        names = [model.model for model in client.list().models]
    info = shown.modelinfo or {}
    assert info.get("qwen3.context_length") == 40960, info
    assert "num_ctx" in (shown.parameters or ""), shown.parameters
    assert "llama3.2:latest" in names, names
    return f"/api/show context_length and num_ctx, /api/tags {len(names)} models"


def anthropic_thinking_stop_and_usage() -> str:
    with AnthropicServer(reply=REPLY, reasoning=THOUGHT, stop_reason="max_tokens") as server:
        client = anthropic.Anthropic(base_url=server.url, api_key="sk-ant-check", max_retries=0)
        with client.messages.stream(
            model="claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
        ) as stream:
            text = "".join(stream.text_stream)
            final = stream.get_final_message()
        client.close()
    thinking = "".join(b.thinking for b in final.content if b.type == "thinking")
    assert (text, thinking) == (REPLY, THOUGHT), (text, thinking)
    assert final.stop_reason == "max_tokens", final.stop_reason
    assert (final.usage.input_tokens, final.usage.output_tokens) == (9, len(REPLY.split()))
    return f"thinking block, stop_reason 'max_tokens', usage 9/{final.usage.output_tokens}"


def gemini_thoughts_finish_and_usage() -> str:
    with GeminiServer(reply=REPLY, thoughts=THOUGHT, finish_reason="MAX_TOKENS") as server:
        options = types.HttpOptions(base_url=server.url, api_version="v1beta")
        client = genai.Client(api_key="gemini-check", http_options=options)
        text = thought = ""
        finish, usage = None, None
        for chunk in client.models.generate_content_stream(model="gemini-2.5-flash", contents="hi"):
            candidate = chunk.candidates[0]
            for part in candidate.content.parts or []:
                if part.thought:
                    thought += part.text or ""
                else:
                    text += part.text or ""
            finish, usage = candidate.finish_reason or finish, chunk.usage_metadata
    assert (text, thought) == (REPLY, THOUGHT), (text, thought)
    assert finish == types.FinishReason.MAX_TOKENS, finish
    assert usage is not None and usage.candidates_token_count == len(REPLY.split()), usage
    assert usage.thoughts_token_count == len(THOUGHT.split()), usage
    return f"thought parts, finish MAX_TOKENS, usage {usage.candidates_token_count} out"


CHECKS: list[Check] = [
    openai_reasoning_usage_and_limit,
    openai_openrouter_reasoning_and_litellm_usage,
    openai_errors,
    ollama_thinking_counts_and_reason,
    ollama_show_and_tags,
    anthropic_thinking_stop_and_usage,
    gemini_thoughts_finish_and_usage,
]


def main() -> int:
    clients = ("openai", "ollama", "anthropic", "google-genai")
    print(", ".join(f"{name} {metadata.version(name)}" for name in clients))
    failed = 0
    for check in CHECKS:
        try:
            print(f"ok    {check.__name__}: {check()}")
        except Exception as err:  # one failed check must not hide the others
            failed += 1
            print(f"FAIL  {check.__name__}: {type(err).__name__}: {err}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

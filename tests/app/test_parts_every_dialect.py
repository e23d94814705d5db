"""Each dialect's reasoning, usage and finish reason, end to end: the loopback server's
wire, through the provider and the core, onto the screen and into the conversation's TOML.
One row per shape a real service sends (tests/servers.py cites where each comes from)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.app.host import ask, host_config, screen_text, wait_until
from tests.servers import (
    AnthropicServer,
    GeminiServer,
    LoopbackServer,
    OllamaServer,
    OpenAIServer,
)
from tui.app import ChattermApp
from tui.config import ProviderConfig
from tui.store import SessionStore
from tui.widgets.status import StatusLine

THOUGHT = ["Weighing ", "the ", "options."]
REPLY = ["The ", "first ", "half"]


@dataclass(frozen=True)
class Dialect:
    kind: str
    server: Callable[[], LoopbackServer]
    input_tokens: int  # as the server counts the prompt
    model: str = "m1"
    key: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    reasoning: str = "Weighing the options."
    # the service's count of the reasoning (OpenAI's completion_tokens_details,
    # Gemini's thoughtsTokenCount); None where the wire has none and the line says "~N"
    reasoning_tokens: int | None = None


DIALECTS = {
    "openai reasoning_content (DeepSeek, vLLM)": Dialect(
        "openai",
        lambda: OpenAIServer(reasoning=THOUGHT, reply=REPLY, finish_reason="length"),
        9,
        reasoning_tokens=3,
    ),
    "openai reasoning (OpenRouter)": Dialect(
        "openai",
        lambda: OpenAIServer(
            reasoning=THOUGHT, reasoning_field="reasoning", reply=REPLY, finish_reason="length"
        ),
        9,
        reasoning_tokens=3,
    ),
    "openai, LiteLLM's usage chunk with choices": Dialect(
        "openai",
        lambda: OpenAIServer(
            reasoning=THOUGHT, reply=REPLY, finish_reason="length", usage_shape="in_choices"
        ),
        9,
        reasoning_tokens=3,
    ),
    "ollama thinking": Dialect(
        "ollama", lambda: OllamaServer(thinking=THOUGHT, reply=REPLY, done_reason="length"), 26
    ),
    "ollama <think> in the content, split across lines": Dialect(
        "ollama",
        lambda: OllamaServer(
            reply=["<thi", "nk>Weighing the ", "options.</th", "ink>", *REPLY],
            done_reason="length",
        ),
        26,
    ),
    "anthropic thinking_delta": Dialect(
        "anthropic",
        lambda: AnthropicServer(reasoning=THOUGHT, reply=REPLY, stop_reason="max_tokens"),
        9,
        model="claude-sonnet-4-5",
        key="sk-ant-test",
    ),
    "gemini thought parts": Dialect(
        "gemini",
        lambda: GeminiServer(thoughts=THOUGHT, reply=REPLY, finish_reason="MAX_TOKENS"),
        9,
        model="gemini-2.5-flash",
        key="gm-test",
        options={"thoughts": True},
        reasoning_tokens=3,
    ),
}


def app_for(tmp_path: Path, dialect: Dialect, base_url: str) -> ChattermApp:
    config = host_config(tmp_path, default_provider="local", default_model=dialect.model)
    config.providers["local"] = ProviderConfig(
        name="local",
        kind=dialect.kind,
        base_url=base_url,
        api_key=dialect.key,
        models=(dialect.model,),
        options=dict(dialect.options),
    )
    return ChattermApp(config, SessionStore(tmp_path / "sessions"), state_path=tmp_path / "s.json")


@pytest.mark.parametrize("name", list(DIALECTS))
async def test_reasoning_usage_and_the_limit_reach_the_screen_and_the_file(
    tmp_path: Path, name: str
) -> None:
    dialect = DIALECTS[name]
    with dialect.server() as server:
        base_url = server.base_url if dialect.kind != "ollama" else server.url
        app = app_for(tmp_path, dialect, base_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await ask(pilot, "think, then write")
            await wait_until(pilot, lambda: "stopped at the token limit" in screen_text(app))
            await wait_until(pilot, lambda: not app.conversation.streaming)
            text = screen_text(app)
            assert "▸ thought" in text and "The first half" in text
            assert "Weighing" not in text and "<think>" not in text  # folded, tags gone
            counted = dialect.reasoning_tokens
            tokens = f", {counted} tokens" if counted is not None else ", ~"
            assert tokens in text.split("▸ thought")[1].split("\n")[0], text
            speed = app.conversation.query_one(StatusLine).speed_text()
            # the service's own counts: of the prompt, and of the reply (no "~" guess)
            assert re.search(rf"\b{dialect.input_tokens}( / \d+)? tokens in", speed), speed
            assert "tok/s" in speed and "~" not in speed, speed
            session = app.conversation.session
            saved = tomllib.loads(app.services.store.path(session.id).read_text())
    reply = saved["messages"][-1]
    assert (reply["content"], reply["reasoning"]) == ("The first half", dialect.reasoning)
    assert reply["finish"] == "length"
    assert reply["input_tokens"] == dialect.input_tokens and reply["output_tokens"] > 0
    assert reply.get("reasoning_tokens") == dialect.reasoning_tokens

"""The offline echo provider: deterministic Markdown, word by word, no network."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.servers import drain
from tui.providers.base import ProviderSettings
from tui.providers.echo import HUMAN_PACE, EchoProvider, compose_reply, split_words

CONVERSATION = [
    {"role": "user", "content": "first question"},
    {"role": "assistant", "content": "an answer"},
    {"role": "user", "content": "Show me `code`\n\nand a second paragraph"},
]


def fast() -> EchoProvider:
    return EchoProvider(ProviderSettings(name="echo", kind="echo", options={"delay": 0}))


async def test_same_message_gives_the_same_chunks() -> None:
    first = await drain(fast(), CONVERSATION)
    second = await drain(fast(), CONVERSATION)
    assert first.error is None and first.chunks == second.chunks
    assert len(first.chunks) > 10  # streamed word by word, not in one piece


async def test_reply_quotes_the_last_user_message_as_markdown() -> None:
    text = (await drain(fast(), CONVERSATION)).text
    assert text.startswith("### Echo\n")
    assert "> Show me `code`\n>\n> and a second paragraph\n" in text
    assert "first question" not in text  # only the last user message is echoed
    assert "- words: 7\n" in text and "- characters: 38\n" in text
    assert "message = 'Show me `code` and a second paragraph'" in text
    assert "```python\n" in text and text.rstrip().endswith("```")


async def test_chunks_join_back_to_exactly_the_reply() -> None:
    result = await drain(fast(), CONVERSATION)
    assert result.text == compose_reply(CONVERSATION[-1]["content"])
    assert "".join(split_words("  a\tb \n\n c ")) == "  a\tb \n\n c "


async def test_empty_conversation_still_answers_politely() -> None:
    text = (await drain(fast(), [])).text
    assert "Nothing to echo yet" in text


def test_pace_is_human_for_echo_and_instant_for_echo_fast() -> None:
    provider = EchoProvider()
    assert provider.delay_for("echo") == HUMAN_PACE
    assert provider.delay_for("echo-fast") == 0.0
    assert fast().delay_for("echo") == 0.0  # options.delay wins, for tests and demos


async def test_echo_fast_streams_without_waiting() -> None:
    started = time.monotonic()
    result = await drain(EchoProvider(), CONVERSATION, "echo-fast")
    assert result.error is None and time.monotonic() - started < 0.5


async def test_echo_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("echo made an HTTP client")

    monkeypatch.setattr(httpx.AsyncClient, "__init__", refuse)
    provider = fast()
    assert (await drain(provider, CONVERSATION)).error is None
    assert provider._client is None


def test_echo_describes_itself() -> None:
    assert EchoProvider.label == "Echo (offline)" and not EchoProvider.needs_auth
    assert EchoProvider.models == ("echo", "echo-fast") and EchoProvider.default_model == "echo"
    assert EchoProvider().configured

"""kind = "anthropic": the Messages API against a loopback server speaking it byte for
byte (tests/servers.py AnthropicServer): the request's headers and body, text, thinking,
usage and stop reasons, and the bad days."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.servers import AnthropicServer, drain
from tui.providers.base import ListFailed, Provider
from tui.providers.errors import (
    CredentialsRejected,
    MissingCredentials,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    StreamBroken,
)
from tui.providers.parts import Finish, Usage

KEY = "sk-ant-test-SECRET-0123456789"
CHAT = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "hi"},
    {"role": "assistant", "content": "hello"},
    {"role": "user", "content": "and now?"},
    {"role": "user", "content": "(twice)"},
]


@pytest.fixture
def server() -> Iterator[AnthropicServer]:
    with AnthropicServer(reply="Claude says hi.", api_key=KEY) as server:
        yield server


@pytest.fixture
def provider(server: AnthropicServer, make_provider: Callable[..., Provider]) -> Provider:
    return make_provider("anthropic", base_url=server.base_url, api_key=KEY, timeout=3.0)


async def test_the_request_is_the_messages_api_with_system_on_top(
    server: AnthropicServer, provider: Provider
) -> None:
    result = await drain(provider, CHAT, "claude-haiku-4-5", params={"temperature": 0.4})
    assert result.error is None and result.text == "Claude says hi."
    request = server.requests[-1]
    assert request.path == "/v1/messages"
    assert request.headers["x-api-key"] == KEY and "authorization" not in request.headers
    assert request.headers["anthropic-version"] == "2023-06-01"
    body = request.json
    assert body["system"] == "Be brief." and body["stream"] is True
    assert body["max_tokens"] == 4096 and body["temperature"] == 0.4 and "top_p" not in body
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][2]["content"] == [
        {"type": "text", "text": "and now?"},
        {"type": "text", "text": "(twice)"},
    ]  # consecutive prompts joined: the API wants the roles to alternate


async def test_thinking_usage_and_the_stop_reason_are_parts(
    server: AnthropicServer, provider: Provider
) -> None:
    server.reasoning = "First, a thought."
    server.stop_reason = "max_tokens"
    result = await drain(provider, CHAT[1:2], params={"max_tokens": 20})
    assert result.reasoning == "First, a thought." and result.text == "Claude says hi."
    assert Usage(9, 3) in result.parts and result.parts[-1] == Finish("length")
    assert server.requests[-1].json["max_tokens"] == 20


async def test_a_missing_key_is_said_before_any_request(make_provider, server) -> None:
    provider = make_provider("anthropic", base_url=server.base_url)
    result = await drain(provider, CHAT[1:2])
    assert isinstance(result.error, MissingCredentials) and server.requests == []
    assert "ANTHROPIC_API_KEY" in str(result.error) or "api_key" in str(result.error)


@pytest.mark.parametrize(
    ("mode", "error", "says"),
    [
        ("401", CredentialsRejected, "invalid x-api-key"),
        ("429", RateLimited, "rate limit"),
        ("overloaded", ProviderError, "Overloaded"),
        ("500", ProviderError, "HTTP 500"),
        ("cut", StreamBroken, "cut"),
        ("not_json", ProviderError, "JSON"),
        ("error_event", ProviderError, "reported an error: Overloaded"),
    ],
)
async def test_bad_days_are_one_line_and_keep_what_arrived(
    server: AnthropicServer, provider: Provider, mode: str, error: type, says: str
) -> None:
    server.mode = mode
    result = await drain(provider, CHAT[1:2])
    assert isinstance(result.error, error), result.error
    assert says in str(result.error) and "\n" not in str(result.error)
    assert KEY not in str(result.error)
    if mode == "429":
        assert result.error.retry_after == 7
    if mode in ("cut", "error_event", "not_json"):
        assert result.text and "Claude says hi.".startswith(result.text)


async def test_a_stall_ends_at_request_timeout(server: AnthropicServer, make_provider) -> None:
    server.mode, server.stall = "stall", 5.0
    provider = make_provider("anthropic", base_url=server.base_url, api_key=KEY, timeout=0.5)
    result = await drain(provider, CHAT[1:2])
    assert isinstance(result.error, ProviderTimeout)


async def test_the_live_model_list_and_why_it_fails(
    server: AnthropicServer, provider: Provider
) -> None:
    assert await provider.list_models(strict=True) == ["claude-haiku-4-5", "claude-sonnet-4-5"]
    assert server.requests[-1].headers["x-api-key"] == KEY
    server.aux_mode = "401"
    with pytest.raises(ListFailed, match="key refused"):
        await provider.list_models(strict=True)

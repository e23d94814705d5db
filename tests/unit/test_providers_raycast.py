"""The Raycast provider against a loopback server speaking its SSE ``{"text": ...}`` events."""

from __future__ import annotations

import time

import pytest

from tests.servers import RaycastServer, drain, free_port
from tests.unit.checks import assert_readable as _readable
from tui.providers.errors import (
    BadResponse,
    ConnectFailed,
    CredentialsRejected,
    HTTPError,
    MissingCredentials,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    ResponseTooLarge,
    StreamBroken,
)
from tui.providers.raycast import RaycastProvider

KEY = "sk-test-SECRET123"
HELLO = [{"role": "user", "content": "hi"}]


def assert_readable(err: Exception | None) -> ProviderError:
    return _readable(err, "raycast", secret=KEY)


@pytest.fixture
def server(raycast_server: RaycastServer) -> RaycastServer:
    raycast_server.api_key = KEY
    return raycast_server


@pytest.fixture
def provider(server: RaycastServer, make_provider):
    return make_provider(
        "raycast", base_url=server.base_url, api_key=KEY, api_key_env="RAYCAST_API_KEY"
    )


def test_raycast_is_marked_not_working_but_keyed_and_streaming() -> None:
    assert RaycastProvider.working is False and RaycastProvider.needs_auth is True
    assert {"gpt-3.5-turbo", "gpt-4"} <= set(RaycastProvider.models)
    assert RaycastProvider.supports_stream and RaycastProvider.supports_message_history


async def test_missing_raycast_token_names_env_var(server: RaycastServer, make_provider):
    provider = make_provider("raycast", base_url=server.base_url, api_key_env="RAYCAST_API_KEY")
    assert not provider.configured
    err = assert_readable((await drain(provider, HELLO)).error)
    assert isinstance(err, MissingCredentials)
    assert "RAYCAST_API_KEY" in str(err) and "api_key" in str(err)
    assert server.requests == []  # failed before any request


async def test_request_has_raycast_shape(server: RaycastServer, provider) -> None:
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "more"},
    ]
    assert (await drain(provider, messages, "gpt-4")).error is None
    request = server.requests[-1]
    assert (request.method, request.path) == ("POST", "/api/v1/ai/chat_completions")
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["accept"] == "application/json"
    assert request.headers["content-type"] == "application/json"
    assert request.json == {
        "debug": False,
        "locale": "en-CN",
        "messages": [
            {"author": "user", "content": {"text": "hi"}},
            {"author": "assistant", "content": {"text": "hello"}},
            {"author": "user", "content": {"text": "more"}},
        ],
        "model": "gpt-4",
        "provider": "openai",
        "source": "ai_chat",
        "system_instruction": "markdown",
        "temperature": 0.5,
    }


async def test_reply_streams_in_order_and_skips_null_text(server, provider) -> None:
    server.reply = ["Здрав", "ствуй", "те, ", "мир"]
    result = await drain(provider, HELLO)  # the last event is {"text": null, ...}
    assert result.error is None and result.chunks == ["Здрав", "ствуй", "те, ", "мир"]


async def test_wrong_token_is_rejected_without_quoting_it(server, make_provider) -> None:
    server.api_key = "the-right-one"
    provider = make_provider(
        "raycast", base_url=server.base_url, api_key=KEY, api_key_env="RAYCAST_API_KEY"
    )
    err = assert_readable((await drain(provider, HELLO)).error)
    assert isinstance(err, CredentialsRejected) and "RAYCAST_API_KEY" in str(err)


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        ("403", CredentialsRejected),
        ("404", HTTPError),
        ("500", HTTPError),
        ("drop", StreamBroken),
        ("not_json", StreamBroken),
        ("wrong_shape", BadResponse),
        ("huge_line", ResponseTooLarge),
        ("error_event", ProviderError),
    ],
)
async def test_each_failure_is_typed_and_readable(server, provider, mode, kind) -> None:
    server.mode = mode
    assert type(assert_readable((await drain(provider, HELLO)).error)) is kind


async def test_rate_limit_gives_retry_after(server: RaycastServer, provider) -> None:
    server.mode, server.retry_after = "429", "30"
    err = assert_readable((await drain(provider, HELLO)).error)
    assert isinstance(err, RateLimited) and err.retry_after == 30.0


async def test_server_error_page_shows_no_html_tags(server: RaycastServer, provider) -> None:
    server.mode = "500"
    err = assert_readable((await drain(provider, HELLO)).error)
    assert isinstance(err, HTTPError) and "<" not in err.excerpt and err.excerpt


async def test_cut_stream_keeps_what_arrived(server: RaycastServer, provider) -> None:
    server.reply, server.mode = ["a ", "b ", "c ", "d"], "cut"
    result = await drain(provider, HELLO)
    assert result.chunks == ["a ", "b "]
    assert isinstance(assert_readable(result.error), StreamBroken)


async def test_stalled_stream_times_out_near_request_timeout(server, make_provider) -> None:
    server.mode = "stall"
    provider = make_provider("raycast", base_url=server.base_url, api_key=KEY, timeout=0.5)
    started = time.monotonic()
    result = await drain(provider, HELLO)
    assert result.chunks == ["Hello "]
    assert isinstance(assert_readable(result.error), ProviderTimeout)
    assert time.monotonic() - started < 1.5


async def test_closed_port_is_connect_failed(make_provider) -> None:
    provider = make_provider("raycast", base_url=f"http://127.0.0.1:{free_port()}", api_key=KEY)
    assert isinstance(assert_readable((await drain(provider, HELLO)).error), ConnectFailed)

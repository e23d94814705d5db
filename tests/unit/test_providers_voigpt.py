"""The VoiGpt provider against a loopback Django-like server (CSRF cookie + header check)."""

from __future__ import annotations

import time

import pytest

from tests.servers import ForwardProxy, Raw, VoiGptServer, drain, free_port
from tests.unit.checks import assert_readable as _readable
from tui.providers.errors import (
    BadResponse,
    ConnectFailed,
    CredentialsRejected,
    HTTPError,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    ResponseTooLarge,
    StreamBroken,
)
from tui.providers.voigpt import VoiGptProvider

HELLO = [{"role": "user", "content": "hi"}]


def assert_readable(err: Exception | None) -> ProviderError:
    return _readable(err, "voigpt")


def gets(server: VoiGptServer) -> int:
    return sum(r.method == "GET" for r in server.requests)


def posts(server: VoiGptServer) -> int:
    return len(server.chat_requests)


@pytest.fixture
def provider(voigpt_server: VoiGptServer, make_provider):
    return make_provider("voigpt", base_url=voigpt_server.base_url, timeout=2.0)


def test_voigpt_answers_whole_and_needs_no_key() -> None:
    assert VoiGptProvider.supports_stream is False and VoiGptProvider.needs_auth is False
    assert VoiGptProvider.working and VoiGptProvider.models == ("gpt-3.5-turbo",)


async def test_token_is_fetched_then_sent_as_cookie_and_header(voigpt_server, provider):
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]
    result = await drain(provider, messages)
    assert result.error is None and result.chunks == [voigpt_server.reply]  # one whole chunk
    home, chat = voigpt_server.requests
    assert (home.method, home.path) == ("GET", "/")
    token = voigpt_server.tokens_issued[0]
    assert (chat.method, chat.path) == ("POST", "/generate_response/")
    assert chat.cookies == {"csrftoken": token}
    assert chat.headers["x-csrftoken"] == token
    assert chat.headers["accept"] == "*/*"
    assert chat.headers["content-type"] == "application/json"
    assert chat.headers["referer"] == f"{voigpt_server.base_url}/"
    assert chat.headers["origin"] == voigpt_server.base_url
    assert chat.json == {"messages": messages}


async def test_token_is_reused_so_two_calls_make_one_get(voigpt_server, provider) -> None:
    assert (await drain(provider, HELLO)).error is None
    assert (await drain(provider, HELLO)).error is None
    assert (gets(voigpt_server), posts(voigpt_server)) == (1, 2)


async def test_configured_access_token_skips_the_fetch(voigpt_server, make_provider) -> None:
    voigpt_server.valid_tokens.add("preset0token")
    provider = make_provider(
        "voigpt", base_url=voigpt_server.base_url, options={"access_token": "preset0token"}
    )
    assert (await drain(provider, HELLO)).error is None
    assert gets(voigpt_server) == 0
    assert voigpt_server.requests[-1].headers["x-csrftoken"] == "preset0token"


async def test_rotated_token_is_refetched_once_and_the_reply_arrives(voigpt_server, provider):
    assert (await drain(provider, HELLO)).error is None
    voigpt_server.script("rotate_token")
    result = await drain(provider, HELLO)
    assert result.error is None and result.text == voigpt_server.reply
    assert (gets(voigpt_server), posts(voigpt_server)) == (2, 3)
    assert voigpt_server.requests[-1].cookies["csrftoken"] == voigpt_server.tokens_issued[-1]


async def test_token_refused_twice_gives_up_after_one_refetch(voigpt_server, provider) -> None:
    voigpt_server.mode = "rotate_token"
    err = assert_readable((await drain(provider, HELLO)).error)
    assert isinstance(err, CredentialsRejected) and "403" in str(err)
    assert (gets(voigpt_server), posts(voigpt_server)) == (2, 2)


async def test_home_page_without_cookie_explains_and_sends_nothing(voigpt_server, provider):
    voigpt_server.aux_mode = "no_cookie"
    err = assert_readable((await drain(provider, HELLO)).error)
    assert isinstance(err, BadResponse)
    assert "csrftoken" in str(err) and "access_token" in str(err)
    assert posts(voigpt_server) == 0


async def test_body_that_is_not_json_is_quoted_briefly(voigpt_server, provider) -> None:
    voigpt_server.mode = "not_json"
    err = assert_readable((await drain(provider, HELLO)).error)
    assert isinstance(err, BadResponse) and "Service Unavailable" in str(err)


async def test_long_wrong_body_is_cut_to_a_short_excerpt(voigpt_server, provider) -> None:
    assert (await drain(provider, HELLO)).error is None  # take a token first
    body = b"\x1b[31mred\x1b[0m " + b"word " * 2000
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(body)
    voigpt_server.script(Raw(head + body))
    err = assert_readable((await drain(provider, HELLO)).error)
    assert isinstance(err, BadResponse)
    assert len(str(err)) < 200 and "\x1b" not in str(err)


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        ("wrong_shape", BadResponse),
        ("error_event", BadResponse),
        ("404", HTTPError),
        ("500", HTTPError),
        ("drop", StreamBroken),
        ("cut", StreamBroken),
    ],
)
async def test_each_failure_is_typed_and_readable(voigpt_server, provider, mode, kind) -> None:
    voigpt_server.mode = mode
    assert type(assert_readable((await drain(provider, HELLO)).error)) is kind


async def test_empty_reply_is_no_text(voigpt_server: VoiGptServer, provider) -> None:
    voigpt_server.mode = "empty"
    result = await drain(provider, HELLO)
    assert result.error is None and result.text == ""


async def test_server_error_page_shows_no_html_tags(voigpt_server, provider) -> None:
    voigpt_server.mode = "500"
    err = assert_readable((await drain(provider, HELLO)).error)
    assert isinstance(err, HTTPError) and "<" not in str(err)


async def test_rate_limit_gives_retry_after(voigpt_server: VoiGptServer, provider) -> None:
    voigpt_server.mode, voigpt_server.retry_after = "429", "5"
    err = assert_readable((await drain(provider, HELLO)).error)
    assert isinstance(err, RateLimited) and err.retry_after == 5.0


async def test_home_page_failure_is_reported(voigpt_server: VoiGptServer, provider) -> None:
    voigpt_server.aux_mode = "500"
    err = assert_readable((await drain(provider, HELLO)).error)
    assert isinstance(err, HTTPError) and err.status == 500


async def test_oversized_answer_is_stopped(voigpt_server, provider, monkeypatch) -> None:
    monkeypatch.setattr(VoiGptProvider, "max_body", 64 * 1024)
    voigpt_server.mode = "huge_line"
    assert isinstance(assert_readable((await drain(provider, HELLO)).error), ResponseTooLarge)


async def test_stalled_answer_times_out_near_request_timeout(voigpt_server, make_provider):
    voigpt_server.mode = "stall"
    provider = make_provider("voigpt", base_url=voigpt_server.base_url, timeout=0.5)
    started = time.monotonic()
    assert isinstance(assert_readable((await drain(provider, HELLO)).error), ProviderTimeout)
    assert time.monotonic() - started < 1.5


async def test_closed_port_is_connect_failed(make_provider) -> None:
    provider = make_provider("voigpt", base_url=f"http://127.0.0.1:{free_port()}")
    assert isinstance(assert_readable((await drain(provider, HELLO)).error), ConnectFailed)


async def test_requests_really_go_through_the_configured_proxy(
    voigpt_server: VoiGptServer, forward_proxy: ForwardProxy, make_provider
) -> None:
    provider = make_provider("voigpt", base_url=voigpt_server.base_url, proxy=forward_proxy.url)
    result = await drain(provider, HELLO)
    assert result.error is None and result.text == voigpt_server.reply
    assert forward_proxy.request_lines == [
        f"GET {voigpt_server.url}/ HTTP/1.1",
        f"POST {voigpt_server.url}/generate_response/ HTTP/1.1",
    ]
    assert [r.path for r in voigpt_server.requests] == ["/", "/generate_response/"]


async def test_unreachable_proxy_is_connect_failed(voigpt_server, make_provider) -> None:
    proxy = f"http://127.0.0.1:{free_port()}"
    provider = make_provider("voigpt", base_url=voigpt_server.base_url, proxy=proxy)
    assert isinstance(assert_readable((await drain(provider, HELLO)).error), ConnectFailed)
    assert voigpt_server.requests == []

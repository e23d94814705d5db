"""The OpenAI-compatible provider against a loopback server speaking Chat Completions SSE."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.servers import OpenAIServer, Raw, drain, free_port
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
from tui.providers.openai import is_loopback

KEY = "sk-test-SECRET123"
HELLO = [{"role": "user", "content": "hi"}]
ROOT = Path(__file__).resolve().parents[2]


def assert_readable(err: Exception | None, provider: str = "openai") -> ProviderError:
    return _readable(err, provider, secret=KEY)


@pytest.fixture
def server(openai_server: OpenAIServer) -> OpenAIServer:
    openai_server.api_key = KEY
    return openai_server


@pytest.fixture
def provider(server: OpenAIServer, make_provider):
    return make_provider("openai", base_url=server.base_url, api_key=KEY, timeout=2.0)


async def test_reply_streams_in_order(server: OpenAIServer, provider) -> None:
    server.reply = ["Hel", "lo", ", wö", "rld ✓"]
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "again"},
    ]
    result = await drain(provider, messages, "gpt-4o")
    assert result.error is None
    assert result.chunks == ["Hel", "lo", ", wö", "rld ✓"]  # role-only and usage chunks add none
    request = server.requests[-1]
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.json == {
        "model": "gpt-4o",
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},  # asks for the usage chunk
    }
    assert request.bearer == KEY
    assert request.headers["accept"] == "text/event-stream"
    assert request.headers["content-type"] == "application/json"


async def test_blank_model_uses_the_default(server: OpenAIServer, provider) -> None:
    await drain(provider, HELLO)
    # Not OpenAI's URL: none of OpenAI's models, so the server's loaded one (LM Studio,
    # llama.cpp answer an empty model name with it).
    assert server.requests[-1].json["model"] == ""


async def test_missing_openai_key_names_env_var_before_any_request(make_provider) -> None:
    provider = make_provider("openai", api_key_env="OPENAI_API_KEY")  # api.openai.com
    assert not provider.configured
    err = assert_readable((await drain(provider, HELLO)).error)
    assert isinstance(err, MissingCredentials)
    assert "OPENAI_API_KEY" in str(err) and "api_key" in str(err)
    assert provider._client is None  # not even a client was made, so nothing was sent


async def test_local_server_works_without_a_key(openai_server: OpenAIServer, make_provider):
    provider = make_provider("openai", name="lmstudio", base_url=openai_server.base_url)
    assert provider.configured
    result = await drain(provider, HELLO)
    assert result.error is None and result.text == openai_server.reply
    assert "authorization" not in openai_server.requests[-1].headers


async def test_no_auth_option_sends_no_key_even_when_one_is_set(openai_server, make_provider):
    provider = make_provider(
        "openai", base_url=openai_server.base_url, api_key=KEY, options={"no_auth": True}
    )
    assert (await drain(provider, HELLO)).error is None
    assert "authorization" not in openai_server.requests[-1].headers


async def test_remote_instance_needs_a_key_to_be_configured(make_provider) -> None:
    remote = make_provider("openai", name="groq", base_url="https://api.groq.com/openai/v1")
    assert not remote.configured
    keyed = make_provider("openai", name="groq2", base_url="https://x.example/v1", api_key=KEY)
    assert keyed.configured
    assert is_loopback("http://localhost:1234/v1") and is_loopback("http://[::1]:8080")
    assert not is_loopback("https://api.openai.com/v1")


async def test_wrong_key_is_rejected_without_quoting_it(server: OpenAIServer, make_provider):
    server.api_key = "sk-the-right-one"
    provider = make_provider("openai", base_url=server.base_url, api_key=KEY)
    err = assert_readable((await drain(provider, HELLO)).error)
    assert isinstance(err, CredentialsRejected)
    assert "OPENAI_API_KEY" in str(err) and "401" in str(err)


@pytest.mark.parametrize(
    ("mode", "kind", "words"),
    [
        ("403", CredentialsRejected, "403"),
        ("404", HTTPError, "does not exist"),
        ("500", HTTPError, "500 Internal Server Error"),
        ("drop", StreamBroken, "cut"),
        ("wrong_shape", BadResponse, "delta"),
        ("huge_line", ResponseTooLarge, "line"),
        ("error_event", ProviderError, "had an error while processing"),
    ],
)
async def test_each_failure_is_typed_and_readable(server, provider, mode, kind, words) -> None:
    server.mode = mode
    err = assert_readable((await drain(provider, HELLO)).error)
    assert type(err) is kind
    assert words in str(err)


async def test_rate_limit_gives_retry_after(server: OpenAIServer, provider) -> None:
    server.mode, server.retry_after = "429", "12"
    err = assert_readable((await drain(provider, HELLO)).error)
    assert isinstance(err, RateLimited) and err.retry_after == 12.0
    assert "12 s" in str(err)


async def test_server_error_page_shows_no_html_tags(server: OpenAIServer, provider) -> None:
    server.mode = "500"
    err = assert_readable((await drain(provider, HELLO)).error)
    assert isinstance(err, HTTPError) and err.status == 500
    assert "<" not in err.excerpt and "Internal Server Error" in err.excerpt


async def test_key_echoed_in_an_error_body_is_redacted(server: OpenAIServer, provider) -> None:
    body = f"upstream said: bad token {KEY} " + "z" * 300
    head = f"HTTP/1.1 502 Bad Gateway\r\nContent-Length: {len(body)}\r\n\r\n"
    server.script(Raw((head + body).encode()))
    err = assert_readable((await drain(provider, HELLO)).error)
    assert "[redacted]" in str(err)


async def test_cut_stream_keeps_what_arrived(server: OpenAIServer, provider) -> None:
    server.reply, server.mode = ["one ", "two ", "three ", "four"], "cut"
    result = await drain(provider, HELLO)
    assert result.chunks == ["one ", "two "]
    err = assert_readable(result.error)
    assert isinstance(err, StreamBroken) and "kept" in str(err)


async def test_line_that_is_not_json_breaks_the_stream(server: OpenAIServer, provider) -> None:
    server.mode = "not_json"
    result = await drain(provider, HELLO)
    assert result.chunks == ["Hello "]
    assert isinstance(assert_readable(result.error), StreamBroken)


async def test_stalled_stream_times_out_near_request_timeout(server, make_provider) -> None:
    server.mode = "stall"
    provider = make_provider("openai", base_url=server.base_url, api_key=KEY, timeout=0.5)
    started = time.monotonic()
    result = await drain(provider, HELLO)
    elapsed = time.monotonic() - started
    assert result.chunks == ["Hello "]
    err = assert_readable(result.error)
    assert isinstance(err, ProviderTimeout) and "request_timeout" in str(err)
    assert 0.4 < elapsed < 1.5


async def test_closed_port_is_connect_failed(make_provider) -> None:
    provider = make_provider("openai", base_url=f"http://127.0.0.1:{free_port()}/v1")
    err = assert_readable((await drain(provider, HELLO)).error)
    assert isinstance(err, ConnectFailed) and "base_url" in str(err)


async def test_empty_reply_is_no_text_and_no_error(server: OpenAIServer, provider) -> None:
    server.mode = "empty"
    result = await drain(provider, HELLO)
    assert result.chunks == [] and result.error is None


async def test_server_that_ignores_stream_true_still_answers(server, provider) -> None:
    answer = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "Whole."}}]}
    body = json.dumps(answer).encode()
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
    server.script(Raw(head.encode() + b"\r\n\r\n" + body))
    result = await drain(provider, HELLO)
    assert result.error is None and result.chunks == ["Whole."]


async def test_stream_without_done_marker_still_completes(server, provider) -> None:
    event = b'data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n'
    body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(event), event)
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked"
    server.script(Raw(head + b"\r\n\r\n" + body))
    result = await drain(provider, HELLO)
    assert result.error is None and result.chunks == ["Hi"]


async def test_model_list_is_live_and_sorted(server: OpenAIServer, provider) -> None:
    server.models = ["zeta", "alpha", "mid"]
    assert await provider.list_models() == ["alpha", "mid", "zeta"]
    request = server.requests[-1]
    assert (request.method, request.path, request.bearer) == ("GET", "/v1/models", KEY)


@pytest.mark.parametrize("mode", ["500", "401", "not_json", "wrong_shape", "empty", "drop"])
async def test_model_list_falls_back_to_the_static_list(server, provider, mode) -> None:
    server.aux_mode = mode
    assert await provider.list_models() == []  # its own static list: no OpenAI built-ins


async def test_model_list_falls_back_when_unreachable(make_provider) -> None:
    provider = make_provider("openai", base_url=f"http://127.0.0.1:{free_port()}/v1")
    assert await provider.list_models() == []  # its own static list: no OpenAI built-ins


async def test_server_stops_cleanly_without_leaking_threads() -> None:
    with OpenAIServer(mode="stall") as server:  # close() must not wait out the 3 s stall
        async with httpx.AsyncClient(timeout=0.3) as client:
            with pytest.raises(httpx.ReadTimeout):
                async with client.stream("POST", server.base_url + "/chat/completions") as r:
                    async for _ in r.aiter_bytes():
                        pass
        started = time.monotonic()
    assert server.alive_threads == 0
    assert time.monotonic() - started < 1.0


def test_server_runs_from_the_command_line(tmp_path: Path) -> None:
    reply = tmp_path / "reply.md"
    reply.write_text("# Title\n\nSome *markdown* text.\n", "utf-8")
    command = [sys.executable, "-m", "tests.servers", "openai", "--reply-file", str(reply)]
    command += ["--chunks", "5", "--delay", "0.001"]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as proc:
        try:
            base_url = proc.stdout.readline().strip()  # type: ignore[union-attr]
            assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
            body = {"model": "m", "messages": HELLO, "stream": True}
            response = httpx.post(base_url + "/chat/completions", json=body, timeout=5)
            texts = [
                json.loads(line[6:])["choices"][0]["delta"].get("content", "")
                for line in response.text.splitlines()
                if line.startswith("data: {") and '"choices":[{' in line
            ]
            assert "".join(texts) == reply.read_text("utf-8")
            assert len([t for t in texts if t]) == 5
        finally:
            proc.terminate()
            assert proc.wait(5) == 0

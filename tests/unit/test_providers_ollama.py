"""The Ollama provider against a loopback server speaking /api/chat NDJSON and /api/tags."""

from __future__ import annotations

import socket
import time

import pytest

from tests.servers import OllamaServer, Raw, drain, free_port
from tests.unit.checks import assert_readable as _readable
from tui.providers.errors import (
    BadResponse,
    ConnectFailed,
    HTTPError,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    ResponseTooLarge,
    StreamBroken,
    UnknownModel,
)
from tui.providers.ollama import OllamaProvider, host_from_env, line_text

HELLO = [{"role": "user", "content": "hi"}]


def assert_readable(err: Exception | None) -> ProviderError:
    return _readable(err, "ollama")


@pytest.fixture
def provider(ollama_server: OllamaServer, make_provider):
    return make_provider("ollama", base_url=ollama_server.base_url, timeout=2.0)


async def test_reply_streams_in_order(ollama_server: OllamaServer, provider) -> None:
    ollama_server.reply = ["Bon", "jour ", "à ", "tous"]
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    result = await drain(provider, messages, "qwen2.5:0.5b")
    assert result.error is None and result.chunks == ["Bon", "jour ", "à ", "tous"]
    request = ollama_server.requests[-1]
    assert (request.method, request.path) == ("POST", "/api/chat")
    assert request.json == {"model": "qwen2.5:0.5b", "messages": messages, "stream": True}
    assert "authorization" not in request.headers


async def test_unpulled_model_says_how_to_pull_it(ollama_server: OllamaServer, provider) -> None:
    ollama_server.mode = "404"
    err = assert_readable((await drain(provider, HELLO, "llama9")).error)
    assert isinstance(err, UnknownModel)
    assert "model 'llama9' is not pulled: run `ollama pull llama9`" in str(err)


def test_old_style_not_found_message_reads_the_same() -> None:
    with pytest.raises(UnknownModel, match="run `ollama pull phi3:mini`"):
        line_text({"error": "model 'phi3:mini' not found"})


async def test_error_line_mid_stream_surfaces_its_text(ollama_server, provider) -> None:
    ollama_server.mode = "error_event"
    result = await drain(provider, HELLO)
    assert result.chunks == ["Hello "]
    err = assert_readable(result.error)
    assert type(err) is ProviderError and "unexpected EOF" in str(err)


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        ("500", HTTPError),
        ("drop", StreamBroken),
        ("cut", StreamBroken),
        ("not_json", StreamBroken),
        ("wrong_shape", BadResponse),
        ("huge_line", ResponseTooLarge),
    ],
)
async def test_each_failure_is_typed_and_readable(ollama_server, provider, mode, kind) -> None:
    ollama_server.mode = mode
    assert type(assert_readable((await drain(provider, HELLO)).error)) is kind


async def test_server_error_page_shows_no_html_tags(ollama_server, provider) -> None:
    ollama_server.mode = "500"
    err = assert_readable((await drain(provider, HELLO)).error)
    assert isinstance(err, HTTPError) and "<" not in str(err)


async def test_busy_server_gives_retry_after(ollama_server: OllamaServer, provider) -> None:
    ollama_server.mode, ollama_server.retry_after = "429", "3"
    err = assert_readable((await drain(provider, HELLO)).error)
    assert isinstance(err, RateLimited) and err.retry_after == 3.0


async def test_stream_that_ends_before_done_is_broken(ollama_server, provider) -> None:
    line = b'{"model":"m","message":{"role":"assistant","content":"Hi"},"done":false}\n'
    body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(line), line)
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked"
    ollama_server.script(Raw(head + b"\r\n\r\n" + body))
    result = await drain(provider, HELLO)
    assert result.chunks == ["Hi"]
    assert isinstance(assert_readable(result.error), StreamBroken)


async def test_stalled_stream_times_out_near_request_timeout(ollama_server, make_provider):
    ollama_server.mode = "stall"
    provider = make_provider("ollama", base_url=ollama_server.base_url, timeout=0.5)
    started = time.monotonic()
    err = assert_readable((await drain(provider, HELLO)).error)
    assert isinstance(err, ProviderTimeout)
    assert time.monotonic() - started < 1.5


async def test_closed_port_is_connect_failed(make_provider) -> None:
    provider = make_provider("ollama", base_url=f"http://127.0.0.1:{free_port()}")
    err = assert_readable((await drain(provider, HELLO)).error)
    assert isinstance(err, ConnectFailed) and "server is running" in str(err)


async def test_model_list_shows_pulled_models(ollama_server: OllamaServer, provider) -> None:
    ollama_server.models = ["qwen2.5:0.5b", "llama3.2:latest"]
    assert await provider.list_models() == ["llama3.2:latest", "qwen2.5:0.5b"]
    assert ollama_server.requests[-1].path == "/api/tags"


@pytest.mark.parametrize("mode", ["500", "not_json", "wrong_shape", "empty", "drop"])
async def test_model_list_falls_back_to_the_static_list(ollama_server, provider, mode) -> None:
    ollama_server.aux_mode = mode
    assert await provider.list_models() == ["llama3.2"]


async def test_reachable_says_yes_to_a_running_server(provider) -> None:
    assert await provider.reachable() is True


@pytest.mark.parametrize("mode", ["500", "drop"])
async def test_reachable_says_no_quickly_and_never_raises(ollama_server, provider, mode):
    ollama_server.aux_mode = mode
    started = time.monotonic()
    assert await provider.reachable(timeout=0.3) is False
    assert time.monotonic() - started < 1.0


async def test_reachable_says_no_quickly_to_a_silent_server(make_provider) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        provider = make_provider("ollama", base_url=f"http://127.0.0.1:{silent.getsockname()[1]}")
        started = time.monotonic()
        assert await provider.reachable(timeout=0.3) is False
        assert time.monotonic() - started < 1.0


async def test_reachable_says_no_to_a_closed_port_or_a_bad_url(make_provider) -> None:
    closed = make_provider("ollama", base_url=f"http://127.0.0.1:{free_port()}")
    assert await closed.reachable() is False
    assert await make_provider("ollama", name="x", base_url="http://[nope").reachable() is False


async def test_ollama_host_env_points_at_the_server(ollama_server, make_provider, monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{ollama_server.port}")
    provider = make_provider("ollama")
    assert provider.base_url == f"http://127.0.0.1:{ollama_server.port}"
    assert (await drain(provider, HELLO)).error is None


async def test_base_url_setting_beats_ollama_host(make_provider, monkeypatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "elsewhere:1234")
    provider = make_provider("ollama", base_url="http://127.0.0.1:9/")
    assert provider.base_url == "http://127.0.0.1:9"


@pytest.mark.parametrize(
    ("value", "url"),
    [
        ("", None),
        ("gpu-box", "http://gpu-box:11434"),
        ("gpu-box:8080", "http://gpu-box:8080"),
        ("0.0.0.0", "http://localhost:11434"),
        ("https://ollama.example", "https://ollama.example"),
        ("http://10.0.0.2:11434/", "http://10.0.0.2:11434"),
        ("::1", "http://[::1]:11434"),
    ],
)
def test_ollama_host_is_read_like_the_ollama_cli(monkeypatch, value, url) -> None:
    monkeypatch.setenv("OLLAMA_HOST", value)
    assert host_from_env() == url


def test_default_is_localhost_when_nothing_is_set(monkeypatch) -> None:
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    from tui.providers.base import ProviderSettings

    assert OllamaProvider(ProviderSettings(name="o", kind="ollama")).base_url == (
        "http://localhost:11434"
    )

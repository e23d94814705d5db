"""Error messages name the real cause: the server's own words, the proxy, TLS, the wait.

Each case was met against a real LiteLLM proxy, mitmproxy or a private CA; the bodies and
answers here are theirs, replayed by loopback servers (tests/reliability/error_servers.py).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import certifi
import pytest

from tests.reliability.error_servers import AuthProxy, TLSOnlyServer, answer, private_ca
from tests.servers import OpenAIServer, Raw, drain, free_port
from tests.unit.checks import assert_readable
from tui.providers import base
from tui.providers.base import Provider
from tui.providers.errors import (
    BadSetting,
    ConnectFailed,
    CredentialsRejected,
    HTTPError,
    ProviderError,
    RateLimited,
    StreamBroken,
)

KEY = "sk-lite-KEY-0123456789"
PROXY_PASSWORD = "proxy-PW-0001"
HELLO = [{"role": "user", "content": "hi"}]
KEPT = "what arrived is kept"
MODEL_HINT = "check the model name"

# LiteLLM's own bodies, as it sent them.
NO_DB = {
    "error": {
        "message": "No connected db.",
        "type": "no_db_connection",
        "param": None,
        "code": "400",
    }
}
UPSTREAM_401 = {
    "error": {
        "message": "litellm.AuthenticationError: AuthenticationError: OpenAIException - "
        "Incorrect API key provided: sk-abc***. You can find your API key at "
        "https://platform.openai.com/account/api-keys.. Received Model Group=up-401\n"
        "Available Model Group Fallbacks=None",
        "type": "auth_error",
        "param": "None",
        "code": "401",
    }
}
RATE_429 = {
    "error": {
        "message": "Rate limit reached for gpt-4o-mini in organization org-x on tokens per "
        "min (TPM): Limit 200000, Used 199990. Please try again in 20s.",
        "type": "tokens",
        "code": "rate_limit_exceeded",
    }
}


@pytest.fixture
def lite(openai_server: OpenAIServer, make_provider: Callable[..., Provider]) -> Provider:
    return make_provider("openai", name="lite", base_url=openai_server.base_url, api_key=KEY)


async def failure(provider: Provider, name: str = "lite") -> ProviderError:
    drained = await drain(provider, HELLO)
    return assert_readable(drained.error, name, secret=KEY)


@pytest.fixture
def fresh_tls_context() -> Iterator[None]:
    """The TLS context is cached per process; build it under this test's environment."""
    base._tls_context.cache_clear()
    yield
    base._tls_context.cache_clear()


# -- 1. the server's own words ----------------------------------------------------------------
async def test_litellm_wrong_key_quotes_no_connected_db_and_does_not_blame_the_model(
    openai_server: OpenAIServer, lite: Provider
) -> None:
    openai_server.script(answer(400, NO_DB))
    err = await failure(lite)
    assert isinstance(err, HTTPError) and err.status == 400
    assert '"No connected db."' in str(err)
    assert "check the key" in str(err)
    assert "model" not in str(err)


async def test_upstream_401_quotes_the_servers_reason_in_one_line(
    openai_server: OpenAIServer, lite: Provider
) -> None:
    openai_server.script(answer(401, UPSTREAM_401))
    err = await failure(lite)
    text = str(err)
    assert isinstance(err, CredentialsRejected)
    assert "refused the credentials (HTTP 401)" in text
    assert "Incorrect API key provided: sk-abc***" in text
    assert "Model Group=up-401" in text
    assert text.index("Incorrect API key") < text.index("check the key")  # quote, then hint
    assert MODEL_HINT not in text
    assert len(text) < 400


async def test_a_key_echoed_in_a_401_body_is_redacted_in_the_quote(
    openai_server: OpenAIServer, lite: Provider
) -> None:
    body = {"error": {"message": f"Incorrect API key provided: {KEY}."}}
    openai_server.script(answer(401, body))
    err = await failure(lite)  # assert_readable: the key appears nowhere
    assert "Incorrect API key provided: [redacted]" in str(err)


async def test_429_quotes_the_servers_words_then_the_wait(
    openai_server: OpenAIServer, lite: Provider
) -> None:
    openai_server.script(answer(429, RATE_429, {"Retry-After": "20"}))
    err = await failure(lite)
    text = str(err)
    assert isinstance(err, RateLimited) and err.retry_after == 20
    assert "Rate limit reached for gpt-4o-mini" in text
    assert text.index("Rate limit reached") < text.index("retry after 20 s")
    assert MODEL_HINT not in text


async def test_404_model_not_found_says_check_the_model_name(
    openai_server: OpenAIServer, lite: Provider
) -> None:
    openai_server.mode = "404"
    err = await failure(lite)
    assert "does not exist" in str(err) and MODEL_HINT in str(err)


async def test_404_of_a_wrong_path_blames_base_url_not_the_model(
    openai_server: OpenAIServer, make_provider: Callable[..., Provider]
) -> None:
    lite = make_provider("openai", name="lite", base_url=openai_server.url + "/wrong/v1")
    err = await failure(lite)
    assert "404 page not found" in str(err) and "check base_url" in str(err)
    assert MODEL_HINT not in str(err)


async def test_400_about_an_invalid_model_says_check_the_model_name(
    openai_server: OpenAIServer, lite: Provider
) -> None:
    body = {"error": {"message": "Invalid model name passed in model=gpt-5x", "code": "400"}}
    openai_server.script(answer(400, body))
    err = await failure(lite)
    assert "Invalid model name passed in model=gpt-5x" in str(err)
    assert MODEL_HINT in str(err)


# -- 2. a proxy that wants credentials --------------------------------------------------------
@pytest.fixture
def auth_proxy() -> Iterator[AuthProxy]:
    with AuthProxy(password=PROXY_PASSWORD) as proxy:
        yield proxy


def proxied(make: Callable[..., Provider], base_url: str, proxy: str) -> Provider:
    return make("openai", name="lite", base_url=base_url, api_key=KEY, proxy=proxy)


async def test_407_for_an_http_target_says_the_proxy_refused_and_names_the_setting(
    openai_server: OpenAIServer, auth_proxy: AuthProxy, make_provider: Callable[..., Provider]
) -> None:
    proxy = f"http://alice:wrong-PW-0002@127.0.0.1:{auth_proxy.port}"
    err = await failure(proxied(make_provider, openai_server.base_url, proxy))
    text = str(err)
    assert auth_proxy.request_lines and not openai_server.requests  # it stopped at the proxy
    assert "proxy" in text and "refused the credentials" in text and "407" in text
    assert "proxy in [providers.lite] of config.toml" in text
    assert f"http://alice:•••@127.0.0.1:{auth_proxy.port}" in text
    assert "wrong-PW-0002" not in text and "model" not in text


async def test_407_to_connect_for_an_https_target_says_the_proxy_refused(
    auth_proxy: AuthProxy, make_provider: Callable[..., Provider]
) -> None:
    proxy = f"http://alice:wrong-PW-0002@127.0.0.1:{auth_proxy.port}"
    target = f"https://127.0.0.1:{free_port()}/v1"
    err = await failure(proxied(make_provider, target, proxy))
    text = str(err)
    assert auth_proxy.request_lines[-1].startswith("CONNECT ")
    assert isinstance(err, ConnectFailed)
    assert "refused the credentials" in text and "407" in text
    assert "proxy in [providers.lite] of config.toml" in text
    assert "wrong-PW-0002" not in text and "model" not in text


async def test_407_to_a_proxy_without_credentials_says_it_asks_for_them(
    openai_server: OpenAIServer, auth_proxy: AuthProxy, make_provider: Callable[..., Provider]
) -> None:
    proxy = f"http://127.0.0.1:{auth_proxy.port}"
    err = await failure(proxied(make_provider, openai_server.base_url, proxy))
    assert "asks for credentials" in str(err) and "Basic" in str(err)
    assert "proxy in [providers.lite] of config.toml" in str(err)


async def test_the_right_proxy_credentials_pass(
    openai_server: OpenAIServer, auth_proxy: AuthProxy, make_provider: Callable[..., Provider]
) -> None:
    proxy = f"http://alice:{PROXY_PASSWORD}@127.0.0.1:{auth_proxy.port}"
    drained = await drain(proxied(make_provider, openai_server.base_url, proxy), HELLO)
    assert drained.error is None and drained.text


# -- 3. http:// to a TLS port; nothing arrived means nothing is kept ---------------------------
async def test_http_to_a_tls_port_says_the_server_speaks_tls_and_suggests_https(
    tmp_path: Path, make_provider: Callable[..., Provider]
) -> None:
    made = private_ca(tmp_path)
    if made is None:
        pytest.skip("the openssl command is needed to make a certificate")
    with TLSOnlyServer(tls=made[1]) as server:
        err = await failure(make_provider("openai", name="lite", base_url=server.base_url))
    text = str(err)
    assert "speaks TLS" in text
    assert f"https://127.0.0.1:{server.port}/v1" in text
    assert KEPT not in text and "try again" not in text


async def test_a_connection_dropped_before_any_answer_keeps_nothing(
    openai_server: OpenAIServer, lite: Provider
) -> None:
    openai_server.mode = "drop"
    err = await failure(lite)
    assert isinstance(err, StreamBroken) and "was cut" in str(err)
    assert KEPT not in str(err) and "try again" in str(err)


async def test_a_stream_cut_after_some_words_still_says_they_are_kept(
    openai_server: OpenAIServer, lite: Provider
) -> None:
    openai_server.reply, openai_server.mode = ["one ", "two ", "three ", "four"], "cut"
    drained = await drain(lite, HELLO)
    assert drained.chunks == ["one ", "two "]
    assert KEPT in str(drained.error)


async def test_a_line_past_the_bound_before_any_text_does_not_say_it_was_kept(
    openai_server: OpenAIServer, lite: Provider
) -> None:
    body = b"data: " + b"x" * ((1 << 20) + 4096) + b"\n\n"
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
    openai_server.script(Raw(head + b"Content-Length: %d\r\n\r\n" % len(body) + body))
    drained = await drain(lite, HELLO)
    err = assert_readable(drained.error, "lite", secret=KEY)
    assert drained.chunks == [] and "a line of the stream passed" in str(err)
    assert KEPT not in str(err) and "check base_url" in str(err)


# -- 4. a private CA is added to the public ones -------------------------------------------
async def test_ssl_cert_file_adds_a_private_ca_to_the_public_ones(
    tmp_path: Path,
    make_provider: Callable[..., Provider],
    monkeypatch: pytest.MonkeyPatch,
    fresh_tls_context: None,
) -> None:
    made = private_ca(tmp_path)
    if made is None:
        pytest.skip("the openssl command is needed to make a certificate")
    ca_file, server_tls = made
    public = ssl.create_default_context(cafile=certifi.where()).cert_store_stats()["x509_ca"]
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    context = base._tls_context()
    assert context.cert_store_stats()["x509_ca"] == public + 1  # certifi's CAs, and ours
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    with OpenAIServer(reply="over TLS", tls=server_tls) as server:
        url = server.base_url.replace("http://", "https://")
        drained = await drain(make_provider("openai", name="lite", base_url=url), HELLO)
    assert drained.error is None and drained.text == "over TLS"


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "SSL_CERT_DIR"])
async def test_a_bad_ssl_cert_path_is_one_line_naming_the_variable(
    tmp_path: Path,
    make_provider: Callable[..., Provider],
    monkeypatch: pytest.MonkeyPatch,
    fresh_tls_context: None,
    variable: str,
) -> None:
    missing = tmp_path / "no-such-ca"
    monkeypatch.setenv(variable, str(missing))
    provider = make_provider("openai", name="lite", base_url="https://127.0.0.1:9/v1")
    err = await failure(provider)
    assert isinstance(err, BadSetting)
    assert variable in str(err) and str(missing) in str(err)


# -- 5. Retry-After that no one should wait for --------------------------------------------
@pytest.mark.parametrize(
    ("value", "retry_after", "says"),
    [
        ("inf", float("inf"), "asks to wait more than an hour"),
        ("100000000000", 1e11, "asks to wait more than an hour"),
        ("7200", 7200.0, "asks to wait more than an hour"),
        ("nan", None, "wait and try again"),
        ("-5", None, "wait and try again"),
        ("90", 90.0, "retry after 1 min 30 s"),
        ("3600", 3600.0, "retry after 1 h"),
        ("2.5", 2.5, "retry after 2.5 s"),
    ],
)
async def test_retry_after_is_worded_for_a_person(
    openai_server: OpenAIServer, lite: Provider, value: str, retry_after: float | None, says: str
) -> None:
    openai_server.mode, openai_server.retry_after = "429", value
    err = await failure(lite)
    assert isinstance(err, RateLimited) and err.retry_after == retry_after
    hint = str(err).rpartition('";')[2]  # after the server's own words, which echo the value
    assert says in hint
    assert "inf" not in hint and "nan" not in hint and "e+" not in hint

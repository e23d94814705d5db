"""The Gemini provider against a loopback server speaking Google's streamGenerateContent SSE."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers import GeminiServer, Raw, drain, free_port
from tests.unit.checks import assert_readable as _readable
from tui import images
from tui.providers.base import ListFailed, ProviderSettings
from tui.providers.errors import (
    BadResponse,
    BadSetting,
    CredentialsRejected,
    HTTPError,
    MissingCredentials,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    ResponseTooLarge,
    StreamBroken,
    UnknownModel,
)
from tui.providers.gemini import GeminiProvider
from tui.providers.parts import Finish, Reasoning, Usage

KEY = "AIzaSy-test-SECRET123456"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # a PNG's signature, then any bytes
HELLO = [{"role": "user", "content": "hi"}]
Make = Callable[..., GeminiProvider]


def assert_readable(err: Exception | None) -> ProviderError:
    return _readable(err, "gemini", secret=KEY)


@pytest.fixture
def server() -> Iterator[GeminiServer]:
    with GeminiServer(api_key=KEY) as server:
        yield server


@pytest.fixture
async def make() -> AsyncIterator[Make]:
    """make(**settings) -> a GeminiProvider built directly (the kind is not registered
    here), its HTTP client closed afterwards."""
    made: list[GeminiProvider] = []

    def build(**settings: Any) -> GeminiProvider:
        settings = {"name": "gemini", "kind": "gemini", "timeout": 2.0, **settings}
        provider = GeminiProvider(ProviderSettings(**settings))
        made.append(provider)
        return provider

    yield build
    for provider in made:
        await provider.aclose()


@pytest.fixture
def provider(server: GeminiServer, make: Make) -> GeminiProvider:
    return make(base_url=server.base_url, api_key=KEY)


# -- the reply ------------------------------------------------------------------------------------
async def test_reply_streams_in_order(server: GeminiServer, provider: GeminiProvider) -> None:
    server.reply = ["Hel", "lo", ", wö", "rld ✓"]
    result = await drain(provider, HELLO, "gemini-2.5-pro")
    assert result.error is None
    assert result.chunks == ["Hel", "lo", ", wö", "rld ✓"]  # the empty closing text adds none
    assert result.parts == [Finish("stop"), Usage(input_tokens=9, output_tokens=4)]


async def test_request_is_google_wire_format(server: GeminiServer, provider) -> None:
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "assistant", "content": "anything else?"},
        {"role": "user", "content": "again"},
        {"role": "system", "content": "in French"},
    ]
    assert (await drain(provider, messages, "gemini-2.5-flash")).error is None
    request = server.requests[-1]
    assert request.method == "POST"
    assert request.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    assert request.query == "alt=sse"  # the key is never in the URL
    assert KEY not in request.target
    assert request.headers["x-goog-api-key"] == KEY
    assert "authorization" not in request.headers
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "text/event-stream"
    assert request.json == {
        "contents": [
            {"role": "user", "parts": [{"text": "hi"}]},
            {"role": "model", "parts": [{"text": "hello"}, {"text": "anything else?"}]},
            {"role": "user", "parts": [{"text": "again"}]},
        ],
        "systemInstruction": {"parts": [{"text": "be brief"}, {"text": "in French"}]},
    }  # no generationConfig: no parameter was given


def loaded_png(tmp_path: Path) -> dict[str, str]:
    """The image as the chat hands it to a provider: read again by images.load."""
    path = tmp_path / "photo.png"
    path.write_bytes(PNG)
    return images.load(str(path), hashlib.sha256(PNG).hexdigest(), "photo.png")


async def test_image_goes_as_inline_data_before_the_text(
    server: GeminiServer, provider: GeminiProvider, tmp_path: Path
) -> None:
    assert GeminiProvider.sends_images and images.takes_images("gemini-2.5-flash", {})
    picture = {"role": "user", "content": "what is this?", "images": [loaded_png(tmp_path)]}
    messages = [picture, {"role": "assistant", "content": "a PNG"}, *HELLO]
    assert (await drain(provider, messages, "gemini-2.5-flash")).error is None
    # The bytes themselves, as the file holds them: decoded from what reached the server.
    inline = {"mimeType": "image/png", "data": base64.b64encode(PNG).decode("ascii")}
    assert server.requests[-1].json["contents"] == [
        {"role": "user", "parts": [{"inlineData": inline}, {"text": "what is this?"}]},
        {"role": "model", "parts": [{"text": "a PNG"}]},
        {"role": "user", "parts": [{"text": "hi"}]},  # no images: as before
    ]
    assert base64.b64decode(inline["data"]) == PNG


async def test_image_without_text_still_goes(
    server: GeminiServer, provider: GeminiProvider, tmp_path: Path
) -> None:
    # Only an empty *text* part is refused: the image alone is the prompt.
    image = loaded_png(tmp_path)
    messages = [{"role": "user", "content": "", "images": [image, image]}]
    assert (await drain(provider, messages)).error is None
    [turn] = server.requests[-1].json["contents"]
    inline = {"mimeType": "image/png", "data": image["data"]}
    assert turn == {"role": "user", "parts": [{"inlineData": inline}] * 2}


async def test_generation_config_holds_only_the_params_given(server, make) -> None:
    provider = make(base_url=server.base_url, api_key=KEY, params={"temperature": 0.2})
    params = {"max_tokens": 64, "seed": 7, "top_p": None}
    assert (await drain(provider, HELLO, params=params)).error is None
    body = server.requests[-1].json
    assert body["generationConfig"] == {"temperature": 0.2, "maxOutputTokens": 64, "seed": 7}
    assert "systemInstruction" not in body
    params = {"temperature": 1.0, "top_p": 0.9, "max_tokens": 10, "seed": 1}
    await drain(provider, HELLO, params=params)
    config = server.requests[-1].json["generationConfig"]
    assert config == {"temperature": 1.0, "topP": 0.9, "maxOutputTokens": 10, "seed": 1}


async def test_blank_model_uses_the_default_and_models_prefix_is_dropped(server, provider):
    await drain(provider, HELLO)
    assert server.requests[-1].path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    await drain(provider, HELLO, "models/gemini-2.5-pro")
    assert server.requests[-1].path == "/v1beta/models/gemini-2.5-pro:streamGenerateContent"


async def test_model_name_cannot_reach_another_endpoint(server, provider) -> None:
    await drain(provider, HELLO, "../x?y#z")  # quoted: one path segment, no query of its own
    assert server.requests[-1].path == "/v1beta/models/..%2Fx%3Fy%23z:streamGenerateContent"
    assert server.requests[-1].query == "alt=sse"


async def test_thoughts_are_asked_for_only_when_set(server, provider, make) -> None:
    await drain(provider, HELLO)
    assert "generationConfig" not in server.requests[-1].json
    thinking = make(base_url=server.base_url, api_key=KEY, options={"thoughts": True})
    await drain(thinking, HELLO, params={"max_tokens": 5})
    config = server.requests[-1].json["generationConfig"]
    assert config == {"maxOutputTokens": 5, "thinkingConfig": {"includeThoughts": True}}


async def test_thought_parts_become_reasoning(server, make) -> None:
    server.thoughts, server.reply = ["Let me ", "think."], ["An", "swer"]
    provider = make(base_url=server.base_url, api_key=KEY, options={"thoughts": True})
    result = await drain(provider, HELLO)
    assert result.error is None
    assert result.chunks == ["An", "swer"]
    assert result.parts[:2] == [Reasoning("Let me "), Reasoning("think.")]
    # thoughtsTokenCount is output too (billed so), as OpenAI counts reasoning tokens, and
    # the reasoning's own count
    assert result.parts[2:] == [Finish("stop"), Usage(9, 4, reasoning_tokens=2)]


async def test_bad_thoughts_option_is_a_setting_error(server, make) -> None:
    provider = make(base_url=server.base_url, api_key=KEY, options={"thoughts": "yes"})
    err = assert_readable((await drain(provider, HELLO)).error)
    assert isinstance(err, BadSetting) and "thoughts" in str(err)
    assert server.requests == []


@pytest.mark.parametrize(
    ("google", "ours"),
    [
        ("STOP", "stop"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),  # parts.finish_of's synonym
        ("RECITATION", "RECITATION"),  # kept as Google says it
    ],
)
async def test_finish_reason_is_normalised(server, provider, google, ours) -> None:
    server.finish_reason = google
    result = await drain(provider, HELLO)
    assert [p for p in result.parts if isinstance(p, Finish)] == [Finish(ours)]


async def test_usage_is_the_last_one_seen_sent_once(server, provider) -> None:
    server.reply = ["a ", "b ", "c"]
    result = await drain(provider, HELLO)
    usages = [p for p in result.parts if isinstance(p, Usage)]
    assert usages == [Usage(input_tokens=9, output_tokens=3)]
    assert result.parts[-1] == usages[0]  # at the end, after the Finish


async def test_wire_bytes_are_googles_sse(server: GeminiServer) -> None:
    import httpx

    url = f"{server.base_url}/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    async with httpx.AsyncClient() as client:
        response = await client.post(url, json=body, headers={"x-goog-api-key": KEY})
    assert response.headers["content-type"].startswith("text/event-stream")
    raw = response.content
    assert raw.startswith(b'data: {"candidates": [{"content": {"parts": [{"text": "Hello "}]')
    assert raw.endswith(b"}\r\n\r\n") and raw.count(b"\r\n\r\n") == raw.count(b"data: ")


# -- failures ------------------------------------------------------------------------------------
async def test_missing_key_names_the_variable_before_any_request(make) -> None:
    provider = make()  # Google's own URL: nothing may be sent
    assert not provider.configured
    err = assert_readable((await drain(provider, HELLO)).error)
    assert isinstance(err, MissingCredentials) and "GEMINI_API_KEY" in str(err)
    assert provider._client is None


async def test_wrong_key_names_the_variable_and_never_the_key(server, make) -> None:
    server.api_key = "AIzaSy-the-right-one"
    provider = make(base_url=server.base_url, api_key=KEY)
    err = assert_readable((await drain(provider, HELLO)).error)
    assert isinstance(err, CredentialsRejected)
    assert "GEMINI_API_KEY" in str(err) and "HTTP 400" in str(err)
    assert "API key not valid" in str(err)  # Google's own words


async def test_key_echoed_by_a_403_is_masked(server, provider) -> None:
    server.mode = "403"  # "Consumer 'api_key:<the key>' has been suspended."
    err = assert_readable((await drain(provider, HELLO)).error)
    assert isinstance(err, CredentialsRejected) and "403" in str(err)
    assert "[redacted]" in str(err) and "GEMINI_API_KEY" in str(err)


@pytest.mark.parametrize(("header", "seconds"), [(False, 7.0), (True, 12.0)])
async def test_rate_limit_gives_the_retry_delay(server, provider, header, seconds) -> None:
    # Google says when in a RetryInfo detail ("7s"); a Retry-After header wins if sent.
    server.mode, server.retry_header = "429", header
    server.retry_after = "12" if header else "7"
    err = assert_readable((await drain(provider, HELLO)).error)
    assert isinstance(err, RateLimited) and err.retry_after == seconds
    assert f"{seconds:g} s" in str(err) and "exceeded your current quota" in str(err)


async def test_unknown_model_says_so(server, provider) -> None:
    server.mode = "404"
    err = assert_readable((await drain(provider, HELLO, "gemini-9")).error)
    assert isinstance(err, UnknownModel)
    assert "'gemini-9'" in str(err) and "is not found" in str(err)


@pytest.mark.parametrize(
    ("mode", "kind", "words"),
    [
        ("500", HTTPError, "500 Internal Server Error"),
        ("503", HTTPError, "The model is overloaded"),
        ("drop", StreamBroken, "cut"),
        ("wrong_shape", BadResponse, "parts"),
        ("huge_line", ResponseTooLarge, "line"),
        ("endless", ResponseTooLarge, "reply passed"),
        ("blocked", ProviderError, "blockReason SAFETY"),
    ],
)
async def test_each_failure_is_typed_and_readable(server, provider, mode, kind, words) -> None:
    server.mode = mode
    err = assert_readable((await drain(provider, HELLO)).error)
    assert type(err) is kind
    assert words in str(err)


async def test_server_error_page_shows_no_html_tags(server, provider) -> None:
    server.mode = "500"
    err = assert_readable((await drain(provider, HELLO)).error)
    assert isinstance(err, HTTPError) and err.status == 500
    assert "<" not in err.excerpt and "Internal Server Error" in err.excerpt
    assert "try again later" in str(err)


async def test_error_event_mid_stream_keeps_the_text(server, provider) -> None:
    server.mode = "error_event"
    result = await drain(provider, HELLO)
    assert result.chunks == ["Hello "]
    err = assert_readable(result.error)
    assert type(err) is ProviderError
    assert "UNAVAILABLE" in str(err) and "The model is overloaded" in str(err)


async def test_rate_limit_inside_the_stream_is_rate_limited(server, provider) -> None:
    error = b'{"error": {"code": 429, "message": "Resource exhausted.", '
    error += b'"status": "RESOURCE_EXHAUSTED"}}'
    event = b"data: " + error + b"\r\n\r\n"
    body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(event), event)
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked"
    server.script(Raw(head + b"\r\n\r\n" + body))
    err = assert_readable((await drain(provider, HELLO)).error)
    assert isinstance(err, RateLimited) and err.retry_after is None


async def test_cut_stream_keeps_what_arrived(server, provider) -> None:
    server.reply, server.mode = ["one ", "two ", "three ", "four"], "cut"
    result = await drain(provider, HELLO)
    assert result.chunks == ["one ", "two "]
    assert result.parts == []  # no Finish or Usage for a reply that did not end
    err = assert_readable(result.error)
    assert isinstance(err, StreamBroken) and "kept" in str(err)


async def test_data_line_that_is_not_json_breaks_the_stream(server, provider) -> None:
    server.mode = "not_json"
    result = await drain(provider, HELLO)
    assert result.chunks == ["Hello "]
    err = assert_readable(result.error)
    assert isinstance(err, StreamBroken) and "Gemini" in str(err)


async def test_stalled_stream_times_out_near_request_timeout(server, make) -> None:
    server.mode = "stall"
    provider = make(base_url=server.base_url, api_key=KEY, timeout=0.5)
    started = time.monotonic()
    result = await drain(provider, HELLO)
    elapsed = time.monotonic() - started
    assert result.chunks == ["Hello "]
    err = assert_readable(result.error)
    assert isinstance(err, ProviderTimeout) and "request_timeout" in str(err)
    assert 0.4 < elapsed < 1.5


async def test_empty_reply_is_no_text_and_no_error(server, provider) -> None:
    server.mode = "empty"
    result = await drain(provider, HELLO)
    assert result.error is None and result.chunks == []
    assert Finish("stop") in result.parts


# -- the model list --------------------------------------------------------------------------------
async def test_model_list_is_live_filtered_and_stripped(server, provider) -> None:
    assert await provider.list_models(strict=True) == [
        "gemini-2.5-flash",
        "gemini-2.5-flash-lite",
        "gemini-2.5-pro",
    ]  # the embedding and Imagen models cannot generateContent
    request = server.requests[-1]
    assert (request.method, request.path) == ("GET", "/v1beta/models")
    assert request.headers["x-goog-api-key"] == KEY and KEY not in request.target
    assert request.query == "pageSize=1000"  # one page: the default 50 would cut it short


async def test_empty_live_list_is_googles_empty_object(server, provider) -> None:
    server.aux_mode = "empty"  # "{}": protobuf JSON leaves an empty list out
    assert await provider.list_models(strict=True) == []
    assert await provider.list_models() == list(GeminiProvider.models)


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        ("500", "HTTP 500"),
        ("503", "HTTP 503"),
        ("not_json", "expected form"),
        ("wrong_shape", "expected form"),
        ("drop", ""),
    ],
)
async def test_model_list_failures(server, provider, mode, words) -> None:
    server.aux_mode = mode
    assert await provider.list_models() == list(GeminiProvider.models)
    with pytest.raises(ListFailed) as caught:
        await provider.list_models(strict=True)
    assert words in str(caught.value) and KEY not in str(caught.value)


async def test_model_list_with_a_wrong_key_says_key(server, make) -> None:
    server.api_key = "AIzaSy-the-right-one"
    provider = make(base_url=server.base_url, api_key=KEY)
    with pytest.raises(ListFailed, match=r"key refused \(HTTP 400\).*GEMINI_API_KEY"):
        await provider.list_models(strict=True)
    assert await provider.list_models() == list(GeminiProvider.models)


async def test_model_list_without_a_key_sends_nothing(make) -> None:
    provider = make()
    with pytest.raises(ListFailed, match="GEMINI_API_KEY"):
        await provider.list_models(strict=True)
    assert await provider.list_models() == list(GeminiProvider.models)
    assert provider._client is None


async def test_model_list_unreachable(make) -> None:
    provider = make(base_url=f"http://127.0.0.1:{free_port()}/v1beta", api_key=KEY)
    with pytest.raises(ListFailed, match="unreachable"):
        await provider.list_models(strict=True)


def test_declarations() -> None:
    assert GeminiProvider.kind == "gemini" and GeminiProvider.api_key_env == "GEMINI_API_KEY"
    assert GeminiProvider.default_model in GeminiProvider.models
    assert GeminiProvider.has_live_list()
    flags = GeminiProvider(ProviderSettings(name="gemini", kind="gemini")).flags()
    assert flags == ["needs key"]


async def test_answer_as_one_json_array_still_streams(server, provider) -> None:
    # A gateway that drops ?alt=sse: Google then answers one JSON array of the responses.
    body = (
        b'[{"candidates": [{"content": {"parts": [{"text": "Whole"}],"role": "model"},'
        b'"index": 0}]},\r\n{"candidates": [{"content": {"parts": [{"text": " answer."}],'
        b'"role": "model"},"finishReason": "STOP","index": 0}],'
        b'"usageMetadata": {"promptTokenCount": 3,"candidatesTokenCount": 2}}]'
    )
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\n"
    server.script(Raw(head + b"Content-Length: %d\r\n\r\n" % len(body) + body))
    result = await drain(provider, HELLO)
    assert result.error is None and result.chunks == ["Whole", " answer."]
    assert result.parts == [Finish("stop"), Usage(input_tokens=3, output_tokens=2)]

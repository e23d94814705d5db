"""OllamaProvider.context_window: the model's context as the server reports it (POST
/api/show), against the loopback OllamaServer; every failure is None, never an error."""

from __future__ import annotations

import socket
import time

import pytest

from tests.servers import OllamaServer, free_port
from tui.providers import ollama
from tui.providers.base import Provider
from tui.providers.ollama import OllamaProvider, window_of

MODEL = "llama3.2:latest"
LLAMA_2048 = {"general.architecture": "llama", "llama.context_length": 2048}


@pytest.fixture
def provider(ollama_server: OllamaServer, make_provider) -> OllamaProvider:
    return make_provider("ollama", base_url=ollama_server.base_url, timeout=2.0)


async def test_context_length_of_the_architecture_is_read(ollama_server, provider) -> None:
    ollama_server.shows[MODEL] = OllamaServer.show_reply(context_length=131072)
    assert await provider.context_window(MODEL) == 131072
    request = ollama_server.requests[-1]
    assert (request.method, request.path, request.json) == ("POST", "/api/show", {"model": MODEL})


async def test_architecture_names_the_key(ollama_server, provider) -> None:
    ollama_server.shows["qwen2.5:0.5b"] = OllamaServer.show_reply(
        context_length=32768, architecture="qwen2"
    )
    assert await provider.context_window("qwen2.5:0.5b") == 32768


async def test_num_ctx_of_the_model_file_wins(ollama_server, provider) -> None:
    ollama_server.shows[MODEL] = OllamaServer.show_reply(context_length=131072, num_ctx=8192)
    assert await provider.context_window(MODEL) == 8192


async def test_no_model_asks_for_the_default_one(ollama_server, make_provider) -> None:
    ollama_server.shows["llama3.2"] = OllamaServer.show_reply(context_length=4096)
    provider = make_provider("ollama", base_url=ollama_server.base_url)
    assert await provider.context_window("") == 4096
    assert ollama_server.requests[-1].json == {"model": "llama3.2"}


async def test_unknown_model_is_none(ollama_server, provider) -> None:
    assert await provider.context_window("llama9") is None  # the server's 404
    assert ollama_server.show_requests == 1


@pytest.mark.parametrize("mode", ["not_json", "wrong_shape", "500", "drop", "cut"])
async def test_an_answer_without_the_numbers_is_none(ollama_server, provider, mode) -> None:
    ollama_server.aux_mode = mode
    assert await provider.context_window(MODEL) is None


async def test_server_down_is_none_quickly(make_provider) -> None:
    provider = make_provider("ollama", base_url=f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()
    assert await provider.context_window(MODEL) is None
    assert time.monotonic() - started < 1.0


async def test_silent_server_is_none_within_the_bound(make_provider, monkeypatch) -> None:
    monkeypatch.setattr(ollama, "SHOW_TIMEOUT", 0.3)
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        provider = make_provider("ollama", base_url=f"http://127.0.0.1:{silent.getsockname()[1]}")
        started = time.monotonic()
        assert await provider.context_window(MODEL) is None
        assert time.monotonic() - started < 1.5


async def test_bad_base_url_is_none(make_provider) -> None:
    provider = make_provider("ollama", name="x", base_url="http://[nope")
    assert await provider.context_window(MODEL) is None


async def test_second_ask_is_cached(ollama_server, provider) -> None:
    assert await provider.context_window(MODEL) == 131072
    assert await provider.context_window(MODEL) == 131072
    assert ollama_server.show_requests == 1
    assert await provider.context_window("qwen2.5:0.5b") == 131072  # another model: asked
    assert ollama_server.show_requests == 2


async def test_a_failure_is_cached_then_asked_again(ollama_server, provider, monkeypatch):
    ollama_server.aux_mode = "500"
    assert await provider.context_window(MODEL) is None
    ollama_server.aux_mode = "normal"
    assert await provider.context_window(MODEL) is None  # within SHOW_RETRY_AFTER: kept
    assert ollama_server.show_requests == 1
    monkeypatch.setattr(ollama, "SHOW_RETRY_AFTER", 0.0)
    assert await provider.context_window(MODEL) == 131072
    assert ollama_server.show_requests == 2


async def test_cache_is_bounded(ollama_server, provider, monkeypatch) -> None:
    monkeypatch.setattr(ollama, "SHOW_CACHE_SIZE", 2)
    for name in ("a", "b", "c"):
        await provider.context_window(name)
    assert len(provider._windows) == 2
    await provider.context_window("a")  # the oldest went, so it is asked again
    assert ollama_server.show_requests == 4


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"parameters": "num_ctx 0", "model_info": LLAMA_2048}, 2048),  # 0 is no num_ctx
        ({"parameters": 'stop "x"\nnum_ctx    16384\n'}, 16384),
        ({"model_info": {"general.architecture": "llama", "llama.context_length": True}}, None),
        ({"model_info": {"general.architecture": "llama", "llama.context_length": -5}}, None),
        ({"model_info": {"general.architecture": "llama", "llama.context_length": 8e3}}, None),
        ({"model_info": {"general.architecture": "llama", "llama.context_length": "8192"}}, None),
        ({"model_info": {"llama.context_length": 8192}}, None),  # no architecture
        ({"model_info": []}, None),
        ({"parameters": ["num_ctx 8192"]}, None),
        ([], None),
        (None, None),
    ],
)
def test_window_of_takes_only_positive_whole_numbers(document, expected) -> None:
    assert window_of(document) == expected


async def test_base_provider_cannot_say(make_provider) -> None:
    echo = make_provider("echo")
    assert type(echo).context_window is Provider.context_window
    assert await echo.context_window("x") is None

"""Model lists are the endpoint's: live (cached with its fetch time), configured, or the
kind's built-ins only for its own service; a live list that fails says why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.servers import OllamaServer, OpenAIServer, free_port
from tui.config import load
from tui.model_lists import BUILT_IN, CONFIGURED, LIVE, NONE, ModelLists, static_list
from tui.providers.base import ProviderSettings
from tui.providers.ollama import OllamaProvider
from tui.providers.openai import OpenAIProvider, is_private

BUILT_INS = list(OpenAIProvider.models)


def openai(base_url: str, **settings: object) -> OpenAIProvider:
    return OpenAIProvider(
        ProviderSettings(name="compat", kind="openai", base_url=base_url, **settings)
    )


def lists(tmp_path: Path, max_age: float = 300.0) -> ModelLists:
    return ModelLists(tmp_path / "cache" / "model-lists.json", max_age)


# -- the README's example config ------------------------------------------------------------


README_CONFIG = """
default_provider = "lmstudio"
default_model = "fake-small"
[providers.groq]
kind = "openai"
base_url = "https://api.groq.com/openai/v1"
api_key_env = "GROQ_API_KEY"
[providers.lmstudio]
kind = "openai"
base_url = "http://localhost:1234/v1"
"""


def test_other_endpoints_never_list_openais_built_in_models(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(README_CONFIG, "utf-8")
    config = load(path)
    from tui.chat import Core
    from tui.store import SessionStore

    core = Core(config, SessionStore(tmp_path / "sessions"))
    for name in ("groq", "lmstudio"):
        assert list(core.provider(name).instance_models) == []
        assert static_list(core.provider(name)).source == NONE
    assert list(core.provider("openai").instance_models) == BUILT_INS
    assert static_list(core.provider("openai")).source == BUILT_IN
    assert core.model_for("lmstudio") == "fake-small"


def test_a_local_server_needs_no_key_and_gets_no_authorization_header() -> None:
    lmstudio = openai("http://localhost:1234/v1")
    assert lmstudio.configured
    assert "needs key" not in lmstudio.flags()
    assert lmstudio._auth_headers() == {}
    assert not openai("https://api.groq.com/openai/v1").configured


@pytest.mark.parametrize(
    ("url", "private"),
    [
        ("http://127.0.0.5:1/v1", True),
        ("http://[::1]:1/v1", True),
        ("http://localhost:1/v1", True),
        ("http://10.1.2.3/v1", True),
        ("http://172.16.0.1/v1", True),
        ("http://172.31.255.1/v1", True),
        ("http://172.32.0.1/v1", False),
        ("http://192.168.1.9/v1", True),
        ("https://api.groq.com/openai/v1", False),
        ("http://8.8.8.8/v1", False),
    ],
)
def test_private_addresses(url: str, private: bool) -> None:
    assert is_private(url) is private


def test_configured_models_are_said_to_be_configured() -> None:
    listed = static_list(openai("https://example.invalid/v1", models=("a", "b")))
    assert (listed.models, listed.source) == (["a", "b"], CONFIGURED)


# -- live lists and the cache ---------------------------------------------------------------


async def test_a_live_list_is_fetched_cached_and_reused(tmp_path: Path) -> None:
    with OpenAIServer(models=["fake-small", "fake-big"]) as server:
        provider = openai(server.base_url)
        cache = lists(tmp_path)
        listed = await cache.refresh(provider)
        assert (listed.models, listed.source) == (["fake-big", "fake-small"], LIVE)
        assert listed.describe().startswith("live, just now")
        asked = len(server.requests)
        assert (await cache.refresh(provider)).models == listed.models  # fresh: not asked
        assert len(server.requests) == asked
        assert not any(r.headers.get("authorization") for r in server.requests)
        await provider.aclose()
    saved = json.loads((tmp_path / "cache" / "model-lists.json").read_text())
    assert saved["compat"]["models"] == ["fake-big", "fake-small"]
    assert saved["compat"]["fetched_at"] > 0
    # A new run shows the cached list at once, with no server.
    assert lists(tmp_path).current(openai(server.base_url)).source == LIVE


async def test_a_stale_list_is_asked_for_again_and_force_always_asks(tmp_path: Path) -> None:
    with OpenAIServer(models=["one"]) as server:
        provider = openai(server.base_url)
        cache = lists(tmp_path, max_age=0.0)
        await cache.refresh(provider)
        server.models = ["one", "two"]
        assert (await cache.refresh(provider)).models == ["one", "two"]
        server.models = ["three"]
        fresh = lists(tmp_path, max_age=3600.0)
        assert (await fresh.refresh(provider)).models == ["one", "two"]
        assert (await fresh.refresh(provider, force=True)).models == ["three"]
        await provider.aclose()


async def test_a_refused_key_says_so(tmp_path: Path) -> None:
    with OpenAIServer(aux_mode="401") as server:
        provider = openai(server.base_url)
        listed = await lists(tmp_path).refresh(provider)
        await provider.aclose()
    assert listed.models == []
    assert "key refused (HTTP 401)" in listed.error
    assert "api_key in [providers.compat]" in listed.describe()


async def test_an_unreachable_endpoint_says_so(tmp_path: Path) -> None:
    provider = openai(f"http://127.0.0.1:{free_port()}/v1", models=("mine",))
    listed = await lists(tmp_path).refresh(provider)
    await provider.aclose()
    assert (listed.models, listed.source) == (["mine"], CONFIGURED)
    assert listed.error.startswith("unreachable")


async def test_a_server_error_keeps_the_cached_list_and_says_why(tmp_path: Path) -> None:
    with OpenAIServer(models=["kept"]) as server:
        provider = openai(server.base_url)
        cache = lists(tmp_path, max_age=0.0)
        await cache.refresh(provider)
        server.aux_mode = "500"
        listed = await cache.refresh(provider)
        await provider.aclose()
    assert (listed.models, listed.source) == (["kept"], LIVE)
    assert "HTTP 500" in listed.error


async def test_a_list_of_another_base_url_is_not_shown(tmp_path: Path) -> None:
    with OpenAIServer(models=["theirs"]) as server:
        provider = openai(server.base_url)
        await lists(tmp_path).refresh(provider)
        await provider.aclose()
    # Another path on the same server, not another free port: a free port may be the one
    # the server just gave back (it failed once so under load), the same base_url again.
    moved = openai(server.base_url.removesuffix("/v1") + "/other/v1")
    assert lists(tmp_path).current(moved).source == NONE


async def test_ollama_lists_its_tags(tmp_path: Path) -> None:
    with OllamaServer(models=["llama3.2:1b"]) as server:
        provider = OllamaProvider(
            ProviderSettings(name="ollama", kind="ollama", base_url=server.url)
        )
        listed = await lists(tmp_path).refresh(provider)
        await provider.aclose()
    assert (listed.models, listed.source) == (["llama3.2:1b"], LIVE)


def test_a_broken_cache_file_is_only_fetched_again(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "model-lists.json"
    path.parent.mkdir()
    path.write_text("{not json", "utf-8")
    assert lists(tmp_path).current(openai("http://localhost:1/v1")).source == NONE


async def test_an_endpoint_with_no_model_set_answers_with_the_first_of_its_live_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.chat import Core
    from tui.store import SessionStore

    monkeypatch.setenv("CHATTERM_CACHE_DIR", str(tmp_path / "cache"))
    with OpenAIServer(models=["served-b", "served-a"]) as server:
        path = tmp_path / "config.toml"
        path.write_text(f'[providers.vllm]\nkind = "openai"\nbase_url = "{server.base_url}"\n')
        core = Core(load(path), SessionStore(tmp_path / "sessions"))
        assert core.model_for("vllm") == ""  # nothing known yet: the server's own choice
        await ModelLists.default().refresh(core.provider("vllm"))
        assert core.model_for("vllm") == "served-a"
        assert core.model_for("vllm", "chosen") == "chosen"
        await core.aclose()


async def test_a_failed_list_is_not_asked_for_again_at_once_unless_forced(tmp_path: Path) -> None:
    with OpenAIServer(models=["one"]) as server:
        server.aux_mode = "500"
        provider = openai(server.base_url)
        cache = lists(tmp_path)
        assert (await cache.refresh(provider)).error
        asked = len(server.requests)
        assert (await cache.refresh(provider)).error  # the picker opened again: not asked
        assert len(server.requests) == asked
        server.aux_mode = "normal"
        assert (await cache.refresh(provider, force=True)).models == ["one"]
        assert len(server.requests) == asked + 1
        await provider.aclose()


async def test_the_cache_holds_no_password_of_a_base_url_and_is_private(tmp_path: Path) -> None:
    with OpenAIServer(models=["one"]) as server:
        url = server.base_url.replace("http://", "http://bob:s3cret-pw@")
        provider = openai(url)
        await lists(tmp_path).refresh(provider)
        await provider.aclose()
    path = tmp_path / "cache" / "model-lists.json"
    assert "s3cret-pw" not in path.read_text() and "bob" not in path.read_text()
    assert path.stat().st_mode & 0o777 == 0o600
    assert lists(tmp_path).current(openai(url)).source == LIVE  # still found by its URL
    assert lists(tmp_path).current(openai(server.base_url)).source != LIVE  # another URL

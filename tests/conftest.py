"""Shared fixtures: the loopback servers of tests/servers.py, and provider clean-up."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# `tests.servers` must import however pytest was started (pytest, python -m pytest, xdist).
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.servers import (  # noqa: E402
    ForwardProxy,
    OllamaServer,
    OpenAIServer,
    RaycastServer,
    VoiGptServer,
)
from tui.providers import build  # noqa: E402
from tui.providers.base import Provider, ProviderSettings  # noqa: E402

# The fault matrix's table (tests/reliability); here so the xdist controller loads it too.
pytest_plugins = ["tests.reliability.matrix"]


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as server:
        yield server


@pytest.fixture
def ollama_server() -> Iterator[OllamaServer]:
    with OllamaServer() as server:
        yield server


@pytest.fixture
def raycast_server() -> Iterator[RaycastServer]:
    with RaycastServer() as server:
        yield server


@pytest.fixture
def voigpt_server() -> Iterator[VoiGptServer]:
    with VoiGptServer() as server:
        yield server


@pytest.fixture
def forward_proxy() -> Iterator[ForwardProxy]:
    with ForwardProxy() as proxy:
        yield proxy


@pytest.fixture
async def make_provider() -> AsyncIterator[Callable[..., Provider]]:
    """make_provider(kind, **settings) -> a provider whose HTTP client is closed afterwards."""
    made: list[Provider] = []

    def make(kind: str, **settings: Any) -> Provider:
        settings.setdefault("name", kind)
        settings.setdefault("timeout", 5.0)
        provider = build(ProviderSettings(kind=kind, **settings))
        made.append(provider)
        return provider

    yield make
    for provider in made:
        await provider.aclose()


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """No test reads the developer's config, keys or conversations, or writes beside them."""
    home = tmp_path_factory.mktemp("home")
    # SSH_CONNECTION switches low-bandwidth mode on (tui/link.py): tests set it themselves.
    names = ("OPENAI_API_KEY", "RAYCAST_API_KEY", "OLLAMA_HOST", "CHATTERM_CONFIG")
    for name in (*names, "SSH_CONNECTION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))  # the model lists' cache
    monkeypatch.setenv("CHATTERM_DATA_DIR", str(home / "data" / "chatterm"))
    return home

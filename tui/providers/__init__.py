"""Provider kinds, imported only when used so start-up stays light."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import Provider, ProviderSettings

# kind -> "module:Class"; the built-in instances share their kind's name.
KINDS: dict[str, str] = {
    "echo": "echo:EchoProvider",
    "openai": "openai:OpenAIProvider",
    "ollama": "ollama:OllamaProvider",
    "raycast": "raycast:RaycastProvider",
    "voigpt": "voigpt:VoiGptProvider",
    "anthropic": "anthropic:AnthropicProvider",
    "gemini": "gemini:GeminiProvider",
    "g4f": "g4f_bridge:G4FProvider",  # g4f/NAME, with the [g4f] extra (g4f_bridge.py)
}
# kind -> its standard key variable, for reading config without importing every kind
# (`chatterm sessions list` would import asyncio and httpx for it); a test checks that it
# matches each class's ``api_key_env``.
KEY_ENV: dict[str, str] = {
    "openai": "OPENAI_API_KEY",
    "raycast": "RAYCAST_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
}


G4F_PREFIX = "g4f/"  # g4f/NAME: a gpt4free provider class, with the [g4f] extra


def g4f_installed() -> bool:
    """Is the [g4f] extra there? Asked without importing g4f (start-up stays as fast)."""
    from importlib.util import find_spec

    return find_spec("g4f") is not None


def is_g4f_name(name: str) -> bool:
    return name.startswith(G4F_PREFIX) and len(name) > len(G4F_PREFIX)


def provider_class(kind: str) -> type[Provider]:
    module, _, cls = KINDS[kind].partition(":")
    return getattr(import_module(f"{__name__}.{module}"), cls)


def build(settings: ProviderSettings) -> Provider:
    return provider_class(settings.kind)(settings)

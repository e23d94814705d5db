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
}
# kind -> its standard key variable, for reading config without importing every kind
# (`chatterm sessions list` would import asyncio and httpx for it); a test checks that it
# matches each class's ``api_key_env``.
KEY_ENV: dict[str, str] = {"openai": "OPENAI_API_KEY", "raycast": "RAYCAST_API_KEY"}


def provider_class(kind: str) -> type[Provider]:
    module, _, cls = KINDS[kind].partition(":")
    return getattr(import_module(f"{__name__}.{module}"), cls)


def build(settings: ProviderSettings) -> Provider:
    return provider_class(settings.kind)(settings)

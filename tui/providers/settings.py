"""What a provider instance is built from. No httpx here: config.py needs this before the
first paint, and httpx (~50 ms to import) waits until a provider is really used."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Messages = Sequence[Mapping[str, str]]  # [{"role": "user", "content": "..."}]
# Generation parameters, by chatterm's own names; each provider sends those its service
# takes, in its own words (OpenAI: as they are; Ollama: options.num_predict for max_tokens).
Params = Mapping[str, float | int | None]  # None, in a per-call override: leave it out
GENERATION_PARAMS = ("temperature", "top_p", "max_tokens", "seed")


@dataclass(frozen=True)
class ProviderSettings:
    """Everything an instance needs, resolved from config and environment."""

    name: str
    kind: str
    base_url: str | None = None
    api_key: str | None = None
    api_key_env: str | None = None  # the variable a user would set, for messages
    proxy: str | None = None
    timeout: float = 60.0
    models: tuple[str, ...] = ()
    default_model: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)  # kind-specific extras
    params: Params = field(default_factory=dict)  # GENERATION_PARAMS from [providers.NAME]

    def __repr__(self) -> str:  # never print a key, even in a traceback or a log
        key = "set" if self.api_key else "unset"
        return f"ProviderSettings(name={self.name!r}, kind={self.kind!r}, api_key=<{key}>)"

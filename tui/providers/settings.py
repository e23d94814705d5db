"""What a provider instance is built from. No httpx here: config.py needs this before the
first paint, and httpx (~50 ms to import) waits until a provider is really used."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Messages = Sequence[Mapping[str, str]]  # [{"role": "user", "content": "..."}]


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

    def __repr__(self) -> str:  # never print a key, even in a traceback or a log
        key = "set" if self.api_key else "unset"
        return f"ProviderSettings(name={self.name!r}, kind={self.kind!r}, api_key=<{key}>)"

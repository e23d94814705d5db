"""Where each provider's model list comes from, and the cache of live ones. No Textual here.

A service that lists its models (``has_live_list``) is asked for them; the answer is kept
in the cache dir with its fetch time, so the picker and ``chatterm providers`` show it at
once and ask again at most every ``MAX_AGE`` seconds (or when the user asks). The
configured ``models`` come next; a kind's built-in list only for the service it belongs
to (provider.instance_models already leaves OpenAI's out for other endpoints). A live list
that cannot be had says why, instead of quietly standing in a built-in one.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .providers.base import ListFailed, Provider

MAX_AGE = 300.0  # seconds a live list is trusted before it is asked for again
RETRY_AFTER_FAILURE = 30.0  # seconds before a failed list is asked for again (unless forced)
CACHE_FILE = "model-lists.json"

LIVE, CONFIGURED, BUILT_IN, NONE = "live", "configured", "built-in", "none"


@dataclass
class ModelList:
    models: list[str]
    source: str  # LIVE, CONFIGURED, BUILT_IN or NONE
    fetched_at: float | None = None  # time.time() of the live fetch
    error: str = ""  # why the live list could not be had ("" when it could, or was not asked)
    configured: list[str] = field(default_factory=list)  # the user's own, shown beside live

    def age(self, now: float | None = None) -> float | None:
        if self.fetched_at is None:
            return None
        return max(0.0, (time.time() if now is None else now) - self.fetched_at)

    def describe(self, now: float | None = None) -> str:
        """Where the list came from, in words: "live, 2 min old", "built-in"..."""
        age = self.age(now)
        said = f"{self.source}, {age_text(age)}" if age is not None else self.source
        return f"{said}; live list failed: {self.error}" if self.error else said

    def sources(self) -> list[tuple[str, str]]:
        """(model, source) for each model: a configured one says so even beside live ones."""
        rows = [(m, CONFIGURED if m in self.configured else self.source) for m in self.models]
        rows += [(m, CONFIGURED) for m in self.configured if m not in self.models]
        return rows


def age_text(seconds: float) -> str:
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min old"
    return f"{int(seconds // 3600)} h old"


def static_list(provider: Provider) -> ModelList:
    """What the provider lists without asking: the configured models, else its built-ins."""
    if provider.settings.models:
        own = list(provider.settings.models)
        return ModelList(own, CONFIGURED, configured=own)
    models = list(provider.instance_models)
    return ModelList(models, BUILT_IN if models else NONE)


class ModelLists:
    """The live lists, cached in *path* (JSON: name -> endpoint, models, fetched_at). The
    endpoint is a hash of base_url: a URL may hold a password, which no cache file may."""

    def __init__(self, path: Path, max_age: float = MAX_AGE) -> None:
        self.path = path
        self.max_age = max_age
        self._errors: dict[str, str] = {}  # this run's failures: not worth keeping on disk
        self._failed_at: dict[str, float] = {}  # monotonic time of each one

    @classmethod
    def default(cls) -> ModelLists:
        from .paths import cache_dir

        return cls(cache_dir() / CACHE_FILE)

    def current(self, provider: Provider) -> ModelList:
        """The list to show now, without a request: the cached live one or the static one."""
        static = static_list(provider)
        # a list that is never live has no cache entry: the file is not read for it
        entry = self._read().get(provider.name) if provider.has_live_list() else None
        error = self._errors.get(provider.name, "")
        if entry is None:
            static.error = error
            return static
        if entry.get("endpoint") != _endpoint(provider):
            static.error = error  # a list of another endpoint (base_url changed) is no use
            return static
        return ModelList(list(entry["models"]), LIVE, entry["fetched_at"], error, static.configured)

    def is_stale(self, provider: Provider, now: float | None = None) -> bool:
        listed = self.current(provider)
        age = listed.age(now)
        return provider.has_live_list() and (age is None or age >= self.max_age)

    def _due(self, provider: Provider) -> bool:
        """Stale, and not just failed: an unreachable server is not asked at every look."""
        failed = self._failed_at.get(provider.name)
        recent = failed is not None and time.monotonic() - failed < RETRY_AFTER_FAILURE
        return self.is_stale(provider) and not recent

    async def refresh(self, provider: Provider, *, force: bool = False) -> ModelList:
        """Ask the service when the cached list is stale (or *force*); keep what it says."""
        if not provider.has_live_list() or not (force or self._due(provider)):
            return self.current(provider)
        try:
            models = await provider.list_models(strict=True)
        except ListFailed as err:
            self._errors[provider.name] = str(err)
            self._failed_at[provider.name] = time.monotonic()
            return self.current(provider)
        self._errors.pop(provider.name, None)
        self._failed_at.pop(provider.name, None)
        self._store(provider, models)
        return self.current(provider)

    # -- the file -------------------------------------------------------------------------
    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # no cache yet, or a broken one: it is only fetched again
        return {k: v for k, v in data.items() if _valid(v)} if isinstance(data, dict) else {}

    def _store(self, provider: Provider, models: list[str]) -> None:
        data = self._read()
        data[provider.name] = {
            "endpoint": _endpoint(provider),
            "models": models,
            "fetched_at": time.time(),
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_suffix(".tmp")
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(data, indent=1))
            os.replace(partial, self.path)  # never a half-written cache
        except OSError:
            pass  # a cache that cannot be written only means asking again next time


def _valid(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("models"), list)
        and all(isinstance(m, str) for m in entry["models"])
        and isinstance(entry.get("fetched_at"), int | float)
        and isinstance(entry.get("endpoint"), str)
    )


def _endpoint(provider: Provider) -> str:
    return hashlib.sha256(provider.base_url.encode()).hexdigest()[:32]

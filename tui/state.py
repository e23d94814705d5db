"""Small remembered state that is not configuration: recently used models.

Kept apart from config.toml so that switching models never rewrites the user's config.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

MAX_RECENT = 12


class RecentModels:
    """Most recent first, as "provider/model" strings, saved to a small JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.warning = ""  # one line for the user when the file could not be used
        self.items: list[str] = self._read()

    def _read(self) -> list[str]:
        try:
            text = self.path.read_text("utf-8")
        except (OSError, ValueError):
            return []  # no file yet (or unreadable): nothing remembered, nothing to say
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            # Deep nesting makes json raise RecursionError, not ValueError: either way the
            # list of recent models is only a convenience, so start without it.
            self.warning = f"{self.path} is not valid JSON and was ignored (recent models)."
            return []
        recent = data.get("recent_models", []) if isinstance(data, dict) else []
        return [r for r in recent if isinstance(r, str) and "/" in r][:MAX_RECENT]

    def push(self, provider: str, model: str) -> None:
        key = f"{provider}/{model}"
        self.items = [key, *(r for r in self.items if r != key)][:MAX_RECENT]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"recent_models": self.items}), "utf-8")
            os.replace(tmp, self.path)
        except OSError:
            pass  # losing the recent list is harmless; never disturb a conversation for it

    def next_after(self, provider: str, model: str) -> tuple[str, str] | None:
        """The recent model after the current one, cycling; None with fewer than two."""
        if len(self.items) < 2:
            return None
        key = f"{provider}/{model}"
        index = self.items.index(key) if key in self.items else -1
        name, _, chosen = self.items[(index + 1) % len(self.items)].partition("/")
        return name, chosen

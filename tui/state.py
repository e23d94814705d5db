"""Small remembered state that is not configuration: recently used models.

Kept apart from config.toml so that switching models never rewrites the user's config.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

MAX_RECENT = 12


def read_list(path: Path, key: str, what: str) -> tuple[list[Any], str]:
    """The list under *key* in the small JSON file *path*, and a warning for the user ("" if
    none). No file, or an unreadable one, is an empty list: these files are conveniences."""
    try:
        text = path.read_text("utf-8")
    except (OSError, ValueError):
        return [], ""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        # Deep nesting makes json raise RecursionError, not ValueError: either way, start
        # without what the file held.
        return [], f"{path} is not valid JSON and was ignored ({what})."
    items = data.get(key, []) if isinstance(data, dict) else []
    return (items if isinstance(items, list) else []), ""


def write_private(path: Path, data: dict[str, Any]) -> None:
    """Write *data* as JSON atomically, mode 0600; a failure is ignored, never shown in the
    middle of a conversation (what was to be written stays in memory)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False)
        os.replace(tmp, path)
    except OSError:
        pass


class RecentModels:
    """Most recent first, as "provider/model" strings, saved to a small JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        recent, self.warning = read_list(path, "recent_models", "recent models")
        self.items: list[str] = [r for r in recent if isinstance(r, str) and "/" in r][:MAX_RECENT]

    def push(self, provider: str, model: str) -> None:
        key = f"{provider}/{model}"
        self.items = [key, *(r for r in self.items if r != key)][:MAX_RECENT]
        write_private(self.path, {"recent_models": self.items})

    def next_after(self, provider: str, model: str) -> tuple[str, str] | None:
        """The recent model after the current one, cycling; None with fewer than two."""
        if len(self.items) < 2:
            return None
        key = f"{provider}/{model}"
        index = self.items.index(key) if key in self.items else -1
        name, _, chosen = self.items[(index + 1) % len(self.items)].partition("/")
        return name, chosen

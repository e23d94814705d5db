"""Command palette: every action of the keymap registry and every model.

The entries come from the app (``palette_entries``): each runs its registry action on the
node where that action lives, through Textual's own ``run_action``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from textual.command import DiscoveryHit, Hit, Hits, Provider


@dataclass(frozen=True)
class PaletteEntry:
    title: str
    help: str  # the key, or "model"
    run: Callable[[], Any]
    discover: bool = True  # shown before anything is typed (models only when searched)


@runtime_checkable
class PaletteSource(Protocol):
    def palette_entries(self) -> list[PaletteEntry]: ...


class ChattermCommands(Provider):
    """Actions first, then a "Switch to provider/model" command per known model."""

    def _entries(self) -> list[PaletteEntry]:
        app = self.app
        return app.palette_entries() if isinstance(app, PaletteSource) else []

    async def discover(self) -> Hits:
        for entry in self._entries():
            if entry.discover:
                yield DiscoveryHit(entry.title, entry.run, help=entry.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for entry in self._entries():
            if (score := matcher.match(entry.title)) > 0:
                yield Hit(score, matcher.highlight(entry.title), entry.run, help=entry.help)

"""Every prompt sent, for Up/Down and ctrl+r in the prompt, across conversations.

Kept in the data folder beside state.json as one JSON list, oldest first, written
atomically with mode 0600 (prompts are private). Bounded, because it is rewritten at each
prompt: the newest ``LIMIT`` entries and ``MAX_TOTAL_CHARS`` in all, each at most
``MAX_ENTRY_CHARS`` (a pasted file is not a prompt to recall by Up). A prompt that
contains a configured secret (an API key, a token, a proxy password) is never stored.
Two app instances each merge with the file before writing, so neither loses the other's.
No Textual here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from .state import read_list, write_private

LIMIT = 1000
MAX_ENTRY_CHARS = 20_000
MAX_TOTAL_CHARS = 1_000_000  # about a millisecond to write; the oldest go first


class PromptHistory:
    def __init__(self, path: Path, secrets: Callable[[], Iterable[str]] = tuple) -> None:
        self.path = path
        self._secrets = secrets  # called at each add: keys entered in F4 count at once
        self.warning = ""  # one line for the user when the file could not be used
        self.entries: list[str] = self._read()
        # Its thread is joined when the interpreter exits, so no added prompt is lost.
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="chatterm-history")
        self._pending: list[Future[None]] = []

    def _read(self) -> list[str]:
        items, warning = read_list(self.path, "prompts", "prompt history")
        self.warning = self.warning or warning
        return _bounded([p for p in items if isinstance(p, str) and p.strip()])

    def storable(self, prompt: str) -> bool:
        if not prompt.strip() or len(prompt) > MAX_ENTRY_CHARS:
            return False
        return not any(secret and secret in prompt for secret in self._secrets())

    def add(self, prompt: str) -> None:
        """Remember *prompt* as the newest entry (an earlier copy of it moves up). Up sees it
        at once; the file is written in a thread, since reading and rewriting up to a
        megabyte of history (~10 ms) would delay the Enter that sent it."""
        if not self.storable(prompt):
            return
        self.entries = _bounded([*(p for p in self.entries if p != prompt), prompt])
        self._pending.append(self._writer.submit(self._write))

    def _write(self) -> None:
        # One writer thread: writes run in order and never two at once. The entries in
        # memory are the event loop's alone; this reads a snapshot of them.
        ours = list(self.entries)
        known = set(ours)
        on_disk = self._read()  # another instance may have added prompts meanwhile
        merged = _bounded([*(p for p in on_disk if p not in known), *ours])
        write_private(self.path, {"prompts": merged})

    def flush(self) -> None:
        """Wait until every prompt added so far is in the file."""
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    def matches(self, query: str) -> list[str]:
        """Entries holding *query* (case-insensitive), newest first."""
        folded = query.casefold()
        return [p for p in reversed(self.entries) if folded in p.casefold()]


def _bounded(entries: list[str]) -> list[str]:
    """The newest entries within LIMIT and MAX_TOTAL_CHARS."""
    kept: list[str] = []
    total = 0
    for entry in reversed(entries[-LIMIT:]):
        total += len(entry)
        if total > MAX_TOTAL_CHARS:
            break
        kept.append(entry)
    return kept[::-1]


class HistoryWalk:
    """Up/Down through the history from the prompt's draft, as a shell does: Up past the
    oldest stays there, Down past the newest gives the draft back."""

    def __init__(self, entries: list[str], draft: str) -> None:
        self.entries = entries
        self.draft = draft
        self.position = len(entries)  # len(entries): at the draft

    def step(self, delta: int) -> str | None:
        """The text after moving *delta* entries (-1 older, +1 newer); None at an end."""
        position = min(max(self.position + delta, 0), len(self.entries))
        if position == self.position:
            return None
        self.position = position
        return self.draft if position == len(self.entries) else self.entries[position]

"""What a saved conversation is: sessions, messages and summaries; their ids and times."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..sanitize import clean

if TYPE_CHECKING:
    from .merge import SyncState

STATUSES = ("complete", "cancelled", "error", "streaming")
ROLES = ("user", "assistant", "system")  # what a provider takes; other roles are kept, unsent
INTERRUPTED = "interrupted: chatterm ended while this reply was streaming"
TITLE_LIMIT = 60
ID = re.compile(r"[0-9A-Za-z_-]{1,128}")  # a session id: also a file name, so nothing else


def now() -> datetime:
    """The current time as stored: UTC, whole seconds."""
    return datetime.now(UTC).replace(microsecond=0)


def utc(when: datetime) -> datetime:
    """Aware UTC; a naive datetime is taken to be UTC already."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def iso(when: datetime) -> str:
    return utc(when).isoformat(timespec="seconds").replace("+00:00", "Z")


def new_session_id() -> str:
    """Sortable by creation time; the random tail keeps two sessions in one second apart."""
    return f"{now():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def new_message_id() -> str:
    return f"m-{secrets.token_hex(6)}"


@dataclass
class Message:
    role: str
    content: str
    created: datetime = field(default_factory=now)
    id: str = field(default_factory=new_message_id)
    provider: str = ""
    model: str = ""
    status: str = ""  # "" for user/system messages
    error: str = ""
    extra: dict = field(default_factory=dict)


@dataclass
class Session:
    id: str
    title: str
    created: datetime
    updated: datetime
    provider: str
    model: str
    system_prompt: str = ""
    messages: list[Message] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    # What this object last read from or wrote to disk: lets a write skip re-reading the
    # file when nobody else touched it, and merge when somebody did.
    _sync: SyncState | None = field(default=None, init=False, repr=False, compare=False)

    def history(self) -> list[dict[str, str]]:
        """The conversation as a provider wants it: system prompt first, then messages."""
        out = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        for m in self.messages:
            if m.role not in ROLES:
                continue  # e.g. "tool" in a hand-written file: shown, never sent
            if not m.content and (m.role == "assistant" or m.status == "error"):
                continue  # a reply that never got a word out tells the model nothing
            out.append({"role": m.role, "content": m.content})
        return out


@dataclass(frozen=True)
class SessionSummary:
    id: str
    title: str
    provider: str
    model: str
    created: datetime
    updated: datetime
    count: int
    path: Path


def title_from(messages: Iterable[Message]) -> str:
    """The first line of the first prompt, folded to one line and cut to TITLE_LIMIT."""
    first = next((m.content for m in messages if m.role == "user" and m.content.strip()), "")
    line = next((part for part in first.splitlines() if part.strip()), "")
    line = " ".join(clean(line).split())
    return line if len(line) <= TITLE_LIMIT else line[: TITLE_LIMIT - 1].rstrip() + "…"

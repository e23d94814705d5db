"""What a saved conversation is: sessions, messages and summaries; their ids and times."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    """Unique, and growing with time: alternatives made within one second (times are whole
    seconds) still sort in the order they were made."""
    return f"m-{time.time_ns():016x}{secrets.token_hex(2)}"


@dataclass(frozen=True)  # frozen: a merge's fingerprint holds these objects, not copies
class Attachment:
    """A file sent with a prompt (``[[messages.attachments]]``): where it came from and what
    it was (path, name, size in bytes, sha256 of its bytes). Its text was sent as a fenced
    block at the end of the message's ``content``; ``chars`` is that block's length there,
    the blank line before it included, so the prompt as typed is what lies before them all
    (``split_content``). The path of piped text is ``-``."""

    name: str
    path: str = ""
    size: int = 0
    sha256: str = ""
    chars: int = 0
    # An image's MIME type (tui/images.py): its bytes went as an image part, not as text in
    # ``content`` (so ``chars`` is 0), read again from ``path`` whenever it is sent.
    mime: str = ""
    extra: dict = field(default_factory=dict)


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
    # The message this one follows. Only an alternative (off the path on screen) keeps one;
    # on the path, the message before it is its parent.
    parent: str = ""
    attachments: list[Attachment] = field(default_factory=list)  # in the order sent
    # A reply's extras (tui/providers/parts.py): the model's reasoning, shown folded and
    # never sent back (history() leaves it out); the service's token counts, None where it
    # sent none (reasoning_tokens: how many of output_tokens were the reasoning); why the
    # reply ended ("length": stopped at the token limit), "" if unsaid.
    reasoning: str = ""
    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    finish: str = ""

    @property
    def typed(self) -> str:
        """The prompt as typed: ``content`` without the attachments' blocks at its end."""
        return split_content(self)[0] if self.attachments else self.content


@dataclass
class Session:
    id: str
    title: str
    created: datetime
    updated: datetime
    provider: str
    model: str
    system_prompt: str = ""
    messages: list[Message] = field(default_factory=list)  # the path on screen, in order
    # Messages off that path: replies regenerated, prompts edited and resent, with what
    # followed them; each names its parent (see tui/edits.py).
    alternatives: list[Message] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    # Its own generation parameters (F10, ``chatterm ask`` flags on a new one), over the
    # provider's: temperature, top_p, max_tokens, seed. The file's ``[params]`` table.
    params: dict[str, float | int] = field(default_factory=dict)
    # What this object last read from or wrote to disk: lets a write skip re-reading the
    # file when nobody else touched it, and merge when somebody did.
    _sync: SyncState | None = field(default=None, init=False, repr=False, compare=False)

    def history(self) -> list[dict[str, Any]]:
        """The conversation as a provider wants it: system prompt first, then messages. A
        prompt with images has their records under "images" (the core reads the bytes)."""
        out: list[dict[str, Any]] = (
            [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        )
        for m in self.messages:
            if m.role not in ROLES:
                continue  # e.g. "tool" in a hand-written file: shown, never sent
            if not m.content and (m.role == "assistant" or m.status == "error"):
                continue  # a reply that never got a word out tells the model nothing
            entry: dict[str, Any] = {"role": m.role, "content": m.content}
            if images := [a for a in m.attachments if a.mime]:
                entry["images"] = images
            out.append(entry)
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


def split_content(m: Message) -> tuple[str, list[str]]:
    """(the prompt as typed, each attachment's block as sent) of *m*: the blocks are the
    last ``chars`` characters of ``content``, one after another, each after a blank line
    (none before the first when nothing was typed) and opening with its name in backticks.
    When the records do not fit the text (a hand edit), all of it is the prompt."""
    content = m.content
    attachments = [a for a in m.attachments if not a.mime]  # images add no text
    total = sum(a.chars for a in attachments)
    if not attachments or not 0 < total <= len(content) or any(a.chars <= 0 for a in attachments):
        return content, []
    start = len(content) - total
    blocks = []
    for a in attachments:
        part = content[start : start + a.chars]
        block = part[2:] if part.startswith("\n\n") else part
        if not block.startswith("`") or (block is part and start):
            return content, []
        blocks.append(block)
        start += a.chars
    return content[: len(content) - total], blocks


def title_from(messages: Iterable[Message]) -> str:
    """The first line of the first prompt (else the names of what it attached), folded to
    one line and cut to TITLE_LIMIT."""
    first = next(
        (m for m in messages if m.role == "user" and (m.typed.strip() or m.attachments)), None
    )
    text = ""
    if first is not None:
        text = first.typed if first.typed.strip() else ", ".join(a.name for a in first.attachments)
    line = next((part for part in text.splitlines() if part.strip()), "")
    line = " ".join(clean(line).split())
    return line if len(line) <= TITLE_LIMIT else line[: TITLE_LIMIT - 1].rstrip() + "…"

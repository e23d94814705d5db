"""The three-way merge of two writers of one conversation (two windows, the app and ``ask``).

Each Session remembers what it last read from or wrote to disk (``SyncState``: the file's
signature and a fingerprint of its header and of every message). When the file changed
since, the write merges by message id: what this writer changed since then wins, the rest
is the other writer's, and a message either removed stays removed unless the other changed
it. Nothing here touches the disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .files import Signature
from .model import Message, Session, utc

# Fields of the conversation itself that a concurrent writer may change (3-way merged).
HEADER_FIELDS = ("title", "provider", "model", "system_prompt", "created", "extra", "params")
Fingerprint = tuple[Any, ...]


def fingerprint(m: Message) -> Fingerprint:
    # References, not copies: a 1 MB reply costs a pointer here, and comparing a string
    # with itself is an identity check.
    return (
        m.role, m.content, m.created, m.provider, m.model, m.status, m.error, dict(m.extra),
        m.parent, tuple(m.attachments), m.reasoning, m.input_tokens, m.output_tokens,
        m.reasoning_tokens, m.finish,
    )  # fmt: skip


def _header(session: Session) -> tuple[Any, ...]:
    return tuple(_copied(getattr(session, name)) for name in HEADER_FIELDS)


def _copied(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else value


@dataclass
class SyncState:
    signature: Signature | None  # of the file as last seen; None: there was no file
    header: tuple[Any, ...]
    messages: dict[str, Fingerprint]
    fresh: bool = False  # made by new(): its id must not already be taken on disk
    alternatives: dict[str, Fingerprint] = field(default_factory=dict)

    @classmethod
    def of(cls, session: Session, signature: Signature | None) -> SyncState:
        fingerprints = {m.id: fingerprint(m) for m in session.messages}
        alternatives = {m.id: fingerprint(m) for m in session.alternatives}
        return cls(signature, _header(session), fingerprints, alternatives=alternatives)

    @classmethod
    def unknown(cls, *, fresh: bool = False) -> SyncState:
        """Nothing seen yet: on a merge, every field and message of ours counts as changed."""
        return cls(None, tuple(object() for _ in HEADER_FIELDS), {}, fresh)


def merge(session: Session, disk: Session, base: SyncState, targets: set[str]) -> None:
    """Three-way merge into *session*: what we changed since *base* wins, the rest is disk's.

    *targets* are ids of messages this write is about (an append, a streamed update): ours
    even when unchanged since *base*.
    """
    for name, was in zip(HEADER_FIELDS, base.header, strict=True):
        if getattr(session, name) == was:
            setattr(session, name, getattr(disk, name))
    session.updated = max(utc(session.updated), disk.updated)
    merged = merge_messages(session.messages, disk.messages, base.messages, targets)
    session.messages[:] = merged  # in place: callers may hold the list
    # Off the path, the same rules; a message moved off it (regenerated) is new there.
    on_path = {m.id for m in merged}
    alternatives = merge_messages(
        session.alternatives, disk.alternatives, base.alternatives, targets
    )
    session.alternatives[:] = [m for m in alternatives if m.id not in on_path]


def merge_messages(
    ours: list[Message],
    disk: list[Message],
    base: dict[str, Fingerprint],
    targets: set[str],
) -> list[Message]:
    """Disk order, then ours that are not on disk; a message in both is ours if we changed it."""

    def ours_wins(m: Message) -> bool:
        return m.id in targets or base.get(m.id) != fingerprint(m)

    by_id = {m.id: m for m in ours}
    merged: list[Message] = []
    for theirs in disk:
        mine = by_id.get(theirs.id)
        if mine is None:
            if theirs.id not in base:  # new from the other writer (else: we removed it)
                merged.append(theirs)
        elif ours_wins(mine):
            merged.append(mine)
        else:
            vars(mine).update(vars(theirs))  # their newer text, in the object callers hold
            merged.append(mine)
    on_disk = {m.id for m in disk}
    # Ours missing from disk: new ones stay; ones the other writer removed stay removed
    # unless we changed them since.
    merged += [m for m in ours if m.id not in on_disk and (m.id not in base or ours_wins(m))]
    return merged


def put(messages: list[Message], message: Message) -> None:
    """Replace the message with the same id, else append it."""
    for index in range(len(messages) - 1, -1, -1):  # from the end: that is where replies are
        if messages[index] is message or messages[index].id == message.id:
            messages[index] = message
            return
    messages.append(message)

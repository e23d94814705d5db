"""The sessions index, ``ROOT/.index.json``: what ``list`` shows of each conversation (title,
provider, model, times, message count), so a listing parses only the files that changed."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from ..sanitize import clean, one_line
from .cache import Cache, Entry, stamped
from .files import SessionFile, Signature
from .model import Session, SessionSummary, iso, utc

INDEX_NAME = ".index.json"
# Reads one file for the index: its entry, or None when it is gone or was set aside.
Reader = Callable[[Path, str], Entry | None]


def entry(session: Session, signature: Signature) -> Entry:
    summary = {
        "title": session.title,
        "provider": session.provider,
        "model": session.model,
        "created": iso(session.created),
        "updated": iso(session.updated),
        "count": len(session.messages),
    }
    return stamped(summary, signature)


def newer_entry(schema: int, signature: Signature) -> Entry:
    """For a file of a newer chatterm: listed as a problem, not parsed again until it changes."""
    return stamped({"newer": schema}, signature)


def newer_problem(name: str, schema: Any) -> str:
    return f"{name}: written by a newer chatterm (schema {one_line(str(schema), 20)}); skipped"


def listing(
    root: Path, files: Iterable[SessionFile], read: Reader, problems: list[str]
) -> list[SessionSummary]:
    """A summary of each session file, newest ``updated`` first; the index is brought up to
    date. Files that cannot be listed add a line to *problems*."""
    index = Cache(root / INDEX_NAME)
    summaries = [s for f in files if (s := _summary_of(f, index, read, problems)) is not None]
    index.save()
    summaries.sort(key=lambda s: (s.updated, s.id), reverse=True)
    return summaries


def _summary_of(
    file: SessionFile, index: Cache, read: Reader, problems: list[str]
) -> SessionSummary | None:
    if (cached := index.current(file.id, file.stat)) is not None:
        if "newer" in cached:
            index.keep(file.id, cached)
            problems.append(newer_problem(file.path.name, cached["newer"]))
            return None
        if (summary := _summary(file.id, cached, file.path)) is not None:
            index.keep(file.id, cached)
            return summary
    if (parsed := read(file.path, file.id)) is None:
        return None
    index.keep(file.id, parsed)
    return None if "newer" in parsed else _summary(file.id, parsed, file.path)


def _summary(session_id: str, entry: Entry, path: Path) -> SessionSummary | None:
    """A summary from an index entry, or None when the entry is damaged (then re-parse)."""
    try:
        texts = [entry[key] for key in ("title", "provider", "model", "created", "updated")]
        count = entry["count"]
        if not all(isinstance(t, str) for t in texts) or type(count) is not int:
            return None
        title, provider, model, created, updated = texts
        return SessionSummary(
            id=session_id,
            title=clean(title),  # the index sits beside the sessions: just as untrusted
            provider=clean(provider),
            model=clean(model),
            created=utc(datetime.fromisoformat(created)),
            updated=utc(datetime.fromisoformat(updated)),
            count=count,
            path=path,
        )
    except (KeyError, ValueError, OverflowError):
        return None

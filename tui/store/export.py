"""A conversation as Markdown or JSON, and writing an export where the user asked."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from . import files
from .codec import (
    ATTACHMENT_KEYS,
    MESSAGE_KEYS,
    TOP_KEYS,
    attachment_fields,
    header_fields,
    message_fields,
    unknown_keys,
)
from .errors import SessionError
from .model import Message, Session, iso


def export_markdown(session: Session) -> str:
    """A title heading, then each message under a ``### role (provider/model, status)`` one."""
    title = " ".join(session.title.split()) or "Untitled conversation"
    lines = [f"# {title}", ""]
    if session.system_prompt:
        lines += ["### system prompt", "", session.system_prompt, ""]
    for m in session.messages:
        lines += [f"### {_heading(m)}", "", m.content, ""]
        if m.error:
            lines += [f"> error: {m.error}", ""]
    return "\n".join(lines)


def _heading(m: Message) -> str:
    who = "/".join(part for part in (m.provider, m.model) if part)
    details = ", ".join(part for part in (who, m.status) if part)
    return f"{m.role} ({details})" if details else m.role


def export_json(session: Session) -> str:
    """Every key the session file holds, known or not, as JSON (times as ISO 8601 text)."""
    doc = {**header_fields(session), **unknown_keys(session.extra, TOP_KEYS)}
    if session.params:  # its own generation parameters, as its file's [params] holds them
        doc["params"] = dict(session.params)
    doc["messages"] = [
        {**message_fields(m), **unknown_keys(m.extra, MESSAGE_KEYS), **_attachments(m)}
        for m in session.messages
    ]
    return json.dumps(doc, ensure_ascii=False, indent=2, default=_json_value)


def _attachments(m: Message) -> dict[str, Any]:
    """The files sent with *m*, as the session file keeps them (none: no key)."""
    if not m.attachments:
        return {}
    tables = [
        {**attachment_fields(a), **unknown_keys(a.extra, ATTACHMENT_KEYS)} for a in m.attachments
    ]
    return {"attachments": tables}


def _json_value(value: Any) -> str:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def write_export(path: Path, text: str) -> None:
    """Write an export atomically with mode 0600, never through a symbolic link.

    A link at *path* is refused rather than followed (it could point anywhere, e.g. at a
    file of the user's that the export would overwrite); the temp file is created with
    O_EXCL, which never follows one, and renamed over *path*.
    """
    if path.is_symlink():
        raise SessionError(f"{path} is a symbolic link; not written (remove it, then export)")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        files.write_atomic(path, text.encode("utf-8", "replace"))
    except OSError as err:
        raise SessionError(f"could not write {path}: {files.reason(err)}") from err

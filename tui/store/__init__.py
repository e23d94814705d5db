"""Saved conversations: one TOML file per conversation, ``ROOT/ID.toml``. No Textual here.

Session files are untrusted on the way in: every string read goes through ``clean``. They
are written atomically (temp file, fsync, rename, fsync of the folder), mode 0600. Two
chatterm processes may write one conversation at once: each write holds a per-session
``flock`` and, when the file changed since this process last read or wrote it, merges by
message id instead of overwriting. A file that does not parse is moved to ``corrupt/``,
never deleted; a file from a newer schema is left alone, an older one is upgraded. A save
killed half-way leaves only its temp file, which ``list`` removes once no live writer holds
that session's lock. A process streaming a reply holds the session's streaming lock
(``streaming``); a reply found ``streaming`` with that lock free was cut by SIGKILL or
power loss and loads as an ``error`` saying so.

Round trip: the file holds every string exactly (control characters as TOML escapes; a
lone surrogate, which UTF-8 cannot hold, becomes "?"); reading it back removes terminal
control characters and turns CRLF into LF, since the text goes to a screen.

One job per module:

- ``model``: Message, Session, SessionSummary, their ids and times; ``errors``: what is raised.
- ``codec``: a session as TOML and back (the layout written; lenient reading of any file),
  with ``fast_toml`` reading the common part of TOML quickly and tomllib the rest.
- ``upgrades``: the steps that bring a file of an older schema up to the current one.
- ``files``: atomic writes, moves that never overwrite, signatures, the folder, locks.
- ``merge``: the three-way merge of two writers of one conversation.
- ``cache``, ``index``, ``search``: what listing and searching keep beside the sessions
  (``.index.json``, ``.search.json``) so that only changed files are read again.
- ``export``: Markdown and JSON exports, written safely.
- ``sessions``: SessionStore, which ties them together.
"""

from __future__ import annotations

from .errors import (
    SessionAmbiguous,
    SessionCorrupt,
    SessionError,
    SessionNotFound,
    SessionUnsupported,
)
from .export import export_json, export_markdown, write_export
from .files import Signature, folder_problem
from .index import INDEX_NAME
from .model import (
    INTERRUPTED,
    ROLES,
    STATUSES,
    TITLE_LIMIT,
    Message,
    Session,
    SessionSummary,
    new_message_id,
    new_session_id,
    now,
)
from .search import SEARCH_NAME
from .sessions import SessionStore, default_root
from .upgrades import SCHEMA

__all__ = [
    "INDEX_NAME",
    "INTERRUPTED",
    "ROLES",
    "SCHEMA",
    "SEARCH_NAME",
    "STATUSES",
    "TITLE_LIMIT",
    "Message",
    "Session",
    "SessionAmbiguous",
    "SessionCorrupt",
    "SessionError",
    "SessionNotFound",
    "SessionStore",
    "SessionSummary",
    "SessionUnsupported",
    "Signature",
    "default_root",
    "export_json",
    "export_markdown",
    "folder_problem",
    "new_message_id",
    "new_session_id",
    "now",
    "write_export",
]

"""What was read from each session file, kept in a JSON file beside the sessions, so that a
file is read again only when it changed: each entry carries the signature (mtime, size,
inode) of the file it came from. The listing index and the search text are both kept so.

A cache file sits beside the sessions and is just as untrusted: a damaged or missing one is
rebuilt from the files, and a damaged entry is read again. It is written atomically, mode
0600, and not at all when the folder is read-only (the next run reads the files again).
"""

from __future__ import annotations

import json
import os
from contextlib import suppress
from pathlib import Path
from typing import Any

from . import files
from .files import Signature

Entry = dict[str, Any]


def stamped(entry: Entry, signature: Signature) -> Entry:
    """*entry* with the signature of the file it was read from."""
    mtime_ns, size, ino = signature
    return {**entry, "mtime_ns": mtime_ns, "size": size, "ino": ino}


class Cache:
    """The entries of the cache file *path*, and the ones this run keeps (``fresh``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.old = _load(path)
        self.fresh: dict[str, Entry] = {}

    def current(self, session_id: str, st: os.stat_result) -> Entry | None:
        """The entry for *session_id* if it was read from the file as it is now."""
        entry = self.old.get(session_id)
        if not isinstance(entry, dict):
            return None
        seen = (entry.get("mtime_ns"), entry.get("size"), entry.get("ino"))
        return entry if seen == files.signature_of(st) else None

    def keep(self, session_id: str, entry: Entry) -> None:
        self.fresh[session_id] = entry

    def save(self, **dumps: Any) -> None:
        """Write the entries kept, unless they are what the file already holds (entries of
        files that are gone are dropped)."""
        if self.fresh == self.old:
            return
        data = json.dumps(self.fresh, **dumps).encode("utf-8", "replace")
        with suppress(OSError):  # a read-only folder still lists; the next run reads again
            files.write_atomic(self.path, data)


def _load(path: Path) -> dict[str, Any]:
    try:
        entries = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):  # missing or damaged: rebuilt from files
        return {}
    return entries if isinstance(entries, dict) else {}

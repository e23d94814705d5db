"""SessionStore: the conversations under one folder, read, written, merged, listed, searched.

It holds what ties the modules beside it together: which lock a write holds, when a file
is merged rather than overwritten, when one is set aside, and what a reply cut by SIGKILL
looks like. The format is ``codec``'s, the disk work ``files``', the merge ``merge``'s.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from ..paths import data_dir
from ..sanitize import one_line
from . import codec, errors, export, files, index, search
from .cache import Entry
from .errors import Invalid, Newer
from .files import Signature
from .merge import SyncState, merge, put
from .model import (
    ID,
    INTERRUPTED,
    Message,
    Session,
    SessionSummary,
    new_session_id,
    now,
    title_from,
)


def default_root() -> Path:
    """``$CHATTERM_DATA_DIR/sessions``, else the platform's data folder (XDG on Linux)."""
    return data_dir() / "sessions"


class SessionStore:
    """Conversations under *root*, which is created (mode 0700) on the first write."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.problems: list[str] = []
        self.parse_count = 0  # files parsed so far: how tests prove the warm paths parse none
        # Sessions this process streams into: re-lock if a first save gives one a new id.
        self._streams: dict[int, Callable[[], None]] = {}

    def path(self, session_id: str) -> Path:
        if not isinstance(session_id, str) or not ID.fullmatch(session_id):
            raise errors.SessionNotFound(f"no saved conversation {one_line(repr(session_id), 80)}")
        return self.root / f"{session_id}.toml"

    def new(self, provider: str, model: str, system_prompt: str = "") -> Session:
        """In memory only: the file appears with the first append."""
        created = now()
        session = Session(new_session_id(), "", created, created, provider, model, system_prompt)
        session._sync = SyncState.unknown(fresh=True)
        return session

    # -- reading --------------------------------------------------------------------------
    def load(self, session_id: str) -> Session:
        path = self.path(session_id)
        try:
            raw, signature = files.read(path)
        except FileNotFoundError:
            raise errors.SessionNotFound(f"no saved conversation {session_id} ({path})") from None
        except OSError as err:
            if not os.path.isdir(self.root) or not os.access(self.root, os.R_OK | os.X_OK):
                # the folder, not the file (a file in its place, a loop, root's after sudo)
                raise errors.SessionError(files.folder_problem(self.root, err)) from err
            raise errors.SessionError(f"could not read {path}: {files.reason(err)}") from err
        try:
            session = self._parse(raw, session_id, signature)
        except Newer as err:
            raise errors.SessionUnsupported(_newer_line(path, err)) from None
        except Invalid as err:
            raise errors.SessionCorrupt(self._set_aside(path, signature, err)[1]) from None
        session._sync = SyncState.of(session, signature)
        if any(m.status == "streaming" for m in session.messages):
            self._mark_interrupted(session, path, signature)
        return session

    def _parse(self, raw: bytes, session_id: str, signature: Signature) -> Session:
        self.parse_count += 1
        mtime = datetime.fromtimestamp(signature[0] / 1e9, UTC).replace(microsecond=0)
        return codec.parse_document(raw, session_id, mtime)

    def _mark_interrupted(self, session: Session, path: Path, signature: Signature) -> None:
        """A reply still ``streaming`` whose writer no longer holds the session's streaming
        lock was cut by SIGKILL or power loss: show it, and save it next time, as an error.

        Only in memory (the base stays what is on disk, so the next write saves it). When
        the lock is held, or the file changed since it was read, nothing is marked.
        """
        with files.unless_held(self._stream_lock(session.id)) as free:
            if not free or files.signature(path) != signature:
                return  # a live writer, or it finished (or wrote) after we read: ours is stale
            for m in session.messages:
                if m.status == "streaming":
                    m.status, m.error = "error", m.error or INTERRUPTED

    def _stream_lock(self, session_id: str) -> Path:
        return files.lock_path(self.root, f"{session_id}.streaming")

    @contextmanager
    def streaming(self, session: Session) -> Iterator[None]:
        """Held (shared) by a process for as long as it streams a reply into *session*, so
        ``load`` elsewhere can tell a reply in progress from one whose process died."""
        if files.fcntl is None:
            yield
            return
        fds: list[int] = []

        def take(session_id: str) -> None:
            fds.append(files.take_shared(self._stream_lock(session_id)))

        try:
            with suppress(OSError):  # the first save will say what is wrong with the folder
                take(session.id)
            self._streams[id(session)] = lambda: take(session.id)
            yield
        finally:
            self._streams.pop(id(session), None)
            for fd in fds:
                os.close(fd)  # closing releases the lock

    def resolve(self, prefix: str) -> str:
        """The id of the one saved conversation whose id is, or starts with, *prefix*."""
        self.path(prefix)  # refuses what could never be an id (a path, an empty string)
        if self.path(prefix).exists():
            return prefix
        matches = sorted(f.id for f in files.scan(self.root) if f.id.startswith(prefix))
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise errors.SessionNotFound(f"no saved conversation {prefix} ({self.path(prefix)})")
        shown = ", ".join(matches[:10]) + (
            f" and {len(matches) - 10} more" if len(matches) > 10 else ""
        )
        raise errors.SessionAmbiguous(
            f"{prefix} matches {len(matches)} conversations: {shown}; give more of the id"
        )

    def _set_aside(
        self, path: Path, signature: Signature, err: Invalid, *, locked: bool = False
    ) -> tuple[bool, str]:
        """Move a corrupt file to corrupt/ unless it changed meanwhile: (moved, report)."""
        reason = one_line(str(err), 160)
        with suppress(OSError), self._locked(path.stem, already=locked):
            if files.signature(path) == signature:  # not rewritten since we read it
                where = files.move_without_overwrite(path, self.root / "corrupt")
                return True, f"{path} could not be read ({reason}); moved to {where}"
        return False, f"{path} could not be read ({reason}); left in place"

    # -- writing --------------------------------------------------------------------------
    def save(self, session: Session) -> None:
        """The whole session, e.g. after a rename, a model change or a removed exchange."""
        self._commit(session, set())

    def append(self, session: Session, message: Message) -> None:
        put(session.messages, message)
        session.updated = now()
        self._commit(session, {message.id})

    def update_message(self, session: Session, message: Message) -> None:
        put(session.messages, message)
        session.updated = now()
        self._commit(session, {message.id})

    def rename(self, session_id: str, title: str) -> None:
        session = self.load(session_id)
        session.title = title
        self.save(session)

    def export(self, session_id: str) -> Path:
        """Write the conversation as Markdown to ``<data>/exports/<id>.md`` and return the
        path (atomic, 0600, never through a symlink: see export.write_export)."""
        path = self.root.parent / "exports" / f"{Path(session_id).name}.md"
        export.write_export(path, export.export_markdown(self.load(session_id)))
        return path

    def delete(self, session_id: str) -> Path:
        """Move the file to ``ROOT/trash/`` and return where it went."""
        path = self.path(session_id)
        missing = errors.SessionNotFound(f"no saved conversation {session_id} ({path})")
        if not path.exists():
            raise missing
        try:
            with self._locked(session_id):
                return files.move_without_overwrite(path, self.root / "trash")
        except FileNotFoundError:
            raise missing from None
        except OSError as err:
            raise errors.SessionError(
                f"could not move {path} to the trash: {files.reason(err)}"
            ) from err

    def _commit(self, session: Session, targets: set[str]) -> None:
        while True:
            path = self.path(session.id)
            try:
                with self._locked(session.id):
                    if not (session._sync and session._sync.fresh and path.exists()):
                        self._write(session, path, targets)
                        return
            except OSError as err:
                raise errors.SessionError(f"could not save {path}: {files.reason(err)}") from err
            # Made by new() and never saved, yet its id is taken (two sessions in one second
            # with the same random tail): better a new id than two conversations merged.
            session.id = new_session_id()
            if (relock := self._streams.get(id(session))) is not None:
                with suppress(OSError):
                    relock()

    def _write(self, session: Session, path: Path, targets: set[str]) -> None:
        """Under the lock: merge if somebody else wrote since we last looked, then write."""
        # A Session built by hand (or by dataclasses.replace) has no record: merge with all of
        # it counting as ours rather than overwrite what is on disk.
        base = session._sync or SyncState.unknown()
        if files.signature(path) not in (None, base.signature):
            if (disk := self._read_for_merge(path, session.id)) is not None:
                merge(session, disk, base, targets)
        if not session.title:
            session.title = title_from(session.messages)
        files.write_atomic(path, codec.dump(session))
        session._sync = SyncState.of(session, files.signature(path))

    def _read_for_merge(self, path: Path, session_id: str) -> Session | None:
        try:
            raw, signature = files.read(path)
        except FileNotFoundError:  # removed by a writer that does not lock: write ours
            return None
        try:
            return self._parse(raw, session_id, signature)
        except Newer as err:
            raise errors.SessionUnsupported(_newer_line(path, err)) from None
        except Invalid as err:
            moved, report = self._set_aside(path, signature, err, locked=True)
            if not moved:
                raise errors.SessionError(f"{report}; not saved") from None
            # The conversation in memory is whole: it is written anew below.
            self.problems.append(report)
            return None

    def _sweep(self, strays: list[str]) -> None:
        """Remove the temp files of saves that died half-way (up to a session's size each).

        Every save writes its temp file under the session's lock, so a temp file whose lock
        is free belongs to nobody alive; one whose lock is held may be a save in progress.
        """
        for name in strays:
            owner = files.temp_owner(name)
            if owner and files.fcntl is not None:
                with suppress(OSError), self._locked(owner, wait=False):
                    os.unlink(self.root / name)

    @contextmanager
    def _locked(
        self, session_id: str, *, already: bool = False, wait: bool = True
    ) -> Iterator[None]:
        """The per-session lock every writer holds (flock: released if a process dies)."""
        if already:  # flock on a second descriptor would wait for ourselves
            yield
            return
        with files.exclusive(files.lock_path(self.root, session_id), wait=wait):
            yield

    def check(self) -> str | None:
        """Why the sessions folder cannot be used, in one line; None when it can (or is
        simply not there yet: the first save makes it)."""
        try:
            os.scandir(self.root).close()
        except FileNotFoundError:
            return None
        except OSError as err:
            return files.folder_problem(self.root, err)
        if not os.access(self.root, os.W_OK | os.X_OK):
            return files.folder_problem(self.root, PermissionError(errno.EACCES, "not writable"))
        return None

    # -- listing and search ---------------------------------------------------------------
    def list(self) -> list[SessionSummary]:
        """Newest ``updated`` first. Only files changed since the index was written are parsed."""
        problems: list[str] = []
        strays: list[str] = []

        def read(path: Path, session_id: str) -> Entry | None:
            return self._index_one(path, session_id, problems)

        summaries = index.listing(self.root, files.scan(self.root, strays), read, problems)
        self._sweep(strays)
        self.problems = problems  # swapped whole: the sessions screen reads it from a thread
        return summaries

    def _index_one(self, path: Path, session_id: str, problems: list[str]) -> Entry | None:
        """Parse one file for the index; None when it is gone or was set aside."""
        try:
            raw, signature = files.read(path)
        except FileNotFoundError:
            return None
        except OSError as err:
            problems.append(f"{path.name}: could not be read ({files.reason(err)}); skipped")
            return None
        try:
            session = self._parse(raw, session_id, signature)
        except Newer as err:
            problems.append(index.newer_problem(path.name, err.schema))
            return index.newer_entry(err.schema, signature)
        except Invalid as err:
            problems.append(self._set_aside(path, signature, err)[1])
            return None
        return index.entry(session, signature)

    def latest(self) -> str | None:
        """The id of the most recently updated conversation."""
        summaries = self.list()
        return summaries[0].id if summaries else None

    def search(self, text: str) -> set[str]:
        """Ids whose title or message content contains *text*, in any case."""
        return search.matching(self.root, text, files.scan(self.root), self._search_one)

    def _search_one(self, path: Path, session_id: str) -> Entry | None:
        """Parse one file for the search cache; None when it cannot be read just now. A file
        that does not parse is left where it is (the listing sets it aside)."""
        try:
            raw, signature = files.read(path)
        except OSError:
            return None
        try:
            session: Session | None = self._parse(raw, session_id, signature)
        except (Newer, Invalid):
            session = None
        return search.entry(session, signature)


def _newer_line(path: Path, err: Newer) -> str:
    return f"{path} was written by a newer chatterm ({err}); left as it is"

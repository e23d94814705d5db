"""The file system under the store: atomic private writes, moves that never overwrite, the
signature that tells whether a file changed, the session files of a folder, and locks.

Writes are atomic (temp file, fsync, rename, fsync of the folder) and mode 0600. Locks are
``flock``s, released by the kernel when their process dies, under ``ROOT/.locks``.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from stat import S_ISREG
from types import ModuleType
from typing import NamedTuple

from ..sanitize import one_line
from .errors import SessionError
from .model import ID

fcntl: ModuleType | None
try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no flock: one process at a time there
    fcntl = None

Signature = tuple[int, int, int]  # (st_mtime_ns, st_size, st_ino)
LOCKS = ".locks"
# What write_atomic leaves behind when its process dies mid-save (SIGKILL, power loss).
_TEMP = re.compile(r"\.([0-9A-Za-z_-]{1,128})\.toml\.[0-9a-f]{8}\.tmp")


# -- signatures and reading -------------------------------------------------------------------
def signature_of(st: os.stat_result) -> Signature:
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def signature(path: Path) -> Signature | None:
    try:
        return signature_of(os.stat(path))
    except FileNotFoundError:
        return None


def read(path: Path) -> tuple[bytes, Signature]:
    """The bytes and the signature of the very file they came from."""
    with open(path, "rb") as f:
        return f.read(), signature_of(os.fstat(f.fileno()))


# -- writing and moving -----------------------------------------------------------------------
def write_atomic(path: Path, data: bytes) -> None:
    """Temp file beside *path*, fsync, rename over it, fsync the folder. Mode 0600."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(tmp, flags, 0o600)
    try:
        with open(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make a rename durable. Some filesystems cannot sync a folder: the rename still stands."""
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def move_without_overwrite(source: Path, folder: Path) -> Path:
    """Move *source* into *folder*, as ``NAME.1.toml`` etc. when ``NAME.toml`` is taken."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    number = 0
    while True:
        suffix = f".{number}" if number else ""
        target = folder / f"{source.stem}{suffix}{source.suffix}"
        if _claim(source, target):
            fsync_dir(folder)
            fsync_dir(source.parent)
            return target
        number += 1


def _claim(source: Path, target: Path) -> bool:
    # link() never replaces an existing file, unlike rename(): nothing set aside is lost.
    try:
        os.link(source, target)
    except FileExistsError:
        return False
    except OSError:  # no hard links on this filesystem: check, then rename
        if target.exists():
            return False
        os.rename(source, target)
        return True
    os.unlink(source)
    return True


# -- the folder -------------------------------------------------------------------------------
def session_id_of(name: str) -> str | None:
    """The id of the session a file of this name holds, None for any other file."""
    stem, dot, ext = name.rpartition(".")
    return stem if dot and ext == "toml" and ID.fullmatch(stem) else None


def temp_owner(name: str) -> str | None:
    """The id of the session whose save left the temp file *name*, None for other files."""
    match = _TEMP.fullmatch(name)
    return match[1] if match else None


class SessionFile(NamedTuple):
    id: str
    path: Path
    stat: os.stat_result


def scan(root: Path, strays: list[str] | None = None) -> Iterator[SessionFile]:
    """The session files in *root*; names of temp files left by dead writers go into *strays*.

    Through ``Path.iterdir``, which makes each path from the folder's without parsing it
    again: with a stat per file, 5,000 of them cost a third less than ``os.scandir``.
    """
    try:
        for path in root.iterdir():
            if (session_id := session_id_of(path.name)) is not None:
                if (st := _stat(path)) is not None and S_ISREG(st.st_mode):
                    yield SessionFile(session_id, path, st)
            elif strays is not None and _TEMP.fullmatch(path.name):
                strays.append(path.name)
    except FileNotFoundError:  # nothing saved yet
        return
    except OSError as err:  # not a folder, not ours (after `sudo chatterm`), a loop
        raise SessionError(folder_problem(root, err)) from None


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except FileNotFoundError:  # removed since the folder was read
        return None


def reason(err: OSError) -> str:
    return one_line(err.strerror or str(err), 160)


def folder_problem(root: Path, err: OSError) -> str:
    """One line naming the sessions folder, what is wrong with it, and what to do."""
    if isinstance(err, PermissionError):
        fix = f"give it back to your user (sudo chown -R $USER {root}) or set CHATTERM_DATA_DIR"
    else:
        fix = f"move aside whatever is at {root} (or above it) or set CHATTERM_DATA_DIR"
    return f"cannot read the sessions folder {root}: {reason(err)}; {fix}"


# -- locks ------------------------------------------------------------------------------------
def lock_path(root: Path, name: str) -> Path:
    """Where the lock *name* of the sessions in *root* lives (``ROOT/.locks/NAME.lock``)."""
    return root / LOCKS / f"{name}.lock"


def _open_lock(path: Path) -> int:
    """The lock file at *path*, made (with its folders, mode 0700) when missing."""
    path.parent.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


@contextmanager
def exclusive(path: Path, *, wait: bool = True) -> Iterator[None]:
    """Hold the lock at *path*; not waiting, BlockingIOError (an OSError) when it is held."""
    fd = _open_lock(path)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def take_shared(path: Path) -> int:
    """Take the lock at *path* shared, for as long as the returned descriptor stays open."""
    fd = _open_lock(path)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_SH)
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextmanager
def unless_held(path: Path) -> Iterator[bool]:
    """True when nobody holds the lock at *path* (and, inside, nobody can take it); False
    when somebody does, or when there is no way to tell (no flock, an unreadable file)."""
    if fcntl is None:
        yield False
        return
    fd: int | None = None
    free = False
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        free = True  # no lock file: nobody ever took it
    except OSError:
        pass
    try:
        yield free if fd is None else _try_lock(fd)
    finally:
        if fd is not None:
            os.close(fd)


def _try_lock(fd: int) -> bool:
    assert fcntl is not None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # BlockingIOError: held by a live process
        return False
    return True

"""Saved conversations: one TOML file per conversation, ``ROOT/ID.toml``. No Textual here.

Session files are untrusted on the way in: every string read goes through ``clean``. They
are written atomically (temp file, fsync, rename, fsync of the folder), mode 0600. Two
chatterm processes may write one conversation at once: each write holds a per-session
``flock`` and, when the file changed since this process last read or wrote it, merges by
message id instead of overwriting. A file that does not parse is moved to ``corrupt/``,
never deleted; a file from a newer schema is left alone. A save killed half-way leaves
only its temp file, which ``list`` removes once no live writer holds that session's lock.

Files written by hand are read for what they mean (see ``_parse_document``): only text that
is not TOML, or a value of an unusable type, is corrupt. A process streaming a reply holds
the session's streaming lock (``streaming``); a reply found ``streaming`` with that lock
free was cut by SIGKILL or power loss and loads as an ``error`` saying so.

Round trip: the file holds every string exactly (control characters as TOML escapes; a
lone surrogate, which UTF-8 cannot hold, becomes "?"); reading it back removes terminal
control characters and turns CRLF into LF (``clean``), since the text goes to a screen.

Layout: text of several lines is written as a multi-line literal string (``'''``), as it
is, so the file reads like the conversation and tomllib reads it with one ``str.index``
(escaped one-line strings it decodes a character at a time: 1,000 messages of 2 KB took
0.48 s, now 0.12 s); text a literal cannot hold (control characters, ``'''``) and one-line
text are one-line basic strings. Older files, with text as escaped one-line strings, read
as before.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import secrets
import tomllib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from types import ModuleType
from typing import Any

import tomli_w

from .paths import data_dir
from .sanitize import clean, one_line

fcntl: ModuleType | None
try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no flock: one process at a time there
    fcntl = None

SCHEMA = 1
STATUSES = ("complete", "cancelled", "error", "streaming")
ROLES = ("user", "assistant", "system")  # what a provider takes; other roles are kept, unsent
INTERRUPTED = "interrupted: chatterm ended while this reply was streaming"
TITLE_LIMIT = 60
INDEX_NAME = ".index.json"

_ID = re.compile(r"[0-9A-Za-z_-]{1,128}")
_TOP_KEYS = frozenset(
    ("schema", "id", "title", "created", "updated", "provider", "model", "system_prompt")
) | {"messages"}
_OPTIONAL_MESSAGE_KEYS = ("provider", "model", "status", "error")
_MESSAGE_KEYS = frozenset(("id", "role", "content", "created", *_OPTIONAL_MESSAGE_KEYS))
# Fields of the conversation itself that a concurrent writer may change (3-way merged).
_HEADER_FIELDS = ("title", "provider", "model", "system_prompt", "created", "extra")
# A table header at the start of a line in tomli_w output (its strings never span lines).
_TABLE_HEADER = re.compile(r"^(\[\[?)", re.MULTILINE)
_DECLARED_SCHEMA = re.compile(rb"^[ \t]*schema[ \t]*=[ \t]*(\d{1,9})[ \t]*(?:#.*)?\r?$", re.M)
# What a multi-line literal string cannot hold as it is: a control character other than TAB
# and LF (TOML forbids them; a CR would come back as LF), its own delimiter, or a quote
# just before the closing one (legal, but easy to misread and to get wrong).
_NOT_LITERAL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]|'''|'\Z")
_MULTI_LINE_QUOTES = re.compile(rb"'''|\"\"\"")
_SEARCHED_LINE = re.compile(r"[ \t]*(title|content)[ \t]*=[ \t]*(.*)")
# What _write_atomic leaves behind when its process dies mid-save (SIGKILL, power loss).
_SESSION_TEMP = re.compile(r"\.([0-9A-Za-z_-]{1,128})\.toml\.[0-9a-f]{8}\.tmp")

Signature = tuple[int, int, int]  # (st_mtime_ns, st_size, st_ino)


def now() -> datetime:
    """The current time as stored: UTC, whole seconds."""
    return datetime.now(UTC).replace(microsecond=0)


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
    _sync: _SyncState | None = field(default=None, init=False, repr=False, compare=False)

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


class SessionError(Exception):
    """A conversation could not be read or written; the message names the file."""


class SessionNotFound(SessionError):
    pass


class SessionCorrupt(SessionError):
    """The file did not parse and was moved aside; the message says where."""


class SessionAmbiguous(SessionNotFound):
    """An id prefix that more than one conversation starts with; the message lists them."""


class SessionUnsupported(SessionError):
    """Written by a newer chatterm (higher schema): left in place and never rewritten."""


class _Invalid(Exception):
    """Why a file is not a usable session (becomes SessionCorrupt)."""


class _Newer(Exception):
    def __init__(self, schema: int) -> None:
        super().__init__(f"schema {schema}")
        self.schema = schema


# -- merge bookkeeping ------------------------------------------------------------------------
def _fingerprint(m: Message) -> tuple[Any, ...]:
    # References, not copies: a 1 MB reply costs a pointer here, and comparing a string
    # with itself is an identity check.
    return (m.role, m.content, m.created, m.provider, m.model, m.status, m.error, dict(m.extra))


def _header(session: Session) -> tuple[Any, ...]:
    return tuple(_copied(getattr(session, name)) for name in _HEADER_FIELDS)


def _copied(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else value


@dataclass
class _SyncState:
    signature: Signature | None  # of the file as last seen; None: there was no file
    header: tuple[Any, ...]
    messages: dict[str, tuple[Any, ...]]
    fresh: bool = False  # made by new(): its id must not already be taken on disk

    @classmethod
    def of(cls, session: Session, signature: Signature | None) -> _SyncState:
        fingerprints = {m.id: _fingerprint(m) for m in session.messages}
        return cls(signature, _header(session), fingerprints)

    @classmethod
    def unknown(cls, *, fresh: bool = False) -> _SyncState:
        """Nothing seen yet: on a merge, every field and message of ours counts as changed."""
        return cls(None, tuple(object() for _ in _HEADER_FIELDS), {}, fresh)


def _merge(session: Session, disk: Session, base: _SyncState, targets: set[str]) -> None:
    """Three-way merge into *session*: what we changed since *base* wins, the rest is disk's."""
    for name, was in zip(_HEADER_FIELDS, base.header, strict=True):
        if getattr(session, name) == was:
            setattr(session, name, getattr(disk, name))
    session.updated = max(_utc(session.updated), disk.updated)
    merged = _merge_messages(session.messages, disk.messages, base.messages, targets)
    session.messages[:] = merged  # in place: callers may hold the list


def _merge_messages(
    ours: list[Message],
    disk: list[Message],
    base: dict[str, tuple[Any, ...]],
    targets: set[str],
) -> list[Message]:
    """Disk order, then ours that are not on disk; a message in both is ours if we changed it."""

    def ours_wins(m: Message) -> bool:
        return m.id in targets or base.get(m.id) != _fingerprint(m)

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


def _put(messages: list[Message], message: Message) -> None:
    """Replace the message with the same id, else append it."""
    for index in range(len(messages) - 1, -1, -1):  # from the end: that is where replies are
        if messages[index] is message or messages[index].id == message.id:
            messages[index] = message
            return
    messages.append(message)


def _title_from(messages: Iterable[Message]) -> str:
    """The first line of the first prompt, folded to one line and cut to TITLE_LIMIT."""
    first = next((m.content for m in messages if m.role == "user" and m.content.strip()), "")
    line = next((part for part in first.splitlines() if part.strip()), "")
    line = " ".join(clean(line).split())
    return line if len(line) <= TITLE_LIMIT else line[: TITLE_LIMIT - 1].rstrip() + "…"


# -- writing ----------------------------------------------------------------------------------
def _utc(when: datetime) -> datetime:
    """Aware UTC; a naive datetime is taken to be UTC already."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _iso(when: datetime) -> str:
    return _utc(when).isoformat(timespec="seconds").replace("+00:00", "Z")


def _toml_str(text: str) -> str:
    """Text of several lines as a multi-line literal string, else a one-line basic string.

    A literal string holds the text as it is, so the file reads like the conversation, and
    tomllib reads one with a single ``str.index`` where it decodes a basic string full of
    ``\\n`` escapes a character at a time (1,000 messages of 2 KB: ~0.05 s instead of ~0.5 s).
    """
    if "\n" in text and not _NOT_LITERAL.search(text):
        # TOML drops the newline right after the opening quotes: the text starts below them.
        return f"'''\n{text}'''"
    return _basic_str(text)


def _basic_str(text: str) -> str:
    # JSON's escapes are all valid TOML basic-string escapes, and json is C-fast where
    # tomli_w walks a 1 MB reply one character at a time. TOML also forbids a raw DEL.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _message_fields(m: Message) -> dict[str, Any]:
    """The keys a message is written with; empty optional ones only for assistant replies."""
    fields: dict[str, Any] = {"id": m.id, "role": m.role, "content": m.content}
    fields["created"] = _utc(m.created)
    for key in _OPTIONAL_MESSAGE_KEYS:
        if (value := getattr(m, key)) or m.role == "assistant":
            fields[key] = value
    return fields


def _header_fields(session: Session) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "id": session.id,
        "title": session.title,
        "created": _utc(session.created),
        "updated": _utc(session.updated),
        "provider": session.provider,
        "model": session.model,
        "system_prompt": session.system_prompt,
    }


def _toml_value(value: Any) -> str:
    if isinstance(value, datetime):
        return _iso(value)
    return _toml_str(value) if isinstance(value, str) else str(value)  # str: the schema number


def _toml_lines(fields: dict[str, Any]) -> str:
    return "".join(f"{key} = {_toml_value(value)}\n" for key, value in fields.items())


def _extra(extra: dict, known: frozenset[str]) -> dict:
    return {k: v for k, v in extra.items() if k not in known}


def _dump(session: Session) -> bytes:
    parts = [_toml_lines(_header_fields(session))]
    if extra := _extra(session.extra, _TOP_KEYS):
        parts.append(tomli_w.dumps(extra))
    for m in session.messages:
        parts.append("\n[[messages]]\n" + _toml_lines(_message_fields(m)))
        if extra := _extra(m.extra, _MESSAGE_KEYS):
            # Unknown tables inside a message: tomli_w writes them as top-level tables, so
            # their headers are re-rooted under the message just opened.
            parts.append(_TABLE_HEADER.sub(r"\1messages.", tomli_w.dumps(extra)))
    # A lone surrogate cannot be stored in TOML; it becomes "?" rather than failing the save.
    return "".join(parts).encode("utf-8", "replace")


def _write_atomic(path: Path, data: bytes) -> None:
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
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable. Some filesystems cannot sync a folder: the rename still stands."""
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _move_without_overwrite(source: Path, folder: Path) -> Path:
    """Move *source* into *folder*, as ``NAME.1.toml`` etc. when ``NAME.toml`` is taken."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    number = 0
    while True:
        suffix = f".{number}" if number else ""
        target = folder / f"{source.stem}{suffix}{source.suffix}"
        if _claim(source, target):
            _fsync_dir(folder)
            _fsync_dir(source.parent)
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


# -- reading ----------------------------------------------------------------------------------
def _signature_of(st: os.stat_result) -> Signature:
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _signature(path: Path) -> Signature | None:
    try:
        return _signature_of(os.stat(path))
    except FileNotFoundError:
        return None


def _read(path: Path) -> tuple[bytes, Signature]:
    """The bytes and the signature of the very file they came from."""
    with open(path, "rb") as f:
        return f.read(), _signature_of(os.fstat(f.fileno()))


def _parse_document(raw: bytes, session_id: str, mtime: datetime) -> Session:
    """Raises _Newer for a later schema, _Invalid for anything else unusable.

    Reads what a person writes by hand: no ``schema`` means 1; a missing id is made up
    (the same one every time the file is read); a missing time comes from the messages
    around it, else from the file's mtime.
    """
    doc = _decode(raw)
    if "schema" not in doc and "messages" not in doc:  # e.g. empty: a save cut at its start
        raise _Invalid("not a conversation: no schema and no [[messages]]")
    schema = doc.get("schema", SCHEMA)
    if type(schema) is not int:
        raise _Invalid("schema: not a whole number")
    if schema > SCHEMA:
        raise _Newer(schema)
    if schema < 1:
        raise _Invalid(f"schema: unknown version {schema}")
    try:
        return _build(doc, session_id, mtime)
    except OverflowError as err:  # e.g. year 1 at +01:00 has no UTC equivalent
        raise _Invalid(f"a date is out of range: {err}") from None


def _decode(raw: bytes) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
        return tomllib.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as err:
        # A newer chatterm might use syntax we cannot read: that is not corruption.
        # Only above the first multi-line string: a line of a message is not a key.
        head = _MULTI_LINE_QUOTES.split(raw, 1)[0]
        if (declared := _DECLARED_SCHEMA.search(head)) and int(declared[1]) > SCHEMA:
            raise _Newer(int(declared[1])) from None
        reason = "nested too deeply" if isinstance(err, RecursionError) else str(err)
        raise _Invalid(f"not valid TOML: {reason}") from None


def _build(doc: dict[str, Any], session_id: str, mtime: datetime) -> Session:
    _text(doc, "id", "", default="")  # checked, but the file name is what identifies a session
    created, updated = _when(doc, "created", ""), _when(doc, "updated", "")
    messages = _parse_messages(doc.get("messages", []), created or updated or mtime)
    created = created or (messages[0].created if messages else None) or updated or mtime
    updated = updated or max([created, *(m.created for m in messages)])
    return Session(
        id=session_id,
        title=_text(doc, "title", "", default=""),
        created=created,
        updated=updated,
        provider=_text(doc, "provider", "", default=""),
        model=_text(doc, "model", "", default=""),
        system_prompt=_text(doc, "system_prompt", "", default=""),
        messages=messages,
        extra=_extra(doc, _TOP_KEYS),
    )


def _parse_messages(items: Any, start: datetime) -> list[Message]:
    if not isinstance(items, list) or not all(isinstance(t, dict) for t in items):
        raise _Invalid("messages: expected [[messages]] tables")
    messages = [_parse_message(table, i) for i, table in enumerate(items)]
    # A message without a time gets the one before it (or, at the start, the first one
    # given, else the conversation's): the order on screen stays the order in the file.
    known = next((m.created for m in messages if m.created is not None), start)
    for m in messages:
        if m.created is None:
            m.created = known
        known = m.created
    seen: set[str] = set()
    for m in messages:  # a copied block in a hand edit: keep both, apart
        if m.id in seen:
            m.id = new_message_id()
        seen.add(m.id)
    return messages


def _parse_message(table: dict, index: int) -> Message:
    where = f"messages[{index}]."
    # Any role is kept and shown as it is ("tool", ...); history() sends only ROLES.
    role = _text(table, "role", where)
    if not role:
        raise _Invalid(f"{where}role: empty")
    content = _text(table, "content", where, default="")
    return Message(
        role=role,
        content=content,
        created=_when(table, "created", where),  # type: ignore[arg-type]  # None: filled in
        id=_text(table, "id", where, default="") or _made_up_id(index, role, content),
        provider=_text(table, "provider", where, default=""),
        model=_text(table, "model", where, default=""),
        status=_text(table, "status", where, default=""),
        error=_text(table, "error", where, default=""),
        extra=_extra(table, _MESSAGE_KEYS),
    )


def _made_up_id(index: int, role: str, content: str) -> str:
    """For a hand-written message without one: the same on every read of the file."""
    digest = hashlib.blake2b(f"{index}\0{role}\0{content}".encode(errors="replace"), digest_size=6)
    return f"m-{digest.hexdigest()}"


def _text(table: dict, key: str, where: str, default: str | None = None) -> str:
    value = table.get(key, default)
    if value is None:
        raise _Invalid(f"{where}{key}: missing")
    if not isinstance(value, str):
        raise _Invalid(f"{where}{key}: expected a string")
    return clean(value)


def _when(table: dict, key: str, where: str) -> datetime | None:
    """A TOML date or date-time as aware UTC; None when missing.

    A date alone is midnight UTC; a local date-time (no offset) is taken to be UTC, which
    is what chatterm writes.
    """
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time(), UTC)
    if not isinstance(value, datetime):
        raise _Invalid(f"{where}{key}: expected a date and time")
    return _utc(value)


# -- the index: what list() shows, without parsing every file every time ----------------------
def _index_entry(session: Session, signature: Signature) -> dict[str, Any]:
    mtime_ns, size, ino = signature
    return {
        "title": session.title,
        "provider": session.provider,
        "model": session.model,
        "created": _iso(session.created),
        "updated": _iso(session.updated),
        "count": len(session.messages),
        "mtime_ns": mtime_ns,
        "size": size,
        "ino": ino,
    }


def _is_current(entry: Any, st: os.stat_result) -> bool:
    if not isinstance(entry, dict):
        return False
    return [entry.get("mtime_ns"), entry.get("size"), entry.get("ino")] == list(_signature_of(st))


def _summary(session_id: str, entry: dict[str, Any], path: Path) -> SessionSummary | None:
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
            created=_utc(datetime.fromisoformat(created)),
            updated=_utc(datetime.fromisoformat(updated)),
            count=count,
            path=path,
        )
    except (KeyError, ValueError, OverflowError):
        return None


def _session_id_of(name: str) -> str | None:
    stem, dot, ext = name.rpartition(".")
    return stem if dot and ext == "toml" and _ID.fullmatch(stem) else None


# -- search -----------------------------------------------------------------------------------
def _mentions(doc: str, needle: str, escaped: str) -> bool:
    """Whether a title or message content in the TOML text *doc* contains *needle*.

    A text scan: only the values where the (casefolded) needle occurs are looked at, so a
    search through thousands of conversations parses next to nothing.
    """
    folded = doc.casefold()  # never adds or removes a newline or a quote: lines stay lines
    if needle not in folded and escaped not in folded:
        return False
    if '"""' in doc:  # hand-written multi-line basic strings: lines are not values
        return _mentions_parsed(doc, needle)
    for pattern in {needle, escaped}:
        start = folded.find(pattern)
        while start != -1:
            block = _literal_around(folded, start)
            if block is not None:  # inside text of several lines (a literal string)
                key_line, text_start, text_end = block
                if pattern == needle and start + len(needle) <= text_end:
                    line_start = folded.rfind("\n", 0, key_line) + 1
                    if _searched(folded, line_start, text_start - 1):
                        return True
                start = folded.find(pattern, text_end)
                continue
            line_start = folded.rfind("\n", 0, start) + 1
            line_end = folded.find("\n", start)
            line_end = len(folded) if line_end == -1 else line_end
            if _line_mentions(folded, line_start, line_end, needle):
                return True
            start = folded.find(pattern, line_end)
    return False


_LITERAL_OPENER = " = '''\n"


def _literal_around(folded: str, position: int) -> tuple[int, int, int] | None:
    """(where its key line ends, where its text starts, where it ends) of the multi-line
    literal string *position* is in, or None when it is in none.

    The nearest opener before *position* is the only candidate: literal text holds no
    ``'''`` and a one-line string no newline, so no opener can sit inside either.
    """
    opener = folded.rfind(_LITERAL_OPENER, 0, position)
    if opener == -1:
        return None
    text_start = opener + len(_LITERAL_OPENER)
    text_end = folded.find("'''", text_start)
    if text_end == -1 or position >= text_end or position < text_start:
        return None
    return opener, text_start, text_end


def _searched(folded: str, start: int, end: int) -> re.Match[str] | None:
    """The line from *start* to *end* if it sets a title or a message's content."""
    match = _SEARCHED_LINE.fullmatch(folded, start, end)
    if not match:
        return None
    wanted = {"": "title", "[[messages]]": "content"}.get(_section(folded, start))
    return match if match[1] == wanted else None


def _line_mentions(folded: str, start: int, end: int, needle: str) -> bool:
    if not (match := _searched(folded, start, end)):
        return False
    key, source, line = match[1], match[2], match[0]
    try:
        value = json.loads(source)  # how we write strings: C-fast
    except ValueError:
        try:
            value = tomllib.loads(line).get(key)  # other TOML string forms, trailing comments
        except tomllib.TOMLDecodeError:
            return False
    return isinstance(value, str) and needle in value.casefold()


def _section(folded: str, line_start: int) -> str:
    """The table header the line at *line_start* sits under ("" at the top level)."""
    header = folded.rfind("\n[", 0, line_start)
    # A line of text that starts with "[" (a Markdown link) is no header: look above it.
    while header != -1 and (block := _literal_around(folded, header + 1)) is not None:
        header = folded.rfind("\n[", 0, block[0])
    if header == -1:
        if line_start == 0 or not folded.startswith("["):
            return ""
    header_end = folded.find("\n", header + 1)
    return folded[header + 1 : header_end].strip()


def _mentions_parsed(doc: str, needle: str) -> bool:
    try:
        parsed = tomllib.loads(doc)
    except tomllib.TOMLDecodeError:
        return False
    texts = [parsed.get("title")]
    messages = parsed.get("messages")
    if isinstance(messages, list):
        texts += [m.get("content") for m in messages if isinstance(m, dict)]
    return any(isinstance(t, str) and needle in t.casefold() for t in texts)


# -- the store --------------------------------------------------------------------------------
class SessionStore:
    """Conversations under *root*, which is created (mode 0700) on the first write."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.problems: list[str] = []
        self.parse_count = 0  # files parsed so far: how tests prove the warm paths parse none
        # Sessions this process streams into: re-lock if a first save gives one a new id.
        self._streams: dict[int, Callable[[], None]] = {}

    def path(self, session_id: str) -> Path:
        if not isinstance(session_id, str) or not _ID.fullmatch(session_id):
            raise SessionNotFound(f"no saved conversation {one_line(repr(session_id), 80)}")
        return self.root / f"{session_id}.toml"

    def new(self, provider: str, model: str, system_prompt: str = "") -> Session:
        """In memory only: the file appears with the first append."""
        created = now()
        session = Session(new_session_id(), "", created, created, provider, model, system_prompt)
        session._sync = _SyncState.unknown(fresh=True)
        return session

    # -- reading --------------------------------------------------------------------------
    def load(self, session_id: str) -> Session:
        path = self.path(session_id)
        try:
            raw, signature = _read(path)
        except FileNotFoundError:
            raise SessionNotFound(f"no saved conversation {session_id} ({path})") from None
        except OSError as err:
            if not os.path.isdir(self.root) or not os.access(self.root, os.R_OK | os.X_OK):
                # the folder, not the file (a file in its place, a loop, root's after sudo)
                raise SessionError(folder_problem(self.root, err)) from err
            raise SessionError(f"could not read {path}: {_reason(err)}") from err
        try:
            session = self._parse(raw, session_id, signature)
        except _Newer as err:
            raise SessionUnsupported(_newer_line(path, err)) from None
        except _Invalid as err:
            raise SessionCorrupt(self._set_aside(path, signature, err)[1]) from None
        session._sync = _SyncState.of(session, signature)
        if any(m.status == "streaming" for m in session.messages):
            self._mark_interrupted(session, path, signature)
        return session

    def _parse(self, raw: bytes, session_id: str, signature: Signature) -> Session:
        self.parse_count += 1
        mtime = datetime.fromtimestamp(signature[0] / 1e9, UTC).replace(microsecond=0)
        return _parse_document(raw, session_id, mtime)

    def _mark_interrupted(self, session: Session, path: Path, signature: Signature) -> None:
        """A reply still ``streaming`` whose writer no longer holds the session's streaming
        lock was cut by SIGKILL or power loss: show it, and save it next time, as an error.

        Only in memory (the base stays what is on disk, so the next write saves it). When
        the lock is held, or the file changed since it was read, nothing is marked.
        """
        if fcntl is None:  # no flock: no way to tell a live writer from a dead one
            return
        try:
            fd = os.open(self._stream_lock(session.id), os.O_RDONLY)
        except FileNotFoundError:
            fd = None  # nobody ever streamed here with this chatterm: nobody is now
        except OSError:
            return
        try:
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if _signature(path) != signature:
                return  # the writer finished (or wrote) after we read: our copy is stale
            for m in session.messages:
                if m.status == "streaming":
                    m.status, m.error = "error", m.error or INTERRUPTED
        except OSError:  # BlockingIOError: a live process is streaming this reply
            return
        finally:
            if fd is not None:
                os.close(fd)

    def _stream_lock(self, session_id: str) -> Path:
        return self.root / ".locks" / f"{session_id}.streaming.lock"

    @contextmanager
    def streaming(self, session: Session) -> Iterator[None]:
        """Held (shared) by a process for as long as it streams a reply into *session*, so
        ``load`` elsewhere can tell a reply in progress from one whose process died."""
        if fcntl is None:
            yield
            return
        fds: list[int] = []

        def take(session_id: str) -> None:
            self._locks_folder()
            fd = os.open(self._stream_lock(session_id), os.O_RDWR | os.O_CREAT, 0o600)
            fds.append(fd)
            fcntl.flock(fd, fcntl.LOCK_SH)

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
        matches = sorted(
            name[: -len(".toml")]
            for entry in self._session_entries()
            if (name := entry.name).startswith(prefix)
        )
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise SessionNotFound(f"no saved conversation {prefix} ({self.path(prefix)})")
        shown = ", ".join(matches[:10]) + (
            f" and {len(matches) - 10} more" if len(matches) > 10 else ""
        )
        raise SessionAmbiguous(
            f"{prefix} matches {len(matches)} conversations: {shown}; give more of the id"
        )

    def _set_aside(
        self, path: Path, signature: Signature, err: _Invalid, *, locked: bool = False
    ) -> tuple[bool, str]:
        """Move a corrupt file to corrupt/ unless it changed meanwhile: (moved, report)."""
        reason = one_line(str(err), 160)
        with suppress(OSError), self._locked(path.stem, already=locked):
            if _signature(path) == signature:  # not rewritten since we read it
                where = _move_without_overwrite(path, self.root / "corrupt")
                return True, f"{path} could not be read ({reason}); moved to {where}"
        return False, f"{path} could not be read ({reason}); left in place"

    # -- writing --------------------------------------------------------------------------
    def save(self, session: Session) -> None:
        """The whole session, e.g. after a rename, a model change or a removed exchange."""
        self._commit(session, set())

    def append(self, session: Session, message: Message) -> None:
        _put(session.messages, message)
        session.updated = now()
        self._commit(session, {message.id})

    def update_message(self, session: Session, message: Message) -> None:
        _put(session.messages, message)
        session.updated = now()
        self._commit(session, {message.id})

    def rename(self, session_id: str, title: str) -> None:
        session = self.load(session_id)
        session.title = title
        self.save(session)

    def delete(self, session_id: str) -> Path:
        """Move the file to ``ROOT/trash/`` and return where it went."""
        path = self.path(session_id)
        missing = SessionNotFound(f"no saved conversation {session_id} ({path})")
        if not path.exists():
            raise missing
        try:
            with self._locked(session_id):
                return _move_without_overwrite(path, self.root / "trash")
        except FileNotFoundError:
            raise missing from None
        except OSError as err:
            raise SessionError(f"could not move {path} to the trash: {_reason(err)}") from err

    def _commit(self, session: Session, targets: set[str]) -> None:
        while True:
            path = self.path(session.id)
            try:
                with self._locked(session.id):
                    if not (session._sync and session._sync.fresh and path.exists()):
                        self._write(session, path, targets)
                        return
            except OSError as err:
                raise SessionError(f"could not save {path}: {_reason(err)}") from err
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
        base = session._sync or _SyncState.unknown()
        if _signature(path) not in (None, base.signature):
            if (disk := self._read_for_merge(path, session.id)) is not None:
                _merge(session, disk, base, targets)
        if not session.title:
            session.title = _title_from(session.messages)
        _write_atomic(path, _dump(session))
        session._sync = _SyncState.of(session, _signature(path))

    def _read_for_merge(self, path: Path, session_id: str) -> Session | None:
        try:
            raw, signature = _read(path)
        except FileNotFoundError:  # removed by a writer that does not lock: write ours
            return None
        try:
            return self._parse(raw, session_id, signature)
        except _Newer as err:
            raise SessionUnsupported(_newer_line(path, err)) from None
        except _Invalid as err:
            moved, report = self._set_aside(path, signature, err, locked=True)
            if not moved:
                raise SessionError(f"{report}; not saved") from None
            # The conversation in memory is whole: it is written anew below.
            self.problems.append(report)
            return None

    def _sweep(self, strays: list[str]) -> None:
        """Remove the temp files of saves that died half-way (up to a session's size each).

        Every save writes its temp file under the session's lock, so a temp file whose lock
        is free belongs to nobody alive; one whose lock is held may be a save in progress.
        """
        for name in strays:
            match = _SESSION_TEMP.fullmatch(name)
            if match and fcntl is not None:
                with suppress(OSError), self._locked(match[1], wait=False):
                    os.unlink(self.root / name)

    @contextmanager
    def _locked(
        self, session_id: str, *, already: bool = False, wait: bool = True
    ) -> Iterator[None]:
        """The per-session lock every writer holds (flock: released if a process dies)."""
        if already:  # flock on a second descriptor would wait for ourselves
            yield
            return
        folder = self._locks_folder()
        fd = os.open(folder / f"{session_id}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:  # not waiting: BlockingIOError (an OSError) when held
                fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _locks_folder(self) -> Path:
        folder = self.root / ".locks"
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.mkdir(mode=0o700, exist_ok=True)
        return folder

    def check(self) -> str | None:
        """Why the sessions folder cannot be used, in one line; None when it can (or is
        simply not there yet: the first save makes it)."""
        try:
            os.scandir(self.root).close()
        except FileNotFoundError:
            return None
        except OSError as err:
            return folder_problem(self.root, err)
        if not os.access(self.root, os.W_OK | os.X_OK):
            return folder_problem(self.root, PermissionError(errno.EACCES, "not writable"))
        return None

    # -- listing --------------------------------------------------------------------------
    def list(self) -> list[SessionSummary]:
        """Newest ``updated`` first. Only files changed since the index was written are parsed."""
        problems: list[str] = []
        index = self._read_index()
        fresh: dict[str, dict[str, Any]] = {}
        summaries: list[SessionSummary] = []
        strays: list[str] = []
        for entry in self._session_entries(strays):
            session_id = entry.name[: -len(".toml")]
            summary = self._list_one(entry, index.get(session_id), fresh, problems)
            if summary is not None:
                summaries.append(summary)
        if fresh != index:
            with suppress(OSError):  # a read-only folder still lists; the next run re-parses
                _write_atomic(self.root / INDEX_NAME, json.dumps(fresh).encode())
        self._sweep(strays)
        self.problems = problems  # swapped whole: the sessions screen reads it from a thread
        summaries.sort(key=lambda s: (s.updated, s.id), reverse=True)
        return summaries

    def _list_one(
        self,
        entry: os.DirEntry[str],
        cached: Any,
        fresh: dict[str, dict[str, Any]],
        problems: list[str],
    ) -> SessionSummary | None:
        session_id, path = entry.name[: -len(".toml")], Path(entry.path)
        try:
            st = entry.stat()
        except FileNotFoundError:
            return None
        if _is_current(cached, st):
            if "newer" in cached:
                fresh[session_id] = cached
                problems.append(_newer_problem(entry.name, cached["newer"]))
                return None
            if (summary := _summary(session_id, cached, path)) is not None:
                fresh[session_id] = cached
                return summary
        if (parsed := self._index_one(path, session_id, problems)) is None:
            return None
        fresh[session_id] = parsed
        if "newer" in parsed:
            return None
        return _summary(session_id, parsed, path)

    def _index_one(self, path: Path, session_id: str, problems: list[str]) -> dict | None:
        """Parse one file for the index; None when it is gone or was set aside."""
        try:
            raw, signature = _read(path)
        except FileNotFoundError:
            return None
        except OSError as err:
            problems.append(f"{path.name}: could not be read ({_reason(err)}); skipped")
            return None
        try:
            session = self._parse(raw, session_id, signature)
        except _Newer as err:
            problems.append(_newer_problem(path.name, err.schema))
            mtime_ns, size, ino = signature
            return {"newer": err.schema, "mtime_ns": mtime_ns, "size": size, "ino": ino}
        except _Invalid as err:
            problems.append(self._set_aside(path, signature, err)[1])
            return None
        return _index_entry(session, signature)

    def _session_entries(self, strays: list[str] | None = None) -> Iterator[os.DirEntry[str]]:
        """The session files; names of temp files left by dead writers go into *strays*."""
        try:
            with os.scandir(self.root) as entries:
                for entry in entries:
                    if _session_id_of(entry.name) and entry.is_file():
                        yield entry
                    elif strays is not None and _SESSION_TEMP.fullmatch(entry.name):
                        strays.append(entry.name)
        except FileNotFoundError:  # nothing saved yet
            return
        except OSError as err:  # not a folder, not ours (after `sudo chatterm`), a loop
            raise SessionError(folder_problem(self.root, err)) from None

    def _read_index(self) -> dict[str, Any]:
        try:
            index = json.loads((self.root / INDEX_NAME).read_bytes())
        except (OSError, ValueError, RecursionError):  # missing or damaged: rebuilt from files
            return {}
        return index if isinstance(index, dict) else {}

    def latest(self) -> str | None:
        """The id of the most recently updated conversation."""
        summaries = self.list()
        return summaries[0].id if summaries else None

    def search(self, text: str) -> set[str]:
        """Ids whose title or message content contains *text*, in any case."""
        needle = text.casefold()
        escaped = _basic_str(text)[1:-1].casefold()  # how the needle looks inside a TOML string
        hits: set[str] = set()
        for entry in self._session_entries():
            try:
                doc = Path(entry.path).read_bytes().decode("utf-8", "replace")
            except OSError:
                continue
            if not needle or _mentions(doc, needle, escaped):
                hits.add(entry.name[: -len(".toml")])
        return hits


def folder_problem(root: Path, err: OSError) -> str:
    """One line naming the sessions folder, what is wrong with it, and what to do."""
    reason = _reason(err)
    if isinstance(err, PermissionError):
        fix = f"give it back to your user (sudo chown -R $USER {root}) or set CHATTERM_DATA_DIR"
    else:
        fix = f"move aside whatever is at {root} (or above it) or set CHATTERM_DATA_DIR"
    return f"cannot read the sessions folder {root}: {reason}; {fix}"


def _reason(err: OSError) -> str:
    return one_line(err.strerror or str(err), 160)


def _newer_problem(name: str, schema: Any) -> str:
    return f"{name}: written by a newer chatterm (schema {one_line(str(schema), 20)}); skipped"


def _newer_line(path: Path, err: _Newer) -> str:
    return f"{path} was written by a newer chatterm ({err}); left as it is"


# -- export -----------------------------------------------------------------------------------
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
        _write_atomic(path, text.encode("utf-8", "replace"))
    except OSError as err:
        raise SessionError(f"could not write {path}: {_reason(err)}") from err


def _heading(m: Message) -> str:
    who = "/".join(part for part in (m.provider, m.model) if part)
    details = ", ".join(part for part in (who, m.status) if part)
    return f"{m.role} ({details})" if details else m.role


def export_json(session: Session) -> str:
    doc = {**_header_fields(session), **_extra(session.extra, _TOP_KEYS)}
    doc["messages"] = [
        {**_message_fields(m), **_extra(m.extra, _MESSAGE_KEYS)} for m in session.messages
    ]
    return json.dumps(doc, ensure_ascii=False, indent=2, default=_json_value)


def _json_value(value: Any) -> str:
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def default_root() -> Path:
    """``$CHATTERM_DATA_DIR/sessions``, else the platform's data folder (XDG on Linux)."""
    return data_dir() / "sessions"

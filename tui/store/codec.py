"""A session as TOML and back: the layout chatterm writes, and reading any file for what it
means, including files written by hand or by another tool.

Layout: text of several lines is written as a multi-line literal string (``'''``), as it
is, so the file reads like the conversation; text a literal cannot hold (control
characters, ``'''``) and one-line text are one-line basic strings. Unknown keys, of the
conversation or of a message, are kept and written back (through tomli-w). The files sent
with a prompt follow it as ``[[messages.attachments]]`` tables (see ``model.Attachment``).

Reading: ``fast_toml`` reads the lines chatterm and tomli-w write; whatever it does not take
goes to tomllib, the reference. Every string read goes through ``clean`` (the text goes to
a screen): terminal control characters are removed and CRLF becomes LF. Hand-written files
are read for what they mean: no ``schema`` means 1; a missing id is made up (the same one
every time the file is read); a missing time comes from the messages around it, else from
the file's mtime. Only text that is not TOML, or a value of an unusable type, is corrupt.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
from datetime import UTC, date, datetime, time
from typing import Any

import tomli_w

from ..sanitize import clean
from . import fast_toml, upgrades
from .errors import Invalid, Newer
from .model import Attachment, Message, Session, iso, new_message_id, utc

TOP_KEYS = frozenset(
    ("schema", "id", "title", "created", "updated", "provider", "model", "system_prompt")
) | {"messages", "alternatives"}
OPTIONAL_MESSAGE_KEYS = ("provider", "model", "status", "error")
# A reply's extras (model.Message): written only when set. A key of one of these names with
# a value of another type (a hand-written file, another tool) is somebody's own: kept.
PART_TEXT_KEYS = ("reasoning", "finish")
PART_COUNT_KEYS = ("input_tokens", "output_tokens", "reasoning_tokens")
PART_KEYS = frozenset((*PART_TEXT_KEYS, *PART_COUNT_KEYS))
MESSAGE_KEYS = frozenset(("id", "role", "content", "created", "parent", *OPTIONAL_MESSAGE_KEYS))
# [[messages.attachments]] tables: the files sent with a prompt (model.Attachment). A key of
# that name holding anything else (``attachments = ["x.png"]``) is somebody's own: kept.
ATTACHMENTS = frozenset(("attachments",))
ATTACHMENT_KEYS = frozenset(("name", "path", "size", "sha256", "chars", "mime"))
# The conversation's own generation parameters (Session.params): a ``[params]`` table,
# written only when one is set. The names of tui/providers/settings.py's GENERATION_PARAMS
# (the store imports nothing of the providers); a key is a number, max_tokens and seed
# whole ones. A [params] table that is not all of those is somebody's own: kept as it is.
PARAMS = "params"
PARAM_NUMBERS = {
    "temperature": (int, float),
    "top_p": (int, float),
    "max_tokens": (int,),
    "seed": (int,),
}
# A table header at the start of a line in tomli_w output (its strings never span lines).
_TABLE_HEADER = re.compile(r"^(\[\[?)", re.MULTILINE)
_DECLARED_SCHEMA = re.compile(rb"^[ \t]*schema[ \t]*=[ \t]*(\d{1,9})[ \t]*(?:#.*)?\r?$", re.M)
# What a multi-line literal string cannot hold as it is: a control character other than TAB
# and LF (TOML forbids them; a CR would come back as LF), its own delimiter, or a quote
# just before the closing one (legal, but easy to misread and to get wrong).
_NOT_LITERAL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]|'''|'\Z")
_MULTI_LINE_QUOTES = re.compile(rb"'''|\"\"\"")


# -- writing ----------------------------------------------------------------------------------
def dump(session: Session) -> bytes:
    """The file for *session*: its header keys, unknown keys, then one table per message."""
    parts = [_toml_lines(header_fields(session))]
    if extra := unknown_keys(session.extra, _top_keys(session)):
        parts.append(tomli_w.dumps(extra))
    if session.params:  # after every top-level key: a table header ends them
        parts.append("\n" + tomli_w.dumps({PARAMS: session.params}))
    # The path on screen reads as the conversation; what is off it follows, each naming
    # the message it follows.
    for array, messages in (("messages", session.messages), ("alternatives", session.alternatives)):
        for m in messages:
            fields = message_fields(m)
            if array == "alternatives":
                fields["parent"] = m.parent
            parts.append(f"\n[[{array}]]\n" + _toml_lines(fields))
            if extra := message_extra(m):
                # Unknown tables inside a message: tomli_w writes them as top-level tables,
                # so their headers are re-rooted under the message just opened.
                parts.append(_TABLE_HEADER.sub(rf"\1{array}.", tomli_w.dumps(extra)))
            parts += attachment_tables(array, m)
    # A lone surrogate cannot be stored in TOML; it becomes "?" rather than failing the save.
    return "".join(parts).encode("utf-8", "replace")


def header_fields(session: Session) -> dict[str, Any]:
    return {
        "schema": upgrades.SCHEMA,
        "id": session.id,
        "title": session.title,
        "created": utc(session.created),
        "updated": utc(session.updated),
        "provider": session.provider,
        "model": session.model,
        "system_prompt": session.system_prompt,
    }


def _top_keys(session: Session) -> frozenset[str]:
    """The top-level keys *session* writes itself: an unknown ``params`` gives way to its
    own parameters, when it has some."""
    return TOP_KEYS | {PARAMS} if session.params else TOP_KEYS


def message_fields(m: Message) -> dict[str, Any]:
    """The keys a message is written with; empty optional ones only for assistant replies."""
    fields: dict[str, Any] = {"id": m.id, "role": m.role, "content": m.content}
    fields["created"] = utc(m.created)
    for key in OPTIONAL_MESSAGE_KEYS:
        if (value := getattr(m, key)) or m.role == "assistant":
            fields[key] = value
    if m.reasoning:
        fields["reasoning"] = m.reasoning
    for key in PART_COUNT_KEYS:
        if (count := getattr(m, key)) is not None:
            fields[key] = count
    if m.finish:
        fields["finish"] = m.finish
    return fields


def message_extra(m: Message) -> dict:
    """The unknown keys of *m* to write (a key named attachments gives way to its files)."""
    known = MESSAGE_KEYS | _parts_set(m)
    return unknown_keys(m.extra, known | ATTACHMENTS if m.attachments else known)


def _parts_set(m: Message) -> frozenset[str]:
    """The part keys *m* writes itself: an unknown key of that name gives way to them."""
    return frozenset(k for k in PART_KEYS if getattr(m, k) not in ("", None))


def attachment_fields(a: Attachment) -> dict[str, Any]:
    fields = {"name": a.name, "path": a.path, "size": a.size, "sha256": a.sha256, "chars": a.chars}
    return fields | {"mime": a.mime} if a.mime else fields  # an image's type (tui/images.py)


def attachment_tables(array: str, m: Message) -> list[str]:
    """One ``[[ARRAY.attachments]]`` table per file sent with *m* (after its own keys and
    tables: a header ends the message's keys)."""
    parts = []
    for a in m.attachments:
        parts.append(f"\n[[{array}.attachments]]\n" + _toml_lines(attachment_fields(a)))
        if extra := unknown_keys(a.extra, ATTACHMENT_KEYS):
            parts.append(_TABLE_HEADER.sub(rf"\1{array}.attachments.", tomli_w.dumps(extra)))
    return parts


def unknown_keys(extra: dict, known: frozenset[str]) -> dict:
    return {k: v for k, v in extra.items() if k not in known}


def _toml_lines(fields: dict[str, Any]) -> str:
    return "".join(f"{key} = {_toml_value(value)}\n" for key, value in fields.items())


def _toml_value(value: Any) -> str:
    if isinstance(value, datetime):
        return iso(value)
    return toml_str(value) if isinstance(value, str) else str(value)  # str: the schema number


def toml_str(text: str) -> str:
    """Text of several lines as a multi-line literal string, else a one-line basic string.

    A literal string holds the text as it is, so the file reads like the conversation, and
    a reader takes it whole where it decodes a basic string full of ``\\n`` escapes.
    """
    if "\n" in text and not _NOT_LITERAL.search(text):
        # TOML drops the newline right after the opening quotes: the text starts below them.
        return f"'''\n{text}'''"
    return basic_str(text)


def basic_str(text: str) -> str:
    # JSON's escapes are all valid TOML basic-string escapes, and json is C-fast where
    # tomli_w walks a 1 MB reply one character at a time. TOML also forbids a raw DEL.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


# -- reading ----------------------------------------------------------------------------------
def parse_document(raw: bytes, session_id: str, mtime: datetime) -> Session:
    """The session in the file *raw*. Raises Newer for a later schema, Invalid for anything
    else unusable; an older schema is upgraded (see ``upgrades``)."""
    doc = decode(raw)
    if "schema" not in doc and "messages" not in doc:  # e.g. empty: a save cut at its start
        raise Invalid("not a conversation: no schema and no [[messages]]")
    schema = doc.get("schema", 1)  # files written by hand need not say
    if type(schema) is not int:
        raise Invalid("schema: not a whole number")
    if schema > upgrades.SCHEMA:
        raise Newer(schema)
    if schema < 1:
        raise Invalid(f"schema: unknown version {schema}")
    doc = upgrades.upgrade(doc, schema)
    try:
        return _build(doc, session_id, mtime)
    except OverflowError as err:  # e.g. year 1 at +01:00 has no UTC equivalent
        raise Invalid(f"a date is out of range: {err}") from None


def decode(raw: bytes) -> dict[str, Any]:
    """The TOML document in *raw*; Invalid when it is not one, Newer when a later chatterm
    may have written it with syntax this one cannot read."""
    if (doc := fast_toml.loads(raw)) is not None:
        return doc
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as err:
        # A newer chatterm might use syntax we cannot read: that is not corruption.
        # Only above the first multi-line string: a line of a message is not a key.
        head = _MULTI_LINE_QUOTES.split(raw, 1)[0]
        if (declared := _DECLARED_SCHEMA.search(head)) and int(declared[1]) > upgrades.SCHEMA:
            raise Newer(int(declared[1])) from None
        reason = "nested too deeply" if isinstance(err, RecursionError) else str(err)
        raise Invalid(f"not valid TOML: {reason}") from None


def _build(doc: dict[str, Any], session_id: str, mtime: datetime) -> Session:
    _text(doc, "id", "", default="")  # checked, but the file name is what identifies a session
    created, updated = _when(doc, "created", ""), _when(doc, "updated", "")
    messages = _parse_messages(doc.get("messages", []), created or updated or mtime)
    alternatives = _parse_messages(
        doc.get("alternatives", []), created or updated or mtime, "alternatives"
    )
    _unique_ids(messages + alternatives)
    created = created or (messages[0].created if messages else None) or updated or mtime
    updated = updated or max([created, *(m.created for m in messages)])
    params = _params(doc.get(PARAMS))
    return Session(
        id=session_id,
        title=_text(doc, "title", "", default=""),
        created=created,
        updated=updated,
        provider=_text(doc, "provider", "", default=""),
        model=_text(doc, "model", "", default=""),
        system_prompt=_text(doc, "system_prompt", "", default=""),
        messages=messages,
        alternatives=alternatives,
        extra=unknown_keys(doc, TOP_KEYS | {PARAMS} if params else TOP_KEYS),
        params=params,
    )


def _params(table: Any) -> dict[str, float | int]:
    """The conversation's generation parameters in a ``[params]`` table; {} when there is
    none, or when it is not all ours (another tool's, a value of another type): then the
    table stays in ``extra``, written back as it was. Ranges are checked where a value is
    entered (F10, the ask flags); a hand-edited one out of range goes, and the service says."""
    if not isinstance(table, dict) or not table:
        return {}
    for key, value in table.items():
        kinds = PARAM_NUMBERS.get(key)
        if kinds is None or type(value) not in kinds:  # bool is an int, but not its type
            return {}
        if type(value) is float and not math.isfinite(value):
            return {}
    return dict(table)


def _parse_messages(items: Any, start: datetime, array: str = "messages") -> list[Message]:
    if not isinstance(items, list) or not all(isinstance(t, dict) for t in items):
        raise Invalid(f"{array}: expected [[{array}]] tables")
    messages = [_parse_message(table, i, array) for i, table in enumerate(items)]
    # A message without a time gets the one before it (or, at the start, the first one
    # given, else the conversation's): the order on screen stays the order in the file.
    known = next((m.created for m in messages if m.created is not None), start)
    for m in messages:
        if m.created is None:
            m.created = known
        known = m.created
    return messages


def _unique_ids(messages: list[Message]) -> None:
    seen: set[str] = set()
    for m in messages:  # a copied block in a hand edit: keep both, apart
        if m.id in seen:
            m.id = new_message_id()
        seen.add(m.id)


def _parse_message(table: dict, index: int, array: str = "messages") -> Message:
    where = f"{array}[{index}]."
    # Any role is kept and shown as it is ("tool", ...); history() sends only ROLES.
    role = _text(table, "role", where)
    if not role:
        raise Invalid(f"{where}role: empty")
    content = _text(table, "content", where, default="")
    parts = _reply_parts(table)
    known = MESSAGE_KEYS | parts.keys()
    return Message(
        role=role,
        content=content,
        created=_when(table, "created", where),  # type: ignore[arg-type]  # None: filled in
        id=_text(table, "id", where, default="") or _made_up_id(index, role, content),
        provider=_text(table, "provider", where, default=""),
        model=_text(table, "model", where, default=""),
        status=_text(table, "status", where, default=""),
        error=_text(table, "error", where, default=""),
        extra=unknown_keys(table, known | (ATTACHMENTS if _are_tables(table) else set())),
        # On the path the order says what follows what; only alternatives keep a parent.
        parent=_text(table, "parent", where, default="") if array == "alternatives" else "",
        attachments=_parse_attachments(table["attachments"], where) if _are_tables(table) else [],
        **parts,
    )


def _reply_parts(table: dict) -> dict[str, Any]:
    """The reply extras of a message table that have our types; the rest stay its own
    (extra), so a file from before them, or another tool's, loads as it did."""
    found: dict[str, Any] = {}
    for key in PART_TEXT_KEYS:
        if isinstance(value := table.get(key), str):
            found[key] = clean(value)
    for key in PART_COUNT_KEYS:
        if type(value := table.get(key)) is int and value >= 0:
            found[key] = value
    return found


def _are_tables(table: dict) -> bool:
    """Does this message hold ``[[messages.attachments]]`` tables (not a key of that name)?"""
    items = table.get("attachments")
    return isinstance(items, list) and bool(items) and all(isinstance(t, dict) for t in items)


def _parse_attachments(items: list[dict], where: str) -> list[Attachment]:
    """The records of the files sent with a message; a hand-written one may leave out all
    but its name or path (without ``chars`` its text is shown as part of the prompt)."""
    found = []
    for n, table in enumerate(items):
        at = f"{where}attachments[{n}]."
        path = _text(table, "path", at, default="")
        found.append(
            Attachment(
                name=_text(table, "name", at, default="") or path.rpartition("/")[2] or "file",
                path=path,
                size=_count(table, "size", at),
                sha256=_text(table, "sha256", at, default=""),
                chars=_count(table, "chars", at),
                mime=_text(table, "mime", at, default=""),
                extra=unknown_keys(table, ATTACHMENT_KEYS),
            )
        )
    return found


def _count(table: dict, key: str, where: str) -> int:
    value = table.get(key, 0)
    if type(value) is not int or value < 0:
        raise Invalid(f"{where}{key}: expected a whole number, 0 or more")
    return value


def _made_up_id(index: int, role: str, content: str) -> str:
    """For a hand-written message without one: the same on every read of the file."""
    digest = hashlib.blake2b(f"{index}\0{role}\0{content}".encode(errors="replace"), digest_size=6)
    return f"m-{digest.hexdigest()}"


def _text(table: dict, key: str, where: str, default: str | None = None) -> str:
    value = table.get(key, default)
    if value is None:
        raise Invalid(f"{where}{key}: missing")
    if not isinstance(value, str):
        raise Invalid(f"{where}{key}: expected a string")
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
        raise Invalid(f"{where}{key}: expected a date and time")
    return utc(value)

"""A fast reader for the part of TOML that session files are written in; None for the rest.

tomllib decodes a basic string a character at a time in Python, so a file another tool
wrote with escaped one-line strings (tomli-w: 1,000 messages of 2 KB) takes it ~0.5 s, and
even our own layout costs ~0.1 s in per-line overhead. This reader takes the same lines
with one regular-expression match each and decodes escapes with ``json``'s C scanner.

It accepts only documents made of blank lines, comments, ``[[messages]]`` and
``[[alternatives]]`` headers (and ``[[messages.KEY]]`` ones, such as attachments) and
``bare_key = value`` lines, where a value is a one-line basic string, a multi-line literal
string, a decimal integer, a boolean, or a date or date-time; for those it gives exactly
what ``tomllib.loads`` gives (tests/unit/test_store_fast_toml.py compares the two). For
anything else, valid or not (other tables, arrays, dotted keys, ``\"\"\"`` strings, a
duplicate key, a ``\\U`` escape), it returns None and the caller asks tomllib, which also
gives the error messages: no file is read differently, only faster.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import cache
from typing import Any

# What a basic string may hold (control characters are refused before any line is read):
# any character but a quote, a backslash and a newline, and the escapes TOML and JSON read
# alike. \U, which JSON lacks, is left to tomllib (no known writer uses it).
_PLAIN = r'[^"\\\n]*'
_BASIC = rf'"({_PLAIN}(?:\\(?:[btnfr"\\]|u[0-9A-Fa-f]{{4}}){_PLAIN})*)"'
# tomllib's own patterns for dates and times (tomllib/_re.py).
_TIME = r"([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9])(?:\.([0-9]{1,6})[0-9]*)?"
_DATETIME = re.compile(
    r"([0-9]{4})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    rf"(?:[Tt ]{_TIME}(?:([Zz])|([+-])([01][0-9]|2[0-3]):([0-5][0-9]))?)?"
)
# The same, without its groups: a line is matched with as few groups as can be, since each
# costs the regular-expression engine time on every line.
_DATETIME_TEXT = re.sub(r"\((?!\?)", "(?:", _DATETIME.pattern)
_VALUE = rf"{_BASIC}|([+-]?(?:0|[1-9][0-9]*))|(true|false)|({_DATETIME_TEXT})"
# After a statement: spaces, a comment, the end of the line.
_END = r"[ \t]*(?:#[^\n]*)?(?:\n|\Z)"
# One statement; its groups: key, literal opener, basic string, integer, boolean, date,
# header, its sub-array. A multi-line literal string is only opened here (its text may
# hold lines).
_LINE = re.compile(
    r"[ \t]*(?:"
    rf"([A-Za-z0-9_-]+)[ \t]*=[ \t]*(?:(''')|(?:{_VALUE}){_END})"
    rf"|\[\[(messages|alternatives)(?:\.([A-Za-z0-9_-]+))?\]\]{_END}"
    rf"|{_END})"
)
_AFTER_LITERAL = re.compile(_END)
# Bytes TOML allows anywhere: all but the control characters other than TAB and LF. A CR
# (CRLF is legal) sends the file to tomllib, as does any other control character.
_ALLOWED = bytes(b for b in range(256) if b in (9, 10) or 32 <= b != 127)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # TOML forbids them; JSON pairs them
_JSON = json.JSONDecoder(strict=False)


class _NotSubset(Exception):
    """Outside the subset (or not TOML): tomllib decides."""


def loads(raw: bytes) -> dict[str, Any] | None:
    """What ``tomllib.loads(raw.decode())`` returns, or None when *raw* is outside the subset
    (or not UTF-8, or not TOML)."""
    if raw.translate(None, _ALLOWED):
        return None
    try:
        return _document(raw.decode("utf-8"))
    except (_NotSubset, UnicodeDecodeError):
        return None


def _document(src: str) -> dict[str, Any]:
    # One loop, with no call for the common line: a listing of 5,000 files runs it 120,000
    # times, and a call per line cost a third of the time.
    root: dict[str, Any] = {}
    table, tables = root, _Tables(root)
    pos, end, match = 0, len(src), _LINE.match
    while pos < end:
        if (line := match(src, pos)) is None:
            raise _NotSubset
        key, literal, string, number, flag, when, header, sub = line.groups()
        pos = line.end()
        if key is None:
            if header:
                table = tables.next(header) if sub is None else tables.sub(header, sub)
            continue  # else a blank line or a comment
        if string is not None:
            value: Any = _basic(string) if "\\" in string else string
        elif literal:
            value, pos = _literal(src, pos)
        elif number is not None:
            value = int(number)
        elif flag is not None:
            value = flag == "true"
        else:
            value = _when(when)
        if key in table:
            raise _NotSubset  # tomllib: "Cannot overwrite a value"
        table[key] = value
    return root


class _Tables:
    """The arrays of tables that ``[[messages]]`` and ``[[alternatives]]`` headers make, in
    the document *root*."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.arrays: dict[str, list[dict[str, Any]]] = {}

    def next(self, name: str) -> dict[str, Any]:
        if (tables := self.arrays.get(name)) is None:
            if name in self.root:  # a key of that name before the first header
                raise _NotSubset
            tables = self.arrays[name] = self.root[name] = []
        table: dict[str, Any] = {}
        tables.append(table)
        return table

    def sub(self, name: str, key: str) -> dict[str, Any]:
        """``[[NAME.KEY]]``: the next table of the array KEY in NAME's last table."""
        if not (tables := self.arrays.get(name)):
            raise _NotSubset  # tomllib would make NAME a table, not an array of them
        if not isinstance(array := tables[-1].setdefault(key, []), list):
            raise _NotSubset  # a value of that name: "Cannot overwrite a value"
        table: dict[str, Any] = {}
        array.append(table)
        return table


def _literal(src: str, pos: int) -> tuple[str, int]:
    """The multi-line literal string opened just before *pos*, and where its line ends."""
    if src.startswith("\n", pos):  # TOML drops a newline right after the opening quotes
        pos += 1
    close = src.find("'''", pos)
    if close == -1 or src.startswith("'", close + 3):  # ''''': quotes end the text
        raise _NotSubset
    if (end := _AFTER_LITERAL.match(src, close + 3)) is None:
        raise _NotSubset
    return src[pos:close], end.end()


def _basic(body: str) -> str:
    if _SURROGATE_ESCAPE.search(body):
        raise _NotSubset
    # Every escape left is one JSON reads as TOML does, and the text holds no raw control
    # character but TAB, which strict=False lets through.
    return _JSON.decode(f'"{body}"')


def _when(text: str) -> date | datetime:
    """As tomllib's ``match_to_datetime``; a day that does not exist is left to tomllib."""
    if len(text) == 20 and text[10] == "T" and text[19] == "Z":  # how chatterm writes times
        try:  # the same value, 10x faster (the line matched the pattern: digits in range)
            return datetime.fromisoformat(text)
        except ValueError:
            raise _NotSubset from None
    parts = _DATETIME.fullmatch(text)
    assert parts is not None  # the line matched the same pattern
    year, month, day, hour, minute, second, micros, zulu, sign, offset_h, offset_m = parts.groups()
    try:
        if hour is None:
            return date(int(year), int(month), int(day))
        tz: tzinfo | None = None
        if sign:
            tz = _offset(offset_h, offset_m, sign)
        elif zulu:
            tz = UTC
        fraction = int(micros.ljust(6, "0")) if micros else 0
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), fraction, tz
        )
    except ValueError:
        raise _NotSubset from None


@cache
def _offset(hour: str, minute: str, sign: str) -> timezone:
    factor = 1 if sign == "+" else -1
    return timezone(timedelta(hours=factor * int(hour), minutes=factor * int(minute)))

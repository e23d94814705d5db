"""The fast TOML reader reads every file as tomllib does, or leaves it to tomllib."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime
from typing import Any

import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.store import Message, Session, codec, fast_toml

WHEN = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)


def typed(value: Any) -> Any:
    """*value* with its types spelled out: 1 == True and naive == aware must not pass."""
    if isinstance(value, dict):
        return ("dict", [(k, typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    if isinstance(value, datetime):
        return ("datetime", value.isoformat(), value.utcoffset())
    return (type(value).__name__, value)


def same_as_tomllib(text: str) -> dict[str, Any] | None:
    """What the fast reader gave, after checking it is what tomllib gives (or nothing)."""
    raw = text.encode("utf-8", "surrogatepass")
    fast = fast_toml.loads(raw)
    try:
        reference = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        assert fast is None, f"read what tomllib refuses: {text!r}"
        return None
    if fast is not None:
        assert typed(fast) == typed(reference), text
    return fast


# -- documents in and near the subset ---------------------------------------------------------
KEYS = st.sampled_from(["schema", "id", "title", "content", "messages", "a-b", "_x", "9", "true"])
SPACE = st.sampled_from(["", " ", "  ", "\t"])
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12) | st.sampled_from(
    ["'", "''", "'''", '"', "\\", "\\n", "\n", "\r\n", "\x7f", "\t", "😀", "\u2028"]
)
ESCAPES = st.lists(
    st.sampled_from(
        [
            *["a", " ", "é", "😀", "\\n", "\\t", '\\"', "\\\\", "\\b", "\\f", "\\r", "\\u00e9"],
            *["\\u0000", "\\uD83D", "\\ud800", "\\U0001F600", "\\x41", "\\/", "\\e", "\\", '"'],
            *["\t", "\x01", "\x7f", "\n"],
        ]
    ),
    max_size=8,
).map("".join)
DATES = st.sampled_from(
    [
        "2026-11-22T10:14:00Z",
        "2026-11-22t10:14:00z",
        "2026-11-22 10:14:00",
        "2026-11-22T10:14:00.5+01:30",
        "2026-11-22T10:14:00.1234567-00:00",
        "2026-11-22T10:14:00+00:00",
        "2026-11-22",
        "2026-02-30T10:00:00Z",
        "2026-13-01",
        "2026-11-22T25:00:00Z",
        "2026-11-22T",
        "10:14:00",
        "0001-01-01T00:00:00+01:00",
    ]
)
VALUES = st.one_of(
    TEXT.map(codec.basic_str),
    ESCAPES.map(lambda body: f'"{body}"'),
    TEXT.map(lambda text: f"'''{text}'''"),
    TEXT.map(lambda text: f"'''\n{text}'''"),
    TEXT.map(lambda text: f"'{text}'"),
    TEXT.map(lambda text: f'"""\n{text}"""'),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(["+5", "-0", "00", "5_000", "0x1F", "1.5", "1e3", "inf", "true", "false"]),
    DATES,
    st.sampled_from(["[1, 2]", "{a = 1}", "[]", "truex", ""]),
)
COMMENTS = st.sampled_from(["", " # note", "#", ' # it\'s "quoted"', "  # \x01"])
LINES = st.one_of(
    st.tuples(SPACE, KEYS, SPACE, SPACE, VALUES, COMMENTS).map(
        lambda p: f"{p[0]}{p[1]}{p[2]}={p[3]}{p[4]}{p[5]}"
    ),
    st.sampled_from(
        [
            *["[[messages]]", " [[messages]] # next", "[[ messages ]]", "[messages]", "[ui]"],
            *["[[x]]", "[[alternatives]]", "[alternatives]"],
            # arrays of tables inside the last message (attachments) and their near misses
            *["[[messages.attachments]]", "[[alternatives.attachments]]", "[[messages.content]]"],
            *["[[messages.a.b]]", "[[messages.]]", "[messages.attachments]", "[[x.attachments]]"],
        ]
    ),
    st.sampled_from(["", "  ", "# a comment", "a.b = 1", '"quoted key" = 1', "a = 1 = 2"]),
)


@settings(max_examples=600, deadline=None)
@given(lines=st.lists(LINES, max_size=12), ending=st.sampled_from(["\n", "\r\n", ""]))
def test_any_document_reads_as_tomllib_reads_it_or_not_at_all(
    lines: list[str], ending: str
) -> None:
    same_as_tomllib("\n".join(lines) + ending)


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(LINES, min_size=1, max_size=8),
    where=st.integers(0, 10_000),
    what=st.sampled_from(["", "'", '"', "\\", "\n", "=", "#", "[", "]", " ", "x", "\x00"]),
    cut=st.booleans(),
)
def test_a_damaged_document_reads_as_tomllib_reads_it_or_not_at_all(
    lines: list[str], where: int, what: str, cut: bool
) -> None:
    text = "\n".join(lines) + "\n"
    at = where % len(text)
    same_as_tomllib(text[:at] + what + text[at + cut :])


# Values inside the subset, and documents of them with unique keys per table.
SUBSET_TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(["\t", "\n"]), max_size=20
)
SUBSET_VALUES = st.one_of(
    SUBSET_TEXT.map(codec.basic_str),
    SUBSET_TEXT.filter(lambda t: "'''" not in t and not t.endswith("'")).map(
        lambda t: f"'''{t}'''"
    ),
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(
        ["true", "false", "2026-11-22", "2026-11-22 10:14:00.25", "2026-11-22T10:14:00-05:00"]
    ),
)
TABLES = st.lists(
    st.dictionaries(
        st.from_regex(r"[A-Za-z0-9_-]{1,6}", fullmatch=True), SUBSET_VALUES, max_size=5
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(tables=TABLES, space=SPACE, comment=COMMENTS.filter(lambda c: "\x01" not in c))
def test_every_document_of_the_subset_takes_the_fast_road(
    tables: list[dict[str, str]], space: str, comment: str
) -> None:
    top, *messages = tables
    top.pop("messages", None)  # a key of that name and [[messages]] tables cannot both be
    parts = [f"{space}{k}{space}={space}{v}{comment}\n" for k, v in top.items()]
    for table in messages:
        parts.append(f"\n{space}[[messages]]{comment}\n")
        parts += [f"{k} = {v}\n" for k, v in table.items()]

    assert same_as_tomllib("".join(parts)) is not None


# -- the files that matter: they take the fast road ------------------------------------------
def session_of(texts: list[str], title: str) -> Session:
    session = Session("s", title, WHEN, WHEN, "openai", "gpt-4o-mini", texts[0])
    session.messages = [
        Message("assistant" if n % 2 else "user", text, WHEN, f"m-{n}", error=text[:3])
        for n, text in enumerate(texts)
    ]
    # Off the path: the last text again, as a regenerated reply's old version.
    session.alternatives = [Message("assistant", texts[-1], WHEN, "m-alt", parent="m-0")]
    return session


SESSION_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40) | st.sampled_from(
    ["line\nline", "it's '''\nquoted", "ends\n'", "a\r\nb", "\x1b[31mred\n", "tab\there\n"]
)


@settings(max_examples=150, deadline=None)
@given(texts=st.lists(SESSION_TEXT, min_size=1, max_size=4), title=SESSION_TEXT)
def test_files_chatterm_writes_take_the_fast_road(texts: list[str], title: str) -> None:
    text = codec.dump(session_of(texts, title)).decode("utf-8")

    assert same_as_tomllib(text) is not None  # control characters are written as escapes


@settings(max_examples=150, deadline=None)
@given(texts=st.lists(SESSION_TEXT, min_size=1, max_size=4), title=SESSION_TEXT)
def test_files_tomli_w_writes_take_the_fast_road(texts: list[str], title: str) -> None:
    # A message too long for one line makes tomli-w write [[messages]] tables (short ones
    # all fit in an inline array, which tomllib reads quickly enough).
    texts[0] += "x" * 100
    doc = tomllib.loads(codec.dump(session_of(texts, title)).decode("utf-8"))
    text = tomli_w.dumps(doc)

    assert "[[messages]]" in text
    assert same_as_tomllib(text) is not None  # tomli-w escapes every control character


def test_arrays_of_tables_in_the_last_message_take_the_fast_road() -> None:
    doc = same_as_tomllib(
        "[[messages]]\nid = 1\n[[messages.attachments]]\nname = '''a'''\n"
        "[[messages.attachments]]\nname = 2\n[[messages]]\nid = 2\n[[alternatives]]\n"
        "[[messages.attachments]]\nname = 3\n"  # the last of messages, not alternatives
    )
    assert doc == {
        "messages": [
            {"id": 1, "attachments": [{"name": "a"}, {"name": 2}]},
            {"id": 2, "attachments": [{"name": 3}]},
        ],
        "alternatives": [{}],
    }


def test_a_date_and_a_local_time_come_back_as_tomllib_gives_them() -> None:
    doc = same_as_tomllib("a = 2026-11-22\nb = 2026-11-22T10:14:00\nc = 2026-11-22T10:14:00Z\n")
    assert doc == {
        "a": date(2026, 11, 22),
        "b": datetime(2026, 11, 22, 10, 14),
        "c": datetime(2026, 11, 22, 10, 14, tzinfo=UTC),
    }


def test_what_the_reader_leaves_to_tomllib() -> None:
    # Valid TOML, but outside the subset: tomllib reads these, the fast reader does not.
    for text in [
        'a = "\\U0001F600"\n',
        "a = 'one-line literal'\n",
        'a = """\nmulti\n"""\n',
        "a = [1, 2]\n",
        "[ui]\npinned = true\n",
        "a = 1\r\n",
        "[[messages]]\n[messages.meta]\nx = 1\n",
        "[[messages.attachments]]\nname = 1\n",  # before any message: messages is a table
    ]:
        assert fast_toml.loads(text.encode()) is None, text
        tomllib.loads(text)

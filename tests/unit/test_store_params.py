"""A conversation's own generation parameters (``Session.params``) in its file: a
``[params]`` table, written only when one is set, read back as written; files from before
it, and another tool's ``[params]`` table, load and save byte for byte as they were."""

from __future__ import annotations

from copy import deepcopy
from datetime import UTC, datetime
from pathlib import Path

from tui.store import Message, Session, SessionStore, codec
from tui.store.merge import SyncState, merge

WHEN = datetime(2026, 12, 2, 10, 0, 0, tzinfo=UTC)

# A file as chatterm wrote it before [params] (and as it writes one without any).
OLD = b"""schema = 2
id = "s-1"
title = "Plans"
created = 2026-12-02T10:00:00Z
updated = 2026-12-02T10:00:00Z
provider = "openai"
model = "m"
system_prompt = ""

[[messages]]
id = "m-1"
role = "user"
content = "hi"
created = 2026-12-02T10:00:00Z
"""


def session(**params: float | int) -> Session:
    s = Session("s-1", "Plans", WHEN, WHEN, "openai", "m", params=dict(params))
    s.messages = [Message("user", "hi", WHEN, "m-1")]
    return s


def test_an_old_file_without_params_loads_with_none_and_saves_byte_for_byte() -> None:
    loaded = codec.parse_document(OLD, "s-1", WHEN)
    assert loaded.params == {} and loaded.extra == {}
    assert codec.dump(loaded) == OLD
    assert codec.dump(session()) == OLD  # no params: no table


def test_params_are_a_table_after_the_header_and_round_trip() -> None:
    raw = codec.dump(session(temperature=0.2, max_tokens=50, seed=-1, top_p=1))
    assert b'system_prompt = ""\n\n[params]\ntemperature = 0.2\nmax_tokens = 50\n' in raw
    assert raw.index(b"[params]") < raw.index(b"[[messages]]")
    loaded = codec.parse_document(raw, "s-1", WHEN)
    assert loaded.params == {"temperature": 0.2, "max_tokens": 50, "seed": -1, "top_p": 1}
    assert type(loaded.params["top_p"]) is int  # as written: 1 stays 1, 0.2 stays 0.2
    assert loaded == session(temperature=0.2, max_tokens=50, seed=-1, top_p=1)
    assert codec.dump(loaded) == raw


def test_params_come_after_unknown_top_level_keys_which_stay_where_they_were() -> None:
    s = session(temperature=0.5)
    s.extra = {"tag": "work", "other": {"x": 1}}
    raw = codec.dump(s)
    loaded = codec.parse_document(raw, "s-1", WHEN)
    assert loaded.extra == {"tag": "work", "other": {"x": 1}}
    assert loaded.params == {"temperature": 0.5}
    assert codec.dump(loaded) == raw


def test_another_tools_params_table_is_kept_as_its_own() -> None:
    for table in (
        b'[params]\nstop = ["x"]\n',  # a name that is not ours
        b'[params]\ntemperature = "hot"\n',  # a value of another type
        b"[params]\nmax_tokens = 1.5\n",  # not whole
        b"[params]\nseed = true\n",  # a bool is not a number here
        b"[params]\ntemperature = nan\n",
        b"[params]\n",  # empty
    ):
        raw = OLD.replace(b"\n[[messages]]", b"\n" + table + b"\n[[messages]]")
        loaded = codec.parse_document(raw, "s-1", WHEN)
        assert loaded.params == {}, table
        assert "params" in loaded.extra, table
        written = codec.dump(loaded)  # (nan is not equal to itself: compared as written)
        assert b"[params]" in written, table
        assert codec.dump(codec.parse_document(written, "s-1", WHEN)) == written, table


def test_our_params_replace_another_tools_table_when_set() -> None:
    raw = OLD.replace(b"\n[[messages]]", b'\n[params]\nstop = ["x"]\n\n[[messages]]')
    loaded = codec.parse_document(raw, "s-1", WHEN)
    loaded.params = {"temperature": 0.7}
    again = codec.parse_document(codec.dump(loaded), "s-1", WHEN)
    assert again.params == {"temperature": 0.7} and "params" not in again.extra


def test_params_set_by_one_writer_survive_the_others_save(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    first = store.new("openai", "m")
    store.append(first, Message("user", "hi", WHEN))
    second = store.load(first.id)
    first.params = {"temperature": 0.1}
    store.save(first)
    store.append(second, Message("user", "and from the other window", WHEN))  # merges
    assert second.params == {"temperature": 0.1}
    assert store.load(first.id).params == {"temperature": 0.1}


def test_params_merge_as_a_header_field() -> None:
    ours = session(temperature=0.2)
    theirs = deepcopy(ours)
    base = SyncState.of(ours, (1, 2, 3))
    theirs.params = {"temperature": 0.9, "seed": 4}
    ours.title = "Renamed here"
    merge(ours, theirs, base, set())
    assert (ours.title, ours.params) == ("Renamed here", {"temperature": 0.9, "seed": 4})
    ours2, theirs2 = session(temperature=0.2), session(temperature=0.2)
    base2 = SyncState.of(ours2, (1, 2, 3))
    ours2.params = {}  # emptied here (F10): ours wins over theirs unchanged
    merge(ours2, theirs2, base2, set())
    assert ours2.params == {}

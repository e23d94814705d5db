"""Schema upgrades: an older file is brought up to date, a newer one is left alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.store import Message, SessionStore, SessionUnsupported, upgrades


def test_the_steps_lead_from_schema_1_to_the_current_one() -> None:
    schema = 1
    for source, target, _ in upgrades.STEPS:  # contiguous and in order
        assert (source, target) == (schema, schema + 1)
        schema = target
    assert schema == upgrades.SCHEMA


def test_a_file_of_the_current_schema_is_left_as_it_is() -> None:
    doc = {"schema": upgrades.SCHEMA, "title": "t"}
    assert upgrades.upgrade(doc, upgrades.SCHEMA) == {"schema": upgrades.SCHEMA, "title": "t"}


def test_steps_run_in_order_from_the_files_schema() -> None:
    ran: list[str] = []

    def one_to_two(doc: dict) -> dict:
        ran.append("1→2")
        name = doc.pop("title")
        return {**doc, "schema": 2, "name": name}

    def two_to_three(doc: dict) -> dict:
        ran.append("2→3")
        return {**doc, "schema": 3}

    steps = [(1, 2, one_to_two), (2, 3, two_to_three)]
    assert upgrades.upgrade({"title": "t"}, 1, steps, latest=3) == {"schema": 3, "name": "t"}
    assert ran == ["1→2", "2→3"]
    assert upgrades.upgrade({"schema": 2}, 2, steps, latest=3) == {"schema": 3}
    assert ran == ["1→2", "2→3", "2→3"]


def test_a_missing_step_is_a_bug_not_a_corrupt_file() -> None:
    with pytest.raises(RuntimeError, match="no upgrade from schema 1 to 3"):
        upgrades.upgrade({}, 1, [(2, 3, dict)], latest=3)


def test_an_old_file_is_upgraded_on_loading_and_saved_in_the_new_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SessionStore(tmp_path)
    session = store.new("echo", "echo")
    store.append(session, Message("user", "hello"))

    def rename_provider(doc: dict) -> dict:
        doc["provider"] = "renamed-" + doc["provider"]
        return doc

    latest = upgrades.SCHEMA + 1
    monkeypatch.setattr(upgrades, "SCHEMA", latest)
    monkeypatch.setattr(upgrades, "STEPS", (*upgrades.STEPS, (latest - 1, latest, rename_provider)))
    loaded = SessionStore(tmp_path).load(session.id)
    assert loaded.provider == "renamed-echo"
    SessionStore(tmp_path).save(loaded)
    assert store.path(session.id).read_text().startswith(f"schema = {latest}\n")


def test_a_newer_schema_is_refused_and_the_file_untouched(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    session = store.new("echo", "echo")
    store.append(session, Message("user", "hello"))
    path = store.path(session.id)
    newer = path.read_text().replace(
        f"schema = {upgrades.SCHEMA}", f"schema = {upgrades.SCHEMA + 1}"
    )
    path.write_text(newer)

    with pytest.raises(SessionUnsupported, match="newer chatterm"):
        SessionStore(tmp_path).load(session.id)
    assert path.read_text() == newer

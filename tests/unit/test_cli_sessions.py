"""`chatterm sessions list --grep TEXT`: the conversations that hold TEXT."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.__main__ import main
from tui.store import Message, SessionStore, default_root


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SessionStore:
    monkeypatch.setenv("CHATTERM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CHATTERM_CONFIG", str(tmp_path / "config.toml"))
    return SessionStore(default_root())


def add(store: SessionStore, title: str, text: str) -> str:
    session = store.new("echo", "echo")
    store.append(session, Message(role="user", content="hello"))
    store.append(session, Message(role="assistant", content=text, status="complete"))
    store.rename(session.id, title)
    return session.id


def test_grep_lists_the_conversations_holding_the_text(store: SessionStore, capsys) -> None:
    docker = add(store, "Containers", "Run `docker compose up` first.")
    titled = add(store, "Docker notes", "nothing here")
    other = add(store, "Lisbon", "Trams and tiles.")
    assert main(["sessions", "list", "--grep", "DOCKER"]) == 0
    out = capsys.readouterr().out
    assert docker in out and titled in out and other not in out
    assert main(["sessions", "list", "--grep", "absent-word"]) == 0
    assert "no conversation holds that text" in capsys.readouterr().out

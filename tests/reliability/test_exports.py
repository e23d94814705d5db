"""Exports land where they say, readable only by their owner, never through a symlink.

F3's `e` writes ``<data>/exports/<id>.md``; `chatterm sessions export` writes only to its
stdout (the shell's redirection decides where), so it has no file of its own to protect.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.pty_driver import CHATTERM
from tests.servers import free_port
from tui.store import Message, SessionError, SessionStore


def saved(store: SessionStore) -> str:
    session = store.new("echo", "echo")
    store.append(session, Message("user", "export me"))
    return session.id


def test_an_export_is_readable_only_by_its_owner(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    old = os.umask(0o022)  # the usual umask, which gave 0644 before
    try:
        path = store.export(saved(store))
    finally:
        os.umask(old)
    assert "export me" in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list(path.parent.glob(".*.tmp"))  # written atomically: no temp file left


def test_an_export_over_an_existing_file_replaces_it_whole(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    session_id = saved(store)
    first = store.export(session_id)
    first.write_text("x" * 100_000)
    first.chmod(0o644)
    again = store.export(session_id)
    assert again == first and "export me" in again.read_text() and "xxx" not in again.read_text()
    assert stat.S_IMODE(again.stat().st_mode) == 0o600


def test_an_export_never_writes_through_a_symlink(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    session_id = saved(store)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "exports" / f"{session_id}.md"
    link.parent.mkdir()
    link.symlink_to(victim)
    with pytest.raises(SessionError, match="symbolic link"):
        store.export(session_id)
    assert victim.read_text() == "precious"
    assert link.is_symlink()


def test_sessions_export_writes_only_to_stdout(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "data" / "sessions")
    session_id = saved(store)
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(
        CHATTERM_CONFIG=str(tmp_path / "none.toml"), CHATTERM_DATA_DIR=str(tmp_path / "data")
    )
    env["OLLAMA_HOST"] = f"127.0.0.1:{free_port()}"
    before = sorted(p for p in tmp_path.rglob("*") if ".locks" not in p.parts)
    done = subprocess.run(
        [CHATTERM, "sessions", "export", session_id], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0 and "export me" in done.stdout
    assert sorted(p for p in tmp_path.rglob("*") if ".locks" not in p.parts) == before

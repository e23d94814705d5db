"""A reply cut by SIGKILL or power loss shows, and is saved, as interrupted, never as streaming.

Nothing runs in a killed process, so the reply stays ``status = "streaming"`` on disk. The
process streaming a reply holds the session's streaming lock (a shared ``flock``) from the
start of the exchange to its end; a reader that finds a ``streaming`` reply while that lock
is free knows its writer is gone, shows it as an error saying so, and saves it so on the
next write. A reply still streaming in a live process is left alone.
"""

from __future__ import annotations

import signal
import subprocess
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.pty_driver import CHATTERM, PtyApp
from tests.reliability.test_crash_safety import TimedServer, environment
from tui.store import INTERRUPTED, Message, SessionStore

pytestmark = pytest.mark.slow


@pytest.fixture
def server():
    with TimedServer() as running:
        yield running


def sessions(tmp_path: Path) -> SessionStore:
    return SessionStore(tmp_path / "data" / "sessions")


def saved_reply(store: SessionStore) -> dict:
    (path,) = store.root.glob("*.toml")
    return tomllib.loads(path.read_text("utf-8"))["messages"][1]


def wait_for_disk(test: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll *test*, about the files the app writes, until it holds: here, not under a pilot,
    since the app is another process."""
    deadline = time.monotonic() + timeout
    while not test():
        if time.monotonic() > deadline:
            raise AssertionError("never happened")
        time.sleep(0.05)


def show(env: dict[str, str], session_id: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHATTERM, "sessions", "show", session_id],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_reply_killed_mid_stream_shows_and_saves_as_interrupted(
    tmp_path: Path, server: TimedServer
) -> None:
    env = environment(tmp_path, server)
    store = sessions(tmp_path)
    with PtyApp([CHATTERM, "ask", "tell me everything"], env) as p:
        p.wait_written("w0000")
        # a periodic save has put some words on disk: the reply is `streaming` there
        wait_for_disk(lambda: "w0001" in saved_reply(store)["content"])
        (session_id,) = [path.stem for path in store.root.glob("*.toml")]
        live = show(env, session_id)  # while the writer is alive, it is still streaming
        assert live.returncode == 0 and ", streaming)" in live.stdout
        assert "interrupted" not in live.stdout
        assert saved_reply(store)["status"] == "streaming"
        p.kill(signal.SIGKILL)
        p.wait(10)

    assert saved_reply(store)["status"] == "streaming"  # nobody could say otherwise
    reply = store.load(session_id).messages[1]
    assert (reply.status, reply.error) == ("error", INTERRUPTED)
    assert reply.content.startswith("w0000 w0001 ")  # what arrived is kept
    print(f"killed ask: {len(reply.content.split())} words kept, shown as interrupted")
    shown = show(env, session_id)
    assert ", streaming)" not in shown.stdout and ", error)" in shown.stdout
    assert INTERRUPTED in shown.stdout

    more = subprocess.run(
        [CHATTERM, "ask", "-c", "go on"], env=env, capture_output=True, text=True, timeout=60
    )
    assert more.returncode == 0, more.stderr
    on_disk = saved_reply(store)  # the next write saved it as interrupted
    assert (on_disk["status"], on_disk["error"]) == ("error", INTERRUPTED)
    assert on_disk["content"] == reply.content


def test_the_app_killed_mid_reply_is_shown_interrupted_on_reopening(
    tmp_path: Path, server: TimedServer
) -> None:
    env = environment(tmp_path, server)
    store = sessions(tmp_path)
    with PtyApp([CHATTERM], env) as p:
        p.wait_written("local", "idle")
        p.send("tell me everything\r")
        p.wait_written("w0005")
        wait_for_disk(lambda: "w0001" in saved_reply(store)["content"])
        p.kill(signal.SIGKILL)
        p.wait(10)
    with PtyApp([CHATTERM, "-c"], env) as p:
        p.wait_written("interrupted", "w0001")
        assert "streaming…" not in p.text
        p.send("\x11")
        p.wait(15)


# -- in one process (what the app's F3 does while its own reply streams) -----------------------
def streaming_session(store: SessionStore):
    session = store.new("echo", "echo")
    store.append(session, Message("user", "question"))
    reply = Message("assistant", "half an ans", provider="echo", model="echo", status="streaming")
    store.append(session, reply)
    return session


def test_a_reply_streaming_in_this_process_is_not_marked(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    session = streaming_session(store)
    with store.streaming(session):
        assert SessionStore(store.root).load(session.id).messages[1].status == "streaming"
        assert store.load(session.id).messages[1].status == "streaming"
    assert store.load(session.id).messages[1].status == "error"


def test_a_reply_finished_after_another_window_read_it_stays_finished(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    session = streaming_session(store)
    reader = SessionStore(store.root)
    with store.streaming(session):
        stale = reader.load(session.id)  # read mid-reply: left as streaming
        assert stale.messages[1].status == "streaming"
        session.messages[1].content, session.messages[1].status = "a whole answer", "complete"
        store.update_message(session, session.messages[1])
    stale.title = "renamed"  # the stale window writes something else afterwards
    reader.save(stale)
    done = store.load(session.id)
    assert (done.title, done.messages[1].status) == ("renamed", "complete")
    assert done.messages[1].content == "a whole answer"

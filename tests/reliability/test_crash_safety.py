"""SIGKILL at the worst moments: the conversation on disk stays whole and nearly complete.

- `chatterm ask` and the app, each in a pty, are killed while a reply streams from a slow
  loopback server that records when it sent each word. Afterwards the session file parses,
  the prompt is in it, and the saved reply holds every word the process had shown on its
  terminal more than LOSS_BOUND seconds before the kill (chat.SAVE_INTERVAL is 1 s). What
  was shown, not what was sent, is the measure, so a loaded machine cannot fail the test;
  the printed figures give both.
- A process rewriting a large session as fast as it can is killed at random moments: the
  file always parses and holds either the last version the writer reported or the next.
- Two processes appending to one session at once keep every message: that is
  tests/unit/test_store_concurrency.py (real processes), not repeated here.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pty_driver import CHATTERM, PtyApp
from tests.servers import Exchange, Frames, OpenAIServer, free_port
from tui.store import SessionStore

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
WORDS = 400
DELAY = 0.02  # seconds between words: 50 words a second, 8 s for the whole reply
RUN_BEFORE_KILL = 2.3  # long enough for two periodic saves
LOSS_BOUND = 1.5  # "all but about a second": SAVE_INTERVAL plus scheduling slack


class TimedServer(OpenAIServer):
    """Records (time sent, word index) for every word of the streamed reply."""

    def __init__(self) -> None:
        super().__init__(reply=[f"w{n:04d} " for n in range(WORDS)], delay=DELAY)
        self.sent: list[tuple[float, int]] = []

    def send_stream(self, ex: Exchange, mode: str, frames: Frames) -> None:
        original = ex.chunk

        def chunk(data: bytes) -> None:
            original(data)
            for word in re.findall(rb"w(\d{4}) ", data):
                self.sent.append((time.perf_counter(), int(word)))  # the pty driver's clock

        ex.chunk = chunk  # type: ignore[method-assign]
        super().send_stream(ex, mode, frames)

    def words_sent_before(self, moment: float) -> int:
        return sum(1 for when, _ in self.sent if when <= moment)

    def lost_seconds(self, saved_words: int, killed_at: float) -> float:
        """How long before the kill the first word missing from the file was sent."""
        if saved_words >= len(self.sent):
            return 0.0
        return killed_at - self.sent[saved_words][0]


@pytest.fixture
def server() -> Iterator[TimedServer]:
    with TimedServer() as running:
        yield running


def environment(tmp_path: Path, server: OpenAIServer) -> dict[str, str]:
    config = tmp_path / "config.toml"
    config.write_text(
        f"default_provider = 'local'\n[providers.local]\nkind = 'openai'\n"
        f"base_url = '{server.base_url}'\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(CHATTERM_CONFIG=str(config), CHATTERM_DATA_DIR=str(tmp_path / "data"))
    env["OLLAMA_HOST"] = f"127.0.0.1:{free_port()}"  # never a developer's own Ollama
    return env


def words_shown(p: PtyApp, moment: float) -> int:
    """How many words of the reply the process had written to its terminal by *moment*."""
    indexes = [int(n) for n in re.findall(rb"w(\d{4})", p.output_before(moment))]
    return max(indexes) + 1 if indexes else 0


def check_saved(tmp_path: Path, prompt: str, server: TimedServer, p: PtyApp) -> str:
    """The one session file parses and keeps the prompt and every word the process had
    shown more than LOSS_BOUND seconds before it was killed; returns the figures."""
    killed_at = p.killed_at
    assert killed_at is not None
    files = list((tmp_path / "data" / "sessions").glob("*.toml"))
    assert len(files) == 1
    doc = tomllib.loads(files[0].read_text("utf-8"))
    user, reply = doc["messages"]
    assert user["content"] == prompt
    assert reply["status"] == "streaming"  # nobody got to say otherwise
    saved = reply["content"]
    saved_words = len(re.findall(r"w\d{4} ", saved))
    assert saved == "".join(f"w{n:04d} " for n in range(saved_words))  # whole words, in order
    assert saved_words >= words_shown(p, killed_at - LOSS_BOUND) > 0
    assert SessionStore(files[0].parent).list()[0].count == 2  # and it lists
    offset = p.output.find(b"w%04d" % saved_words)  # the first word shown but not saved
    shown_at = p.written_at(offset + 4) if offset >= 0 else None
    lost_shown = killed_at - shown_at if shown_at else 0.0
    lost_sent = server.lost_seconds(saved_words, killed_at)
    return (
        f"{saved_words} words saved of {words_shown(p, killed_at)} shown; the first unsaved "
        f"word was shown {lost_shown:.2f} s and sent {lost_sent:.2f} s before the kill"
    )


def test_ask_killed_mid_reply_keeps_the_prompt_and_all_but_the_last_second(
    tmp_path: Path, server: TimedServer
) -> None:
    prompt = "tell me everything"
    with PtyApp([CHATTERM, "ask", prompt], environment(tmp_path, server)) as p:
        p.wait_written("w0000")  # the reply is streaming
        time.sleep(RUN_BEFORE_KILL)
        p.kill(signal.SIGKILL)
        p.wait(10)
        print(f"ask: {check_saved(tmp_path, prompt, server, p)}")


def test_app_killed_mid_reply_keeps_the_prompt_and_all_but_the_last_second(
    tmp_path: Path, server: TimedServer
) -> None:
    prompt = "tell me everything"
    with PtyApp([CHATTERM], environment(tmp_path, server)) as p:
        p.wait_written("local", "idle")
        p.send(prompt + "\r")
        p.wait_written("w0005")
        time.sleep(RUN_BEFORE_KILL)
        p.kill(signal.SIGKILL)
        p.wait(10)
        print(f"app: {check_saved(tmp_path, prompt, server, p)}")


# Loads (or starts) one session and rewrites its big message forever, reporting each
# version once it is saved.
REWRITER = textwrap.dedent(
    """
    import itertools, sys
    from pathlib import Path
    from tui.store import Message, SessionStore

    root, session_id, size = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    store = SessionStore(root)
    session = store.load(session_id)
    first = int(session.messages[0].content.split(":")[0][1:]) + 1
    for n in itertools.count(first):
        session.messages[0].content = f"v{n}:" + "x" * size
        store.save(session)
        print(n, flush=True)
    """
)


def test_killing_a_writer_at_random_moments_leaves_the_old_or_the_new_file(
    tmp_path: Path,
) -> None:
    from tui.store import Message

    size = 1_000_000
    store = SessionStore(tmp_path / "sessions")
    session = store.new("echo", "echo")
    store.append(session, Message("user", "v0:" + "x" * size))
    store.append(session, Message("assistant", "the second message", status="complete"))
    path = store.path(session.id)
    rng = random.Random(6)
    versions: list[int] = []
    for _ in range(6):
        proc = subprocess.Popen(
            [sys.executable, "-c", REWRITER, str(store.root), session.id, str(size)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        reported = int(proc.stdout.readline())  # at least one write has completed
        time.sleep(rng.uniform(0.0, 0.3))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=10)
        reported = max([reported, *map(int, out.split())])
        doc = tomllib.loads(path.read_text("utf-8"))  # parses, whatever the moment
        content = doc["messages"][0]["content"]
        version = int(content.split(":")[0][1:])
        assert version in (reported, reported + 1)  # the last one reported, or the next
        assert content == f"v{version}:" + "x" * size
        assert doc["messages"][1]["content"] == "the second message"
        versions.append(version)
    strays = list(store.root.glob(".*.toml.*.tmp"))
    listed = store.list()
    assert [s.id for s in listed] == [session.id] and store.problems == []
    assert versions == sorted(versions) and versions[-1] > 6
    assert not list(store.root.glob(".*.toml.*.tmp"))  # what the killed saves left is gone
    print(f"{len(versions)} kills at versions {versions}; {len(strays)} temp files swept")


def test_listing_sweeps_dead_saves_temp_files_but_not_a_live_one(tmp_path: Path) -> None:
    import fcntl

    from tui.store import Message

    store = SessionStore(tmp_path / "sessions")
    session = store.new("echo", "echo")
    store.append(session, Message("user", "hello"))
    dead = store.root / f".{session.id}.toml.0badf00d.tmp"
    dead.write_text("half a save")
    live = store.root / ".20260101-000000-beef.toml.12345678.tmp"
    live.write_text("a save in progress")
    lock = os.open(store.root / ".locks" / "20260101-000000-beef.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # what a writer holds while its temp file grows
        assert [s.id for s in store.list()] == [session.id]
        assert not dead.exists() and live.exists()
    finally:
        os.close(lock)
    store.list()
    assert not live.exists()

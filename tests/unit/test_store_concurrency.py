"""Two chatterm processes writing one conversation: nobody's messages are lost."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tui.store import Message, SessionStore

REPO = Path(__file__).resolve().parents[2]

# Loads the session, waits until every writer is ready (so the writes really interleave),
# then appends COUNT user messages tagged with its name.
WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from tui.store import Message, SessionStore

    root, session_id, tag, count, ready_dir, writers = sys.argv[1:7]
    store = SessionStore(Path(root))
    session = store.load(session_id)
    Path(ready_dir, tag).touch()
    deadline = time.monotonic() + 20
    while len(list(Path(ready_dir).iterdir())) < int(writers) and time.monotonic() < deadline:
        time.sleep(0.002)
    for n in range(int(count)):
        store.append(session, Message("user", f"{tag}-{n}"))
    """
)


def run_writers(
    root: Path, session_id: str, tags: list[str], count: int, ready: Path
) -> list[subprocess.Popen[bytes]]:
    ready.mkdir()
    args = [str(root), session_id]
    return [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, *args, tag, str(count), str(ready), str(len(tags))],
            cwd=REPO,
            stderr=subprocess.PIPE,
        )
        for tag in tags
    ]


def wait(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err.decode()


def test_two_processes_appending_at_once_both_keep_every_message(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    session = store.new("echo", "echo")
    store.append(session, Message("user", "start"))

    wait(run_writers(store.root, session.id, ["a", "b"], 30, tmp_path / "ready"))

    contents = [m.content for m in store.load(session.id).messages]
    assert len(contents) == 61 and contents[0] == "start"
    for tag in ("a", "b"):
        assert [c for c in contents if c.startswith(f"{tag}-")] == [f"{tag}-{n}" for n in range(30)]
    assert not list(store.root.glob(".*.tmp"))


def test_a_streaming_reply_keeps_what_another_process_appended(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    session = store.new("echo", "echo")
    store.append(session, Message("user", "question"))
    with store.streaming(session):  # as Exchange does: the other process sees it is live
        reply = Message("assistant", "", provider="echo", model="echo", status="streaming")
        store.append(session, reply)

        wait(run_writers(store.root, session.id, ["other"], 3, tmp_path / "ready"))
        assert store.load(session.id).messages[1].status == "streaming"  # not "interrupted"
        reply.content, reply.status = "the answer", "complete"
        store.update_message(session, reply)

    expected = ["question", "the answer", "other-0", "other-1", "other-2"]
    assert [m.content for m in session.messages] == expected
    loaded = store.load(session.id)
    assert [m.content for m in loaded.messages] == expected
    assert loaded.messages[1].status == "complete"

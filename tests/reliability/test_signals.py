"""Signals, as a terminal, sshd or a service manager sends them, to the installed command
in a pseudo-terminal, against a loopback server streaming a slow reply.

- SIGHUP (an SSH drop): the terminal is closed too, as sshd does. The reply streams on to
  its end with nothing more written to the terminal, is saved ``complete``, and the
  process exits. With no reply in flight it just exits.
- SIGTERM: the partial reply is saved ``cancelled`` and the terminal is restored (the
  alternate screen left, mouse reporting off); ``ask`` exits 143.
- SIGINT to ``ask`` started with SIGINT ignored (any background job of a shell without job
  control, e.g. a script's `&`): still exit 130 with the partial saved ``cancelled``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pty_driver import CHATTERM, PtyApp
from tests.servers import OpenAIServer, free_port

WORDS = [f"w{n:04d} " for n in range(100)]
REPLY = "".join(WORDS)
PROMPT = "tell me everything"
MOUSE_ON, MOUSE_OFF = b"\x1b[?1000h", b"\x1b[?1000l"
ALT_ON, ALT_OFF = b"\x1b[?1049h", b"\x1b[?1049l"


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer(reply=WORDS, delay=0.04) as running:  # 4 s of reply
        yield running


@pytest.fixture
def env(tmp_path: Path, server: OpenAIServer) -> dict[str, str]:
    config = tmp_path / "config.toml"
    config.write_text(
        f"default_provider = 'local'\nrequest_timeout = 10\n[providers.local]\n"
        f"kind = 'openai'\nbase_url = '{server.base_url}'\n"
    )
    config.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(CHATTERM_CONFIG=str(config), CHATTERM_DATA_DIR=str(tmp_path / "data"))
    env["OLLAMA_HOST"] = f"127.0.0.1:{free_port()}"  # never a developer's own Ollama
    return env


def sessions(env: dict[str, str]) -> list[dict]:
    root = Path(env["CHATTERM_DATA_DIR"]) / "sessions"
    return [tomllib.loads(p.read_text("utf-8")) for p in root.glob("*.toml")]


def the_reply(env: dict[str, str]) -> dict:
    [doc] = sessions(env)
    user, reply = doc["messages"]
    assert user["content"] == PROMPT
    return reply


def start_app_reply(env: dict[str, str]) -> PtyApp:
    p = PtyApp([CHATTERM], env)
    p.wait_written("local", "idle")
    p.send(PROMPT + "\r")
    p.wait_written("w0003")
    return p


def test_ask_finishes_and_saves_the_reply_after_the_terminal_hangs_up(
    env: dict[str, str],
) -> None:
    with PtyApp([CHATTERM, "ask", PROMPT], env) as p:
        p.wait_written("w0003")
        p.hang_up()
        assert p.process.wait(30) == 0
        assert b"w0099" not in p.output  # nothing was written to the dead terminal
    reply = the_reply(env)
    assert (reply["status"], reply["content"]) == ("complete", REPLY)


def test_the_app_finishes_and_saves_the_reply_after_the_terminal_hangs_up(
    env: dict[str, str],
) -> None:
    with start_app_reply(env) as p:
        p.hang_up()
        assert p.process.wait(30) == 0  # it exits once the reply is saved
        assert b"w0099" not in p.output
    reply = the_reply(env)
    assert (reply["status"], reply["content"]) == ("complete", REPLY)
    # `chatterm -c` afterwards shows the whole reply
    with PtyApp([CHATTERM, "-c"], env, lines=60) as again:
        again.wait_written("w0099")
        again.send("\x11")  # ctrl+q
        again.wait(20)


def test_the_app_with_no_reply_in_flight_exits_on_hangup_saving_nothing(
    env: dict[str, str],
) -> None:
    with PtyApp([CHATTERM], env) as p:
        p.wait_written("local", "idle")
        p.hang_up()
        assert p.process.wait(30) == 0
    assert sessions(env) == []


def test_sigterm_saves_the_partial_reply_as_cancelled_and_restores_the_terminal(
    env: dict[str, str],
) -> None:
    with start_app_reply(env) as p:
        p.kill(signal.SIGTERM)
        assert p.wait(30) == 143
        out = p.output
    assert out.rfind(ALT_OFF) > out.rfind(ALT_ON) >= 0  # the alternate screen was left
    assert out.rfind(MOUSE_OFF) > out.rfind(MOUSE_ON) >= 0  # mouse reporting is off
    reply = the_reply(env)
    assert reply["status"] == "cancelled"
    assert reply["content"].startswith("w0000 ") and REPLY.startswith(reply["content"])


def test_ask_on_sigterm_exits_143_with_the_partial_saved_cancelled(
    env: dict[str, str],
) -> None:
    with PtyApp([CHATTERM, "ask", PROMPT], env) as p:
        p.wait_written("w0003")
        p.kill(signal.SIGTERM)
        assert p.wait(30) == 143
        assert "Traceback" not in p.text and "SIGTERM" in p.text
    reply = the_reply(env)
    assert reply["status"] == "cancelled"
    assert reply["content"].startswith("w0000 ") and reply["content"] != REPLY


def test_sigint_stops_ask_even_when_started_with_sigint_ignored(env: dict[str, str]) -> None:
    # A shell without job control starts `cmd &` with SIGINT ignored; asyncio.run then
    # installs no handler of its own, and the signal used to be dropped (exit 0).
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        proc = subprocess.Popen(
            [CHATTERM, "ask", PROMPT],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    assert proc.stdout is not None
    seen = b""
    deadline = time.monotonic() + 20
    while b"w0003" not in seen and time.monotonic() < deadline:
        seen += os.read(proc.stdout.fileno(), 4096)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    reply = the_reply(env)
    assert reply["status"] == "cancelled" and reply["content"] != REPLY

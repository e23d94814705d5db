"""The installed `chatterm` in a real terminal (tmux), driven by keys as a person would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import tomllib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

CHATTERM = str(Path(sys.executable).with_name("chatterm"))


class Tmux:
    def __init__(self, tmp_path: Path) -> None:
        self.socket = f"chatterm-test-{uuid.uuid4().hex[:8]}"
        self.tmp = tmp_path

    def cmd(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return result.stdout

    def start(self, command: str, env: dict[str, str]) -> None:
        # A fresh server each time: reusing a socket right after kill-server can race.
        self.socket = f"chatterm-test-{uuid.uuid4().hex[:8]}"
        exports = " ".join(f"{k}={v}" for k, v in env.items())
        self.cmd(
            "new-session",
            "-d",
            "-s",
            "main",
            "-x",
            "100",
            "-y",
            "30",
            f"env {exports} {command}; echo EXITED=$?; sleep 30",
        )

    def screen(self) -> str:
        return self.cmd("capture-pane", "-p", "-t", "main")

    def keys(self, *keys: str) -> None:
        self.cmd("send-keys", "-t", "main", *keys)

    def wait_for(self, test: Callable[[str], bool], timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if test(text):
                return text
            time.sleep(0.1)
        alive = self.cmd("list-sessions")
        raise AssertionError(f"screen never matched (tmux: {alive!r}); last screen:\n{text}")

    def kill(self) -> None:
        self.cmd("kill-server")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    session = Tmux(tmp_path)
    yield session
    session.kill()


def test_chat_in_tmux_streams_quits_and_keeps_the_session(tmux: Tmux, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('default_provider = "echo"\n[providers.echo]\ndelay = 0.005\n')
    data = tmp_path / "data"
    env = {
        "CHATTERM_CONFIG": str(config),
        "CHATTERM_DATA_DIR": str(data),
        "TERM": "xterm-256color",
        "PATH": os.environ.get("PATH", ""),
    }
    tmux.start(CHATTERM, env)
    tmux.wait_for(lambda s: "echo · echo" in s)
    tmux.keys("-l", "hello from tmux")
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "You wrote" in s and "words: 3" in s and "idle" in s)
    tmux.keys("C-q")
    tmux.wait_for(lambda s: "EXITED=0" in s)
    [path] = (data / "sessions").glob("*.toml")
    saved = tomllib.loads(path.read_text())
    assert saved["messages"][0]["content"] == "hello from tmux"
    assert saved["messages"][1]["status"] == "complete"
    # Reopen with -c: the conversation is back on screen.
    tmux.kill()
    tmux.start(f"{CHATTERM} -c", env)
    tmux.wait_for(lambda s: "hello from tmux" in s and "You wrote" in s)
    tmux.keys("C-q")
    tmux.wait_for(lambda s: "EXITED=0" in s)

"""The installed `chatterm` in a real terminal (tmux), driven by keys as a person would."""

from __future__ import annotations

import os
import shlex
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


PLACEHOLDER = "Message — Enter sends, ctrl+j adds a line"


def prompt_box(screen: str) -> str:
    """The prompt box's first line: the line under the last border drawn above it."""
    lines = screen.splitlines()
    tops = [i for i, line in enumerate(lines) if line.startswith("▔▔▔")]
    return lines[tops[-1] + 1].strip() if tops and tops[-1] + 1 < len(lines) else ""


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


def test_history_editor_and_a_regenerated_alternative_in_tmux(tmux: Tmux, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('default_provider = "echo"\n[providers.echo]\ndelay = 0.001\n')
    data = tmp_path / "data"
    editor = tmp_path / "editor.sh"  # what a person types in $EDITOR, then saves
    editor.write_text("#!/bin/sh\nprintf 'written in the editor' > \"$1\"\n")
    editor.chmod(0o755)
    env = {
        "CHATTERM_CONFIG": str(config),
        "CHATTERM_DATA_DIR": str(data),
        "TERM": "xterm-256color",
        "PATH": os.environ.get("PATH", ""),
        "EDITOR": str(editor),
    }

    def messages() -> list[dict]:
        files = list((data / "sessions").glob("*.toml"))
        return tomllib.loads(files[0].read_text())["messages"] if files else []

    def prompts() -> list[str]:
        return [m["content"] for m in messages() if m["role"] == "user"]

    def sent_and_idle(count: int) -> None:
        """Enter sends what the prompt box shows; then the reply to prompt *count* is saved
        complete and the screen says so. tmux can show a screen from before a key took
        effect, so each step waits for a screen only the step can draw: the text in the box
        before Enter, and the empty box (cleared in the handler that sets "waiting") with
        "idle" after it. A key sent while the reply streams would be refused."""

        def done(screen: str) -> bool:
            saved = messages()
            complete = bool(saved) and saved[-1].get("status") == "complete"
            box_empty = prompt_box(screen) == PLACEHOLDER
            return complete and len(prompts()) == count and box_empty and "idle" in screen

        tmux.wait_for(lambda s: prompt_box(s) not in ("", PLACEHOLDER))
        tmux.keys("Enter")
        tmux.wait_for(done)

    tmux.start(CHATTERM, env)
    tmux.wait_for(lambda s: "echo · echo" in s and prompt_box(s) == PLACEHOLDER)
    tmux.keys("-l", "first prompt")
    sent_and_idle(1)
    tmux.keys("Up")  # the empty prompt brings back the last one sent
    sent_and_idle(2)
    assert prompts() == ["first prompt", "first prompt"]
    tmux.keys("F8")  # the editor runs in this terminal; what it saved comes back
    tmux.wait_for(lambda s: prompt_box(s) == "written in the editor")
    sent_and_idle(3)
    assert prompts()[-1] == "written in the editor"
    tmux.keys("C-g")  # regenerate: the old reply stays, one ← away
    tmux.wait_for(lambda s: "‹ 2/2 ›" in s and "idle" in s)
    tmux.keys("C-q")
    tmux.wait_for(lambda s: "EXITED=0" in s)
    [path] = (data / "sessions").glob("*.toml")
    assert len(tomllib.loads(path.read_text())["alternatives"]) == 1


def test_a_file_attached_in_tmux_is_sent_with_the_prompt(tmux: Tmux, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('default_provider = "echo"\n[providers.echo]\ndelay = 0\n')
    data = tmp_path / "data"
    (tmp_path / "notes.md").write_text("# Notes\nship on Friday\n")
    env = {
        "CHATTERM_CONFIG": str(config),
        "CHATTERM_DATA_DIR": str(data),
        "TERM": "xterm-256color",
        "PATH": os.environ.get("PATH", ""),
    }
    # Started in the folder of the file: `env` runs sh, which goes there and runs chatterm.
    tmux.start(f"sh -c {shlex.quote(f'cd {shlex.quote(str(tmp_path))} && {CHATTERM}')}", env)
    tmux.wait_for(lambda s: "echo · echo" in s)
    tmux.keys("C-f")  # attach: a path, Tab completes it
    tmux.wait_for(lambda s: "Attach a file" in s)
    tmux.keys("-l", "not")
    tmux.keys("Tab")
    tmux.wait_for(lambda s: "notes.md" in s)
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "▣ notes.md · 23 B" in s and "Attach a file" not in s)
    tmux.keys("-l", "when do we ship?")
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "ship on Friday" in s and "idle" in s)  # echo quotes the file
    tmux.keys("C-q")
    tmux.wait_for(lambda s: "EXITED=0" in s)
    [path] = (data / "sessions").glob("*.toml")
    [sent, _] = tomllib.loads(path.read_text())["messages"]
    assert sent["content"].startswith("when do we ship?\n\n`notes.md`:\n```markdown\n# Notes\n")
    assert sent["attachments"][0]["path"] == str(tmp_path / "notes.md")

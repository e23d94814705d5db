"""`git diff | chatterm`: the app opens with the piped text attached to the first prompt
and reads keys from the terminal; piped text it cannot take, or no terminal, is exit 2."""

from __future__ import annotations

import os
import shlex
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.pty_driver import CHATTERM, PtyApp

pytestmark = pytest.mark.e2e

DIFF = "diff --git a/x.py b/x.py\n+print('new')\n"  # 39 bytes
KEY_QUIT = "\x11"


def env_for(tmp_path: Path, extra: str = "") -> dict[str, str]:
    config = tmp_path / "config.toml"
    config.write_text(f'default_provider = "echo"\n{extra}[providers.echo]\ndelay = 0\n')
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(CHATTERM_CONFIG=str(config), CHATTERM_DATA_DIR=str(tmp_path / "data"))
    env.pop("OLLAMA_HOST", None)
    return env


def test_piped_text_opens_the_app_with_it_attached_and_keys_come_from_the_terminal(
    tmp_path: Path,
) -> None:
    env = env_for(tmp_path)
    (tmp_path / "diff.txt").write_text(DIFF)
    # The shell runs on the pty (its controlling terminal); chatterm's stdin is the pipe.
    command = f"cat {shlex.quote(str(tmp_path / 'diff.txt'))} | {shlex.quote(CHATTERM)}"
    with PtyApp(["sh", "-c", command], env) as p:
        p.wait_on_screen("▣ stdin · 39 B")
        p.wait_on_screen("echo · echo")
        p.send("what changed?")
        p.wait_on_screen("what changed?")
        p.send("\r")
        p.wait_on_screen("words:")  # echo's reply: it got the prompt and the diff
        p.send(KEY_QUIT)
        assert p.wait(15) == 0
        assert "Traceback" not in p.text
    [path] = (tmp_path / "data" / "sessions").glob("*.toml")
    [sent, reply] = tomllib.loads(path.read_text())["messages"]
    assert sent["content"] == f"what changed?\n\n`stdin`:\n```diff\n{DIFF}```"
    assert sent["attachments"][0]["name"] == "stdin" and sent["attachments"][0]["size"] == 39
    assert "+print('new')" in reply["content"]


def run(
    env: dict[str, str], stdin: bytes, args: tuple[str, ...] | list[str] = (), **options: object
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHATTERM, *args], env=env, input=stdin, capture_output=True, timeout=60, **options
    )


def test_piped_text_over_the_limit_or_binary_is_refused_before_the_app_opens(
    tmp_path: Path,
) -> None:
    env = env_for(tmp_path, "attachment_limit = 1\n")
    result = run(env, b"y" * 2000)
    assert result.returncode == 2
    assert result.stderr.decode().splitlines() == [
        "chatterm: the piped text is more than 1.0 KB, over the attachment limit of 1.0 KB "
        "(attachment_limit in config.toml, in KB)"
    ]
    result = run(env, b"\x00\x01binary")
    assert result.returncode == 2 and b"is a binary file" in result.stderr
    assert not (tmp_path / "data" / "sessions").exists()


def test_piped_text_without_a_terminal_to_read_keys_from_is_exit_2(tmp_path: Path) -> None:
    # A new session has no controlling terminal: /dev/tty cannot be opened.
    result = run(env_for(tmp_path), DIFF.encode(), start_new_session=True)
    assert result.returncode == 2
    [line] = result.stderr.decode().splitlines()
    assert line.startswith("chatterm: stdin is not a terminal, and there is no terminal")
    assert "chatterm ask" in line


def test_a_usage_error_is_told_before_stdin_is_looked_at(tmp_path: Path) -> None:
    result = run(env_for(tmp_path), DIFF.encode(), start_new_session=True, args=["-s", "nosuch"])
    assert result.returncode == 2
    assert b"nosuch" in result.stderr and b"terminal" not in result.stderr


def test_a_file_given_with_dash_a_opens_the_app_with_it_attached(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    (tmp_path / "diff.txt").write_text(DIFF)
    with PtyApp([CHATTERM, "-a", str(tmp_path / "diff.txt")], env) as p:
        p.wait_on_screen("▣ diff.txt · 39 B")
        p.wait_on_screen("echo · echo")
        p.send("review this")
        p.wait_on_screen("review this")
        p.send("\r")
        p.wait_on_screen("words:")
        p.send(KEY_QUIT)
        assert p.wait(15) == 0
    [path] = (tmp_path / "data" / "sessions").glob("*.toml")
    [sent, _reply] = tomllib.loads(path.read_text())["messages"]
    assert sent["content"] == f"review this\n\n`diff.txt`:\n```text\n{DIFF}```"
    assert sent["attachments"][0]["path"] == str(tmp_path / "diff.txt")


def test_dash_a_with_a_file_it_cannot_take_is_exit_2_before_the_app_opens(
    tmp_path: Path,
) -> None:
    env = env_for(tmp_path)
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01binary")
    for args in (["-a", str(tmp_path / "missing.txt")], ["-a", str(tmp_path / "blob.bin")]):
        result = run(env, b"", args=args, start_new_session=True)
        assert result.returncode == 2
        [line] = result.stderr.decode().splitlines()
        assert line.startswith("chatterm: cannot attach: ") and "terminal" not in line
    result = run(env, b"", args=["-a", str(tmp_path / "blob.bin"), "providers"])
    assert result.returncode == 2 and b"-a applies to `ask` and the app" in result.stderr
    assert not (tmp_path / "data" / "sessions").exists()

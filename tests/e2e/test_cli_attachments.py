"""`chatterm ask -a FILE`: the installed command in a subprocess, against the echo provider
(which quotes back what it was sent), and the session file it leaves."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

CHATTERM = str(Path(sys.executable).with_name("chatterm"))


def run(
    env: dict[str, str], *args: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [CHATTERM, *args],
        env=env,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def sessions(env: dict[str, str]) -> list[dict]:
    root = Path(env["CHATTERM_DATA_DIR"]) / "sessions"
    return [tomllib.loads(p.read_text()) for p in sorted(root.glob("*.toml"))]


def test_ask_sends_each_file_as_a_fenced_block_after_the_prompt(
    home: dict[str, str], tmp_path: Path
) -> None:
    notes = tmp_path / "notes.py"
    notes.write_bytes(b"print('```')\n")
    (tmp_path / "todo.md").write_text("- ship it\n")
    result = run(home, "ask", "-a", "notes.py", "--attach", "todo.md", "explain", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # echo quotes the prompt it got: the typed words, then each file under its name
    assert "> explain\n>\n> `notes.py`:\n> ````python\n> print('```')\n> ````" in result.stdout
    assert "> `todo.md`:\n> ```markdown\n> - ship it\n> ```" in result.stdout
    [saved] = sessions(home)
    prompt = saved["messages"][0]
    assert prompt["content"].startswith("explain\n\n`notes.py`:\n````python\n")
    first, second = prompt["attachments"]
    assert first == {
        "name": "notes.py",
        "path": str(notes),
        "size": 13,
        "sha256": hashlib.sha256(b"print('```')\n").hexdigest(),
        "chars": len("\n\n`notes.py`:\n````python\nprint('```')\n````"),
    }
    assert second["name"] == "todo.md" and second["path"] == str(tmp_path / "todo.md")
    assert saved["title"] == "explain"


def test_a_later_turn_sends_the_files_again(home: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("alpha\n")
    assert run(home, "ask", "-a", str(tmp_path / "a.txt"), "first").returncode == 0
    result = run(home, "ask", "-c", "second")
    assert result.returncode == 0, result.stderr
    [saved] = sessions(home)
    assert [m["role"] for m in saved["messages"]] == ["user", "assistant"] * 2
    assert "attachments" not in saved["messages"][2]
    assert "`a.txt`" in saved["messages"][0]["content"]  # what a later turn's history holds


def test_a_file_alone_is_a_prompt_and_names_the_conversation(
    home: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "plan.md").write_text("# Plan\n")
    result = run(home, "ask", "-a", str(tmp_path / "plan.md"))
    assert result.returncode == 0, result.stderr
    assert "> `plan.md`:" in result.stdout
    [saved] = sessions(home)
    assert saved["title"] == "plan.md"


def test_piped_text_still_follows_the_prompt_and_the_files_come_last(
    home: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "a.txt").write_text("alpha\n")
    result = run(home, "ask", "-a", str(tmp_path / "a.txt"), "sum up:", stdin="piped line\n")
    assert result.returncode == 0, result.stderr
    [saved] = sessions(home)
    assert saved["messages"][0]["content"] == (
        "sum up:\n\npiped line\n\n`a.txt`:\n```text\nalpha\n```"
    )


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"\x89PNG\r\n\x1a\n....", "is an image and echo takes no images"),
        (b"bin\0ary", "is a binary file"),
        (b"x" * 3000, "over the attachment limit of 2.0 KB"),
    ],
    ids=["image for a model without vision", "binary", "too-big"],
)
def test_a_file_that_cannot_be_attached_is_a_usage_error_and_nothing_is_sent(
    home: dict[str, str], tmp_path: Path, content: bytes, words: str
) -> None:
    Path(home["CHATTERM_CONFIG"]).write_text(
        'default_provider = "echo"\nattachment_limit = 2\n[providers.echo]\ndelay = 0\n'
    )
    path = tmp_path / "thing.png"
    path.write_bytes(content)
    result = run(home, "ask", "-a", str(path), "look")
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"chatterm: cannot attach: {path} ") and words in line
    assert result.stdout == "" and sessions(home) == []


def test_a_missing_file_and_a_bad_limit_are_named(home: dict[str, str], tmp_path: Path) -> None:
    result = run(home, "ask", "-a", "nowhere.txt", "look", cwd=tmp_path)
    assert result.returncode == 2 and "nowhere.txt: no such file" in result.stderr
    Path(home["CHATTERM_CONFIG"]).write_text('attachment_limit = "big"\n')
    result = run(home, "ask", "hi")
    assert result.returncode == 2 and "attachment_limit must be a whole number" in result.stderr


def test_a_file_holding_the_configured_key_is_refused(home: dict[str, str], tmp_path: Path) -> None:
    env = dict(home, OPENAI_API_KEY="sk-test-abcdefghijklmnop")
    (tmp_path / ".env").write_text("OPENAI_API_KEY=sk-test-abcdefghijklmnop\n")
    result = run(env, "ask", "-a", str(tmp_path / ".env"), "check this")
    assert result.returncode == 2 and "holds a secret" in result.stderr
    assert "sk-test" not in result.stderr and sessions(home) == []


def test_help_names_the_option() -> None:
    result = subprocess.run([CHATTERM, "ask", "--help"], capture_output=True, text=True, timeout=60)
    assert "-a FILE, --attach FILE" in result.stdout

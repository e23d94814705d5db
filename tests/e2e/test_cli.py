"""`chatterm` as a user runs it: the installed command in a subprocess."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

CHATTERM = str(Path(sys.executable).with_name("chatterm"))


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHATTERM, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60
    )


def sessions(env: dict[str, str]) -> list[dict]:
    root = Path(env["CHATTERM_DATA_DIR"]) / "sessions"
    return [tomllib.loads(p.read_text()) for p in sorted(root.glob("*.toml"))]


def test_version_and_help_answer_without_textual_or_httpx() -> None:
    code = (
        "import sys\n"
        "from tui.__main__ import main\n"
        "for argv in (['--version'], ['--help'], ['ask', '--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = [m for m in ('textual', 'httpx', 'rich') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "chatterm 0." in out.stdout
    assert "HEAVY []" in out.stdout


def test_ask_streams_the_reply_and_saves_the_exchange(home: dict[str, str]) -> None:
    result = run(home, "ask", "hello there")
    assert result.returncode == 0, result.stderr
    assert "hello there" in result.stdout
    [saved] = sessions(home)
    assert [m["role"] for m in saved["messages"]] == ["user", "assistant"]
    assert saved["messages"][0]["content"] == "hello there"
    assert saved["messages"][1]["status"] == "complete"
    assert saved["messages"][1]["content"].strip() == result.stdout.strip()
    assert saved["title"] == "hello there"


def test_ask_reads_the_prompt_from_stdin_and_continues_with_c(home: dict[str, str]) -> None:
    assert run(home, "ask", "first").returncode == 0
    result = run(home, "ask", "-c", stdin="second from stdin\n")
    assert result.returncode == 0, result.stderr
    [saved] = sessions(home)
    assert [m["content"] for m in saved["messages"] if m["role"] == "user"] == [
        "first",
        "second from stdin",
    ]


def test_unknown_provider_or_model_is_a_usage_error(home: dict[str, str]) -> None:
    result = run(home, "ask", "-p", "nosuch", "hi")
    assert result.returncode == 2
    assert "nosuch" in result.stderr and "echo" in result.stderr
    result = run(home, "ask", "-p", "echo", "-m", "gpt-99", "hi")
    assert result.returncode == 2 and "gpt-99" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_raycast_token_names_setting_and_env_var(home: dict[str, str]) -> None:
    result = run(home, "ask", "-p", "raycast", "hi")
    assert result.returncode == 2
    assert "RAYCAST_API_KEY" in result.stderr and "api_key" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2


def test_config_error_is_reported_with_file_and_key(home: dict[str, str]) -> None:
    Path(home["CHATTERM_CONFIG"]).write_text("request_timeout = 'x'\n")
    result = run(home, "ask", "hi")
    assert result.returncode == 2
    assert "request_timeout" in result.stderr and home["CHATTERM_CONFIG"] in result.stderr


def test_ctrl_c_saves_the_partial_reply_as_cancelled(home: dict[str, str]) -> None:
    Path(home["CHATTERM_CONFIG"]).write_text(
        'default_provider = "echo"\n[providers.echo]\ndelay = 0.2\n'
    )
    proc = subprocess.Popen(
        [CHATTERM, "ask", "tell me a long story about nothing at all"],
        env=home,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    proc.stdout.read(1)  # the first reply text has arrived
    time.sleep(1.5)  # let the reply grow and be saved at least once
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    [saved] = sessions(home)
    reply = saved["messages"][-1]
    assert reply["status"] == "cancelled"
    assert reply["content"]


def test_providers_lists_every_kind_with_flags(home: dict[str, str]) -> None:
    result = run(home, "providers")
    assert result.returncode == 0
    for name in ("echo", "openai", "ollama", "raycast", "voigpt"):
        assert f"{name}  (" in result.stdout
    assert "not working" in result.stdout  # raycast, as its seed says
    assert "RAYCAST_API_KEY" in result.stdout


def test_sessions_list_show_export_and_rm(home: dict[str, str]) -> None:
    assert run(home, "ask", "remember the milk").returncode == 0
    listing = run(home, "sessions", "list")
    assert "remember the milk" in listing.stdout
    session_id = sessions(home)[0]["id"]
    assert "remember the milk" in run(home, "sessions", "show", session_id).stdout
    exported = json.loads(run(home, "sessions", "export", session_id, "--format", "json").stdout)
    assert exported["id"] == session_id
    assert run(home, "sessions", "rm", session_id).returncode == 0
    assert sessions(home) == []
    assert run(home, "sessions", "show", session_id).returncode == 2


def test_python_m_tui_works_like_chatterm(home: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tui", "--version"], capture_output=True, text=True, env=home
    )
    assert result.returncode == 0 and result.stdout.startswith("chatterm ")

"""`chatterm providers add|rm|test`: providers managed from scripts, checked as the file is,
written as the app writes config.toml (mode 0600, a hand-edited file kept as .bak)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.servers import OpenAIServer, free_port

CHATTERM = str(Path(sys.executable).with_name("chatterm"))
HAND_WRITTEN = '# mine\ndefault_provider = "echo"\n[providers.echo]\ndelay = 0\n'


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "config.toml").write_text(HAND_WRITTEN, "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env["OLLAMA_HOST"] = f"127.0.0.1:{free_port()}"
    env["CHATTERM_CONFIG"] = str(tmp_path / "config.toml")
    env["CHATTERM_DATA_DIR"] = str(tmp_path / "data")
    env["CHATTERM_CACHE_DIR"] = str(tmp_path / "cache")
    return env


def chatterm(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [CHATTERM, "providers", *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def saved(env: dict[str, str]) -> dict:
    return tomllib.loads(Path(env["CHATTERM_CONFIG"]).read_text("utf-8"))


def test_add_writes_the_provider_and_keeps_the_hand_written_file(env: dict[str, str]) -> None:
    result = chatterm(
        env, "add", "groq", "--kind", "openai", "--base-url", "https://api.groq.com/openai/v1",
        "--key-env", "GROQ_API_KEY", "--model", "llama-3.3-70b", "--default-model", "llama-3.3-70b",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("added groq in ")
    table = saved(env)["providers"]["groq"]
    assert table == {
        "kind": "openai",
        "base_url": "https://api.groq.com/openai/v1",
        "api_key_env": "GROQ_API_KEY",
        "default_model": "llama-3.3-70b",
        "models": ["llama-3.3-70b"],
    }
    assert saved(env)["providers"]["echo"] == {"delay": 0}  # the rest as it was
    path = Path(env["CHATTERM_CONFIG"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.with_name("config.toml.bak").read_text() == HAND_WRITTEN
    listed = subprocess.run(
        [CHATTERM, "providers"], env=env, capture_output=True, text=True, timeout=60
    )
    assert "groq  (" in listed.stdout and "(default llama-3.3-70b)" in listed.stdout


def test_add_refuses_what_the_file_would_refuse_and_writes_nothing(env: dict[str, str]) -> None:
    cases = [
        (["add", "x", "--kind", "nosuch"], "is not a provider kind"),
        (["add", "x", "--kind", "openai", "--base-url", "ftp://host"], "base_url"),
        (["add", "bad/name", "--kind", "openai"], "a provider name is letters"),
        (["add", "echo", "--kind", "echo"], "already in"),
        (["add", "ollama", "--kind", "openai"], "built-in provider of kind 'ollama'"),
    ]
    for args, says in cases:
        result = chatterm(env, *args)
        assert result.returncode == 2 and says in result.stderr, (args, result.stderr)
    assert Path(env["CHATTERM_CONFIG"]).read_text() == HAND_WRITTEN


def test_replace_changes_a_provider_and_rm_removes_it(env: dict[str, str]) -> None:
    assert (
        chatterm(env, "add", "local", "--kind", "openai", "--base-url", "http://a:1/v1").returncode
        == 0
    )
    result = chatterm(
        env, "add", "local", "--kind", "openai", "--base-url", "http://b:2/v1", "--replace"
    )
    assert result.returncode == 0 and result.stdout.startswith("changed local")
    assert saved(env)["providers"]["local"]["base_url"] == "http://b:2/v1"
    result = chatterm(env, "rm", "local")
    assert result.returncode == 0 and "local" not in saved(env)["providers"]
    result = chatterm(env, "rm", "local")
    assert result.returncode == 2 and "nothing to remove" in result.stderr
    result = chatterm(env, "rm", "echo")  # the default provider: not taken away
    assert result.returncode == 2 and "default_provider" in result.stderr


def test_test_sends_one_prompt_and_says_what_came_back(env: dict[str, str]) -> None:
    with OpenAIServer(reply="OK, I am here.") as server:
        url = server.base_url
        assert chatterm(env, "add", "local", "--kind", "openai", "--base-url", url).returncode == 0
        result = chatterm(env, "test", "local", "-m", "fake-small")
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "local (fake-small) answered: OK, I am here."
        assert server.requests[-1].json["model"] == "fake-small"
        server.mode = "500"
        result = chatterm(env, "test", "local", "-m", "fake-small")
        assert result.returncode == 1 and result.stderr.startswith("chatterm: local: ")
    assert chatterm(env, "test", "nosuch").returncode == 2

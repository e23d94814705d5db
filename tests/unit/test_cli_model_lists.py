"""`chatterm providers` says where each model list came from, and the default in force."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.servers import OpenAIServer, free_port

CHATTERM = str(Path(sys.executable).with_name("chatterm"))


def providers(tmp_path: Path, config: str, *args: str) -> str:
    (tmp_path / "config.toml").write_text(config, "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env["OLLAMA_HOST"] = f"127.0.0.1:{free_port()}"  # never a developer's own
    env["CHATTERM_CONFIG"] = str(tmp_path / "config.toml")
    env["CHATTERM_DATA_DIR"] = str(tmp_path / "data")
    env["CHATTERM_CACHE_DIR"] = str(tmp_path / "cache")
    result = subprocess.run(
        [CHATTERM, "providers", *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    return result.stdout


def block(out: str, name: str) -> list[str]:
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{name}  ("))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith(" ")), None)
    return lines[start:end]


README_LIKE = """
default_provider = "lmstudio"
default_model = "fake-small"
[providers.groq]
kind = "openai"
base_url = "https://api.groq.com/openai/v1"
api_key_env = "GROQ_API_KEY"
[providers.lmstudio]
kind = "openai"
base_url = "{url}"
"""


def test_readme_config_shows_no_built_ins_and_the_default_in_force(tmp_path: Path) -> None:
    url = f"http://localhost:{free_port()}/v1"
    out = providers(tmp_path, README_LIKE.format(url=url))
    lmstudio = "\n".join(block(out, "lmstudio"))
    groq = "\n".join(block(out, "groq"))
    assert "gpt-4o" not in lmstudio and "gpt-4o" not in groq
    assert "(default fake-small)" in lmstudio
    assert "needs key" not in lmstudio  # local servers need no key
    assert "needs key" in groq


def test_live_says_where_the_list_came_from_or_why_not(tmp_path: Path) -> None:
    with OpenAIServer(models=["fake-small", "fake-big"]) as server:
        out = providers(tmp_path, README_LIKE.format(url=server.base_url), "--live")
        # Without --live the cached list is shown, with its age.
        again = providers(tmp_path, README_LIKE.format(url=server.base_url))
    lmstudio = "\n".join(block(out, "lmstudio"))
    assert "models:  fake-big, fake-small" in lmstudio
    assert "list:    live, just now" in lmstudio
    assert "list:    live" in "\n".join(block(again, "lmstudio"))
    groq = "\n".join(block(out, "groq"))
    assert "live list failed: no API key" in groq  # never reached out: no key
    assert "list:    built-in" in "\n".join(block(out, "openai"))


def test_unreachable_live_list_says_so(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    out = providers(tmp_path, README_LIKE.format(url=url), "--live")
    assert "live list failed: unreachable" in "\n".join(block(out, "lmstudio"))


def test_a_missing_key_is_said_once_on_the_status_line(tmp_path: Path) -> None:
    out = providers(tmp_path, "")
    [status] = [line for line in block(out, "openai") if line.startswith("  status:")]
    assert status.count("needs key") == 1, status  # it said "needs key: set …; needs key"
    [status] = [line for line in block(out, "raycast") if line.startswith("  status:")]
    assert status.count("needs key") == 1 and status.endswith("; not working"), status

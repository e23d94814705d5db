"""The command line does what it says: options wherever they stand, piped text, the model.

`chatterm` runs as a user runs it (a subprocess) against loopback servers, and each test
looks at what reached the server: the provider, the model and the prompt it was sent.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import OllamaServer, OpenAIServer, free_port
from tui.chat import Core
from tui.config import load
from tui.store import SessionStore

CHATTERM = str(Path(sys.executable).with_name("chatterm"))


@dataclass
class Setup:
    env: dict[str, str]
    config: Path
    remote: OpenAIServer  # the default provider, "remote"
    local: OllamaServer  # the provider a prompt may be meant for, "ollama"

    def run(
        self, *args: str, stdin: str | int | None = subprocess.DEVNULL
    ) -> subprocess.CompletedProcess:
        text = stdin if isinstance(stdin, str) else None
        result = subprocess.run(
            [CHATTERM, *args],
            env=self.env,
            input=text,
            stdin=None if text is not None else stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def write(self, extra: str = "") -> None:
        self.config.write_text(
            'default_provider = "remote"\n'
            f"{extra}"
            f'[providers.remote]\nkind = "openai"\nbase_url = "{self.remote.base_url}"\n'
            f'[providers.ollama]\nbase_url = "{self.local.url}"\n',
            "utf-8",
        )

    def sessions(self) -> list[dict]:
        root = Path(self.env["CHATTERM_DATA_DIR"]) / "sessions"
        return [tomllib.loads(p.read_text()) for p in sorted(root.glob("*.toml"))]


def chats(server: OpenAIServer | OllamaServer) -> list[dict]:
    """The JSON bodies of the chat requests the server received."""
    return [r.json for r in server.chat_requests]


@contextmanager
def loopback_setup(tmp_path: Path) -> Iterator[Setup]:
    """ "remote" (OpenAI-compatible, the default) and "ollama", each a loopback server."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env["OLLAMA_HOST"] = f"127.0.0.1:{free_port()}"  # never a developer's own
    env["CHATTERM_CONFIG"] = str(tmp_path / "config.toml")
    env["CHATTERM_DATA_DIR"] = str(tmp_path / "data")
    with OpenAIServer(reply="remote reply") as remote, OllamaServer(reply="local reply") as local:
        s = Setup(env, tmp_path / "config.toml", remote, local)
        s.write()
        yield s


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    with loopback_setup(tmp_path) as s:
        yield s


# -- options before the subcommand --------------------------------------------------------


def test_provider_before_ask_sends_the_prompt_to_that_provider(setup: Setup) -> None:
    result = setup.run("-p", "ollama", "ask", "meant for the local model")
    assert result.returncode == 0, result.stderr
    assert "local reply" in result.stdout
    assert chats(setup.remote) == []  # nothing went to the remote service
    [body] = chats(setup.local)
    assert body["messages"][-1]["content"] == "meant for the local model"


def test_model_before_ask_is_the_model_sent(setup: Setup) -> None:
    result = setup.run("-m", "gpt-4o", "ask", "hi")
    assert result.returncode == 0, result.stderr
    assert [b["model"] for b in chats(setup.remote)] == ["gpt-4o"]


def test_continue_and_session_before_ask_continue_that_conversation(setup: Setup) -> None:
    assert setup.run("ask", "first").returncode == 0
    assert setup.run("-c", "ask", "second").returncode == 0
    [saved] = setup.sessions()
    assert setup.run("-s", saved["id"], "ask", "third").returncode == 0
    [saved] = setup.sessions()
    users = [m["content"] for m in saved["messages"] if m["role"] == "user"]
    assert users == ["first", "second", "third"]


def test_options_on_both_sides_of_ask_merge_and_a_conflict_is_refused(setup: Setup) -> None:
    result = setup.run("-p", "ollama", "ask", "-m", "qwen2.5:0.5b", "both sides")
    assert result.returncode == 0, result.stderr
    assert [b["model"] for b in chats(setup.local)] == ["qwen2.5:0.5b"]

    result = setup.run("-p", "ollama", "ask", "-p", "remote", "which one?")
    assert result.returncode == 2
    assert "-p" in result.stderr and "ollama" in result.stderr and "remote" in result.stderr
    result = setup.run("-c", "ask", "-s", "x" * 20, "both")
    assert result.returncode == 2 and "-s" in result.stderr
    assert len(chats(setup.local)) == 1 and chats(setup.remote) == []  # nothing sent


def test_session_options_before_a_command_that_takes_none_are_refused(setup: Setup) -> None:
    result = setup.run("-p", "ollama", "providers")
    assert result.returncode == 2
    assert "-p" in result.stderr and "providers" in result.stderr


# -- piped text ---------------------------------------------------------------------------


def test_piped_text_follows_the_prompt_after_a_blank_line(setup: Setup) -> None:
    result = setup.run("ask", "summarise:", stdin="# Notes\nline one\nline two\n")
    assert result.returncode == 0, result.stderr
    [body] = chats(setup.remote)
    assert body["messages"][-1]["content"] == "summarise:\n\n# Notes\nline one\nline two"
    [saved] = setup.sessions()
    assert saved["messages"][0]["content"] == "summarise:\n\n# Notes\nline one\nline two"


def test_a_file_on_stdin_follows_the_prompt_too(setup: Setup, tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("from a file\n", "utf-8")
    with notes.open("rb") as handle:
        result = setup.run("ask", "summarise:", stdin=handle.fileno())
    assert result.returncode == 0, result.stderr
    assert chats(setup.remote)[0]["messages"][-1]["content"] == "summarise:\n\nfrom a file"


def test_an_empty_or_null_stdin_leaves_the_prompt_as_it_is(setup: Setup) -> None:
    assert setup.run("ask", "just this", stdin=subprocess.DEVNULL).returncode == 0
    assert setup.run("ask", "and this", stdin="").returncode == 0
    assert setup.run("ask", "and that", stdin=" \n\n").returncode == 0
    sent = [b["messages"][-1]["content"] for b in chats(setup.remote)]
    assert sent == ["just this", "and this", "and that"]


def test_help_says_piped_text_is_appended(setup: Setup) -> None:
    result = setup.run("ask", "--help")
    assert "stdin" in result.stdout and "blank line" in result.stdout


# -- which model ------------------------------------------------------------------------------


def test_default_model_applies_to_the_default_provider_named_with_p(setup: Setup) -> None:
    setup.write('default_model = "gpt-4o"\n')
    assert setup.run("ask", "-p", "remote", "hi").returncode == 0
    assert setup.run("ask", "hi").returncode == 0
    assert setup.run("ask", "-p", "ollama", "hi").returncode == 0  # not the default provider
    assert [b["model"] for b in chats(setup.remote)] == ["gpt-4o", "gpt-4o"]
    assert [b["model"] for b in chats(setup.local)] == ["llama3.2"]


def test_a_providers_own_default_model_beats_the_top_level_one(setup: Setup) -> None:
    setup.config.write_text(
        'default_provider = "remote"\ndefault_model = "gpt-4o"\n'
        f'[providers.remote]\nkind = "openai"\nbase_url = "{setup.remote.base_url}"\n'
        'default_model = "o4-mini"\n'
        f'[providers.ollama]\nbase_url = "{setup.local.url}"\ndefault_model = "qwen2.5:0.5b"\n',
        "utf-8",
    )
    assert setup.run("ask", "-p", "remote", "hi").returncode == 0
    assert setup.run("ask", "hi").returncode == 0
    assert setup.run("ask", "-p", "ollama", "hi").returncode == 0
    assert setup.run("ask", "-p", "remote", "-m", "gpt-4o-mini", "hi").returncode == 0
    assert [b["model"] for b in chats(setup.remote)] == ["o4-mini", "o4-mini", "gpt-4o-mini"]
    assert [b["model"] for b in chats(setup.local)] == ["qwen2.5:0.5b"]


def test_core_resolves_the_model_in_the_documented_order(setup: Setup, tmp_path: Path) -> None:
    setup.write('default_model = "gpt-4o"\n')
    core = Core(load(setup.config), SessionStore(tmp_path / "sessions"))
    assert core.model_for("remote") == "gpt-4o"  # top-level, for the default provider
    assert core.model_for("remote", "o4-mini") == "o4-mini"  # -m first
    assert core.model_for("ollama") == "llama3.2"  # its built-in default
    assert core.default_choice() == ("remote", "gpt-4o")


async def test_the_app_opened_with_p_uses_the_default_model_too(
    setup: Setup, tmp_path: Path
) -> None:
    from tui.app import ChattermApp

    setup.write('default_model = "gpt-4o"\n')
    store = SessionStore(tmp_path / "app-sessions")
    app = ChattermApp(load(setup.config), store, provider="remote", state_path=tmp_path / "s.json")
    async with app.run_test(size=(100, 30)):
        assert app.conversation is not None
        assert (app.conversation.session.provider, app.conversation.session.model) == (
            "remote",
            "gpt-4o",
        )


def test_dash_a_before_ask_attaches_as_dash_a_after_it(setup: Setup, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("first file\n")
    (tmp_path / "b.txt").write_text("second file\n")
    result = setup.run("-a", str(tmp_path / "a.txt"), "ask", "-a", str(tmp_path / "b.txt"), "two")
    assert result.returncode == 0, result.stderr
    [body] = chats(setup.remote)
    sent = body["messages"][-1]["content"]
    assert sent.index("`a.txt`") < sent.index("`b.txt`") and sent.startswith("two\n\n")

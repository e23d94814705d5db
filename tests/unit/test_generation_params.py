"""Generation parameters on the wire: ``chatterm ask --temperature/--top-p/--max-tokens/--seed``
(run as a user runs it, a subprocess, against loopback servers), a conversation's own
``[params]`` and the provider's ``[providers.NAME]`` ones, in that order of precedence.

What was chosen for the flags: they apply to the exchange they are given with, and a new
conversation keeps them as its own (as ``--system`` is kept), so ``-c ask`` goes on with
them; on a conversation already saved they override for that one exchange and are not
saved (F10 changes a conversation's own).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import OpenAIServer
from tests.unit.test_cli_options import Setup, chats, loopback_setup
from tui.chat import Core, parse_param
from tui.config import load
from tui.store import SessionStore


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Setup]:
    """tests/unit/test_cli_options.py's: "remote" (OpenAI, the default) and "ollama"."""
    with loopback_setup(tmp_path) as s:
        yield s


def test_ask_flags_go_to_openai_as_top_level_fields(cli: Setup) -> None:
    result = cli.run("ask", "--temperature", "0.2", "--max-tokens", "50", "hi")
    assert result.returncode == 0, result.stderr
    [body] = chats(cli.remote)
    assert (body["temperature"], body["max_tokens"]) == (0.2, 50)
    assert "top_p" not in body and "seed" not in body  # not given, set nowhere: left out
    assert "options" not in body


def test_ask_flags_go_to_ollama_as_options_in_its_own_names(cli: Setup) -> None:
    args = ("-p", "ollama", "ask", "--temperature", "0.2", "--max-tokens", "50", "--seed", "7")
    result = cli.run(*args, "hi")
    assert result.returncode == 0, result.stderr
    [body] = chats(cli.local)
    assert body["options"] == {"temperature": 0.2, "num_predict": 50, "seed": 7}
    assert "temperature" not in body and "max_tokens" not in body  # Ollama's dialect only


def test_context_tokens_set_for_ollama_is_the_context_it_runs_with(cli: Setup) -> None:
    text = cli.config.read_text("utf-8").replace(
        "[providers.ollama]\n", "[providers.ollama]\ncontext_tokens = 8192\n"
    )
    cli.config.write_text(text, "utf-8")
    result = cli.run("-p", "ollama", "ask", "hi")
    assert result.returncode == 0, result.stderr
    [body] = chats(cli.local)
    assert body["options"] == {"num_ctx": 8192}
    assert cli.local.show_requests == 0  # set by the user: the server is not asked
    result = cli.run("ask", "hi")  # an OpenAI-compatible endpoint has no such field
    assert result.returncode == 0, result.stderr
    assert "num_ctx" not in chats(cli.remote)[-1] and "options" not in chats(cli.remote)[-1]


def test_ask_says_on_stderr_when_the_reply_stopped_at_the_token_limit(cli: Setup) -> None:
    """A script reading stdout cannot tell a cut reply from a whole one: stderr says it,
    and the exit status stays 0 (the reply is what the model gave)."""
    result = cli.run("ask", "--max-tokens", "2", "hi")
    assert result.returncode == 0, result.stderr
    assert "token limit" not in result.stderr  # finish_reason "stop": nothing to say
    cli.remote.finish_reason = "length"
    result = cli.run("ask", "--max-tokens", "2", "hi")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "remote reply\n"
    assert "chatterm: the reply stopped at the token limit" in result.stderr
    assert "length" in [saved["messages"][-1].get("finish") for saved in cli.sessions()]


def test_top_p_and_seed_flags_reach_openai(cli: Setup) -> None:
    result = cli.run("ask", "--top-p", "0.9", "--seed", "-3", "hi")
    assert result.returncode == 0, result.stderr
    [body] = chats(cli.remote)
    assert (body["top_p"], body["seed"]) == (0.9, -3)


def test_a_new_conversation_keeps_the_flags_and_an_existing_one_only_uses_them(
    cli: Setup,
) -> None:
    assert cli.run("ask", "--temperature", "0.3", "first").returncode == 0
    [saved] = cli.sessions()
    assert saved["params"] == {"temperature": 0.3}
    assert cli.run("-c", "ask", "second").returncode == 0  # goes on with its own
    assert chats(cli.remote)[-1]["temperature"] == 0.3
    assert cli.run("-c", "ask", "--temperature", "1.5", "third").returncode == 0
    assert chats(cli.remote)[-1]["temperature"] == 1.5  # this exchange only
    [saved] = cli.sessions()
    assert saved["params"] == {"temperature": 0.3}
    assert len(saved["messages"]) == 6


def test_a_conversation_overrides_the_provider_and_flags_override_both(cli: Setup) -> None:
    remote = cli.remote.base_url
    cli.config.write_text(
        'default_provider = "remote"\n'
        f'[providers.remote]\nkind = "openai"\nbase_url = "{remote}"\n'
        "temperature = 0.9\ntop_p = 0.5\nmax_tokens = 100\n",
        "utf-8",
    )
    assert cli.run("ask", "plain").returncode == 0
    assert _params(chats(cli.remote)[-1]) == {"temperature": 0.9, "top_p": 0.5, "max_tokens": 100}
    assert cli.run("ask", "--temperature", "0.1", "own").returncode == 0  # a new one: kept
    [own] = [s["id"] for s in cli.sessions() if "params" in s]  # both in one second: by id
    assert cli.run("-s", own, "ask", "--max-tokens", "7", "again").returncode == 0
    # The conversation's temperature over the provider's, the flag's max_tokens over both.
    assert _params(chats(cli.remote)[-1]) == {"temperature": 0.1, "top_p": 0.5, "max_tokens": 7}
    assert cli.run("-s", own, "ask", "once more").returncode == 0
    assert _params(chats(cli.remote)[-1]) == {"temperature": 0.1, "top_p": 0.5, "max_tokens": 100}


def _params(body: dict) -> dict:
    return {k: body[k] for k in ("temperature", "top_p", "max_tokens", "seed") if k in body}


@pytest.mark.parametrize(
    ("flag", "value", "said"),
    [
        ("--temperature", "3", "--temperature must be a number from 0 to 2"),
        ("--temperature", "hot", "--temperature must be a number from 0 to 2"),
        ("--temperature", "nan", "--temperature must be a number from 0 to 2"),
        ("--top-p", "1.5", "--top-p must be a number from 0 to 1"),
        ("--max-tokens", "0", "--max-tokens must be a positive whole number (of tokens)"),
        ("--max-tokens", "1.5", "--max-tokens must be a positive whole number (of tokens)"),
        ("--seed", "0.5", "--seed must be a whole number"),
        ("--seed", "", "--seed is empty"),
    ],
)
def test_an_invalid_flag_is_a_usage_error_in_the_config_files_words(
    cli: Setup, flag: str, value: str, said: str
) -> None:
    result = cli.run("ask", flag, value, "hi")
    assert result.returncode == 2
    assert said in result.stderr
    assert chats(cli.remote) == [] and cli.sessions() == []  # nothing sent, nothing saved


def test_the_flag_message_is_the_config_files_own(cli: Setup) -> None:
    cli.write("[providers.echo]\ntemperature = 3\n")
    result = cli.run("ask", "hi")
    assert result.returncode == 2
    assert "providers.echo.temperature must be a number from 0 to 2" in result.stderr


# -- the one merge rule, in process ------------------------------------------------------


def test_params_for_puts_the_conversation_over_the_provider_and_overrides_over_both(
    tmp_path: Path,
) -> None:
    config_path = tmp_path / "config.toml"
    config_path.write_text(
        '[providers.local]\nkind = "openai"\nbase_url = "http://127.0.0.1:9/v1"\n'
        "temperature = 0.9\nseed = 1\n",
        "utf-8",
    )
    core = Core(load(config_path), SessionStore(tmp_path / "sessions"))
    session = core.store.new("local", "m")
    assert core.params_for(session, provider="local") == {"temperature": 0.9, "seed": 1}
    session.params = {"temperature": 0.4, "max_tokens": 20}
    assert core.params_for(session, provider="local") == {
        "temperature": 0.4,
        "max_tokens": 20,
        "seed": 1,
    }
    flags = {"temperature": None, "max_tokens": 5, "top_p": 0.3}  # None: a flag not given
    assert core.params_for(session, flags, provider="local") == {
        "temperature": 0.4,
        "top_p": 0.3,
        "max_tokens": 5,
        "seed": 1,
    }
    # Without a provider: the layers an Exchange takes (each provider adds its own under).
    assert core.params_for(session, flags) == {"temperature": 0.4, "top_p": 0.3, "max_tokens": 5}
    assert core.params_for(None) == {}


def test_parse_param_takes_what_the_config_file_takes() -> None:
    assert parse_param("temperature", " 0.2 ") == 0.2
    assert parse_param("temperature", "1") == 1
    assert parse_param("top_p", "1e-1") == 0.1
    assert parse_param("max_tokens", "50") == 50
    assert parse_param("seed", "-4") == -4
    assert parse_param("seed", "  ") is None
    for key, text in [("temperature", "inf"), ("top_p", "-0.1"), ("max_tokens", "5e1")]:
        with pytest.raises(ValueError, match=r"^must be "):
            parse_param(key, text)


def test_a_fallback_provider_gets_its_own_params_not_the_first_ones(tmp_path: Path) -> None:
    """The first provider's [providers.NAME] values are its own: a fallback that answers
    instead is sent the conversation's and its own, never them."""
    import asyncio

    from tui.chat import Exchange

    with OpenAIServer(reply="ok") as good:
        config_path = tmp_path / "config.toml"
        config_path.write_text(
            'fallback = ["good"]\n'
            '[providers.bad]\nkind = "openai"\nbase_url = "http://127.0.0.1:9/v1"\n'  # refused
            "temperature = 0.9\nmax_tokens = 11\n"
            f'[providers.good]\nkind = "openai"\nbase_url = "{good.base_url}"\ntop_p = 0.5\n',
            "utf-8",
        )
        core = Core(load(config_path), SessionStore(tmp_path / "sessions"))
        session = core.store.new("bad", "m")
        session.params = {"seed": 3}

        async def run() -> None:
            exchange = Exchange(
                core, session, "hi", provider="bad", model="m", params=core.params_for(session)
            )
            async for _ in exchange.chunks():
                pass
            await core.aclose()

        asyncio.run(run())
        [body] = chats(good)
        assert _params(body) == {"top_p": 0.5, "seed": 3}

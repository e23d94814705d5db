"""The context budget: a conversation longer than the model's context goes with its oldest
turns left out (never the system prompt, never the last prompt), the user is told, and the
file keeps everything. A runaway reply is not sent back whole with the next prompt."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.servers import OllamaServer, OpenAIServer
from tui.chat import Core, Exchange
from tui.config import Config, ConfigError, ProviderConfig, load
from tui.context import RESEND_LIMIT, context_size, estimate, fit
from tui.store import Message, SessionStore

WORDS = "word " * 400  # 2,000 characters: about 500 tokens


def turns(count: int) -> list[dict[str, str]]:
    out = [{"role": "system", "content": "Be brief."}]
    for n in range(count):
        out.append({"role": "user", "content": f"question {n} {WORDS}"})
        out.append({"role": "assistant", "content": f"answer {n} {WORDS}"})
    out.append({"role": "user", "content": "the last prompt"})
    return out


def test_a_history_that_fits_is_sent_whole() -> None:
    history = turns(3)
    fitted = fit(history, 128_000)
    assert fitted.messages == history and fitted.left_out == 0


def test_the_oldest_turns_go_first_never_the_system_prompt_or_the_last_prompt() -> None:
    history = turns(10)  # ~10,000 tokens
    fitted = fit(history, 4_000)
    sent = fitted.messages
    assert sent[0] == history[0] and sent[-1] == history[-1]
    assert sent[1]["role"] == "user"  # what is sent still starts with a prompt
    assert sum(map(estimate, sent)) <= fitted.budget
    assert fitted.left_out == len(history) - len(sent) and fitted.left_out % 2 == 0
    assert sent[1:-1] == history[len(history) - len(sent) + 1 : -1]  # the newest turns kept


def test_a_prompt_over_the_whole_context_is_still_sent_with_the_system_prompt() -> None:
    history = [{"role": "system", "content": "s"}, {"role": "user", "content": WORDS * 20}]
    assert fit(history, 1_000).messages == history


def test_context_sizes_come_from_the_setting_then_the_table() -> None:
    assert context_size("gpt-4o-mini") == 128_000
    assert context_size("openrouter/anthropic/claude-sonnet-4") == 200_000
    assert context_size("llama3.2:3b") == 131_072
    assert context_size("my-own-model") is None
    assert context_size("gpt-4o", 8_192) == 8_192
    assert context_size("gpt-4o", True) == 128_000  # not a number of tokens
    assert context_size("llama3.2", None, 8_192) == 8_192  # the server's word beats the table
    assert context_size("llama3.2", 4_096, 8_192) == 4_096  # the user's beats the server's


def test_context_tokens_in_the_config_must_be_a_positive_whole_number(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[providers.local]\nkind = "openai"\ncontext_tokens = "lots"\n')
    with pytest.raises(ConfigError, match=r"providers\.local\.context_tokens must be a positive"):
        load(path)


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Core]:
    core = Core(Config(path=tmp_path / "config.toml"), SessionStore(tmp_path / "sessions"))
    yield core
    await core.aclose()


def serve(core: Core, server: OpenAIServer, **options: object) -> None:
    core.config.providers["local"] = ProviderConfig(
        name="local", kind="openai", base_url=server.base_url, options=dict(options)
    )


async def test_a_long_conversation_is_sent_fitted_and_the_file_keeps_it_all(
    core: Core, openai_server: OpenAIServer
) -> None:
    serve(core, openai_server, context_tokens=3_000)
    session = core.store.new("local", "m", system_prompt="Be brief.")
    for n in range(8):
        core.store.append(session, Message(role="user", content=f"question {n} {WORDS}"))
        core.store.append(session, Message(role="assistant", content=f"answer {n} {WORDS}"))
    notices: list[str] = []
    exchange = Exchange(
        core, session, "and now?", provider="local", model="m", on_notice=notices.append
    )
    assert "".join([t async for t in exchange.chunks()])
    sent = openai_server.requests[-1].json["messages"]
    assert sent[0] == {"role": "system", "content": "Be brief."}
    assert sent[-1] == {"role": "user", "content": "and now?"}
    assert 3 <= len(sent) < 18 and exchange.left_out == 18 - len(sent)
    [notice] = notices
    assert notice.startswith(f"{exchange.left_out} earlier messages left out to fit m's context")
    assert len(core.store.load(session.id).messages) == 18  # nothing removed from the file


async def test_a_reply_stopped_at_the_bound_is_not_sent_back_whole(
    core: Core, openai_server: OpenAIServer
) -> None:
    serve(core, openai_server)  # a model with no known context: no budget, but this bound
    session = core.store.new("local", "m")
    core.store.append(session, Message(role="user", content="count forever"))
    core.store.append(session, Message(role="assistant", content="1 " * 2_000_000))
    notices: list[str] = []
    exchange = Exchange(
        core, session, "stop", provider="local", model="m", on_notice=notices.append
    )
    assert "".join([t async for t in exchange.chunks()])
    reply_sent = openai_server.requests[-1].json["messages"][1]["content"]
    assert len(reply_sent) < RESEND_LIMIT + 100
    assert reply_sent.endswith("[… 3800000 more characters not sent]")
    assert notices == [f"1 long reply sent shortened to {RESEND_LIMIT} characters"]
    assert len(core.store.load(session.id).messages[1].content) == 4_000_000


def long_session(core: Core, provider: str, model: str, pairs: int = 8) -> object:
    session = core.store.new(provider, model, system_prompt="Be brief.")
    for n in range(pairs):
        core.store.append(session, Message(role="user", content=f"question {n} {WORDS}"))
        core.store.append(session, Message(role="assistant", content=f"answer {n} {WORDS}"))
    return session


async def test_ollama_is_asked_for_the_context_its_model_runs_with(core: Core) -> None:
    show = {"llama3.2": OllamaServer.show_reply(context_length=131_072, num_ctx=3_000)}
    with OllamaServer(shows=show) as server:
        core.config.providers["ollama"] = ProviderConfig(
            name="ollama", kind="ollama", base_url=server.base_url
        )
        for prompt in ("and now?", "and then?"):
            session = long_session(core, "ollama", "llama3.2")
            exchange = Exchange(core, session, prompt, provider="ollama", model="llama3.2")
            assert "".join([t async for t in exchange.chunks()])
            sent = server.requests[-1].json["messages"]
            assert exchange.context_tokens == 3_000  # num_ctx, not the table's 131,072
            assert sent[0]["role"] == "system" and sent[-1]["content"] == prompt
            assert 3 <= len(sent) < 18 and exchange.left_out == 18 - len(sent)
        assert server.show_requests == 1  # the provider keeps the answer


async def test_a_context_tokens_setting_means_ollama_is_not_asked(core: Core) -> None:
    show = {"llama3.2": OllamaServer.show_reply(num_ctx=3_000)}
    with OllamaServer(shows=show) as server:
        core.config.providers["ollama"] = ProviderConfig(
            name="ollama",
            kind="ollama",
            base_url=server.base_url,
            options={"context_tokens": 200_000},
        )
        session = long_session(core, "ollama", "llama3.2")
        exchange = Exchange(core, session, "and now?", provider="ollama", model="llama3.2")
        assert "".join([t async for t in exchange.chunks()])
        assert exchange.context_tokens == 200_000 and exchange.left_out == 0
        assert server.show_requests == 0

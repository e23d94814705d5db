"""The one resolver of session, provider and model, for the app and `ask` alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.chat import Core
from tui.choice import NothingToContinue, choose, open_saved
from tui.config import Config, ConfigError, ProviderConfig
from tui.providers.errors import UnknownModel
from tui.store import Message, SessionStore


def core(tmp_path: Path, **values: object) -> Core:
    config = Config(path=tmp_path / "config.toml", **values)  # type: ignore[arg-type]
    config.providers["lab"] = ProviderConfig(
        name="lab",
        kind="openai",
        base_url="http://127.0.0.1:9",
        models=("a", "b"),
        default_model="a",
    )
    return Core(config, SessionStore(tmp_path / "sessions"))


def saved(core: Core, provider: str, model: str) -> str:
    session = core.store.new(provider, model)
    core.store.append(session, Message(role="user", content="hi"))
    return session.id


def test_a_new_conversation_takes_the_default_or_the_given_provider(tmp_path: Path) -> None:
    c = core(tmp_path, default_provider="lab", system_prompt="be brief")
    chosen = choose(c)
    assert chosen.new and (chosen.session.provider, chosen.session.model) == ("lab", "a")
    assert chosen.session.system_prompt == "be brief"
    chosen = choose(c, provider="echo", system="")
    assert chosen.session.provider == "echo" and chosen.session.system_prompt == ""
    # ask's probed default (a local Ollama) stands in for the configured one
    assert choose(core(tmp_path / "2"), default=("ollama", "x")).session.model == "x"


def test_a_reopened_conversation_keeps_its_model_unless_told(tmp_path: Path) -> None:
    c = core(tmp_path)
    session_id = saved(c, "lab", "b")
    assert choose(c, session=session_id[:8]).session.model == "b"  # a unique prefix
    assert choose(c, session=session_id, provider="lab").session.model == "b"  # same provider
    assert choose(c, session=session_id, model="a").session.model == "a"
    other = choose(c, session=session_id, provider="echo").session
    assert (other.provider, other.model) == ("echo", c.model_for("echo"))
    assert choose(c, cont=True).session.id == session_id


def test_a_provider_gone_from_the_config_becomes_the_default_with_a_notice(
    tmp_path: Path,
) -> None:
    c = core(tmp_path)
    session_id = saved(c, "retired", "m")
    chosen = open_saved(c, session_id)
    assert chosen.session.provider == c.default_choice()[0]
    assert chosen.notices == [f"retired is not configured any more; using {c.default_choice()[0]}."]


def test_usage_errors(tmp_path: Path) -> None:
    c = core(tmp_path)
    with pytest.raises(NothingToContinue):
        choose(c, cont=True)
    with pytest.raises(ConfigError, match="unknown provider 'nosuch'"):
        choose(c, provider="nosuch")
    with pytest.raises(UnknownModel, match="unknown model 'z'"):
        choose(c, provider="voigpt", model="z")  # a service with a fixed list

"""The [g4f] extra: a provider class written against g4f's own base class (as every g4f
provider is) appears as ``g4f/NAME`` with its flags and models, streams text and typed
parts through the core, and its failures read as ours. The class talks to a loopback
OpenAI-compatible server through aiohttp, g4f's own transport; nothing reaches the internet.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import ClientSession
from g4f.providers.base_provider import AsyncGeneratorProvider
from g4f.providers.response import FinishReason, Reasoning, Usage
from g4f.requests import raise_for_status

from tests.servers import OpenAIServer, free_port
from tui.chat import Core, Exchange
from tui.config import Config, ConfigError, load
from tui.providers import g4f_bridge
from tui.providers.errors import (
    ConnectFailed,
    CredentialsRejected,
    MissingCredentials,
    ProviderError,
    RateLimited,
)
from tui.providers.parts import Finish
from tui.providers.parts import Reasoning as OurReasoning
from tui.providers.parts import Usage as OurUsage
from tui.store import SessionStore

KEY = "g4f-test-SECRET-0123456789"


class LoopbackChat(AsyncGeneratorProvider):
    """A g4f provider as g4f's own are written: class declarations, and
    create_async_generator yielding text and g4f's response objects."""

    label = "Loopback Chat"
    url = "http://127.0.0.1"  # replaced by the fixture with the server's
    working = True
    needs_auth = False
    supports_stream = True
    supports_message_history = True
    default_model = "loop-small"
    models = ["loop-small", "loop-big"]
    api_base = ""

    @classmethod
    async def create_async_generator(
        cls, model: str, messages: list, proxy: str | None = None, api_key: str | None = None,
        temperature: float | None = None, **kwargs: object,
    ) -> AsyncIterator[object]:  # fmt: skip
        body = {"model": model, "messages": messages, "stream": True}
        if temperature is not None:
            body["temperature"] = temperature
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        async with ClientSession(headers=headers) as session:
            async with session.post(f"{cls.api_base}/chat/completions", json=body) as response:
                await raise_for_status(response)
                async for line in response.content:
                    if not line.startswith(b"data: ") or line.strip() == b"data: [DONE]":
                        continue
                    data = json.loads(line[6:])
                    if usage := data.get("usage"):
                        yield Usage(**usage)
                    for choice in data.get("choices", []):
                        delta = choice.get("delta", {})
                        if thought := delta.get("reasoning_content"):
                            yield Reasoning(thought)
                        if text := delta.get("content"):
                            yield text
                        if finish := choice.get("finish_reason"):
                            yield FinishReason(finish)


class BrokenChat(LoopbackChat):
    working = False
    label = "Broken"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIServer]:
    with OpenAIServer(reply=["Hello ", "from ", "g4f."], reasoning=["Thinking."]) as server:
        LoopbackChat.api_base = server.base_url
        # Registered for this test only: other tests (F4's snapshots) list g4f's own.
        classes = g4f_bridge.provider_classes()
        monkeypatch.setitem(classes, "LoopbackChat", LoopbackChat)
        monkeypatch.setitem(classes, "BrokenChat", BrokenChat)
        yield server


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Core]:
    core = Core(Config(path=tmp_path / "config.toml"), SessionStore(tmp_path / "sessions"))
    yield core
    await core.aclose()


async def test_a_g4f_class_is_a_provider_with_its_own_flags_and_models(
    core: Core, server: OpenAIServer
) -> None:
    names = core.provider_names(g4f=True)
    assert "g4f/LoopbackChat" in names and "g4f/BrokenChat" not in names
    assert "g4f/BrokenChat" in core.provider_names(g4f=True, not_working=True)
    assert "g4f/LoopbackChat" not in core.provider_names()  # only lists that ask
    provider = core.provider("g4f/LoopbackChat")
    assert provider.label == "Loopback Chat (g4f)" and provider.kind == "g4f"
    assert provider.instance_models == ("loop-small", "loop-big")
    assert core.model_for("g4f/LoopbackChat") == "loop-small"
    assert provider.flags() == [] and core.provider("g4f/BrokenChat").flags() == ["not working"]


async def test_text_reasoning_usage_and_finish_go_through_the_core(
    core: Core, server: OpenAIServer
) -> None:
    session = core.store.new("g4f/LoopbackChat", "loop-big")
    parts: list[object] = []
    exchange = Exchange(
        core, session, "hi", provider="g4f/LoopbackChat", model="loop-big",
        on_part=parts.append, params={"temperature": 0.3},
    )  # fmt: skip
    assert "".join([t async for t in exchange.chunks()]) == "Hello from g4f."
    assert exchange.reasoning == "Thinking."
    assert OurReasoning("Thinking.") in parts and Finish("stop") in parts
    assert exchange.usage == OurUsage(9, 3 + 1, 1)  # "Thinking.": one token of reasoning
    sent = server.requests[-1].json
    assert sent["model"] == "loop-big" and sent["temperature"] == 0.3
    assert sent["messages"][-1] == {"role": "user", "content": "hi"}
    saved = core.store.load(session.id).messages[-1]
    assert (saved.content, saved.reasoning, saved.finish) == (
        "Hello from g4f.",
        "Thinking.",
        "stop",
    )


async def drain(core: Core, name: str = "g4f/LoopbackChat") -> None:
    async for _chunk in core.provider(name).stream(
        "loop-small", [{"role": "user", "content": "x"}]
    ):
        pass


@pytest.mark.parametrize(
    ("mode", "error", "says"),
    [
        ("401", MissingCredentials, "needs a key"),
        ("429", RateLimited, "rate limited"),
        ("500", ProviderError, "HTML content"),
    ],
)
async def test_g4fs_errors_become_ours_in_one_line(
    core: Core, server: OpenAIServer, mode: str, error: type, says: str
) -> None:
    server.mode = mode
    with pytest.raises(error) as caught:
        await drain(core)
    assert says in str(caught.value) and "\n" not in str(caught.value)
    assert str(caught.value).startswith("g4f/LoopbackChat: ")


async def test_a_refused_key_is_said_and_never_quoted(tmp_path: Path, server: OpenAIServer) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[providers."g4f/LoopbackChat"]\napi_key = "{KEY}"\n')
    server.api_key = "another-key-entirely"
    core = Core(load(path), SessionStore(tmp_path / "sessions"))
    with pytest.raises(CredentialsRejected) as caught:
        await drain(core)
    await core.aclose()
    assert "key was refused" in str(caught.value) and KEY not in str(caught.value)
    assert server.requests[-1].headers["authorization"] == f"Bearer {KEY}"


async def test_an_unreachable_service_is_a_connect_failure(
    core: Core, server: OpenAIServer
) -> None:
    LoopbackChat.api_base = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(ConnectFailed, match="cannot reach the service"):
        await drain(core)


def test_a_g4f_name_needs_the_class_and_a_config_may_name_one(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('default_provider = "g4f/NoSuchThing"\n')
    config = load(path)  # the extra is there: the class is looked for when it is used
    core = Core(config, SessionStore(tmp_path / "sessions"))
    with pytest.raises(ProviderError, match="no g4f provider named 'NoSuchThing'"):
        core.provider("g4f/NoSuchThing")
    path.write_text('default_provider = "nosuch"\n')
    with pytest.raises(ConfigError, match="unknown provider 'nosuch'"):
        load(path)


def test_listing_g4f_looks_up_and_connects_to_nothing_and_without_it_g4f_is_not_loaded() -> None:
    # An audit hook sees every real name lookup and connection the process makes. g4f 8.8's
    # G4FSpace fetches a file when imported: the listing leaves it out, unreached; imported
    # afterwards without the guard, the same module is seen reaching for the network.
    code = (
        "import sys\n"
        "seen = []\n"
        "net = ('socket.getaddrinfo', 'socket.connect')\n"
        "sys.addaudithook(lambda e, a: e in net and seen.append(e))\n"
        "from tui.providers import g4f_bridge\n"
        "names = g4f_bridge.names(include_not_working=True)\n"
        "print(len(names), len(seen), 'g4f/G4FSpace' in names)\n"
        "from g4f.Provider import ProviderLoader\n"
        "try:\n"
        "    ProviderLoader.from_name('G4FSpace')\n"
        "except Exception:\n"
        "    pass\n"
        "print(len(seen) > 0)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    first, second = out.stdout.splitlines()
    count, lookups, listed = first.split()
    assert int(count) > 40 and lookups == "0" and listed == "False", out.stderr[-2000:]
    assert second == "True"  # the hook does see what an unguarded import does
    # The app and the commands that list nothing import no g4f, installed or not.
    check = "import sys, tui.__main__, tui.cli, tui.config, tui.chat; print('g4f' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr

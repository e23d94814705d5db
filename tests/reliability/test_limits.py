"""Resource limits: a runaway server ends with a clear error, not with all the memory.

Two bounds protect memory: a line of an SSE or NDJSON stream may hold 1 Mi characters
(tui/providers/sse.py MAX_LINE), and a reply 4 million characters (base.MAX_REPLY_CHARS;
VoiGpt's one JSON body 8 MiB). Each test runs the real default bound against a loopback
server that would go on for ever, and measures the peak of Python's allocations
(tracemalloc, which sees every thread) while it runs.
"""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.servers import (
    LoopbackServer,
    OllamaServer,
    OpenAIServer,
    RaycastServer,
    VoiGptServer,
)
from tui.__main__ import main as chatterm_main
from tui.chat import Core, Exchange
from tui.config import Config, ProviderConfig
from tui.providers.base import MAX_REPLY_CHARS
from tui.providers.errors import ResponseTooLarge
from tui.providers.sse import MAX_LINE
from tui.providers.voigpt import VoiGptProvider
from tui.store import SessionStore

MB = 1 << 20
STREAMING: dict[str, type[LoopbackServer]] = {
    "raycast": RaycastServer,
    "openai": OpenAIServer,
    "ollama": OllamaServer,
}
HELLO = [{"role": "user", "content": "hello"}]


async def peak_while(run: Callable[[], Awaitable[Any]]) -> tuple[Any, float]:
    """(result, peak MiB allocated above the start) while *run* runs."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start, _ = tracemalloc.get_traced_memory()
        result = await run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, (peak - start) / MB


async def count_until_error(provider: Any) -> tuple[int, Exception | None]:
    """Characters streamed before the error, holding none of them (a test must not be the
    thing that eats memory)."""
    count = 0
    try:
        async for chunk in provider.stream("", HELLO):
            count += len(chunk)
    except Exception as err:
        return count, err
    return count, None


@pytest.mark.parametrize("kind", sorted(STREAMING))
async def test_a_line_past_the_bound_ends_the_reply_with_a_clear_error(
    kind: str, make_provider, record_property
) -> None:
    with STREAMING[kind](reply="Hello there", mode="huge_line") as server:
        provider = make_provider(kind, base_url=server.base_url, api_key="k-limits")
        (count, err), peak = await peak_while(lambda: count_until_error(provider))
    assert isinstance(err, ResponseTooLarge), err
    assert str(err).startswith(f"{kind}: a line of the stream passed 1 million characters")
    assert "check base_url" in str(err)
    assert count == len("Hello ")  # the text before the line came through
    record_property("figure", f"{kind}: line past {MAX_LINE} chars -> peak +{peak:.1f} MiB")
    # The server's own 1 MiB frame counts here too (~3-4 MiB measured in all).
    assert peak < 8, f"{peak:.1f} MiB held for a 1 MiB line bound"


@pytest.mark.parametrize("kind", sorted(STREAMING))
async def test_a_reply_that_never_ends_is_stopped_at_the_bound(
    kind: str, make_provider, record_property
) -> None:
    with STREAMING[kind](reply="Hello there", mode="endless") as server:
        provider = make_provider(kind, base_url=server.base_url, api_key="k-limits")
        (count, err), peak = await peak_while(lambda: count_until_error(provider))
        sent = len(server.requests)
    assert isinstance(err, ResponseTooLarge), err
    assert "the reply passed 4 million characters and was stopped" in str(err)
    assert MAX_REPLY_CHARS - 2 * 65536 < count <= MAX_REPLY_CHARS
    assert sent == 1
    record_property(
        "figure", f"{kind}: endless reply, {count} chars streamed -> peak +{peak:.1f} MiB"
    )
    # The provider streams: it holds a few 64 KiB frames, never the reply (~1 MiB measured).
    assert peak < 3, f"{peak:.1f} MiB held while streaming"


async def test_a_whole_json_body_that_never_ends_is_stopped_at_8_mib(
    make_provider, record_property
) -> None:
    with VoiGptServer(mode="endless") as server:
        provider = make_provider("voigpt", base_url=server.base_url)
        (count, err), peak = await peak_while(lambda: count_until_error(provider))
    assert isinstance(err, ResponseTooLarge), err
    assert "the VoiGpt answer passed 8 MiB and was stopped" in str(err)
    assert count == 0
    record_property("figure", f"voigpt: endless JSON body -> peak +{peak:.1f} MiB")
    assert peak < 3 * VoiGptProvider.max_body / MB


async def test_a_runaway_reply_through_the_core_is_saved_up_to_the_bound(
    tmp_path: Path, record_property
) -> None:
    """The whole path (provider, cleaner, saving): memory stays a small multiple of the
    bound, and the saved partial reply holds what arrived, marked as an error."""
    with OpenAIServer(reply="Hello there", mode="endless") as server:
        config = Config(path=tmp_path / "config.toml")
        config.providers["openai"] = ProviderConfig(
            name="openai", kind="openai", base_url=server.base_url
        )
        store = SessionStore(tmp_path / "sessions")
        core = Core(config, store)
        session = store.new("openai", "gpt-4o-mini")
        exchange = Exchange(core, session, "go on", provider="openai", model="gpt-4o-mini")

        async def run() -> Exception | None:
            try:
                async for _text in exchange.chunks():
                    pass
            except Exception as err:
                return err
            finally:
                await core.aclose()
            return None

        err, peak = await peak_while(run)
    assert isinstance(err, ResponseTooLarge)
    saved = store.load(session.id).messages[-1]
    assert saved.status == "error" and "4 million characters" in saved.error
    assert MAX_REPLY_CHARS - 2 * 65536 < len(saved.content) <= MAX_REPLY_CHARS
    record_property(
        "figure",
        f"core + store: endless reply, saved {len(saved.content)} chars -> peak +{peak:.1f} MiB",
    )
    # The reply itself is kept (4 MB) and written as TOML: a few copies of it at the moment
    # of a save (~20 MiB measured), and nothing that grows with what the server sends.
    assert peak < 8 * MAX_REPLY_CHARS / MB, f"{peak:.1f} MiB"


@pytest.mark.parametrize("value", ['"lots"', "-5", "0", "true", "1.5"])
def test_a_wrong_max_reply_chars_is_a_usage_error_naming_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, value: str
) -> None:
    with OpenAIServer() as server:
        path = tmp_path / "config.toml"
        path.write_text(
            f'default_provider = "openai"\n[providers.openai]\nbase_url = "{server.base_url}"\n'
            f"max_reply_chars = {value}\n",
            "utf-8",
        )
        os.chmod(path, 0o600)
        monkeypatch.setenv("CHATTERM_CONFIG", str(path))
        code = chatterm_main(["ask", "hi"])
        _, err = capsys.readouterr()
        assert server.requests == []  # nothing was sent
    assert code == 2
    [line] = err.splitlines()
    assert "max_reply_chars in [providers.openai]" in line and "positive whole number" in line

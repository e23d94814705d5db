"""Hostile servers: every request ends, in bounded memory, at its origin.

A server that trickles bytes, streams events without text for ever, sends one event
without end or a decompression bomb, redirects elsewhere, or frames events loosely: each
ends with one clear error within about request_timeout, with the process's peak RSS
barely above a normal reply's, and never sends the conversation to another origin.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.hostile_servers import ForeverServer, RedirectServer, TrickleServer
from tests.servers import OpenAIServer, Raw, RaycastServer, VoiGptServer, drain
from tui.providers.errors import BadSetting, ProviderTimeout

CHATTERM = str(Path(sys.executable).with_name("chatterm"))
HELLO = [{"role": "user", "content": "hello"}]
KEY = "k-hostile-0001"
TIMEOUT = 1.0  # request_timeout of the timing cases
MB = 1 << 20


async def drain_within(provider: Any, seconds: float = 20) -> tuple[Any, float]:
    """(Drained, seconds taken); a stream that never ends fails the test, not the run."""
    started = time.monotonic()
    drained = await asyncio.wait_for(drain(provider, HELLO), seconds)
    took = time.monotonic() - started
    print(f"\n{provider.name}: {took:.2f} s: {drained.error}")  # the figures in the docs
    return drained, took


# -- 1. slow headers, trickled bodies -------------------------------------------------------
@pytest.mark.parametrize("kind", ["openai", "raycast", "ollama", "voigpt"])
async def test_slow_headers_time_out_within_request_timeout(kind: str, make_provider) -> None:
    with TrickleServer(interval=0.4) as server:
        provider = make_provider(kind, base_url=server.url, api_key=KEY, timeout=TIMEOUT)
        drained, took = await drain_within(provider)
    assert isinstance(drained.error, ProviderTimeout), drained.error
    assert "within 1 s (request_timeout)" in str(drained.error)
    assert took < 3 * TIMEOUT + 1, took


TRICKLED = {
    "openai": b"data: " + b" " * 200,
    "raycast": b"data: " + b" " * 200,
    "ollama": b'{"message": ' + b" " * 200,
}


@pytest.mark.parametrize("kind", sorted(TRICKLED))
async def test_a_body_that_trickles_without_an_event_times_out(kind: str, make_provider) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
    with TrickleServer(head=head, body=TRICKLED[kind], head_complete=True, interval=0.3) as server:
        provider = make_provider(kind, base_url=server.url, api_key=KEY, timeout=TIMEOUT)
        drained, took = await drain_within(provider)
    assert isinstance(drained.error, ProviderTimeout), drained.error
    assert took < 3 * TIMEOUT + 1, took


# -- 2. progress means text -----------------------------------------------------------------
EMPTY_EVENTS = {
    "openai-delta": ("openai", b'data: {"choices":[{"index":0,"delta":{}}]}\n\n'),
    "openai-content": ("openai", b'data: {"choices":[{"delta":{"content":""}}]}\n\n'),
    "openai-ping": ("openai", b": ping\n\n"),
    "raycast-text": ("raycast", b'data: {"text":""}\n\n'),
    "ollama-content": ("ollama", b'{"message":{"role":"assistant","content":""},"done":false}\n'),
}


@pytest.mark.parametrize("case", sorted(EMPTY_EVENTS))
async def test_events_without_text_stop_after_request_timeout_saying_how_many(
    case: str, make_provider
) -> None:
    kind, frame = EMPTY_EVENTS[case]
    # thousands of events a second, but short of the 8 MiB bound on bytes without text
    with ForeverServer(frame=frame, batch=4096, interval=0.005) as server:
        provider = make_provider(kind, base_url=server.url, api_key=KEY, timeout=TIMEOUT)
        drained, took = await drain_within(provider)
    error = str(drained.error)
    assert isinstance(drained.error, ProviderTimeout), error
    assert f"no text from {server.url} in 1 s (" in error and "events without text" in error
    assert took < 3 * TIMEOUT + 1, took


def test_ask_falls_back_when_the_first_provider_sends_only_empty_events(
    tmp_path: Path,
) -> None:
    frame = b'data: {"choices":[{"delta":{}}]}\n\n'
    with ForeverServer(frame=frame, batch=4096, interval=0.005) as server:
        config = write_config(tmp_path, "openai", server.url, 'fallback = ["echo"]')
        result = run_ask(tmp_path, config)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip(), "echo should have answered"
    assert "no text from" in result.stderr and "trying echo" in result.stderr


# -- 3. memory: unbounded events and decompression bombs, measured on the real command ------
RSS_HELPER = """
import resource, subprocess, sys
def limit():  # a failure must not take the machine's memory with it
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
r = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=60, preexec_fn=limit)
sys.stdout.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) + "\\n")
sys.stdout.write(str(r.returncode) + "\\n" + r.stderr)
"""
# 8 MiB without text, or request_timeout without text on a busy machine: both say so
NO_TEXT = r"8 MiB of the stream came without any text|no text from \S+ in 5 s \(.* without text"
DATA_LINE = b"data: " + b"x" * 1000 + b"\n"  # an event that never gets its blank line
BOMBS = {  # name: (kind, frame, gzip layers, what the error says)
    "openai-event": ("openai", DATA_LINE, 0, "an event of the stream passed 1 million"),
    "raycast-event": ("raycast", DATA_LINE, 0, "an event of the stream passed 1 million"),
    "openai-gzip-event": ("openai", DATA_LINE, 1, "an event of the stream passed 1 million"),
    "openai-gzip-newlines": ("openai", b"\n", 1, NO_TEXT),
    "openai-gzip2-newlines": ("openai", b"\n", 2, NO_TEXT),
    "ollama-gzip-newlines": ("ollama", b"\n", 1, NO_TEXT),
    "voigpt-gzip2-body": ("voigpt", b"y" * 1024, 2, "answer passed 8 MiB"),
}
FIGURES: dict[str, tuple[float, float]] = {}  # name: (RSS growth MiB, seconds to the error)


def write_config(tmp_path: Path, kind: str, url: str, extra: str = "") -> Path:
    config = tmp_path / "config.toml"
    lines = [f'default_provider = "{kind}"', "request_timeout = 5", extra]
    lines += [f"[providers.{kind}]", f'base_url = "{url}"', f'api_key = "{KEY}"']
    if kind == "voigpt":
        lines.append('access_token = "tokenforthetest"')
    config.write_text("\n".join(lines) + "\n", "utf-8")
    config.chmod(0o600)
    return config


def run_ask(tmp_path: Path, config: Path) -> subprocess.CompletedProcess[str]:
    env = {"CHATTERM_CONFIG": str(config), "CHATTERM_DATA_DIR": str(tmp_path / "data")}
    env |= {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    command = [CHATTERM, "ask", "hello"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def peak_rss(tmp_path: Path, config: Path) -> tuple[float, int, str, float]:
    """(peak RSS MiB, exit code, stderr, seconds) of one `chatterm ask` run."""
    env = {"CHATTERM_CONFIG": str(config), "CHATTERM_DATA_DIR": str(tmp_path / "data")}
    env |= {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", RSS_HELPER, CHATTERM, "ask", "hello"],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    ).stdout
    took = time.monotonic() - started
    rss, code, *err = out.split("\n")
    return int(rss) / 1024, int(code), "\n".join(err).strip(), took


@pytest.fixture(scope="module")
def baseline_rss(tmp_path_factory: pytest.TempPathFactory) -> float:
    tmp_path = tmp_path_factory.mktemp("baseline")
    with OpenAIServer(reply="Hello there") as server:
        rss, code, err, _ = peak_rss(tmp_path, write_config(tmp_path, "openai", server.base_url))
    assert code == 0, err
    return rss


@pytest.mark.parametrize("name", list(BOMBS))
def test_unbounded_events_and_gzip_bombs_end_clearly_in_bounded_memory(
    name: str, tmp_path: Path, baseline_rss: float, record_property
) -> None:
    kind, frame, layers, says = BOMBS[name]
    preamble = b'{"response":"' if kind == "voigpt" else b""
    content = "application/json" if kind == "voigpt" else "text/event-stream"
    with ForeverServer(frame=frame, gzip=layers, preamble=preamble, content_type=content) as srv:
        rss, code, err, took = peak_rss(tmp_path, write_config(tmp_path, kind, srv.url))
    growth = rss - baseline_rss
    FIGURES[name] = (growth, took)
    record_property("rss_growth_mib", round(growth, 1))
    print(f"\n{name}: peak RSS {rss:.0f} MiB (+{growth:.0f} over a normal reply), {took:.1f} s")
    assert code == 1, err
    [line] = err.splitlines()
    assert line.startswith(f"chatterm: {kind}: ") and re.search(says, line), line
    assert growth < 100, f"peak RSS grew by {growth:.0f} MiB"


def test_a_gzip_bomb_in_an_error_body_is_quoted_in_bounded_memory(
    tmp_path: Path, baseline_rss: float
) -> None:
    with ForeverServer(frame=b"<p>busy</p>", gzip=2, status=500, content_type="text/html") as srv:
        rss, code, err, took = peak_rss(tmp_path, write_config(tmp_path, "openai", srv.url))
    print(f"\nerror-body bomb: peak RSS +{rss - baseline_rss:.0f} MiB, {took:.1f} s")
    assert code == 1 and "HTTP 500" in err and "busy" in err, err
    assert rss - baseline_rss < 100


# -- 4. redirects ---------------------------------------------------------------------------
@pytest.mark.parametrize("status", [307, 308])
async def test_a_redirect_to_another_origin_is_reported_and_not_followed(
    status: int, make_provider
) -> None:
    with OpenAIServer() as other:
        target = f"http://alice:hunter2@127.0.0.1:{other.port}/v1/chat/completions"
        with RedirectServer(location=target, status=status) as server:
            provider = make_provider("openai", base_url=server.url + "/v1", api_key=KEY)
            drained, _ = await drain_within(provider)
        assert other.requests == [], "the conversation reached another origin"
    error = str(drained.error)
    assert drained.text == "" and drained.error is not None
    assert f"redirected to http://alice:•••@127.0.0.1:{other.port}/v1/chat/completions" in error
    assert "set base_url to" in error and "hunter2" not in error


async def test_voigpt_home_page_redirect_to_another_origin_is_not_followed(
    make_provider,
) -> None:
    with VoiGptServer() as other, RedirectServer(location=other.url + "/", status=302) as server:
        provider = make_provider("voigpt", base_url=server.url)
        drained, _ = await drain_within(provider)
        assert other.requests == []
    assert "redirected to" in str(drained.error)


class MovedOpenAI(OpenAIServer):
    """/old/chat/completions moved (308) to /v1/chat/completions on the same server."""

    def routes(self) -> list[Any]:
        def moved(ex: Any, mode: str) -> None:
            ex.head(308, [("Location", "/v1/chat/completions")], length=0)

        old = ("POST", lambda p: p == "/old/chat/completions", "aux", moved)
        return [old, *super().routes()]


async def test_a_redirect_on_the_same_origin_is_still_followed(make_provider) -> None:
    with MovedOpenAI(reply="Same place") as server:
        provider = make_provider("openai", base_url=server.url + "/old", api_key=KEY)
        drained, _ = await drain_within(provider)
    assert drained.error is None and drained.text == "Same place"


# -- 5. Raycast framing ---------------------------------------------------------------------
def sse_answer(body: bytes) -> Raw:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: {len(body)}"
    return Raw(head.encode() + b"\r\n\r\n" + body)


async def test_raycast_data_lines_without_blank_lines_are_read_one_by_one(
    make_provider,
) -> None:
    with RaycastServer() as server:
        server.script(sse_answer(b'data: {"text":"A"}\ndata: {"text":"B"}\n\n'))
        provider = make_provider("raycast", base_url=server.url, api_key=KEY)
        drained, _ = await drain_within(provider)
    assert drained.error is None and drained.text == "AB"


async def test_raycast_joined_event_that_is_not_json_line_by_line_still_fails(
    make_provider,
) -> None:
    with RaycastServer() as server:
        server.script(sse_answer(b'data: {"text":"A"}\ndata: {text: B}\n\n'))
        provider = make_provider("raycast", base_url=server.url, api_key=KEY)
        drained, _ = await drain_within(provider)
    assert "not JSON" in str(drained.error)


# -- 6. seed headers ------------------------------------------------------------------------
async def test_raycast_sends_the_raycast_apps_user_agent(make_provider) -> None:
    with RaycastServer(reply="Hi") as server:
        drained, _ = await drain_within(make_provider("raycast", base_url=server.url, api_key=KEY))
        assert drained.error is None
        ua = server.requests[-1].headers["user-agent"]
    assert ua == "Raycast/0 CFNetwork/1410.0.3 Darwin/22.6.0"


async def test_voigpt_sends_a_browsers_headers_on_the_home_page_and_the_post(
    make_provider,
) -> None:
    with VoiGptServer(reply="Hi") as server:
        drained, _ = await drain_within(make_provider("voigpt", base_url=server.url))
        assert drained.error is None
        sent = [(r.method, r.headers) for r in server.requests]
    assert [method for method, _ in sent] == ["GET", "POST"]
    for _, headers in sent:
        assert "Chrome/13" in headers["user-agent"] and "Windows NT" in headers["user-agent"]
        assert headers["accept-language"].startswith("en-US,en;q=")


@pytest.mark.parametrize("kind", ["raycast", "voigpt"])
async def test_user_agent_setting_overrides_the_seed(kind: str, make_provider) -> None:
    server_class = RaycastServer if kind == "raycast" else VoiGptServer
    with server_class(reply="Hi") as server:
        provider = make_provider(
            kind, base_url=server.url, api_key=KEY, options={"user_agent": "Mine/1.0"}
        )
        drained, _ = await drain_within(provider)
        assert drained.error is None
        assert {r.headers["user-agent"] for r in server.requests} == {"Mine/1.0"}


@pytest.mark.parametrize("kind", ["raycast", "voigpt"])
async def test_a_user_agent_with_control_characters_is_a_setting_error(
    kind: str, make_provider
) -> None:
    server_class = RaycastServer if kind == "raycast" else VoiGptServer
    with server_class(reply="Hi") as server:
        bad = "Mine/1.0\r\nX-Evil: 1"
        provider = make_provider(
            kind, base_url=server.url, api_key=KEY, options={"user_agent": bad}
        )
        drained, _ = await drain_within(provider)
        assert server.requests == []
    assert isinstance(drained.error, BadSetting), drained.error
    assert "user_agent" in str(drained.error) and "X-Evil" not in str(drained.error)

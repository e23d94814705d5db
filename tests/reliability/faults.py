"""The fault matrix's axes (providers × failures) and how one cell is set up and judged.

A cell is one provider answering one first prompt badly. It is set up the way a user meets
it: a config file naming the provider (its ``base_url`` broken, for the network faults) and
a loopback server of that provider's wire format answering in the fault's mode. The same
cell runs through ``chatterm ask`` (in-process and as the installed command) and the app.
"""

from __future__ import annotations

import functools
import os
import re
import ssl
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.servers import (
    ENDLESS_PIECE,
    AnthropicServer,
    GeminiServer,
    LoopbackServer,
    OllamaServer,
    OpenAIServer,
    RaycastServer,
    VoiGptServer,
    free_port,
    self_signed_tls,
)

PROVIDERS = ("raycast", "voigpt", "openai", "ollama", "groq", "anthropic", "gemini")
KIND = {"groq": "openai"}  # groq: a declared OpenAI-compatible instance
SERVERS: dict[str, type[LoopbackServer]] = {
    "raycast": RaycastServer,
    "voigpt": VoiGptServer,
    "openai": OpenAIServer,
    "ollama": OllamaServer,
    "groq": OpenAIServer,
    "anthropic": AnthropicServer,
    "gemini": GeminiServer,
}
KEYS = {
    "raycast": "rc-fault-KEY-0001",
    "openai": "sk-fault-KEY-0002",
    "groq": "gsk-fault-KEY-3",
    "anthropic": "sk-ant-fault-KEY-4",
    "gemini": "AIza-fault-KEY-5",
}
STREAMING = {
    "raycast",
    "openai",
    "ollama",
    "groq",
    "anthropic",
    "gemini",
}  # voigpt answers in one JSON piece
REPLY = "Partial words arrive first, then the rest of the answer."
PROMPT, NEXT_PROMPT = "hello there", "and now?"
ENDLESS_LIMIT = 300_000  # max_reply_chars in the endless cells
UNRESOLVABLE = "chatterm-fault.invalid"  # RFC 6761: .invalid never resolves
# Every failure line ends by saying what to do; these are the verbs it can use.
ACTION = re.compile(
    r"\b(check|try again|set|raise|run `|retry after|choose|ask for)\b", re.IGNORECASE
)


@dataclass(frozen=True)
class Fault:
    id: str
    title: str  # the column heading of the printed table
    says: str  # regex: the line names what failed
    mode: str = "normal"  # the server's mode for the first prompt
    url: str = ""  # how base_url is broken: refused, dns, tls, wrong_path
    partial: bool = False  # a streaming provider has shown text before the fault
    timeout: float = 10.0  # request_timeout in the config
    usage: frozenset[str] = frozenset()  # providers for which this is a usage error (exit 2)
    fine: frozenset[str] = frozenset()  # providers for which this is no fault at all
    settings: str = ""  # extra lines for the provider's table in config.toml


FAULTS = (
    Fault("refused", "refused", r"cannot reach .*server is running", url="refused"),
    Fault("dns", "DNS", rf"cannot find the host {re.escape(UNRESOLVABLE)}", url="dns"),
    Fault("tls", "TLS", r"secure \(TLS\) connection .* failed", url="tls"),
    Fault(
        "tls_cert",
        "TLS cert",
        r"certificate of https://\S+ is not trusted .*CERTIFICATE_VERIFY_FAILED",
        url="tls_cert",
    ),
    Fault("wrong_url", "404 URL", r"HTTP 404 .*check base_url", url="wrong_path"),
    Fault("401", "401", r"refused the credentials \(HTTP 401\)", mode="401"),
    Fault("403", "403", r"\(HTTP 403\)", mode="403"),
    Fault(
        "404_model",
        "404 model",
        r"HTTP 404|not pulled",
        mode="404",
        usage=frozenset({"ollama", "gemini"}),  # the model named is not there: a usage error
    ),
    Fault(  # the server's own words, if any, then the wait (120 s)
        "429", "429 long", r'rate limited \(HTTP 429\)(: "[^"]*")?; retry after 2 min', mode="429"
    ),
    Fault("500", "500 HTML", r"HTTP 500 .*Internal Server Error", mode="500"),
    Fault("drop", "dropped", r"was cut", mode="drop"),
    Fault("cut", "cut", r"was cut", mode="cut", partial=True),
    Fault(
        "not_json", "bad line", r"not JSON|without its JSON reply", mode="not_json", partial=True
    ),
    Fault(
        "wrong_shape",
        "wrong shape",
        r"malformed|not an object|non-text|without its JSON reply",
        mode="wrong_shape",
    ),
    Fault("empty", "empty", r"empty reply", mode="empty"),
    Fault("error_event", "error event", r"reported an error", mode="error_event", partial=True),
    # 2 s, not less: the deadline runs from the request, and on a machine with more busy
    # processes than cores the first chunk (the "partial" text) once took longer than 0.5 s
    # to arrive, so the cell ended before any text and reported it lost.
    Fault("stall", "stall", r"request_timeout", mode="stall", partial=True, timeout=2.0),
    Fault(
        "huge_line",
        "huge line",
        r"a line of the stream passed",
        mode="huge_line",
        partial=True,
        fine=frozenset({"voigpt"}),  # no lines: a 1 MiB JSON reply is within its 8 MiB bound
    ),
    Fault(
        "endless",
        "endless",
        rf"reply passed {ENDLESS_LIMIT} characters|answer passed 8 MiB",
        mode="endless",
        partial=True,
        # The user's own lower bound, so the cell is quick; test_limits.py runs the 4 MB one.
        settings=f"max_reply_chars = {ENDLESS_LIMIT}",
    ),
)
FAULT = {f.id: f for f in FAULTS}


@dataclass
class Cell:
    """One provider × one fault, with its server, config file and data folder."""

    provider: str
    fault: Fault
    server: LoopbackServer
    config_path: Path
    data_dir: Path

    @property
    def kind(self) -> str:
        return KIND.get(self.provider, self.provider)

    @property
    def expect_error(self) -> bool:
        return self.provider not in self.fault.fine

    @property
    def exit_code(self) -> int:
        if not self.expect_error:
            return 0
        return 2 if self.provider in self.fault.usage else 1

    @property
    def shows_partial(self) -> bool:
        return self.fault.partial and self.provider in STREAMING

    def broken_url(self) -> str:
        server, how = self.server, self.fault.url
        if how == "refused":
            return f"http://127.0.0.1:{free_port()}{server.base_path}"
        if how == "dns":
            return f"http://{UNRESOLVABLE}{server.base_path}"
        if how == "tls":  # https:// to a plain-HTTP port: the handshake gets an HTTP answer
            return f"https://127.0.0.1:{server.port}{server.base_path}"
        if how == "tls_cert":  # a real handshake, with a self-signed certificate
            return f"https://127.0.0.1:{server.port}{server.base_path}"
        if how == "wrong_path":
            return f"{server.url}/wrong{server.base_path}"
        return server.base_url

    def write_config(self, base_url: str, timeout: float | None = None) -> None:
        lines = [
            f'default_provider = "{self.provider}"',
            f"request_timeout = {self.fault.timeout if timeout is None else timeout}",
            f"[providers.{self.provider}]",
            f'kind = "{self.kind}"',
            f'base_url = "{base_url}"',
        ]
        if key := KEYS.get(self.provider):
            lines.append(f'api_key = "{key}"')
        if self.fault.settings:
            lines.append(self.fault.settings)
        self.config_path.write_text("\n".join(lines) + "\n", "utf-8")
        os.chmod(self.config_path, 0o600)  # holds a key: no permissions warning on stderr

    def heal(self) -> None:
        """The user fixes base_url, the service recovers: the next prompt must work. The
        request_timeout goes back to the default too: the stall cell's 2 s is there to
        make the fault quick, and a busy test machine can miss it on a healthy reply."""
        self.server.mode = "normal"
        self.write_config(self.server.base_url, timeout=Fault.timeout)

    def env(self) -> dict[str, str]:
        """The environment of a ``chatterm`` subprocess for this cell."""
        env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
        env.pop("OLLAMA_HOST", None)
        env["CHATTERM_CONFIG"] = str(self.config_path)
        env["CHATTERM_DATA_DIR"] = str(self.data_dir)
        return env

    def sessions(self) -> list[dict[str, Any]]:
        root = self.data_dir / "sessions"
        return [tomllib.loads(p.read_text("utf-8")) for p in sorted(root.glob("*.toml"))]

    def chat_requests(self) -> list[Any]:
        """The chat requests (VoiGpt also GETs its home page for a token)."""
        return self.server.chat_requests


@functools.cache
def untrusted_tls() -> ssl.SSLContext | None:
    """One self-signed certificate per test process (a few ms of openssl)."""
    with tempfile.TemporaryDirectory() as directory:
        return self_signed_tls(Path(directory))


@contextmanager
def make_cell(provider: str, fault: Fault, tmp_path: Path) -> Iterator[Cell]:
    tls = None
    if fault.url == "tls_cert" and (tls := untrusted_tls()) is None:
        pytest.skip("the openssl command is needed to make a certificate")
    server = SERVERS[provider](reply=REPLY, mode=fault.mode, retry_after="120", stall=20.0, tls=tls)
    with server:
        cell = Cell(provider, fault, server, tmp_path / "config.toml", tmp_path / "data")
        cell.write_config(cell.broken_url())
        yield cell


def check_failed_ask(cell: Cell, code: int, out: str, err: str) -> dict[str, Any]:
    """What `chatterm ask` must do on a fault; returns the saved reply."""
    assert "Traceback" not in out + err, err
    assert code == cell.exit_code, (code, err)
    [saved] = cell.sessions()
    user, reply = saved["messages"]
    assert (user["role"], user["content"]) == ("user", PROMPT)
    if not cell.expect_error:
        assert reply["status"] == "complete" and err == ""
        return reply
    lines = err.splitlines()
    assert len(lines) == 1, lines  # exactly one line says what happened
    line = lines[0]
    assert line.startswith(f"chatterm: {cell.provider}: "), line
    assert re.search(cell.fault.says, line), line  # what failed
    assert ACTION.search(line), line  # what to do
    assert "<" not in line and "\x1b" not in line, line
    assert reply["status"] == "error"
    assert reply["error"] == line.removeprefix("chatterm: ")
    # What streamed before the fault is printed, and saved, exactly.
    assert out == (reply["content"] + "\n" if reply["content"] else ""), (out[:80], reply)
    check_partial(cell, reply["content"])
    return reply


def check_partial(cell: Cell, content: str) -> None:
    if not cell.shows_partial:
        assert content == "", content[:80]
        return
    assert content, "the text that arrived before the fault was lost"
    if cell.fault.id in ("huge_line", "endless"):
        assert content.startswith(REPLY.split()[0])
        if cell.fault.id == "endless":  # what arrived up to the bound is kept
            assert ENDLESS_LIMIT - 2 * ENDLESS_PIECE < len(content) <= ENDLESS_LIMIT
    else:
        assert REPLY.startswith(content), content


def check_next_ask(cell: Cell, code: int, out: str, err: str) -> None:
    """After the fault, `chatterm ask -c` works against the healed server."""
    assert code == 0, err
    assert out == REPLY + "\n"
    [saved] = cell.sessions()
    messages = saved["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[2]["content"] == NEXT_PROMPT
    assert (messages[3]["status"], messages[3]["content"]) == ("complete", REPLY)
    sent = cell.chat_requests()[-1].json
    assert NEXT_PROMPT in str(sent) and PROMPT in str(sent)

"""Loopback HTTP servers that speak each provider's wire format byte for byte.

The HTTP/1.1 is written by hand so every fault is exact: streams use chunked transfer
encoding (a cut mid-stream is a really incomplete chunked body), JSON uses Content-Length.
Each server runs in background threads, so the same server serves async tests in-process
and a ``chatterm`` subprocess alike. They bind 127.0.0.1 only; the proxy forwards to
loopback targets only, so nothing here can reach the internet.

In tests::

    with OpenAIServer(reply="Hello there", api_key="sk-test-SECRET123") as server:
        settings = ProviderSettings(name="openai", kind="openai", base_url=server.base_url, ...)
        ...
        assert server.requests[-1].json["model"] == "gpt-4o-mini"

Servers and their endpoints (``server.base_url`` is what goes in ProviderSettings.base_url):

- ``OpenAIServer``: POST .../chat/completions (SSE, ``data: [DONE]``), GET .../models.
  ``base_url`` ends in /v1, like the real one. Its own keywords: ``reasoning`` (str, split
  per word, or a list of exact pieces: sent before the reply, one delta each, ``delay``
  apart), ``reasoning_field`` ("reasoning_content" as DeepSeek and vLLM send it, with
  ``"content": null``; "reasoning" as OpenRouter sends it, with ``"content": ""``),
  ``finish_reason`` (of the last choice chunk, default "stop"), ``usage_shape`` (the
  usage chunk: "empty_choices" as OpenAI sends it, ``"choices": []``; "in_choices" as
  LiteLLM's proxy sends it, ``"choices": [{"index": 0, "delta": {}, ...}]``; None: none).
  A first chunk with only the role (and ``"content": ""``) opens every stream.
- ``OllamaServer``: POST /api/chat (NDJSON), GET /api/tags. Its own keywords:
  ``thinking`` (like ``reasoning`` above: lines with ``message.thinking`` and an empty
  ``content``, before the reply) and ``done_reason`` (of the final line, default "stop";
  that line always has ``prompt_eval_count`` 26 and ``eval_count`` = the reply's pieces).
- ``RaycastServer``: POST /api/v1/ai/chat_completions (SSE ``data: {"text": ...}``).
- ``VoiGptServer``: GET / (sets the csrftoken cookie), POST /generate_response/ (JSON);
  the POST needs cookie == X-CSRFToken == a token it issued, else a Django 403 page.
- ``ForwardProxy``: a plain-HTTP forward proxy; records each absolute-form request line.

Constructor keywords (all servers): ``reply`` (str, or a list of exact chunks), ``chunks``
(split the reply into N near-equal pieces; default: one piece per word), ``delay`` (seconds
between chunks), ``mode``, ``aux_mode``, ``api_key`` (when set, a request without
``Authorization: Bearer <api_key>`` gets 401), ``stall`` (seconds, default 30),
``retry_after`` (the 429's Retry-After value), ``models`` (for the model lists),
``host``, ``port`` (0: an ephemeral port), ``tls`` (an ``ssl.SSLContext``: a client that
opens with a TLS handshake gets TLS on the same port; ``self_signed_tls(dir)`` makes one
with a certificate no client trusts).

Modes: ``server.mode`` is how the chat endpoint answers every request; ``server.script(...)``
queues modes (or ``Raw`` byte strings) for the next chat requests, one each, before
falling back to ``mode``. ``server.aux_mode`` is how the secondary endpoint answers
(GET /models, GET /api/tags, VoiGpt's GET /).

    normal       the reply, streamed as the real service does
    401 403 404  the service's own error body (404 on Ollama: "model ... not found")
    429          with ``Retry-After: <retry_after>``
    500          an HTML page ``<html><head><title>500 Internal Server Error</title>...``
    drop         close the connection without answering
    cut          send half the chunks, then close without the terminating chunk
    not_json     after the first chunk, a line that is not JSON
    stall        send the headers and first chunk, then wait until the client gives up
                 (or ``stall`` seconds), then go on
    wrong_shape  valid JSON without the fields the protocol promises
    empty        a well-formed reply with no text
    huge_line    after the first chunk, one line longer than 1 MiB
    endless      after the first chunk, 64 KiB pieces of text until the client leaves (a
                 runaway reply; VoiGpt: a JSON body that never closes)
    error_event  an error object inside the 200 stream (VoiGpt: an {"error": ...} body)
    rotate_token VoiGpt: forget every issued token and answer 403, as a rotation would
    reject_stream_options  OpenAI: a request holding ``stream_options`` gets the 400 an
                 endpoint without it sends (``Unrecognized request argument supplied:
                 stream_options``); one without it is answered normally
    no_cookie    VoiGpt aux_mode: the home page sets no csrftoken cookie

Client-side helpers: ``drain(provider, messages, model, params=None)`` runs one exchange
and returns a ``Drained`` (``.chunks``: the text chunks only, ``.text``, ``.parts``: the
typed parts (Reasoning, Usage, Finish) in order, ``.reasoning``, ``.error``);
``free_port()`` is a port nothing listens on. Fixtures in tests/conftest.py:
``openai_server``, ``ollama_server``, ``raycast_server``, ``voigpt_server``,
``forward_proxy``, ``make_provider``.

Recorded requests: ``server.requests`` is a list of ``Request`` (method, target, path,
query, headers with lower-case names, body bytes; ``.json``, ``.bearer``, ``.cookies``);
``server.chat_requests`` only those for a reply.
The proxy also keeps ``proxy.request_lines`` ("GET http://127.0.0.1:PORT/ HTTP/1.1").

From a shell (benchmarks, manual trials)::

    python -m tests.servers KIND [--host 127.0.0.1] [--port 8765] [--reply TEXT]
        [--reply-file FILE] [--chunks N] [--delay SECONDS] [--mode MODE]
        [--aux-mode MODE] [--api-key KEY] [--stall SECONDS] [--models a,b,c]

KIND is openai, ollama, raycast, voigpt or proxy. It prints the base URL on the first
line of stdout, then serves until interrupted (Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import email.utils
import http
import ipaddress
import itertools
import json
import re
import secrets
import selectors
import shutil
import signal
import socket
import ssl
import string
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

DEFAULT_REPLY = "Hello from the loopback server. Streaming works."
HUGE_LINE = (1 << 20) + 4096  # just past the client's 1 MiB line bound
ENDLESS_PIECE = 1 << 16  # the text in each frame of the endless mode (well under a line bound)
# A stall ends as soon as the client leaves, so it can be long: a client starved of CPU on a
# busy machine must still find the server silent when it next looks (a short stall that
# resumed made the stall cells flaky). It never outlives a test by more than this.
MAX_STALL = 30.0
COMMON_MODES = frozenset(
    {"normal", "401", "403", "404", "429", "500", "drop", "cut", "not_json", "stall"}
    | {"wrong_shape", "empty", "huge_line", "error_event", "endless"}
)
_LINE_LIMIT = 65536
# (method, path test, "chat" or "aux", handler(exchange, mode))
Route = tuple[str, Callable[[str], bool], str, Callable[["Exchange", str], None]]


# -- what was asked ---------------------------------------------------------------------------
@dataclass
class Request:
    method: str
    target: str  # as on the request line: origin form, or absolute form through a proxy
    version: str
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes = b""

    @property
    def path(self) -> str:
        return urlsplit(self.target).path or "/"

    @property
    def query(self) -> str:
        return urlsplit(self.target).query

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def bearer(self) -> str | None:
        scheme, _, token = self.headers.get("authorization", "").partition(" ")
        return token if scheme.lower() == "bearer" else None

    @property
    def cookies(self) -> dict[str, str]:
        jar: dict[str, str] = {}
        for part in self.headers.get("cookie", "").split(";"):
            name, sep, value = part.strip().partition("=")
            if sep:
                jar[name] = value
        return jar

    @property
    def request_line(self) -> str:
        return f"{self.method} {self.target} {self.version}"


@dataclass(frozen=True)
class Raw:
    """Exact bytes to write as the whole answer to one request (then close, by default)."""

    data: bytes
    close: bool = True


class BadRequest(Exception):
    pass


def read_request(rfile: Any) -> Request | None:
    """One HTTP/1.1 request from a buffered socket file; None when the client closed."""
    line = rfile.readline(_LINE_LIMIT)
    while line in (b"\r\n", b"\n"):  # tolerated before a request line (RFC 9112 2.2)
        line = rfile.readline(_LINE_LIMIT)
    if not line:
        return None
    try:
        method, target, version = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    except ValueError:
        raise BadRequest("malformed request line") from None
    headers: dict[str, str] = {}
    while True:
        raw = rfile.readline(_LINE_LIMIT)
        if raw in (b"\r\n", b"\n", b""):
            break
        name, sep, value = raw.decode("latin-1").partition(":")
        if not sep:
            raise BadRequest("malformed header line")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    return Request(method, target, version, headers, _read_body(rfile, headers))


def _read_body(rfile: Any, headers: dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = bytearray()
        while True:
            size = int(rfile.readline(_LINE_LIMIT).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while rfile.readline(_LINE_LIMIT) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return bytes(body)
            body += rfile.read(size)
            rfile.readline(_LINE_LIMIT)
    length = int(headers.get("content-length", "0") or "0")
    return rfile.read(length) if length else b""


# -- how it is answered -----------------------------------------------------------------------
class Exchange:
    """One request on one connection, and the means to answer it byte for byte."""

    def __init__(self, server: LoopbackServer, sock: socket.socket, request: Request) -> None:
        self.server = server
        self.sock = sock
        self.request = request
        self.closed = False
        wants_close = "close" in request.headers.get("connection", "").lower()
        self.keep_alive = request.version == "HTTP/1.1" and not wants_close

    def send(self, data: bytes) -> None:
        """Write bytes now (OSError when the client has gone: the handler just stops)."""
        if data:
            self.sock.sendall(data)

    def head(
        self,
        status: int,
        headers: Iterable[tuple[str, str]] = (),
        *,
        length: int | None = None,
        chunked: bool = False,
    ) -> None:
        # 529 is Anthropic's own "overloaded", which the standard list does not have.
        reason = "Overloaded" if status == 529 else http.HTTPStatus(status).phrase
        lines = [f"HTTP/1.1 {status} {reason}", f"Date: {email.utils.formatdate(usegmt=True)}"]
        lines += [f"{name}: {value}" for name, value in headers]
        if chunked:
            lines.append("Transfer-Encoding: chunked")
        elif length is not None:
            lines.append(f"Content-Length: {length}")
        if not self.keep_alive:
            lines.append("Connection: close")
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def chunk(self, data: bytes) -> None:
        if data:  # an empty chunk would end the body
            self.send(b"%x\r\n%s\r\n" % (len(data), data))

    def end_chunks(self) -> None:
        self.send(b"0\r\n\r\n")

    def body(
        self, status: int, content_type: str, data: bytes, headers: Iterable[tuple[str, str]] = ()
    ) -> None:
        self.head(status, [("Content-Type", content_type), *headers], length=len(data))
        self.send(data)

    def json(self, status: int, obj: Any, headers: Iterable[tuple[str, str]] = ()) -> None:
        self.body(status, "application/json", dumps(obj), headers)

    def pause(self, seconds: float) -> None:
        """Sleep, but wake at once when the server closes (so shutdown never waits)."""
        if seconds > 0:
            self.server.stopping.wait(seconds)

    def stall(self, seconds: float) -> None:
        """Send nothing until the client closes the connection, the server closes, or
        *seconds* pass."""
        deadline = time.monotonic() + seconds
        with selectors.DefaultSelector() as selector:
            selector.register(self.sock, selectors.EVENT_READ)
            while not self.server.stopping.is_set() and time.monotonic() < deadline:
                if not selector.select(timeout=0.05):
                    continue
                try:
                    if not self.sock.recv(1024):
                        return  # the client closed: it gave up waiting
                except (OSError, ValueError):
                    return

    def cut(self) -> None:
        """Close the connection now, mid-answer if it is one."""
        self.closed = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


@dataclass
class Frames:
    """A streamed answer: what comes before, per piece and after, and the faulty lines."""

    opening: list[bytes]
    content: list[bytes]
    closing: list[bytes]
    wrong: list[bytes]  # content in the wrong shape
    bad: bytes  # a line that is not JSON
    error: bytes  # an error object inside the stream
    huge: bytes  # one line past the client's bound
    endless: bytes = b""  # one frame of ENDLESS_PIECE characters, repeated without end
    content_type: str = "text/event-stream; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


# -- the server -------------------------------------------------------------------------------
class LoopbackServer:
    """Base: threads, connections, request recording, modes. Subclasses add routes."""

    kind: ClassVar[str] = "base"
    modes: ClassVar[frozenset[str]] = COMMON_MODES
    aux_modes: ClassVar[frozenset[str]] = COMMON_MODES
    base_path: ClassVar[str] = ""

    def __init__(
        self,
        *,
        reply: str | Sequence[str] = DEFAULT_REPLY,
        chunks: int | None = None,
        delay: float = 0.0,
        mode: str = "normal",
        aux_mode: str = "normal",
        api_key: str | None = None,
        stall: float = MAX_STALL,
        retry_after: str = "7",
        models: Sequence[str] = (),
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.reply = reply
        self.chunks = chunks
        self.delay = delay
        self.mode = mode
        self.aux_mode = aux_mode
        self.api_key = api_key
        self.stall = min(stall, MAX_STALL)
        self.retry_after = retry_after
        self.models = list(models) or list(self.default_models())
        self.huge_size = HUGE_LINE
        self.requests: list[Request] = []
        self.stopping = threading.Event()
        self._script: collections.deque[str | Raw] = collections.deque()
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()
        self._socks: set[socket.socket] = set()
        self.tls = tls  # when set, a connection that opens with a TLS handshake gets TLS
        self._listener = socket.create_server((host, port))
        self.host, self.port = self._listener.getsockname()[:2]
        self._wake_r, self._wake_w = socket.socketpair()
        self._acceptor: threading.Thread | None = None

    # -- life -------------------------------------------------------------------------------
    def start(self) -> LoopbackServer:
        self._acceptor = threading.Thread(
            target=self._accept_loop, name=f"{self.kind}-accept", daemon=True
        )
        self._acceptor.start()
        return self

    def close(self) -> None:
        """Stop accepting, cut every open connection, and join every thread."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self._acceptor is not None:
            self._acceptor.join(5)
        self._listener.close()
        with self._lock:
            socks, threads = list(self._socks), list(self._threads)
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(5)
        self._wake_r.close()
        self._wake_w.close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.url + self.base_path

    @property
    def alive_threads(self) -> int:
        with self._lock:
            return sum(t.is_alive() for t in self._threads) + bool(
                self._acceptor and self._acceptor.is_alive()
            )

    # -- scripting --------------------------------------------------------------------------
    def script(self, *steps: str | Raw) -> None:
        """Answer the next chat requests with these modes (or raw bytes), one each."""
        for step in steps:
            if isinstance(step, str) and step not in self.modes:
                raise ValueError(f"{self.kind} has no mode {step!r}; modes: {sorted(self.modes)}")
        with self._lock:
            self._script.extend(steps)

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:  # a typo fails here, not later in a server thread
        if value not in self.modes:
            raise ValueError(f"{self.kind} has no mode {value!r}; modes: {sorted(self.modes)}")
        self._mode = value

    @property
    def aux_mode(self) -> str:
        return self._aux_mode

    @aux_mode.setter
    def aux_mode(self, value: str) -> None:
        if value not in self.aux_modes:
            raise ValueError(f"{self.kind} has no aux_mode {value!r}")
        self._aux_mode = value

    def next_mode(self) -> str | Raw:
        with self._lock:
            if self._script:
                return self._script.popleft()
        return self.mode

    def pieces(self) -> list[str]:
        if not isinstance(self.reply, str):
            return list(self.reply)
        if self.chunks is None:
            return re.findall(r"\s*\S+\s*|\s+", self.reply)
        return split_even(self.reply, self.chunks)

    def default_models(self) -> Sequence[str]:
        return ()

    # -- routing (subclasses) -----------------------------------------------------------------
    def routes(self) -> list[Route]:
        return []

    @property
    def chat_requests(self) -> list[Request]:
        """The requests for a reply (a "chat" route): not model lists, Ollama's POST
        /api/show or VoiGpt's home page."""
        chats = [(m, matches) for m, matches, role, _ in self.routes() if role == "chat"]
        return [r for r in self.requests if any(r.method == m and f(r.path) for m, f in chats)]

    def needs_key(self, request: Request) -> bool:
        return self.api_key is not None and request.bearer != self.api_key

    def handle(self, ex: Exchange) -> None:
        request = ex.request
        for method, matches, role, handler in self.routes():
            if request.method == method and matches(request.path):
                if self.needs_key(request):
                    self.error(ex, 401)
                    return
                mode = self.next_mode() if role == "chat" else self.aux_mode
                if isinstance(mode, Raw):
                    ex.send(mode.data)
                    if mode.close:
                        ex.cut()
                elif not self.fault(ex, mode):
                    handler(ex, mode)
                return
        self.not_found(ex)

    def fault(self, ex: Exchange, mode: str) -> bool:
        """The answers that look the same on every endpoint; True when one was sent."""
        if mode == "drop":
            ex.cut()
        elif mode in ("401", "403", "404", "429", "500"):
            self.error(ex, int(mode))
        else:
            return False
        return True

    def error(self, ex: Exchange, status: int) -> None:
        """The service's own error answer; the HTML page is what a front proxy sends."""
        headers = [("Retry-After", self.retry_after)] if status == 429 else []
        if status >= 500:
            ex.body(status, "text/html", error_page(status), headers)
        else:
            ex.json(status, {"error": {"message": http.HTTPStatus(status).phrase}}, headers)

    def not_found(self, ex: Exchange) -> None:
        ex.body(404, "text/plain; charset=utf-8", b"404 page not found")

    # -- answering helpers ------------------------------------------------------------------
    def send_stream(self, ex: Exchange, mode: str, frames: Frames) -> None:
        """A chunked stream, one frame per chunk, with the mode's fault woven in."""
        content = {"wrong_shape": frames.wrong, "empty": []}.get(mode, frames.content)
        ex.head(200, [("Content-Type", frames.content_type), *frames.headers], chunked=True)
        for frame in frames.opening:
            ex.chunk(frame)
        cut_after = max(1, len(content) // 2)
        for index, frame in enumerate(content):
            if index:
                ex.pause(self.delay)
            ex.chunk(frame)
            if index == 0 and self._after_first(ex, mode, frames):
                return
            if mode == "cut" and index + 1 >= cut_after:
                ex.cut()  # no terminating chunk: an incomplete chunked body
                return
        for frame in frames.closing:
            ex.chunk(frame)
        ex.end_chunks()

    def _after_first(self, ex: Exchange, mode: str, frames: Frames) -> bool:
        """Faults that follow the first chunk; True when the stream ends there."""
        if mode == "stall":
            ex.stall(self.stall)
        elif mode == "not_json":
            ex.chunk(frames.bad)
        elif mode == "huge_line":
            ex.chunk(frames.huge)
        elif mode == "error_event":
            ex.chunk(frames.error)
            ex.end_chunks()
            return True
        elif mode == "endless":
            self._send_forever(ex, frames.endless)
            return True
        return False

    def _send_forever(self, ex: Exchange, frame: bytes) -> None:
        """*frame* again and again until the client leaves (OSError) or the server closes."""
        while not self.stopping.is_set():
            ex.chunk(frame)

    def send_whole(
        self,
        ex: Exchange,
        mode: str,
        content_type: str,
        data: bytes,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        """A Content-Length answer; stall waits between head and body, cut sends half."""
        ex.head(200, [("Content-Type", content_type), *headers], length=len(data))
        if mode == "stall":
            ex.stall(self.stall)
        if mode == "cut":
            ex.send(data[: len(data) // 2])
            ex.cut()
            return
        ex.send(data)

    # -- threads ----------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self.stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self._wake_r or self.stopping.is_set():
                        return
                    try:
                        sock, _addr = self._listener.accept()
                    except OSError:
                        continue
                    self._spawn(sock)

    def _spawn(self, sock: socket.socket) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # each chunk goes now
        thread = threading.Thread(
            target=self._serve_connection, args=(sock,), name=f"{self.kind}-conn", daemon=True
        )
        with self._lock:
            self._threads.add(thread)
            self._socks.add(sock)
        thread.start()

    def track(self, sock: socket.socket) -> None:
        """Also cut *sock* on close (the proxy's upstream connections)."""
        with self._lock:
            self._socks.add(sock)
        if self.stopping.is_set():
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _maybe_tls(self, sock: socket.socket) -> socket.socket:
        """TLS for a client that starts a handshake (first byte 0x16), plain HTTP otherwise:
        one port serves both https:// and http://."""
        if self.tls is None or sock.recv(1, socket.MSG_PEEK) != b"\x16":
            return sock
        wrapped = self.tls.wrap_socket(sock, server_side=True)  # raises if the client refuses
        with self._lock:  # close() must cut the wrapped socket, not the detached one
            self._socks.discard(sock)
            self._socks.add(wrapped)
        return wrapped

    def _serve_connection(self, sock: socket.socket) -> None:
        try:
            sock = self._maybe_tls(sock)
            with sock, sock.makefile("rb") as rfile:
                while not self.stopping.is_set():
                    try:
                        request = read_request(rfile)
                    except (BadRequest, ValueError):
                        sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                        return
                    if request is None:
                        return
                    self.requests.append(request)
                    ex = Exchange(self, sock, request)
                    self.handle(ex)
                    if ex.closed or not ex.keep_alive:
                        return
        except OSError:
            pass  # the client went away (or close() cut it): nothing left to answer
        finally:
            with self._lock:
                self._socks.discard(sock)
                self._threads.discard(threading.current_thread())


# -- OpenAI -----------------------------------------------------------------------------------
class OpenAIServer(LoopbackServer):
    kind = "openai"
    base_path = "/v1"
    modes = COMMON_MODES | {"reject_stream_options"}
    send_usage = True  # a final chunk with "choices": [] as OpenRouter and include_usage do

    def __init__(
        self,
        *,
        reasoning: str | Sequence[str] = (),
        reasoning_field: str = "reasoning_content",
        finish_reason: str | None = "stop",
        usage_shape: str | None = "empty_choices",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.reasoning = reasoning
        self.reasoning_field = reasoning_field
        self.finish_reason = finish_reason
        self.usage_shape = usage_shape

    def default_models(self) -> Sequence[str]:
        return ("gpt-4o-mini", "gpt-4o", "o4-mini")

    def routes(self) -> list[Route]:
        return [
            # Exact paths, so a wrong base_url (a missing or extra segment) gets a 404.
            ("POST", lambda p: p == f"{self.base_path}/chat/completions", "chat", self.chat),
            ("GET", lambda p: p == f"{self.base_path}/models", "aux", self.list_models),
        ]

    def chat(self, ex: Exchange, mode: str) -> None:
        if mode == "reject_stream_options" and "stream_options" in (ex.request.json or {}):
            message = "Unrecognized request argument supplied: stream_options"
            error = {"message": message, "type": "invalid_request_error", "param": None}
            ex.json(400, {"error": {**error, "code": None}})
            return
        model = (ex.request.json or {}).get("model", "")
        base = {"id": "chatcmpl-loopback", "object": "chat.completion.chunk"}
        base |= {"created": 1700000000, "model": model, "system_fingerprint": "fp_loopback"}

        def event(choices: list[Any], **extra: Any) -> bytes:
            return b"data: " + dumps({**base, "choices": choices, **extra}) + b"\n\n"

        def choice(delta: Any, finish: str | None = None) -> dict[str, Any]:
            return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}

        pieces, thought = self.pieces(), word_pieces(self.reasoning)
        # total = prompt + completion, as openai's CompletionUsage says (it was 9: the
        # official client, checked against this server, read a wrong total). The reasoning
        # is output too, counted apart in completion_tokens_details, as OpenAI, DeepSeek,
        # OpenRouter and LiteLLM's proxy send it.
        written = len(pieces) + len(thought)
        usage: dict[str, Any] = {"prompt_tokens": 9, "completion_tokens": written}
        usage["total_tokens"] = 9 + written
        usage["prompt_tokens_details"] = {"cached_tokens": 0, "audio_tokens": 0}
        usage["completion_tokens_details"] = {
            "reasoning_tokens": len(thought),
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        }
        closing = [event([choice({}, self.finish_reason)])]
        if self.send_usage and self.usage_shape == "empty_choices":
            closing.append(event([], usage=usage))
        elif self.send_usage and self.usage_shape == "in_choices":  # LiteLLM's proxy
            closing.append(event([{"finish_reason": None, "index": 0, "delta": {}}], usage=usage))
        closing.append(b"data: [DONE]\n\n")
        blank = None if self.reasoning_field == "reasoning_content" else ""
        thoughts = [event([choice({"content": blank, self.reasoning_field: p})]) for p in thought]
        error = {
            "message": "The server had an error while processing your request.",
            "type": "server_error",
        }
        self.send_stream(
            ex,
            mode,
            Frames(
                opening=[event([choice({"role": "assistant", "content": "", "refusal": None})])],
                content=[*thoughts, *(event([choice({"content": p})]) for p in pieces)],
                closing=closing,
                wrong=[event([{"index": 0, "delta": p}]) for p in pieces],
                bad=b'data: {"id":"chatcmpl-loopback","choices":[{"delta":\n\n',
                error=b"data: "
                + dumps({"error": {**error, "param": None, "code": None}})
                + b"\n\n",
                huge=event([choice({"content": "x" * self.huge_size})])
                if mode == "huge_line"
                else b"",
                endless=event([choice({"content": "y" * ENDLESS_PIECE})]),
            ),
        )

    def list_models(self, ex: Exchange, mode: str) -> None:
        if mode == "not_json":
            self.send_whole(ex, mode, "text/html", b"<html><body>Welcome!</body></html>")
            return
        data = [
            {"id": m, "object": "model", "created": 1686935002, "owned_by": "system"}
            for m in ([] if mode == "empty" else self.models)
        ]
        body = {"object": "list", ("models" if mode == "wrong_shape" else "data"): data}
        self.send_whole(ex, mode, "application/json", dumps(body))

    def error(self, ex: Exchange, status: int) -> None:
        if status >= 500:
            super().error(ex, status)
            return
        model = ((ex.request.json or {}) if ex.request.body else {}).get("model", "")
        message, code = {
            401: (f"Incorrect API key provided: {mask(ex.request.bearer)}.", "invalid_api_key"),
            403: ("You are not allowed to sample from this model", None),
            404: (
                f"The model `{model}` does not exist or you do not have access to it.",
                "model_not_found",
            ),
            429: (
                f"Rate limit reached for {model}. Please try again in {self.retry_after}s.",
                "rate_limit_exceeded",
            ),
        }.get(status, (http.HTTPStatus(status).phrase, None))
        headers = [("Retry-After", self.retry_after)] if status == 429 else []
        kind = "requests" if status == 429 else "invalid_request_error"
        error = {"message": message, "type": kind, "param": None, "code": code}
        ex.json(status, {"error": error}, headers)


# -- Ollama -----------------------------------------------------------------------------------
class OllamaServer(LoopbackServer):
    """Also POST /api/show (an aux endpoint: ``aux_mode`` faults apply): ``shows`` maps a
    model name to its document (``OllamaServer.show_reply(...)`` makes one); by default each
    of ``models`` gets a llama one (context_length 131072, no num_ctx); another name gets
    Ollama's 404. ``show_requests`` counts the asks, so a test can see an answer cached."""

    kind = "ollama"
    created_at = "2024-06-01T12:00:00.000000Z"

    def __init__(
        self,
        *,
        thinking: str | Sequence[str] = (),
        done_reason: str = "stop",
        shows: dict[str, dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.thinking = thinking
        self.done_reason = done_reason
        # POST /api/show answers by model name; a name not in it gets Ollama's 404
        self.shows = {m: self.show_reply() for m in self.models} if shows is None else shows

    def default_models(self) -> Sequence[str]:
        return ("llama3.2:latest", "qwen2.5:0.5b")

    @staticmethod
    def show_reply(
        *, context_length: int = 131072, num_ctx: int | None = None, architecture: str = "llama"
    ) -> dict[str, Any]:
        """A POST /api/show answer shaped like Ollama's (trimmed): ``parameters`` holds a
        ``num_ctx`` line only when *num_ctx* is given, as when the model file sets it."""
        parameters = [f"{'num_ctx':<31}{num_ctx}"] if num_ctx is not None else []
        parameters += [f'{"stop":<31}"<|start_header_id|>"', f'{"stop":<31}"<|eot_id|>"']
        return {
            "license": "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT ...",
            "modelfile": '# Modelfile generated by "ollama show"\nFROM /root/.ollama/models/...',
            "parameters": "\n".join(parameters),
            "template": "<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>",
            "details": {
                "parent_model": "",
                "format": "gguf",
                "family": architecture,
                "families": [architecture],
                "parameter_size": "3.2B",
                "quantization_level": "Q4_K_M",
            },
            "model_info": {
                "general.architecture": architecture,
                "general.file_type": 15,
                "general.parameter_count": 3212749888,
                f"{architecture}.attention.head_count": 24,
                f"{architecture}.block_count": 28,
                f"{architecture}.context_length": context_length,
                f"{architecture}.embedding_length": 3072,
            },
            "capabilities": ["completion", "tools"],
            "modified_at": "2024-06-01T12:00:00.000000+00:00",
        }

    def routes(self) -> list[Route]:
        return [
            ("POST", lambda p: p == "/api/chat", "chat", self.chat),
            ("GET", lambda p: p == "/api/tags", "aux", self.tags),
            ("POST", lambda p: p == "/api/show", "aux", self.show),
        ]

    @property
    def show_requests(self) -> int:
        """How many POST /api/show requests came (a cached answer asks none)."""
        return sum(r.method == "POST" and r.path == "/api/show" for r in self.requests)

    def show(self, ex: Exchange, mode: str) -> None:
        if mode == "not_json":
            self.send_whole(ex, mode, "text/plain", b"Ollama is running")
            return
        asked = ex.request.json
        model = asked.get("model", "") if isinstance(asked, dict) else ""
        if model not in self.shows:
            self.error(ex, 404)
            return
        document = {"details": {}} if mode == "wrong_shape" else self.shows[model]
        self.send_whole(ex, mode, "application/json; charset=utf-8", dumps(document))

    def chat(self, ex: Exchange, mode: str) -> None:
        model = (ex.request.json or {}).get("model", "")
        head = {"model": model, "created_at": self.created_at}

        def line(obj: dict[str, Any]) -> bytes:
            return dumps({**head, **obj}) + b"\n"

        def message(text: str) -> dict[str, Any]:
            return {"message": {"role": "assistant", "content": text}, "done": False}

        def thought(text: str) -> dict[str, Any]:
            said = {"role": "assistant", "content": "", "thinking": text}
            return {"message": said, "done": False}

        pieces = self.pieces()
        thoughts = [line(thought(p)) for p in word_pieces(self.thinking)]
        final = line(
            {
                "message": {"role": "assistant", "content": ""},
                "done_reason": self.done_reason,
                "done": True,
                "total_duration": 512345678,
                "load_duration": 12345678,
                "prompt_eval_count": 26,
                "prompt_eval_duration": 45678901,
                "eval_count": len(pieces),
                "eval_duration": 400000000,
            }
        )
        self.send_stream(
            ex,
            mode,
            Frames(
                opening=[],
                content=[*thoughts, *(line(message(p)) for p in pieces)],
                closing=[final],
                wrong=[line({"message": p, "done": False}) for p in pieces],
                bad=b"not json at all\n",
                error=dumps(
                    {"error": "an error was encountered while running the model: unexpected EOF"}
                )
                + b"\n",
                huge=line(message("x" * self.huge_size)) if mode == "huge_line" else b"",
                endless=line(message("y" * ENDLESS_PIECE)),
                content_type="application/x-ndjson",
            ),
        )

    def tags(self, ex: Exchange, mode: str) -> None:
        if mode == "not_json":
            self.send_whole(ex, mode, "text/plain", b"Ollama is running")
            return
        entries = [
            {
                "name": m,
                "model": m,
                "modified_at": "2024-06-01T12:00:00.000000+00:00",
                "size": 2019393189,
                "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
                "details": {"format": "gguf", "family": "llama", "parameter_size": "3.2B"},
            }
            for m in ([] if mode == "empty" else self.models)
        ]
        key = "tags" if mode == "wrong_shape" else "models"
        self.send_whole(ex, mode, "application/json; charset=utf-8", dumps({key: entries}))

    def error(self, ex: Exchange, status: int) -> None:
        if status >= 500:
            super().error(ex, status)
            return
        model = ((ex.request.json or {}) if ex.request.body else {}).get("model", "")
        message = {
            401: "unauthorized",
            404: f'model "{model}" not found, try pulling it first',
            429: "server busy, please try again.  maximum pending requests exceeded",
        }.get(status, http.HTTPStatus(status).phrase.lower())
        headers = [("Retry-After", self.retry_after)] if status == 429 else []
        ex.body(status, "application/json; charset=utf-8", dumps({"error": message}), headers)


# -- Raycast ----------------------------------------------------------------------------------
class RaycastServer(LoopbackServer):
    kind = "raycast"

    def routes(self) -> list[Route]:
        return [("POST", lambda p: p == "/api/v1/ai/chat_completions", "chat", self.chat)]

    def chat(self, ex: Exchange, mode: str) -> None:
        def event(obj: Any) -> bytes:
            return b"data: " + dumps(obj) + b"\n\n"

        pieces = self.pieces()
        self.send_stream(
            ex,
            mode,
            Frames(
                opening=[],
                content=[event({"text": p}) for p in pieces],
                closing=[event({"text": None, "finish_reason": "stop"})],
                wrong=[event([p]) for p in pieces],
                bad=b"data: {text: unquoted}\n\n",
                error=event({"error": {"message": "The model is overloaded"}}),
                huge=event({"text": "x" * self.huge_size}) if mode == "huge_line" else b"",
                endless=event({"text": "y" * ENDLESS_PIECE}),
            ),
        )


# -- Anthropic --------------------------------------------------------------------------------
ANTHROPIC_ERRORS = {  # status -> (error.type, error.message), as docs.anthropic.com lists them
    401: ("authentication_error", "invalid x-api-key"),
    403: ("permission_error", "Your API key does not have permission to use this resource."),
    404: ("not_found_error", "model: nosuch"),
    429: ("rate_limit_error", "Number of request tokens has exceeded your rate limit"),
    529: ("overloaded_error", "Overloaded"),
}


class AnthropicServer(LoopbackServer):
    """Anthropic's Messages API as docs.anthropic.com documents it (/en/api/messages,
    /en/api/messages-streaming, /en/api/errors, /en/api/models-list): ``x-api-key`` and
    ``anthropic-version`` headers, SSE with ``event:`` lines, message_start /
    content_block_* / message_delta / message_stop, ping, an ``error`` event, and error
    bodies ``{"type": "error", "error": {"type", "message"}}``; mode ``overloaded`` is the
    529 it sends when busy. ``reasoning`` streams a thinking block before the text."""

    kind = "anthropic"
    base_path = "/v1"
    modes = COMMON_MODES | {"overloaded"}
    version = "2023-06-01"

    def __init__(
        self, *, reasoning: str | Sequence[str] = (), stop_reason: str = "end_turn", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.reasoning = reasoning
        self.stop_reason = stop_reason

    def default_models(self) -> Sequence[str]:
        return ("claude-sonnet-4-5", "claude-haiku-4-5")

    def routes(self) -> list[Route]:
        return [
            ("POST", lambda p: p == f"{self.base_path}/messages", "chat", self.chat),
            ("GET", lambda p: p == f"{self.base_path}/models", "aux", self.list_models),
        ]

    def needs_key(self, request: Request) -> bool:
        return self.api_key is not None and request.headers.get("x-api-key") != self.api_key

    def fault(self, ex: Exchange, mode: str) -> bool:
        if mode == "overloaded":
            self.error(ex, 529)
            return True
        return super().fault(ex, mode)

    def chat(self, ex: Exchange, mode: str) -> None:
        model = (ex.request.json or {}).get("model", "")

        def event(kind: str, obj: Any) -> bytes:
            return f"event: {kind}\ndata: ".encode() + dumps({"type": kind, **obj}) + b"\n\n"

        def delta(index: int, body: dict[str, Any]) -> bytes:
            return event("content_block_delta", {"index": index, "delta": body})

        pieces = self.pieces()
        thoughts = word_pieces(self.reasoning)
        text_at = 1 if thoughts else 0
        message = {
            "id": "msg_loopback", "type": "message", "role": "assistant", "content": [],
            "model": model, "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": 9, "output_tokens": 1},
        }  # fmt: skip
        # Before the text (the faults come after its first delta): the thinking block, if
        # any, and the text block's start with a ping, as the service sends them.
        opening = [event("message_start", {"message": message})]
        if thoughts:
            # "signature" is required on the block (anthropic's ThinkingBlock), filled later
            block = {"type": "thinking", "thinking": "", "signature": ""}
            start = {"index": 0, "content_block": block}
            opening.append(event("content_block_start", start))
            opening += [delta(0, {"type": "thinking_delta", "thinking": t}) for t in thoughts]
            opening.append(delta(0, {"type": "signature_delta", "signature": "c2lnbmF0dXJl"}))
            opening.append(event("content_block_stop", {"index": 0}))
        start = {"index": text_at, "content_block": {"type": "text", "text": ""}}
        opening += [event("content_block_start", start), event("ping", {})]
        content = [delta(text_at, {"type": "text_delta", "text": p}) for p in pieces]
        end = {"delta": {"stop_reason": self.stop_reason, "stop_sequence": None}}
        closing = [
            event("content_block_stop", {"index": text_at}),
            event("message_delta", {**end, "usage": {"output_tokens": len(pieces)}}),
            event("message_stop", {}),
        ]
        error = {"type": "overloaded_error", "message": "Overloaded"}
        self.send_stream(
            ex,
            mode,
            Frames(
                opening=opening,
                content=content if mode != "empty" else [],
                closing=closing,
                wrong=[event("content_block_delta", {"index": 0, "delta": p}) for p in pieces],
                bad=b"event: content_block_delta\ndata: {type: unquoted}\n\n",
                error=event("error", {"error": error}),
                huge=delta(text_at, {"type": "text_delta", "text": "x" * self.huge_size})
                if mode == "huge_line"
                else b"",
                endless=delta(text_at, {"type": "text_delta", "text": "y" * ENDLESS_PIECE}),
            ),
        )

    def list_models(self, ex: Exchange, mode: str) -> None:
        if mode == "not_json":
            self.send_whole(ex, mode, "text/html", b"<html><body>Welcome!</body></html>")
            return
        data = [
            {  # as anthropic's ModelInfo has it: "lifecycle" is required there
                "type": "model",
                "id": m,
                "display_name": m,
                "created_at": "2025-09-29T00:00:00Z",
                "lifecycle": "active",
            }
            for m in ([] if mode == "empty" else self.models)
        ]
        first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
        body = {"data": data, "has_more": False, "first_id": first, "last_id": last}
        self.send_whole(ex, mode, "application/json", dumps(body))

    def error(self, ex: Exchange, status: int) -> None:
        if status == 500:
            super().error(ex, status)  # a front proxy's HTML page
            return
        kind, message = ANTHROPIC_ERRORS.get(status, ("api_error", "Internal server error"))
        headers = [("retry-after", self.retry_after)] if status == 429 else []
        ex.json(status, {"type": "error", "error": {"type": kind, "message": message}}, headers)


# -- VoiGpt -----------------------------------------------------------------------------------
CSRF_PAGE = (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n  <meta http-equiv="content-type" '
    'content="text/html; charset=utf-8">\n  <meta name="robots" content="NONE,NOARCHIVE">\n'
    "  <title>403 Forbidden</title>\n</head>\n<body>\n"
    '<div id="summary">\n  <h1>Forbidden <span>(403)</span></h1>\n'
    "  <p>CSRF verification failed. Request aborted.</p>\n</div>\n</body>\n</html>\n"
)
HOME_PAGE = (
    "<!DOCTYPE html>\n<html>\n<head><title>VoiGpt</title></head>\n"
    '<body><main id="chat"></main></body>\n</html>\n'
)


class VoiGptServer(LoopbackServer):
    kind = "voigpt"
    modes = COMMON_MODES | {"rotate_token"}
    aux_modes = COMMON_MODES | {"no_cookie"}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tokens_issued: list[str] = []
        self.valid_tokens: set[str] = set()

    def issue_token(self) -> str:
        """A new csrftoken (32 letters and digits, like Django's secret)."""
        token = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
        with self._lock:
            self.tokens_issued.append(token)
            self.valid_tokens.add(token)
        return token

    def routes(self) -> list[Route]:
        return [
            ("GET", lambda p: p == "/", "aux", self.home),
            ("POST", lambda p: p == "/generate_response/", "chat", self.chat),
        ]

    def home(self, ex: Exchange, mode: str) -> None:
        headers = []
        if mode != "no_cookie":
            token = ex.request.cookies.get("csrftoken")
            if token not in self.valid_tokens:
                token = self.issue_token()
            expires = email.utils.formatdate(usegmt=True)  # the date does not matter here
            cookie = f"csrftoken={token}; expires={expires}; Max-Age=31449600; Path=/; SameSite=Lax"
            headers.append(("Set-Cookie", cookie))
        headers.append(("Vary", "Cookie"))
        self.send_whole(ex, mode, "text/html; charset=utf-8", HOME_PAGE.encode(), headers)

    def chat(self, ex: Exchange, mode: str) -> None:
        cookie = ex.request.cookies.get("csrftoken")
        header = ex.request.headers.get("x-csrftoken")
        if mode == "rotate_token":
            with self._lock:
                self.valid_tokens.clear()
        if not cookie or cookie != header or cookie not in self.valid_tokens:
            ex.body(403, "text/html; charset=utf-8", CSRF_PAGE.encode())
            return
        ex.pause(self.delay)  # no stream: the delay is the time to the whole answer
        text = "".join(self.pieces())
        body: Any = {
            "wrong_shape": {"reply": text},
            "empty": {"response": ""},
            "error_event": {"error": "Something went wrong, please try again later."},
            "huge_line": {"response": "x" * self.huge_size},
        }.get(mode, {"response": text})
        if mode == "endless":  # a body that never closes: no Content-Length, chunked
            ex.head(200, [("Content-Type", "application/json")], chunked=True)
            ex.chunk(b'{"response":"')
            self._send_forever(ex, b"y" * ENDLESS_PIECE)
            return
        if mode == "not_json":
            page = b"<html><head><title>Service Unavailable</title></head><body>Busy</body></html>"
            self.send_whole(ex, mode, "text/html", page)
            return
        self.send_whole(ex, mode, "application/json", dumps(body))

    def error(self, ex: Exchange, status: int) -> None:
        headers = [("Retry-After", self.retry_after)] if status == 429 else []
        if status == 403:
            ex.body(403, "text/html; charset=utf-8", CSRF_PAGE.encode())
        else:
            ex.body(status, "text/html; charset=utf-8", error_page(status), headers)


# -- the forwarding proxy ---------------------------------------------------------------------
class ForwardProxy(LoopbackServer):
    """A plain-HTTP forward proxy to loopback targets; records absolute-form request lines."""

    kind = "proxy"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.request_lines: list[str] = []

    def handle(self, ex: Exchange) -> None:
        request = ex.request
        self.request_lines.append(request.request_line)
        target = urlsplit(request.target)
        if request.method == "CONNECT" or target.scheme != "http" or not target.hostname:
            ex.body(501, "text/plain", b"only absolute-form http:// requests are forwarded")
            return
        if not _is_loopback(target.hostname):
            ex.body(403, "text/plain", b"this test proxy forwards to loopback hosts only")
            return
        ex.keep_alive = False  # one request per upstream connection: the relay ends at EOF
        try:
            up = socket.create_connection((target.hostname, target.port or 80), timeout=5)
        except OSError:
            ex.body(502, "text/plain", b"the target refused the connection")
            return
        with up:
            up.settimeout(None)
            self.track(up)
            up.sendall(_origin_form(request))
            while data := up.recv(65536):
                ex.send(data)
        ex.cut()


def _origin_form(request: Request) -> bytes:
    target = urlsplit(request.target)
    path = (target.path or "/") + (f"?{target.query}" if target.query else "")
    hop = {"proxy-connection", "proxy-authorization", "connection", "keep-alive"}
    hop |= {"transfer-encoding", "content-length"}
    lines = [f"{request.method} {path} HTTP/1.1"]
    lines += [f"{k}: {v}" for k, v in request.headers.items() if k not in hop]
    lines += ["Connection: close", f"Content-Length: {len(request.body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + request.body


# -- small helpers ----------------------------------------------------------------------------
def dumps(obj: Any) -> bytes:
    """Compact JSON with raw UTF-8, as the real services send it."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def error_page(status: int) -> bytes:
    phrase = http.HTTPStatus(status).phrase
    return (
        f"<html><head><title>{status} {phrase}</title></head>\n"
        f"<body>\n<center><h1>{status} {phrase}</h1></center>\n"
        "<hr><center>nginx</center>\n</body>\n</html>\n"
    ).encode()


def mask(key: str | None) -> str:
    """How OpenAI quotes a wrong key: never the whole of it."""
    return f"{key[:3]}***{key[-3:]}" if key and len(key) > 8 else "***"


def word_pieces(text: str | Sequence[str]) -> list[str]:
    """A list as is; a string one piece per word (whitespace rides with its word)."""
    if not isinstance(text, str):
        return list(text)
    return re.findall(r"\s*\S+\s*|\s+", text)


def split_even(text: str, n: int) -> list[str]:
    """*text* in *n* near-equal pieces (fewer if it is shorter than n)."""
    n = max(1, min(n, len(text)))
    bounds = [round(i * len(text) / n) for i in range(n + 1)]
    return [text[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def self_signed_tls(directory: Path) -> ssl.SSLContext | None:
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1, which no
    client trusts (None where the openssl command is missing)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = directory / "cert.pem", directory / "key.pem"
    command = [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt"]
    command += ["ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out", str(cert)]
    command += ["-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(command, check=True, capture_output=True, timeout=30)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def free_port() -> int:
    """A port nothing listens on (for "connection refused")."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]


async def drain(
    provider: Any,
    messages: Sequence[dict[str, str]],
    model: str = "",
    params: dict[str, Any] | None = None,
) -> Drained:
    """Run one exchange through ``provider.stream``: the text chunks and the typed parts
    that came (apart, each in order), and the error."""
    drained = Drained()
    extra = {} if params is None else {"params": params}
    try:
        async for chunk in provider.stream(model, messages, **extra):
            (drained.chunks if isinstance(chunk, str) else drained.parts).append(chunk)
    except Exception as err:  # a test asserts on it
        drained.error = err
    return drained


@dataclass
class Drained:
    chunks: list[str] = field(default_factory=list)  # the reply text, as it came
    parts: list[Any] = field(default_factory=list)  # Reasoning, Usage, Finish, in order
    error: Exception | None = None

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    @property
    def reasoning(self) -> str:
        return "".join(p.text for p in self.parts if type(p).__name__ == "Reasoning")


# -- Gemini -----------------------------------------------------------------------------------
# A loopback server that speaks Google's Gemini API (generativelanguage.googleapis.com).
#
# What it mirrors, and where that comes from:
#
# - https://ai.google.dev/api/generate-content : ``POST /v1beta/models/{model}:
#   streamGenerateContent?alt=sse``, a GenerateContentRequest in, one GenerateContentResponse
#   per SSE event out (``candidates[0].content.parts[].text``, ``finishReason``,
#   ``usageMetadata``, ``modelVersion``, ``responseId``; ``promptFeedback.blockReason`` and
#   no candidates for a refused prompt). No end marker: the body just ends.
# - https://ai.google.dev/gemini-api/docs/thinking : with ``thinkingConfig.includeThoughts``
#   the thought summaries come first, as parts with ``"thought": true``, and
#   ``usageMetadata.thoughtsTokenCount`` counts them.
# - https://ai.google.dev/api/models : ``GET /v1beta/models`` -> ``{"models": [{"name":
#   "models/...", "supportedGenerationMethods": [...], ...}], "nextPageToken": ...}``
#   (``pageSize`` honoured; an empty list is left out, as protobuf JSON leaves it: ``{}``).
# - https://ai.google.dev/gemini-api/docs/troubleshooting : the error codes. The bodies are
#   Google's ``{"error": {"code", "message", "status", "details"}}``, pretty-printed: a wrong
#   key is 400 INVALID_ARGUMENT with an ErrorInfo ``API_KEY_INVALID``, no key 403
#   PERMISSION_DENIED, 429 RESOURCE_EXHAUSTED with a RetryInfo ``"retryDelay": "7s"`` (and
#   no Retry-After header unless ``retry_header=True``), 404 NOT_FOUND for a model, 503
#   UNAVAILABLE "The model is overloaded".
#
# The bytes of an event: ``data: <json>\\r\\n\\r\\n``, the JSON on one line with ``": "`` after
# a name and ``","`` between members, as in the captures of the real service that Google's own
# SDK tests replay (google-gemini/generative-ai-js,
# test-utils/mock-responses/streaming-success-basic-reply-short.txt: ``data: {"candidates":
# [{"content": {"parts": [{"text": "Cheyenne"}]},"finishReason": "STOP",...}\\r\\n\\r\\n``).
#
# Keywords besides the common ones (tests/servers.py): ``thoughts`` (str, split per word, or
# a list of exact pieces: thought parts before the reply, one event each), ``finish_reason``
# (of the closing event, default "STOP"), ``retry_header`` (send Retry-After on a 429 too),
# ``block_reason`` (the ``blocked`` mode's promptFeedback.blockReason, default "SAFETY").
# ``api_key``, when set, is checked in ``x-goog-api-key`` (a ``?key=`` in the URL also
# counts, as Google takes it; the tests check that the client never sends one).
#
# Modes: the COMMON modes, plus ``503`` (Google's JSON "model is overloaded") and ``blocked``
# (a 200 stream whose only event refuses the prompt). ``error_event`` sends Google's 503
# error object as an event after the first piece.
#
# From a shell: ``python -m tests.servers gemini [--port N] ...``.
API_PATH = "/v1beta"
STREAM_SUFFIX = ":streamGenerateContent"
PROMPT_TOKENS = 9  # usageMetadata.promptTokenCount of every answer
RESPONSE_ID = "loopbackGeminiResponse01"
# The headers Google's front end sends with a stream (besides Date and Transfer-Encoding).
STREAM_HEADERS = [
    ("Vary", "Origin"),
    ("Vary", "X-Origin"),
    ("Vary", "Referer"),
    ("Content-Disposition", "attachment"),
    ("Server", "scaffolding on HTTPServer2"),
    ("X-XSS-Protection", "0"),
    ("X-Frame-Options", "SAMEORIGIN"),
    ("X-Content-Type-Options", "nosniff"),
]
JSON_TYPE = "application/json; charset=UTF-8"
KEY_INVALID = "API key not valid. Please pass a valid API key."
NO_KEY = (
    "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API."
)
OVERLOADED = "The model is overloaded. Please try again later."


def event_json(obj: Any) -> bytes:
    """JSON as Google's SSE writes it: one line, ``": "`` after names, ``","`` between."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ": ")).encode()


def sse(obj: Any) -> bytes:
    return b"data: " + event_json(obj) + b"\r\n\r\n"


def error_body(code: int, message: str, details: Sequence[dict[str, Any]] = ()) -> bytes:
    """Google's error object, pretty-printed with two spaces, as its front end sends it."""
    status = {
        400: "INVALID_ARGUMENT",
        401: "UNAUTHENTICATED",
        403: "PERMISSION_DENIED",
        404: "NOT_FOUND",
        429: "RESOURCE_EXHAUSTED",
        500: "INTERNAL",
        503: "UNAVAILABLE",
    }.get(code, "UNKNOWN")
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = list(details)
    return (json.dumps({"error": error}, indent=2, ensure_ascii=False) + "\n").encode()


def key_invalid_details() -> list[dict[str, Any]]:
    return [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com"},
        },
        {
            "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
            "locale": "en-US",
            "message": KEY_INVALID,
        },
    ]


def quota_details(retry_after: str) -> list[dict[str, Any]]:
    metric = "generativelanguage.googleapis.com/generate_content_free_tier_requests"
    return [
        {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [
                {
                    "quotaMetric": metric,
                    "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                    "quotaDimensions": {"location": "global", "model": "gemini-2.5-flash"},
                    "quotaValue": "10",
                }
            ],
        },
        {
            "@type": "type.googleapis.com/google.rpc.Help",
            "links": [
                {
                    "description": "Learn more about Gemini API quotas",
                    "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                }
            ],
        },
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_after}s"},
    ]


class GeminiServer(LoopbackServer):
    kind = "gemini"
    base_path = API_PATH
    modes = COMMON_MODES | {"503", "blocked"}
    aux_modes = COMMON_MODES | {"503"}

    def __init__(
        self,
        *,
        thoughts: str | Sequence[str] = (),
        finish_reason: str | None = "STOP",
        retry_header: bool = False,
        block_reason: str = "SAFETY",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.thoughts = thoughts
        self.finish_reason = finish_reason
        self.retry_header = retry_header
        self.block_reason = block_reason

    def default_models(self) -> Sequence[str]:
        # The last two are not for chat: the list filters them out by their methods.
        return (
            "gemini-2.5-flash",
            "gemini-2.5-pro",
            "gemini-2.5-flash-lite",
            "gemini-embedding-001",
            "imagen-4.0-generate-001",
        )

    # -- routing ----------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        # Request.path has no query string: ?alt=sse is checked in chat (without it Google
        # answers a JSON array, which is not what the client asked for).
        return [
            ("POST", self.is_stream_path, "chat", self.chat),
            ("GET", lambda p: p == f"{self.base_path}/models", "aux", self.list_models),
        ]

    def is_stream_path(self, path: str) -> bool:
        prefix = f"{self.base_path}/models/"
        name = path.removeprefix(prefix).removesuffix(STREAM_SUFFIX)
        return path.startswith(prefix) and path.endswith(STREAM_SUFFIX) and "/" not in name

    @staticmethod
    def model_of(request: Request) -> str:
        """The model named in the path (``.../models/NAME:streamGenerateContent``)."""
        return request.path.rpartition("/models/")[2].removesuffix(STREAM_SUFFIX)

    @staticmethod
    def key_of(request: Request) -> str | None:
        """The key as Google takes it: the x-goog-api-key header, or ?key= in the URL."""
        if "x-goog-api-key" in request.headers:
            return request.headers["x-goog-api-key"]
        return (parse_qs(request.query).get("key") or [None])[0]

    def needs_key(self, request: Request) -> bool:
        return self.api_key is not None and self.key_of(request) != self.api_key

    def handle(self, ex: Exchange) -> None:
        # Google checks the key before the route's own work: a wrong one is 400 (with
        # API_KEY_INVALID), a missing one 403; LoopbackServer would answer 401.
        request = ex.request
        if self.needs_key(request) and any(
            request.method == method and matches(request.path)
            for method, matches, _role, _handler in self.routes()
        ):
            if self.key_of(request) is None:
                ex.body(403, JSON_TYPE, error_body(403, NO_KEY))
            else:
                ex.body(400, JSON_TYPE, error_body(400, KEY_INVALID, key_invalid_details()))
            return
        super().handle(ex)

    def fault(self, ex: Exchange, mode: str) -> bool:
        if mode == "503":
            self.error(ex, 503)
            return True
        return super().fault(ex, mode)

    # -- chat -------------------------------------------------------------------------------
    def chat(self, ex: Exchange, mode: str) -> None:
        if parse_qs(ex.request.query).get("alt") != ["sse"]:
            message = "This test server streams only with ?alt=sse (a JSON array otherwise)."
            ex.body(400, JSON_TYPE, error_body(400, message))
            return
        model = self.model_of(ex.request)
        if mode == "blocked":
            self.send_blocked(ex, model)
            return
        pieces = self.pieces()
        thoughts = word_pieces(self.thoughts)

        def event(parts: Any, *, count: int = 0, **extra: Any) -> bytes:
            candidate = {"content": {"parts": parts, "role": "model"}, **extra, "index": 0}
            usage = self.usage(count, len(thoughts))
            return sse(
                {
                    "candidates": [candidate],
                    "usageMetadata": usage,
                    "modelVersion": model,
                    "responseId": RESPONSE_ID,
                }
            )

        # Gemini 2.5 ends with an event whose text is empty, holding the finish and the counts.
        finish = {"finishReason": self.finish_reason} if self.finish_reason else {}
        closing = event([{"text": ""}], count=len(pieces), **finish)
        self.send_stream(
            ex,
            mode,
            Frames(
                opening=[],
                content=[
                    *(event([{"text": t, "thought": True}]) for t in thoughts),
                    *(event([{"text": p}], count=i + 1) for i, p in enumerate(pieces)),
                ],
                closing=[closing],
                wrong=[event(p) for p in pieces],  # "parts" a string, not a list
                bad=b'data: {"candidates": [{"content": {"parts": [{"text": \r\n\r\n',
                error=sse({"error": json.loads(error_body(503, OVERLOADED))["error"]}),
                huge=event([{"text": "x" * self.huge_size}]) if mode == "huge_line" else b"",
                endless=event([{"text": "y" * ENDLESS_PIECE}]),
                headers=STREAM_HEADERS,
            ),
        )

    def usage(self, candidates: int, thoughts: int) -> dict[str, Any]:
        """usageMetadata as Google sends it: zero counts left out, totals growing."""
        usage: dict[str, Any] = {"promptTokenCount": PROMPT_TOKENS}
        if candidates:
            usage["candidatesTokenCount"] = candidates
        usage["totalTokenCount"] = PROMPT_TOKENS + candidates + thoughts
        usage["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": PROMPT_TOKENS}]
        if thoughts:
            usage["thoughtsTokenCount"] = thoughts
        return usage

    def send_blocked(self, ex: Exchange, model: str) -> None:
        ratings = [
            {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
            {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "HIGH"},
            {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "NEGLIGIBLE"},
        ]
        feedback = {"blockReason": self.block_reason, "safetyRatings": ratings}
        usage = {"promptTokenCount": PROMPT_TOKENS, "totalTokenCount": PROMPT_TOKENS}
        body = {"promptFeedback": feedback, "usageMetadata": usage, "modelVersion": model}
        ex.head(200, [("Content-Type", "text/event-stream"), *STREAM_HEADERS], chunked=True)
        ex.chunk(sse(body))
        ex.end_chunks()

    # -- models -----------------------------------------------------------------------------
    def list_models(self, ex: Exchange, mode: str) -> None:
        if mode == "not_json":
            self.send_whole(ex, mode, "text/html", b"<html><body>Welcome!</body></html>")
            return
        names = [] if mode == "empty" else list(self.models)
        size = int((parse_qs(ex.request.query).get("pageSize") or ["50"])[0])
        token = (parse_qs(ex.request.query).get("pageToken") or ["0"])[0]
        start = int(token) if token.isdigit() else 0
        page = names[start : start + size]
        body: dict[str, Any] = {}
        if mode == "wrong_shape":
            body["models"] = page  # bare names, not Model objects
        elif page:
            body["models"] = [model_entry(name) for name in page]
        if start + size < len(names):
            body["nextPageToken"] = str(start + size)
        data = (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode()
        self.send_whole(ex, mode, JSON_TYPE, data)

    # -- errors -----------------------------------------------------------------------------
    def error(self, ex: Exchange, status: int) -> None:
        if status == 500:  # what a front proxy sends: the HTML page of LoopbackServer
            super().error(ex, status)
            return
        model = self.model_of(ex.request) if ex.request.method == "POST" else ""
        key = self.key_of(ex.request) or ""
        headers: list[tuple[str, str]] = []
        details: list[dict[str, Any]] = []
        if status == 429:
            message = (
                "You exceeded your current quota, please check your plan and billing details. "
                "For more information on this error, head to: "
                "https://ai.google.dev/gemini-api/docs/rate-limits.\n"
                "* Quota exceeded for metric: generativelanguage.googleapis.com/"
                "generate_content_free_tier_requests, limit: 10\n"
                f"Please retry in {self.retry_after}s."
            )
            details = quota_details(self.retry_after)
            if self.retry_header:
                headers.append(("Retry-After", self.retry_after))
        else:
            message = {
                401: "Request had invalid authentication credentials. Expected OAuth 2 access "
                "token, login cookie or other valid authentication credential.",
                # Google names the key in this one: the client must mask it.
                403: f"Permission denied: Consumer 'api_key:{key}' has been suspended.",
                404: f"models/{model} is not found for API version v1beta, or is not "
                "supported for generateContent. Call ListModels to see the list of "
                "available models and their supported methods.",
                503: OVERLOADED,
            }.get(status, http.HTTPStatus(status).phrase)
        ex.body(status, JSON_TYPE, error_body(status, message, details), headers)


def model_entry(name: str) -> dict[str, Any]:
    """A Model as GET /models lists it; its methods follow from the name."""
    if "embedding" in name:
        methods = ["embedContent", "countTextTokens", "countTokens", "asyncBatchEmbedContent"]
    elif name.startswith("imagen"):
        methods = ["predict"]
    else:
        methods = ["generateContent", "countTokens", "createCachedContent"]
        methods.append("batchGenerateContent")
    entry: dict[str, Any] = {
        "name": f"models/{name}",
        "version": "001",
        "displayName": name.replace("-", " ").title(),
        "description": f"The loopback stand-in for {name}.",
        "inputTokenLimit": 1048576,
        "outputTokenLimit": 65536,
        "supportedGenerationMethods": methods,
    }
    if "generateContent" in methods:
        entry |= {"temperature": 1, "topP": 0.95, "topK": 64, "maxTemperature": 2}
        entry["thinking"] = True
    return entry


SERVERS: dict[str, type[LoopbackServer]] = {
    "openai": OpenAIServer,
    "ollama": OllamaServer,
    "raycast": RaycastServer,
    "voigpt": VoiGptServer,
    "anthropic": AnthropicServer,
    "gemini": GeminiServer,
    "proxy": ForwardProxy,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.servers", description=__doc__)
    parser.add_argument("kind", choices=sorted(SERVERS))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--reply", default=DEFAULT_REPLY)
    parser.add_argument("--reply-file", type=Path)
    parser.add_argument("--chunks", type=int)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--mode", default="normal")
    parser.add_argument("--aux-mode", default="normal")
    parser.add_argument("--api-key")
    parser.add_argument("--stall", type=float, default=MAX_STALL)
    parser.add_argument("--models", default="")
    args = parser.parse_args(argv)
    if not _is_loopback(args.host):
        parser.error("--host must be a loopback address")
    reply = args.reply_file.read_text("utf-8") if args.reply_file else args.reply
    server = SERVERS[args.kind](
        reply=reply,
        chunks=args.chunks,
        delay=args.delay,
        mode=args.mode,
        aux_mode=args.aux_mode,
        api_key=args.api_key,
        stall=args.stall,
        models=[m for m in args.models.split(",") if m],
        host=args.host,
        port=args.port,
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with server:
        print(server.base_url, flush=True)
        try:
            while not done.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

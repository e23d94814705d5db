"""A local (or remote) Ollama server: POST /api/chat answered by NDJSON lines.

Each line is ``{"message": {"role": "assistant", "content": "..."}, "done": false}`` and the
last one has ``"done": true``. Errors come as ``{"error": "..."}``, as a line or a body.
Reasoning comes at ``message.thinking`` (a model asked with ``think``), or as a
``<think>`` block at the start of the content (one asked without); the last line has the
counts (``prompt_eval_count``, ``eval_count``) and ``done_reason``. Generation parameters
go in ``options`` (``num_predict`` is max_tokens; ``context_tokens``, when set, goes as
``num_ctx``).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from ..context import CONTEXT_OPTION
from ..sanitize import one_line
from .base import Messages, Params, Provider, ProviderSettings, read_limited
from .errors import BadResponse, HTTPError, ProviderError, StreamBroken, UnknownModel
from .parts import Chunk, Reasoning, finish_of, usage_of
from .sse import iter_lines, iter_ndjson
from .think import ThinkSplitter

DEFAULT_URL = "http://localhost:11434"
DEFAULT_PORT = 11434
MAX_TAGS_BODY = 4 << 20
LIST_TIMEOUT = 5.0
# POST /api/show: the model file, template and license come along, so a bound well above
# the few numbers wanted; asked before a prompt is sent, so the wait is short and total.
MAX_SHOW_BODY = 4 << 20
SHOW_TIMEOUT = 3.0  # seconds for the whole ask, however the bytes trickle
SHOW_RETRY_AFTER = 60.0  # a failed ask is kept this long, so not every prompt waits on it
SHOW_CACHE_SIZE = 64  # (base_url, model) answers kept per provider instance
# One line of /api/show's "parameters" text: "num_ctx                        8192"
_NUM_CTX = re.compile(r"^num_ctx[ \t]+([0-9]{1,12})[ \t]*$", re.MULTILINE)
# Old servers say: model 'x' not found; new ones: model "x" not found, try pulling it first
_NOT_FOUND = re.compile(r"""model ['"]?(?P<name>[^'"\s]+)['"]? not found""")
# chatterm's parameter names -> Ollama's options (the model file's PARAMETER names)
OPTION_NAMES = {"temperature": "temperature", "top_p": "top_p", "max_tokens": "num_predict"}
OPTION_NAMES |= {"seed": "seed"}


class OllamaProvider(Provider):
    kind = "ollama"
    sends_images = True  # base64 in message.images (wire_message)
    label = "Ollama"
    url = "https://ollama.com"
    default_base_url = DEFAULT_URL  # OLLAMA_HOST, when set, wins: see base_url
    needs_auth = False
    supports_stream = True
    supports_message_history = True
    models = ("llama3.2",)
    default_model = "llama3.2"
    accepts_any_model = True  # whatever the user has pulled

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        # (base_url, model) -> (tokens or None, when asked): base_url is in the key because
        # OLLAMA_HOST can point the same instance at another server
        self._windows: dict[tuple[str, str], tuple[int | None, float]] = {}

    @property
    def base_url(self) -> str:
        """settings.base_url, else OLLAMA_HOST (as the ollama CLI reads it), else the default."""
        return (self.settings.base_url or host_from_env() or DEFAULT_URL).rstrip("/")

    async def _stream(
        self, model: str, messages: Messages, params: Params | None = None
    ) -> AsyncIterator[Chunk]:
        body: dict[str, object] = {
            "model": model,
            "messages": [wire_message(m) for m in messages],
            "stream": True,
        }
        if options := self._options(params):
            body["options"] = options
        url = f"{self.base_url}/api/chat"
        splitter = ThinkSplitter()
        async with self.client.stream("POST", url, json=body) as response:
            try:
                await self.check_response(response)
            except HTTPError as err:  # a 404 is usually a model that was never pulled
                raise _explained(err.excerpt) or err from None
            async for line in iter_ndjson(iter_lines(response.aiter_bytes()), "Ollama"):
                text, done = line_text(line)
                chunks: list[Chunk] = [Reasoning(t)] if (t := thinking_text(line)) else []
                chunks += splitter.feed(text)
                if done:
                    chunks += [*splitter.flush(), *final_parts(line)]
                for chunk in chunks:
                    yield chunk
                if not chunks:
                    yield ""  # a line without text: Provider.stream counts those
                if done:
                    return
        raise StreamBroken("the Ollama stream ended before its final line (done: true)")

    def _options(self, params: Params | None) -> dict[str, object]:
        """The parameters in Ollama's names, and ``num_ctx`` when ``context_tokens`` is set:
        Ollama runs a model with its own context (4,096 tokens unless its model file or
        OLLAMA_CONTEXT_LENGTH says otherwise) and cuts a longer prompt from the front,
        silently; with num_ctx it keeps what chatterm's own fit (tui/context.py) sends."""
        options = {OPTION_NAMES[k]: v for k, v in (params or {}).items() if k in OPTION_NAMES}
        if context := _positive(self.settings.options.get(CONTEXT_OPTION)):
            options["num_ctx"] = context
        return options

    def credentials_hint(self) -> str:
        return "chatterm sends Ollama no key: check base_url, or the proxy in front of Ollama"

    async def list_models(self, *, strict: bool = False) -> list[str]:
        """The pulled models (GET /api/tags); the static list if the server cannot say,
        unless *strict*: then ListFailed says why."""
        return await self._fetch_model_list(
            f"{self.base_url}/api/tags",
            lambda document: (model["name"] for model in document["models"]),
            limit=MAX_TAGS_BODY,
            timeout=min(self.settings.timeout, LIST_TIMEOUT),
            strict=strict,
        )

    async def reachable(self, timeout: float = 0.3) -> bool:  # noqa: ASYNC109 - httpx's own
        """Is an Ollama server answering? A short probe that never raises."""
        try:
            async with self.client.stream(
                "GET", f"{self.base_url}/api/tags", timeout=timeout
            ) as response:
                return response.status_code == 200
        except Exception:  # any failure means "no", whatever it was
            return False

    async def context_window(self, model: str) -> int | None:
        """The model's context in tokens from POST /api/show: the model file's ``num_ctx``
        (what the server runs it with) over ``<architecture>.context_length`` (what it was
        trained for); None when the server cannot say. Never raises. An answer is kept per
        (base_url, model); a failure too, but asked again after SHOW_RETRY_AFTER seconds."""
        model = model or self.instance_default_model
        key, now = (self.base_url, model), time.monotonic()
        if (kept := self._windows.get(key)) is not None:
            tokens, asked = kept
            if tokens is not None or now - asked < SHOW_RETRY_AFTER:
                return tokens
        tokens = await self._ask_window(model)
        self._remember_window(key, tokens, now)
        return tokens

    async def _ask_window(self, model: str) -> int | None:
        import asyncio

        try:
            # httpx's timeout is per read: a server sending a byte a second would pass it
            async with asyncio.timeout(SHOW_TIMEOUT):
                return window_of(await self._show(model))
        except Exception:  # refused, timed out, too large, a bad URL: the table stands
            return None

    async def _show(self, model: str) -> Any:
        """The /api/show document of *model*; None for an answer other than 200."""
        url, timeout = f"{self.base_url}/api/show", min(self.settings.timeout, SHOW_TIMEOUT)
        async with self.client.stream(
            "POST", url, json={"model": model}, timeout=timeout
        ) as response:
            if response.status_code != 200:  # 404: not pulled; the budget needs no reason
                return None
            return json.loads(await read_limited(response, MAX_SHOW_BODY, "model information"))

    def _remember_window(self, key: tuple[str, str], tokens: int | None, now: float) -> None:
        """Keep an answer; past SHOW_CACHE_SIZE the oldest goes (dicts keep insertion order)."""
        self._windows.pop(key, None)
        while len(self._windows) >= SHOW_CACHE_SIZE:
            del self._windows[next(iter(self._windows))]
        self._windows[key] = (tokens, now)


def window_of(show: Any) -> int | None:
    """The context an /api/show document gives, in tokens: ``num_ctx`` in ``parameters``
    when the model file sets it (the server runs the model with that), else
    ``model_info["<general.architecture>.context_length"]``; None when neither is there."""
    if not isinstance(show, dict):
        return None
    return _num_ctx(show.get("parameters")) or _context_length(show.get("model_info"))


def _num_ctx(parameters: Any) -> int | None:
    match = _NUM_CTX.search(parameters) if isinstance(parameters, str) else None
    return _positive(int(match[1])) if match else None


def _context_length(info: Any) -> int | None:
    if not isinstance(info, dict):
        return None
    architecture = info.get("general.architecture")
    if not isinstance(architecture, str) or not architecture:
        return None
    return _positive(info.get(f"{architecture}.context_length"))


def _positive(value: Any) -> int | None:
    """*value* when it is a positive whole number; True is an int to Python, not to us."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def line_text(line: Any) -> tuple[str, bool]:
    """(text, done) of one NDJSON line; an error line raises."""
    if not isinstance(line, dict):
        raise BadResponse(f"Ollama sent a line that is not an object: {_short(line)}")
    if "error" in line:
        raise _explained(str(line["error"])) or ProviderError(
            f"Ollama reported an error: {one_line(str(line['error']), 200)}",
            action="try again later",
        )
    message = line.get("message")
    text: Any = ""
    if message is not None:
        if not isinstance(message, dict):
            raise BadResponse(f"Ollama sent a malformed 'message': {_short(message)}")
        text = message.get("content") or ""
        if not isinstance(text, str):
            raise BadResponse(f"Ollama sent a non-text 'content': {_short(text)}")
    return text, bool(line.get("done"))


def thinking_text(line: dict[str, Any]) -> str:
    """The reasoning of one line (``message.thinking``); "" when none or not text."""
    message = line.get("message")
    thinking = message.get("thinking") if isinstance(message, dict) else None
    return thinking if isinstance(thinking, str) else ""


def final_parts(line: dict[str, Any]) -> list[Chunk]:
    """Usage and Finish of the final line (``done: true``), where it has them."""
    parts: list[Chunk] = []
    if usage := usage_of(line.get("prompt_eval_count"), line.get("eval_count")):
        parts.append(usage)
    if finish := finish_of(line.get("done_reason")):
        parts.append(finish)
    return parts


def _explained(error: str) -> UnknownModel | None:
    """'model x not found' said the way a user can act on it."""
    match = _NOT_FOUND.search(error)
    if not match:
        return None
    name = one_line(match["name"], 80)
    return UnknownModel(f"model '{name}' is not pulled: run `ollama pull {name}`")


def host_from_env() -> str | None:
    """OLLAMA_HOST as a URL, read the way the ollama CLI reads it.

    "myhost" or "myhost:8080" get http:// (and port 11434 when none is given); with an
    explicit scheme, a missing port means that scheme's own (80, 443).
    """
    raw = os.environ.get("OLLAMA_HOST", "").strip()
    if not raw:
        return None
    has_scheme = "://" in raw
    if not has_scheme and raw.count(":") > 1 and not raw.startswith("["):
        raw = f"[{raw}]"  # a bare IPv6 address
    parts = urlsplit(raw if has_scheme else "http://" + raw)
    host = parts.hostname or "localhost"
    if host in ("0.0.0.0", "::"):  # a bind-everything address: connect to this machine
        host = "localhost"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None and not has_scheme:
        port = DEFAULT_PORT
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{parts.scheme}://{netloc}{parts.path}".rstrip("/")


def _short(value: Any) -> str:
    return one_line(json.dumps(value, ensure_ascii=False)[:200], 80)


def wire_message(message: Mapping[str, Any]) -> dict[str, Any]:
    """A history message as Ollama takes it: images (tui/images.py) as base64 strings in
    the message's own ``images`` list."""
    out = {k: v for k, v in message.items() if k != "images"}
    if images := message.get("images"):
        out["images"] = [image["data"] for image in images]
    return out

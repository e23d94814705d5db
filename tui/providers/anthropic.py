"""Anthropic's Messages API (``kind = "anthropic"``), streamed.

The wire, from Anthropic's public API reference (docs.anthropic.com/en/api/messages,
/en/api/messages-streaming, /en/api/errors, /en/api/models-list):

- ``POST {base_url}/messages`` with ``x-api-key`` and ``anthropic-version: 2023-06-01``;
  the body has ``model``, ``max_tokens`` (required), ``stream: true``, the system prompt as
  a top-level ``system`` and only ``user`` / ``assistant`` turns in ``messages``, which
  must alternate (consecutive turns of one role are joined here).
- Server-sent events, each ``event: TYPE`` and a ``data:`` line whose JSON repeats the type:
  ``message_start`` (``message.usage.input_tokens``), ``content_block_start``,
  ``content_block_delta`` with ``text_delta`` (reply text) or ``thinking_delta`` (reasoning),
  ``content_block_stop``, ``message_delta`` (``delta.stop_reason``, ``usage.output_tokens``),
  ``message_stop``, ``ping``, and ``error`` (e.g. ``overloaded_error`` mid-stream).
- Errors are ``{"type": "error", "error": {"type": ..., "message": ...}}``; 529 means
  overloaded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from ..sanitize import one_line
from .base import ListFailed, Messages, Params, Provider, error_message
from .errors import BadResponse, ProviderError
from .parts import Chunk, Reasoning, finish_of, usage_of
from .sse import iter_lines, iter_sse_data, parse_json_line

if TYPE_CHECKING:
    import httpx

API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096  # the API needs one; a service default would be nicer, none exists
MAX_JSON_BODY = 16 << 20
LIST_TIMEOUT = 10.0


class AnthropicProvider(Provider):
    kind = "anthropic"
    label = "Anthropic"
    url = "https://www.anthropic.com"
    default_base_url = "https://api.anthropic.com/v1"
    needs_auth = True
    api_key_env = "ANTHROPIC_API_KEY"
    sends_images = True  # base64 image blocks (wire_messages)
    models = ("claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1")
    default_model = "claude-sonnet-4-5"
    accepts_any_model = True  # new models come often: the service says if one is unknown

    def _headers(self) -> dict[str, str]:
        return {
            "x-api-key": self.require_key(),  # first: a missing key fails before any request
            "anthropic-version": API_VERSION,
            "Accept": "text/event-stream",
            "Content-Type": "application/json",
        }

    async def _stream(
        self, model: str, messages: Messages, params: Params | None = None
    ) -> AsyncIterator[Chunk]:
        headers = self._headers()
        body = request_body(model, messages, params or {})
        url = f"{self.base_url}/messages"
        async with self.client.stream("POST", url, json=body, headers=headers) as response:
            await self.check_response(response)
            async for chunk in self._events(response):
                yield chunk

    async def _events(self, response: httpx.Response) -> AsyncIterator[Chunk]:
        input_tokens: int | None = None
        async for data in iter_sse_data(iter_lines(response.aiter_bytes())):
            event = parse_json_line(data, "Anthropic")
            if not isinstance(event, dict):
                raise BadResponse(f"the stream sent an event that is not an object: {data[:80]}")
            kind = event.get("type")
            if kind == "error":
                message = error_message(event) or str(event.get("error"))
                raise ProviderError(
                    f"the service reported an error: {one_line(self.redact(message), 200)}",
                    action="try again later",
                )
            if kind == "message_start":
                usage = (event.get("message") or {}).get("usage") or {}
                input_tokens = usage.get("input_tokens") if isinstance(usage, dict) else None
            elif kind == "content_block_delta":
                chunk = delta_chunk(event.get("delta"))
                yield chunk if chunk is not None else ""
                continue
            elif kind == "message_delta":
                for part in end_parts(event, input_tokens):
                    yield part
                continue
            elif kind == "message_stop":
                return
            yield ""  # an event without text: Provider.stream counts those, not as progress

    async def list_models(self, *, strict: bool = False) -> list[str]:
        """GET /models (ids, sorted); the static list on failure, unless *strict*."""
        if not self.configured:
            if strict:
                raise ListFailed(f"no API key: {self.key_hint()}")
            return list(self.instance_models)
        headers = {"x-api-key": self.require_key(), "anthropic-version": API_VERSION}
        return await self._fetch_model_list(
            f"{self.base_url}/models?limit=1000",  # 20 a page by default; 1000 is the most
            lambda document: (model["id"] for model in document["data"]),
            limit=MAX_JSON_BODY,
            timeout=min(self.settings.timeout, LIST_TIMEOUT),
            headers=headers,
            strict=strict,
        )


def request_body(model: str, messages: Messages, params: Params) -> dict[str, Any]:
    system = "\n\n".join(str(m["content"]) for m in messages if m.get("role") == "system")
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": params.get("max_tokens") or DEFAULT_MAX_TOKENS,
        "stream": True,
        "messages": wire_messages(messages),
    }
    if system:
        body["system"] = system
    for key in ("temperature", "top_p"):  # no seed: the API has none
        if params.get(key) is not None:
            body[key] = params[key]
    return body


def wire_messages(messages: Messages) -> list[dict[str, Any]]:
    """user/assistant turns, alternating (consecutive ones of a role joined); a prompt's
    images (tui/images.py) as base64 image blocks before its text."""
    out: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        if role not in ("user", "assistant"):
            continue
        blocks = [_image_block(i) for i in message.get("images") or ()]
        blocks.append({"type": "text", "text": str(message.get("content", ""))})
        if out and out[-1]["role"] == role:
            out[-1]["content"] += blocks
        else:
            out.append({"role": role, "content": blocks})
    return out


def _image_block(image: Mapping[str, str]) -> dict[str, Any]:
    source = {"type": "base64", "media_type": image["mime"], "data": image["data"]}
    return {"type": "image", "source": source}


def delta_chunk(delta: Any) -> Chunk | None:
    """Reply text or reasoning from a content_block_delta; None for the others (the
    signature of a thinking block, tool input)."""
    if not isinstance(delta, dict):
        raise BadResponse("the stream sent a malformed content_block_delta (no delta object)")
    kind = delta.get("type")
    if kind == "text_delta" and isinstance(delta.get("text"), str):
        return delta["text"]
    if kind == "thinking_delta" and isinstance(delta.get("thinking"), str):
        return Reasoning(delta["thinking"])
    return None


def end_parts(event: dict[str, Any], input_tokens: Any) -> list[Chunk]:
    """Usage and the finish reason of a message_delta (end_turn is "stop", max_tokens
    "length": parts.finish_of knows them)."""
    parts: list[Chunk] = []
    usage = event.get("usage") if isinstance(event.get("usage"), dict) else {}
    if counted := usage_of(input_tokens, usage.get("output_tokens")):
        parts.append(counted)
    delta = event.get("delta") if isinstance(event.get("delta"), dict) else {}
    if finish := finish_of(delta.get("stop_reason")):
        parts.append(finish)
    return parts

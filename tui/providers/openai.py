"""OpenAI's Chat Completions API, and every server that copies it (OpenRouter, Groq,
LM Studio, llama.cpp, vLLM...): users declare those as instances with their own base_url.

The reply streams as SSE events whose text is at ``choices[0].delta.content``, ending with
``data: [DONE]``.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..sanitize import one_line
from .base import Messages, Provider, error_message, read_limited
from .errors import BadResponse, ProviderError
from .sse import iter_lines, iter_sse_data, parse_json_line

if TYPE_CHECKING:
    import httpx  # imported where a request is made (see base.py)

MAX_JSON_BODY = 16 << 20  # a whole (non-streamed) answer or a model list; OpenRouter's is ~1 MB
LIST_TIMEOUT = 10.0  # the model list is a convenience: never wait long for it


class OpenAIProvider(Provider):
    kind = "openai"
    label = "OpenAI-compatible"
    url = "https://platform.openai.com"
    default_base_url = "https://api.openai.com/v1"
    needs_auth = True
    supports_stream = True
    supports_message_history = True
    models = ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "o4-mini")
    default_model = "gpt-4o-mini"
    api_key_env = "OPENAI_API_KEY"
    accepts_any_model = True  # compatible servers host any model name

    # -- keys -------------------------------------------------------------------------------
    @property
    def key_optional(self) -> bool:
        """Local servers (LM Studio, llama.cpp, vLLM) usually run without a key."""
        return bool(self.settings.options.get("no_auth")) or is_loopback(self.base_url)

    @property
    def configured(self) -> bool:
        return self.key_optional or bool(self.settings.api_key)

    def _auth_headers(self) -> dict[str, str]:
        if self.settings.options.get("no_auth"):
            return {}  # the user said so: send no key even if one is set
        if self.key_optional and not self.settings.api_key:
            return {}
        return {"Authorization": f"Bearer {self.require_key()}"}

    # -- chat -------------------------------------------------------------------------------
    async def _stream(self, model: str, messages: Messages) -> AsyncIterator[str]:
        headers = {
            **self._auth_headers(),  # first: a missing key fails before any request
            "Accept": "text/event-stream",
            "Content-Type": "application/json",
        }
        body = {"model": model, "messages": [dict(m) for m in messages], "stream": True}
        url = f"{self.base_url}/chat/completions"
        async with self.client.stream("POST", url, json=body, headers=headers) as response:
            await self.check_response(response)
            if _media_type(response) == "application/json":
                # Some compatible servers ignore "stream": true and answer in one piece.
                yield await self._whole_answer(response)
                return
            async for data in iter_sse_data(iter_lines(response.aiter_bytes())):
                if data.strip() == "[DONE]":
                    return
                # "" for an event without text: Provider.stream counts those, not as progress
                yield self._delta_text(parse_json_line(data, "OpenAI"))

    def _delta_text(self, event: Any) -> str:
        """The text of one chunk; "" for role-only, empty, usage-only or finishing chunks."""
        if not isinstance(event, dict):
            raise BadResponse(f"the stream sent a chunk that is not an object: {_short(event)}")
        self._raise_reported_error(event)
        choices = event.get("choices")
        if choices is None or choices == []:
            return ""  # e.g. the usage chunk, or a provider's keep-alive object
        if not isinstance(choices, list) or not isinstance(choices[0], dict):
            raise BadResponse(f"the stream sent malformed 'choices': {_short(choices)}")
        delta = choices[0].get("delta")
        if delta is None:
            return ""
        if not isinstance(delta, dict):
            raise BadResponse(f"the stream sent a malformed 'delta': {_short(delta)}")
        return content_text(delta.get("content"))

    async def _whole_answer(self, response: httpx.Response) -> str:
        raw = await read_limited(response, MAX_JSON_BODY, "OpenAI")
        try:
            data = json.loads(raw)
        except ValueError:
            raise BadResponse(
                f"the answer is not JSON: {one_line(raw.decode('utf-8', 'replace'), 120)}"
            ) from None
        if not isinstance(data, dict):
            raise BadResponse(f"the answer is not a JSON object: {_short(data)}")
        self._raise_reported_error(data)
        try:
            return content_text(data["choices"][0]["message"]["content"])
        except (KeyError, IndexError, TypeError):
            raise BadResponse(f"the answer has no choices[0].message: {_short(data)}") from None

    def _raise_reported_error(self, event: dict[str, Any]) -> None:
        """Errors can arrive inside a 200 stream, e.g. an overloaded upstream mid-reply."""
        if "error" not in event:
            return
        message = error_message(event) or str(event["error"])
        raise ProviderError(
            f"the service reported an error: {one_line(self.redact(message), 200)}",
            action="try again later",
        )

    # -- models -----------------------------------------------------------------------------
    async def list_models(self) -> list[str]:
        """GET /models, sorted ids; the static list on any failure (it is only a menu)."""
        if not self.configured:
            return list(self.instance_models)
        return await self._fetch_model_list(
            f"{self.base_url}/models",
            lambda document: (model["id"] for model in document["data"]),
            limit=MAX_JSON_BODY,
            timeout=min(self.settings.timeout, LIST_TIMEOUT),
            headers=self._auth_headers(),
        )


def content_text(content: Any) -> str:
    """Text from a delta or message ``content``: a string, null, or a list of text parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    raise BadResponse(f"the stream sent a non-text 'content': {_short(content)}")


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").partition(";")[0].strip().lower()


def _short(value: Any) -> str:
    return one_line(json.dumps(value, ensure_ascii=False)[:200], 80)

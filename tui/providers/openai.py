"""OpenAI's Chat Completions API, and every server that copies it (OpenRouter, Groq,
LM Studio, llama.cpp, vLLM...): users declare those as instances with their own base_url.

The reply streams as SSE events whose text is at ``choices[0].delta.content``, ending with
``data: [DONE]``. Besides text: reasoning at ``delta.reasoning_content`` (DeepSeek, vLLM,
LM Studio) or ``delta.reasoning`` (OpenRouter, newer vLLM), or as a ``<think>`` block at
the start of the content (llama.cpp and others serving a model raw); ``finish_reason`` in
a choice; ``usage`` in the last chunk, asked for with ``stream_options.include_usage``
(OpenAI sends it with ``"choices": []``, LiteLLM's proxy with a choice in it).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..images import data_url
from ..sanitize import one_line
from .base import (
    ListFailed,
    Messages,
    Params,
    Provider,
    ProviderSettings,
    error_message,
    read_limited,
)
from .errors import BadResponse, ProviderError
from .parts import Chunk, Reasoning, Usage, finish_of, usage_of
from .sse import iter_lines, iter_sse_data, parse_json_line
from .think import ThinkSplitter

if TYPE_CHECKING:
    import httpx  # imported where a request is made (see base.py)

MAX_JSON_BODY = 16 << 20  # a whole (non-streamed) answer or a model list; OpenRouter's is ~1 MB
LIST_TIMEOUT = 10.0  # the model list is a convenience: never wait long for it
STREAM_OPTIONS = {"include_usage": True}  # the usage chunk before [DONE]
# What an endpoint without stream_options says when it refuses it (Azure's old API
# versions, strict pydantic servers, proxies that check the fields): lower case.
_REFUSAL_WORDS = ("stream_options", "unknown field", "unrecognized", "extra inputs")
REASONING_FIELDS = ("reasoning_content", "reasoning")  # the first with text wins (vLLM sent both)


class OpenAIProvider(Provider):
    kind = "openai"
    sends_images = True  # image_url parts (wire_message)
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

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        # False once the endpoint refused stream_options and answered without it: never
        # sent by this instance again (a new one, after a settings change, asks again).
        self.sends_stream_options = True

    # -- models -----------------------------------------------------------------------------
    @property
    def is_openai(self) -> bool:
        """Is this OpenAI itself? Only then do OpenAI's built-in models apply."""
        return self.base_url == self.default_base_url.rstrip("/")

    @property
    def instance_models(self) -> tuple[str, ...]:
        # Another endpoint (Groq, LM Studio) hosts its own models: never show OpenAI's.
        return self.settings.models or (self.models if self.is_openai else ())

    @property
    def instance_default_model(self) -> str:
        models = self.instance_models
        own = self.default_model if self.is_openai else ""
        return self.settings.default_model or own or (models[0] if models else "")

    # -- keys -------------------------------------------------------------------------------
    @property
    def key_optional(self) -> bool:
        """Servers on this machine or a private network (LM Studio, llama.cpp, vLLM) usually
        run without a key; one that asks answers 401, which says a key is needed."""
        return bool(self.settings.options.get("no_auth")) or is_private(self.base_url)

    def flags(self) -> list[str]:
        flags = super().flags()
        return [f for f in flags if f != "needs key"] if self.key_optional else flags

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
    async def _stream(
        self, model: str, messages: Messages, params: Params | None = None
    ) -> AsyncIterator[Chunk]:
        headers = {
            **self._auth_headers(),  # first: a missing key fails before any request
            "Accept": "text/event-stream",
            "Content-Type": "application/json",
        }
        body = {"model": model, "messages": [wire_message(m) for m in messages], "stream": True}
        body |= params or {}  # temperature, top_p, max_tokens, seed: the same names here
        url = f"{self.base_url}/chat/completions"
        if self.sends_stream_options:
            asked = body | {"stream_options": STREAM_OPTIONS}
            async with self.client.stream("POST", url, json=asked, headers=headers) as response:
                if not await self._refuses_stream_options(response):
                    async for chunk in self._answer(response):
                        yield chunk
                    return
        # Asked once more without it; remembered when that is answered.
        async with self.client.stream("POST", url, json=body, headers=headers) as response:
            await self.check_response(response)
            self.sends_stream_options = False
            async for chunk in self._answer(response):
                yield chunk

    async def _refuses_stream_options(self, response: httpx.Response) -> bool:
        """Is this answer an endpoint's refusal of stream_options? Any other failure raises."""
        if response.is_success:
            return False
        excerpt = await self.error_excerpt(response)
        if response.status_code in (400, 422) and any(
            word in excerpt.lower() for word in _REFUSAL_WORDS
        ):
            return True
        self.raise_for_answer(response, excerpt)
        return False  # pragma: no cover - raise_for_answer always raises here

    async def _answer(self, response: httpx.Response) -> AsyncIterator[Chunk]:
        await self.check_response(response)
        if _media_type(response) == "application/json":
            # Some compatible servers ignore "stream": true and answer in one piece.
            for chunk in await self._whole_answer(response):
                yield chunk
            return
        splitter = ThinkSplitter()
        async for data in iter_sse_data(iter_lines(response.aiter_bytes())):
            if data.strip() == "[DONE]":
                break
            chunks = self._event_chunks(parse_json_line(data, "OpenAI"), splitter)
            for chunk in chunks:
                yield chunk
            if not chunks:
                yield ""  # an event without text: Provider.stream counts those, not as progress
        for chunk in splitter.flush():
            yield chunk

    def _event_chunks(self, event: Any, splitter: ThinkSplitter) -> list[Chunk]:
        """The text and parts of one chunk; none for role-only, empty or keep-alive chunks."""
        if not isinstance(event, dict):
            raise BadResponse(f"the stream sent a chunk that is not an object: {_short(event)}")
        self._raise_reported_error(event)
        out: list[Chunk] = []
        choices = event.get("choices")
        if choices is not None and choices != []:  # [] e.g. OpenAI's usage chunk
            if not isinstance(choices, list) or not isinstance(choices[0], dict):
                raise BadResponse(f"the stream sent malformed 'choices': {_short(choices)}")
            delta = choices[0].get("delta")
            if delta is not None:
                if not isinstance(delta, dict):
                    raise BadResponse(f"the stream sent a malformed 'delta': {_short(delta)}")
                if thought := reasoning_text(delta):
                    out.append(Reasoning(thought))
                out += splitter.feed(content_text(delta.get("content")))
            if finish := finish_of(choices[0].get("finish_reason")):
                out.append(finish)
        if usage := usage_parts(event.get("usage")):  # with choices or without (LiteLLM)
            out.append(usage)
        return out

    async def _whole_answer(self, response: httpx.Response) -> list[Chunk]:
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
            choice = data["choices"][0]
            message = choice["message"]
            text = content_text(message["content"])
        except (KeyError, IndexError, TypeError):
            raise BadResponse(f"the answer has no choices[0].message: {_short(data)}") from None
        splitter = ThinkSplitter()
        thought = reasoning_text(message)
        chunks: list[Chunk] = [Reasoning(thought)] if thought else []
        chunks += [*splitter.feed(text), *splitter.flush()]
        if finish := finish_of(choice.get("finish_reason")):
            chunks.append(finish)
        if usage := usage_parts(data.get("usage")):
            chunks.append(usage)
        return chunks

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
    async def list_models(self, *, strict: bool = False) -> list[str]:
        """GET /models, sorted ids; the static list on any failure (it is only a menu),
        unless *strict*: then ListFailed says why."""
        if not self.configured:
            if strict:
                raise ListFailed(f"no API key: {self.key_hint()}")
            return list(self.instance_models)
        return await self._fetch_model_list(
            f"{self.base_url}/models",
            lambda document: (model["id"] for model in document["data"]),
            limit=MAX_JSON_BODY,
            timeout=min(self.settings.timeout, LIST_TIMEOUT),
            headers=self._auth_headers(),
            strict=strict,
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


def reasoning_text(delta: dict[str, Any]) -> str:
    """The reasoning in a delta or message: its first REASONING_FIELDS string with text.
    Anything else there (null, an object) is not shown, and never fails a reply."""
    for field in REASONING_FIELDS:
        value = delta.get(field)
        if isinstance(value, str) and value:
            return value
    return ""


def usage_parts(usage: Any) -> Usage | None:
    """A Usage from an OpenAI ``usage`` object (null on the chunks before the last); the
    reasoning's count is in ``completion_tokens_details`` (OpenAI, DeepSeek, OpenRouter)."""
    if not isinstance(usage, dict):
        return None
    details = usage.get("completion_tokens_details")
    reasoning = details.get("reasoning_tokens") if isinstance(details, dict) else None
    return usage_of(usage.get("prompt_tokens"), usage.get("completion_tokens"), reasoning)


def wire_message(message: Mapping[str, Any]) -> dict[str, Any]:
    """A history message as OpenAI takes it: with images (tui/images.py), ``content`` is a
    list of parts, the text first, then each image as an ``image_url`` data URL."""
    out = {k: v for k, v in message.items() if k != "images"}
    if images := message.get("images"):
        text = [{"type": "text", "text": message.get("content", "")}]
        pictures = [{"type": "image_url", "image_url": {"url": data_url(i)}} for i in images]
        out["content"] = text + pictures
    return out


def is_private(url: str) -> bool:
    """Loopback (127/8, ::1, localhost) or a private network (10/8, 172.16/12, 192.168/16)."""
    if is_loopback(url):
        return True
    host = (urlsplit(url).hostname or "").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    private = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
    return any(address in ipaddress.ip_network(net) for net in private)


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

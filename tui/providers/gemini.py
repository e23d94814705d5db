"""Google's Gemini API (generativelanguage.googleapis.com), spoken natively.

One request per reply: ``POST {base_url}/models/{model}:streamGenerateContent?alt=sse``
with the key in the ``x-goog-api-key`` header (never in the URL, where logs and proxies
would keep it). Without ``alt=sse`` the endpoint streams one JSON array instead of events.
A prompt's images go as ``inlineData`` parts (mimeType, base64 data) before its text.

Each SSE ``data:`` event is a whole GenerateContentResponse: text at
``candidates[0].content.parts[].text`` (a part with ``"thought": true`` is reasoning, sent
only when ``thoughts = true`` in [providers.NAME] asks for it), ``finishReason`` on a
candidate (older models repeat "STOP" on every event), ``usageMetadata`` on most events
(growing: the last one is the count), ``promptFeedback.blockReason`` when the prompt itself
was refused (then there are no candidates). There is no end marker: the stream just ends.

Errors are Google's JSON: ``{"error": {"code", "message", "status", "details": [...]}}``.
A bad key is 400 with ``API_KEY_INVALID`` in the details (or 403 PERMISSION_DENIED); a 429
says when to retry in a ``RetryInfo`` detail (``"retryDelay": "7s"``), seldom in a header.

References: https://ai.google.dev/api/generate-content , https://ai.google.dev/api/models ,
https://ai.google.dev/gemini-api/docs/troubleshooting ,
https://ai.google.dev/gemini-api/docs/thinking ,
https://ai.google.dev/gemini-api/docs/image-understanding
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..sanitize import one_line
from .base import (
    ListFailed,
    Messages,
    Params,
    Provider,
    body_excerpt,
    parse_retry_after,
    read_limited,
    read_prefix,
)
from .errors import (
    BadResponse,
    BadSetting,
    CredentialsRejected,
    ProviderError,
    RateLimited,
    UnknownModel,
    about_model,
    server_words,
    wait_hint,
)
from .parts import Chunk, Finish, Reasoning, Usage, finish_of, usage_of
from .sse import iter_lines, iter_sse_data, parse_json_line

if TYPE_CHECKING:
    import httpx  # imported where a request is made (see base.py)

MAX_LIST_BODY = 4 << 20  # the model list: ~60 models of ~1 KB each today
MAX_JSON_BODY = 16 << 20  # a whole answer, when it comes as one JSON array
LIST_TIMEOUT = 10.0  # the model list is a convenience: never wait long for it
LIST_PAGE_SIZE = 1000  # the most one page may hold; the default (50) would cut the list short
ERROR_BODY_LIMIT = 16 << 10  # a 429 with its quota details is ~1.5 KB; more is not an error
THOUGHTS_OPTION = "thoughts"  # [providers.NAME] thoughts = true: ask for the model's thoughts
# chatterm's parameter names -> GenerationConfig's (https://ai.google.dev/api/generate-content)
CONFIG_NAMES = {
    "temperature": "temperature",
    "top_p": "topP",
    "max_tokens": "maxOutputTokens",
    "seed": "seed",
}
# Google's JSON for a Duration: "7s", "7.5s", "0.250s".
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)s\s*")
_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
_KEY_REASONS = {"API_KEY_INVALID", "API_KEY_SERVICE_BLOCKED", "API_KEY_HTTP_REFERRER_BLOCKED"}


class GeminiProvider(Provider):
    kind = "gemini"
    label = "Google Gemini"
    url = "https://ai.google.dev"
    default_base_url = "https://generativelanguage.googleapis.com/v1beta"
    working = True
    needs_auth = True
    supports_stream = True
    supports_message_history = True
    sends_images = True  # inlineData parts before the text (message_parts)
    models = ("gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite")
    default_model = "gemini-2.5-flash"
    api_key_env = "GEMINI_API_KEY"

    # -- settings ---------------------------------------------------------------------------
    @property
    def wants_thoughts(self) -> bool:
        """``thoughts = true`` in [providers.NAME]: Gemini thinks either way, but sends its
        thought summaries only when asked (thinkingConfig.includeThoughts)."""
        value = self.settings.options.get(THOUGHTS_OPTION)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise BadSetting(
                f"{THOUGHTS_OPTION} in [providers.{self.name}] of config.toml must be true or "
                f"false, not {one_line(repr(value), 40)}",
                provider=self.name,
            )
        return value

    def _headers(self) -> dict[str, str]:
        return {
            "x-goog-api-key": self.require_key(),  # first: a missing key fails before sending
            "Content-Type": "application/json",
            "Accept": "text/event-stream",
        }

    # -- chat -------------------------------------------------------------------------------
    async def _stream(
        self, model: str, messages: Messages, params: Params | None = None
    ) -> AsyncIterator[Chunk]:
        headers = self._headers()
        body = request_body(messages, params or {}, thoughts=self.wants_thoughts)
        url = f"{self.base_url}/models/{model_path(model)}:streamGenerateContent?alt=sse"
        async with self.client.stream("POST", url, json=body, headers=headers) as response:
            await self._check(response, model)
            async for chunk in self._answer(response):
                yield chunk

    async def _answer(self, response: httpx.Response) -> AsyncIterator[Chunk]:
        """Text and reasoning as they come; the last Finish and Usage seen, once, at the
        end (older models repeat finishReason on every event, usage grows as it goes)."""
        finish: Finish | None = None
        usage: Usage | None = None
        async for event in self._events(response):
            chunks = self._event_chunks(event)
            finish = _candidate_finish(event) or finish
            usage = usage_parts(event.get("usageMetadata")) or usage
            for chunk in chunks:
                yield chunk
            if not chunks:
                yield ""  # an event without text: Provider.stream counts those, not as progress
        for part in (finish, usage):
            if part is not None:
                yield part

    async def _events(self, response: httpx.Response) -> AsyncIterator[Any]:
        """Each GenerateContentResponse, parsed: from the SSE events, or from one JSON
        array when a gateway on the way dropped ?alt=sse (then it all comes at once)."""
        if _media_type(response) == "application/json":
            for event in await _whole_events(response):
                yield event
            return
        async for data in iter_sse_data(iter_lines(response.aiter_bytes())):
            yield parse_json_line(data, "Gemini")

    def _event_chunks(self, event: Any) -> list[Chunk]:
        """The text and reasoning of one GenerateContentResponse; a refusal or an error
        reported inside the stream raises."""
        if not isinstance(event, dict):
            raise BadResponse(f"the stream sent an event that is not an object: {_short(event)}")
        if event.get("error"):
            raise self._reported(event["error"])
        _raise_blocked(event.get("promptFeedback"))
        candidate = first_candidate(event)
        if candidate is None:
            return []
        content = candidate.get("content")
        if content is None:
            return []  # e.g. a candidate stopped for SAFETY before it said anything
        if not isinstance(content, dict):
            raise BadResponse(f"the stream sent a malformed 'content': {_short(content)}")
        return list(part_chunks(content.get("parts")))

    # -- failures ---------------------------------------------------------------------------
    async def _check(self, response: httpx.Response, model: str) -> None:
        """A non-2xx answer as a typed failure, read from Google's error object when the
        body is one (its status and details say more than the HTTP status alone)."""
        if response.is_success:
            return
        text = self.redact(await _read_body(response, ERROR_BODY_LIMIT + self._key_length()))
        error = google_error(text)
        if error is None or response.status_code == 407:  # a proxy's page, not Google's
            self.raise_for_answer(response, body_excerpt(text[:4096], 300))
            return  # pragma: no cover - raise_for_answer always raises
        status, retry = response.status_code, response.headers.get("retry-after")
        if specific := self._specific(status, error, f"HTTP {status}", retry, model):
            raise specific
        # Anything else (400, 5xx) in the words every provider uses, quoting Google's message.
        self.raise_for_answer(response, self.redact(_message(error)))

    def _key_length(self) -> int:
        """Read this much more than the bound, so a key at the cut is still whole when masked."""
        return len((self.settings.api_key or "").encode())

    def _specific(
        self,
        code: int | None,
        error: dict[str, Any],
        where: str,
        retry_header: str | None = None,
        model: str = "",
    ) -> ProviderError | None:
        """The failure a Google error object means when it is about the key, the rate or
        the model; None for the others. *where*: "HTTP 429", or the status word of an
        error inside the stream."""
        quoted = self._quote(error)
        if _is_key_problem(code, error):
            return CredentialsRejected(
                f"the server refused the credentials ({where}){quoted}; {self.credentials_hint()}",
                provider=self.name,
            )
        if code == 429 or error.get("status") == "RESOURCE_EXHAUSTED":
            retry = parse_retry_after(retry_header)
            retry = retry if retry is not None else retry_delay(error)
            return RateLimited(
                f"rate limited ({where}){quoted}; {wait_hint(retry)}",
                retry_after=retry,
                provider=self.name,
            )
        if code == 404 and about_model(_message(error)):
            named = f" '{one_line(model, 80)}'" if model else ""
            return UnknownModel(
                f"the model{named} was not found ({where}){quoted}; choose another model "
                "(the live model list shows the ones this key can use)",
                provider=self.name,
            )
        return None

    def _reported(self, error: Any) -> ProviderError:
        """An error object inside a 200 stream (an overloaded model mid-reply): its own
        ``code`` is the status, its ``status`` word ("UNAVAILABLE") says where."""
        if not isinstance(error, dict):
            error = {"message": str(error)}
        code, status = _int(error.get("code")), error.get("status")
        where = one_line(status, 40) if isinstance(status, str) and status else f"code {code}"
        if specific := self._specific(code, error, where):
            return specific
        return ProviderError(
            f"the service reported an error ({where}){self._quote(error)}",
            action="try again later",
            provider=self.name,
        )

    def _quote(self, error: dict[str, Any]) -> str:
        """': "Google's message"' (redacted, one line), or "" when it gave none."""
        said = server_words(self.redact(_message(error)))
        return f": {said}" if said else ""

    # -- models -----------------------------------------------------------------------------
    async def list_models(self, *, strict: bool = False) -> list[str]:
        """GET /models: those that can generateContent, without "models/", sorted; the
        static list on any failure (it is only a menu), unless *strict*: then ListFailed
        says why."""
        try:
            if not self.configured:
                raise ListFailed(f"no API key: {self.key_hint()}")
            found = await self._fetch_model_list(
                f"{self.base_url}/models?pageSize={LIST_PAGE_SIZE}",
                chat_models,
                limit=MAX_LIST_BODY,
                timeout=min(self.settings.timeout, LIST_TIMEOUT),
                headers={"x-goog-api-key": self.require_key()},
                strict=True,
            )
        except ListFailed as err:
            if strict:
                raise self._list_failure(err) from err
            return list(self.instance_models)
        return found if strict else found or list(self.instance_models)

    def _list_failure(self, err: ListFailed) -> ListFailed:
        # Gemini answers a bad key with 400 where others say 401: the GET has nothing
        # else that could be wrong, so a 400 is said as the key it is.
        if str(err) == "the server answered HTTP 400":
            return ListFailed(f"key refused (HTTP 400): {self.key_hint()}")
        return err


# -- the request --------------------------------------------------------------------------------
def request_body(messages: Messages, params: Params, *, thoughts: bool) -> dict[str, Any]:
    """A GenerateContentRequest: the turns, the system messages apart, the parameters given."""
    body: dict[str, Any] = {"contents": contents(messages)}
    system = [m.get("content", "") for m in messages if m.get("role") == "system"]
    if system := [text for text in system if text]:
        body["systemInstruction"] = {"parts": [{"text": text} for text in system]}
    config: dict[str, Any] = {
        CONFIG_NAMES[name]: value
        for name, value in params.items()
        if name in CONFIG_NAMES and value is not None
    }
    if thoughts:
        config["thinkingConfig"] = {"includeThoughts": True}
    if config:
        body["generationConfig"] = config
    return body


def contents(messages: Messages) -> list[dict[str, Any]]:
    """The conversation as Gemini's turns: "assistant" is "model", everything else but
    "system" is "user"; consecutive turns of one role are merged (one turn, several parts),
    and empty texts dropped (Gemini refuses an empty text part)."""
    turns: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role", "user")
        parts = message_parts(message)
        if role == "system" or not parts:
            continue
        role = "model" if role == "assistant" else "user"
        if turns and turns[-1]["role"] == role:
            turns[-1]["parts"].extend(parts)
        else:
            turns.append({"role": role, "parts": parts})
    return turns


def message_parts(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One message's parts: its images (tui/images.py) first, as Anthropic takes them and
    as Google's examples put them, then its text unless empty. An image-only prompt still
    goes: only a text part may not be empty."""
    parts = [image_part(image) for image in message.get("images") or ()]
    if text := message.get("content", ""):
        parts.append({"text": text})
    return parts


def image_part(image: Mapping[str, str]) -> dict[str, Any]:
    """An image as a Blob part (https://ai.google.dev/api/caching#Blob): images.load has
    already base64-encoded the bytes, which is what Gemini's JSON takes for ``data``."""
    return {"inlineData": {"mimeType": image["mime"], "data": image["data"]}}


def model_path(model: str) -> str:
    """The model as a path segment: "models/" (as the model list names them) dropped, and
    quoted so that a name holding "/", "?" or "#" cannot reach another endpoint."""
    return quote(model.removeprefix("models/"), safe="-._~")


# -- the answer ---------------------------------------------------------------------------------
def first_candidate(event: dict[str, Any]) -> dict[str, Any] | None:
    """candidates[0]: the others (candidateCount > 1) are other answers, never spliced in."""
    candidates = event.get("candidates")
    if candidates is None or candidates == []:
        return None  # Google leaves empty lists out; a usage-only event has none
    if not isinstance(candidates, list) or not isinstance(candidates[0], dict):
        raise BadResponse(f"the stream sent malformed 'candidates': {_short(candidates)}")
    return candidates[0]


def part_chunks(parts: Any) -> Iterable[Chunk]:
    """Text parts as text, thought parts as Reasoning; others (a function call, inline
    data, a bare thoughtSignature) carry no text for a chat."""
    if parts is None:
        return
    if not isinstance(parts, list):
        raise BadResponse(f"the stream sent malformed 'parts': {_short(parts)}")
    for part in parts:
        if not isinstance(part, dict):
            raise BadResponse(f"the stream sent a part that is not an object: {_short(part)}")
        text = part.get("text")
        if text is None or text == "":
            continue
        if not isinstance(text, str):
            raise BadResponse(f"the stream sent a non-text 'text': {_short(text)}")
        yield Reasoning(text) if part.get("thought") is True else text


def _candidate_finish(event: Any) -> Finish | None:
    """finishReason of candidates[0]: STOP is "stop", MAX_TOKENS "length", SAFETY
    "content_filter" (parts.finish_of); RECITATION, BLOCKLIST... as Google says them."""
    candidates = event.get("candidates") if isinstance(event, dict) else None
    if isinstance(candidates, list) and candidates and isinstance(candidates[0], dict):
        return finish_of(candidates[0].get("finishReason"))
    return None


def usage_parts(meta: Any) -> Usage | None:
    """A Usage from usageMetadata: the prompt, and the reply with its thoughts (billed as
    output, as OpenAI's completion_tokens count reasoning). Google leaves zero counts out."""
    if not isinstance(meta, dict):
        return None
    output = _int(meta.get("candidatesTokenCount"))
    thoughts = _int(meta.get("thoughtsTokenCount"))
    if thoughts is not None:
        output = (output or 0) + thoughts
    return usage_of(meta.get("promptTokenCount"), output, thoughts)


def _raise_blocked(feedback: Any) -> None:
    """The prompt was refused (promptFeedback.blockReason): say so, with Google's word."""
    if not isinstance(feedback, dict) or not feedback.get("blockReason"):
        return
    reason = one_line(str(feedback["blockReason"]), 40)
    said = feedback.get("blockReasonMessage")
    extra = f': "{one_line(said, 160)}"' if isinstance(said, str) and said.strip() else ""
    raise ProviderError(
        f"Gemini refused the prompt (blockReason {reason}){extra}",
        action="rephrase the message, or start a new conversation",
    )


# -- errors ---------------------------------------------------------------------------------------
def google_error(text: str) -> dict[str, Any] | None:
    """The ``error`` object of a Google error body, or None when *text* is not one."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if isinstance(data, list) and data:  # alt=json streams wrap it in an array
        data = data[0]
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, dict) else None


def retry_delay(error: dict[str, Any]) -> float | None:
    """Seconds from a RetryInfo detail ({"retryDelay": "7s"}), None when there is none."""
    for detail in _details(error):
        if detail.get("@type") == _RETRY_INFO and isinstance(detail.get("retryDelay"), str):
            if match := _DURATION.fullmatch(detail["retryDelay"]):
                return float(match[1])
    return None


def _is_key_problem(code: int | None, error: dict[str, Any]) -> bool:
    """A refused key: 400 with API_KEY_INVALID in its ErrorInfo, 401, or 403."""
    if code in (401, 403) or error.get("status") in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
        return True
    return any(detail.get("reason") in _KEY_REASONS for detail in _details(error))


def _details(error: dict[str, Any]) -> list[dict[str, Any]]:
    details = error.get("details")
    return [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []


def _message(error: dict[str, Any]) -> str:
    message = error.get("message")
    return message if isinstance(message, str) else ""


async def _whole_events(response: httpx.Response) -> list[Any]:
    """The responses of a JSON answer: an array of them, or one object."""
    raw = await read_limited(response, MAX_JSON_BODY, "Gemini")
    try:
        data = json.loads(raw)
    except ValueError:
        text = one_line(raw.decode("utf-8", "replace"), 120)
        raise BadResponse(f"the answer is not JSON: {text}") from None
    return data if isinstance(data, list) else [data]


def _media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").partition(";")[0].strip().lower()


async def _read_body(response: httpx.Response, limit: int) -> str:
    """At most *limit* bytes of an error body, as text; what could not be read is left."""
    return (await read_prefix(response, limit))[:limit].decode("utf-8", "replace")


# -- models ---------------------------------------------------------------------------------------
def chat_models(document: Any) -> Iterable[str]:
    """The names of the models that can generateContent (not embedding or Imagen ones),
    without "models/". Google leaves an empty list out: ``{}`` is no models."""
    if not isinstance(document, dict):
        raise TypeError("not an object")
    for model in document.get("models", []):
        if not isinstance(model, dict) or not isinstance(model.get("name"), str):
            raise TypeError("a model that is not an object with a name")
        if "generateContent" in (model.get("supportedGenerationMethods") or ()):
            yield model["name"].removeprefix("models/")


def _int(value: Any) -> int | None:
    """A whole, non-negative count as JSON gave it; None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _short(value: Any) -> str:
    return one_line(json.dumps(value, ensure_ascii=False)[:200], 80)

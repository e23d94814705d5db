"""Raycast's AI backend: a bearer-token POST answered by SSE events ``{"text": "..."}``.

Marked not working (as in the gpt4free original it descends from), but it still runs
when a user asks for it with a token.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from ..sanitize import one_line
from .base import Messages, Params, Provider, error_message
from .errors import BadResponse, ProviderError
from .sse import iter_lines, iter_sse_data, parse_json_line

CHAT_PATH = "/api/v1/ai/chat_completions"
USER_AGENT = "Raycast/0 CFNetwork/1410.0.3 Darwin/22.6.0"  # the macOS app's, as the original
DEFAULT_TEMPERATURE = 0.5  # what the app sends; the body has no other generation parameter


class RaycastProvider(Provider):
    kind = "raycast"
    label = "Raycast"
    url = "https://raycast.com"
    default_base_url = "https://backend.raycast.com"
    working = False
    needs_auth = True
    supports_stream = True
    supports_message_history = True
    models = ("gpt-3.5-turbo", "gpt-4")
    default_model = "gpt-3.5-turbo"
    api_key_env = "RAYCAST_API_KEY"

    async def _stream(
        self, model: str, messages: Messages, params: Params | None = None
    ) -> AsyncIterator[str]:
        key = self.require_key()  # before any request: nothing leaves without a token
        headers = {
            "Authorization": f"Bearer {key}",
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": self.user_agent(USER_AGENT),
        }
        url = self.base_url + CHAT_PATH
        body = request_body(model, messages, params)
        async with self.client.stream("POST", url, json=body, headers=headers) as response:
            await self.check_response(response)
            async for data in iter_sse_data(iter_lines(response.aiter_bytes())):
                if data.strip() == "[DONE]":
                    return
                for event in parse_events(data):
                    # "" for an event without text: Provider.stream counts those
                    yield self._event_text(event) or ""

    def _event_text(self, event: Any) -> str | None:
        """The text of one event; None (skipped) when it carries none, as the original did."""
        if not isinstance(event, dict):
            excerpt = one_line(str(event), 80)
            raise BadResponse(f"Raycast sent an event that is not an object: {excerpt}")
        if "error" in event:
            message = self.redact(error_message(event) or str(event["error"]))
            raise ProviderError(
                f"Raycast reported an error: {one_line(message, 200)}", action="try again later"
            )
        text = event.get("text")
        if text is None:
            return None
        if not isinstance(text, str):
            raise BadResponse(f"Raycast sent a non-text 'text' field: {one_line(repr(text), 80)}")
        return text


def parse_events(data: str) -> list[Any]:
    """The JSON of one SSE event; when the joined ``data:`` lines are not JSON, each line
    on its own (the original read the stream line by line, so a server may omit the blank
    lines between events)."""
    try:
        return [json.loads(data)]
    except ValueError:
        lines = [line for line in data.split("\n") if line.strip() not in ("", "[DONE]")]
        if len(lines) < 2:
            return [parse_json_line(data, "Raycast")]  # the usual "not JSON" error
    return [parse_json_line(line, "Raycast") for line in lines]


def request_body(model: str, messages: Messages, params: Params | None = None) -> dict[str, Any]:
    """The body the Raycast app sends (the shape of the gpt4free original); of the
    generation parameters only ``temperature`` has a place in it."""
    temperature = (params or {}).get("temperature")
    return {
        "debug": False,
        "locale": "en-CN",
        "messages": [{"author": m["role"], "content": {"text": m["content"]}} for m in messages],
        "model": model,
        "provider": "openai",
        "source": "ai_chat",
        "system_instruction": "markdown",
        "temperature": DEFAULT_TEMPERATURE if temperature is None else temperature,
    }

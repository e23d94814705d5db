"""voigpt.com: a Django site. One POST answers with the whole reply as ``{"response": ...}``.

Django's CSRF check wants the ``csrftoken`` cookie echoed in ``X-CSRFToken``; the token
comes from the site's home page (or ``access_token`` in the settings) and is kept for
later calls. A 403 means Django refused the token: fetch a fresh one once, then give up.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ..sanitize import one_line
from .base import (
    Messages,
    Params,
    Provider,
    ProviderSettings,
    body_excerpt,
    error_message,
    read_limited,
)
from .errors import BadResponse, CredentialsRejected

if TYPE_CHECKING:
    import httpx  # imported where a request is made (see base.py)

TOKEN_COOKIE = "csrftoken"
# A current desktop browser, as the original sent one: a Django site may refuse "chatterm".
BROWSER_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/136.0.0.0 Safari/537.36"
)
ACCEPT_LANGUAGE = "en-US,en;q=0.9"
# Django's alphabet, and nothing that could break a header line
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")


class VoiGptProvider(Provider):
    kind = "voigpt"
    label = "VoiGpt"
    url = "https://voigpt.com"
    default_base_url = "https://voigpt.com"
    working = True
    needs_auth = False
    supports_stream = False
    supports_message_history = True
    models = ("gpt-3.5-turbo",)
    default_model = "gpt-3.5-turbo"
    max_body = 8 << 20  # the whole reply arrives at once; bound what we hold

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        token = self.settings.options.get("access_token")
        self._token: str | None = str(token) if token else None
        self._token_lock = asyncio.Lock()  # concurrent first calls fetch one token, not two

    def key_hint(self) -> str:
        return f"set access_token in [providers.{self.name}] of config.toml, or leave it unset"

    async def _stream(
        self, model: str, messages: Messages, params: Params | None = None
    ) -> AsyncIterator[str]:
        # The site takes the messages and nothing else: no model, no generation parameters.
        payload = {"messages": [dict(m) for m in messages]}
        token = await self._csrf_token()
        status, body = await self._post(payload, token)
        if status == 403:  # Django's CSRF failure: the token expired or was rotated
            self._token = None
            status, body = await self._post(payload, await self._csrf_token())
            if status == 403:
                raise CredentialsRejected(
                    f"{self.shown_url} refused a fresh CSRF token too (HTTP 403); the site may "
                    "have changed or be blocking this client: try again later"
                )
        yield reply_text(body)

    async def _csrf_token(self) -> str:
        async with self._token_lock:
            if self._token is None:
                self._token = await self._fetch_token()
            return self._token

    async def _fetch_token(self) -> str:
        """GET the home page; Django sets the csrftoken cookie on it."""
        self.client.cookies.clear()  # a stale token in the jar must not pass for a fresh one
        headers = {**self._browser_headers(), "Accept": "text/html,*/*;q=0.8"}
        async with self.client.stream("GET", f"{self.base_url}/", headers=headers) as response:
            await self.check_response(response)
            await read_limited(response, self.max_body, "VoiGpt home page")
            token = response.cookies.get(TOKEN_COOKIE) or _jar_token(self.client)
        if not token:
            raise BadResponse(
                f"{self.shown_url}/ set no {TOKEN_COOKIE} cookie, so no request can pass its "
                f"CSRF check; set access_token in [providers.{self.name}] of config.toml",
                action="",
            )
        if not _TOKEN_SHAPE.fullmatch(token):
            raise BadResponse(f"{self.shown_url}/ set a malformed {TOKEN_COOKIE} cookie")
        return token

    def _browser_headers(self) -> dict[str, str]:
        """What a browser on the site sends (the site may check who is calling)."""
        return {"User-Agent": self.user_agent(BROWSER_UA), "Accept-Language": ACCEPT_LANGUAGE}

    async def _post(self, payload: dict[str, Any], token: str) -> tuple[int, bytes]:
        """(status, body) of the chat POST; statuses other than 2xx and 403 raise."""
        headers = {
            **self._browser_headers(),
            "Accept": "*/*",
            "Content-Type": "application/json",
            "Cookie": f"{TOKEN_COOKIE}={token}",
            "X-CSRFToken": token,
            "Referer": f"{self.base_url}/",
            "Origin": self.base_url,
        }
        url = f"{self.base_url}/generate_response/"
        async with self.client.stream("POST", url, json=payload, headers=headers) as response:
            if response.status_code == 403:
                return 403, b""
            await self.check_response(response)
            return response.status_code, await read_limited(response, self.max_body, "VoiGpt")


def reply_text(body: bytes) -> str:
    """The ``response`` field of the JSON answer; anything else quotes what came instead."""
    text = body.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    reply = data.get("response") if isinstance(data, dict) else None
    if isinstance(reply, str):
        return reply
    if isinstance(data, dict) and "error" in data:
        message = error_message(data) or str(data["error"])
        raise BadResponse(
            f"VoiGpt reported an error: {one_line(message, 120)}", action="try again later"
        )
    raise BadResponse(f"VoiGpt answered without its JSON reply: {body_excerpt(text, 60)!r}")


def _jar_token(client: httpx.AsyncClient) -> str | None:
    """The cookie from the client's jar: set on a redirect before the final page."""
    for cookie in client.cookies.jar:
        if cookie.name == TOKEN_COOKIE and cookie.value:
            return cookie.value
    return None

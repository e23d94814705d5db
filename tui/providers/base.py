"""What every provider is, and the shared machinery: client, failure mapping, history folding."""

from __future__ import annotations

import functools
import importlib
import json
import os
import re
import socket
import ssl
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, ClassVar

from ..sanitize import mask_url, one_line
from .errors import (
    BadSetting,
    ConnectFailed,
    CredentialsRejected,
    HTTPError,
    MissingCredentials,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    ResponseTooLarge,
    StreamBroken,
    in_characters,
)
from .settings import Messages as Messages
from .settings import ProviderSettings as ProviderSettings

if TYPE_CHECKING:
    import httpx

# httpx (with httpcore, h11, anyio: ~0.1 s) is imported where a request is made, not here:
# the app reads a provider's declarations (default model, key variable) before its first
# paint, and `import` of a loaded module is a dictionary look-up.

MAX_REPLY_CHARS = 4_000_000  # a reply larger than this is a runaway server, not an answer
REPLY_LIMIT_OPTION = "max_reply_chars"  # [providers.NAME] max_reply_chars = N: a lower bound


class Provider:
    """Base class: subclasses declare what they are and implement ``_stream``."""

    kind: ClassVar[str]
    label: ClassVar[str]
    url: ClassVar[str]
    default_base_url: ClassVar[str] = ""
    working: ClassVar[bool] = True
    needs_auth: ClassVar[bool] = False
    supports_stream: ClassVar[bool] = True
    supports_message_history: ClassVar[bool] = True
    models: ClassVar[tuple[str, ...]] = ()
    default_model: ClassVar[str] = ""
    api_key_env: ClassVar[str | None] = None  # the standard environment variable for the key
    accepts_any_model: ClassVar[bool] = False  # True where the service hosts open-ended models

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self._client: httpx.AsyncClient | None = None

    # -- what the instance is -------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def base_url(self) -> str:
        return (self.settings.base_url or self.default_base_url).rstrip("/")

    @property
    def shown_url(self) -> str:
        """base_url as messages show it: a password in it (``https://user:pw@host``) masked."""
        return mask_url(self.base_url)

    @property
    def instance_models(self) -> tuple[str, ...]:
        return self.settings.models or self.models

    @property
    def instance_default_model(self) -> str:
        models = self.instance_models
        return self.settings.default_model or self.default_model or (models[0] if models else "")

    @property
    def configured(self) -> bool:
        """Can it be called without failing on a missing key?"""
        return not self.needs_auth or bool(self.settings.api_key)

    def key_hint(self) -> str:
        """Where a key goes, for messages: the setting and the environment variable."""
        # The kind's standard variable only for the built-in instance: config.settings_for
        # reads OPENAI_API_KEY for [providers.openai], never for a declared [providers.groq].
        env = self.settings.api_key_env or (self.api_key_env if self.name == self.kind else None)
        where = f"api_key in [providers.{self.name}] of config.toml"
        return f"set {env} or {where}" if env else f"set {where}"

    def redact(self, text: str) -> str:
        """Servers sometimes echo the key back in an error body; never let it reach a message."""
        return _redact(text, self.settings.api_key)

    def credentials_hint(self) -> str:
        """What to do when the server refuses the credentials (401/403)."""
        return f"check the key; {self.key_hint()}"

    @property
    def reply_limit(self) -> int:
        """Characters one reply may hold: MAX_REPLY_CHARS, or less where the user says so
        (a small local model that loops forever should be stopped sooner)."""
        value = self.settings.options.get(REPLY_LIMIT_OPTION)
        if value is None:
            return MAX_REPLY_CHARS
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise BadSetting(
                f"{REPLY_LIMIT_OPTION} in [providers.{self.name}] of config.toml must be a "
                f"positive whole number of characters, not {one_line(repr(value), 40)}",
                provider=self.name,
            )
        return min(value, MAX_REPLY_CHARS)

    def require_key(self) -> str:
        if not self.settings.api_key:
            raise MissingCredentials(f"no API key: {self.key_hint()}", provider=self.name)
        return self.settings.api_key

    # -- HTTP -------------------------------------------------------------------------------
    @property
    def client(self) -> httpx.AsyncClient:
        """One client per instance, so connections are reused across exchanges."""
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(
                proxy=self.settings.proxy or None,
                timeout=httpx.Timeout(self.settings.timeout),
                verify=_tls_context(),
                follow_redirects=True,
                headers={"User-Agent": "chatterm"},
                trust_env=False,  # proxy comes from our settings only, never a surprise
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def check_response(self, response: httpx.Response) -> None:
        """Turn a non-2xx answer into a typed failure (reading at most a short body)."""
        if response.is_success:
            return
        body = await _read_excerpt(response, secret=self.settings.api_key)
        status = response.status_code
        if status in (401, 403):
            raise CredentialsRejected(
                f"the server refused the credentials (HTTP {status}): {self.credentials_hint()}",
                provider=self.name,
            )
        if status == 429:
            retry = parse_retry_after(response.headers.get("retry-after"))
            wait = f"; retry after {retry:g} s" if retry is not None else "; wait and try again"
            raise RateLimited(
                f"rate limited (HTTP 429){wait}", retry_after=retry, provider=self.name
            )
        hint = {404: "check base_url and the model name"}.get(status) or (
            "the service had a problem; try again later"
            if status >= 500
            else "the service refused the request; check the model name and settings"
        )
        detail = f": {body}" if body else ""
        raise HTTPError(
            f"HTTP {status} from {self.shown_url} ({hint}){detail}",
            status=status,
            excerpt=body,
            provider=self.name,
        )

    # -- the stream -------------------------------------------------------------------------
    async def stream(self, model: str, messages: Messages) -> AsyncIterator[str]:
        """Reply text chunks for *messages*; every failure comes out as a ProviderError."""
        import httpx

        model = model or self.instance_default_model
        if not self.supports_message_history:
            messages = fold_history(messages)
        total, limit = 0, self.reply_limit
        try:
            async for chunk in self._stream(model, messages):
                if not chunk:
                    continue
                total += len(chunk)
                if total > limit:
                    raise ResponseTooLarge(
                        f"the reply passed {in_characters(limit)} and was stopped",
                        provider=self.name,
                    )
                yield chunk
        except ProviderError as err:
            err.provider = err.provider or self.name
            raise
        except httpx.TimeoutException:
            raise ProviderTimeout(
                f"no answer from {self.shown_url} within {self.settings.timeout:g} s "
                "(request_timeout); try again or raise request_timeout",
                provider=self.name,
            ) from None
        except httpx.ConnectError as err:
            raise self._connect_failed(err) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as err:
            raise StreamBroken(
                f"the connection to {self.shown_url} was cut ({_reason(err)}); "
                "what arrived is kept",
                provider=self.name,
            ) from None
        except (httpx.ProxyError, httpx.UnsupportedProtocol, httpx.InvalidURL) as err:
            raise ConnectFailed(
                f"cannot use {self.shown_url} ({_reason(err)}): check base_url and proxy",
                provider=self.name,
            ) from None
        except httpx.HTTPError as err:
            raise StreamBroken(f"request failed: {_reason(err)}", provider=self.name) from None

    def _connect_failed(self, err: httpx.ConnectError) -> ConnectFailed:
        """Say which step failed: the name lookup, the TLS handshake, or the connection."""
        import httpx

        reason = _reason(err)
        if _caused_by(err, socket.gaierror):
            host = httpx.URL(self.base_url).host or self.base_url
            message = f"cannot find the host {host} ({reason}): check base_url and the network"
        elif _caused_by(err, ssl.SSLCertVerificationError):
            message = (
                f"the certificate of {self.shown_url} is not trusted ({reason}): check base_url "
                "and the server's certificate (a private CA can be named in SSL_CERT_FILE)"
            )
        elif _caused_by(err, ssl.SSLError) or "SSL" in reason:
            message = (
                f"the secure (TLS) connection to {self.shown_url} failed ({reason}): check "
                "whether base_url should start with https:// or http://, and the certificate"
            )
        else:
            message = (
                f"cannot reach {self.shown_url} ({reason}): check base_url, the network "
                "or that the server is running"
            )
        if proxy := self.settings.proxy:  # it may be the proxy that is down; never its password
            message += f"; the request went through the proxy {mask_url(proxy)}: check it too"
        return ConnectFailed(message, provider=self.name)

    async def _stream(self, model: str, messages: Messages) -> AsyncIterator[str]:
        raise NotImplementedError
        yield ""  # pragma: no cover - makes this an async generator

    async def list_models(self) -> list[str]:
        """Models the service offers now; the static list when it has no endpoint or fails."""
        return list(self.instance_models)


def warm_up() -> None:
    """Load what the first request of any provider waits for: the certificates, httpcore and
    h11 (httpx imports them when the first client is made) and anyio's asyncio backend
    (~0.25 s of CPU together). Imports are thread-safe and the context is cached, so the
    app runs this in a thread after its first paint."""
    _tls_context()
    for module in ("httpcore", "anyio._backends._asyncio"):
        importlib.import_module(module)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default verification (certifi's CAs), loaded once per process: loading it
    costs ~50 ms, which every provider instance (every `chatterm ask`) used to pay."""
    # trust_env: SSL_CERT_FILE / SSL_CERT_DIR name a private CA (a company's, a home lab's);
    # the client itself keeps trust_env=False so proxies come only from our settings.
    import httpx

    return httpx.create_ssl_context(trust_env=True)


def fold_history(messages: Messages) -> list[dict[str, str]]:
    """One user message holding the whole conversation, for providers without history."""
    if len(messages) <= 1:
        return [dict(m) for m in messages]
    lines = [f"{m['role']}: {m['content']}" for m in messages]
    return [{"role": "user", "content": "\n".join(lines) + "\nassistant:"}]


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


async def _read_excerpt(
    response: httpx.Response, limit: int = 4096, secret: str | None = None
) -> str:
    """A short, cleaned excerpt of an error body: a JSON error's message, or the text with
    HTML tags dropped; one line, with *secret* masked before anything is cut short."""
    import httpx

    raw = b""
    # A little past the bound, so that a key straddling it is still whole when masked.
    wanted = limit + (len(secret.encode()) if secret else 0)
    try:
        async for chunk in response.aiter_bytes():
            raw += chunk
            if len(raw) >= wanted:
                break
    except httpx.HTTPError:
        pass
    return body_excerpt(_redact(raw.decode("utf-8", "replace"), secret)[:limit], 160)


def body_excerpt(text: str, width: int) -> str:
    """One line for a body that is not what was expected: a JSON error's message, an HTML
    page's title (or its text without tags), else the text itself."""
    return one_line(json_error_message(text) or _html_title(text) or _strip_tags(text), width)


def json_error_message(text: str) -> str | None:
    """The message of a JSON error body, or None when *text* is not one."""
    try:
        return error_message(json.loads(text))
    except ValueError:
        return None


def error_message(data: Any) -> str | None:
    """The message of the usual error objects: {"error": {"message": ...}}, {"error": "..."},
    {"message": ...}, {"detail": ...}; None for anything else."""
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    if isinstance(error, dict):
        error = error.get("message")
    for value in (error, data.get("message"), data.get("detail")):
        if isinstance(value, str) and value.strip():
            return value
    return None


async def read_limited(response: httpx.Response, limit: int, what: str) -> bytes:
    """The whole body of a non-streamed answer, refusing to hold more than *limit* bytes."""
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) > limit:
            raise ResponseTooLarge(f"the {what} answer passed {_size(limit)} and was stopped")
    return bytes(data)


def _size(count: int) -> str:
    """1048576 -> "1 MiB"."""
    for factor, name in ((1 << 20, "MiB"), (1 << 10, "KiB")):
        if count >= factor:
            return f"{count / factor:g} {name}"
    return f"{count} bytes"


def _html_title(text: str) -> str | None:
    """The <title> of an error page (proxies repeat it in an <h1>; once is enough)."""
    match = re.search(r"(?is)<title[^>]*>(.*?)</title>", text)
    return match[1].strip() or None if match else None


def _caused_by(err: BaseException, kind: type[BaseException]) -> bool:
    """Is *kind* anywhere in the chain of causes (httpx wraps httpcore wraps the OS error)?"""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _strip_tags(text: str) -> str:
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", text)
    return re.sub(r"<[^>]*>", " ", text)


def _redact(text: str, secret: str | None) -> str:
    if secret and len(secret) >= 4 and secret in text:
        return text.replace(secret, "[redacted]")
    return text


def _reason(err: Exception) -> str:
    """httpx's own words, cut short; they name hosts at most, never our headers."""
    text = one_line(str(err), 100) or type(err).__name__
    return text


def env_key(name: str | None) -> str | None:
    return os.environ.get(name) or None if name else None

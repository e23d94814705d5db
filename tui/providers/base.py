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
from collections.abc import AsyncIterator, Callable, Iterable
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
    about_model,
    in_characters,
    proxy_refused,
    server_words,
    wait_hint,
)
from .parts import Chunk, Reasoning
from .settings import GENERATION_PARAMS
from .settings import Messages as Messages
from .settings import Params as Params
from .settings import ProviderSettings as ProviderSettings

if TYPE_CHECKING:
    import httpx

# httpx (with httpcore, h11, anyio: ~0.1 s) is imported where a request is made, not here:
# the app reads a provider's declarations (default model, key variable) before its first
# paint, and `import` of a loaded module is a dictionary look-up.

MAX_REPLY_CHARS = 4_000_000  # a reply larger than this is a runaway server, not an answer
REPLY_LIMIT_OPTION = "max_reply_chars"  # [providers.NAME] max_reply_chars = N: a lower bound
USER_AGENT_OPTION = "user_agent"  # [providers.NAME] user_agent = "...": overrides the seed
_HEADER_TEXT = re.compile(r"[\x20-\x7e]{1,512}")  # what can go in a header line, as is


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
    # Can its wire carry images (tui/images.py)? Which models take them is asked apart.
    sends_images: ClassVar[bool] = False

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

    def flags(self) -> list[str]:
        """What the declarations say a user should know, in words: for lists and screens."""
        said = {
            "needs key": self.needs_auth,
            "not working": not self.working,
            "no streaming": not self.supports_stream,
            "no history": not self.supports_message_history,
        }
        return [flag for flag, holds in said.items() if holds]

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

    def user_agent(self, seed: str) -> str:
        """The User-Agent to send: ``user_agent`` in [providers.NAME], else *seed* (what the
        original client sends: the real services may check who is calling)."""
        value = self.settings.options.get(USER_AGENT_OPTION)
        if value is None:
            return seed
        if not isinstance(value, str) or not value.strip() or not _HEADER_TEXT.fullmatch(value):
            raise BadSetting(  # never quote it: what is wrong may be what the terminal eats
                f"{USER_AGENT_OPTION} in [providers.{self.name}] of config.toml must be "
                "printable ASCII text on one line (at most 512 characters)",
                provider=self.name,
            )
        return value.strip()

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

            self._client = self._new_client(httpx)
        return self._client

    def _new_client(self, httpx: Any) -> httpx.AsyncClient:
        # httpx's own words on a bad proxy quote it ("Unknown scheme for proxy URL
        # URL('user:pw@host')", "Invalid port: 'pa'", half a password): never shown.
        # config.py refuses such a proxy at load; this covers settings made in code.
        try:
            return httpx.AsyncClient(
                proxy=self.settings.proxy or None,
                timeout=httpx.Timeout(self.settings.timeout),
                verify=_tls_context(),
                follow_redirects=True,  # on the same origin only: see _guard_response
                # gzip and deflate only: decoded here, in bounded steps (sse.bound_decoding)
                headers={"User-Agent": "chatterm", "Accept-Encoding": "gzip, deflate"},
                trust_env=False,  # proxy comes from our settings only, never a surprise
                event_hooks={"response": [self._guard_response]},
            )
        except (ValueError, httpx.InvalidURL):
            raise BadSetting(
                f"the proxy {mask_url(self.settings.proxy or '')} in [providers.{self.name}] is "
                "not a usable URL: it must start with http://, https:// or socks5://, and a "
                "password holding @ / ? # must be percent-encoded",
                provider=self.name,
            ) from None

    async def _guard_response(self, response: httpx.Response) -> None:
        """Before httpx reads a body or follows a redirect: refuse a redirect to another
        origin (307/308 would re-send the whole conversation there), drop a same-origin
        redirect's body unread, and decode content-encoding with bounded output."""
        from .sse import bound_decoding, discard_body

        if response.has_redirect_location:
            target = response.request.url.join(response.headers["location"])
            if _origin(target) != _origin(response.request.url):
                await response.aclose()
                raise self._redirected(response, str(target))
            discard_body(response)  # httpx reads it whole before following: never needed
            return
        await bound_decoding(response)

    def _redirected(self, response: httpx.Response, target: str) -> HTTPError:
        """The message for a redirect to another origin, with the base_url that would work."""
        asked, shown = str(response.request.url), mask_url(target)
        suffix = asked[len(self.base_url) :] if asked.startswith(self.base_url) else ""
        suggested = shown[: -len(suffix)] if suffix and shown.endswith(suffix) else shown
        status = response.status_code
        return HTTPError(
            f"{self.shown_url} redirected to {one_line(shown, 160)} (HTTP {status}), another "
            f"origin, and nothing was sent there; set base_url to {one_line(suggested, 160)} "
            "if that is the service",
            status=status,
            excerpt="",
            provider=self.name,
        )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def check_response(self, response: httpx.Response) -> None:
        """Turn a non-2xx answer into a typed failure (reading at most a short body)."""
        if response.is_success:
            return
        self.raise_for_answer(response, await self.error_excerpt(response))

    async def error_excerpt(self, response: httpx.Response) -> str:
        """A short, cleaned, redacted excerpt of an error answer's body (read once)."""
        return await _read_excerpt(response, secret=self.settings.api_key)

    def raise_for_answer(self, response: httpx.Response, body: str) -> None:
        """The typed failure for a non-2xx *response* whose body excerpt is *body*."""
        status = response.status_code
        if status == 407:  # the proxy's answer, not the service's: the model is not the cause
            challenge = response.headers.get("proxy-authenticate")
            raise proxy_refused(self.name, self.settings.proxy or "", challenge)
        # The server's own words first (redacted, one line), then what to do about them.
        said = server_words(body)
        quote = f": {said}" if said else ""
        if status in (401, 403):
            raise CredentialsRejected(
                f"the server refused the credentials (HTTP {status}){quote}; "
                f"{self.credentials_hint()}",
                provider=self.name,
            )
        if status == 429:
            retry = parse_retry_after(response.headers.get("retry-after"))
            raise RateLimited(
                f"rate limited (HTTP 429){quote}; {wait_hint(retry)}",
                retry_after=retry,
                provider=self.name,
            )
        if status >= 500:
            hint = "the service had a problem; try again later"
        elif about_model(body):  # only when the server says so
            hint = "check the model name"
        elif status == 404:
            hint = "check base_url"
        else:
            key = "the key and " if self.needs_auth or self.settings.api_key else ""
            hint = f"the service refused the request: check {key}the settings in "
            hint += f"[providers.{self.name}] of config.toml"
        raise HTTPError(
            f"HTTP {status} from {self.shown_url}{quote}; {hint}",
            status=status,
            excerpt=body,
            provider=self.name,
        )

    # -- the stream -------------------------------------------------------------------------
    async def stream(
        self, model: str, messages: Messages, params: Params | None = None
    ) -> AsyncIterator[Chunk]:
        """Reply text (``str``) and typed parts (``parts.Reasoning``, ``Usage``, ``Finish``)
        for *messages*; every failure comes out as a ProviderError.

        *params* (generation parameters, a conversation's own) are merged over the
        configured ones (``settings.params``); a None value leaves that one out. The reply
        limit counts text and reasoning; either one is progress for request_timeout."""
        import httpx

        model = model or self.instance_default_model
        if not self.supports_message_history:
            messages = fold_history(messages)
        total, limit = 0, self.reply_limit
        text = 0  # characters of reply text: what "what arrived is kept" is about
        watch = _Watch(self.settings.timeout)
        merged = self.call_params(params)
        chunks = self._stream(model, messages, params=merged)
        try:
            while (chunk := await watch.next(chunks)) is not None:
                size = len(chunk) if isinstance(chunk, str) else _reasoning_size(chunk)
                if not chunk or (isinstance(chunk, Reasoning) and not size):
                    continue
                total += size
                text += len(chunk) if isinstance(chunk, str) else 0
                if total > limit:
                    raise ResponseTooLarge(
                        f"the reply passed {in_characters(limit)} and was stopped",
                        provider=self.name,
                    )
                yield chunk
        except ProviderError as err:
            err.provider = err.provider or self.name
            if not text:
                err.nothing_arrived()
            raise
        except (httpx.TimeoutException, TimeoutError):
            raise self._timed_out(watch) from None
        except httpx.ConnectError as err:
            raise self._connect_failed(err) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as err:
            raise await self._stream_broken(err, arrived=text > 0) from None
        except httpx.ProxyError as err:  # the CONNECT tunnel for an https:// base_url
            if _reason(err).startswith("407"):
                raise proxy_refused(self.name, self.settings.proxy or "") from None
            raise ConnectFailed(
                f"the proxy {mask_url(self.settings.proxy or '')} would not open a tunnel to "
                f"{self.shown_url} ({_reason(err)}): check base_url and proxy in "
                f"[providers.{self.name}] of config.toml",
                provider=self.name,
            ) from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as err:
            # InvalidURL quotes a piece of the URL ("Invalid port: 'pa'"), maybe of a password.
            why = "a malformed URL" if isinstance(err, httpx.InvalidURL) else _reason(err)
            raise ConnectFailed(
                f"cannot use {self.shown_url} ({why}): check base_url and proxy",
                provider=self.name,
            ) from None
        except httpx.HTTPError as err:
            raise StreamBroken(f"request failed: {_reason(err)}", provider=self.name) from None
        finally:
            await chunks.aclose()  # a consumer that stops early closes the request now

    def _timed_out(self, watch: _Watch) -> ProviderTimeout:
        """No text within request_timeout: say whether anything came at all."""
        seconds = f"{self.settings.timeout:g} s"
        events, size = watch.meter.events, watch.meter.bytes
        if events or size:  # it answered, but with nothing to show
            amount = f"{size / (1 << 20):.1f} MiB" if size >= 1 << 20 else f"{size:,} bytes"
            came = f"{events:,} events without text, {amount}" if events else amount
            came += "" if events else " without text"
            said = f"no text from {self.shown_url} in {seconds} ({came}; request_timeout)"
        else:
            said = f"no answer from {self.shown_url} within {seconds} (request_timeout)"
        return ProviderTimeout(f"{said}; try again or raise request_timeout", provider=self.name)

    async def _stream_broken(self, err: Exception, *, arrived: bool) -> ProviderError:
        """A cut connection. Before any word, over http://, the usual cause is a server that
        speaks only TLS (it drops a plain request unanswered): ask it, and say so."""
        reason = _reason(err)
        if arrived:
            return StreamBroken(
                f"the connection to {self.shown_url} was cut ({reason}); what arrived is kept",
                provider=self.name,
            )
        if not self.settings.proxy and await _speaks_tls(self.base_url, self.settings.timeout):
            https = mask_url("https://" + self.base_url.removeprefix("http://"))
            return ConnectFailed(
                f"{self.shown_url} speaks TLS, not plain HTTP ({reason}): set base_url in "
                f"[providers.{self.name}] of config.toml to {https}",
                provider=self.name,
            )
        return StreamBroken(
            f"the connection to {self.shown_url} was cut before any answer ({reason})",
            provider=self.name,
        )

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

    def call_params(self, params: Params | None = None) -> dict[str, float | int]:
        """The generation parameters of one call: *params* over the configured ones, in
        GENERATION_PARAMS order; None (in either) leaves one out, unknown names are dropped."""
        merged = {**self.settings.params, **(params or {})}
        return {k: v for k in GENERATION_PARAMS if (v := merged.get(k)) is not None}

    async def _stream(
        self, model: str, messages: Messages, params: Params | None = None
    ) -> AsyncIterator[Chunk]:
        """Text and parts, raw: "" (or a part) for an event without text. *params* are the
        call's merged generation parameters (``call_params``); send those the service takes."""
        raise NotImplementedError
        yield ""  # pragma: no cover - makes this an async generator

    async def list_models(self, *, strict: bool = False) -> list[str]:
        """Models the service offers now; the static list when it has no endpoint or fails
        (with *strict*, a failure raises ListFailed saying why)."""
        return list(self.instance_models)

    async def _fetch_model_list(
        self,
        url: str,
        names: Callable[[Any], Iterable[Any]],
        *,
        limit: int,
        timeout: float,  # noqa: ASYNC109 - httpx's own
        headers: dict[str, str] | None = None,
        strict: bool = False,
    ) -> list[str]:
        """GET a JSON model list; *names* takes the model names out of the document. Sorted
        and cleaned; the static list on any failure (a model list is only a menu), unless
        *strict*: then a ListFailed says why (model_lists.py shows that instead)."""
        try:
            found = await self._read_model_list(url, names, limit, timeout, headers)
        except ListFailed:
            if strict:
                raise
            found = []
        # An empty live list is the server's answer; only the lenient caller wants a menu.
        return found if strict else found or list(self.instance_models)

    async def _read_model_list(
        self,
        url: str,
        names: Callable[[Any], Iterable[Any]],
        limit: int,
        timeout: float,  # noqa: ASYNC109 - httpx's own
        headers: dict[str, str] | None,
    ) -> list[str]:
        import httpx

        from ..sanitize import clean

        try:
            async with self.client.stream("GET", url, headers=headers, timeout=timeout) as response:
                if response.status_code in (401, 403):
                    status = response.status_code
                    raise ListFailed(f"key refused (HTTP {status}): {self.key_hint()}")
                if not response.is_success:
                    raise ListFailed(f"the server answered HTTP {response.status_code}")
                data = json.loads(await read_limited(response, limit, "model list"))
            found = {clean(name) for name in names(data) if isinstance(name, str)}
        except httpx.ConnectError as err:
            raise ListFailed(_list_connect_reason(err, self.shown_url)) from err
        except httpx.TimeoutException as err:
            raise ListFailed(f"{self.shown_url} did not answer in time") from err
        except (httpx.HTTPError, ProviderError) as err:
            raise ListFailed(self.redact(_reason(err))) from err
        except (ValueError, KeyError, TypeError) as err:
            raise ListFailed("the model list is not in the expected form") from err
        return sorted(name for name in found if name)

    async def context_window(self, model: str) -> int | None:
        """The context of *model* in tokens, as the service itself reports it; None when
        the service has no way to say or cannot be asked (the context budget then falls
        back to ``context_tokens`` and its table). Never raises."""
        return None

    @classmethod
    def has_live_list(cls) -> bool:
        """Does the service list its models (a kind that overrides ``list_models``)?"""
        return cls.list_models is not Provider.list_models

    async def reachable(self, timeout: float = 0.3) -> bool:  # noqa: ASYNC109 - httpx's own
        """Is the service answering? Only local servers (Ollama) are probed: others say no."""
        return False


class ListFailed(Exception):
    """A live model list could not be had; the message says why, in a user's words."""


def _list_connect_reason(err: Exception, url: str) -> str:
    if _caused_by(err, ssl.SSLCertVerificationError):
        return f"untrusted certificate at {url}"
    return f"unreachable: {url}"


LIVE_LIST_TIMEOUT = 3.0  # seconds a screen waits for a live list; then the static one stands


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
    """httpx's default verification (certifi's CAs), plus the private CA (a company's, a
    home lab's) that SSL_CERT_FILE or SSL_CERT_DIR names; loaded once per process: loading
    it costs ~50 ms, which every provider instance (every `chatterm ask`) used to pay."""
    # httpx's own trust_env=True *replaces* certifi's CAs with the private one (117 -> 1), so
    # every public service failed; the stdlib adds them instead, with no extra dependency.
    import certifi

    context = ssl.create_default_context(cafile=certifi.where())
    for variable, where in (("SSL_CERT_FILE", "cafile"), ("SSL_CERT_DIR", "capath")):
        if path := os.environ.get(variable):
            _add_private_ca(context, variable, **{where: path})
    return context


def _add_private_ca(context: ssl.SSLContext, variable: str, **where: str) -> None:
    """Load SSL_CERT_FILE's certificates or SSL_CERT_DIR's folder; a path that cannot be
    used is said in one line naming the variable (OpenSSL would ignore a missing one)."""
    path = next(iter(where.values()))
    try:
        folders = path.split(os.pathsep) if "capath" in where else []
        if missing := next((f for f in folders if f and not os.path.isdir(f)), None):
            raise NotADirectoryError(f"no folder {missing}")
        context.load_verify_locations(**where)
    except ssl.SSLError as err:
        reason = one_line(str(err.reason or err), 80)
    except OSError as err:
        reason = one_line(err.strerror or str(err), 80)
    else:
        return
    raise BadSetting(
        f"{variable}={one_line(path, 120)} cannot be used as certificates ({reason}): "
        f"fix or unset {variable}"
    )


def fold_history(messages: Messages) -> list[dict[str, str]]:
    """One user message holding the whole conversation, for providers without history."""
    if len(messages) <= 1:
        return [dict(m) for m in messages]
    lines = [f"{m['role']}: {m['content']}" for m in messages]
    return [{"role": "user", "content": "\n".join(lines) + "\nassistant:"}]


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date); None when absent or
    unusable. inf stays inf (the message says "more than an hour"); nan or a negative number
    is no delay a server meant, so it counts as absent."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 else None  # nan >= 0 is False
    from email.utils import parsedate_to_datetime

    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


async def read_prefix(response: httpx.Response, limit: int) -> bytes:
    """At least the first *limit* bytes of a body (all of a shorter one); a body cut while
    it is read gives what came (an error answer is read for its words, not whole)."""
    import httpx

    raw = b""
    try:
        async for chunk in response.aiter_bytes():
            raw += chunk
            if len(raw) >= limit:
                break
    except httpx.HTTPError:
        pass
    return raw


async def _read_excerpt(
    response: httpx.Response, limit: int = 4096, secret: str | None = None
) -> str:
    """A short, cleaned excerpt of an error body: a JSON error's message, or the text with
    HTML tags dropped; one line, with *secret* masked before anything is cut short."""
    # A little past the bound, so that a key straddling it is still whole when masked.
    raw = await read_prefix(response, limit + (len(secret.encode()) if secret else 0))
    # Wider than a message quotes (QUOTE_WIDTH): server_words drops LiteLLM's exception
    # names from the front first, so the words that matter are still whole.
    return body_excerpt(_redact(raw.decode("utf-8", "replace"), secret)[:limit], 300)


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


async def _speaks_tls(url: str, within: float) -> bool:
    """Does the server of an http:// *url* answer a TLS handshake? Sends only a ClientHello
    (then a blank line, so a plain-HTTP server answers at once instead of waiting for the
    end of a request); a TLS record coming back (handshake or alert) is the answer."""
    import asyncio
    import contextlib

    import httpx

    parsed = httpx.URL(url)
    if parsed.scheme != "http" or not parsed.host:
        return False
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # asked, not trusted
    outgoing = ssl.MemoryBIO()
    try:
        context.wrap_bio(ssl.MemoryBIO(), outgoing).do_handshake()
    except ssl.SSLWantReadError:
        pass
    try:
        async with asyncio.timeout(min(within, 2.0)):
            reader, writer = await asyncio.open_connection(parsed.host, parsed.port or 80)
            try:
                writer.write(outgoing.read() + b"\r\n\r\n")
                await writer.drain()
                head = await reader.read(2)
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
    except (OSError, TimeoutError):
        return False
    return len(head) == 2 and head[0] in (0x15, 0x16) and head[1] == 3  # TLS record, v3.x


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


class _Watch:
    """The deadline of one stream: request_timeout of waiting without text, however the
    bytes trickle (httpx's timeouts are per read, so a byte every few seconds resets
    them) and however many events without text arrive. Reasoning is progress like text
    (a model may think for minutes before its first word); usage and finish are events.
    Only the time spent waiting for the provider counts, never the time the consumer
    takes between chunks."""

    def __init__(self, timeout: float) -> None:
        from .sse import Meter

        self.timeout = self.left = timeout
        self.meter = Meter()

    async def next(self, chunks: AsyncIterator[Chunk]) -> Chunk | None:
        """The next chunk ("" for an event without text), None at the end."""
        import asyncio

        from .sse import METER

        token = METER.set(self.meter)  # the framing counts bytes and events into it
        started = time.monotonic()
        try:
            async with asyncio.timeout(max(self.left, 0)):
                chunk = await anext(chunks)
        except StopAsyncIteration:
            return None
        finally:
            self.left -= time.monotonic() - started
            METER.reset(token)
        if (isinstance(chunk, str) and chunk) or _reasoning_size(chunk):
            self.left = self.timeout
            self.meter.got_text()
        else:
            self.meter.got_event()
        return chunk


def _reasoning_size(chunk: Chunk) -> int:
    """Characters of reasoning in *chunk* (0 for text and the other parts)."""
    return len(chunk.text) if isinstance(chunk, Reasoning) else 0


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port filled in."""
    return url.scheme, url.host, url.port or {"http": 80, "https": 443}.get(url.scheme)

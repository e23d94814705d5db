"""Typed provider failures, each with a one-line message a person can act on.

No message ever quotes a request header, a URL with credentials, or an API key.
"""

from __future__ import annotations

import math
import re

from ..sanitize import mask_url, one_line


class ProviderError(Exception):
    """A provider could not give a (complete) reply. ``str(err)`` is the one-line message:
    what failed, then what to do about it (``action``, when the message does not say)."""

    #: True when nothing was sent yet and the user must fix a setting (CLI exit 2).
    usage = False
    #: What the user can do, said after the message; each kind of failure has its own.
    action = ""

    def __init__(self, message: str, *, provider: str = "", action: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        if action is not None:
            self.action = action

    def nothing_arrived(self) -> None:
        """No word reached the user: the message must not say that what arrived is kept."""
        self.message, self.action = _without_kept(self.message), _without_kept(self.action)
        self.args = (self.message,)

    def __str__(self) -> str:
        said = self.action.lower() in self.message.lower()  # a server may say it already
        if not self.action or said:
            text = self.message
        else:
            text = f"{self.message.rstrip('. ')}; {self.action}"
        return f"{self.provider}: {text}" if self.provider else text


class MissingCredentials(ProviderError):
    """No key configured: raised before any request goes out."""

    usage = True


class UnknownModel(ProviderError):
    usage = True


class BadSetting(ProviderError):
    """A provider setting has a value it cannot use: raised before any request goes out."""

    usage = True


class CredentialsRejected(ProviderError):
    """401 or 403."""


class RateLimited(ProviderError):
    def __init__(self, message: str, *, retry_after: float | None, provider: str = "") -> None:
        super().__init__(message, provider=provider)
        self.retry_after = retry_after


class HTTPError(ProviderError):
    def __init__(self, message: str, *, status: int, excerpt: str, provider: str = "") -> None:
        super().__init__(message, provider=provider)
        self.status = status
        self.excerpt = excerpt


class ConnectFailed(ProviderError):
    """The server could not be reached (refused, DNS, TLS)."""


class ProxyRefused(ConnectFailed):
    """The HTTP proxy answered 407: it wants (other) credentials before it forwards."""


class StreamBroken(ProviderError):
    """The connection was cut, or a line of the stream did not parse."""

    action = "try again"


class BadResponse(ProviderError):
    """The server answered, but not in the shape its protocol promises."""

    action = "check base_url and the provider kind, or try again later"


class EmptyReply(BadResponse):
    """A well-formed reply that held no text at all."""

    action = "try again, or choose another model"


class ProviderTimeout(ProviderError):
    """No byte arrived within ``request_timeout``."""


class ResponseTooLarge(ProviderError):
    """A line or a whole reply went past the bound that protects memory."""

    action = "what arrived is kept; check base_url, or ask for a shorter answer"


def _without_kept(text: str) -> str:
    return re.sub(r"(?:;\s*)?what arrived is kept(?:;\s*)?", _joined, text)


def _joined(match: re.Match[str]) -> str:
    """'a; what arrived is kept; b' -> 'a; b'; at either end, nothing."""
    inner = match[0]
    return "; " if inner.startswith(";") and inner.rstrip().endswith(";") else ""


def in_characters(count: int) -> str:
    """1048576 -> "1 million characters": the order of size is what a reader needs."""
    if count >= 1_000_000:
        return f"{count // 1_000_000} million characters"
    return f"{count} characters"


# -- wording shared by the HTTP failures -------------------------------------------------------
HOUR = 3600.0
QUOTE_WIDTH = 200  # the server's own words: enough for LiteLLM's longest, still one line
# LiteLLM wraps the upstream's words in its exception names ("litellm.AuthenticationError:
# AuthenticationError: OpenAIException - Incorrect API key..."): the status says that part.
_EXCEPTION_PREFIX = re.compile(r"^(?:\s*(?:[\w.]+\.)?\w+(?:Error|Exception)\s*(?::|-)\s*)+")
# The server's message is about the model only when it says the model is wrong, not when it
# merely names one ("Rate limit reached for gpt-4o", LiteLLM's "Model Group=...").
_MODEL_PROBLEM = re.compile(
    r"\bmodels?\b(?!\s+group)[^;\n]{0,80}?\b(?:not found|does not exist|doesn't exist|"
    r"unknown|invalid|not supported|unsupported|not available|unavailable|not allowed|"
    r"no access|not have access|not pulled)"
    r"|\b(?:invalid|unknown|unsupported|no such|not a valid)\s+model\b",
    re.IGNORECASE,
)


def server_words(excerpt: str) -> str:
    """The server's own message, as a message quotes it: without exception-class names."""
    words = one_line(_EXCEPTION_PREFIX.sub("", excerpt) or excerpt, QUOTE_WIDTH)
    return f'"{words}"' if words else ""


def about_model(excerpt: str) -> bool:
    """Does the server say the model is wrong (unknown, not found, not allowed)?"""
    return bool(_MODEL_PROBLEM.search(excerpt))


def duration(seconds: float) -> str:
    """90 -> "1 min 30 s", 3600 -> "1 h", 2.5 -> "2.5 s": how a person says a wait."""
    if seconds < 60:
        return f"{round(seconds, 1):g} s"
    whole = math.ceil(seconds)  # never shorter than asked: an early retry is refused again
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    return " ".join(p for p in [*parts, f"{secs} s" if secs else ""] if p)


def wait_hint(retry_after: float | None) -> str:
    """What to do about a 429, from its Retry-After (None: absent or unusable)."""
    if retry_after is None:
        return "wait and try again"
    if retry_after > HOUR:  # inf and 10**11 s included: no one waits for that
        return "the server asks to wait more than an hour; try again later"
    return f"retry after {duration(retry_after)}"


def proxy_refused(provider: str, proxy: str, challenge: str | None = None) -> ProxyRefused:
    """A 407: the proxy wants credentials. Names the setting, never the password."""
    setting = f"proxy in [providers.{provider}] of config.toml"
    scheme = re.match(r"\s*([A-Za-z][\w-]{0,30})", challenge or "")
    asks = f"; it asks for {scheme[1]}" if scheme else ""
    if scheme and scheme[1].lower() != "basic":
        asks += ", and chatterm can send only Basic"
    status = "HTTP 407 Proxy Authentication Required"
    authority = proxy.split("://", 1)[-1].partition("/")[0]
    if not proxy:  # no proxy of ours: one the network puts in the way
        message = f"a proxy between chatterm and the server asks for credentials ({status})"
        hint = f"set {setting} to http://user:password@host:port"
    elif "@" in authority:
        message = f"the proxy {mask_url(proxy)} refused the credentials ({status})"
        hint = f"check the user and password of {setting}"
    else:
        message = f"the proxy {mask_url(proxy)} asks for credentials ({status})"
        hint = f"put them in {setting} as http://user:password@host:port"
    return ProxyRefused(f"{message}{asks}: {hint}", provider=provider)

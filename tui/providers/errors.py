"""Typed provider failures, each with a one-line message a person can act on.

No message ever quotes a request header, a URL with credentials, or an API key.
"""

from __future__ import annotations


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


def in_characters(count: int) -> str:
    """1048576 -> "1 million characters": the order of size is what a reader needs."""
    if count >= 1_000_000:
        return f"{count // 1_000_000} million characters"
    return f"{count} characters"

"""Typed provider failures, each with a one-line message a person can act on.

No message ever quotes a request header, a URL with credentials, or an API key.
"""

from __future__ import annotations


class ProviderError(Exception):
    """A provider could not give a (complete) reply. ``str(err)`` is the one-line message."""

    #: True when nothing was sent yet and the user must fix a setting (CLI exit 2).
    usage = False

    def __init__(self, message: str, *, provider: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider

    def __str__(self) -> str:
        return f"{self.provider}: {self.message}" if self.provider else self.message


class MissingCredentials(ProviderError):
    """No key configured: raised before any request goes out."""

    usage = True


class UnknownModel(ProviderError):
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


class BadResponse(ProviderError):
    """The server answered, but not in the shape its protocol promises."""


class ProviderTimeout(ProviderError):
    """No byte arrived within ``request_timeout``."""


class ResponseTooLarge(ProviderError):
    """A line or a whole reply went past the bound that protects memory."""

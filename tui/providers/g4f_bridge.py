"""The gpt4free providers as chatterm providers (``g4f/NAME``), with ``pip install
'chatterm[g4f]'``. Without the extra nothing here imports g4f: ``installed()`` only asks
importlib whether it could be found.

Each g4f provider class becomes an instance of ``G4FProvider`` carrying that class's own
declarations (``working``, ``needs_auth``, ``supports_stream``,
``supports_message_history``, ``models``, ``default_model``), read with
``inspect.getattr_static``: some of g4f's class attributes are properties that fetch a
model list from the internet, and a listing must not. A few g4f modules fetch a file when
they are imported (g4f 8.8: G4FSpace, OrcaRouter); the listing imports them with outgoing
connections refused, so they fail fast and are left out instead of reaching the network.

Streaming goes through the class's ``create_async_generator``; its typed parts
(``Reasoning``, ``Usage``, ``FinishReason``) become ours, and its errors
(``MissingAuthError``, ``RateLimitError``…) and aiohttp's become our one-line ones. These
providers reach third-party services whose terms the user must check (README).
"""

from __future__ import annotations

import contextlib
import inspect
import socket
from collections.abc import AsyncIterator, Iterator
from functools import cache
from typing import Any

from ..sanitize import one_line
from . import G4F_PREFIX, g4f_installed
from .base import Messages, Params, Provider, ProviderSettings
from .errors import (
    BadSetting,
    ConnectFailed,
    CredentialsRejected,
    MissingCredentials,
    ProviderError,
    RateLimited,
    StreamBroken,
    UnknownModel,
)
from .openai import usage_parts
from .parts import Chunk, Reasoning, finish_of

PREFIX = G4F_PREFIX
FLAGS = ("working", "needs_auth", "supports_stream", "supports_message_history")
# What chatterm passes on, where the class's create_async_generator takes it.
PASSED_ON = ("temperature", "top_p", "max_tokens", "seed", "api_key", "proxy")


installed = g4f_installed


@contextlib.contextmanager
def _no_connections() -> Iterator[None]:
    """No name looked up and no connection made while g4f's modules are imported (see the
    docstring): both raise at once. Synchronous, on the calling thread; nothing else of
    chatterm looks up or connects meanwhile."""
    real_connect, real_lookup = socket.socket.connect, socket.getaddrinfo

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise ConnectionRefusedError("chatterm lists g4f providers without the network")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.getaddrinfo = refuse
    try:
        yield
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.getaddrinfo = real_lookup


@cache
def provider_classes() -> dict[str, type]:
    """g4f's provider classes that stream through ``create_async_generator``, by name."""
    if not installed():
        return {}
    with _no_connections():
        from g4f.Provider import ProviderLoader

        found: dict[str, type] = {}
        for name in [*ProviderLoader.names, *ProviderLoader.extra]:
            try:
                cls = ProviderLoader.from_name(name)
            except Exception:  # a module that cannot load is left out
                continue
            if inspect.isclass(cls) and _streams(cls):
                found[name] = cls
    return found


def _streams(cls: type) -> bool:
    method = inspect.getattr_static(cls, "create_async_generator", None)
    return isinstance(method, classmethod | staticmethod) or callable(method)


def declared(cls: type, attribute: str, default: Any) -> Any:
    """A class's own declaration, never running a property (which may fetch models)."""
    value = inspect.getattr_static(cls, attribute, default)
    if isinstance(value, classmethod | staticmethod | property) or callable(value):
        return default
    return value


def names(*, include_not_working: bool = False) -> list[str]:
    """``g4f/NAME`` for every class, those marked not working only when asked for."""
    return [
        PREFIX + name
        for name, cls in sorted(provider_classes().items(), key=lambda item: item[0].lower())
        if include_not_working or declared(cls, "working", False) is True
    ]


class G4FProvider(Provider):
    """One g4f provider class, shown and driven as a chatterm provider."""

    kind = "g4f"
    label = "gpt4free"
    url = "https://github.com/xtekky/gpt4free"
    accepts_any_model = True  # g4f classes take models their static list does not name

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        class_name = settings.name.removeprefix(PREFIX)
        cls = provider_classes().get(class_name)
        if cls is None:
            raise BadSetting(
                f"no g4f provider named {class_name!r}"
                + ("" if installed() else ": install it with  pip install 'chatterm[g4f]'"),
                provider=settings.name,
            )
        self.g4f_class = cls
        # The class's own declarations, per instance (the ClassVars above are the kind's).
        self.label = one_line(f"{declared(cls, 'label', None) or class_name} (g4f)", 60)
        self.url = str(declared(cls, "url", None) or self.url)
        for flag in FLAGS:
            setattr(self, flag, bool(declared(cls, flag, flag != "needs_auth")))
        models = declared(cls, "models", ())
        self.models = (
            tuple(m for m in models if isinstance(m, str))
            if isinstance(models, list | tuple)
            else ()
        )
        default = declared(cls, "default_model", "")
        self.default_model = default if isinstance(default, str) else ""

    async def _stream(
        self, model: str, messages: Messages, params: Params | None = None
    ) -> AsyncIterator[Chunk]:
        if self.needs_auth and not self.settings.api_key:
            raise MissingCredentials(f"needs a key: {self.key_hint()}", provider=self.name)
        kwargs = self._kwargs(params)
        try:
            replies = self.g4f_class.create_async_generator(model, list(messages), **kwargs)
            async for item in replies:
                if (part := self._part(item)) is not None:
                    yield part
        except ProviderError:
            raise
        except Exception as err:  # g4f's and aiohttp's, said in our words
            raise self._translated(err) from None

    def _kwargs(self, params: Params | None) -> dict[str, Any]:
        """What the class's create_async_generator takes, of what chatterm has to give."""
        given: dict[str, Any] = {k: v for k, v in (params or {}).items() if v is not None}
        given |= {"api_key": self.settings.api_key, "proxy": self.settings.proxy}
        given = {k: v for k, v in given.items() if k in PASSED_ON and v is not None}
        try:
            signature = inspect.signature(self.g4f_class.create_async_generator)
        except (TypeError, ValueError):
            return given
        accepted = signature.parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
            return {"stream": True, **given}
        return {k: v for k, v in {"stream": True, **given}.items() if k in accepted}

    def _part(self, item: Any) -> Chunk | None:
        """A g4f response item as one of ours; None for those chatterm does not show."""
        from g4f.providers import response

        if isinstance(item, str):
            return item
        if isinstance(item, response.Reasoning):
            return Reasoning(str(item))
        if isinstance(item, response.Usage):
            return usage_parts(item.get_dict())  # OpenAI's names, as g4f keeps them
        if isinstance(item, response.FinishReason):
            return finish_of(getattr(item, "reason", None))
        return None  # headers, provider info, conversation state, images: not reply text

    def _translated(self, err: Exception) -> ProviderError:
        from g4f import errors

        said = self.redact(one_line(str(err), 300)) or type(err).__name__
        name = self.name
        if isinstance(err, errors.MissingAuthError) and self.settings.api_key:
            return CredentialsRejected(f"the key was refused ({said})", provider=name)
        if isinstance(err, errors.MissingAuthError):
            return MissingCredentials(f"needs a key ({said}): {self.key_hint()}", provider=name)
        if isinstance(err, errors.RateLimitError):
            return RateLimited(f"rate limited: {said}", retry_after=None, provider=name)
        if isinstance(err, errors.PaymentRequiredError):
            return CredentialsRejected(f"the service wants payment: {said}", provider=name)
        if isinstance(err, errors.ModelNotFoundError | errors.ModelNotAllowedError):
            return UnknownModel(f"{said}; choose another model with F2", provider=name)
        if isinstance(err, errors.ResponseStatusError | errors.ResponseError):
            return ProviderError(f"the service answered with an error: {said}", provider=name)
        return _network_error(err, said, name) or ProviderError(f"g4f: {said}", provider=name)


def _network_error(err: Exception, said: str, name: str) -> ProviderError | None:
    """aiohttp's failures (g4f's transport), as httpx's are said in base.py."""
    import aiohttp

    if isinstance(err, aiohttp.ClientConnectorError | ConnectionError):
        return ConnectFailed(f"cannot reach the service ({said}): check the network", provider=name)
    if isinstance(err, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError):
        return StreamBroken(f"the connection was cut: {said}", provider=name)
    if isinstance(err, aiohttp.ClientResponseError):
        return ProviderError(f"HTTP {err.status}: {said}", provider=name)
    return None

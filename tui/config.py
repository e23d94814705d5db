"""config.toml: load, validate, save. No Textual here.

Unknown keys are kept, so a newer chatterm's settings survive an older one's save.
"""

from __future__ import annotations

import math
import os
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from .keymap import KeymapError, parse_overrides
from .link import DEFAULT_MOUSE, DEFAULT_REDRAW, MOUSE_MODES, REDRAW_MODES
from .providers import KINDS, g4f_installed, is_g4f_name
from .providers.settings import GENERATION_PARAMS, ProviderSettings
from .sanitize import clean, one_line

HEADER = "# Written by chatterm. Edit freely: a hand-edited file is kept as config.toml.bak\n"
DEFAULT_TIMEOUT = 60.0
# attachment_limit: the largest file a prompt may attach, in KB (1 KB = 1024 bytes).
DEFAULT_ATTACHMENT_LIMIT = 200
MAX_ATTACHMENT_LIMIT = 10 * 1024  # 10 MB: more text than any model's context takes
BUILTIN = ("echo", "openai", "anthropic", "gemini", "ollama", "raycast", "voigpt")
_PROVIDER_KEYS = {"kind", "base_url", "api_key", "api_key_env", "proxy", "models", "default_model"}
TOKEN_OPTIONS = ("access_token",)  # secrets among a kind's extra keys (VoiGpt's CSRF token)
_PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")


class ConfigError(Exception):
    """A setting is wrong; the message names the file and the key."""


@dataclass
class ProviderConfig:
    name: str
    kind: str
    base_url: str | None = None
    api_key: str | None = None
    api_key_env: str | None = None
    proxy: str | None = None
    models: tuple[str, ...] = ()
    default_model: str | None = None
    options: dict[str, Any] = field(default_factory=dict)  # other keys, e.g. access_token

    def __repr__(self) -> str:
        return f"ProviderConfig(name={self.name!r}, kind={self.kind!r})"

    @property
    def params(self) -> dict[str, float | int]:
        """The generation parameters among ``options`` (where the file's keys are kept,
        so a save writes them back as they were): temperature, top_p, max_tokens, seed."""
        return {k: self.options[k] for k in GENERATION_PARAMS if k in self.options}


@dataclass
class Config:
    path: Path
    default_provider: str | None = None
    default_model: str | None = None
    request_timeout: float = DEFAULT_TIMEOUT
    attachment_limit: int = DEFAULT_ATTACHMENT_LIMIT  # KB
    fallback: list[str] = field(default_factory=list)
    theme: str | None = None
    system_prompt: str = ""
    # The link to the terminal (tui/link.py); None: decided by SSH_CONNECTION.
    low_bandwidth: bool | None = None
    cursor_blink: bool | None = None
    mouse: str = DEFAULT_MOUSE
    redraw: str = DEFAULT_REDRAW
    providers: dict[str, ProviderConfig] = field(default_factory=dict)
    # [keys]: action id -> the keys that replace its defaults (see tui/keymap.py). Saving
    # writes the table back as it was read, since nothing in the app edits it.
    keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    document: dict[str, Any] = field(default_factory=dict)  # the file as read, unknown keys too
    error: str | None = None  # set when the file was unusable and defaults are in force

    def provider_names(self) -> list[str]:
        """Built-in providers first, then the user's own instances."""
        return list(BUILTIN) + [n for n in self.providers if n not in BUILTIN]

    def knows(self, name: str) -> bool:
        """Is *name* a provider: built in, configured, or a g4f/NAME with the extra there
        (whether g4f has that class is found when it is first used)."""
        return name in self.provider_names() or (is_g4f_name(name) and g4f_installed())

    def provider_config(self, name: str) -> ProviderConfig:
        if name in self.providers:
            return self.providers[name]
        if name in BUILTIN:
            return ProviderConfig(name=name, kind=name)
        if is_g4f_name(name) and g4f_installed():
            return ProviderConfig(name=name, kind="g4f")
        known = ", ".join(self.provider_names())
        raise ConfigError(f"unknown provider {name!r}; known: {known}")

    def settings_for(self, name: str) -> ProviderSettings:
        """Resolve one provider's settings; environment variables for keys beat the file."""
        pc = self.provider_config(name)
        env_name = _env_name(name, pc)
        # Surrounding whitespace is a CRLF .env or a paste, never part of a key. A key that
        # cannot travel in a header is dropped: load() has already refused it, naming the
        # setting, and a raw one would be quoted back by h11 ("Illegal header value").
        api_key = usable_secret(os.environ.get(env_name) if env_name else None) or (
            usable_secret(pc.api_key)
        )
        return ProviderSettings(
            name=name,
            kind=pc.kind,
            base_url=pc.base_url,
            api_key=api_key or None,
            api_key_env=env_name,
            proxy=pc.proxy,
            timeout=self.request_timeout,
            models=pc.models,
            default_model=pc.default_model,
            options={k: v for k, v in pc.options.items() if k not in GENERATION_PARAMS},
            params=pc.params,
        )

    def secrets(self) -> list[str]:
        """Every secret in force: keys (the file's and the environment's), tokens, and the
        passwords in proxy and base URLs. What must never be stored beside a prompt."""
        found: list[str] = []
        for name in self.provider_names():
            settings = self.settings_for(name)
            found += [
                settings.api_key or "",
                *(str(settings.options.get(t, "")) for t in TOKEN_OPTIONS),
            ]
            for url in (settings.proxy, settings.base_url):
                userinfo = (url or "").partition("://")[2].rpartition("@")[0]
                password = userinfo.partition(":")[2]
                found += [password, unquote(password)]  # as written and as typed
        return [secret for secret in dict.fromkeys(found) if len(secret) >= 4]


def _env_name(name: str, pc: ProviderConfig) -> str | None:
    return pc.api_key_env or (_kind_env(pc.kind) if name == pc.kind else None)


def secret_problem(value: str) -> str | None:
    """Why *value* (already stripped) cannot be sent in an HTTP header; never quotes it."""
    if not value.isascii():
        return "holds a non-ASCII character"
    if not value.isprintable():
        return "holds a control character"
    return None


def usable_secret(value: str | None) -> str | None:
    """*value* without surrounding whitespace, or None when empty or unusable."""
    value = (value or "").strip()
    return value if value and secret_problem(value) is None else None


def _kind_env(kind: str) -> str | None:
    from .providers import KEY_ENV

    return KEY_ENV.get(kind)


def default_path() -> Path:
    from .paths import config_path

    return config_path()


def load(path: Path | None = None) -> Config:
    """Read and validate the config; a missing file means defaults. Raises ConfigError."""
    path = path or default_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config(path=path)
    except OSError as err:
        raise ConfigError(f"{path}: cannot read ({err.strerror})") from None
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: not valid TOML ({err})") from None
    config = _parse(path, document)
    _check_env_keys(config)
    return config


def _check_env_keys(config: Config) -> None:
    """A key variable that cannot be sent is an error naming the variable, never its value."""
    for name in config.provider_names():
        env_name = _env_name(name, config.provider_config(name))
        value = (os.environ.get(env_name) or "").strip() if env_name else ""
        if value and (problem := secret_problem(value)):
            raise ConfigError(
                f"${env_name} {problem} (its value is not shown): set it again, as it was issued"
            )


def load_or_defaults(path: Path | None = None) -> Config:
    """For the app: a broken file opens with defaults and the error shown, never a crash."""
    try:
        return load(path)
    except ConfigError as err:
        return Config(path=path or default_path(), error=str(err))


def _parse(path: Path, doc: dict[str, Any]) -> Config:
    get = _Getter(path, doc, "")
    config = Config(
        path=path,
        default_provider=get.str("default_provider"),
        default_model=get.str("default_model"),
        request_timeout=get.number("request_timeout", DEFAULT_TIMEOUT),
        attachment_limit=get.kilobytes("attachment_limit", DEFAULT_ATTACHMENT_LIMIT),
        fallback=get.str_list("fallback"),
        theme=get.str("theme"),
        system_prompt=get.str("system_prompt", multiline=True) or "",
        low_bandwidth=get.flag("low_bandwidth"),
        cursor_blink=get.flag("cursor_blink"),
        mouse=get.choice("mouse", MOUSE_MODES, DEFAULT_MOUSE),
        redraw=get.choice("redraw", REDRAW_MODES, DEFAULT_REDRAW),
        document=doc,
    )
    tables = doc.get("providers", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{path}: [providers] must be a table")
    for name, table in tables.items():
        if not name or _has_controls(name):
            # A name is shown in every screen and printed by `chatterm providers`: refused
            # here, where it enters, rather than cleaned in each place it is drawn.
            shown = one_line(name, 40)
            raise ConfigError(f"{path}: provider name {shown!r} must be printable text")
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: providers.{name} must be a table")
        config.providers[name] = _parse_provider(path, name, table)
    for name in [config.default_provider, *config.fallback]:
        if name and not config.knows(name):
            where = "default_provider or fallback"
            raise ConfigError(f"{path}: unknown provider {name!r} (in {where})")
    if "keys" in doc:
        try:
            config.keys = parse_overrides(doc["keys"])
        except KeymapError as err:
            raise ConfigError(f"{path}: {err}") from None
    return config


def _parse_provider(path: Path, name: str, table: dict[str, Any]) -> ProviderConfig:
    get = _Getter(path, table, f"providers.{name}.")
    kind = get.str("kind") or ("g4f" if is_g4f_name(name) else name)
    if kind not in KINDS:
        raise ConfigError(
            f"{path}: providers.{name}.kind = {kind!r} is not a provider kind "
            f"(one of {', '.join(KINDS)})"
        )
    return ProviderConfig(
        name=name,
        kind=kind,
        base_url=get.url("base_url", _HTTP_SCHEMES),
        api_key=get.secret("api_key"),
        api_key_env=get.str("api_key_env"),
        proxy=get.url("proxy", _PROXY_SCHEMES),
        models=tuple(get.str_list("models")),
        default_model=get.str("default_model"),
        options=_options(get, table),
    )


_HTTP_SCHEMES = ("http", "https")


def _options(get: _Getter, table: dict[str, Any]) -> dict[str, Any]:
    """A kind's extra keys, as written; the tokens among them checked like keys."""
    options = {k: v for k, v in table.items() if k not in _PROVIDER_KEYS}
    for key in TOKEN_OPTIONS:
        if key in options:
            options[key] = get.secret(key)
            if options[key] is None:
                del options[key]
    for key in GENERATION_PARAMS:
        if key in options:
            _check_param(get, key, options[key])
    context = options.get("context_tokens")  # tui/context.py's budget for this provider
    if context is not None and not (type(context) is int and context > 0):
        raise get._fail("context_tokens", "a positive whole number (of tokens)")
    return options


# The generation parameters: (what a value must be, in words; the test it must pass).
PARAM_RULES: dict[str, tuple[str, Any]] = {
    "temperature": ("a number from 0 to 2", lambda v: _is_number(v) and 0 <= v <= 2),
    "top_p": ("a number from 0 to 1", lambda v: _is_number(v) and 0 <= v <= 1),
    "max_tokens": ("a positive whole number (of tokens)", lambda v: type(v) is int and v > 0),
    "seed": ("a whole number", lambda v: type(v) is int),
}


def _is_number(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


def _check_param(get: _Getter, key: str, value: Any) -> None:
    """A generation parameter of the right type and range; the message never quotes it."""
    what, passes = PARAM_RULES[key]
    if not passes(value):
        raise get._fail(key, what)


class _Getter:
    """Typed reads that name the file and the full key on a wrong type."""

    def __init__(self, path: Path, table: dict[str, Any], prefix: str) -> None:
        self.path, self.table, self.prefix = path, table, prefix

    def _fail(self, key: str, what: str) -> ConfigError:
        return ConfigError(f"{self.path}: {self.prefix}{key} must be {what}")

    def str(self, key: str, *, multiline: bool = False) -> str | None:
        value = self.table.get(key)
        if value is not None and not isinstance(value, str):
            raise self._fail(key, "a string")
        if value and _has_controls(value, multiline):  # never quote it: it may be a key
            raise self._fail(key, "printable text (it holds control characters)")
        return value or None

    def secret(self, key: str) -> str | None:
        """A key or token: surrounding whitespace dropped; one that cannot be sent in a
        header is refused, and the message never quotes it."""
        value = self.table.get(key)
        if value is not None and not isinstance(value, str):
            raise self._fail(key, "a string")
        value = (value or "").strip()
        if value and (problem := secret_problem(value)):
            raise ConfigError(
                f"{self.path}: {self.prefix}{key} {problem} (its value is not shown): "
                "write it again, as it was issued"
            )
        return value or None

    def url(self, key: str, schemes: tuple[str, ...]) -> str | None:
        """A URL that may hold a user name and password: checked here, at load, so that
        neither httpx's parse errors ("Invalid port: 'pa'") nor a wrong host taken from
        half a password ever quote them."""
        value = self.table.get(key)
        if value is not None and not isinstance(value, str):
            raise self._fail(key, "a string")
        value = (value or "").strip()
        if not value:
            return None
        if _has_controls(value):
            raise self._fail(key, "printable text (it holds control characters)")
        if problem := url_problem(value, schemes):
            raise ConfigError(f"{self.path}: {self.prefix}{key} {problem}")
        return value

    def number(self, key: str, default: float) -> float:
        value = self.table.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)  # nan slips past `<= 0`; inf never times out
            or value <= 0
        ):
            raise self._fail(key, "a positive, finite number of seconds")
        return float(value)

    def kilobytes(self, key: str, default: int) -> int:
        value = self.table.get(key, default)
        if type(value) is not int or not 1 <= value <= MAX_ATTACHMENT_LIMIT:
            raise self._fail(key, f"a whole number of KB from 1 to {MAX_ATTACHMENT_LIMIT}")
        return value

    def flag(self, key: str) -> bool | None:
        """true or false; None when the key is left out (automatic)."""
        value = self.table.get(key)
        if value is not None and not isinstance(value, bool):
            raise self._fail(key, "true or false (or left out: automatic)")
        return value

    def choice(self, key: str, options: tuple[str, ...], default: str) -> str:
        value = self.table.get(key, default)
        if value not in options:  # never quoted: a wrong type or a stray escape
            wanted = ", ".join(f'"{option}"' for option in options)
            raise self._fail(key, f"one of {wanted}")
        return value

    def str_list(self, key: str) -> list[str]:
        value = self.table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._fail(key, "a list of strings")
        if any(_has_controls(v) for v in value):
            raise self._fail(key, "a list of printable strings")
        return list(value)


def url_problem(url: str, schemes: tuple[str, ...]) -> str | None:
    """What is wrong with *url*, in words that quote neither its user name nor password."""
    scheme, sep, rest = url.partition("://")
    wanted = " or ".join(f"{s}://" for s in schemes)
    if not sep or scheme.lower() not in schemes:
        return f"must start with {wanted} (its text is not shown: it may hold a password)"
    # The authority, as any URL parser reads it, ends at the first '/', '?' or '#'.
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    ats = [i for i, c in enumerate(rest) if c == "@"]
    if len(ats) > 1 or (ats and ats[0] > end):
        return (
            "holds '@' more than once or after a '/', '?' or '#': a user name or password "
            "holding @ / ? # must be percent-encoded (%40 %2F %3F %23)"
        )
    host = rest[:end].rpartition("@")[2]
    port = host.rpartition("]")[2].rpartition(":")[2] if ":" in host.rpartition("]")[2] else ""
    if not host or (port and (not port.isdigit() or int(port) > 65535)):
        return (
            "has no usable host and port: a user name or password holding @ / ? # must be "
            "percent-encoded (%40 %2F %3F %23)"
        )
    return None


def _has_controls(text: str, multiline: bool = False) -> bool:
    """Control characters or escape sequences (newlines and tabs only where *multiline*)."""
    if not multiline and ("\n" in text or "\t" in text):
        return True
    return clean(text) != text.replace("\r\n", "\n")


# -- saving ---------------------------------------------------------------------------------


def validated(config: Config) -> Config:
    """*config* as load() would read it back after a save: the same checks, the same
    messages (ConfigError). For edits made in the app before they are saved."""
    checked = _parse(config.path, to_document(config))
    _check_env_keys(checked)
    return checked


_DEFAULTS = {
    "request_timeout": DEFAULT_TIMEOUT,
    "attachment_limit": DEFAULT_ATTACHMENT_LIMIT,
    "mouse": DEFAULT_MOUSE,
    "redraw": DEFAULT_REDRAW,
}


def to_document(config: Config) -> dict[str, Any]:
    """The file's content: what was read, with the known keys set from *config*."""
    doc = dict(config.document)
    top = {
        "default_provider": config.default_provider,
        "default_model": config.default_model,
        "request_timeout": config.request_timeout,
        "attachment_limit": config.attachment_limit,
        "fallback": config.fallback,
        "theme": config.theme,
        "system_prompt": config.system_prompt,
        "low_bandwidth": config.low_bandwidth,
        "cursor_blink": config.cursor_blink,
        "mouse": config.mouse,
        "redraw": config.redraw,
    }
    for key, value in top.items():
        if value in (None, "", []) or value == _DEFAULTS.get(key):
            doc.pop(key, None)
        else:
            doc[key] = value
    providers = {}
    for name, pc in config.providers.items():
        table = dict(pc.options)
        for key in ("kind", "base_url", "api_key", "api_key_env", "proxy", "default_model"):
            value = getattr(pc, key)
            if value and not (key == "kind" and value == name):
                table[key] = value
        if pc.models:
            table["models"] = list(pc.models)
        providers[name] = table
    if providers:
        doc["providers"] = providers
    else:
        doc.pop("providers", None)
    return doc


def save(config: Config) -> None:
    """Write atomically with mode 0600; keep a hand-edited file as config.toml.bak first."""
    import tomli_w

    path = config.path
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        old = path.read_text("utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        old = None
    if old is not None and not old.startswith(HEADER):
        backup = path.with_name(path.name + ".bak")
        backup.write_text(old, "utf-8")
        os.chmod(backup, 0o600)
    text = HEADER + tomli_w.dumps(to_document(config))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    config.document = to_document(config)
    config.error = None


def permissions_warning(path: Path) -> str | None:
    """A warning when a config holding secrets (keys, tokens, passwords in URLs) can be
    read by others."""
    try:
        mode = path.stat().st_mode
        text = path.read_text("utf-8") if mode & (stat.S_IRWXG | stat.S_IRWXO) else ""
    except (OSError, UnicodeDecodeError):
        return None
    if text and _holds_secrets(text):
        return f"{path} holds API keys or passwords and others can read it: run  chmod 600 {path}"
    return None


def _holds_secrets(text: str) -> bool:
    try:
        tables = tomllib.loads(text).get("providers", {})
    except tomllib.TOMLDecodeError:  # unreadable as TOML: judge by the words in it
        return any(w in text.replace("api_key_env", "") for w in ("api_key", *TOKEN_OPTIONS))
    if not isinstance(tables, dict):
        return False
    for table in tables.values():
        if not isinstance(table, dict):
            continue
        if any(table.get(k) for k in ("api_key", *TOKEN_OPTIONS)):
            return True
        for key in ("proxy", "base_url"):
            value = table.get(key)
            if isinstance(value, str) and ":" in value.partition("://")[2].rpartition("@")[0]:
                return True  # user:password@host
    return False

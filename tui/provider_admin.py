"""Adding, changing and removing a provider in config.toml: the one place that does it, for
``chatterm providers add|rm`` and the providers screen. No Textual, no httpx.

Every change is checked as load() would check the file it writes (``config.validated``),
so a bad URL or key is refused with the file's own message and nothing is written; the
write itself is ``config.save`` (atomic, mode 0600, a hand-edited file kept as .bak).
"""

from __future__ import annotations

import re
from dataclasses import replace

from .config import BUILTIN, Config, ConfigError, ProviderConfig, save, validated
from .providers import KINDS

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # a TOML bare key, and no "/" (picker)


# What the user gives for one provider is a ProviderConfig; its options are not asked for:
# an edit keeps those the provider had (max_reply_chars, temperature...).
ProviderForm = ProviderConfig


def check_name(name: str) -> None:
    if not NAME.fullmatch(name):
        raise ConfigError(
            "a provider name is letters, digits, '-', '_' or '.' (at most 64, "
            "starting with a letter or digit)"
        )


def put_provider(config: Config, form: ProviderForm, *, replacing: bool = False) -> Config:
    """Add *form* (or, *replacing*, change the provider of that name) and save. Returns the
    config as read back; ConfigError says why nothing was written."""
    draft = replace(config, providers=dict(config.providers))
    apply_form(draft, form, replacing=replacing)
    return _save_checked(draft)


def remove_provider(config: Config, name: str) -> Config:
    """Remove ``[providers.NAME]`` and save; refused while the name is in use."""
    draft = replace(config, providers=dict(config.providers))
    apply_removal(draft, name)
    return _save_checked(draft)


def apply_form(config: Config, form: ProviderForm, *, replacing: bool = False) -> None:
    """*form* into *config* (not saved: Services.change_config or put_provider saves)."""
    check_name(form.name)
    if form.kind not in KINDS:
        raise ConfigError(f"{form.kind!r} is not a provider kind (one of {', '.join(KINDS)})")
    if form.name in config.providers and not replacing:
        raise ConfigError(
            f"a provider named {form.name!r} is already in {config.path}: remove it first "
            f"(chatterm providers rm {form.name}) or choose another name"
        )
    if form.name in BUILTIN and form.kind != form.name:
        raise ConfigError(f"{form.name!r} is a built-in provider of kind {form.name!r}")
    old = config.providers.get(form.name)
    same_kind = old is not None and old.kind == form.kind
    config.providers[form.name] = ProviderConfig(
        name=form.name,
        kind=form.kind,
        base_url=form.base_url or None,
        # An edit that leaves the key empty keeps the one saved (the form shows it masked).
        api_key=form.api_key or (old.api_key if same_kind and old else None),
        api_key_env=form.api_key_env or None,
        proxy=form.proxy or None,
        models=tuple(m for m in form.models if m),
        default_model=form.default_model or None,
        options=dict(old.options) if same_kind and old else {},
    )


def apply_removal(config: Config, name: str) -> None:
    if name not in config.providers:
        where = "is built in and has no table" if name in BUILTIN else "is not"
        raise ConfigError(f"{name!r} {where} in {config.path}: nothing to remove")
    if config.default_provider == name:
        raise ConfigError(f"{name!r} is default_provider: choose another default first")
    if name in config.fallback:
        raise ConfigError(f"{name!r} is in fallback: take it out of fallback first")
    del config.providers[name]


def form_of(config: Config, name: str) -> ProviderForm:
    """The form for editing provider *name* as config.toml has it (its key left out)."""
    return replace(config.provider_config(name), api_key=None, options={})


def _save_checked(draft: Config) -> Config:
    checked = validated(draft)  # raises ConfigError with load()'s own message
    save(draft)
    checked.document = draft.document
    return checked

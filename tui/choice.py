"""Which conversation, provider and model: the one resolver for the app and ``ask``.

``-s ID`` / ``-c`` pick a saved conversation, ``-p`` / ``-m`` override its provider and
model; without them a new conversation gets the configured default. No Textual here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .config import ConfigError

if TYPE_CHECKING:
    from .chat import Core
    from .store import Session


class NothingToContinue(ConfigError):
    """``-c`` with no saved conversation yet."""


@dataclass
class Choice:
    session: Session
    notices: list[str] = field(default_factory=list)  # for the user: the file's provider left
    new: bool = True  # a new conversation (not yet saved), not one opened from a file


def choose(
    core: Core,
    *,
    session: str | None = None,
    cont: bool = False,
    provider: str | None = None,
    model: str | None = None,
    system: str | None = None,
    default: tuple[str, str] | None = None,
) -> Choice:
    """The conversation to talk in and who answers it.

    *session* is any unique start of an id; *default* is the (provider, model) a new
    conversation gets when *provider* is not given (``ask`` probes for a local Ollama
    first; the app probes after the first paint). Raises ConfigError (an unknown provider,
    NothingToContinue), SessionError (a missing or unreadable file) and UnknownModel.
    """
    store = core.store
    session_id = store.resolve(session) if session else (store.latest() if cont else None)
    if cont and session_id is None:
        raise NothingToContinue("no saved conversation to continue yet; start one without -c")
    if session_id is None:
        chosen = _new(core, provider, model, system, default)
    else:
        chosen = reopen(core, store.load(session_id), provider, model)
    core.check_choice(chosen.session.provider, chosen.session.model)
    return chosen


def open_saved(core: Core, session_id: str) -> Choice:
    return reopen(core, core.store.load(session_id))


def reopen(
    core: Core, loaded: Session, provider: str | None = None, model: str | None = None
) -> Choice:
    """A loaded conversation, ready to talk in: a provider it names that is gone, or
    none, becomes the default; then ``-p`` / ``-m`` apply."""
    notices = []
    if loaded.provider and not core.config.knows(loaded.provider):
        name, model = core.default_choice()
        # The provider comes from the session file: untrusted, shown only as plain text.
        notices.append(f"{loaded.provider} is not configured any more; using {name}.")
        loaded.provider, loaded.model = name, model
    if not loaded.provider:  # a hand-written file may name none: the defaults answer it
        loaded.provider = core.default_choice()[0]
    loaded.model = loaded.model or core.model_for(loaded.provider)
    _override(core, loaded, provider, model)
    return Choice(loaded, notices, new=False)


def _override(core: Core, session: Session, provider: str | None, model: str | None) -> None:
    """``-p`` / ``-m`` over a reopened conversation: the same provider keeps its model."""
    if provider and not core.config.knows(provider):
        core.check_choice(provider, "")  # raises, naming the known ones
    name = provider or session.provider
    if model:
        session.model = model
    elif name != session.provider:
        session.model = core.model_for(name)
    session.provider = name


def _new(
    core: Core,
    provider: str | None,
    model: str | None,
    system: str | None,
    default: tuple[str, str] | None,
) -> Choice:
    if provider:
        core.check_choice(provider, "")
        model = core.model_for(provider, model)
    else:
        provider, default_model = default or core.default_choice()
        model = model or default_model
    prompt = core.config.system_prompt if system is None else system
    return Choice(core.store.new(provider, model, prompt))

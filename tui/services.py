"""What the screens are given: one object, built once, typed. No Textual here.

The app builds ``Services`` at start-up and hands it to each screen it opens; a screen
never reaches into the app for them. Config edits go through ``change_config``: a copy is
changed, validated with the file's own rules, saved, and only then swapped in, so a
failure leaves the config in force exactly as it was.
"""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import clipboard, keymap
from .chat import Core
from .choice import Choice, open_saved
from .config import Config, save, validated
from .history import PromptHistory
from .link import Link, decide
from .state import RecentModels
from .store import SessionStore

if TYPE_CHECKING:  # model_lists imports the providers' base, which imports httpx
    from .model_lists import ModelLists


@dataclass
class Services:
    core: Core
    recent: RecentModels
    history: PromptHistory
    # --low-bandwidth (True) or --no-low-bandwidth (False) on the command line; None: neither.
    low_bandwidth_flag: bool | None = None

    @classmethod
    def build(cls, config: Config, store: SessionStore, state_path: Path) -> Services:
        """*state_path* is state.json (recent models); the prompt history lies beside it."""
        core = Core(config, store)
        # The secrets are asked for at each prompt, so a key entered in F4 counts at once.
        history = PromptHistory(state_path.with_name("history.json"), lambda: core.config.secrets())
        return cls(core, RecentModels(state_path), history)

    @property
    def config(self) -> Config:
        return self.core.config

    @functools.cached_property
    def model_lists(self) -> ModelLists:
        """The live model lists and their cache (tui/model_lists.py), one for every screen,
        so a list fetched for F4 is the one F2 shows and a failure is not asked again."""
        from .model_lists import ModelLists

        return ModelLists.default()

    @property
    def store(self) -> SessionStore:
        return self.core.store

    @property
    def link(self) -> Link:
        """What the link to the terminal is given now (tui/link.py): the config in force, the
        environment and the command line."""
        config = self.config
        return decide(
            os.environ,
            low_bandwidth=config.low_bandwidth,
            cursor_blink=config.cursor_blink,
            mouse=config.mouse,
            redraw=config.redraw,
            flag=self.low_bandwidth_flag,
        )

    # -- models and sessions --------------------------------------------------------------
    def all_models(self) -> list[tuple[str, str]]:
        """Every (provider, model) the providers list themselves, for the palette."""
        core = self.core
        return [
            (name, model)
            for name in core.provider_names()
            for model in core.provider(name).instance_models
        ]

    def open_session(self, session_id: str) -> Choice:
        """A saved conversation ready to talk in (see choice.open_saved)."""
        return open_saved(self.core, session_id)

    # -- keys and the clipboard -----------------------------------------------------------
    @property
    def keys(self) -> dict[str, tuple[str, ...]]:
        """The user's ``[keys]``: action id -> keys in force instead of the defaults."""
        return self.config.keys

    def key_warnings(self) -> list[str]:
        return keymap.clashes(self.keys)

    def key_for(self, action_id: str) -> str:
        """How the keys of *action_id* are written on screen ("F6", "ctrl+y")."""
        return keymap.keys_text(keymap.BY_ID[action_id], self.keys)

    def copy_limit(self) -> int:
        return clipboard.copy_limit(self.config.document)

    def copies_folder(self) -> Path:
        return clipboard.copies_folder(self.store.root.parent)

    # -- config edits ---------------------------------------------------------------------
    async def change_config(self, change: Callable[[Config], None]) -> Config:
        """Copy, change, validate, save, swap. Raises ConfigError (the same message the file
        would get) or OSError (not saved); in both cases nothing in force changed."""
        draft = copy.deepcopy(self.config)
        change(draft)
        checked = validated(draft)
        save(checked)
        self.core.config = checked
        # Provider instances keep the settings they were built with: new ones read these.
        # A reply streaming through an old one is not cut (Core.forget).
        await self.core.forget()
        return checked

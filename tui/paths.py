"""Where chatterm keeps its files (XDG on Linux through platformdirs), gathered in one place."""

from __future__ import annotations

import os
from pathlib import Path


def config_path() -> Path:
    """``$CHATTERM_CONFIG``, else ``$XDG_CONFIG_HOME/chatterm/config.toml``."""
    if env := os.environ.get("CHATTERM_CONFIG"):
        return Path(env)
    from platformdirs import user_config_dir

    return Path(user_config_dir("chatterm", appauthor=False)) / "config.toml"


def data_dir() -> Path:
    """``$CHATTERM_DATA_DIR``, else ``$XDG_DATA_HOME/chatterm``."""
    if env := os.environ.get("CHATTERM_DATA_DIR"):
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("chatterm", appauthor=False))


def cache_dir() -> Path:
    """``$CHATTERM_CACHE_DIR``, else ``$XDG_CACHE_HOME/chatterm``: things fetched again if lost."""
    if env := os.environ.get("CHATTERM_CACHE_DIR"):
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("chatterm", appauthor=False))

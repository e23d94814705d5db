"""What the end-to-end tests of the installed command share."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """An environment with its own config and data folders, and no keys."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.pop("OLLAMA_HOST", None)
    env["CHATTERM_CONFIG"] = str(tmp_path / "config.toml")
    env["CHATTERM_DATA_DIR"] = str(tmp_path / "data")
    (tmp_path / "config.toml").write_text(
        'default_provider = "echo"\n[providers.echo]\ndelay = 0\n', "utf-8"
    )
    return env

"""Generation parameters in [providers.NAME]: checked at load, carried to the provider."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui import config as cfg


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, "utf-8")
    return path


def test_params_reach_the_provider_settings_apart_from_options(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[providers.local]\nkind = 'openai'\nbase_url = 'http://127.0.0.1:1/v1'\n"
        "temperature = 0.7\ntop_p = 1\nmax_tokens = 256\nseed = -3\nno_auth = true\n",
    )
    settings = cfg.load(path).settings_for("local")
    assert settings.params == {"temperature": 0.7, "top_p": 1, "max_tokens": 256, "seed": -3}
    assert dict(settings.options) == {"no_auth": True}
    assert cfg.load(path).providers["local"].params == settings.params


def test_params_survive_a_save(tmp_path: Path) -> None:
    path = write(tmp_path, "[providers.ollama]\ntemperature = 0.0\nmax_tokens = 10\n")
    config = cfg.load(path)
    cfg.save(config)
    again = cfg.load(path)
    assert again.settings_for("ollama").params == {"temperature": 0.0, "max_tokens": 10}
    assert cfg.validated(again).settings_for("ollama").params == {
        "temperature": 0.0,
        "max_tokens": 10,
    }


def test_no_params_is_an_empty_mapping(tmp_path: Path) -> None:
    assert cfg.load(tmp_path / "absent.toml").settings_for("openai").params == {}


@pytest.mark.parametrize(
    ("line", "key", "words"),
    [
        ("temperature = 2.5", "temperature", "a number from 0 to 2"),
        ("temperature = -0.1", "temperature", "a number from 0 to 2"),
        ("temperature = 'hot'", "temperature", "a number from 0 to 2"),
        ("temperature = true", "temperature", "a number from 0 to 2"),
        ("temperature = nan", "temperature", "a number from 0 to 2"),
        ("top_p = 1.5", "top_p", "a number from 0 to 1"),
        ("max_tokens = 0", "max_tokens", "a positive whole number"),
        ("max_tokens = 12.0", "max_tokens", "a positive whole number"),
        ("max_tokens = '100'", "max_tokens", "a positive whole number"),
        ("seed = 1.5", "seed", "a whole number"),
        ("seed = false", "seed", "a whole number"),
    ],
)
def test_a_wrong_param_names_the_key(tmp_path: Path, line: str, key: str, words: str) -> None:
    path = write(tmp_path, f"[providers.groq]\nkind = 'openai'\n{line}\n")
    with pytest.raises(cfg.ConfigError) as info:
        cfg.load(path)
    message = str(info.value)
    assert f"providers.groq.{key} must be {words}" in message and str(path) in message


def test_an_edit_in_the_app_is_checked_the_same_way(tmp_path: Path) -> None:
    config = cfg.load(write(tmp_path, "[providers.openai]\ntemperature = 1\n"))
    config.providers["openai"].options["temperature"] = 9
    with pytest.raises(cfg.ConfigError, match=r"providers\.openai\.temperature must be"):
        cfg.validated(config)

"""config.toml: defaults, validation messages, key resolution, saving."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tui import config as cfg


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, "utf-8")
    return path


def test_missing_config_file_means_defaults(tmp_path: Path) -> None:
    config = cfg.load(tmp_path / "absent.toml")
    assert config.request_timeout == 60.0
    assert config.fallback == []
    assert config.provider_names()[:7] == [
        "echo",
        "openai",
        "anthropic",
        "gemini",
        "ollama",
        "raycast",
        "voigpt",
    ]


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "default_provider = \n")
    with pytest.raises(cfg.ConfigError) as info:
        cfg.load(path)
    assert str(path) in str(info.value) and "TOML" in str(info.value)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("request_timeout = 'soon'\n", "request_timeout"),
        ("fallback = 'openai'\n", "fallback"),
        ("[providers.groq]\nkind = 'nosuch'\n", "providers.groq.kind"),
        ("[providers.groq]\nkind = 'openai'\nbase_url = 3\n", "providers.groq.base_url"),
        ("default_provider = 'nosuch'\n", "nosuch"),
    ],
)
def test_wrong_setting_names_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(cfg.ConfigError) as info:
        cfg.load(path)
    assert key in str(info.value) and str(path) in str(info.value)


def test_app_gets_defaults_and_the_error_for_a_broken_file(tmp_path: Path) -> None:
    config = cfg.load_or_defaults(write(tmp_path, "[[["))
    assert config.error and "TOML" in config.error
    assert config.default_provider is None


def test_environment_key_beats_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "[providers.openai]\napi_key = 'from-file'\n")
    monkeypatch.setenv("OPENAI_API_KEY", "from-env")
    assert cfg.load(path).settings_for("openai").api_key == "from-env"
    monkeypatch.delenv("OPENAI_API_KEY")
    assert cfg.load(path).settings_for("openai").api_key == "from-file"


def test_declared_instance_uses_its_own_key_variable_not_openais(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(
        tmp_path,
        "[providers.groq]\nkind = 'openai'\nbase_url = 'http://127.0.0.1:9/v1'\n"
        "api_key_env = 'GROQ_API_KEY'\n",
    )
    monkeypatch.setenv("OPENAI_API_KEY", "openai-secret")
    monkeypatch.setenv("GROQ_API_KEY", "groq-secret")
    settings = cfg.load(path).settings_for("groq")
    assert settings.kind == "openai"
    assert settings.api_key == "groq-secret"
    assert "groq-secret" not in repr(settings)


def test_unknown_provider_lists_known_ones(tmp_path: Path) -> None:
    with pytest.raises(cfg.ConfigError) as info:
        cfg.load(tmp_path / "none.toml").settings_for("nosuch")
    assert "echo" in str(info.value)


def test_save_keeps_unknown_keys_backs_up_hand_edits_and_is_private(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "# my notes\nfuture_key = 1\ntheme = 'nord'\n[providers.ollama]\nbase_url = 'http://x'\n"
        "keep_alive = '5m'\n",
    )
    config = cfg.load(path)
    config.theme = "gruvbox"
    config.request_timeout = 30
    cfg.save(config)
    assert (tmp_path / "config.toml.bak").read_text().startswith("# my notes")
    again = cfg.load(path)
    assert again.theme == "gruvbox" and again.request_timeout == 30
    assert again.document["future_key"] == 1
    assert again.providers["ollama"].options == {"keep_alive": "5m"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # A second save over our own file does not replace the user's backup.
    (tmp_path / "config.toml.bak").write_text("sentinel")
    cfg.save(again)
    assert (tmp_path / "config.toml.bak").read_text() == "sentinel"


def test_readable_config_with_keys_warns_with_chmod(tmp_path: Path) -> None:
    path = write(tmp_path, "[providers.openai]\napi_key = 'sk-x'\n")
    path.chmod(0o644)
    warning = cfg.permissions_warning(path)
    assert warning and f"chmod 600 {path}" in warning and "sk-x" not in warning
    path.chmod(0o600)
    assert cfg.permissions_warning(path) is None


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[providers."evil\\u001b]0;x\\u0007"]\nkind = "openai"\n', "provider name 'evil'"),
        ('[providers.groq]\nkind = "openai"\nbase_url = "http://h\\u009b2J/v1"\n', "base_url"),
        ('[providers.groq]\nkind = "openai"\nmodels = ["a\\u007fb"]\n', "models"),
        ('[providers.openai]\napi_key = "sk-\\u0000SECRET"\n', "api_key"),
        ('default_model = "two\\nlines"\n', "default_model"),
    ],
)
def test_control_characters_in_settings_are_refused_naming_the_key(
    tmp_path: Path, text: str, named: str
) -> None:
    # Names and URLs are printed by `chatterm providers` and drawn on every screen.
    with pytest.raises(cfg.ConfigError) as info:
        cfg.load(write(tmp_path, text))
    message = str(info.value)
    assert named in message and message.isprintable() and "SECRET" not in message


def test_a_multi_line_system_prompt_is_fine(tmp_path: Path) -> None:
    config = cfg.load(write(tmp_path, "system_prompt = '''Be brief.\r\n\tAlways.'''\n"))
    assert config.system_prompt == "Be brief.\n\tAlways."

"""Start-up stays lean: httpx waits until a provider is used, and the warm-up loads it early."""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_app_module_imports_without_httpx_before_first_paint() -> None:
    out = _run("import sys, tui.app\nprint('HTTPX', 'httpx' in sys.modules)")
    assert "HTTPX False" in out


def test_choosing_the_default_provider_does_not_import_httpx() -> None:
    # What the app does before its first paint: read the config, pick provider and model,
    # and read every kind's declarations (flags, default model, key variable).
    code = (
        "import sys, tempfile\n"
        "from pathlib import Path\n"
        "from tui.chat import Core\n"
        "from tui.config import Config\n"
        "from tui.providers import KINDS, provider_class\n"
        "from tui.store import SessionStore\n"
        "store = SessionStore(Path(tempfile.mkdtemp()))\n"
        "core = Core(Config(path=Path('/nonexistent/config.toml')), store)\n"
        "print('CHOICE', core.default_choice())\n"
        "print('CONFIGURED', [core.provider(n).configured for n in core.provider_names()])\n"
        "print('HTTPX', 'httpx' in sys.modules)\n"
    )
    out = _run(code)
    assert "CHOICE ('echo', 'echo')" in out
    assert "HTTPX False" in out


def test_warm_up_loads_what_the_first_request_needs() -> None:
    code = (
        "import sys, tempfile\n"
        "from pathlib import Path\n"
        "from tui.chat import Core\n"
        "from tui.config import Config\n"
        "from tui.providers import base\n"
        "from tui.store import SessionStore\n"
        "store = SessionStore(Path(tempfile.mkdtemp()))\n"
        "core = Core(Config(path=Path('/nonexistent/config.toml')), store)\n"
        "core.warm_up('openai')\n"
        "print('OPENAI', 'tui.providers.openai' in sys.modules)\n"
        "print('BACKEND', 'anyio._backends._asyncio' in sys.modules)\n"
        "print('H11', 'h11' in sys.modules)\n"
        "print('TLS', base._tls_context.cache_info().currsize)\n"
    )
    out = _run(code)
    assert "OPENAI True" in out
    assert "BACKEND True" in out
    assert "H11 True" in out  # httpx imports httpcore only when the first client is made
    assert "TLS 1" in out


def test_reading_the_config_imports_no_provider_module(tmp_path) -> None:
    # `chatterm sessions list` reads the config (to check the key variables) and nothing of
    # a provider; importing them all cost ~40 ms of its ~0.25 s.
    config = tmp_path / "config.toml"
    config.write_text('default_provider = "echo"\n', "utf-8")
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from tui import config\n"
        f"config.load(Path({str(config)!r}))\n"
        "print('KINDS', sorted(m for m in sys.modules if m.startswith('tui.providers.')))\n"
    )
    assert "KINDS ['tui.providers.settings']" in _run(code)


def test_the_key_variable_table_matches_every_kind() -> None:
    from tui.providers import KEY_ENV, KINDS, provider_class

    declared = {k: provider_class(k).api_key_env for k in KINDS if provider_class(k).api_key_env}
    assert KEY_ENV == declared

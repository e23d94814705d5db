"""Damaged files on disk: set aside or left alone, reported, never deleted or overwritten.

Session files that are truncated, empty, binary or of the wrong shape are moved to
``sessions/corrupt/`` byte for byte; one from a newer chatterm (higher schema) stays where it
is, unchanged. The rest load, through the store, `chatterm sessions list`, `chatterm -s`,
`chatterm ask -c` and the app's sessions screen. A config file with an error opens the
app with the error shown and the defaults in force, and is rewritten only when the user
saves settings (the broken original is kept as config.toml.bak).
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.app.host import notices, screen_text, wait_until
from tests.pty_driver import CHATTERM, PtyApp
from tests.servers import free_port
from tui.app import ChattermApp
from tui.config import HEADER, load, load_or_defaults
from tui.screens.settings import SettingsScreen
from tui.store import Message, SessionStore, SessionUnsupported

FUTURE_ID = "20260101-090000-f00d"


def good_session(store: SessionStore, prompt: str) -> str:
    session = store.new("echo", "echo")
    store.append(session, Message("user", prompt))
    store.append(session, Message("assistant", f"re: {prompt}", status="complete"))
    return session.id


def damage(store: SessionStore) -> tuple[dict[str, bytes], bytes]:
    """Damaged files beside good ones: {id: bytes} of the corrupt ones, and the future one."""
    whole = store.path(good_session(store, "to be truncated " * 20))
    truncated = whole.read_bytes()[: whole.stat().st_size // 2]
    whole.unlink()
    corrupt = {
        "20260101-080000-0001": truncated,
        "20260101-080000-0002": b"",
        "20260101-080000-0003": b"\x00\xff\xfe binary \x1b[2J",
        "20260101-080000-0004": b'schema = 1\nid = "x"\nmessages = "nope"\n',
    }
    for session_id, data in corrupt.items():
        store.path(session_id).write_bytes(data)
    future = b'schema = 99\nid = "future"\nnew_feature = { a = 1 }\n'
    store.path(FUTURE_ID).write_bytes(future)
    return corrupt, future


def assert_kept(store: SessionStore, corrupt: dict[str, bytes], future: bytes) -> None:
    """Every damaged file still exists, byte for byte: set aside, or left in place."""
    for session_id, data in corrupt.items():
        assert not store.path(session_id).exists()
        assert (store.root / "corrupt" / f"{session_id}.toml").read_bytes() == data
    assert store.path(FUTURE_ID).read_bytes() == future


def test_store_sets_damaged_files_aside_and_lists_the_rest(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    good = good_session(store, "still here")
    corrupt, future = damage(store)

    assert [s.id for s in store.list()] == [good]
    problems = "\n".join(store.problems)
    assert len(store.problems) == len(corrupt) + 1
    for session_id in corrupt:
        assert f"{session_id}.toml could not be read" in problems
        assert str(store.root / "corrupt" / f"{session_id}.toml") in problems
    assert f"{FUTURE_ID}.toml: written by a newer chatterm (schema 99)" in problems
    with pytest.raises(SessionUnsupported):
        store.load(FUTURE_ID)
    assert store.load(good).messages[0].content == "still here"
    for _ in range(2):  # listing again moves nothing twice and reports the future one again
        assert [s.id for s in SessionStore(store.root).list()] == [good]
    assert_kept(store, corrupt, future)


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CHATTERM, *args], env=env, capture_output=True, text=True, timeout=60)


def cli_env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "config.toml"
    config.write_text("default_provider = 'echo'\n[providers.echo]\ndelay = 0\n")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(CHATTERM_CONFIG=str(config), CHATTERM_DATA_DIR=str(tmp_path / "data"))
    env["OLLAMA_HOST"] = f"127.0.0.1:{free_port()}"  # never a developer's own Ollama
    return env


def test_commands_report_damaged_files_and_carry_on(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    store = SessionStore(tmp_path / "data" / "sessions")
    good = good_session(store, "still here")
    corrupt, future = damage(store)

    opened = run(env, "-s", "20260101-080000-0001")  # the app refuses before it starts
    assert opened.returncode == 2 and "moved to" in opened.stderr and "corrupt" in opened.stderr
    listing = run(env, "sessions", "list")
    assert listing.returncode == 0 and good in listing.stdout
    assert all(session_id not in listing.stdout for session_id in corrupt)
    assert len(listing.stderr.strip().splitlines()) == len(corrupt)  # one line each
    assert "newer chatterm" in listing.stderr
    refused = run(env, "ask", "-s", FUTURE_ID, "more")
    assert refused.returncode == 2 and "newer chatterm" in refused.stderr
    continued = run(env, "ask", "-c", "and again")
    assert continued.returncode == 0 and "and again" in continued.stdout
    assert [m.content for m in store.load(good).messages][-2] == "and again"
    assert "Traceback" not in listing.stderr + refused.stderr + continued.stderr
    assert_kept(store, corrupt, future)


@pytest.fixture(autouse=True)
def no_local_ollama(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app (in this process) probes Ollama: point it where nothing listens."""
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{free_port()}")


async def test_sessions_screen_reports_damaged_files_and_lists_the_rest(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    good = good_session(store, "still here")
    corrupt, future = damage(store)
    app = ChattermApp(load(tmp_path / "none.toml"), store, state_path=tmp_path / "state.json")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f3")
        await wait_until(pilot, lambda: "files set aside" in screen_text(app))
        text = screen_text(app)
        assert f"⚠ {len(corrupt) + 1} files set aside" in text and "still here" in text
        await pilot.press("enter")  # opens the good one
        await wait_until(pilot, lambda: app.conversation.session.id == good)
    assert_kept(store, corrupt, future)


BROKEN_CONFIGS = {
    "not TOML": b"default_provider = 'openai\n[providers.openai]\napi_key = 'sk-x'\n",
    "wrong type": b"# my settings\nrequest_timeout = 'soon'\ntheme = 'nord'\n",
}


def test_broken_config_opens_the_app_with_the_error_and_is_not_rewritten(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    config = Path(env["CHATTERM_CONFIG"])
    original = BROKEN_CONFIGS["not TOML"]
    config.write_bytes(original)
    config.chmod(0o600)
    with PtyApp([CHATTERM], env) as p:
        p.wait_written("Config error", "using defaults", "echo · echo")
        p.send("hello\r")  # the defaults work: the offline echo provider answers
        # On the screen, not in the bytes: only changed cells are sent, so a streamed
        # "You wrote" may cross as "You" and, a frame later, "wrote".
        p.wait_on_screen("You wrote")
        p.send("\x11")
        assert p.wait(15) == 0
    asked = run(env, "ask", "hi")  # commands refuse to guess: a usage error naming the file
    assert asked.returncode == 2 and str(config) in asked.stderr
    assert config.read_bytes() == original
    assert not config.with_name("config.toml.bak").exists()


@pytest.mark.parametrize("broken", list(BROKEN_CONFIGS))
async def test_broken_config_is_replaced_only_when_settings_are_saved(
    tmp_path: Path, broken: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(BROKEN_CONFIGS[broken])
    config = load_or_defaults(path)
    assert config.error and str(path) in config.error
    store = SessionStore(tmp_path / "sessions")
    app = ChattermApp(config, store, state_path=tmp_path / "state.json")
    async with app.run_test(size=(100, 30)) as pilot:
        assert any("Config error" == n.title for n in app._notifications)
        await pilot.press(*"hi", "enter")
        await wait_until(pilot, lambda: "You wrote" in screen_text(app))
        await pilot.press("ctrl+t")  # switching models is remembered apart from the config
        await wait_until(pilot, lambda: any(n.startswith(("Use ", "Now ")) for n in notices(app)))
        assert path.read_bytes() == BROKEN_CONFIGS[broken]
        await pilot.press("f5")
        await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: any(n.startswith("Saved to") for n in notices(app)))
    assert path.read_text().startswith(HEADER) and load(path).error is None
    assert path.with_name("config.toml.bak").read_bytes() == BROKEN_CONFIGS[broken]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

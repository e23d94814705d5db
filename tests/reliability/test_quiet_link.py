"""What crosses the link, counted at a real terminal (the installed command in a pty): an
app left alone over SSH writes next to nothing, and the mouse is asked for clicks, not
every movement (none at all with mouse = "off")."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from tests.pty_driver import CHATTERM, PtyApp
from tests.servers import free_port

READY = "Message — Enter sends"
SSH = "10.0.0.1 51000 10.0.0.2 22"
IDLE_SECONDS = 2.0
IDLE_LIMIT = 20  # bytes a second, at most, with nothing on the screen changing
MOUSE_MODES = re.compile(rb"\x1b\[\?(1000|1002|1003|1006|1015)h")


def env_for(tmp_path: Path, config: str = "", **extra: str) -> dict[str, str]:
    path = tmp_path / "config.toml"
    path.write_text(f"default_provider = 'echo'\n{config}", "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(CHATTERM_CONFIG=str(path), CHATTERM_DATA_DIR=str(tmp_path / "data"))
    env["OLLAMA_HOST"] = f"127.0.0.1:{free_port()}"  # never a developer's own Ollama
    env.update(extra)
    return env


def wait_quiet(app: PtyApp, quiet: float = 0.4, timeout: float = 15) -> None:
    """Wait until the app has written nothing for *quiet* seconds (start-up is over)."""
    deadline = time.perf_counter() + timeout
    while True:
        size = len(app.output)
        last = app.written_at(size - 1) if size else app.started
        now = time.perf_counter()
        if last is not None and now - last >= quiet:
            return
        if now > deadline:
            raise AssertionError(f"the app never went quiet:\n{app.screen.text()}")
        time.sleep(0.05)


def idle_rate(env: dict[str, str]) -> float:
    with PtyApp([CHATTERM], env) as app:
        app.wait_on_screen(READY, 30)
        wait_quiet(app)
        before = len(app.output)
        app.settle(IDLE_SECONDS)  # an idle window of fixed length: what it writes is counted
        written = len(app.output) - before
        app.close(b"\x11")
    return written / IDLE_SECONDS


def test_over_ssh_an_idle_app_writes_next_to_nothing(tmp_path: Path) -> None:
    assert idle_rate(env_for(tmp_path, SSH_CONNECTION=SSH)) <= IDLE_LIMIT


def test_with_redraw_changes_the_blinking_cursor_is_all_an_idle_app_writes(
    tmp_path: Path,
) -> None:
    # Two cells a second (the cursor cell on and off), not the whole prompt line: ~75 B/s.
    assert idle_rate(env_for(tmp_path, "redraw = 'changes'\n")) <= 150


def mouse_modes(env: dict[str, str]) -> set[bytes]:
    with PtyApp([CHATTERM], env) as app:
        app.wait_on_screen(READY, 30)
        modes = set(MOUSE_MODES.findall(app.output))
        app.close(b"\x11")
    return modes


def test_the_mouse_is_asked_for_clicks_and_the_wheel_not_every_movement(
    tmp_path: Path,
) -> None:
    modes = mouse_modes(env_for(tmp_path))
    assert {b"1000", b"1006"} <= modes
    assert b"1003" not in modes


@pytest.mark.parametrize(("setting", "wanted"), [("off", set()), ("on", {b"1003"})])
def test_the_mouse_setting_chooses_the_modes(
    tmp_path: Path, setting: str, wanted: set[bytes]
) -> None:
    modes = mouse_modes(env_for(tmp_path, f"mouse = '{setting}'\n"))
    assert wanted <= modes
    if setting == "off":
        assert modes == set()  # the terminal's own selection works

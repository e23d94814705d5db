"""Copies the terminal would drop: never sent, never called "Copied", offered as a file.

The app is driven with the pilot against a loopback server. Textual's
``App.copy_to_clipboard`` (what writes the OSC 52 sequence) is observed by a subclass of the
app: it is Textual's, not the code under test, which is the decision whether to call it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tests.app.host import CSS_FILE, ask, local_config, notices, wait_until
from tests.servers import OpenAIServer
from tui import clipboard
from tui.app import ChattermApp
from tui.store import SessionStore

SIZE = (100, 30)
LIMIT = 2_000  # bytes of OSC 52: small, so the test reply need not be megabytes


class RecordingApp(ChattermApp):
    """chatterm, noting each text handed to Textual's OSC 52 writer."""

    CSS_PATH = CSS_FILE  # a relative CSS_PATH resolves beside the subclass's module

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.sent: list[str] = []

    def copy_to_clipboard(self, text: str) -> None:
        self.sent.append(text)
        super().copy_to_clipboard(text)


def make_app(tmp_path: Path, server: OpenAIServer, limit: int | None = LIMIT) -> RecordingApp:
    document = {} if limit is None else {"copy_limit": limit}
    config = local_config(tmp_path, server.base_url, document=document)
    store = SessionStore(tmp_path / "sessions")
    return RecordingApp(config, store, state_path=tmp_path / "state.json")


def read(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def big_reply() -> str:
    # Several lines with a unique last word, so "the full text" is checkable.
    return "\n".join(f"line {n} of a long answer" for n in range(400)) + "\nZQLAST"


async def test_copy_over_the_limit_sends_nothing_and_says_why(tmp_path: Path) -> None:
    reply = big_reply()
    with OpenAIServer(reply=[reply]) as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            await ask(pilot, "q", 20)
            await pilot.press("f6")
            await wait_until(pilot, lambda: any("OSC 52" in n for n in notices(app)), 20)
            assert app.sent == []  # no OSC 52 at all: a terminal would drop it silently
            warning = next(n for n in app._notifications if "OSC 52" in n.message)
            assert warning.severity == "warning"
            assert f"{len(reply):,} characters" in warning.message
            assert f"limit {LIMIT:,}" in warning.message
            assert "F6 again to write it to a file" in warning.message
            assert not any(n.startswith("Copied") for n in notices(app))


async def test_second_f6_writes_the_whole_reply_to_a_private_file(tmp_path: Path) -> None:
    reply = big_reply()
    with OpenAIServer(reply=[reply]) as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            await ask(pilot, "q", 20)
            await pilot.press("f6")
            await pilot.press("f6")
            await wait_until(
                pilot, lambda: any(n.startswith("Wrote the") for n in notices(app)), 20
            )
            assert app.sent == []
            message = next(n for n in notices(app) if n.startswith("Wrote the"))
            path = Path(message.rsplit(" to ", 1)[1])
            assert path.parent == tmp_path / "copies"
            assert read(path) == reply
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
            assert not [name for name in os.listdir(path.parent) if name.endswith(".tmp")]


async def test_small_reply_still_copies_and_says_copied(tmp_path: Path) -> None:
    with OpenAIServer(reply=["short answer"]) as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            await ask(pilot, "q", 20)
            await pilot.press("f6")
            assert app.sent == ["short answer"]
            assert any(n.startswith("Copied the reply") for n in notices(app))


async def test_default_limit_lets_a_normal_reply_through(tmp_path: Path) -> None:
    reply = big_reply()  # ~10 KB: far under tmux's 1 MiB
    with OpenAIServer(reply=[reply]) as server:
        app = make_app(tmp_path, server, limit=None)
        async with app.run_test(size=SIZE) as pilot:
            await ask(pilot, "q", 20)
            await pilot.press("f6")
            assert app.sent == [reply]


def test_default_limit_is_tmux_input_buffer() -> None:
    assert clipboard.copy_limit({}) == 1_048_576
    for bad in (0, -5, "big", True, 1.5):
        assert clipboard.copy_limit({"copy_limit": bad}) == 1_048_576
    assert clipboard.copy_limit({"copy_limit": 100_000}) == 100_000


def test_four_million_characters_do_not_fit_the_default() -> None:
    text = "x" * 4_000_000
    assert clipboard.osc52_size(text) > 5_000_000  # the 5.3 MB sequence of the report
    assert not clipboard.fits(text, clipboard.DEFAULT_COPY_LIMIT)
    assert clipboard.fits("x" * 700_000, clipboard.DEFAULT_COPY_LIMIT)


def test_written_copy_replaces_a_planted_symlink_instead_of_following_it(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "copies"
    folder.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("keep")
    path = clipboard.write_copy("secret text", folder, "reply")
    path.unlink()
    os.symlink(victim, path)  # the next name the writer would pick, if it reused it
    again = clipboard.write_copy("secret text", folder, "reply")
    assert victim.read_text() == "keep"
    assert again.read_text() == "secret text" and not again.is_symlink()


def test_copies_folder_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = tmp_path / "copies"
    os.symlink(elsewhere, link)
    try:
        clipboard.write_copy("text", link)
    except OSError:
        pass
    else:
        raise AssertionError("wrote through a symlinked folder")
    assert list(elsewhere.iterdir()) == []

"""Attachments in the app, pressed as a user would: ctrl+f, a path with Tab, Enter, the chip,
the send; what the log, the session file and the prompt history keep; refusals."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.app.host import host_config, notices, screen_text, wait_until
from tui.app import ChattermApp
from tui.screens.attach import AttachScreen
from tui.store import SessionStore

SIZE = (100, 40)  # tall enough for the prompt, its chip and the whole echo reply
NOTES = b"def f():\n    return 1\n"  # 22 bytes


def make_app(tmp_path: Path, **config: object) -> ChattermApp:
    return ChattermApp(
        host_config(tmp_path, default_provider="echo", **config),
        SessionStore(tmp_path / "sessions"),
        state_path=tmp_path / "state.json",
    )


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder chatterm was started in: a file to attach, and others beside it."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.py").write_bytes(NOTES)
    (work / "numbers.csv").write_text("1,2\n")
    monkeypatch.chdir(work)
    return work


def saved(app: ChattermApp) -> dict:
    assert app.conversation is not None
    return tomllib.loads(app.services.store.path(app.conversation.session.id).read_text())


async def open_attach(pilot: Pilot[None]) -> AttachScreen:
    await pilot.press("ctrl+f")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, AttachScreen))
    screen = pilot.app.screen
    assert isinstance(screen, AttachScreen)
    await wait_until(pilot, lambda: screen.path_input.has_focus)
    return screen


async def attach(pilot: Pilot[None], typed: str) -> None:
    """ctrl+f, type *typed*, Tab (completes it), Enter; back on the conversation."""
    screen = await open_attach(pilot)
    await pilot.press(*typed, "tab")
    await wait_until(pilot, lambda: screen.path_input.value != typed)
    await pilot.press("enter")
    await wait_until(pilot, lambda: not isinstance(pilot.app.screen, AttachScreen))


async def test_a_file_attached_by_its_path_is_sent_shown_as_a_chip_and_saved(
    tmp_path: Path, folder: Path
) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.conversation
        assert screen is not None
        picker = await open_attach(pilot)
        await pilot.press("n", "tab")  # notes.py and numbers.csv both fit: listed
        await wait_until(pilot, lambda: "numbers.csv" in screen_text(app))
        assert "notes.py" in screen_text(app) and picker.path_input.value == "n"
        await pilot.press("o", "tab")
        await wait_until(pilot, lambda: picker.path_input.value == "notes.py")
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, AttachScreen))
        await wait_until(pilot, lambda: "▣ notes.py · 22 B" in screen_text(app))
        assert screen.prompt.has_focus
        await pilot.press(*"what is this?", "enter")
        await wait_until(pilot, lambda: len(screen.session.messages) == 2 and not screen.streaming)
        await wait_until(pilot, lambda: not screen.chips.display)
        # The log: the prompt as typed and the chip; the file's text only in what was sent.
        shown = screen_text(app)
        prompt_rows = shown[shown.index("you") : shown.index("assistant")]
        assert "what is this?" in prompt_rows and "▣ notes.py · 22 B" in prompt_rows
        assert "return 1" not in prompt_rows
        [sent, _reply] = saved(app)["messages"]
        assert (
            sent["content"] == "what is this?\n\n`notes.py`:\n```python\n" + NOTES.decode() + "```"
        )
        [record] = sent["attachments"]
        assert record["path"] == str(folder / "notes.py") and record["size"] == 22
        assert record["sha256"] == hashlib.sha256(NOTES).hexdigest()
        assert "> `notes.py`:" in screen.session.messages[1].content  # echo got the block
        # The prompt history has the question, never the file.
        assert app.services.history.entries == ["what is this?"]


async def test_a_saved_prompt_shows_its_chip_again_when_reopened(
    tmp_path: Path, folder: Path
) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.conversation
        assert screen is not None
        await attach(pilot, "note")
        await pilot.press(*"look", "enter")
        await wait_until(pilot, lambda: len(screen.session.messages) == 2 and not screen.streaming)
        session_id = screen.session.id
    again = ChattermApp(
        host_config(tmp_path, default_provider="echo"),
        SessionStore(tmp_path / "sessions"),
        session=SessionStore(tmp_path / "sessions").load(session_id),
        state_path=tmp_path / "state.json",
    )
    async with again.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "▣ notes.py · 22 B" in screen_text(again))
        shown = screen_text(again)
        assert "look" in shown[shown.index("you") : shown.index("assistant")]
        assert "return 1" not in shown[shown.index("you") : shown.index("assistant")]


async def test_a_chip_is_removed_from_the_chips_with_delete(tmp_path: Path, folder: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.conversation
        assert screen is not None
        await attach(pilot, "note")
        await attach(pilot, "numb")
        await wait_until(pilot, lambda: len(screen.chips.items) == 2)
        await pilot.press("tab")  # from the prompt to the chips
        await wait_until(pilot, lambda: screen.chips.has_focus)
        await pilot.press("up", "delete")  # the first: notes.py
        await wait_until(pilot, lambda: [i.name for i in screen.chips.items] == ["numbers.csv"])
        await wait_until(pilot, lambda: "▣ notes.py" not in screen_text(app))
        await pilot.press("backspace")
        await wait_until(pilot, lambda: not screen.chips.items and screen.prompt.has_focus)
        await pilot.press(*"plain", "enter")
        await wait_until(pilot, lambda: len(screen.session.messages) == 2)
        assert "attachments" not in saved(app)["messages"][0]


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("blob.bin", b"\x00\x01\x02binary", "is a binary file"),
        ("big.txt", b"x" * 2048, "over the attachment limit of 1.0 KB"),
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 6_000_000, "an image may be at most 5.0 MB"),
    ],
    ids=["binary", "too big", "image too big"],
)
async def test_a_file_that_cannot_be_attached_is_refused_with_the_reason(
    tmp_path: Path, folder: Path, name: str, content: bytes, words: str
) -> None:
    (folder / name).write_bytes(content)
    app = make_app(tmp_path, attachment_limit=1)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.conversation
        assert screen is not None
        picker = await open_attach(pilot)
        await pilot.press(*name, "enter")
        await wait_until(pilot, lambda: words in screen_text(app))  # in the box, and stays
        assert isinstance(app.screen, AttachScreen) and picker.path_input.value == name
        assert any(words in n for n in notices(app))
        await pilot.press("escape")  # closes; nothing attached
        await wait_until(pilot, lambda: not isinstance(app.screen, AttachScreen))
        assert screen.chips.items == () and not screen.chips.display


async def test_enter_on_a_folder_goes_into_it_and_a_tilde_is_home(
    tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (folder / "sub").mkdir()
    (folder / "sub" / "deep.txt").write_text("deep\n")
    monkeypatch.setenv("HOME", str(folder / "sub"))
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        picker = await open_attach(pilot)
        await pilot.press(*"sub", "enter")
        await wait_until(pilot, lambda: picker.path_input.value == "sub/deep.txt")
        await pilot.press("ctrl+u", "~", "tab")  # Input's ctrl+u clears to the start
        await wait_until(pilot, lambda: picker.path_input.value == "~/")
        await pilot.press("tab")
        await wait_until(pilot, lambda: picker.path_input.value == "~/deep.txt")
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, AttachScreen))
        assert app.conversation is not None
        assert [i.path for i in app.conversation.chips.items] == [str(folder / "sub/deep.txt")]


async def test_piped_text_opens_as_the_first_prompts_attachment(tmp_path: Path) -> None:
    from tui.attachments import from_piped

    piped = from_piped(b"diff --git a/x b/x\n+new line\n", limit=4096)
    app = ChattermApp(
        host_config(tmp_path, default_provider="echo"),
        SessionStore(tmp_path / "sessions"),
        state_path=tmp_path / "state.json",
        attachments=[piped],
    )
    async with app.run_test(size=SIZE) as pilot:
        screen = app.conversation
        assert screen is not None
        await wait_until(pilot, lambda: "▣ stdin · 29 B" in screen_text(app))
        assert screen.prompt.has_focus and screen.prompt.text == ""
        assert any("stdin (29 B) is attached: type your question" in n for n in notices(app))
        await pilot.press(*"review this", "enter")
        await wait_until(pilot, lambda: len(screen.session.messages) == 2 and not screen.streaming)
        [sent, _] = saved(app)["messages"]
        assert sent["content"].startswith("review this\n\n`stdin`:\n```diff\ndiff --git")
        assert sent["attachments"][0]["path"] == "-"


async def test_editing_a_prompt_sent_with_a_file_brings_the_file_back(
    tmp_path: Path, folder: Path
) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.conversation
        assert screen is not None
        await attach(pilot, "note")
        await pilot.press(*"first try", "enter")
        await wait_until(pilot, lambda: len(screen.session.messages) == 2 and not screen.streaming)
        await pilot.press("ctrl+o")  # edit and resend the last prompt
        await wait_until(pilot, lambda: screen.prompt.text == "first try")
        assert [i.name for i in screen.chips.items] == ["notes.py"]
        await pilot.press("escape")  # cancel: the chips from before (none) come back
        await wait_until(pilot, lambda: screen.chips.items == ())


async def test_the_limit_is_a_setting_of_f5_checked_before_it_is_saved(tmp_path: Path) -> None:
    from textual.widgets import Input

    from tests.app.host import HostApp
    from tui.config import load
    from tui.screens.settings import SettingsScreen

    config = host_config(tmp_path)
    async with HostApp(config).run_test(size=(80, 24)) as pilot:
        settings = SettingsScreen(pilot.app.services)
        pilot.app.push_screen(settings)
        await wait_until(pilot, lambda: settings.is_mounted and settings.focused is not None)
        field = settings.query_one("#settings-attachment-limit", Input)
        assert field.value == "200"
        field.focus()  # as Tab would: all text selected, so typing replaces it
        await pilot.press(*"0")
        await wait_until(pilot, lambda: field.has_class("-invalid"))
        await pilot.press("ctrl+s")
        app = pilot.app
        assert isinstance(app, HostApp)
        await wait_until(pilot, lambda: any("Attachment limit must be" in n for n in app.notified))
        assert not config.path.exists()
        await pilot.press("backspace", *"512", "ctrl+s")
        await wait_until(pilot, lambda: config.path.exists())
        assert pilot.app.services.config.attachment_limit == 512
    assert load(config.path).attachment_limit == 512


async def test_the_palette_attaches_and_removes(tmp_path: Path, folder: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.conversation
        assert screen is not None
        await pilot.press("ctrl+p", *"attach a file")
        await wait_until(pilot, lambda: "Attach a file…" in screen_text(app))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, AttachScreen))
        picker = app.screen
        assert isinstance(picker, AttachScreen)
        await wait_until(pilot, lambda: picker.path_input.has_focus)
        await pilot.press(*"notes.py", "enter")
        await wait_until(pilot, lambda: len(screen.chips.items) == 1)
        await pilot.press("ctrl+p", *"remove the attachments")
        await wait_until(pilot, lambda: "Remove the attachments" in screen_text(app))
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.chips.items == ())


async def test_more_chips_than_fit_show_a_count_and_every_one_can_be_reached(
    tmp_path: Path, folder: Path
) -> None:
    from tui.attachments import read_files

    names = [f"file{n}.txt" for n in range(9)]
    for name in names:
        (folder / name).write_text(name)
    app = ChattermApp(
        host_config(tmp_path, default_provider="echo"),
        SessionStore(tmp_path / "sessions"),
        state_path=tmp_path / "state.json",
        attachments=read_files(names, limit=10_000),  # as `chatterm -a f0 -a f1 ...` does
    )
    async with app.run_test(size=SIZE) as pilot:
        screen = app.conversation
        assert screen is not None
        await wait_until(pilot, lambda: "… 4 more, ↑/↓ to see them" in screen_text(app))
        assert "▣ file8.txt" in screen_text(app) and "▣ file0.txt" not in screen_text(app)
        await pilot.press("tab")
        await wait_until(pilot, lambda: screen.chips.has_focus)
        await pilot.press(*["up"] * 8)  # to the first: the window follows the chosen chip
        await wait_until(pilot, lambda: "▣ file0.txt" in screen_text(app))
        assert "▣ file8.txt" not in screen_text(app)
        await pilot.press("delete")
        await wait_until(pilot, lambda: "… 3 more" in screen_text(app))
        assert [i.name for i in screen.chips.items] == names[1:]


async def test_an_image_for_a_model_that_takes_none_is_refused_and_nothing_is_sent(
    tmp_path: Path, folder: Path
) -> None:
    (folder / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.conversation
        assert screen is not None
        await attach(pilot, "pho")
        await wait_until(pilot, lambda: "▣ photo.png · 264 B · image" in screen_text(app))
        await pilot.press(*"what is this?", "enter")
        await wait_until(pilot, lambda: any("echo takes no images" in n for n in notices(app)))
        assert screen.session.messages == [] and not screen.streaming  # nothing sent or saved
        assert screen.prompt.text == "what is this?" and len(screen.chips.items) == 1

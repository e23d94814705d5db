"""F8: the prompt in $VISUAL / $EDITOR, with small scripts standing in for the editor."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.app.host import host_config, wait_until
from tui.app import ChattermApp
from tui.store import SessionStore

SIZE = (100, 30)


def editor_script(tmp_path: Path, body: str) -> str:
    """An "editor": a Python script given the file's path as its one argument."""
    script = tmp_path / "editor.py"
    script.write_text(f"import sys\npath = sys.argv[1]\n{body}\n", "utf-8")
    return f"{sys.executable} {script}"


def make_app(tmp_path: Path) -> ChattermApp:
    config = host_config(tmp_path)
    return ChattermApp(config, SessionStore(tmp_path / "s"), state_path=tmp_path / "state.json")


def notices(app: ChattermApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_the_saved_text_comes_back_into_the_prompt(tmp_path: Path, monkeypatch) -> None:
    body = "text = open(path).read()\nopen(path, 'w').write(text + ' and more\\n\\x1b[31mred\\n')"
    monkeypatch.setenv("EDITOR", editor_script(tmp_path, body))
    monkeypatch.delenv("VISUAL", raising=False)
    async with make_app(tmp_path).run_test(size=SIZE) as pilot:
        screen = pilot.app.conversation
        await pilot.press(*"draft", "f8")
        await wait_until(pilot, lambda: "and more" in screen.prompt.text)
        assert screen.prompt.text == "draft and more\nred"  # the editor's ESC never arrives
        assert pilot.app.focused is screen.prompt


async def test_visual_wins_over_editor(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("VISUAL", editor_script(tmp_path, "open(path, 'w').write('visual')"))
    monkeypatch.setenv("EDITOR", "false")
    async with make_app(tmp_path).run_test(size=SIZE) as pilot:
        await pilot.press("f8")
        await wait_until(pilot, lambda: pilot.app.conversation.prompt.text == "visual")


@pytest.mark.parametrize(
    ("editor", "words"),
    [
        (None, "No editor set"),
        ("false", "exited with status 1"),
        ("/nonexistent/editor", "Could not start /nonexistent/editor"),
    ],
)
async def test_no_editor_or_a_failing_one_leaves_the_prompt(
    tmp_path: Path, monkeypatch, editor: str | None, words: str
) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    if editor is None:
        monkeypatch.delenv("EDITOR", raising=False)
    else:
        monkeypatch.setenv("EDITOR", editor)
    async with make_app(tmp_path).run_test(size=SIZE) as pilot:
        screen = pilot.app.conversation
        await pilot.press(*"keep me", "f8")
        await wait_until(pilot, lambda: any(words in n for n in notices(pilot.app)))
        assert screen.prompt.text == "keep me"


def test_the_temporary_file_is_private_and_removed(tmp_path: Path, monkeypatch) -> None:
    from tui.editor import edit_text

    seen = tmp_path / "seen"
    body = (
        "import os, stat\n"
        f"open({str(seen)!r}, 'w').write(path + ' ' + oct(stat.S_IMODE(os.stat(path).st_mode)))"
    )
    monkeypatch.setenv("VISUAL", editor_script(tmp_path, body))
    assert edit_text("secret prompt") == "secret prompt"
    path, mode = seen.read_text().split()
    assert mode == "0o600" and not Path(path).exists()

"""Attachments: a file read, checked, fenced and recorded (tui/attachments.py), no Textual."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tui import attachments as att
from tui.attachments import AttachmentError
from tui.store.model import Message, split_content, title_from

LIMIT = 200 * 1024


def load(path: Path, limit: int = LIMIT, secrets: tuple[str, ...] = ()) -> att.Loaded:
    return att.read_file(str(path), limit=limit, secrets=secrets)


# -- reading and refusing ---------------------------------------------------------------------
def test_a_text_file_is_read_with_its_size_hash_and_absolute_path(tmp_path: Path) -> None:
    raw = b"def f():\n    return 1\n"
    (tmp_path / "notes.py").write_bytes(raw)
    loaded = att.read_file("notes.py", limit=LIMIT, cwd=tmp_path)
    assert (loaded.name, loaded.path, loaded.size) == ("notes.py", str(tmp_path / "notes.py"), 22)
    assert loaded.sha256 == hashlib.sha256(raw).hexdigest()
    assert loaded.block == "`notes.py`:\n```python\ndef f():\n    return 1\n```"
    assert loaded.chip == "▣ notes.py · 22 B"


def test_a_tilde_is_the_home_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "todo.md").write_text("- one\n")
    assert att.read_file("~/todo.md", limit=LIMIT).path == str(tmp_path / "todo.md")


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"ELF\0\0\x01text", "is a binary file (it holds NUL bytes)"),
        (b"caf\xe9 au lait\n", "is not UTF-8 text"),
    ],
)
def test_binaries_and_other_encodings_are_refused_with_the_reason(
    tmp_path: Path, raw: bytes, words: str
) -> None:
    path = tmp_path / "thing.dat"
    path.write_bytes(raw)
    with pytest.raises(AttachmentError) as caught:
        load(path)
    assert str(caught.value).startswith(f"{path} ") and words in str(caught.value)


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    path.write_bytes(b"x" * 3000)
    assert load(path, limit=3000).size == 3000  # the limit itself is allowed
    with pytest.raises(AttachmentError) as caught:
        load(path, limit=2999)
    message = str(caught.value)
    assert f"{path} is 2.9 KB, over the attachment limit of 2.9 KB" in message  # its real size
    assert "attachment_limit in config.toml" in message


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: None, "no such file"),
        (lambda p: p.mkdir(), "is a folder"),
        (lambda p: os.mkfifo(p), "is not a regular file"),  # reading a FIFO could block
    ],
)
def test_what_is_not_a_readable_file_is_refused(tmp_path: Path, make, words: str) -> None:
    path = tmp_path / "x"
    make(path)
    with pytest.raises(AttachmentError, match=words):
        load(path)
    with pytest.raises(AttachmentError, match="type the path"):
        att.read_file("  ", limit=LIMIT)


def test_a_file_holding_a_configured_secret_is_refused_without_quoting_it(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("OPENAI_API_KEY=sk-live-1234567890\n")
    with pytest.raises(AttachmentError) as caught:
        load(path, secrets=("sk-live-1234567890",))
    assert "holds a secret" in str(caught.value) and "sk-live" not in str(caught.value)
    assert load(path, secrets=("another-secret",)).size == path.stat().st_size


def test_attached_text_is_cleaned_and_a_bom_dropped(tmp_path: Path) -> None:
    path = tmp_path / "evil.txt"
    path.write_bytes("\ufeffred \x1b[31mtext\x1b[0m\r\nrlo \u202e here\n".encode())
    block = load(path).block
    assert "\x1b" not in block and "\r" not in block and "\ufeff" not in block
    assert "red text\nrlo ⟨U+202E⟩ here\n" in block


def test_piped_text_is_named_stdin_and_bounded(tmp_path: Path) -> None:
    loaded = att.from_piped(b"diff --git a/x b/x\n+new\n", limit=100)
    assert (loaded.name, loaded.path) == ("stdin", "-")
    assert loaded.block.startswith("`stdin`:\n```diff\n")
    with pytest.raises(AttachmentError, match="the piped text is more than 101 B"):
        att.from_piped(b"y" * 101, limit=100)
    read, write = os.pipe()
    os.write(write, b"z" * 50)
    os.close(write)
    try:
        assert att.read_stream(read, limit=10) == b"z" * 11  # the limit + 1: enough to refuse
    finally:
        os.close(read)


# -- the block sent ---------------------------------------------------------------------------
def test_the_fence_is_longer_than_any_backtick_run_in_the_text() -> None:
    text = "a ``` fence\n`````\nend"
    block = att.block("x.md", text, "markdown")
    assert block.startswith("`x.md`:\n``````markdown\n") and block.endswith("\nend\n``````")
    assert att.fence("none") == "```"


def test_a_name_with_backticks_stays_one_code_span() -> None:
    assert att.code_span("a`b") == "``a`b``"
    assert att.code_span("`x") == "`` `x ``"


def test_compose_appends_each_block_after_a_blank_line_and_records_its_length() -> None:
    one = att.from_bytes(b"1\n", name="one.txt", path="/a/one.txt")
    two = att.from_bytes(b"2", name="two.txt", path="/a/two.txt")
    content, records = att.compose("compare:", [one, two])
    assert content == "compare:\n\n`one.txt`:\n```text\n1\n```\n\n`two.txt`:\n```text\n2\n```"
    assert [r.name for r in records] == ["one.txt", "two.txt"]
    message = Message("user", content, attachments=records)
    assert split_content(message) == ("compare:", [one.block, two.block])
    assert message.typed == "compare:"
    # Nothing typed: the first block opens the text.
    content, records = att.compose("", [one])
    assert content == one.block
    assert Message("user", content, attachments=records).typed == ""
    assert att.restore(records, [one.block]) == [one]


def test_records_that_do_not_fit_the_text_show_it_all() -> None:
    one = att.from_bytes(b"1\n", name="one.txt", path="/a/one.txt")
    content, records = att.compose("hello", [one])
    edited = Message("user", "hand-edited", attachments=records)  # shorter than the block
    assert split_content(edited) == ("hand-edited", [])
    shifted = Message("user", content + "!", attachments=records)
    assert shifted.typed == content + "!"


def test_the_title_is_the_prompt_typed_else_the_names_attached() -> None:
    one = att.from_bytes(b"1\n", name="one.txt", path="/a/one.txt")
    content, records = att.compose("What is this?", [one])
    assert title_from([Message("user", content, attachments=records)]) == "What is this?"
    content, records = att.compose("", [one])
    assert title_from([Message("user", content, attachments=records)]) == "one.txt"


def test_sizes_read_as_people_write_them() -> None:
    assert [att.human_size(n) for n in (0, 1023, 1024, 10 * 1024, 200 * 1024, 5 << 20)] == [
        "0 B",
        "1023 B",
        "1.0 KB",
        "10 KB",
        "200 KB",
        "5.0 MB",
    ]


# -- completing a path --------------------------------------------------------------------------
def test_tab_completes_a_unique_name_and_a_folder_gets_a_slash(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.py").write_text("")
    (tmp_path / "src" / "manage.py").write_text("")
    (tmp_path / "setup.cfg").write_text("")
    (tmp_path / ".hidden").write_text("")
    assert att.complete("sr", tmp_path).text == "src/"
    done = att.complete("src/m", tmp_path)
    assert (done.text, done.matches) == ("src/ma", ("main.py", "manage.py"))
    assert att.complete("src/mai", tmp_path).text == "src/main.py"
    assert att.complete("", tmp_path).matches == ("setup.cfg", "src/")  # no dot files
    assert att.complete(".h", tmp_path).text == ".hidden"
    assert att.complete("nothing", tmp_path) == att.Completion("nothing", (), "")
    assert att.complete(f"{tmp_path}/se", Path("/")).text == f"{tmp_path}/setup.cfg"


def test_tab_after_a_tilde_completes_in_the_home_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "notes.txt").write_text("")
    assert att.complete("~", Path("/")).text == "~/"
    assert att.complete("~/no", Path("/")).text == "~/notes.txt"


# -- the setting --------------------------------------------------------------------------------
def test_attachment_limit_is_a_whole_number_of_kb_named_when_wrong(tmp_path: Path) -> None:
    from tui.config import ConfigError, load, save

    path = tmp_path / "config.toml"
    assert load(path).attachment_limit == 200  # no file: the default
    for bad in ("0", "-1", '"200"', "1.5", "true", "10241"):
        path.write_text(f"attachment_limit = {bad}\n")
        with pytest.raises(ConfigError) as caught:
            load(path)
        assert f"{path}: attachment_limit must be a whole number of KB" in str(caught.value)
    path.write_text("attachment_limit = 64\n")
    config = load(path)
    assert config.attachment_limit == 64
    save(config)
    assert "attachment_limit = 64" in path.read_text()
    config.attachment_limit = 200  # the default is not written
    save(config)
    assert "attachment_limit" not in path.read_text()


# -- the log's entry --------------------------------------------------------------------------
def test_the_log_shows_a_prompt_as_typed_with_a_chip_per_file() -> None:
    from tui.widgets.log_layout import FRAME_ROWS, Entry, estimate

    one = att.from_bytes(b"x\n" * 500, name="long.txt", path="/a/long.txt")
    content, records = att.compose("why?", [one])
    entry = Entry.from_message(Message("user", content, attachments=records))
    assert (entry.content, entry.chips) == ("why?", ("▣ long.txt · 1000 B",))
    assert estimate(entry, 80) == FRAME_ROWS + 1 + 1  # the line typed and the chip
    plain = Entry.from_message(Message("user", "no files"))
    assert (plain.content, plain.chips) == ("no files", ())

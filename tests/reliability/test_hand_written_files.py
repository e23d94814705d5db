"""Session files a person (or another tool) wrote: read what they mean, move only garbage.

A valid TOML conversation without ids, times or ``schema``, with a date-only ``created``, a
time without an offset, or a message of a role chatterm does not send (``tool``), loads,
lists, shows and continues; saving it back keeps every word. Only text that is not TOML,
or a value of an unusable type, goes to ``corrupt/``. The sessions folder itself may be
unusable (a regular file where a folder should be, a symlink loop, a folder owned by
root): the commands say so in one line and exit 2, and the app opens and shows it.
"""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.pty_driver import CHATTERM, PtyApp
from tests.servers import free_port
from tui.store import SCHEMA, SessionCorrupt, SessionError, SessionStore

REPO = Path(__file__).resolve().parents[2]
ID = "20261122-101400-hand"


def readme_example() -> str:
    """The hand-written conversation the README shows, exactly as shown."""
    text = (REPO / "README.md").read_text("utf-8")
    section = text.split("## Conversations", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```toml\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 1
    return blocks[0]


def put(store: SessionStore, text: str, session_id: str = ID) -> Path:
    store.root.mkdir(parents=True, exist_ok=True)
    path = store.root / f"{session_id}.toml"
    path.write_text(text, "utf-8")
    return path


def test_the_readme_example_has_five_lines_and_loads(tmp_path: Path) -> None:
    example = readme_example()
    assert len(example.splitlines()) == 5
    store = SessionStore(tmp_path / "sessions")
    put(store, example)
    session = store.load(ID)
    assert [(m.role, m.content) for m in session.messages] == [("user", "What is a monad?")]
    assert (session.provider, session.model) == ("ollama", "llama3.2")
    assert [s.id for s in store.list()] == [ID] and store.problems == []
    assert session.title == ""  # named from the first prompt when it is saved
    store.save(session)
    assert store.load(ID).title == "What is a monad?"


HAND_WRITTEN = {
    "no ids, no times, no schema": """\
provider = "echo"
model = "echo"
[[messages]]
role = "user"
content = "first"
[[messages]]
role = "assistant"
content = "second"
""",
    "a date without a time": """\
schema = 1
created = 2026-11-22
provider = "echo"
model = "echo"
[[messages]]
role = "user"
content = "first"
created = 2026-11-22
[[messages]]
role = "assistant"
content = "second"
""",
    "a time without an offset": """\
created = 2026-11-22T10:14:00
provider = "echo"
model = "echo"
[[messages]]
role = "user"
content = "first"
created = 2026-11-22T10:14:00
[[messages]]
role = "assistant"
content = "second"
created = 2026-11-22 10:15:00
""",
}


@pytest.mark.parametrize("case", list(HAND_WRITTEN))
def test_a_hand_written_conversation_loads_and_lists(tmp_path: Path, case: str) -> None:
    store = SessionStore(tmp_path / "sessions")
    put(store, HAND_WRITTEN[case])
    session = store.load(ID)
    assert [(m.role, m.content) for m in session.messages] == [
        ("user", "first"),
        ("assistant", "second"),
    ]
    assert len({m.id for m in session.messages}) == 2
    assert [m.id for m in SessionStore(store.root).load(ID).messages] == [
        m.id for m in session.messages
    ]  # the ids made up are the same on every read
    assert all(m.created.tzinfo is not None for m in session.messages)
    assert session.created <= session.messages[0].created <= session.messages[1].created
    assert [s.id for s in store.list()] == [ID] and store.problems == []
    assert not (store.root / "corrupt").exists()


def test_a_date_is_midnight_utc_and_a_local_time_is_utc(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    put(store, HAND_WRITTEN["a date without a time"])
    assert store.load(ID).created == datetime(2026, 11, 22, tzinfo=UTC)
    put(store, HAND_WRITTEN["a time without an offset"])
    session = store.load(ID)
    assert session.created == datetime(2026, 11, 22, 10, 14, tzinfo=UTC)
    assert session.messages[1].created == datetime(2026, 11, 22, 10, 15, tzinfo=UTC)
    assert session.updated == datetime(2026, 11, 22, 10, 15, tzinfo=UTC)


def test_missing_times_come_from_the_neighbours_then_the_file(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    text = HAND_WRITTEN["no ids, no times, no schema"].replace(
        'content = "second"', 'content = "second"\ncreated = 2026-11-22T10:15:00Z'
    )
    path = put(store, text)
    session = store.load(ID)
    when = datetime(2026, 11, 22, 10, 15, tzinfo=UTC)
    assert [m.created for m in session.messages] == [when, when]
    path.write_text(HAND_WRITTEN["no ids, no times, no schema"])
    os.utime(path, (1_700_000_000, 1_700_000_000))
    mtime = datetime.fromtimestamp(1_700_000_000, UTC)
    session = store.load(ID)
    assert session.created == session.updated == mtime
    assert [m.created for m in session.messages] == [mtime, mtime]


TOOL_CALL = """\
provider = "echo"
model = "echo"
[[messages]]
role = "user"
content = "what time is it?"
[[messages]]
role = "tool"
content = '{"time": "10:14"}'
[[messages]]
role = "assistant"
content = "It is 10:14."
"""


def test_an_unknown_role_is_kept_and_shown_but_never_sent(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    put(store, TOOL_CALL)
    session = store.load(ID)
    assert [m.role for m in session.messages] == ["user", "tool", "assistant"]
    assert [h["role"] for h in session.history()] == ["user", "assistant"]
    store.save(session)  # and saving keeps it
    assert [m.role for m in store.load(ID).messages] == ["user", "tool", "assistant"]


@pytest.mark.parametrize("case", [*HAND_WRITTEN, "tool"])
def test_saving_a_hand_written_file_keeps_every_word(tmp_path: Path, case: str) -> None:
    store = SessionStore(tmp_path / "sessions")
    text = TOOL_CALL if case == "tool" else HAND_WRITTEN[case]
    path = put(store, text)
    before = tomllib.loads(text)["messages"]
    store.save(store.load(ID))
    after = tomllib.loads(path.read_text())
    assert after["schema"] == SCHEMA
    assert [(m["role"], m["content"]) for m in after["messages"]] == [
        (m["role"], m["content"]) for m in before
    ]
    assert all(m["id"] and isinstance(m["created"], datetime) for m in after["messages"])


UNUSABLE = {
    "content is a number": TOOL_CALL.replace('content = "what time is it?"', "content = 5"),
    "role is a table": TOOL_CALL.replace('role = "tool"', "role = { name = 'tool' }"),
    "created is text": TOOL_CALL.replace('model = "echo"', 'model = "echo"\ncreated = "today"'),
    "created is a time of day": TOOL_CALL.replace(
        'model = "echo"', 'model = "echo"\ncreated = 10:14:00'
    ),
    "not TOML": "role = user\ncontent = hello\n",
}


@pytest.mark.parametrize("case", list(UNUSABLE))
def test_only_unusable_files_are_set_aside(tmp_path: Path, case: str) -> None:
    store = SessionStore(tmp_path / "sessions")
    put(store, UNUSABLE[case])
    with pytest.raises(SessionCorrupt):
        store.load(ID)
    assert (store.root / "corrupt" / f"{ID}.toml").read_text() == UNUSABLE[case]


def test_the_commands_show_and_continue_a_hand_written_file(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    store = SessionStore(tmp_path / "data" / "sessions")
    put(store, TOOL_CALL)
    listing = run(env, "sessions", "list")
    assert listing.returncode == 0 and ID in listing.stdout, listing.stderr
    shown = run(env, "sessions", "show", ID)
    assert shown.returncode == 0 and "### tool" in shown.stdout and "10:14" in shown.stdout
    asked = run(env, "ask", "-s", ID, "and now?")
    assert asked.returncode == 0, asked.stderr
    assert [m.role for m in store.load(ID).messages] == [
        "user",
        "tool",
        "assistant",
        "user",
        "assistant",
    ]


# -- a sessions folder that cannot be used -----------------------------------------------------
def cli_env(tmp_path: Path, data: Path | None = None) -> dict[str, str]:
    config = tmp_path / "config.toml"
    config.write_text("default_provider = 'echo'\n[providers.echo]\ndelay = 0\n")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(CHATTERM_CONFIG=str(config), CHATTERM_DATA_DIR=str(data or tmp_path / "data"))
    env["OLLAMA_HOST"] = f"127.0.0.1:{free_port()}"  # never a developer's own Ollama
    return env


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHATTERM, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def broken_data(tmp_path: Path, how: str) -> tuple[Path, Path]:
    """(the data dir to use, the path the error must name)."""
    data = tmp_path / "data"
    if how == "data dir is a file":
        data.write_text("not a folder")
        return data, data / "sessions"
    data.mkdir()
    sessions = data / "sessions"
    if how == "sessions is a file":
        sessions.write_text("not a folder")
    elif how == "sessions is a symlink loop":
        sessions.symlink_to(sessions)
    elif how == "sessions not readable":
        if os.geteuid() == 0:
            pytest.skip("root reads any folder: chmod 000 stops nothing")
        sessions.mkdir()
        sessions.chmod(0)
    return data, sessions


BROKEN = [
    "data dir is a file",
    "sessions is a file",
    "sessions is a symlink loop",
    "sessions not readable",
]


@pytest.mark.parametrize("how", BROKEN)
@pytest.mark.parametrize(
    "command", [("sessions", "list"), ("ask", "-c", "hello"), ("-c",), ("sessions", "show", "2026")]
)
def test_an_unusable_sessions_folder_is_one_line_and_exit_2(
    tmp_path: Path, how: str, command: tuple[str, ...]
) -> None:
    data, named = broken_data(tmp_path, how)
    try:
        done = run(cli_env(tmp_path, data), *command)
    finally:
        if named.is_dir() and not named.is_symlink():
            named.chmod(0o700)
    assert "Traceback" not in done.stderr
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(named) in lines[0], done.stderr
    assert "CHATTERM_DATA_DIR" in lines[0]  # the fix


def test_the_store_names_the_folder_and_the_fix(tmp_path: Path) -> None:
    _, named = broken_data(tmp_path, "sessions is a file")
    store = SessionStore(named)
    for call in (
        store.list,
        store.latest,
        lambda: store.search("x"),
        lambda: store.resolve("2026"),
    ):
        with pytest.raises(SessionError, match=re.escape(str(named))):
            call()


@pytest.mark.parametrize("how", ["data dir is a file", "sessions is a symlink loop"])
def test_the_app_opens_and_says_the_sessions_folder_is_unusable(tmp_path: Path, how: str) -> None:
    data, _ = broken_data(tmp_path, how)
    with PtyApp([CHATTERM], cli_env(tmp_path, data)) as p:
        p.wait_written("cannot be saved", "cannot read the sessions folder", "echo · echo")
        p.send("hello\r")  # the app stays up; the reply says it could not be saved
        p.wait_written("could not save")
        p.send("\x11")
        assert p.wait(15) == 0
    assert b"Traceback" not in p.output


# -- ids as a person types them: any unique start ----------------------------------------------
def test_the_commands_take_a_unique_start_of_an_id(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    store = SessionStore(tmp_path / "data" / "sessions")
    put(store, TOOL_CALL, "20261122-101400-aaaa")
    put(store, TOOL_CALL.replace("what time", "which day"), "20261122-101400-bbbb")
    put(store, TOOL_CALL.replace("what time", "which year"), "20261123-090000-cccc")

    shown = run(env, "sessions", "show", "20261123")
    assert shown.returncode == 0 and "which year" in shown.stdout, shown.stderr
    exported = run(env, "sessions", "export", "20261122-101400-b", "--format", "json")
    assert exported.returncode == 0 and "which day" in exported.stdout, exported.stderr
    asked = run(env, "ask", "-s", "20261123", "and?")
    assert asked.returncode == 0, asked.stderr
    assert store.load("20261123-090000-cccc").messages[-2].content == "and?"

    for command in (
        ("sessions", "show", "20261122"),
        ("ask", "-s", "20261122", "x"),
        ("-s", "2026"),
    ):
        ambiguous = run(env, *command)
        assert ambiguous.returncode == 2 and len(ambiguous.stderr.strip().splitlines()) == 1
        assert "20261122-101400-aaaa" in ambiguous.stderr
        assert "20261122-101400-bbbb" in ambiguous.stderr
    missing = run(env, "sessions", "show", "2025")
    assert missing.returncode == 2 and "no saved conversation 2025" in missing.stderr

    removed = run(env, "sessions", "rm", "20261122-101400-a")
    assert removed.returncode == 0 and "moved 20261122-101400-aaaa" in removed.stdout
    assert (store.root / "trash" / "20261122-101400-aaaa.toml").exists()
    assert "Traceback" not in shown.stderr + asked.stderr + removed.stderr


def test_a_file_naming_no_provider_is_answered_by_the_default(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    store = SessionStore(tmp_path / "data" / "sessions")
    put(store, '[[messages]]\nrole = "user"\ncontent = "hi"\n')
    asked = run(env, "ask", "-s", ID, "more")
    assert asked.returncode == 0 and "You wrote" in asked.stdout, asked.stderr
    session = store.load(ID)
    assert (session.provider, session.model) == ("echo", "echo")
    assert [m.content for m in session.messages][:2] == ["hi", "more"]

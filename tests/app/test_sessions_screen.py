"""SessionsScreen: list, filter, open, rename, delete, export, driven by keys at 80×24."""

from __future__ import annotations

import threading
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from tests.app.host import HostApp, host_config, screen_text, services_for, wait_until
from tui.screens.sessions import SessionChoice, SessionsScreen
from tui.store import Message, SessionStore, SessionSummary

SIZE = (80, 24)
Results = list[SessionChoice | None]


def make_store(tmp_path: Path) -> SessionStore:
    return SessionStore(tmp_path / "data" / "sessions")


def add_session(store: SessionStore, title: str, *exchanges: tuple[str, str]) -> str:
    """A saved conversation with the given (prompt, reply) pairs, renamed to *title*."""
    session = store.new("echo", "echo")
    for prompt, reply in exchanges:
        store.append(session, Message(role="user", content=prompt))
        store.append(
            session,
            Message(
                role="assistant", content=reply, provider="echo", model="echo", status="complete"
            ),
        )
    store.rename(session.id, title)
    return session.id


async def open_screen(
    pilot: Pilot[None], store: SessionStore, current_id: str | None = None
) -> tuple[SessionsScreen, Results]:
    results: Results = []
    screen = SessionsScreen(services_for(store), current_id)
    pilot.app.push_screen(screen, results.append)
    await wait_until(pilot, lambda: screen._loaded)
    await pilot.pause()
    return screen, results


def shown_ids(screen: SessionsScreen) -> list[str]:
    table = screen.query_one(DataTable)
    if not table.display:
        return []
    return [str(row.key.value) for row in table.ordered_rows]


def is_file(path: str) -> bool:
    return Path(path).is_file()


async def test_lists_newest_first_with_model_and_count(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    old = add_session(store, "Old one", ("a", "b"))
    new = add_session(store, "New one", ("a", "b"), ("c", "d"))
    async with HostApp(host_config(tmp_path)).run_test(size=SIZE) as pilot:
        screen, _ = await open_screen(pilot, store)
        assert shown_ids(screen) == [s.id for s in store.list()]
        assert set(shown_ids(screen)) == {old, new}
        updated = [s.updated for s in store.list()]
        assert updated == sorted(updated, reverse=True)
        text = screen_text(pilot.app)
        new_line = next(line for line in text.splitlines() if "New one" in line)
        assert "echo/echo" in new_line and new_line.rstrip().endswith("4")
        assert isinstance(pilot.app.focused, DataTable)


class GatedStore(SessionStore):
    """list() waits for the test to open the gate, like a slow disk with 5,000 files."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.gate = threading.Event()

    def list(self) -> list[SessionSummary]:
        self.gate.wait(5)
        return super().list()


async def test_loading_runs_in_a_thread_and_keys_work_meanwhile(tmp_path: Path) -> None:
    store = GatedStore(tmp_path / "data" / "sessions")
    wanted = add_session(store, "Wanted", ("a", "b"))
    add_session(store, "Other", ("a", "b"))
    async with HostApp(host_config(tmp_path)).run_test(size=SIZE) as pilot:
        screen = SessionsScreen(services_for(store))
        pilot.app.push_screen(screen)
        await pilot.pause()
        assert "loading…" in screen_text(pilot.app)
        await pilot.press("slash", *"want")  # typed while the list is still loading
        store.gate.set()
        await wait_until(pilot, lambda: screen._loaded)
        assert shown_ids(screen) == [wanted]


async def test_filter_narrows_by_title_then_by_content(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    alpha = add_session(store, "Alpha plans", ("bake", "banana bread"))
    beta = add_session(store, "Beta notes", ("dessert", "cherry pie"))
    async with HostApp(host_config(tmp_path)).run_test(size=SIZE) as pilot:
        screen, _ = await open_screen(pilot, store)
        await pilot.press("slash")
        await wait_until(pilot, lambda: isinstance(pilot.app.focused, Input))
        await pilot.press(*"ALPHA")  # any case
        filter_box = screen.query_one(Input)
        await wait_until(pilot, lambda: filter_box.value == "ALPHA")
        # The title matches without waiting for the content search (which cannot find
        # "ALPHA" in either conversation's messages anyway).
        assert shown_ids(screen) == [alpha]
        await pilot.press("ctrl+u", *"cherry")  # only in beta's content
        await wait_until(pilot, lambda: shown_ids(screen) == [beta])
        await wait_until(pilot, lambda: "Beta notes" in screen_text(pilot.app))
        await pilot.press("ctrl+u", *"zzz")
        # Both the title filter and the content search for "zzz" have run: nothing matches.
        await wait_until(pilot, lambda: screen._content_query == "zzz")
        assert shown_ids(screen) == []
        await wait_until(pilot, lambda: "No conversation matches" in screen_text(pilot.app))
        await pilot.press("ctrl+u")
        await wait_until(pilot, lambda: len(shown_ids(screen)) == 2)
        await pilot.press("down")  # from the filter to the list
        await wait_until(pilot, lambda: isinstance(pilot.app.focused, DataTable))


async def test_enter_opens_the_current_row_and_escape_returns_none(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    first = add_session(store, "First", ("a", "b"))
    add_session(store, "Second", ("a", "b"))
    async with HostApp(host_config(tmp_path)).run_test(size=SIZE) as pilot:
        screen, results = await open_screen(pilot, store, current_id=first)
        assert screen.query_one(DataTable).cursor_row == shown_ids(screen).index(first)
        await pilot.press("enter")
        await wait_until(pilot, lambda: results == [SessionChoice(first)])  # no filter
        _, results = await open_screen(pilot, store)
        await pilot.press("escape")
        await wait_until(pilot, lambda: results == [None])


async def test_a_row_opened_from_the_filter_carries_the_filter(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    add_session(store, "Alpha plans", ("bake", "banana bread"))
    beta = add_session(store, "Beta notes", ("dessert", "cherry pie"))
    async with HostApp(host_config(tmp_path)).run_test(size=SIZE) as pilot:
        screen, results = await open_screen(pilot, store)
        await pilot.press("slash", *" cherry ")
        await wait_until(pilot, lambda: shown_ids(screen) == [beta])
        await pilot.press("enter")  # the conversation then searches for it (n / N)
        await wait_until(pilot, lambda: results == [SessionChoice(beta, "cherry")])


async def test_rename_saves_through_the_store(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    session_id = add_session(store, "Before", ("a", "b"))
    async with HostApp(host_config(tmp_path)).run_test(size=SIZE) as pilot:
        await open_screen(pilot, store)
        await pilot.press("r")
        await wait_until(pilot, lambda: getattr(pilot.app.focused, "id", None) == "rename-input")
        rename = pilot.app.focused
        await wait_until(pilot, lambda: rename.value == "Before")  # filled in before we edit it
        await pilot.press("ctrl+u", *"After")
        await wait_until(pilot, lambda: rename.value == "After")
        await pilot.press("enter")
        await wait_until(pilot, lambda: store.load(session_id).title == "After")
        await wait_until(pilot, lambda: "After" in screen_text(pilot.app))
        await pilot.press("r")
        await wait_until(pilot, lambda: getattr(pilot.app.focused, "id", None) == "rename-input")
        await pilot.press("ctrl+u", *"x", "escape")  # Esc cancels
        await wait_until(pilot, lambda: getattr(pilot.app.focused, "id", None) != "rename-input")
        assert store.load(session_id).title == "After"


async def test_delete_moves_to_the_trash_after_y(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    keep = add_session(store, "Keep me", ("a", "b"))
    gone = add_session(store, "Delete me", ("a", "b"))
    before = store.path(gone)
    async with HostApp(host_config(tmp_path)).run_test(size=SIZE) as pilot:
        screen, _ = await open_screen(pilot, store, current_id=gone)
        await pilot.press("d")
        asked = "Move 'Delete me' to the trash? y/n"
        await wait_until(pilot, lambda: asked in screen_text(pilot.app))
        await pilot.press("n")  # nothing happens on n
        await wait_until(pilot, lambda: asked not in screen_text(pilot.app))
        assert before.exists()
        await pilot.press("d", "y")
        await wait_until(pilot, lambda: not before.exists())
        assert shown_ids(screen) == [keep]
        assert isinstance(pilot.app, HostApp)
        moved = pilot.app.notified[-1].removeprefix("Moved to ")
        assert is_file(moved) and moved != str(before)
        assert [s.id for s in store.list()] == [keep]


async def test_export_writes_markdown(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    session_id = add_session(store, "Exported", ("question here", "answer there"))
    async with HostApp(host_config(tmp_path)).run_test(size=SIZE) as pilot:
        await open_screen(pilot, store)
        await pilot.press("e")
        path = store.root.parent / "exports" / f"{session_id}.md"
        assert isinstance(pilot.app, HostApp)
        notified = pilot.app.notified
        await wait_until(pilot, lambda: f"Exported to {path}" in notified)
    text = path.read_text(encoding="utf-8")
    assert "question here" in text and "answer there" in text


async def test_corrupt_file_is_reported_and_the_rest_listed(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    good = add_session(store, "Still fine", ("a", "b"))
    (store.root / "bad.toml").write_bytes(b"\x00\xff not toml [[[")
    async with HostApp(host_config(tmp_path)).run_test(size=SIZE) as pilot:
        screen, _ = await open_screen(pilot, store)
        assert shown_ids(screen) == [good]
        warning = screen.query_one("#sessions-warning", Static)
        assert warning.display
        assert "1 file set aside: bad.toml could not be read" in screen_text(pilot.app)
        assert isinstance(pilot.app, HostApp)
        assert sum("bad.toml" in message for message in pilot.app.notified) == 1


async def test_hostile_title_is_shown_as_plain_text(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    add_session(store, "\x1b]52;c;Zm9v\x07 [bold]x", ("a", "b"))
    async with HostApp(host_config(tmp_path)).run_test(size=SIZE) as pilot:
        await open_screen(pilot, store)
        text = screen_text(pilot.app)
        assert "[bold]x" in text
        assert "\x1b" not in text and "\x07" not in text and "52;c" not in text


async def test_empty_store_shows_the_hint(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    async with HostApp(host_config(tmp_path)).run_test(size=SIZE) as pilot:
        screen, _ = await open_screen(pilot, store)
        assert "No saved conversations yet — start one with ctrl+n" in screen_text(pilot.app)
        assert not screen.query_one(DataTable).display
        await pilot.press("r", "d", "e")  # nothing to act on: a bell, no crash
        assert shown_ids(screen) == []

"""The log's layout without a screen: offsets, estimates, the line cache, the plain rows."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from tui.widgets import log_layout
from tui.widgets.log_layout import (
    CODE_MARK,
    CODE_RULE,
    FOCUS_MARK,
    FRAME_ROWS,
    GUTTER,
    Entry,
    LineCache,
    Offsets,
    PlainBody,
    covering,
    estimate,
    gutter,
    header_text,
    is_code_line,
    repaint_span,
    scroll_step,
)


def entry(height: int = FRAME_ROWS, content: str = "") -> Entry:
    return Entry("assistant", content, height=height)


def strips(*texts: str) -> list[Strip]:
    return [Strip([Segment(text)], len(text)) for text in texts]


# -- estimate -----------------------------------------------------------------------------


def test_an_empty_message_is_estimated_as_its_header_and_separator() -> None:
    assert estimate(entry(), 80) == FRAME_ROWS


def test_the_estimate_counts_source_lines_and_wrapping() -> None:
    assert estimate(entry(content="one\ntwo\nthree"), 80) == FRAME_ROWS + 3
    assert estimate(entry(content="x" * 200), 80) == FRAME_ROWS + 1 + 2  # wraps twice


def test_an_error_adds_its_own_rows_to_the_estimate() -> None:
    message = Entry("assistant", "text", error="e" * 100)
    assert estimate(message, 80) == FRAME_ROWS + 1 + 1 + 1


def test_an_estimate_at_no_width_does_not_divide_by_zero() -> None:
    assert estimate(entry(content="abc"), 0) == FRAME_ROWS + 1 + 3


# -- offsets ------------------------------------------------------------------------------


def test_offsets_are_the_running_sum_of_heights() -> None:
    entries = [entry(3), entry(5), entry(2)]
    offsets = Offsets()
    assert offsets.update(entries) == 10
    assert [offsets[i] for i in range(4)] == [0, 3, 8, 10]
    assert offsets.total == 10 and offsets.is_current(3)


def test_an_added_message_extends_the_offsets() -> None:
    entries = [entry(3)]
    offsets = Offsets()
    offsets.update(entries)
    entries.append(entry(4))
    assert not offsets.is_current(2)
    offsets.invalidate(1)
    assert offsets.update(entries) == 7 and offsets[1] == 3


def test_a_height_change_moves_only_the_offsets_after_it() -> None:
    entries = [entry(3), entry(5), entry(2)]
    offsets = Offsets()
    offsets.update(entries)
    entries[1].height = 9
    offsets.invalidate(1)
    assert not offsets.is_current(3)
    offsets.update(entries)
    assert [offsets[i] for i in range(4)] == [0, 3, 12, 14]


def test_a_removed_message_shortens_the_offsets() -> None:
    entries = [entry(3), entry(5), entry(2)]
    offsets = Offsets()
    offsets.update(entries)
    entries.pop()
    offsets.invalidate(2)
    assert offsets.update(entries) == 8 and len(offsets) == 3


def test_each_row_belongs_to_the_message_that_covers_it() -> None:
    offsets = Offsets()
    offsets.update([entry(3), entry(5), entry(2)])
    assert [offsets.index_at(y) for y in range(10)] == [0] * 3 + [1] * 5 + [2] * 2
    assert offsets.index_at(-4) == 0 and offsets.index_at(99) == 2  # clamped


def test_the_headers_in_view_are_the_messages_starting_in_it() -> None:
    offsets = Offsets()
    offsets.update([entry(3), entry(5), entry(2), entry(4)])  # first rows 0, 3, 8, 10
    assert list(offsets.starting_between(0, 4)) == [0, 1]
    assert list(offsets.starting_between(4, 8)) == []  # inside message 1
    assert list(offsets.starting_between(8, 99)) == [2, 3]
    assert list(offsets.starting_between(14, 20)) == []  # the end is no header


def test_cleared_offsets_hold_nothing() -> None:
    offsets = Offsets()
    offsets.update([entry(3)])
    offsets.clear()
    assert offsets.total == 0 and offsets.is_current(0)


# -- which messages to render -----------------------------------------------------------


def test_covering_goes_down_until_the_rows_are_covered() -> None:
    entries = [entry(4) for _ in range(10)]
    assert list(covering(entries, 2, 1, 10)) == [2, 3, 4]


def test_covering_goes_up_and_stops_at_the_first_message() -> None:
    entries = [entry(4) for _ in range(10)]
    assert list(covering(entries, 8, -1, 12)) == [8, 7, 6]
    assert list(covering(entries, 1, -1, 100)) == [1, 0]
    assert list(covering(entries, -1, -1, 100)) == []


def test_covering_skips_the_rows_of_the_first_message_above_the_view() -> None:
    entries = [entry(4) for _ in range(10)]
    assert list(covering(entries, 0, 1, 8, skip=3)) == [0, 1, 2]


def test_covering_counts_the_height_the_caller_has_just_measured() -> None:
    entries = [entry(2) for _ in range(10)]
    seen = []
    for index in covering(entries, 0, 1, 10):
        seen.append(index)
        entries[index].height = 10  # rendering showed it is taller than estimated
    assert seen == [0]


# -- repainting and scrolling ------------------------------------------------------------


def test_a_tick_repaints_from_the_first_changed_row() -> None:
    # Message at row 20: header row 20, body rows 21..; rows 5.. of the body changed.
    assert repaint_span(20, 5, 8, 8, top=0, view=40) == (26, 29)


def test_a_body_that_grew_repaints_its_separator_too() -> None:
    assert repaint_span(20, 7, 8, 9, top=0, view=40) == (28, 31)


def test_only_rows_in_view_are_repainted() -> None:
    assert repaint_span(20, 0, 30, 30, top=30, view=10) == (30, 40)
    assert repaint_span(20, 0, 5, 5, top=40, view=10) is None


def test_a_scroll_step_is_a_fraction_of_the_view_but_never_all_of_it() -> None:
    assert scroll_step(30, 0.5) == 15
    assert scroll_step(30, 1.0) == 29
    assert scroll_step(1, 0.5) == 1


# -- the header row --------------------------------------------------------------------------

LOOK = {
    part: Style(color="red") if part.startswith("status") else Style(bold=True)
    for part in (
        *("user", "assistant", "system", "role", "meta", "focused", "focus-mark", "code-rule"),
        *("status-streaming", "status-cancelled", "status-error", "status"),
    )
}
WHEN = datetime(2024, 5, 1, 9, 7, tzinfo=UTC)
STAMP = WHEN.astimezone().strftime("%H:%M")


def test_a_header_names_role_model_and_status_with_the_time_at_the_right() -> None:
    reply = Entry("assistant", "", "openai", "gpt-4o", "cancelled", created=WHEN)
    text = header_text(reply, 50, LOOK, focused=False)
    assert text.plain == "assistant · openai/gpt-4o · cancelled".ljust(45) + STAMP


def test_a_header_too_long_for_the_width_keeps_the_time() -> None:
    reply = Entry("assistant", "", "p", "m" * 80, "error", created=WHEN)
    text = header_text(reply, 30, LOOK, focused=False)
    assert text.plain.endswith("… " + STAMP) and text.cell_len == 30


def test_a_header_shows_which_alternative_is_on_screen_beside_the_time() -> None:
    reply = Entry("assistant", "", "p", "m" * 80, created=WHEN, choice=(2, 3))
    text = header_text(reply, 40, LOOK, focused=False)
    assert text.plain.endswith("… ‹ 2/3 ›  " + STAMP) and text.cell_len == 40


def test_a_header_shows_an_unknown_role_cleaned_and_no_complete_status() -> None:
    odd = Entry("\x1b[31mtool", "", "p", "m", "complete")
    assert header_text(odd, 20, LOOK, focused=False).plain.rstrip() == "tool"


def test_a_focused_header_takes_the_focused_style() -> None:
    text = header_text(Entry("user", "hi"), 10, {**LOOK, "focused": Style(reverse=True)}, True)
    assert all(span.style == Style(reverse=True) for span in text.spans[-1:])


def test_the_gutter_marks_focus_and_code() -> None:
    code = Strip([Segment(" ", Style(meta={CODE_MARK: True}))], 1)
    assert gutter(code, True, LOOK).text == FOCUS_MARK + CODE_RULE
    assert gutter(strips("x")[0], False, LOOK).text == " " * GUTTER


def test_an_entry_takes_the_fields_of_a_stored_message() -> None:
    class Stored:
        role, content, provider, model, status, error = "user", "hi", None, "m", "", ""
        created = WHEN

    made = Entry.from_message(Stored())
    assert (made.role, made.content, made.provider, made.model, made.created) == (
        "user",
        "hi",
        "",
        "m",
        WHEN,
    )


# -- the line cache -----------------------------------------------------------------------


def test_stored_lines_come_back_by_message_and_row() -> None:
    cache = LineCache(100)
    message = entry()
    cache.store(message, strips("a", "b"))
    assert cache.get(message, 1).text == "b"  # type: ignore[union-attr]
    assert cache.get(message, 2) is None
    assert cache.rows(message) == 2 and cache.holds(message) and len(cache) == 2


def test_storing_again_replaces_every_line() -> None:
    cache = LineCache(100)
    message = entry()
    cache.store(message, strips("old", "old", "old"))
    cache.store(message, strips("new"))
    assert cache.get(message, 0).text == "new"  # type: ignore[union-attr]
    assert cache.get(message, 1) is None and len(cache) == 1


def test_the_lines_drawn_least_recently_go_first() -> None:
    cache = LineCache(4)
    first, second, third = entry(), entry(), entry()
    cache.store(first, strips("1a", "1b"))
    cache.store(second, strips("2a", "2b"))
    cache.get(first, 0)
    cache.get(first, 1)  # first was drawn since: second is the older one now
    cache.store(third, strips("3a", "3b"))
    assert cache.holds(first) and cache.holds(third)
    assert not cache.holds(second) and cache.get(second, 0) is None
    assert cache.rows(second) == 2  # its height is still known
    assert len(cache) == 4


def test_a_message_longer_than_the_cache_is_held_whole() -> None:
    cache = LineCache(3)
    message = entry()
    cache.store(message, strips(*"abcdefgh"))
    assert cache.holds(message) and cache.limit >= 8


def test_dropped_and_cleared_lines_are_gone() -> None:
    cache = LineCache(10)
    kept, dropped = entry(), entry()
    cache.store(kept, strips("k"))
    cache.store(dropped, strips("d", "d"))
    cache.drop(dropped)
    assert cache.holds(kept) and not cache.holds(dropped) and len(cache) == 1
    cache.clear()
    assert len(cache) == 0 and not cache.holds(kept)


def test_a_message_with_no_body_lines_is_held_once_stored() -> None:
    cache = LineCache(10)
    message = entry()
    assert not cache.holds(message)
    cache.store(message, [])
    assert cache.holds(message) and cache.rows(message) == 0


# -- plain rows and code lines ------------------------------------------------------------


def test_plain_rows_wrap_at_the_width_and_show_every_character() -> None:
    body = PlainBody("short\n" + "x" * 25 + "\n\twide 漢字漢字", 10)
    texts = [row.text for row in body]
    assert texts[:4] == ["short".ljust(10), "x" * 10, "x" * 10, "x" * 5 + " " * 5]
    assert "".join(texts[4:]).replace(" ", "") == "wide漢字漢字"
    assert all(row.cell_length == 10 for row in body)


def test_extending_plain_rows_rewraps_only_from_the_last_source_line() -> None:
    body = PlainBody("one\ntwo\nthr", 10)
    assert body.extend("one\ntwo\nthree\nfour") == 2
    assert [row.text.rstrip() for row in body] == ["one", "two", "three", "four"]


def test_the_error_lines_follow_the_plain_rows() -> None:
    body = PlainBody("text", 10, strips("✗ error"))
    assert len(body) == 2 and body[-1].text == "✗ error"
    assert [row.text for row in body[0:2]] == ["text".ljust(10), "✗ error"]


def test_a_code_line_is_known_by_the_mark_in_its_style() -> None:
    code = Strip([Segment(" ", Style(bgcolor="black", meta={CODE_MARK: True}))], 1)
    assert is_code_line(code)
    assert not is_code_line(strips("text")[0])
    assert not is_code_line(Strip([Segment(" ", Style(bgcolor="black"))], 1))
    assert not is_code_line(Strip([], 0))


def test_the_layout_imports_no_textual_widget() -> None:
    tree = ast.parse(Path(log_layout.__file__).read_text("utf-8"))
    modules = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module is not None
    }
    textual = {name for name in modules if name.startswith("textual")}
    assert textual <= {"textual.cache", "textual.strip"}, textual

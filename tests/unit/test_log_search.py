"""Search in a conversation without a screen: the query, the matches, stepping, highlights."""

from __future__ import annotations

import time

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from tui.widgets.log_search import (
    Match,
    Matches,
    Query,
    SearchStatus,
    cell_spans,
    count,
    find,
    highlight,
    spans,
)


def test_smart_case_ignores_case_until_the_query_has_a_capital() -> None:
    assert Query.smart("word").ignore_case
    assert not Query.smart("Word").ignore_case
    assert not Query.smart("ÉTÉ").ignore_case  # a capital in any script
    assert Query.smart("été 42 ?").ignore_case
    line = "Word word WORD"
    assert spans(line, Query.smart("word")) == [(0, 4), (5, 9), (10, 14)]
    assert spans(line, Query.smart("Word")) == [(0, 4)]
    assert spans(line, Query.smart("WORD")) == [(10, 14)]
    assert spans(line, Query("WORD", ignore_case=True)) == [(0, 4), (5, 9), (10, 14)]


def test_every_match_of_a_line_left_to_right_never_overlapping() -> None:
    assert spans("abcabcabc", Query.smart("abc")) == [(0, 3), (3, 6), (6, 9)]
    assert spans("aaaa", Query.smart("aa")) == [(0, 2), (2, 4)]
    assert spans("no such thing", Query.smart("zebra")) == []


def test_the_query_is_text_not_a_pattern() -> None:
    assert spans("a.b axb (x)", Query.smart("a.b")) == [(0, 3)]
    assert spans("a.b axb (x)", Query.smart("(x)")) == [(8, 11)]
    assert spans("[bold]x[/bold]", Query.smart("[bold]")) == [(0, 6)]


def test_an_empty_query_matches_nothing() -> None:
    for query in (Query.smart(""), Query("", ignore_case=False)):
        assert spans("anything", query) == []
        assert count("anything\nat all", query) == 0
        assert find([["anything"]], query) == []
        matches = Matches(query, ["anything"])
        assert matches.total == 0
        assert matches.first(0, lambda n: ["anything"]) is None
        assert matches.status() == SearchStatus("", None, 0)
        assert matches.status().describe() == ""


def test_unicode_cases_and_wide_characters() -> None:
    assert spans("Café CAFÉ café", Query.smart("café")) == [(0, 4), (5, 9), (10, 14)]
    assert spans("Ωμέγα ωμέγα", Query.smart("ωμέγα")) == [(0, 5), (6, 11)]
    line = "日本語の text 日本"
    assert spans(line, Query.smart("日本")) == [(0, 2), (10, 12)]
    # Highlights are in cells: each of these characters takes two.
    assert cell_spans(line, [(0, 2), (10, 12)]) == [(0, 4), (14, 18)]
    assert cell_spans("plain", [(1, 3)]) == [(1, 3)]
    # Emoji and combining marks keep the cell count right too.
    assert cell_spans("🙂 ok", spans("🙂 ok", Query.smart("ok"))) == [(3, 5)]
    assert cell_spans("e\u0301 ok", spans("e\u0301 ok", Query.smart("ok"))) == [(2, 4)]


def test_a_match_never_spans_two_lines() -> None:
    assert count("red\nfox", Query.smart("red fox")) == 0
    assert count("red fox\nred fox", Query.smart("red fox")) == 2
    assert count("one\ntwo", Query.smart("one\ntwo")) == 0  # a query of two lines finds none


def test_find_gives_message_line_and_characters() -> None:
    messages = [["first line", "second match match"], [], ["no"], ["MATCH"]]
    assert find(messages, Query.smart("match")) == [
        Match(0, 1, 7, 12),
        Match(0, 1, 13, 18),
        Match(3, 0, 0, 5),
    ]


def conversation() -> tuple[list[str], dict[int, list[str]]]:
    """Texts as written and lines as drawn: message 1's source says "cat" but its drawn
    text does not (say, markup), message 3's drawn lines wrap one match onto a line alone."""
    texts = ["a cat", "**c**at", "dog", "cat cat\ncat"]
    drawn = {0: ["a cat"], 1: ["c at"], 2: ["dog"], 3: ["cat cat", "cat"]}
    return texts, drawn


def test_counts_come_from_the_text_until_the_drawn_lines_are_read() -> None:
    texts, drawn = conversation()
    matches = Matches(Query.smart("cat"), texts)
    assert matches.total == 4  # "**c**at" has no "cat" in its source either
    texts[1] = "c**at** cat"  # one in the source; the drawn text has none
    matches = Matches(Query.smart("cat"), texts)
    assert matches.total == 5
    matches.read(1, drawn[1])
    assert matches.total == 4
    assert matches.count_in(1) == 0


def test_first_and_stepping_wrap_and_skip_messages_without_a_drawn_match() -> None:
    texts, drawn = conversation()
    texts[1] = "c**at** cat"
    read: list[int] = []

    def lines_of(n: int) -> list[str]:
        read.append(n)
        return drawn[n]

    matches = Matches(Query.smart("cat"), texts)
    assert matches.first(1, lines_of) == Match(3, 0, 0, 3)  # 1 only looked like one; 2 none
    assert read == [1, 3]  # message 2 had no match in its text: never drawn for the search
    assert matches.status() == SearchStatus("cat", 2, 4)
    assert matches.status().describe() == "match 2 of 4"
    assert matches.step(True, lines_of) == Match(3, 0, 4, 7)
    assert matches.step(True, lines_of) == Match(3, 1, 0, 3)
    assert matches.status().position == 4
    assert matches.step(True, lines_of) == Match(0, 0, 2, 5)  # wraps to the top
    assert matches.status().position == 1
    assert matches.step(False, lines_of) == Match(3, 1, 0, 3)  # and back past the top
    assert matches.step(False, lines_of) == Match(3, 0, 4, 7)
    assert matches.current == Match(3, 0, 4, 7)


def test_stepping_without_a_current_match_starts_from_the_given_message() -> None:
    texts, drawn = conversation()
    matches = Matches(Query.smart("cat"), texts)
    assert matches.current is None
    assert matches.status().describe() == "4 matches"
    assert matches.step(True, drawn.__getitem__, start=2) == Match(3, 0, 0, 3)
    matches = Matches(Query.smart("cat"), texts)
    assert matches.step(False, drawn.__getitem__, start=2) == Match(0, 0, 2, 5)


def test_a_single_match_steps_to_itself_and_no_match_says_so() -> None:
    matches = Matches(Query.smart("dog"), ["a cat", "dog"])
    assert matches.first(0, lambda n: ["a cat", "dog"][n : n + 1]) == Match(1, 0, 0, 3)
    assert matches.step(True, lambda n: ["a cat", "dog"][n : n + 1]) == Match(1, 0, 0, 3)
    assert matches.status().describe() == "match 1 of 1"
    none = Matches(Query.smart("zebra"), ["a cat", "dog"])
    assert none.first(0, lambda n: []) is None
    assert none.step(True, lambda n: []) is None
    assert none.status().describe() == "no match"


def test_marks_are_the_cells_of_a_drawn_line_and_tell_the_current_one() -> None:
    texts, drawn = conversation()
    matches = Matches(Query.smart("cat"), texts)
    assert matches.marks(3, 0, "cat cat") == [(0, 3, False), (4, 7, False)]
    matches.first(3, drawn.__getitem__)
    assert matches.marks(3, 0, "cat cat") == [(0, 3, True), (4, 7, False)]
    assert matches.marks(3, 1, "cat") == [(0, 3, False)]
    assert matches.marks(2, 0, "dog") == []
    # A line drawn again otherwise (a new width) is not taken for the current match's.
    assert matches.marks(3, 0, "a cat cat") == [(2, 5, False), (6, 9, False)]
    wide = Matches(Query.smart("本"), ["日本"])
    assert wide.marks(0, 0, "日本") == [(2, 4, False)]


def test_highlight_restyles_only_the_matching_cells() -> None:
    base = Style(color="red")
    strip = Strip([Segment("say ", base), Segment("hello", Style(bold=True)), Segment(" x")])
    mark, current = Style(bgcolor="yellow"), Style(bgcolor="green", color="black")
    out = highlight(strip, [(2, 6, mark), (8, 9, current)])
    assert out.text == strip.text and out.cell_length == strip.cell_length
    styles = [(seg.text, seg.style) for seg in out]
    assert styles[0] == ("sa", base)
    assert styles[1] == ("y ", base + mark)
    assert styles[2] == ("he", Style(bold=True) + mark)
    assert styles[3] == ("ll", Style(bold=True))
    assert styles[4][0] == "o" and styles[4][1].bgcolor.name == "green"  # over its own style
    assert styles[4][1].color.name == "black" and styles[4][1].bold
    assert highlight(strip, []) is strip


def test_a_thousand_messages_are_counted_in_a_few_milliseconds() -> None:
    paragraph = "Some words to fill a stored message, repeated to be about two KB. " * 6
    texts = [f"message {n}\n\n" + "\n\n".join([paragraph] * 5) for n in range(1000)]
    started = time.perf_counter()
    matches = Matches(Query.smart("stored"), texts)
    took = time.perf_counter() - started
    print(f"\ncounting 1,000 messages of ~2 KB: {took * 1000:.1f} ms")
    assert matches.total == 1000 * 5 * 6
    assert took < 0.5  # about 10 ms here; generous for a busy machine


def test_a_message_added_or_grown_after_the_search_is_counted_again() -> None:
    texts = ["a cat", ""]
    matches = Matches(Query.smart("cat"), texts)
    lines = {0: ["a cat"], 1: ["cat and cat"], 2: ["one cat"]}
    assert matches.first(0, lines.__getitem__) == Match(0, 0, 2, 5)
    assert matches.total == 1
    matches.set_text(1, "cat and cat")  # the reply streamed on
    matches.set_text(2, "one cat")  # and a new message came
    assert matches.total == 4
    assert matches.status() == SearchStatus("cat", 1, 4)
    assert matches.step(True, lines.__getitem__) == Match(1, 0, 0, 3)
    assert matches.step(False, lines.__getitem__) == Match(0, 0, 2, 5)
    assert matches.step(False, lines.__getitem__) == Match(2, 0, 4, 7)

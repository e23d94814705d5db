"""Typed stream parts (tui/providers/parts.py) and the <think> splitter (think.py)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from tui.providers.parts import Finish, Part, Reasoning, Usage, finish_of, usage_of
from tui.providers.think import ThinkSplitter


# -- parts ------------------------------------------------------------------------------------
def test_parts_are_small_frozen_values_and_text_stays_a_str() -> None:
    parts: list[Part] = [Reasoning("hm"), Usage(9, 4), Finish("stop")]
    for part in parts:
        assert isinstance(part, Part) and not isinstance(part, str)
        with pytest.raises(dataclasses.FrozenInstanceError):
            part.text = "x"  # type: ignore[union-attr]
    assert Usage(9, 4) == Usage(input_tokens=9, output_tokens=4)
    assert Usage(None, 4).input_tokens is None
    assert not isinstance("text", Part)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("stop", "stop"),
        ("STOP", "stop"),
        ("end_turn", "stop"),
        ("length", "length"),
        ("max_tokens", "length"),
        ("content_filter", "content_filter"),
        ("tool_calls", "tool_calls"),
        ("function_call", "tool_calls"),
        ("eos_token", "eos_token"),  # unknown: kept, cleaned
        ("\x1b[31mrecitation\x1b[0m", "recitation"),
        ("a" * 200, "a" * 39 + "…"),
    ],
)
def test_finish_reasons_are_normalised(raw: str, reason: str) -> None:
    assert finish_of(raw) == Finish(reason)


@pytest.mark.parametrize("raw", [None, "", "  ", 3, ["stop"], "\x1b[0m"])
def test_no_usable_finish_reason_is_no_part(raw: object) -> None:
    assert finish_of(raw) is None


def test_usage_takes_whole_counts_only() -> None:
    assert usage_of(9, 4) == Usage(9, 4)
    assert usage_of(9, None) == Usage(9, None)
    assert usage_of(None, None) is None
    assert usage_of(True, 4) == Usage(None, 4)  # a bool is not a count
    assert usage_of(-1, "4") is None
    assert usage_of(9.0, 4.5) == Usage(9, None)  # 9.0 is a whole number; 4.5 is not


def test_usage_keeps_the_services_count_of_the_reasoning_apart() -> None:
    assert usage_of(9, 40, 32) == Usage(9, 40, 32)  # of the 40 written, 32 were reasoning
    assert usage_of(9, 40).reasoning_tokens is None
    # 0 with reasoning on screen is a proxy filling the field, not a count: "~" stays
    assert usage_of(9, 40, 0) == Usage(9, 40)
    assert usage_of(9, 40, "32") == Usage(9, 40)
    assert usage_of(None, None, 32) == Usage(None, None, 32)


def test_openai_usage_reads_completion_tokens_details() -> None:
    from tui.providers.openai import usage_parts

    details = {"reasoning_tokens": 32, "audio_tokens": 0}
    usage = {"prompt_tokens": 9, "completion_tokens": 40, "completion_tokens_details": details}
    assert usage_parts(usage) == Usage(9, 40, 32)
    assert usage_parts({**usage, "completion_tokens_details": None}) == Usage(9, 40)
    assert usage_parts({**usage, "completion_tokens_details": [32]}) == Usage(9, 40)


def test_gemini_usage_counts_thoughts_as_output_and_apart() -> None:
    from tui.providers.gemini import usage_parts

    meta = {"promptTokenCount": 9, "candidatesTokenCount": 8, "thoughtsTokenCount": 32}
    assert usage_parts(meta) == Usage(9, 40, 32)
    assert usage_parts({"promptTokenCount": 9, "candidatesTokenCount": 8}) == Usage(9, 8)


def test_parts_and_think_modules_do_not_import_httpx() -> None:
    code = "import sys, tui.providers.parts, tui.providers.think\nprint('httpx' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


# -- <think> ----------------------------------------------------------------------------------
def run(*chunks: str) -> list[str | Reasoning]:
    """Every chunk through one splitter, then its flush; pieces of one kind in a row joined."""
    splitter = ThinkSplitter()
    out: list[str | Reasoning] = []
    for chunk in chunks:
        out += splitter.feed(chunk)
    out += splitter.flush()
    return merged(out)


def merged(pieces: list[str | Reasoning]) -> list[str | Reasoning]:
    result: list[str | Reasoning] = []
    for piece in pieces:
        if result and type(result[-1]) is type(piece):
            last = result.pop()
            if isinstance(piece, Reasoning):
                piece = Reasoning(last.text + piece.text)  # type: ignore[union-attr]
            else:
                piece = last + piece  # type: ignore[operator]
        result.append(piece)
    return result


def test_text_without_a_think_block_passes_at_once() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed("Hello") == ["Hello"]
    assert splitter.feed(" <think>not at the start</think>") == [" <think>not at the start</think>"]
    assert splitter.flush() == []


def test_a_think_block_at_the_start_is_reasoning() -> None:
    assert run("<think>weighing it</think>The answer") == [Reasoning("weighing it"), "The answer"]


def test_tags_split_across_chunks() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed("<thi") == []  # may still be the tag: held
    assert splitter.feed("nk>abc</th") == [Reasoning("abc")]
    assert splitter.feed("ink>answer") == ["answer"]
    assert splitter.flush() == []


def test_every_split_of_a_reply_gives_the_same_parts() -> None:
    reply = "\n <think>\nfirst, <b> then </thin\n</think>\n\nThe <think> answer"
    whole = run(reply)
    assert whole == [Reasoning("first, <b> then </thin\n"), "The <think> answer"]
    assert run(*reply) == whole  # one character at a time
    for cut in range(len(reply) + 1):
        assert run(reply[:cut], reply[cut:]) == whole, cut


def test_whitespace_before_the_tag_and_after_the_block_is_dropped() -> None:
    assert run("  \n", "<think>x</think>", "\n\n", "Hi") == [Reasoning("x"), "Hi"]


def test_a_think_later_in_the_text_is_text() -> None:
    assert run("Hi ", "<think>x</think>") == ["Hi <think>x</think>"]
    assert run("<th", "e end") == ["<the end"]
    assert run("<thinking>x</thinking>") == ["<thinking>x</thinking>"]


def test_flush_gives_back_what_was_held() -> None:
    assert run("<thi") == ["<thi"]  # the stream ended undecided: it was text
    assert run("\n") == ["\n"]  # a reply of whitespace stays what it was
    assert run("<think>cut short</thi") == [Reasoning("cut short</thi")]  # e.g. max_tokens
    assert run("<think>x</think>\n") == [Reasoning("x")]  # reasoning only, no text


def test_nothing_empty_comes_out() -> None:
    splitter = ThinkSplitter()
    pieces = [*splitter.feed("<think>"), *splitter.feed(""), *splitter.feed("</think>")]
    pieces += splitter.feed("")
    assert pieces == [] and splitter.flush() == []

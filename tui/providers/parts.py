"""What a reply stream carries besides its text: reasoning, token counts, why it ended.

``Provider.stream`` yields ``Chunk`` values: reply text stays a plain ``str`` (a consumer
that wants only text keeps ``isinstance(chunk, str)``), the rest are these small frozen
parts. No httpx here: the core and the screens import this before any request.

Each provider translates its own wire into these; what the values mean is the same for
every one of them:

- ``Reasoning(text)``: a piece of the model's reasoning ("thinking"), raw as it came; the
  core cleans it (``Exchange``) like reply text before it is saved or shown.
- ``Usage(input_tokens, output_tokens, reasoning_tokens)``: the service's own counts for
  the whole request (prompt and reply; the reply's include its reasoning, and
  ``reasoning_tokens`` says how many of them it was), ``None`` where it gave none. The
  last one in a stream is the one.
- ``Finish(reason)``: why the reply ended, normalised (``FINISH_REASONS``) or the
  service's own word, cleaned and short.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..sanitize import one_line


@dataclass(frozen=True)
class Reasoning:
    """A piece of the model's reasoning, before the reply (or between its pieces)."""

    text: str


@dataclass(frozen=True)
class Usage:
    """Tokens as the service counts them: the prompt it read and the reply it wrote, and
    of that reply, its reasoning (OpenAI's completion_tokens_details, Gemini's thoughts)."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None


@dataclass(frozen=True)
class Finish:
    """Why the reply ended: "stop", "length", "content_filter", "tool_calls", or another
    word the service used (cleaned, at most FINISH_WIDTH characters)."""

    reason: str


Part = Reasoning | Usage | Finish
Chunk = str | Part

FINISH_REASONS = ("stop", "length", "content_filter", "tool_calls")
FINISH_WIDTH = 40
# The words services use for the four reasons (OpenAI and its copies, Ollama, Anthropic's
# and Gemini's through proxies); anything else is kept as the service said it.
_SYNONYMS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "eos": "stop",
    "finish_reason_stop": "stop",
    "max_tokens": "length",
    "max_output_tokens": "length",
    "model_length": "length",
    "safety": "content_filter",
    "tool_use": "tool_calls",
    "function_call": "tool_calls",
}


def finish_of(raw: Any) -> Finish | None:
    """A Finish for a service's finish reason; None when it gave none (null, "", not text)."""
    if not isinstance(raw, str):
        return None
    word = one_line(raw, FINISH_WIDTH)
    if not word:
        return None
    key = word.lower()
    if key in FINISH_REASONS:
        return Finish(key)
    return Finish(_SYNONYMS.get(key, word))


def usage_of(input_tokens: Any, output_tokens: Any, reasoning_tokens: Any = None) -> Usage | None:
    """A Usage from the counts as they came in JSON; a value that is not a whole number
    of tokens (a bool, a string, negative, 4.5) counts as absent; None when all are. A
    reasoning count of 0 is absent too: proxies fill the field with 0 for a model whose
    reasoning they do not count, and the screen's estimate is better than "0 tokens"."""
    counted = Usage(_count(input_tokens), _count(output_tokens), _count(reasoning_tokens) or None)
    if counted == Usage():
        return None
    return counted


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if value != value or value < 0 or value in (float("inf"), float("-inf")):
        return None
    if isinstance(value, float):
        if not value.is_integer():
            return None
        value = int(value)
    return value

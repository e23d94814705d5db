"""The context budget: what of a long conversation is sent, so the model does not refuse it.

A conversation longer than the model's context is sent with its oldest turns left out:
never the system prompt, never the last prompt. Nothing is removed from the file; the
caller says on screen how many messages were left out. Tokens are estimated from
characters (about four a token for English): the service's own tokenizer is not at hand,
and an estimate a little high only leaves out a turn a little early. No Textual, no httpx.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

CHARS_PER_TOKEN = 4
PER_MESSAGE_TOKENS = 4  # a role and separators cost tokens even for an empty message
REPLY_SHARE = 4  # without max_tokens, a quarter of the context is kept for the reply...
REPLY_RESERVE_CAP = 4096  # ...but never more than this
# A reply longer than this is sent back cut, with a note (a runaway reply stopped at the
# 4-million-character bound would otherwise go with every later prompt, whole).
RESEND_LIMIT = 200_000
CONTEXT_OPTION = "context_tokens"  # [providers.NAME] context_tokens = N

# Context sizes of well-known models, in tokens, by the start of the model's name (the
# longest match wins): from each vendor's model pages, 2026. A provider's own
# ``context_tokens`` beats this table; a model in neither has no budget.
KNOWN_CONTEXT: dict[str, int] = {
    "gpt-4o": 128_000,
    "gpt-4.1": 1_047_576,
    "gpt-5": 400_000,
    "o3": 200_000,
    "o4-mini": 200_000,
    "claude": 200_000,
    "gemini-2.5": 1_048_576,
    "gemini-2.0": 1_048_576,
    "llama3.1": 131_072,
    "llama3.2": 131_072,
    "llama3.3": 131_072,
    "qwen2.5": 32_768,
    "qwen3": 40_960,
    "mistral": 32_768,
    "deepseek-r1": 131_072,
    "deepseek-chat": 65_536,
    "gemma3": 131_072,
}

Turn = Mapping[str, str]


@dataclass(frozen=True)
class Fitted:
    messages: list[dict[str, str]]
    left_out: int  # messages of the conversation not sent
    cut: int  # replies sent shortened (over RESEND_LIMIT)
    budget: int | None  # the tokens the conversation may take, None when unknown


def context_size(model: str, configured: object = None, reported: int | None = None) -> int | None:
    """The model's context in tokens: *configured* (``context_tokens``) when it is a
    positive whole number, else what the service *reported* (Ollama's /api/show), else the
    table's longest matching prefix, else None."""
    if isinstance(configured, int) and not isinstance(configured, bool) and configured > 0:
        return configured
    if reported:
        return reported
    name = model.lower().rpartition("/")[2]  # "openrouter/x/claude-3" is a claude
    matches = [prefix for prefix in KNOWN_CONTEXT if name.startswith(prefix)]
    return KNOWN_CONTEXT[max(matches, key=len)] if matches else None


def estimate(message: Turn) -> int:
    return len(message.get("content", "")) // CHARS_PER_TOKEN + PER_MESSAGE_TOKENS


def reply_reserve(context: int, max_tokens: object = None) -> int:
    """Tokens kept free for the reply: its max_tokens when set, else a share of the context."""
    if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens > 0:
        return min(max_tokens, context // 2)
    return min(context // REPLY_SHARE, REPLY_RESERVE_CAP)


def fit(history: Sequence[Turn], context: int | None, max_tokens: object = None) -> Fitted:
    """*history* (system messages first, the prompt last) as it should be sent."""
    messages, cut = _shorten_replies(history)
    if context is None or len(messages) < 2:
        return Fitted(messages, 0, cut, None)
    budget = max(context - reply_reserve(context, max_tokens), 0)
    head = 0
    while head < len(messages) and messages[head].get("role") == "system":
        head += 1
    system, middle, last = messages[:head], messages[head:-1], messages[-1:]
    total = sum(map(estimate, messages))
    dropped = 0
    while middle and total > budget:
        turn = _oldest_turn(middle)
        total -= sum(map(estimate, middle[:turn]))
        middle, dropped = middle[turn:], dropped + turn
    return Fitted([*system, *middle, *last], dropped, cut, budget)


def _oldest_turn(middle: list[dict[str, str]]) -> int:
    """How many messages the oldest turn holds: a prompt and the replies after it, so that
    what is sent still starts with a prompt."""
    end = 1
    while end < len(middle) and middle[end].get("role") != "user":
        end += 1
    return end


def _shorten_replies(history: Sequence[Turn]) -> tuple[list[dict[str, str]], int]:
    out: list[dict[str, str]] = []
    cut = 0
    for n, message in enumerate(history):
        content = message.get("content", "")
        is_reply = message.get("role") == "assistant" and n < len(history) - 1
        if is_reply and len(content) > RESEND_LIMIT:
            left = len(content) - RESEND_LIMIT
            content = f"{content[:RESEND_LIMIT]}\n\n[… {left} more characters not sent]"
            cut += 1
        out.append({**message, "content": content})
    return out, cut


def left_out_notice(fitted: Fitted, model: str) -> str:
    """What the screen and ``ask`` say about *fitted*; "" when all went whole."""
    said = []
    if fitted.left_out:
        plural = "s" if fitted.left_out > 1 else ""
        said.append(
            f"{fitted.left_out} earlier message{plural} left out to fit {model}'s context "
            f"(about {fitted.budget} tokens; they stay in the conversation)"
        )
    if fitted.cut:
        plural = "ies" if fitted.cut > 1 else "y"
        said.append(f"{fitted.cut} long repl{plural} sent shortened to {RESEND_LIMIT} characters")
    return "; ".join(said)

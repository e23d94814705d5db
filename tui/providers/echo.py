"""An offline provider: streams back a Markdown reply about the last user message.

It makes the app usable (and demonstrable) with no network and no key, and its output is
deterministic so screenshots and tests can depend on it. It sends every kind of part a
model sends (tui/providers/parts.py), so the offline app shows them all: a little
reasoning first, then the reply, then Usage (words counted as tokens) and Finish("stop")
(or "length" for a prompt with ``/length`` in it: see ``plan_reply``).
Generation parameters are accepted and ignored.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

from .base import Messages, Params, Provider, ProviderSettings
from .parts import Chunk, Finish, Reasoning, Usage

HUMAN_PACE = 0.03  # seconds per chunk for "echo": fast enough to read, slow enough to see
_QUOTE_LIMIT = 60  # characters of the message repeated inside the code sample
LENGTH_WORD = "/length"  # in a prompt: the reply stops half-way, at the "token limit"
CONTINUE_PROMPT = "Continue."  # tui/chat.py's; the core is not imported by a provider


class EchoProvider(Provider):
    kind = "echo"
    label = "Echo (offline)"
    url = ""
    needs_auth = False
    models = ("echo", "echo-fast")
    default_model = "echo"

    def __init__(self, settings: ProviderSettings | None = None) -> None:
        # Echo needs no settings; accepting none keeps demos and tests short.
        super().__init__(settings or ProviderSettings(name="echo", kind="echo"))

    async def _stream(
        self, model: str, messages: Messages, params: Params | None = None
    ) -> AsyncIterator[Chunk]:
        delay = self.delay_for(model)
        text, reply, finish = plan_reply(messages)
        thoughts = compose_reasoning(text)
        for thought in thoughts:
            await asyncio.sleep(delay)
            yield Reasoning(thought)
        for piece in split_words(reply):
            # sleep(0) still yields to the event loop, so the UI repaints between chunks
            await asyncio.sleep(delay)
            yield piece
        read = sum(len(str(m.get("content", "")).split()) for m in messages)
        # a word a token, the reasoning's among the reply's, as OpenAI counts them
        reasoned = sum(len(thought.split()) for thought in thoughts)
        yield Usage(read, len(reply.split()) + reasoned, reasoned or None)
        yield Finish(finish)

    def delay_for(self, model: str) -> float:
        """Seconds per chunk: options.delay wins, then the model's own pace."""
        configured = self.settings.options.get("delay")
        if configured is not None:
            return max(0.0, float(configured))
        return 0.0 if model == "echo-fast" else HUMAN_PACE


def plan_reply(messages: Messages) -> tuple[str, str, str]:
    """(the prompt, what to send, the finish reason). A prompt with LENGTH_WORD in it gets
    the first half of its reply, stopped at the "token limit", so the offline app shows a
    cut reply; CONTINUE_PROMPT after such a half gets the rest."""
    text = last_user_text(messages)
    if text == CONTINUE_PROMPT and len(messages) >= 3:
        asked = last_user_text(messages[:-2])
        so_far = str(messages[-2].get("content", ""))
        whole = compose_reply(asked)
        if whole.startswith(so_far):
            return asked, whole[len(so_far) :], "stop"
    reply = compose_reply(text)
    if LENGTH_WORD in text:
        words = split_words(reply)
        return text, "".join(words[: len(words) // 2]), "length"
    return text, reply, "stop"


def last_user_text(messages: Messages) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return message.get("content", "")
    return ""


def compose_reasoning(text: str) -> list[str]:
    """What echo "thinks" before it answers, in a few chunks; same input, same output."""
    words = len(text.split())
    return ["Reading the prompt… ", "counting words… ", f"{words} found; writing the reply."]


def compose_reply(text: str) -> str:
    """The Markdown reply: heading, quote, counts and a code sample; same input, same output."""
    if not text.strip():
        return "### Echo\n\nNothing to echo yet: type a message and press Enter.\n"
    quoted = "\n".join(f"> {line}" if line.strip() else ">" for line in text.splitlines())
    words = len(text.split())
    lines = len(text.splitlines())
    sample = " ".join(text.split())
    if len(sample) > _QUOTE_LIMIT:
        sample = sample[: _QUOTE_LIMIT - 1] + "…"
    return (
        "### Echo\n\n"
        "You wrote:\n\n"
        f"{quoted}\n\n"
        f"- words: {words}\n"
        f"- characters: {len(text)}\n"
        f"- lines: {lines}\n\n"
        "```python\n"
        f"message = {sample!r}\n"
        'print(len(message.split()), "words")\n'
        "```\n"
    )


def split_words(text: str) -> list[str]:
    """Word-sized chunks that join back to exactly *text* (whitespace rides with its word)."""
    return re.findall(r"\s*\S+\s*|\s+", text) if text else []

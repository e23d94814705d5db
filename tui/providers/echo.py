"""An offline provider: streams back a Markdown reply about the last user message.

It makes the app usable (and demonstrable) with no network and no key, and its output is
deterministic so screenshots and tests can depend on it. It sends every kind of part a
model sends (tui/providers/parts.py), so the offline app shows them all: a little
reasoning first, then the reply, then Usage (words counted as tokens) and Finish("stop").
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
        text = last_user_text(messages)
        reply = compose_reply(text)
        for thought in compose_reasoning(text):
            await asyncio.sleep(delay)
            yield Reasoning(thought)
        for piece in split_words(reply):
            # sleep(0) still yields to the event loop, so the UI repaints between chunks
            await asyncio.sleep(delay)
            yield piece
        read = sum(len(str(m.get("content", "")).split()) for m in messages)
        yield Usage(input_tokens=read, output_tokens=len(reply.split()))
        yield Finish("stop")

    def delay_for(self, model: str) -> float:
        """Seconds per chunk: options.delay wins, then the model's own pace."""
        configured = self.settings.options.get("delay")
        if configured is not None:
            return max(0.0, float(configured))
        return 0.0 if model == "echo-fast" else HUMAN_PACE


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

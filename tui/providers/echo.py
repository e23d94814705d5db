"""An offline provider: streams back a Markdown reply about the last user message.

It makes the app usable (and demonstrable) with no network and no key, and its output is
deterministic so screenshots and tests can depend on it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

from .base import Messages, Provider, ProviderSettings

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

    async def _stream(self, model: str, messages: Messages) -> AsyncIterator[str]:
        delay = self.delay_for(model)
        for piece in split_words(compose_reply(last_user_text(messages))):
            # sleep(0) still yields to the event loop, so the UI repaints between chunks
            await asyncio.sleep(delay)
            yield piece

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

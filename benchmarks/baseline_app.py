"""The baseline: the least a Textual chat client can be.

A ``VerticalScroll`` holding one ``Markdown`` widget, fed by ``Markdown.get_stream()`` from
an OpenAI-compatible server through ``httpx``, and an ``Input``; Enter sends. The
benchmarks run it beside chatterm on the same server and terminal.

    python benchmarks/baseline_app.py BASE_URL      (or BENCH_BASE_URL in the environment)
"""

from __future__ import annotations

import json
import os
import sys

import httpx
from textual import work
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Markdown

PLACEHOLDER = "Message — Enter sends"


class BaselineApp(App[None]):
    CSS = """
    VerticalScroll { height: 1fr; }
    Input { dock: bottom; }
    """

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown()
        yield Input(placeholder=PLACEHOLDER)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).anchor()  # follow the bottom as the reply grows
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        prompt = event.value
        event.input.clear()
        if prompt.strip():
            self.ask(prompt)

    @work(exclusive=True)
    async def ask(self, prompt: str) -> None:
        markdown = self.query_one(Markdown)
        await markdown.update("")
        stream = Markdown.get_stream(markdown)
        body = {
            "model": "bench-model",
            "messages": [{"role": "user", "content": prompt}],
            "stream": True,
        }
        try:
            async with (
                httpx.AsyncClient(timeout=60) as client,
                client.stream("POST", f"{self.base_url}/chat/completions", json=body) as response,
            ):
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    choices = json.loads(data).get("choices") or [{}]
                    text = (choices[0].get("delta") or {}).get("content")
                    if text:
                        await stream.write(text)
        finally:
            await stream.stop()


def main() -> None:
    base_url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("BENCH_BASE_URL", "")
    if not base_url:
        sys.exit("usage: baseline_app.py BASE_URL (or set BENCH_BASE_URL)")
    BaselineApp(base_url).run()


if __name__ == "__main__":
    main()

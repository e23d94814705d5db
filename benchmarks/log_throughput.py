"""CPU cost of streaming one long reply: MessageLog versus Textual's Markdown widget.

    .venv/bin/python benchmarks/log_throughput.py [--runs 5] [--rate 200]

Streams a ~12 KB Markdown reply in ~3,000 chunks into each widget in a headless app of
100x30 and prints the median CPU seconds (process time) over the runs. Without --rate the
chunks arrive as fast as the event loop takes them; with --rate N they are paced at N
chunks a second and the figure is also given as a fraction of one core.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

from textual.app import App, ComposeResult
from textual.widgets import Markdown

from tui.widgets.message_log import MessageLog

SECTION = """## Section {n}

Some explanation with **bold**, *italic*, `inline code` and a [link](https://example.com/{n}).
It runs over a couple of lines so that wrapping matters in a 100 column terminal window.

1. First point of section {n}
2. Second point, with a little more text to wrap
   - a nested bullet
   - and another one

```python
def function_{n}(value: int) -> int:
    # a comment
    return value * {n} + 1
```

| Name | Value |
|------|-------|
| a{n} | {n}   |
| b{n} | {n}1  |

"""


def make_reply(size: int = 12_000) -> str:
    parts = ["# A long answer\n\n"]
    n = 0
    while sum(map(len, parts)) < size:
        parts.append(SECTION.format(n=n))
        n += 1
    return "".join(parts)[:size]


def chunks(text: str, count: int = 3000) -> list[str]:
    step = max(1, len(text) // count)
    return [text[i : i + step] for i in range(0, len(text), step)]


class LogHost(App[None]):
    def compose(self) -> ComposeResult:
        yield MessageLog()


class MarkdownHost(App[None]):
    def compose(self) -> ComposeResult:
        yield Markdown()


async def _pace(index: int, started: float, rate: float | None) -> None:
    if rate is None:
        await asyncio.sleep(0)
        return
    delay = started + index / rate - time.perf_counter()
    await asyncio.sleep(max(0.0, delay))


async def run_log(parts: list[str], rate: float | None) -> tuple[float, float]:
    app = LogHost()
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.query_one(MessageLog)
        await pilot.pause()
        cpu, wall = time.process_time(), time.perf_counter()
        log.start_reply("bench", "model")
        for index, part in enumerate(parts):
            log.append(part)
            await _pace(index, wall, rate)
        log.finish_reply("complete")
        await pilot.pause()
        return time.process_time() - cpu, time.perf_counter() - wall


async def run_markdown(parts: list[str], rate: float | None) -> tuple[float, float]:
    app = MarkdownHost()
    async with app.run_test(size=(100, 30)) as pilot:
        markdown = app.query_one(Markdown)
        await pilot.pause()
        cpu, wall = time.process_time(), time.perf_counter()
        stream = Markdown.get_stream(markdown)
        for index, part in enumerate(parts):
            await stream.write(part)
            await _pace(index, wall, rate)
        text = "".join(parts)
        for _ in range(200):  # let the stream catch up before stopping it
            if markdown.source == text:
                break
            await pilot.pause(0.01)
        await stream.stop()
        await pilot.pause()
        return time.process_time() - cpu, time.perf_counter() - wall


def measure(
    name: str,
    runner: Callable[[list[str], float | None], Awaitable[tuple[float, float]]],
    parts: list[str],
    runs: int,
    rate: float | None,
) -> None:
    results = [asyncio.run(runner(parts, rate)) for _ in range(runs)]
    cpu = statistics.median(r[0] for r in results)
    wall = statistics.median(r[1] for r in results)
    line = f"{name:<22} CPU {cpu:6.2f} s   wall {wall:6.2f} s"
    if rate is not None:
        line += f"   {cpu / wall:4.2f} of a core"
    print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rate", type=float, default=None, help="chunks per second")
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    reply = make_reply()
    parts = chunks(reply)
    pace = f"{args.rate:g} chunks/s" if args.rate else "full speed"
    print(f"{len(reply):,} chars in {len(parts):,} chunks, {pace}, median of {args.runs}")
    measure("MessageLog", run_log, parts, args.runs, args.rate)
    if not args.skip_baseline:
        measure("Markdown.get_stream", run_markdown, parts, args.runs, args.rate)


if __name__ == "__main__":
    main()

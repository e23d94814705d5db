"""Streaming speed with reasoning on screen, against the code before reasoning was shown.

Issue 14's target: the full-speed and paced figures stay within 10 % of what they were
before reasoning, usage and finish reasons were parsed and drawn, with reasoning on
screen. So the same two streams go to both programs, alternating run by run:

- ``plain``: ``reply.md`` as ``run.py`` sends it (3,000 chunks; full speed, and 5 ms apart);
- ``reasoning``: the same, after ~2 KB of ``reasoning_content`` deltas (``run.REASONING``,
  ~360 events), as DeepSeek or vLLM send it.

Today's chatterm draws the reasoning (a folded line that counts time and tokens); the code
before (``--before DIR``, made with ``git archive COMMIT tui | tar -x -C DIR``) reads the
same events and drops them. Each cell is a median (min–max) over ``--runs``.

    python -m benchmarks.reasoning_speed [--runs 5] --before DIR
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from .run import (
    BEFORE_ENV,
    BY_KEY,
    CHATTERM_NAME,
    REASONING,
    REPLY_FILE,
    Bench,
    Sizes,
    TimedServer,
    _cell,
    _shortened,
    precompile,
    stream_full,
    stream_paced,
)

KEYS = ("full_time", "full_cpu", "paced_lag", "paced_cpu", "paced_bytes")
Results = dict[str, dict[str, list[float]]]  # figure -> column -> values


def measure(bench: Bench, folder: str) -> dict[str, float]:
    """One full-speed and one paced reply in the program *folder* names ("" for today's)."""
    os.environ[BEFORE_ENV] = folder
    try:
        values = stream_full(bench, CHATTERM_NAME) | stream_paced(bench, CHATTERM_NAME)
    finally:
        os.environ.pop(BEFORE_ENV, None)
    return {key: values[key] for key in KEYS}


def bench_for(tmp: Path, sizes: Sizes, reasoning: str) -> tuple[Bench, list[TimedServer]]:
    reply = REPLY_FILE.read_text("utf-8")
    paced_reply = _shortened(reply, sizes.paced_size)
    full = TimedServer(reply=reply, chunks=sizes.chunks, reasoning=reasoning)
    paced = TimedServer(
        reply=paced_reply, chunks=sizes.paced_chunks, delay=sizes.pace, reasoning=reasoning
    )
    return Bench(sizes, reply, paced_reply, full, paced, tmp), [full, paced]


def run(runs: int, before: str) -> Results:
    precompile()
    programs = [("today", "")] + ([("before", before)] if before else [])
    results: Results = {}
    with tempfile.TemporaryDirectory(prefix="chatterm-bench-") as tmp:
        benches = {"plain": bench_for(Path(tmp), Sizes(), "")}
        benches["reasoning"] = bench_for(Path(tmp), Sizes(), REASONING)
        servers = [server for _, started in benches.values() for server in started]
        for server in servers:
            server.__enter__()
        try:
            for index in range(runs):
                order = [(p, s) for p in programs for s in benches]
                for (program, folder), stream in order if index % 2 == 0 else order[::-1]:
                    values = measure(benches[stream][0], folder)
                    column = f"{program}, {stream}"
                    shown = ", ".join(f"{k} {v:.3f}" for k, v in values.items())
                    print(f"run {index + 1}/{runs} {column}: {shown}", file=sys.stderr, flush=True)
                    for key, value in values.items():
                        results.setdefault(key, {}).setdefault(column, []).append(value)
        finally:
            for server in servers:
                server.__exit__(None, None, None)
    return results


def report(results: Results) -> str:
    columns = list(next(iter(results.values())))
    lines = ["| figure | " + " | ".join(columns) + " | today with reasoning ÷ before |"]
    lines.append("|---" * (len(columns) + 2) + "|")
    for key, found in results.items():
        figure = BY_KEY[key]
        cells = [_cell(found[c], figure.unit) for c in columns]
        ours, theirs = found.get("today, reasoning"), found.get("before, reasoning")
        ratio = "—"
        if ours and theirs and statistics.median(theirs) > 0:
            ratio = f"{statistics.median(ours) / statistics.median(theirs):.2f}"
        lines.append(f"| {figure.label} | " + " | ".join(cells) + f" | {ratio} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.reasoning_speed", description=__doc__
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--before", type=Path, help="the tui package before issue 14, in DIR")
    args = parser.parse_args(argv)
    before = str(args.before.resolve()) if args.before else ""
    print(report(run(args.runs, before)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

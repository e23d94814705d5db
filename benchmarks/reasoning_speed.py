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

``--full-only`` leaves the paced reply out (a run takes ~2 s instead of ~35 s), for the
many pairs that full speed needs on a noisy machine; ``--scale K`` sends the reasoning K
times over, so a cost per reasoning event shows K times larger than the noise.

    python -m benchmarks.reasoning_speed [--runs 5] [--full-only] [--scale K] --before DIR
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

FULL_KEYS = ("full_time", "full_cpu")
KEYS = (*FULL_KEYS, "paced_lag", "paced_cpu", "paced_bytes")
Results = dict[str, dict[str, list[float]]]  # figure -> column -> values


def measure(bench: Bench, folder: str, full_only: bool = False) -> dict[str, float]:
    """One full-speed and one paced reply in the program *folder* names ("" for today's)."""
    os.environ[BEFORE_ENV] = folder
    try:
        values = stream_full(bench, CHATTERM_NAME)
        if not full_only:
            values |= stream_paced(bench, CHATTERM_NAME)
    finally:
        os.environ.pop(BEFORE_ENV, None)
    return {key: values[key] for key in (FULL_KEYS if full_only else KEYS)}


def bench_for(tmp: Path, sizes: Sizes, reasoning: str) -> tuple[Bench, list[TimedServer]]:
    reply = REPLY_FILE.read_text("utf-8")
    paced_reply = _shortened(reply, sizes.paced_size)
    full = TimedServer(reply=reply, chunks=sizes.chunks, reasoning=reasoning)
    paced = TimedServer(
        reply=paced_reply, chunks=sizes.paced_chunks, delay=sizes.pace, reasoning=reasoning
    )
    return Bench(sizes, reply, paced_reply, full, paced, tmp), [full, paced]


def run(runs: int, before: str, full_only: bool = False, scale: int = 1) -> Results:
    precompile()
    programs = [("today", "")] + ([("before", before)] if before else [])
    results: Results = {}
    with tempfile.TemporaryDirectory(prefix="chatterm-bench-") as tmp:
        benches = {"plain": bench_for(Path(tmp), Sizes(), "")}
        benches["reasoning"] = bench_for(Path(tmp), Sizes(), REASONING * scale)
        servers = [server for _, started in benches.values() for server in started]
        for server in servers:
            server.__enter__()
        try:
            for index in range(runs):
                order = [(p, s) for p in programs for s in benches]
                for (program, folder), stream in order if index % 2 == 0 else order[::-1]:
                    values = measure(benches[stream][0], folder, full_only)
                    column = f"{program}, {stream}"
                    shown = ", ".join(f"{k} {v:.3f}" for k, v in values.items())
                    print(f"run {index + 1}/{runs} {column}: {shown}", file=sys.stderr, flush=True)
                    for key, value in values.items():
                        results.setdefault(key, {}).setdefault(column, []).append(value)
        finally:
            for server in servers:
                server.__exit__(None, None, None)
    return results


def _paired(ours: list[float], theirs: list[float]) -> str:
    """The median of run-by-run ratios. This VM's speed drifts by half over minutes (other
    tenants); the two programs run next to each other in each run, so their ratio there
    cancels most of the drift that a ratio of two medians keeps."""
    ratios = [a / b for a, b in zip(ours, theirs, strict=True) if b > 0]
    return f"{statistics.median(ratios):.2f}" if ratios else "—"


def report(results: Results) -> str:
    columns = list(next(iter(results.values())))
    lines = [
        "| figure | "
        + " | ".join(columns)
        + " | today with reasoning ÷ before: medians | run by run | plain, run by run |"
    ]
    lines.append("|---" * (len(columns) + 4) + "|")
    for key, found in results.items():
        figure = BY_KEY[key]
        cells = [_cell(found[c], figure.unit) for c in columns]
        ours, theirs = found.get("today, reasoning"), found.get("before, reasoning")
        ratio = paired = plain = "—"
        if ours and theirs and statistics.median(theirs) > 0:
            ratio = f"{statistics.median(ours) / statistics.median(theirs):.2f}"
            paired = _paired(ours, theirs)
            plain = _paired(found["today, plain"], found["before, plain"])
        lines.append(
            f"| {figure.label} | " + " | ".join(cells) + f" | {ratio} | {paired} | {plain} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.reasoning_speed", description=__doc__
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--before", type=Path, help="the tui package before issue 14, in DIR")
    parser.add_argument("--full-only", action="store_true", help="no paced reply")
    parser.add_argument("--scale", type=int, default=1, help="the reasoning, K times over")
    args = parser.parse_args(argv)
    before = str(args.before.resolve()) if args.before else ""
    print(report(run(args.runs, before, args.full_only, max(1, args.scale))))
    return 0


if __name__ == "__main__":
    sys.exit(main())

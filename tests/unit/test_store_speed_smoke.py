"""The store benchmark runs and reports every figure; it never asserts a time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.store_speed import FIGURES, NO_BASELINE

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_quick_store_benchmark_reports_every_figure_old_and_new() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.store_speed", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode == NO_BASELINE:
        pytest.skip(done.stderr.strip())  # a shallow clone holds no old store to measure
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| figure | before (the single-module store) | tui.store |")
    for figure in FIGURES:
        label = figure.label.format(messages="100", sessions="200")
        [row] = [r for r in rows if r.startswith(f"| {label} |")]
        assert row.count(" s") >= 2, row  # a time for each store

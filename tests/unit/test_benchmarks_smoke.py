"""The benchmark harness runs and reports; it never asserts a time (CI machines are noisy)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.run import FIGURES
from tests.pty_driver import Screen

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_quick_run_writes_a_table_with_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    command = [sys.executable, "-m", "benchmarks.run", "--quick", "--only", "stream_full,cli"]
    done = subprocess.run(
        [*command, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    text = out.read_text("utf-8")
    assert "| figure | chatterm | baseline | ratio | target | met |" in text
    rows = {line.split(" | ")[0].lstrip("| "): line for line in text.splitlines()}
    for figure in FIGURES:
        assert figure.label in rows, f"no row for {figure.label}"
    measured = [rows[f.label] for f in FIGURES if f.key in ("cold_start", "full_bytes", "version")]
    for row in measured:
        assert "not run" not in row and (" s " in row or " × " in row), row
    assert "not run" in rows[next(f.label for f in FIGURES if f.key == "echo")]
    assert "Machine:" in text and "Textual" in text


def test_screen_model_places_text_where_the_terminal_would() -> None:
    screen = Screen(20, 4)
    screen.feed(b"\x1b[2;3H\x1b[1;31mhello\x1b[0m world\x1b[4;1Hbottom")
    screen.feed(b"\x1b[2;9")  # a sequence cut by a read: finished by the next one
    screen.feed("Hé—x\x1b]8;;http://a\x07\x1b[1;1H\x1b[2Kend".encode())
    rows = screen.text().splitlines()
    assert rows[0].rstrip() == "end"
    assert rows[1].rstrip() == "  hello é—xld"
    assert rows[3].rstrip() == "bottom"


def test_reasoning_speed_pairs_runs_rather_than_dividing_medians() -> None:
    """Each run's two programs share the machine's speed at that moment: "run by run" is
    the median of the runs' own ratios, beside the ratio of the two columns' medians."""
    from benchmarks.reasoning_speed import report

    rows = report(
        {
            "full_time": {
                "today, plain": [1.0, 2.0, 4.0],
                "today, reasoning": [1.0, 3.0, 2.0],  # runs: 1.0/2.0, 3.0/2.0, 2.0/1.0
                "before, plain": [1.0, 2.0, 4.0],
                "before, reasoning": [2.0, 2.0, 1.0],
            }
        }
    ).splitlines()
    assert "medians | run by run | plain, run by run |" in rows[0]
    # medians 2.0 / 2.0; the runs' ratios 0.5, 1.5, 2.0; plain 1.0 in every run
    assert rows[2].endswith("| 1.00 | 1.50 | 1.00 |"), rows[2]

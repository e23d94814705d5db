"""SessionStore speed: the store before the package split against ``tui.store``, in one run.

    python -m benchmarks.store_speed [--runs 7] [--quick] [--append FILE]

The baseline is ``tui/store.py`` as it was before it became the ``tui/store/`` package,
read from git history (``benchmarks/baseline_code.py``), so both are measured on the same
machine, data and moment; the runs alternate between them. Data: the cached
folders of ``datasets.py`` (a conversation of 1,000 mixed-Markdown messages of ~2 KB, 5,000
short conversations), that conversation rewritten by tomli-w (every text an escaped one-line
string, as another tool writes it), and a scratch copy of the 5,000 for the cold runs.

The figures: ``load`` of the conversation; ``list`` with its index (warm) and without
(cold: the index and the search cache removed first); ``search`` for a word no
conversation holds (every conversation looked at), warm and on the first search; and
``chatterm sessions list`` from spawn to exit, the same command run with either store
swapped in. Each cell is the median (min–max) of the runs. ``--append`` adds the table to a
results file as a section of its own.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import tomli_w

import tui.store as new_store

from . import datasets
from .baseline_code import BaselineMissing, load
from .run import machine, precompile

ROOT = Path(__file__).resolve().parent.parent
ABSENT = "zqabsentword"  # in no conversation: a search must look at every one
OLD, NEW = "baseline", "tui.store"
NO_BASELINE = 3  # exit status when git history lacks the old store
# The real command line, with the store of the first argument swapped in before it imports.
LAUNCH = (
    "import sys\n"
    "if sys.argv[1] == 'baseline':\n"
    "    from benchmarks.baseline_code import load\n"
    "    sys.modules['tui.store'] = load('store')\n"
    "from tui.__main__ import main\n"
    "sys.exit(main(['sessions', 'list']))\n"
)


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    target: str
    limit: float | None = None  # seconds the new store's median must stay under


FIGURES = [
    Figure("load_ours", "load {messages} messages, chatterm's layout", "as fast"),
    Figure("load_tomli_w", "load {messages} messages, tomli-w's escaped strings", "as fast"),
    Figure("list_warm", "list {sessions} sessions, with the index", "(CLI ≤ 0.3 s)"),
    Figure("list_cold", "list {sessions} sessions, no index", "≤ 2 s", 2.0),
    Figure("search_warm", "search {sessions} sessions (F3 filter), warm", "≤ 0.5 s", 0.5),
    Figure("search_cold", "search {sessions} sessions, the first search", "—"),
    Figure("cli_warm", "`chatterm sessions list`, {sessions}, spawn → exit", "≤ 0.3 s", 0.3),
    Figure("cli_cold", "`chatterm sessions list`, {sessions}, no index", "≤ 2 s", 2.0),
]  # fmt: skip


@dataclass(frozen=True)
class Data:
    saved: Path  # sessions folder holding datasets.SAVED_ID in chatterm's layout
    rewritten: Path  # the same conversation as tomli-w writes it
    many: Path  # sessions folder of the many conversations (scratch: may be changed)
    sessions: int


def build_data(tmp: Path, messages: int, sessions: int) -> Data:
    saved = tmp / "saved" / "sessions"
    shutil.copytree(datasets.saved_conversation(messages) / "sessions", saved)
    rewritten = tmp / "rewritten" / "sessions"
    rewritten.mkdir(parents=True)
    name = f"{datasets.SAVED_ID}.toml"
    doc = tomllib.loads((saved / name).read_text("utf-8"))
    (rewritten / name).write_text(tomli_w.dumps(doc), "utf-8")
    many = tmp / "many" / "sessions"
    shutil.copytree(datasets.many_sessions(sessions) / "sessions", many)
    for folder in (saved, rewritten, many):
        as_schema_1(folder)
    return Data(saved, rewritten, many, sessions)


def as_schema_1(folder: Path) -> None:
    """Declare schema 1 in every file of *folder*: the old store refuses a later one, and
    these files hold nothing schema 1 lacks (no alternatives), so both read the same text."""
    for path in folder.glob("*.toml"):
        path.write_bytes(path.read_bytes().replace(b"schema = 2\n", b"schema = 1\n", 1))


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def forget(folder: Path) -> None:
    """Remove what the stores keep beside the sessions: the next run starts cold."""
    for name in (new_store.INDEX_NAME, new_store.SEARCH_NAME):
        (folder / name).unlink(missing_ok=True)


def in_process(store: ModuleType, data: Data) -> dict[str, float]:
    """The store's own figures, in this process (each with a new SessionStore)."""
    saved, rewritten = store.SessionStore(data.saved), store.SessionStore(data.rewritten)
    many = data.many
    forget(many)
    values = {"list_cold": timed(store.SessionStore(many).list)}
    values["list_warm"] = timed(store.SessionStore(many).list)
    values["search_cold"] = timed(lambda: store.SessionStore(many).search(ABSENT))
    values["search_warm"] = timed(lambda: store.SessionStore(many).search(ABSENT))
    values["load_ours"] = timed(lambda: saved.load(datasets.SAVED_ID))
    values["load_tomli_w"] = timed(lambda: rewritten.load(datasets.SAVED_ID))
    return values


def command_line(which: str, data: Data, tmp: Path) -> dict[str, float]:
    """``chatterm sessions list`` with the *which* store, without and then with its index."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp),
        "CHATTERM_CONFIG": str(tmp / "no-config.toml"),  # missing: the defaults
        "CHATTERM_DATA_DIR": str(data.many.parent),
        "XDG_STATE_HOME": str(tmp / "state"),
    }

    def run() -> float:
        argv = [sys.executable, "-c", LAUNCH, which]
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, timeout=120)
        elapsed = time.perf_counter() - start
        if done.returncode != 0 or done.stdout.count(b"\n") < data.sessions:
            raise RuntimeError(f"{which}: sessions list failed: {done.stderr.decode()[-800:]}")
        return elapsed

    forget(data.many)
    return {"cli_cold": run(), "cli_warm": run()}


def measure(data: Data, runs: int, tmp: Path, log: Callable[[str], None]) -> dict:
    results: dict[str, dict[str, list[float]]] = {}
    stores = [(OLD, load("store")), (NEW, new_store)]
    for run in range(runs):
        for which, store in stores if run % 2 == 0 else stores[::-1]:  # alternate the order
            values = in_process(store, data) | command_line(which, data, tmp)
            for key, value in values.items():
                results.setdefault(key, {}).setdefault(which, []).append(value)
        log(f"run {run + 1}/{runs} done")
    return results


def _seconds(value: float) -> str:
    return f"{value:.3f}" if value < 1 else f"{value:.2f}"


def _cell(values: list[float]) -> str:
    if len(values) == 1:
        return f"{_seconds(values[0])} s"
    low, high = _seconds(min(values)), _seconds(max(values))
    return f"{_seconds(statistics.median(values))} s ({low}–{high} s)"


def table(results: dict[str, dict[str, list[float]]], messages: int, sessions: int) -> str:
    lines = [
        "| figure | before (the single-module store) | tui.store | new ÷ before | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for figure in FIGURES:
        old, new = results[figure.key][OLD], results[figure.key][NEW]
        ratio = statistics.median(new) / statistics.median(old)
        met = "—"
        if figure.limit is not None:
            met = "met" if statistics.median(new) <= figure.limit else "**missed**"
        label = figure.label.format(messages=f"{messages:,}", sessions=f"{sessions:,}")
        cells = [label, _cell(old), _cell(new), f"{ratio:.2f}", figure.target, met]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report(results: dict, runs: int, messages: int, sessions: int, started: datetime) -> str:
    return "\n".join(
        [
            "## Session store (issue: speed of load, list and search)",
            "",
            f"`python -m benchmarks.store_speed --runs {runs}` ({started:%Y-%m-%d %H:%M} UTC). "
            f"Machine: {machine()}.",
            f"Data: one conversation of {messages:,} messages (~2 KB each), in chatterm's "
            f"layout and rewritten by tomli-w; {sessions:,} short conversations. Before: "
            "`tui/store.py` at 52b45a4 (the single-module store, from git); after: `tui.store`; "
            "the runs alternate between them. Cells: median (min–max) of the runs.",
            "",
            table(results, messages, sessions),
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="1 run, small inputs")
    parser.add_argument("--append", type=Path, help="add the table to this results file")
    args = parser.parse_args(argv)
    runs, messages, sessions = (1, 100, 200) if args.quick else (args.runs, 1000, 5000)
    try:
        load("store")
    except BaselineMissing as err:  # a shallow clone: there is nothing to compare with
        print(f"store_speed: no baseline: {err}", file=sys.stderr)
        return NO_BASELINE
    started = datetime.now(UTC)
    precompile()
    with tempfile.TemporaryDirectory(prefix="store-speed-") as folder:
        tmp = Path(folder)
        data = build_data(tmp, messages, sessions)
        results = measure(data, runs, tmp, lambda line: print(line, file=sys.stderr))
    text = report(results, runs, messages, sessions, started)
    print(text)
    if args.append:
        with args.append.open("a", encoding="utf-8") as out:
            out.write("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What crosses an SSH link: the figures of "a quiet link", chatterm only.

Run through ``python -m benchmarks.run --only quiet_link`` (or on its own, below). In the
real app in a 100x30 pty, against the paced loopback server of ``run.py`` (``reply.md``,
12 KB in 3,000 chunks 5 ms apart, ~200 chunks/s), counting every byte the app writes:

- idle: the app open and left alone (after start-up has gone quiet), bytes a second over
  ``IDLE_SECONDS``: with ``SSH_CONNECTION`` set, without it (the cursor blinks), and over
  SSH with the old behaviour put back by its settings (``cursor_blink = true``,
  ``redraw = "full"``) as the baseline;
- scrolled up: the paced reply streaming while the reader is at the top of the log
  (ctrl+l, Home), bytes a second over ``SCROLLED_SECONDS``; and with ``redraw = "full"``;
- paced: Enter → the reply's last line on the screen, bytes written ÷ the reply's size and
  the app's CPU share: default, ``--low-bandwidth``, and ``redraw = "full"`` with
  ``cursor_blink = true`` (Textual's own output: the baseline).

    python -m benchmarks.quiet_link [--runs 3] [--before DIR]

On its own it prints a table of medians (min–max); ``--before DIR`` also runs the same
scenarios, alternating with today's, on the ``tui`` package in DIR (made with
``git archive COMMIT tui | tar -x -C DIR``): the code before, which knows none of the new
settings (SSH_CONNECTION, --low-bandwidth and the old ways change nothing there).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.pty_driver import CHATTERM, PtyApp

from .run import (
    BEFORE_ENV,
    BY_KEY,
    CTRL_L,
    END_MARK,
    FIRST_TEXT,
    HOME,
    READY,
    REPLY_FILE,
    Bench,
    Sizes,
    TimedServer,
    _cell,
    _cpu_since,
    _send_prompt,
    chatterm_env,
    precompile,
)

SSH = "10.0.0.1 51000 10.0.0.2 22"
IDLE_SECONDS = 5.0
SCROLLED_SECONDS = 4.0
OLD_WAYS = 'cursor_blink = true\nredraw = "full"\n'  # the behaviour before, by its settings


def _start(bench: Bench, config: str = "", *args: str, ssh: bool = False) -> PtyApp:
    """chatterm on the paced server, *config* put before the file's tables."""
    env = chatterm_env(bench, bench.paced.base_url)
    path = Path(env["CHATTERM_CONFIG"])
    path.write_text(config + path.read_text("utf-8"), "utf-8")
    if ssh:
        env["SSH_CONNECTION"] = SSH
    argv = [CHATTERM, *args]
    if before := os.environ.get(BEFORE_ENV):
        env["PYTHONPATH"] = before  # its tui is found first
        argv = [sys.executable, "-m", "tui", *args]
    return PtyApp(argv, env, cwd=str(bench.tmp), controlling_terminal=False)


def _quiet(pty: PtyApp, quiet: float = 0.4, timeout: float = 15) -> None:
    """Wait until the app has written nothing for *quiet* seconds (start-up is over)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        size = len(pty.output)
        last = pty.written_at(size - 1) if size else None
        if last is not None and time.perf_counter() - last >= quiet:
            return
        time.sleep(0.05)


def _rate(pty: PtyApp, seconds: float) -> float:
    before, started = len(pty.output), time.perf_counter()
    pty.settle(seconds)
    return (len(pty.output) - before) / (time.perf_counter() - started)


def idle(bench: Bench, config: str = "", ssh: bool = False) -> float:
    pty = _start(bench, config, ssh=ssh)
    try:
        pty.wait_on_screen(READY, 30)
        _quiet(pty)
        return _rate(pty, IDLE_SECONDS)
    finally:
        pty.close(b"\x11")


def scrolled(bench: Bench, config: str = "") -> float:
    pty = _start(bench, config)
    try:
        pty.wait_on_screen(READY, 30)
        _send_prompt(pty)
        pty.wait_on_screen(FIRST_TEXT, 30)
        pty.settle(2.0)  # the reply is past the first screen
        pty.send(CTRL_L)
        pty.settle(0.2)
        pty.send(HOME)
        pty.wait_on_screen("hello", 10)  # the prompt, at the top of the log again
        pty.settle(0.5)  # the scroll's own repaint is not counted
        return _rate(pty, SCROLLED_SECONDS)
    finally:
        pty.close(b"\x11")


def paced(bench: Bench, config: str = "", *args: str) -> tuple[float, float]:
    """(bytes ÷ the reply's size, CPU share) from Enter to the last line on the screen."""
    pty = _start(bench, config, *args)
    try:
        pty.wait_on_screen(READY, 30)
        pty.settle(0.3)
        enter = _send_prompt(pty)
        cpu0 = pty.cpu_seconds()
        bytes0 = pty.bytes_before(enter)
        end = pty.wait_on_screen(END_MARK, 120)
        cpu = _cpu_since(pty, cpu0)
    finally:
        pty.close(b"\x11")
    return (end.bytes - bytes0) / bench.paced_bytes, cpu / (end.time - enter)


def quiet_link(bench: Bench, app: str) -> dict[str, float]:
    """Every figure of the quiet link (``app`` is always chatterm)."""
    low = () if os.environ.get(BEFORE_ENV) else ("--low-bandwidth",)
    values = {
        "link_idle_ssh": idle(bench, ssh=True),
        "link_idle_local": idle(bench),
        "link_idle_old": idle(bench, OLD_WAYS, ssh=True),
        "link_scrolled": scrolled(bench),
        "link_scrolled_full": scrolled(bench, 'redraw = "full"\n'),
    }
    values["link_paced"], values["link_paced_cpu"] = paced(bench)
    values["link_paced_low"], values["link_paced_low_cpu"] = paced(bench, "", *low)
    values["link_paced_old"], _ = paced(bench, OLD_WAYS)
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quiet_link", description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", type=Path, help="also run the tui package in this folder")
    args = parser.parse_args(argv)
    precompile()
    apps: list[tuple[str, str]] = [("chatterm", "")]
    if args.before:
        apps.append(("before", str(args.before.resolve())))
    reply = REPLY_FILE.read_text("utf-8")
    sizes = Sizes()
    results: dict[str, dict[str, list[float]]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="chatterm-bench-") as tmp,
        TimedServer(reply=reply, chunks=sizes.chunks) as full,
        TimedServer(reply=reply, chunks=sizes.paced_chunks, delay=sizes.pace) as server,
    ):
        bench = Bench(sizes, reply, reply, full, server, Path(tmp))
        for run in range(args.runs):
            for name, folder in apps if run % 2 == 0 else apps[::-1]:  # who goes first alternates
                os.environ[BEFORE_ENV] = folder
                values = quiet_link(bench, name)
                shown = ", ".join(f"{k} {v:.2f}" for k, v in values.items())
                print(f"run {run + 1}/{args.runs} {name}: {shown}", file=sys.stderr, flush=True)
                for key, value in values.items():
                    results.setdefault(key, {}).setdefault(name, []).append(value)
    os.environ.pop(BEFORE_ENV, None)
    print("| figure | chatterm | before | target | met |\n|---|---|---|---|---|")
    for key, found in results.items():
        figure = BY_KEY[key]
        ours = statistics.median(found["chatterm"])
        met = "—" if figure.target == "—" else "met" if figure.met(ours, None) else "**missed**"
        before = _cell(found.get("before"), figure.unit)
        cells = [figure.label, _cell(found["chatterm"], figure.unit), before, figure.target, met]
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

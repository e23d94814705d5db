"""After a hangup, nothing keeps chatterm alive once its reply is saved: a shutdown stuck on
the dead terminal is ended by the watchdog, and a reply still streaming is waited for."""

from __future__ import annotations

import subprocess
import sys
import time

SCRIPT = """
import sys, threading, time
from tui.signals import exit_when_idle
busy_until = time.monotonic() + float(sys.argv[1])
exit_when_idle(lambda: time.monotonic() < busy_until, grace=0.3, code=0)
print("waiting", flush=True)
threading.Event().wait()  # a shutdown that never ends
"""


def run(busy_seconds: float) -> tuple[int, float]:
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(busy_seconds)], capture_output=True, timeout=60
    )
    assert b"waiting" in done.stdout
    return done.returncode, time.monotonic() - start


def test_a_hung_up_process_stuck_in_shutdown_ends_once_idle() -> None:
    code, _ = run(0)
    assert code == 0


def test_the_watchdog_waits_while_a_reply_is_still_streaming() -> None:
    code, elapsed = run(1.5)
    assert code == 0 and elapsed >= 1.5 + 0.3

"""Run a command in a pseudo-terminal and keep every byte it writes to the terminal.

The injection tests need the exact bytes a terminal would receive (not what Textual's
test pilot renders), and the kill tests need the real process. ``PtyProcess`` starts the
command with a pty as its controlling terminal (100×30, TERM=xterm-256color by default),
reads the master side in a thread so the child never blocks on a full pty buffer, and
offers ``wait_for`` (on the bytes, or on the text with escape sequences stripped), ``send``,
``kill`` and ``close``.

The child is started through a two-line Python trampoline that makes the pty its
controlling terminal (``TIOCSCTTY``) before exec: ``preexec_fn`` is unsafe in a test process
that runs server threads, and ``pty.fork`` is too.
"""

from __future__ import annotations

import fcntl
import os
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

CHATTERM = str(Path(sys.executable).with_name("chatterm"))

# A CSI, OSC (BEL or ST ended), DCS/SOS/PM/APC, or two-byte escape: what a screen-text view drops.
_ESCAPES = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[\]P^_X].*?(?:\x07|\x1b\\)|\x1b[ -/]*[0-~]", re.DOTALL
)
_TRAMPOLINE = (
    "import fcntl, os, sys, termios\n"
    "fcntl.ioctl(0, termios.TIOCSCTTY, 0)\n"
    "os.execvpe(sys.argv[1], sys.argv[1:], os.environ)\n"
)


def visible(data: bytes) -> str:
    """The text in *data* with escape sequences removed (a rough view of what was drawn)."""
    return _ESCAPES.sub(b"", data).decode("utf-8", "replace")


class PtyProcess:
    """``PtyProcess(argv, env)``; use as a context manager so the child never outlives a test."""

    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        *,
        cols: int = 100,
        rows: int = 30,
        cwd: str | Path | None = None,
    ) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        full_env = {"TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows), **env}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _TRAMPOLINE, *argv],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=full_env,
            cwd=cwd,
            start_new_session=True,  # setsid: the pty can become its controlling terminal
            close_fds=True,
        )
        os.close(slave)
        self.started = time.monotonic()
        self.killed_at: float | None = None  # when kill() sent its signal
        self._data = bytearray()
        self._marks: list[tuple[float, int]] = []  # (when read, bytes so far)
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, name="pty-reader", daemon=True)
        self._reader.start()

    # -- reading ----------------------------------------------------------------------------
    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: every writer of the slave side has gone
                return
            if not chunk:
                return
            with self._lock:
                self._data += chunk
                self._marks.append((time.monotonic(), len(self._data)))

    @property
    def output(self) -> bytes:
        """Every byte written to the terminal so far."""
        with self._lock:
            return bytes(self._data)

    def output_before(self, moment: float) -> bytes:
        """What had been written to the terminal by *moment* (a time.monotonic value)."""
        with self._lock:
            size = max((n for when, n in self._marks if when <= moment), default=0)
            return bytes(self._data[:size])

    def written_at(self, offset: int) -> float | None:
        """When the byte at *offset* of ``output`` had arrived; None if it never did."""
        with self._lock:
            return next((when for when, n in self._marks if n > offset), None)

    @property
    def text(self) -> str:
        return visible(self.output)

    def wait_for(self, test: Callable[[PtyProcess], bool], timeout: float = 20.0) -> None:
        """Poll *test* until it holds; on timeout fail with the visible text."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if test(self):
                return
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        if test(self):
            return
        raise AssertionError(
            f"the terminal never showed what was awaited (exit {self.proc.poll()}); "
            f"visible text:\n{self.text[-3000:]}"
        )

    def wait_for_text(self, *needles: str, timeout: float = 20.0) -> None:
        self.wait_for(lambda p: all(n in p.text for n in needles), timeout)

    # -- writing and ending -----------------------------------------------------------------
    def send(self, data: bytes | str) -> None:
        """Keys, as a terminal sends them (b"\\r" is Enter, b"\\x11" is ctrl+q)."""
        os.write(self.master, data.encode() if isinstance(data, str) else data)

    def wait(self, timeout: float = 20.0) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(timeout)
        return code

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc.poll() is None:
            self.killed_at = time.monotonic()
            self.proc.send_signal(sig)

    def close(self) -> None:
        self.kill()
        try:
            self.proc.wait(10)
        finally:
            self._reader.join(2)
            try:
                os.close(self.master)
            except OSError:
                pass

    def __enter__(self) -> PtyProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

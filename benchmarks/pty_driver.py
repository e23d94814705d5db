"""Run a terminal app in a pseudo-terminal and watch its screen, as a user would see it.

``PtyApp`` starts a command on a pty of a fixed size (TERM=xterm-256color), reads every byte
it writes from a background thread (timestamped, counted) and feeds them to ``Screen``, a
small VT100 model that understands what Textual sends: cursor moves, erases, text runs,
with SGR, private modes and OSC strings skipped. ``wait_text`` returns the moment (the
arrival time of the bytes) at which a text first stood on the screen; ``cpu_seconds`` and
``rss_mb`` read the app's own process from ``/proc``.
"""

from __future__ import annotations

import codecs
import contextlib
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# One token: a CSI sequence, an OSC/DCS/APC string, a two-byte escape, a control, or text.
_TOKEN = re.compile(
    r"\x1b\[([0-?]*)[ -/]*([@-~])"
    r"|\x1b[\]P_^][^\x07\x1b]*(?:\x07|\x1b\\)"
    r"|\x1b[()*+#%][0-~]"
    r"|\x1b[0-~]"
    r"|([\x00-\x1a\x1c-\x1f\x7f])"
    r"|([^\x00-\x1f\x7f]+)"
)
# An escape sequence cut off by the end of a read: kept until the rest arrives.
_PARTIAL = re.compile(r"\x1b(?:\[[0-?]*[ -/]*|[\]P_^][^\x07\x1b]*\x1b?|[()*+#%])?\Z")


class Screen:
    """The text of a terminal screen (no colours): enough to tell what a user can read."""

    def __init__(self, columns: int, lines: int) -> None:
        self.columns = columns
        self.lines = lines
        self.rows = [[" "] * columns for _ in range(lines)]
        self.x = 0
        self.y = 0
        self.saved = (0, 0)
        self._pending = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def text(self) -> str:
        return "\n".join("".join(row) for row in self.rows)

    def feed(self, data: bytes) -> None:
        text = self._pending + self._decoder.decode(data)
        cut = _PARTIAL.search(text)
        if cut is not None:
            text, self._pending = text[: cut.start()], text[cut.start() :]
        else:
            self._pending = ""
        for match in _TOKEN.finditer(text):
            run = match.group(4)
            if run is not None:
                self._write(run)
            elif match.group(3) is not None:
                self._control(match.group(3))
            elif match.group(2) is not None:
                self._csi(match.group(1), match.group(2))
            else:
                self._escape(match.group(0))

    # -- text ---------------------------------------------------------------------------
    def _write(self, run: str) -> None:
        if not run.isascii():
            for char in run:
                if unicodedata.combining(char):
                    continue
                wide = unicodedata.east_asian_width(char) in ("W", "F")
                self._put(char + ("\0" if wide else ""))
            return
        self._put(run)

    def _put(self, run: str) -> None:
        while run:
            if self.x >= self.columns:  # deferred wrap: only when the next cell is written
                self.x = 0
                self._linefeed()
            count = min(len(run), self.columns - self.x)
            self.rows[self.y][self.x : self.x + count] = run[:count]
            self.x += count
            run = run[count:]

    def _linefeed(self) -> None:
        if self.y == self.lines - 1:
            self.rows.pop(0)
            self.rows.append([" "] * self.columns)
        else:
            self.y += 1

    def _control(self, char: str) -> None:
        if char == "\r":
            self.x = 0
        elif char in "\n\x0b\x0c":
            self._linefeed()
        elif char == "\b":
            self.x = max(0, self.x - 1)
        elif char == "\t":
            self.x = min(self.columns - 1, (self.x // 8 + 1) * 8)

    def _escape(self, sequence: str) -> None:
        if sequence == "\x1b7":
            self.saved = (self.x, self.y)
        elif sequence == "\x1b8":
            self.x, self.y = self.saved
        elif sequence == "\x1bc":
            self._erase(0, self.lines, 0, self.columns)
            self.x = self.y = 0

    # -- CSI ----------------------------------------------------------------------------
    def _csi(self, params: str, final: str) -> None:
        if params[:1] in ("?", ">", "<", "="):
            return  # private modes (cursor, mouse, sync output...): nothing on the screen
        numbers = [int(p) if p.isdigit() else 0 for p in params.split(";")] if params else []

        def arg(index: int, default: int = 1) -> int:
            value = numbers[index] if index < len(numbers) else 0
            return value or default

        if final in "Hf":
            self.y = min(self.lines - 1, arg(0) - 1)
            self.x = min(self.columns - 1, arg(1) - 1)
        elif final == "A":
            self.y = max(0, self.y - arg(0))
        elif final in "Be":
            self.y = min(self.lines - 1, self.y + arg(0))
        elif final in "Ca":
            self.x = min(self.columns - 1, self.x + arg(0))
        elif final == "D":
            self.x = max(0, min(self.x, self.columns - 1) - arg(0))
        elif final in "G`":
            self.x = min(self.columns - 1, arg(0) - 1)
        elif final == "d":
            self.y = min(self.lines - 1, arg(0) - 1)
        elif final == "J":
            self._erase_display(numbers[0] if numbers else 0)
        elif final == "K":
            self._erase_line(numbers[0] if numbers else 0)
        elif final == "X":
            x = min(self.x, self.columns - 1)
            self._erase(self.y, self.y + 1, x, min(self.columns, x + arg(0)))

    def _erase(self, top: int, bottom: int, left: int, right: int) -> None:
        for y in range(top, bottom):
            self.rows[y][left:right] = [" "] * (right - left)

    def _erase_display(self, mode: int) -> None:
        x = min(self.x, self.columns)
        if mode == 0:
            self._erase(self.y, self.y + 1, x, self.columns)
            self._erase(self.y + 1, self.lines, 0, self.columns)
        elif mode == 1:
            self._erase(0, self.y, 0, self.columns)
            self._erase(self.y, self.y + 1, 0, min(self.columns, x + 1))
        else:
            self._erase(0, self.lines, 0, self.columns)

    def _erase_line(self, mode: int) -> None:
        x = min(self.x, self.columns)
        if mode == 0:
            self._erase(self.y, self.y + 1, x, self.columns)
        elif mode == 1:
            self._erase(self.y, self.y + 1, 0, min(self.columns, x + 1))
        else:
            self._erase(self.y, self.y + 1, 0, self.columns)


@dataclass(frozen=True)
class Hit:
    """When a wait was satisfied: the arrival time of the deciding bytes, and the byte
    count written by the app up to and including them."""

    time: float
    bytes: int


class PtyApp:
    """One app in a pty: ``start``, ``send``, ``wait_text``, ``close`` (always, in finally)."""

    def __init__(
        self,
        argv: Sequence[str],
        env: dict[str, str],
        *,
        columns: int = 100,
        lines: int = 30,
        cwd: str | None = None,
    ) -> None:
        self.argv = list(argv)
        self.env = dict(env, TERM="xterm-256color", COLUMNS=str(columns), LINES=str(lines))
        self.cwd = cwd
        self.columns, self.lines = columns, lines
        self.screen = Screen(columns, lines)
        self.process: subprocess.Popen[bytes] | None = None
        self.started = 0.0
        self._fd = -1
        self._chunks: list[tuple[float, bytes]] = []
        self._fed = 0  # chunks already fed to the screen
        self._fed_bytes = 0
        self._total = 0
        self._lock = threading.Condition()
        self._reader: threading.Thread | None = None
        self._eof = False

    # -- life -----------------------------------------------------------------------------
    def start(self) -> float:
        """Spawn the app; returns the launch time (``time.perf_counter``)."""
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", self.lines, self.columns, 0, 0))
        self._fd = master
        self.started = time.perf_counter()
        try:
            self.process = subprocess.Popen(
                self.argv,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
                close_fds=True,
            )
        finally:
            os.close(slave)
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        return self.started

    def _read_loop(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self._fd], [], [], 0.2)
                if not ready:
                    if self.process is not None and self.process.poll() is not None:
                        break
                    continue
                data = os.read(self._fd, 1 << 16)
            except OSError:  # EIO: the app closed the terminal
                break
            if not data:
                break
            now = time.perf_counter()
            with self._lock:
                self._chunks.append((now, data))
                self._total += len(data)
                self._lock.notify_all()
        with self._lock:
            self._eof = True
            self._lock.notify_all()

    def close(self, quit_keys: bytes = b"\x11", timeout: float = 5.0) -> None:
        """Ask the app to quit with *quit_keys*, then terminate or kill it if it lingers."""
        process = self.process
        if process is not None and process.poll() is None:
            with contextlib.suppress(OSError):
                self.send(quit_keys)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(2)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait(2)
        if self._reader is not None:
            self._reader.join(2)
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> PtyApp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- input ----------------------------------------------------------------------------
    def send(self, data: bytes | str) -> float:
        """Write keys to the app; returns the time they were written."""
        raw = data.encode() if isinstance(data, str) else data
        now = time.perf_counter()
        os.write(self._fd, raw)
        return now

    # -- output ---------------------------------------------------------------------------
    @property
    def bytes_written(self) -> int:
        """Every byte the app has written to the terminal so far."""
        with self._lock:
            return self._total

    def bytes_before(self, when: float) -> int:
        """Bytes the app had written by time *when* (``time.perf_counter``)."""
        with self._lock:
            return sum(len(data) for arrived, data in self._chunks if arrived <= when)

    def wait(self, predicate: Callable[[str], bool], timeout: float, what: str = "") -> Hit:
        """Feed the screen chunk by chunk until *predicate(screen text)* holds."""
        deadline = time.perf_counter() + timeout
        while True:
            with self._lock:
                fresh = self._chunks[self._fed :]
                self._fed = len(self._chunks)
                eof = self._eof
            for when, data in fresh:
                self.screen.feed(data)
                self._fed_bytes += len(data)
                if predicate(self.screen.text()):
                    return Hit(when, self._fed_bytes)
            if eof:
                raise TimeoutError(f"app exited before {what or 'the wait'}:\n{self.screen.text()}")
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise TimeoutError(f"no {what or 'match'} in {timeout} s:\n{self.screen.text()}")
            with self._lock:
                if len(self._chunks) == self._fed and not self._eof:
                    self._lock.wait(min(remaining, 0.05))

    def wait_text(self, text: str, timeout: float = 30.0) -> Hit:
        return self.wait(lambda screen: text in screen, timeout, repr(text))

    def wait_gone(self, text: str, timeout: float = 30.0) -> Hit:
        return self.wait(lambda screen: text not in screen, timeout, f"{text!r} to go")

    def settle(self, seconds: float) -> None:
        """Let the app run for *seconds* (its output keeps being read)."""
        time.sleep(seconds)

    # -- the process, from /proc -------------------------------------------------------------
    def cpu_seconds(self) -> float:
        """User + system CPU time of the app's process so far."""
        assert self.process is not None
        with open(f"/proc/{self.process.pid}/stat") as file:
            stat = file.read()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime

    def rss_mb(self) -> float:
        """Resident memory of the app's process (VmRSS), in MB."""
        assert self.process is not None
        with open(f"/proc/{self.process.pid}/status") as file:
            for line in file:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

"""Run a terminal app in a pseudo-terminal and watch what it writes, as a terminal would.

The one driver of the tests (tests/reliability need the exact bytes a terminal receives,
and the real process to signal) and the benchmarks (which time when a text first stands
on the screen). ``PtyApp(argv, env)`` starts the command at once, like ``subprocess.Popen``,
on a pty of a fixed size (TERM=xterm-256color), and a thread reads every byte it writes,
so the child never blocks on a full pty buffer. Each read is timestamped with
``time.perf_counter``, the one clock of this module.

- Everything written: ``output`` (the bytes), ``text`` (escape sequences removed: a rough
  view of all that was ever drawn), ``wait_written``, ``output_before``, ``written_at``.
- The screen now: ``screen``, a small VT100 model (no colours) that understands what
  Textual sends: cursor moves, erases, text runs, with SGR, private modes and OSC strings
  skipped. ``wait_on_screen`` and ``wait_screen`` feed it read by read and return a
  ``Hit``: the arrival time of the bytes after which the text first stood there.
- The process: ``send``, ``kill``, ``hang_up``, ``wait``, ``close``; ``cpu_seconds`` and
  ``rss_mb`` read it from ``/proc``.

By default the pty becomes the child's controlling terminal, as under a terminal emulator
or sshd (so that hanging up sends SIGHUP): a two-line Python trampoline calls
``TIOCSCTTY`` before exec, since ``preexec_fn`` is unsafe in a process that runs server
threads, and ``pty.fork`` is too. The benchmarks pass ``controlling_terminal=False``: the
trampoline's interpreter start would count in their start-up times.
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
import sys
import termios
import threading
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

CHATTERM = str(Path(sys.executable).with_name("chatterm"))  # the installed command
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# A CSI, OSC (BEL or ST ended), DCS/SOS/PM/APC, or two-byte escape: what `visible` drops.
_ESCAPES = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[\]P^_X].*?(?:\x07|\x1b\\)|\x1b[ -/]*[0-~]", re.DOTALL
)
# One token of the screen model: a CSI sequence, an OSC/DCS/APC string, a two-byte escape,
# a control, or text.
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
_TRAMPOLINE = (
    "import fcntl, os, sys, termios\n"
    "fcntl.ioctl(0, termios.TIOCSCTTY, 0)\n"
    "os.execvpe(sys.argv[1], sys.argv[1:], os.environ)\n"
)


def visible(data: bytes) -> str:
    """The text in *data* with escape sequences removed (a rough view of what was drawn)."""
    return _ESCAPES.sub(b"", data).decode("utf-8", "replace")


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
    """When a wait on the screen was satisfied: the arrival time of the deciding bytes, and
    the byte count written by the app up to and including them."""

    time: float
    bytes: int


class PtyApp:
    """``PtyApp(argv, env)``, used as a context manager so the child never outlives its user
    (``close`` ends it: with *quit_keys* first if given, else at once)."""

    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        *,
        columns: int = 100,
        lines: int = 30,
        cwd: str | Path | None = None,
        controlling_terminal: bool = True,
    ) -> None:
        self.columns, self.lines = columns, lines
        self.screen = Screen(columns, lines)
        self.killed_at: float | None = None  # when kill() sent its signal
        self._data = bytearray()
        self._marks: list[tuple[float, int]] = []  # (when read, bytes so far), one per read
        self._fed = 0  # reads fed to the screen so far
        self._changed = threading.Condition()  # notified on each read, and at the end
        self._ended = threading.Event()  # set (holding _changed) once the last byte is read
        full_env = dict(env, TERM="xterm-256color", COLUMNS=str(columns), LINES=str(lines))
        command = list(argv)
        if controlling_terminal:
            command = [sys.executable, "-c", _TRAMPOLINE, *command]
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        self.started = time.perf_counter()
        try:
            self.process = subprocess.Popen(
                command,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=full_env,
                cwd=cwd,
                start_new_session=True,  # setsid: the pty can become its controlling terminal
                close_fds=True,
            )
        except BaseException:
            os.close(self.master)
            raise
        finally:
            os.close(slave)
        self._reader = threading.Thread(target=self._read, name="pty-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        master = self.master
        while True:
            try:
                ready, _, _ = select.select([master], [], [], 0.2)
                if not ready:
                    if self.process.poll() is not None:
                        break
                    continue
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every writer of the slave side has gone
                break
            if not chunk:
                break
            with self._changed:
                self._data += chunk
                self._marks.append((time.perf_counter(), len(self._data)))
                self._changed.notify_all()
        with self._changed:
            self._ended.set()
            self._changed.notify_all()

    # -- everything written -----------------------------------------------------------------
    @property
    def output(self) -> bytes:
        """Every byte written to the terminal so far."""
        with self._changed:
            return bytes(self._data)

    @property
    def text(self) -> str:
        """Every text written so far, escape sequences removed (``visible``)."""
        return visible(self.output)

    def bytes_before(self, moment: float) -> int:
        """How many bytes had been written to the terminal by *moment* (perf_counter)."""
        with self._changed:
            return max((n for when, n in self._marks if when <= moment), default=0)

    def output_before(self, moment: float) -> bytes:
        """What had been written to the terminal by *moment* (perf_counter)."""
        size = self.bytes_before(moment)
        with self._changed:
            return bytes(self._data[:size])

    def written_at(self, offset: int) -> float | None:
        """When the byte at *offset* of ``output`` had arrived; None if it never did."""
        with self._changed:
            return next((when for when, n in self._marks if n > offset), None)

    def wait_written(self, *needles: str, timeout: float = 20.0) -> None:
        """Wait until every one of *needles* has been written (is in ``text``); fail with
        the text on timeout, or once the app has ended without writing them."""
        deadline = time.perf_counter() + timeout
        while True:
            ended = self._ended.is_set()  # before the check: then the last bytes are in it
            if all(needle in self.text for needle in needles):
                return
            remaining = deadline - time.perf_counter()
            if ended or remaining <= 0:
                raise AssertionError(
                    f"the terminal never showed {needles!r} (exit {self.process.poll()}); "
                    f"visible text:\n{self.text[-3000:]}"
                )
            self._ended.wait(min(remaining, 0.05))  # a poll: `text` is costly to rebuild

    # -- the screen now -------------------------------------------------------------------
    def wait_screen(self, predicate: Callable[[str], bool], timeout: float, what: str) -> Hit:
        """Feed the screen read by read, from where the last wait left it, until
        *predicate(screen text)* holds after one of them."""
        deadline = time.perf_counter() + timeout
        while True:
            ended = self._ended.is_set()  # before the feed: then the last read is in it
            if hit := self._feed(predicate):
                return hit
            if ended:
                raise AssertionError(f"app exited before {what}:\n{self.screen.text()}")
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise AssertionError(f"no {what} in {timeout} s:\n{self.screen.text()}")
            with self._changed:
                if len(self._marks) == self._fed and not self._ended.is_set():
                    self._changed.wait(min(remaining, 0.05))

    def wait_on_screen(self, text: str, timeout: float = 30.0) -> Hit:
        return self.wait_screen(lambda screen: text in screen, timeout, repr(text))

    def wait_gone(self, text: str, timeout: float = 20.0) -> None:
        """Wait until *text* is off the screen, judged on the screen as it is now (a screen
        closing), not at some earlier moment."""
        self._feed(lambda screen: False)
        if text in self.screen.text():
            self.wait_screen(lambda screen: text not in screen, timeout, f"{text!r} to go")

    def _feed(self, predicate: Callable[[str], bool]) -> Hit | None:
        """Feed the reads not fed yet to the screen, one by one; the first after which
        *predicate* holds stops it (the rest wait for the next call)."""
        with self._changed:
            start = self._marks[self._fed - 1][1] if self._fed else 0
            fresh: list[tuple[float, int, bytes]] = []
            for when, end in self._marks[self._fed :]:
                fresh.append((when, end, bytes(self._data[start:end])))
                start = end
        for when, end, chunk in fresh:
            self.screen.feed(chunk)
            self._fed += 1
            if predicate(self.screen.text()):
                return Hit(when, end)
        return None

    # -- input and the process ------------------------------------------------------------
    def send(self, data: bytes | str) -> float:
        """Keys, as a terminal sends them (b"\\r" is Enter, b"\\x11" is ctrl+q); returns when
        they were written."""
        raw = data.encode() if isinstance(data, str) else data
        now = time.perf_counter()
        os.write(self.master, raw)
        return now

    def settle(self, seconds: float) -> None:
        """Let the app run for *seconds* (its output keeps being read): for the benchmarks,
        which measure an app left alone. Tests wait for what they expect instead."""
        time.sleep(seconds)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process.poll() is None:
            self.killed_at = time.perf_counter()
            self.process.send_signal(sig)

    def hang_up(self) -> None:
        """What sshd does when the connection drops: SIGHUP, and the terminal goes away.
        /dev/null takes the master's place, so that the reader ends and ``close`` has
        something to close."""
        self.kill(signal.SIGHUP)
        with open(os.devnull, "rb") as null:
            os.dup2(null.fileno(), self.master)

    def wait(self, timeout: float = 20.0) -> int:
        """Wait for the process to end; its exit code."""
        code = self.process.wait(timeout)
        self._reader.join(timeout)
        return code

    def close(self, quit_keys: bytes | None = None, timeout: float = 5.0) -> None:
        """End the app: with *quit_keys* given, send them and give it *timeout* seconds,
        then SIGTERM; whatever still runs is killed (its whole process group)."""
        if quit_keys is not None and self.process.poll() is None:
            with contextlib.suppress(OSError):
                self.send(quit_keys)
            if not self._ended_within(timeout):
                self._signal_group(signal.SIGTERM)
                self._ended_within(2)
        if self.process.poll() is None:
            self._signal_group(signal.SIGKILL)
        try:
            self.process.wait(10)
        finally:
            self._reader.join(2)
            if self.master >= 0:
                with contextlib.suppress(OSError):
                    os.close(self.master)
                self.master = -1

    def _ended_within(self, seconds: float) -> bool:
        try:
            self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            return False
        return True

    def _signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def __enter__(self) -> PtyApp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the process, from /proc ----------------------------------------------------------
    def cpu_seconds(self) -> float:
        """User + system CPU time of the app's process so far."""
        with open(f"/proc/{self.process.pid}/stat") as file:
            stat = file.read()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime

    def rss_mb(self) -> float:
        """Resident memory of the app's process (VmRSS), in MB."""
        with open(f"/proc/{self.process.pid}/status") as file:
            for line in file:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

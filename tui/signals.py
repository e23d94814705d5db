"""What a signal does to a reply in flight, for the app and ``chatterm ask``. No Textual.

- SIGHUP (an SSH drop, a closed terminal window): the terminal is gone, the reply is not.
  The terminal's descriptors are pointed at /dev/null at once, so nothing more is drawn on
  a dead terminal and no write fails; the reply streams on to its end (request_timeout and
  the reply bound still hold), is saved ``complete``, and the process exits.
- SIGTERM, and SIGINT for ``ask``: the reply stops and its partial text is saved
  ``cancelled`` (the caller cancels the task that streams it).

SIGINT is handled whatever disposition the process inherited: a shell without job
control starts background commands with SIGINT ignored, and asyncio.run then installs no
handler, so `kill -INT` (or ctrl+c reaching a script's job) was silently dropped and the
reply ran to its end with exit 0.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import termios
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from types import FrameType

TERMINAL_FDS = (0, 1, 2)


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


class Terminal:
    """The standard descriptors that were a terminal at start, and a way to let go of them.

    They are noted at start because a hung-up terminal no longer answers isatty().
    """

    def __init__(self) -> None:
        self.ttys = [fd for fd in TERMINAL_FDS if _isatty(fd)]
        self.detached = False
        self._keep: int | None = None

    def gone(self) -> bool:
        """Detached, or a terminal descriptor no longer answers (hung up)."""
        if self.detached:
            return True
        for fd in self.ttys:
            try:
                termios.tcgetattr(fd)
            except (termios.error, OSError):
                return True
        return False

    def detach(self) -> bool:
        """Point every terminal descriptor at /dev/null (stdin at an empty non-blocking pipe,
        so a reader neither spins on end-of-file nor blocks). True the first time."""
        if self.detached:
            return False
        self.detached = True
        null = os.open(os.devnull, os.O_RDWR)
        quiet_in, self._keep = os.pipe()  # the write end stays open: never end-of-file
        # Non-blocking: a reader that saw the terminal readable just before the swap (Textual's
        # input thread) gets EAGAIN and ends, instead of blocking in read() for ever and
        # holding the process open at exit; select() on the empty pipe never fires, so
        # nothing spins either.
        os.set_blocking(quiet_in, False)
        try:
            for fd in self.ttys:
                os.dup2(quiet_in if fd == 0 else null, fd)
        finally:
            os.close(null)
            os.close(quiet_in)
        return True


def exit_when_idle(busy: Callable[[], bool], grace: float, code: int = 0) -> threading.Thread:
    """After a hangup: end the process *grace* seconds after *busy()* turns false, should
    the normal shutdown not have ended it by then. A hung-up process has nobody to show
    anything to, so nothing must keep it alive once its reply is saved; the normal exit
    takes milliseconds, and this is the net under it (a shutdown stuck on the dead
    terminal once held a test's process for 30 s). Flushes stdio first; the store's writes
    are synchronous, so nothing saved is lost."""

    def watch() -> None:
        idle_since: float | None = None
        while True:
            time.sleep(0.2)
            try:
                working = busy()
            except RuntimeError:  # read from this thread while the loop changed it: again
                working = True
            if working:
                idle_since = None
                continue
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= grace:
                with suppress(Exception):
                    sys.stdout.flush()
                    sys.stderr.flush()
                os._exit(code)

    thread = threading.Thread(target=watch, name="chatterm-hangup-watchdog", daemon=True)
    thread.start()
    return thread


class ReplySignals:
    """Installs the handlers for as long as the ``with`` block runs, then restores them.

    *on_hangup* runs in the event loop after the terminal was detached (in the signal
    handler itself, before any more output); *on_stop* runs in the loop with the signal
    number for SIGTERM (and SIGINT when *interrupt* is set).
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        on_hangup: Callable[[], None],
        on_stop: Callable[[int], None],
        interrupt: bool = False,
        terminal: Terminal | None = None,
    ) -> None:
        self.loop = loop
        self.on_hangup = on_hangup
        self.on_stop = on_stop
        self.terminal = terminal or Terminal()
        self.stops = [signal.SIGTERM, *([signal.SIGINT] if interrupt else [])]
        self._old_hangup: object = None

    @property
    def hung_up(self) -> bool:
        return self.terminal.detached

    def _hangup(self, _signum: int, _frame: FrameType | None) -> None:
        # A plain handler, not loop.add_signal_handler: it runs at once in the main thread,
        # even while the loop is busy, so the next frame already goes to /dev/null.
        if self.terminal.detach():
            self.loop.call_soon_threadsafe(self.on_hangup)

    def hangup_now(self) -> None:
        """The terminal turned out to be gone (a write or read failed with EIO) before
        SIGHUP arrived: act as if it had."""
        self._hangup(signal.SIGHUP, None)

    def __enter__(self) -> ReplySignals:
        self._old_hangup = signal.signal(signal.SIGHUP, self._hangup)
        for sig in self.stops:
            self.loop.add_signal_handler(sig, self.on_stop, sig)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig in self.stops:
            self.loop.remove_signal_handler(sig)
        signal.signal(signal.SIGHUP, self._old_hangup)  # type: ignore[arg-type]

"""What the link to the terminal is given: the one decision, from the environment, config.toml
and the command line. No Textual here (the app applies it: tui/app.py).

Over SSH every byte the app writes crosses the network, so with ``SSH_CONNECTION`` set the
app goes into low-bandwidth mode by itself: fewer frames while a reply streams, a slower
status line, no animations, no cursor blink. ``--low-bandwidth`` / ``--no-low-bandwidth``
beat ``low_bandwidth`` in config.toml, which beats the environment. ``cursor_blink``, when
set, beats the mode; unset, the cursor blinks unless the mode is on. ``mouse`` chooses what
the terminal reports: "clicks" (clicks, drags and the wheel: the default), "on" (every
movement too, for hover effects) or "off" (nothing: the terminal's own selection works).
``redraw`` = "changes" (the default) sends only the cells that changed (tui/screen_diff.py),
locally too: a terminal drawing a local app's frames pays for every byte as well; "full"
sends what Textual draws, whole, for a terminal that does not keep what it was sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

MOUSE_MODES = ("clicks", "on", "off")
REDRAW_MODES = ("changes", "full")
DEFAULT_MOUSE = "clicks"
DEFAULT_REDRAW = "changes"

STREAM_FPS = 10  # frames a second while a reply streams (tui/widgets/message_log.py)
LOW_STREAM_FPS = 4
STATUS_INTERVAL = 0.25  # seconds between redraws of the live speed in the status line
LOW_STATUS_INTERVAL = 1.0


@dataclass(frozen=True)
class Link:
    """What applies: every field is decided, nothing is left to be worked out."""

    low_bandwidth: bool
    why: str  # what switched low-bandwidth mode on or off, for the settings screen
    cursor_blink: bool
    mouse: str  # one of MOUSE_MODES
    redraw: str  # one of REDRAW_MODES
    stream_fps: int
    status_interval: float
    animations: bool


def over_ssh(env: Mapping[str, str]) -> bool:
    """sshd sets SSH_CONNECTION in every session it starts (and tmux passes it on)."""
    return bool(env.get("SSH_CONNECTION", "").strip())


def decide(
    env: Mapping[str, str],
    *,
    low_bandwidth: bool | None = None,
    cursor_blink: bool | None = None,
    mouse: str | None = None,
    redraw: str | None = None,
    flag: bool | None = None,
) -> Link:
    """The link settings for *env* and the config's values (None: unset), with *flag* the
    command line's ``--low-bandwidth`` (True), ``--no-low-bandwidth`` (False) or neither."""
    if flag is not None:
        low, why = flag, "--low-bandwidth" if flag else "--no-low-bandwidth"
    elif low_bandwidth is not None:
        low, why = low_bandwidth, f"low_bandwidth = {str(low_bandwidth).lower()}"
    elif over_ssh(env):
        low, why = True, "SSH_CONNECTION is set"
    else:
        low, why = False, "not over SSH"
    return Link(
        low_bandwidth=low,
        why=why,
        cursor_blink=(not low) if cursor_blink is None else cursor_blink,
        mouse=mouse if mouse in MOUSE_MODES else DEFAULT_MOUSE,
        redraw=_redraw(redraw),
        stream_fps=LOW_STREAM_FPS if low else STREAM_FPS,
        status_interval=LOW_STATUS_INTERVAL if low else STATUS_INTERVAL,
        animations=not low,
    )


def _redraw(chosen: str | None) -> str:
    return chosen if chosen in REDRAW_MODES else DEFAULT_REDRAW

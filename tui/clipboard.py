"""Copies through the terminal (OSC 52): how big one may be, and the file to use instead.

Textual's ``App.copy_to_clipboard`` writes the whole text as one OSC 52 sequence,
``ESC ] 52 ; c ; <base64 of the UTF-8> BEL``. A terminal that finds the sequence too long
drops it without a word, so the app must not say "Copied" for it. The default limit is
tmux's: ``INPUT_BUF_LIMIT`` in tmux's input.c is 1048576 bytes (1 MiB) for the whole
string of an OSC sequence, and past it the parser sets ``INPUT_DISCARD`` and throws the
sequence away (tmux 3.x; since 3.5 the ``input-buffer-size`` server option, same default).
xterm, kitty, foot, WezTerm and iTerm2 take at least that much, and chatterm often runs
inside tmux or screen over SSH, so 1 MiB is what "common terminals accept". A user whose
terminal takes more (or less: hterm/ChromeOS stops at 100,000 bytes) sets ``copy_limit``
(bytes of the OSC 52 sequence) at the top of config.toml.

No Textual here: the screen asks, this module answers and writes files.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import Any

# tmux input.c: "#define INPUT_BUF_LIMIT 1048576" (see the module docstring).
DEFAULT_COPY_LIMIT = 1_048_576
CONFIG_KEY = "copy_limit"
_PREFIX = len("\x1b]52;c;")
_SUFFIX = len("\a")


def osc52_size(text: str) -> int:
    """Bytes of the OSC 52 sequence Textual writes for *text*."""
    encoded = len(text.encode("utf-8", "surrogatepass"))
    return _PREFIX + 4 * ((encoded + 2) // 3) + _SUFFIX


def copy_limit(document: Mapping[str, Any] | None) -> int:
    """``copy_limit`` from the config file as read; the default when absent or unusable.

    A bad value (not a positive whole number) falls back to the default rather than
    stopping the app: the limit only decides whether to offer a file instead.
    """
    value = (document or {}).get(CONFIG_KEY)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return DEFAULT_COPY_LIMIT


def fits(text: str, limit: int) -> bool:
    """True if the terminal takes *text* whole in one OSC 52 sequence."""
    return osc52_size(text) <= limit


def too_big_message(text: str, what: str, limit: int) -> str:
    """What the user reads when a copy is refused (the figures, so they can act on them)."""
    return (
        f"The {what} is {len(text):,} characters, more than the terminal takes over OSC 52 "
        f"(limit {limit:,} bytes, this needs {osc52_size(text):,}): nothing was copied."
    )


def copies_folder(data_root: Path) -> Path:
    """Where written copies go: ``copies/`` in chatterm's data folder."""
    return data_root / "copies"


def write_copy(text: str, folder: Path, what: str = "reply") -> Path:
    """Write *text* to a new file in *folder* (mode 0600) and return its path.

    Atomic: the text goes to a temporary file made with O_EXCL (``mkstemp``, so never
    through a symlink planted under its name), flushed, then renamed into place; a rename
    replaces a symlink at the target rather than following it. The folder itself must not
    be a symlink, so the file cannot land somewhere the user did not choose.
    """
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.is_symlink() or not folder.is_dir():
        raise OSError(f"{folder} is not a plain folder")
    stem = "".join(ch if ch.isalnum() else "-" for ch in what) or "copy"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    fd, temp = tempfile.mkstemp(prefix=f".{stem}-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        target = _free_name(folder, f"{stem}-{stamp}", ".md")
        os.replace(temp, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(temp)
        raise
    return target


def _free_name(folder: Path, stem: str, suffix: str) -> Path:
    target = folder / f"{stem}{suffix}"
    number = 2
    while os.path.lexists(target):
        target = folder / f"{stem}-{number}{suffix}"
        number += 1
    return target

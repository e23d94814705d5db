"""The prompt in the user's own editor ($VISUAL, else $EDITOR). No Textual here: the screen
suspends the app around ``edit_text``."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path

from .sanitize import clean


class EditorError(Exception):
    """Why the text did not come back; the prompt keeps what it held."""


def editor_command() -> list[str]:
    """``$VISUAL`` else ``$EDITOR``, split as a shell would ("code --wait" is two words)."""
    for name in ("VISUAL", "EDITOR"):
        if value := os.environ.get(name, "").strip():
            try:
                return shlex.split(value)
            except ValueError as err:
                raise EditorError(f"${name} cannot be read as a command ({err})") from None
    raise EditorError("No editor set: export VISUAL or EDITOR (e.g. EDITOR=vim) and try again.")


def edit_text(text: str) -> str:
    """Open *text* in the editor and return what was saved (one trailing newline dropped:
    editors add one). Raises EditorError when the editor is missing or exits non-zero."""
    command = editor_command()
    # mkstemp: mode 0600 in the user's temp folder, since the prompt may be private
    fd, name = tempfile.mkstemp(prefix="chatterm-prompt-", suffix=".md")
    path = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        try:
            code = subprocess.call([*command, str(path)])
        except OSError as err:
            raise EditorError(f"Could not start {command[0]}: {err.strerror or err}") from None
        if code != 0:
            raise EditorError(f"{command[0]} exited with status {code}; the prompt is unchanged.")
        edited = path.read_text("utf-8", errors="replace")
    finally:
        path.unlink(missing_ok=True)
    # An editor can leave anything in the file: control sequences never reach the prompt
    return clean(edited[:-1] if edited.endswith("\n") else edited)

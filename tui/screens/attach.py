"""ctrl+f: a file's path, typed with Tab completion; Enter attaches it to the next prompt.

The path is completed as a shell does (``tui.attachments.complete``): ``~`` expands, a
folder gets a trailing ``/``, and when several names fit they are listed under the path.
Enter on a folder goes into it; on a file, reads and checks it (size, text, no secret:
``tui.attachments.read_file``) and closes with it, or says why not and stays open. Esc
closes without attaching (and stops nothing: a reply streaming behind goes on).
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from .. import attachments
from ..attachments import AttachmentError, Loaded
from ..sanitize import one_line
from ..services import Services

SHOWN_MATCHES = 60  # names listed under the path; the rest are counted
HINT = "Tab completes · Enter attaches · Esc closes"


class AttachScreen(ModalScreen[Loaded | None]):
    """``AttachScreen(services)``: dismissed with the file read, or None."""

    BINDINGS = [
        Binding("escape", "close", "Close"),
        # In place of Screen's Tab (focus the next widget). Not a priority binding: that runs
        # as the key arrives, before the letters typed just ahead of it reach the field.
        Binding("tab", "complete", "Complete"),
    ]

    def __init__(self, services: Services, cwd: Path | None = None) -> None:
        super().__init__()
        self.services = services
        self.cwd = cwd or _current_folder()

    def compose(self) -> ComposeResult:
        with Vertical(id="attach-box") as box:
            box.border_title = "Attach a file"
            box.border_subtitle = HINT
            path = Input(id="attach-path", compact=True)
            path.placeholder = "path of a text file, e.g. ~/notes.md"
            yield path
            yield Static(id="attach-matches", markup=False)
            yield Static(id="attach-message", markup=False)

    def on_mount(self) -> None:
        limit = attachments.human_size(attachments.limit_bytes(self.limit_kb))
        self._message(f"In {one_line(str(self.cwd), 60)} · text files up to {limit}")
        self.query_one("#attach-matches").display = False
        self.path_input.focus()

    @property
    def path_input(self) -> Input:
        return self.query_one("#attach-path", Input)

    @property
    def limit_kb(self) -> int:
        return self.services.config.attachment_limit

    def _message(self, text: str, *, error: bool = False) -> None:
        message = self.query_one("#attach-message", Static)
        message.set_class(error, "-error")
        message.update(Text(one_line(text, 400)))

    def _list(self, completion: attachments.Completion) -> None:
        matches = self.query_one("#attach-matches", Static)
        names = completion.matches
        if len(names) < 2:
            matches.display = False
            return
        shown = "   ".join(one_line(name, 80) for name in names[:SHOWN_MATCHES])
        if len(names) > SHOWN_MATCHES:
            shown += f"   … and {len(names) - SHOWN_MATCHES} more"
        matches.update(Text(shown))
        matches.display = True

    # -- keys -----------------------------------------------------------------------------
    def action_complete(self) -> None:
        field = self.path_input
        completion = attachments.complete(field.value, self.cwd)
        if completion.text != field.value:
            field.value = completion.text
        field.cursor_position = len(field.value)
        self._list(completion)
        if not completion.matches:
            self._message("Nothing there starts with that.", error=True)
        elif len(completion.matches) > 1:
            self._message(f"{len(completion.matches)} names fit: type more, then Tab.")
        else:
            self._message(HINT)

    @on(Input.Submitted, "#attach-path")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value
        if text.strip() and attachments.expand(text, self.cwd).is_dir():
            if not text.endswith("/"):
                self.path_input.value = text + "/"
            self.action_complete()  # into the folder: its names listed
            return
        limit = attachments.limit_bytes(self.limit_kb)
        try:
            loaded = attachments.read_file(
                text, limit=limit, secrets=self.services.config.secrets(), cwd=self.cwd
            )
        except AttachmentError as err:
            self._message(str(err), error=True)
            self.notify(str(err), title="Not attached", severity="error", markup=False)
            return
        self.dismiss(loaded)

    def action_close(self) -> None:
        self.dismiss(None)


def _current_folder() -> Path:
    """Where relative paths start: the folder chatterm was started in (home if it is gone)."""
    try:
        return Path.cwd()
    except OSError:  # removed since chatterm started
        return Path.home()

"""Editing any message of the conversation on screen: the part of ``ConversationScreen``
that turns the log's ``e`` / ``d`` / ``←`` / ``→`` (and regenerate, edit-last) into calls
of ``tui/edits.py`` and redraws the log from where the path changed.

An edited prompt goes back into the prompt box; Enter sends it as a new branch (the old
prompt and what followed stay one ``←`` away). An edited reply is saved in place, not
sent. Esc, while editing, puts back what the prompt held before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import edits
from ..sanitize import one_line
from ..store import SessionError
from ..widgets.message_log import MessageLog

if TYPE_CHECKING:
    from .conversation import ConversationScreen

ROLE_NAMES = {"user": "prompt", "assistant": "reply"}


@dataclass
class Editing:
    """A message whose text is in the prompt box, and what the box held before."""

    index: int
    role: str
    draft: str


class MessageEdits:
    """Mixed into ConversationScreen (which provides session, core, log_view, prompt)."""

    editing: Editing | None = None

    def on_message_log_edit(self: ConversationScreen, event: MessageLog.Edit) -> None:
        event.stop()
        if self.busy():
            return
        if event.what == "edit":
            self.start_editing(event.index)
        elif event.what == "delete":
            self._ask_to_delete(event.index)
        else:
            self._step(event.index, -1 if event.what == "older" else 1)

    # -- editing ------------------------------------------------------------------------
    def start_editing(self: ConversationScreen, index: int) -> None:
        message = self.session.messages[index]
        if self.editing is None:
            draft = self.prompt.text
        else:  # editing another one already: the draft from before both is what comes back
            draft = self.editing.draft
        self.editing = Editing(index, message.role, draft)
        self.prompt.set_text(message.content)
        what = ROLE_NAMES.get(message.role, "message")
        action = "resends it as a new branch" if message.role == "user" else "saves it"
        self.prompt.border_title = f"editing {what} {index + 1} — Enter {action}, Esc cancels"
        self.prompt.focus()

    def stop_editing(self: ConversationScreen, *, restore: bool) -> None:
        editing, self.editing = self.editing, None
        self.prompt.border_title = None
        if restore and editing is not None:
            self.prompt.set_text(editing.draft)

    def edited(self: ConversationScreen, text: str) -> bool:
        """Enter while editing: True when the text was handled here (a reply saved in
        place); False when it is a prompt to send (the old branch already moved off)."""
        editing = self.editing
        assert editing is not None
        self.stop_editing(restore=False)
        if editing.role != "user":
            self._apply(
                lambda: edits.replace_text(self.core.store, self.session, editing.index, text)
            )
            self.prompt.set_text(editing.draft)
            return True
        return not self._apply(
            lambda: edits.branch_at(self.core.store, self.session, editing.index)
        )

    # -- deleting and stepping ----------------------------------------------------------
    def _ask_to_delete(self: ConversationScreen, index: int) -> None:
        from .sessions import ConfirmScreen

        message = self.session.messages[index]
        what = ROLE_NAMES.get(message.role, "message")
        excerpt = one_line(message.content, 40) or "(empty)"

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._apply(lambda: edits.delete(self.core.store, self.session, index))

        self.app.push_screen(
            ConfirmScreen(f"Delete {what} {index + 1} ('{excerpt}')? y/n"), confirmed
        )

    def _step(self: ConversationScreen, index: int, by: int) -> None:
        if edits.position(self.session, index)[1] < 2:
            self.notify("This message has no alternatives.")
            return
        if not self._apply(lambda: edits.step(self.core.store, self.session, index, by)):
            return
        self.log_view.focus_message(index)

    def _apply(self: ConversationScreen, edit: Callable[[], int | None]) -> bool:
        """Run *edit* (returns the index the path changed from, or None), then redraw the
        log from there. False when nothing changed."""
        try:
            changed = edit()
        except edits.EditError as err:
            self.notify(str(err), severity="warning", markup=False)
            return False
        except (OSError, SessionError) as err:
            self.notify(f"Not saved: {err}", severity="error", markup=False)
            return False
        if changed is None:
            return False
        self.log_view.replace_from(changed, self.session.messages[changed:])
        self.show_choices()
        return True

    def show_choices(self: ConversationScreen) -> None:
        self.log_view.set_choices(edits.positions(self.session))

"""The main screen: the message log, the prompt, the status line."""

from __future__ import annotations

import asyncio
import time
from contextlib import AbstractContextManager, nullcontext, suppress

from textual import on, work
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Static

from ..chat import Core, Exchange
from ..edits import drop_last_exchange, drop_last_reply, last_prompt
from ..providers.errors import ProviderError
from ..sanitize import one_line
from ..services import Services
from ..store import Session, SessionError
from ..widgets.bindings import bindings
from ..widgets.message_log import MessageLog
from ..widgets.prompt import PromptArea
from ..widgets.status import StatusLine

# One line at 80 columns.
FIRST_RUN_HINT = "No provider set up: this is the offline echo provider. F4 adds a key."


class ConversationScreen(Screen[None]):
    """One conversation at a time; every action has a key and a palette command."""

    # Straight to the prompt: the default ("*") would focus the log first and the prompt a
    # moment later, and each focus change rebuilds the footer's keys (a start-up cost).
    AUTO_FOCUS = "#prompt"

    BINDINGS = bindings("conversation")

    def __init__(self, services: Services, session: Session, *, hint: str = "") -> None:
        super().__init__()
        self.services = services
        self.session = session
        self.hint = hint
        self.streaming = False
        self._editing = False

    def compose(self) -> ComposeResult:
        yield MessageLog(id="log")
        yield Static(self.hint, id="hint", markup=False)
        yield StatusLine(id="status")
        yield PromptArea(id="prompt", keys=self.services.keys, history=self.services.history)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#hint").display = bool(self.hint)
        self.log_view.load(self.session.messages)
        self.status.set_model(self.session.provider, self.session.model)
        self.status.set_title(self.session.title)
        self._remember_model()
        self.prompt.focus()
        self.set_interval(0.25, self.status.tick)
        self.call_after_refresh(self._warm_up)

    @work(thread=True, exclusive=True, group="warm-up", exit_on_error=False)
    def _warm_up(self) -> None:
        """After the first paint, while the user types: load the Markdown renderer and
        what the provider's first request needs (~0.25 s of CPU), which the first Enter
        would otherwise wait for. A failure shows up on send instead."""
        from ..widgets import markdown_render  # noqa: F401 - the log imports it at first use

        with suppress(Exception):
            self.core.warm_up(self.session.provider)

    # -- parts ----------------------------------------------------------------------------
    @property
    def log_view(self) -> MessageLog:
        return self.query_one(MessageLog)

    @property
    def prompt(self) -> PromptArea:
        return self.query_one(PromptArea)

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    @property
    def core(self) -> Core:
        return self.services.core

    # -- sending --------------------------------------------------------------------------
    @on(PromptArea.Submitted)
    def _submitted(self, event: PromptArea.Submitted) -> None:
        text = event.text
        if not text.strip():
            return
        if self.streaming:
            self.notify("A reply is still streaming: Esc stops it.", severity="warning")
            return
        if self._editing:
            self._drop_last_exchange()
        self.prompt.clear()
        self.services.history.add(text)  # Up and ctrl+r bring it back, in any conversation
        self.query_one("#hint").display = False
        self.log_view.add_message("user", text)
        self.send(text)

    def send(self, prompt: str | None) -> None:
        """Start one exchange (``prompt=None`` regenerates the reply to the last prompt)."""
        self.streaming = True
        self.status.set_state("waiting")
        self.log_view.start_reply(self.session.provider, self.session.model)
        self._run_exchange(prompt)

    @work(exclusive=True, group="reply")
    async def _run_exchange(self, prompt: str | None) -> None:
        exchange = Exchange(
            self.core,
            self.session,
            prompt,
            provider=self.session.provider,
            model=self.session.model,
            on_notice=self._notice,
            on_save_problem=self._save_problem,
        )
        log = self.log_view
        # Under the reply: every fallback provider's error, then the final one, if any.
        errors = exchange.error_text
        try:
            async for text in exchange.chunks():
                log.append(text)
                self.status.count(text)
        except ProviderError as err:
            self._finished(exchange, "error", errors(str(err)))
        except asyncio.CancelledError:
            self._finished(exchange, "cancelled", errors())
            raise
        except (OSError, SessionError) as err:  # the disk, not the provider: still stay up
            self._finished(exchange, "error", errors(f"could not save the conversation: {err}"))
        except Exception as err:  # a bug must not close the app and lose the screen
            self._finished(exchange, "error", errors(f"unexpected {type(err).__name__}: {err}"))
        else:
            self._finished(exchange, "complete", errors())

    def _finished(self, exchange: Exchange, status: str, error: str = "") -> None:
        self.streaming = False
        lines = [one_line(line, 400) for line in error.splitlines() if line.strip()]
        error = "\n".join(lines)
        reply = exchange.reply
        self.log_view.finish_reply(status, error, provider=reply.provider, model=reply.model)
        state = {"complete": "idle"}.get(status, status)  # "cancelled" and "error" show as such
        self.status.set_state(state, lines[-1] if lines and status != "complete" else "")
        self._show_title()

    def _show_title(self) -> None:
        self.status.set_title(self.session.title)
        self.app.sub_title = self.session.title

    def _save_problem(self, text: str) -> None:
        """A full disk: the reply goes on in memory; say so, and say when it is saved."""
        if text:
            self.notify(text, title="Not saved yet", severity="warning", timeout=20, markup=False)
            self.status.set_warning("not saved yet: retrying every second")
        else:
            self.status.set_warning("")
            self.notify("Saving works again: the reply is saved.", markup=False)

    def _notice(self, text: str) -> None:
        self.status.set_state("waiting", text)

    # -- actions --------------------------------------------------------------------------
    def action_stop(self) -> None:
        if self.streaming:
            self.workers.cancel_group(self, "reply")

    def action_regenerate(self) -> None:
        if self.streaming:
            return
        if last_prompt(self.session) is None:
            self.notify("Nothing to regenerate yet.")
            return
        self._remove_from_log(drop_last_reply(self.core.store, self.session))
        self.send(None)

    def _remove_from_log(self, count: int) -> None:
        for _ in range(count):
            self.log_view.remove_last()

    def action_edit_last(self) -> None:
        last = last_prompt(self.session)
        if self.streaming or last is None:
            return
        self._editing = True
        self.prompt.set_text(last)
        self.prompt.focus()
        self.notify("Editing the last prompt: Enter resends it in place of the old one.")

    def action_edit_in_editor(self) -> None:
        """F8: the prompt in $VISUAL or $EDITOR (the app suspended); the saved text comes
        back into the prompt. No editor, or one that fails: a notice, the prompt as it was."""
        from ..editor import EditorError, edit_text

        try:
            with self._suspended():
                text = edit_text(self.prompt.message)
        except EditorError as err:
            self.notify(str(err), title="Editor", severity="warning", markup=False)
            return
        self.prompt.set_text(text)
        self.prompt.focus()

    def _suspended(self) -> AbstractContextManager[None]:
        """The terminal handed to the editor; under the test pilot there is no terminal to
        hand over (and the editor is a script), so nothing is suspended."""
        return nullcontext() if self.app.is_headless else self.app.suspend()

    def action_rename_conversation(self) -> None:
        """F9: a new title for this conversation, typed in place."""
        from .sessions import RenameScreen

        if isinstance(self.app.screen, RenameScreen):
            return
        self.app.push_screen(RenameScreen(one_line(self.session.title, 500)), self._renamed)

    def _renamed(self, title: str | None) -> None:
        title = " ".join((title or "").split())
        if not title or title == self.session.title:
            return
        self.session.title = title
        if self.session.messages:  # a new conversation is saved with its first prompt
            try:
                self.core.store.save(self.session)
            except (OSError, SessionError) as err:
                self.notify(f"Rename not saved: {err}", severity="error", markup=False)
        self._show_title()

    def action_search_history(self) -> None:
        """ctrl+r: an earlier prompt, from every conversation, into the prompt."""
        from .history_search import HistorySearchScreen

        if isinstance(self.app.screen, HistorySearchScreen):
            return

        def chosen(text: str | None) -> None:
            if text is not None:
                self.prompt.set_text(text)
            self.prompt.focus()

        search = HistorySearchScreen(self.services.history, self.prompt.text)
        self.app.push_screen(search, chosen)

    def _drop_last_exchange(self) -> None:
        """For edit-and-resend: the old prompt and its reply leave the conversation."""
        self._editing = False
        self._remove_from_log(drop_last_exchange(self.core.store, self.session))

    # A copy refused as too big for OSC 52: (text, what, when). The same copy asked for
    # again within COPY_OFFER_SECONDS writes the text to a file instead.
    _copy_offer: tuple[str, str, float] | None = None
    COPY_OFFER_SECONDS = 60.0

    def action_copy_reply(self) -> None:
        reply = next((m for m in reversed(self.session.messages) if m.role == "assistant"), None)
        if reply is None or not reply.content:
            self.notify("No reply to copy yet.")
            return
        self._copy(reply.content, "reply", self.services.key_for("copy_reply"))

    def action_copy_code(self) -> None:
        log = self.log_view
        for index in range(log.message_count - 1, -1, -1):
            if blocks := log.code_blocks(index):
                self._copy(blocks[-1], "code block", self.services.key_for("copy_code"))
                return
        self.notify("No code block to copy yet.")

    @on(MessageLog.Copy)
    def _copy_from_log(self, event: MessageLog.Copy) -> None:
        key = self.services.key_for("copy_message") if event.kind == "message" else ""
        self._copy(event.text, "text", key or "the same key")

    def _copy(self, text: str, what: str, key: str = "the same key") -> None:
        # OSC 52 through Textual: works over SSH, where a local clipboard tool would not.
        # A terminal drops a sequence over its limit silently, so a copy that is too big is
        # not sent at all, and the user is offered a file instead (see tui/clipboard.py).
        from .. import clipboard

        limit = self.services.copy_limit()
        if clipboard.fits(text, limit):
            self._copy_offer = None
            self.app.copy_to_clipboard(text)
            self.notify(f"Copied the {what} ({len(text):,} characters).")
            return
        offer = self._copy_offer
        now = time.monotonic()
        if offer is not None and offer[0] == text and now - offer[2] <= self.COPY_OFFER_SECONDS:
            self._copy_offer = None
            self._write_copy(text, what)
            return
        self._copy_offer = (text, what, now)
        self.notify(
            f"{clipboard.too_big_message(text, what, limit)} Press {key} again to write it "
            "to a file instead.",
            title="Too big to copy",
            severity="warning",
            timeout=self.COPY_OFFER_SECONDS,
            markup=False,
        )

    @work(thread=True, group="copy-file", exit_on_error=False)
    def _write_copy(self, text: str, what: str) -> None:
        """Write a refused copy to a file (off the event loop: it can be megabytes)."""
        from .. import clipboard

        folder = self.services.copies_folder()
        try:
            path = clipboard.write_copy(text, folder, what)
        except OSError as err:
            message, severity = f"Could not write the {what} to {folder}: {err}", "error"
        else:
            message, severity = (
                f"Wrote the {what} ({len(text):,} characters) to {path}",
                "information",
            )
        self.app.call_from_thread(self.notify, message, severity=severity, timeout=30, markup=False)

    def action_focus_log(self) -> None:
        self.log_view.focus()

    def action_new_conversation(self) -> None:
        self.action_stop()
        store = self.core.store
        self.session = store.new(
            self.session.provider, self.session.model, self.core.config.system_prompt
        )
        self.log_view.clear()
        self.status.set_state("idle")
        self._show_title()
        self.prompt.clear()
        self.prompt.focus()

    def action_pick_model(self) -> None:
        from .model_picker import ModelPickerScreen

        if isinstance(self.app.screen, ModelPickerScreen):
            return
        current = (self.session.provider, self.session.model)
        self.app.push_screen(ModelPickerScreen(self.services, current), self._picked)

    def _picked(self, choice: tuple[str, str] | None) -> None:
        if choice:
            self.switch_model(*choice)

    def action_cycle_model(self) -> None:
        choice = self.services.recent.next_after(self.session.provider, self.session.model)
        if choice is None:
            picker, cycle = (
                self.services.key_for("model_picker"),
                self.services.key_for("next_model"),
            )
            self.notify(f"Use {picker} to choose a model; {cycle} then cycles through recent ones.")
            return
        self.switch_model(*choice)

    def switch_model(self, provider: str, model: str) -> None:
        """From the next message on, this conversation talks to *provider*/*model*."""
        self.session.provider, self.session.model = provider, model
        self.services.recent.push(provider, model)
        if self.session.messages:
            self.core.store.save(self.session)
        self.status.set_model(provider, model)
        self.notify(f"Now talking to {provider}/{model}.", markup=False)  # names: not markup

    def open_session_id(self, session_id: str | None) -> None:
        """From F3: open the conversation *session_id* (None: F3 was left without one)."""
        if not session_id:
            return
        try:
            choice = self.services.open_session(session_id)
        except SessionError as err:
            self.notify(str(err), severity="error", markup=False)
            return
        for notice in choice.notices:
            self.notify(notice, markup=False)
        self.open_session(choice.session)

    def open_session(self, session: Session) -> None:
        self.action_stop()
        self.session = session
        self.log_view.clear()
        self.log_view.load(session.messages)
        self.status.set_model(session.provider, session.model)
        self.status.set_state("idle")
        self._remember_model()
        self._show_title()
        # Back from F3 the user types next: the prompt, not the log that had focus before.
        self.prompt.focus()

    def _remember_model(self) -> None:
        """The model a conversation starts (or reopens) with is one ctrl+t can return to."""
        if self.session.provider and self.session.model:
            self.services.recent.push(self.session.provider, self.session.model)

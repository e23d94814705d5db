"""The main screen: the message log, the prompt, the status line."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext, suppress
from functools import partial
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static

from .. import attachments, keymap
from ..attachments import Loaded
from ..chat import Core, Exchange, continuable
from ..edits import keep_last_reply, last_prompt, last_prompt_index
from ..link import Link
from ..providers.errors import ProviderError
from ..providers.parts import Part, Reasoning, Usage
from ..sanitize import one_line
from ..services import Services
from ..store import Message, Session, SessionError
from ..store.model import Attachment, split_content
from ..widgets.attachment_chips import AttachmentChips
from ..widgets.bindings import bindings
from ..widgets.message_log import MessageLog
from ..widgets.prompt import PromptArea
from ..widgets.search_bar import SearchBar
from ..widgets.status import StatusLine
from .conversation_search import ConversationSearch
from .message_edits import MessageEdits

if TYPE_CHECKING:
    from .conversation_settings import ConversationValues

# One line at 80 columns.
FIRST_RUN_HINT = "No provider set up: this is the offline echo provider. F4 adds a key."


class ConversationScreen(MessageEdits, ConversationSearch, Screen[None]):
    """One conversation at a time; every action has a key and a palette command."""

    # Straight to the prompt: the default ("*") would focus the log first and the prompt a
    # moment later, and each focus change rebuilds the footer's keys (a start-up cost).
    AUTO_FOCUS = "#prompt"

    BINDINGS = bindings("conversation")

    def __init__(
        self,
        services: Services,
        session: Session,
        *,
        hint: str = "",
        attachments: Sequence[Loaded] = (),
    ) -> None:
        """*attachments*: files the first prompt sends (text piped to ``chatterm``)."""
        super().__init__()
        self.services = services
        self.session = session
        self.hint = hint
        self.streaming = False
        self._first_attachments = list(attachments)
        self._chips_draft: tuple[Loaded, ...] = ()  # the chips before a prompt was edited

    def compose(self) -> ComposeResult:
        yield MessageLog(id="log")
        yield SearchBar(id="search")
        yield Static(self.hint, id="hint", markup=False)
        yield StatusLine(id="status")
        yield PromptArea(id="prompt", keys=self.services.keys, history=self.services.history)
        yield AttachmentChips(id="attachments")  # after the prompt: Tab goes to it, then on
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#hint").display = bool(self.hint)
        self.log_view.load(self.session.messages)
        self.chips.set(self._first_attachments)
        self.show_choices()
        self.status.set_model(self.session.provider, self.session.model)
        self.status.set_title(self.session.title)
        self._remember_model()
        self.apply_link(self.services.link)
        self.prompt.focus()
        self.call_after_refresh(self._warm_up)

    @work(thread=True, exclusive=True, group="warm-up", exit_on_error=False)
    def _warm_up(self) -> None:
        """After the first paint, while the user types: load the Markdown renderer and
        what the provider's first request needs (~0.25 s of CPU), which the first Enter
        would otherwise wait for. A failure shows up on send instead."""
        from ..widgets import markdown_render  # noqa: F401 - the log imports it at first use

        with suppress(Exception):
            self.core.warm_up(self.session.provider)

    _status_timer: Timer | None = None

    def apply_link(self, link: Link) -> None:
        """The link's pace (tui/link.py): the prompt's blink, the log's frames a second
        (from the next reply on) and how often the status line redraws the live speed."""
        self.prompt.cursor_blink = link.cursor_blink
        self.log_view.STREAM_FPS = link.stream_fps
        if self._status_timer is not None:
            self._status_timer.stop()
        self._status_timer = self.set_interval(link.status_interval, self.status.tick)

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
    def chips(self) -> AttachmentChips:
        """The files the next prompt sends."""
        return self.query_one(AttachmentChips)

    @property
    def core(self) -> Core:
        return self.services.core

    # -- sending --------------------------------------------------------------------------
    @on(PromptArea.Submitted)
    def _submitted(self, event: PromptArea.Submitted) -> None:
        text = event.text
        files = self.chips.items
        sends_files = files and (self.editing is None or self.editing.role == "user")
        if not text.strip() and not sends_files:
            return
        if self.busy():
            return
        if self.editing is not None and self.edited(text):
            return  # a reply edited in place: saved, nothing to send
        files = self.chips.items  # an edited prompt's own files, put back by start_editing
        try:  # an image for a model that takes none: refused before anything is sent
            self.core.check_images(self.session.provider, self.session.model, files)
        except ProviderError as err:
            self.notify(one_line(str(err), 300), severity="error", markup=False)
            return  # the prompt and its chips stay, to change the model (F2) or the files
        text = text if text.strip() else ""
        self.prompt.clear()
        self.chips.clear()
        if text:  # Up and ctrl+r bring it back, in any conversation; never the files' text
            self.services.history.add(text)
        self.query_one("#hint").display = False
        content, records = attachments.compose(text, files)
        self.log_view.add_message("user", text, chips=[f.chip for f in files])
        self.send(content, records)

    def send(self, prompt: str | None, files: Sequence[Attachment] = ()) -> None:
        """Start one exchange (``prompt=None`` regenerates the reply to the last prompt);
        *files* are the records of the attachments whose blocks end *prompt*."""
        self.streaming = True
        self.status.set_state("waiting")
        self.log_view.start_reply(self.session.provider, self.session.model)
        self._run_exchange(prompt, list(files))

    @staticmethod
    def _on_part(log: MessageLog, status: StatusLine, part: Part) -> None:
        """Reasoning streams into the log's folded block (and counts as output on the status
        line); usage goes to the status line. (The finish reason is shown when the reply
        ends: see ``_finished``.)"""
        if isinstance(part, Reasoning):
            log.append_reasoning(part.text)
            status.count(part.text)
        elif isinstance(part, Usage):
            status.set_usage(part.input_tokens, part.output_tokens)

    @work(exclusive=True, group="reply")
    async def _run_exchange(
        self, prompt: str | None, files: list[Attachment], resume: Message | None = None
    ) -> None:
        # Found once, not per chunk: a query costs ~8 µs, 3,000 times a reply at full speed.
        # When the app closes mid-reply the worker is cancelled (the Exchange saves the
        # reply as cancelled); until then these widgets only take counts and text.
        log, status = self.log_view, self.status
        exchange = Exchange(
            self.core,
            self.session,
            prompt,
            provider=self.session.provider,
            model=self.session.model,
            on_notice=self._notice,
            on_save_problem=self._save_problem,
            attachments=files,
            on_part=partial(self._on_part, log, status),
            params=self.core.params_for(self.session),  # its own (F10) over the provider's
            resume=resume,
        )
        # Under the reply: every fallback provider's error, then the final one, if any.
        errors = exchange.error_text
        try:
            async for text in exchange.chunks():
                log.append(text)
                status.count(text)
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
        if not (self.query(MessageLog) and self.query(StatusLine)):
            # The app is closing and took the widgets first: the Exchange has saved the
            # reply (cancelled), and there is nothing left to draw it on.
            return
        lines = [one_line(line, 400) for line in error.splitlines() if line.strip()]
        error = "\n".join(lines)
        reply = exchange.reply
        finish = exchange.finish.reason if exchange.finish else ""
        log = self.log_view
        log.set_reasoning_tokens(reply.reasoning_tokens)  # the service's count, at the end
        log.finish_reply(status, error, provider=reply.provider, model=reply.model, finish=finish)
        state = {"complete": "idle"}.get(status, status)  # "cancelled" and "error" show as such
        self.status.finish_reason = finish
        self.status.set_context_size(exchange.context_tokens)  # "N / size tokens in"
        self.status.set_state(state, lines[-1] if lines and status != "complete" else "")
        self._show_title()
        self.show_choices()

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

    def busy(self) -> bool:
        """A reply is streaming, so a key that starts or changes one is refused: say so,
        because a key pressed just as a reply ends must not vanish without a word."""
        if self.streaming:
            self.notify("A reply is still streaming: Esc stops it.", severity="warning")
        return self.streaming

    # -- actions --------------------------------------------------------------------------
    def action_stop(self) -> None:
        if self.streaming:
            self.workers.cancel_group(self, "reply")
        elif self.editing is not None:
            self.stop_editing(restore=True)
        else:
            self.clear_search()

    def action_regenerate(self) -> None:
        if self.busy():
            return
        if last_prompt(self.session) is None:
            self.notify("Nothing to regenerate yet.")
            return
        # The old reply stays, one ← away on the new one (tui/edits.py).
        if self._apply(lambda: keep_last_reply(self.core.store, self.session)) or (
            self.session.messages and self.session.messages[-1].role == "user"
        ):
            self.send(None)

    def action_toggle_reasoning(self) -> None:
        if not self.log_view.toggle_reasoning():
            self.notify("No reasoning to show: the model sent none.")

    def action_continue_reply(self) -> None:
        """Ask the model to go on with a reply cut at the token limit, in the same message
        (the core's Exchange does it: tui/chat.py)."""
        if self.busy():
            return
        reply = continuable(self.session)
        if reply is None:
            self.notify("Nothing to continue: the last reply was not cut at the token limit.")
            return
        self.streaming = True
        self.status.set_state("waiting")
        self.log_view.resume_reply(reply)
        self._run_exchange(None, [], reply)

    def action_edit_last(self) -> None:
        index = last_prompt_index(self.session)
        if index is None or self.busy():
            return
        self.start_editing(index)

    def start_editing(self, index: int) -> None:
        """As MessageEdits', and a prompt comes back as it was typed with its own files as
        the chips (sent again with it); the chips from before come back on Esc."""
        if self.editing is None:
            self._chips_draft = self.chips.items
        super().start_editing(index)
        message = self.session.messages[index]
        if message.role != "user":
            return  # a reply is edited in place: the chips wait for the next prompt
        typed, blocks = split_content(message)
        if blocks:
            self.prompt.set_text(typed)
        self.chips.set(attachments.restore(message.attachments, blocks) if blocks else [])

    def stop_editing(self, *, restore: bool) -> None:
        super().stop_editing(restore=restore)
        if restore:
            self.chips.set(self._chips_draft)
        self._chips_draft = ()

    # -- attachments ----------------------------------------------------------------------
    def action_attach(self) -> None:
        """ctrl+f: a file for the next prompt, chosen by its path (Tab completes)."""
        from .attach import AttachScreen

        if isinstance(self.app.screen, AttachScreen):
            return
        self.app.push_screen(AttachScreen(self.services), self._attached)

    def _attached(self, loaded: Loaded | None) -> None:
        self.prompt.focus()
        if loaded is None:
            return
        self.chips.add(loaded)
        tab = keymap.display("tab")
        self.notify(
            f"Attached {loaded.name} ({attachments.human_size(loaded.size)}): it goes with the "
            f"next prompt. {tab} from the prompt to remove it.",
            markup=False,
        )

    @on(AttachmentChips.Emptied)
    def _no_more_chips(self) -> None:
        self.prompt.focus()

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

    def action_conversation_settings(self) -> None:
        """F10: title, provider, model and system prompt of this conversation."""
        from .conversation_settings import ConversationSettingsScreen

        if isinstance(self.app.screen, ConversationSettingsScreen):
            return
        screen = ConversationSettingsScreen(self.services, self.session)
        self.app.push_screen(screen, self._conversation_settings_saved)

    def _conversation_settings_saved(self, values: ConversationValues | None) -> None:
        if values is None:
            return
        session = self.session
        if (values.provider, values.model) != (session.provider, session.model):
            session.provider, session.model = values.provider, values.model
            self.services.recent.push(values.provider, values.model)
            self.status.set_model(values.provider, values.model)
        session.system_prompt = values.system_prompt
        session.params = dict(values.params)
        session.title = values.title or session.title
        if session.messages:  # a new conversation is saved with its first prompt
            try:
                self.core.store.save(session)
            except (OSError, SessionError) as err:
                self.notify(f"Not saved: {err}", severity="error", markup=False)
                return
        self._show_title()
        self.notify("Saved this conversation's settings.")

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
        self.stop_editing(restore=False)
        self.status.set_state("idle")
        self._show_title()
        self.prompt.clear()
        self.chips.clear()
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
        self.stop_editing(restore=False)
        self.log_view.load(session.messages)
        self.show_choices()
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

"""The Textual app: screens, palette commands and app-wide keys over the core."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from contextlib import suppress
from functools import partial
from pathlib import Path

from rich.console import RenderableType
from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.dom import DOMNode
from textual.driver import Driver
from textual.widgets import Input, TextArea
from textual.worker import Worker

from . import keymap
from .attachments import AttachmentError, Loaded, human_size
from .choice import Choice, NothingToContinue, choose, reopen
from .commands import ChattermCommands, PaletteEntry
from .config import Config, ConfigError, permissions_warning
from .link import Link
from .paths import data_dir
from .providers.errors import ProviderError
from .screens.conversation import FIRST_RUN_HINT, ConversationScreen
from .screens.help import KeysScreen
from .services import Services
from .signals import ReplySignals, exit_when_idle
from .store import Session, SessionError, SessionStore, default_root
from .widgets.bindings import bindings


class ChattermApp(App[None]):
    CSS_PATH = "chatterm.tcss"
    TITLE = "chatterm"
    COMMANDS = App.COMMANDS | {ChattermCommands}
    # Every key is the registry's (tui/keymap.py), Textual's own ctrl+q and ctrl+p too, so
    # a user's [keys] can move them; ctrl+c still says how to quit.
    inherit_bindings = False
    BINDINGS = bindings("app", [Binding("ctrl+c", "help_quit", show=False, system=True)])

    def __init__(
        self,
        config: Config,
        store: SessionStore,
        *,
        session: Session | None = None,
        provider: str | None = None,
        model: str | None = None,
        state_path: Path | None = None,
        choice: Choice | None = None,
        attachments: Sequence[Loaded] = (),
        low_bandwidth: bool | None = None,
        services: Services | None = None,
    ) -> None:
        """*choice* is run_app's, resolved before the app starts (so a usage error never
        opens the app); tests pass *session*, *provider* and *model* instead.
        *attachments* go with the first prompt (text piped to ``chatterm``).
        *low_bandwidth*: ``--low-bandwidth`` (True) or ``--no-low-bandwidth`` (False).
        *services*: run_app's, whose core resolved *choice* (else built here)."""
        super().__init__()
        self._attachments = list(attachments)
        self.services = services or Services.build(
            config, store, state_path or data_dir() / "state.json"
        )
        self.services.low_bandwidth_flag = low_bandwidth
        self._animation_level = self.animation_level  # Textual's, from TEXTUAL_ANIMATIONS
        self._initial = session
        self._choice = (provider, model)
        self._given = choice
        self._hint = ""  # the first-run hint, set with the first screen
        self._main: ConversationScreen | None = None
        self.set_keymap(keymap.textual_keymap(config.keys))
        self.apply_link()

    # -- the link to the terminal (tui/link.py) ------------------------------------------
    def get_driver_class(self) -> type[Driver]:
        driver = super().get_driver_class()
        if driver.__module__ != "textual.drivers.linux_driver":  # Windows, TEXTUAL_DRIVER
            return driver
        from .widgets.link_driver import LinkDriver

        return LinkDriver  # its mouse modes and redraw are the link's

    def link_settings(self) -> Link:
        """What the link is given now; the driver reads it when it is made."""
        return self.services.link

    def apply_link(self) -> None:
        """Put the link settings in force (at start, and after F5 saves): animations, the
        driver's mouse mode and redraw, the conversation's blink and pace."""
        link = self.services.link
        self.animation_level = self._animation_level if link.animations else "none"
        apply = getattr(self._driver, "apply", None)  # LinkDriver's; not the test pilot's
        if callable(apply):
            apply(link)
        if self._main is not None and self._main.is_mounted:
            # A save just before quitting lands while the screen's widgets are going.
            with suppress(NoMatches):
                self._main.apply_link(link)
        if self.screen_stack:  # none yet when the app is made
            self._blink(self.focused)

    def on_settings_screen_saved(self) -> None:
        self.apply_link()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self._blink(event.widget)  # every text field of every screen: F3's filter too

    def _blink(self, widget: object) -> None:
        if isinstance(widget, Input | TextArea):
            widget.cursor_blink = self.services.link.cursor_blink

    # -- start ----------------------------------------------------------------------------
    def get_default_screen(self) -> ConversationScreen:
        # The conversation is the first screen itself, not pushed over Textual's blank one:
        # one screen fewer to compose, style, resume and suspend before the first paint.
        choice = self._first_choice()
        for notice in choice.notices:
            self.notify(notice, markup=False)  # a provider named by a file: never markup
        new = choice.new and choice.session.provider == "echo"
        self._hint = FIRST_RUN_HINT if new and not self.services.config.default_provider else ""
        if not choice.new:
            self.sub_title = choice.session.title
        self._main = ConversationScreen(
            self.services, choice.session, hint=self._hint, attachments=self._attachments
        )
        return self._main

    def _first_choice(self) -> Choice:
        if self._given is not None:
            return self._given
        provider, model = self._choice
        try:
            if self._initial is not None:
                return reopen(self.services.core, self._initial, provider, model)
            return choose(self.services.core, provider=provider, model=model)
        except (ConfigError, ProviderError) as err:  # run_app refuses these before: a test
            self.notify(str(err), severity="error", markup=False)
            return choose(self.services.core)

    def on_mount(self) -> None:
        self._watch_signals()
        if self.services.config.theme and self.services.config.theme in self.available_themes:
            self.theme = self.services.config.theme
        if self.services.config.error:
            self.notify(
                f"{self.services.config.error} — using defaults until you save settings (F5).",
                title="Config error",
                severity="error",
                timeout=15,
                markup=False,  # the file's own words (a provider name) are never markup
            )
        if warning := permissions_warning(self.services.config.path):
            self.notify(warning, severity="warning", timeout=15, markup=False)
        for warning in (self.services.recent.warning, self.services.history.warning):
            if warning:
                self.notify(warning, severity="warning", timeout=10, markup=False)
        for warning in self.services.key_warnings():
            self.notify(warning, title="Keys", severity="warning", timeout=15, markup=False)
        if self._hint:
            self._probe_local_ollama()
        for item in self._attachments:
            self.notify(
                f"{item.name} ({human_size(item.size)}) is attached: type your question, "
                "Enter sends both.",
                title="Piped text",
                markup=False,
            )

    @work(exclusive=True, group="probe")
    async def _probe_local_ollama(self) -> None:
        """A reachable local Ollama beats echo; the probe runs after the first paint."""
        provider, model = await self.services.core.probe_default()
        screen = self.conversation
        if provider == "ollama" and screen and not screen.session.messages:
            screen.switch_model(provider, model)
            screen.query_one("#hint").display = False

    async def on_unmount(self) -> None:
        if self._signals is not None:
            self._signals.__exit__()
        await self.services.core.aclose()

    # -- signals (see tui/signals.py) -------------------------------------------------------
    _signals: ReplySignals | None = None
    HANGUP_GRACE = 5.0  # seconds after the reply is saved that a hung-up app may take to end

    def _watch_signals(self) -> None:
        if self.is_headless:  # the test pilot: no terminal, and signals are the runner's
            return
        self._signals = ReplySignals(
            asyncio.get_running_loop(), on_hangup=self._hung_up, on_stop=self._terminated
        ).__enter__()

    def _reply_workers(self) -> list[Worker]:
        return [w for w in self.workers if w.group == "reply" and not w.is_finished]

    def _hung_up(self) -> None:
        """The terminal is gone (its descriptors already point at /dev/null): stop drawing
        and reading, let the reply finish and be saved, then exit."""
        driver = self._driver
        if driver is not None:
            driver.write = lambda data: None  # type: ignore[method-assign]
            driver.flush = lambda: None  # type: ignore[method-assign]
            # Let go of the writer thread whatever its state: it may die on the dead
            # terminal (EIO) after this point with its queue full, and closing the driver
            # would then wait on that queue for ever. It is a daemon and nothing more is
            # queued for it, so it ends with the process.
            if hasattr(driver, "_writer_thread"):
                driver._writer_thread = None  # type: ignore[attr-defined]
            driver.disable_input()
        exit_when_idle(lambda: bool(self._reply_workers()), self.HANGUP_GRACE)
        self._exit_after_reply(cancel=False, return_code=0)

    def _terminated(self, _signum: int) -> None:
        """SIGTERM: the reply stops (saved ``cancelled``) and the terminal is restored."""
        self._exit_after_reply(cancel=True, return_code=143)

    @work(group="signal-exit", exclusive=True, exit_on_error=False)
    async def _exit_after_reply(self, *, cancel: bool, return_code: int) -> None:
        for worker in self._reply_workers():
            if cancel:
                worker.cancel()
            with suppress(Exception):  # cancelled or failed: the exchange saved it either way
                await worker.wait()
        self.exit(return_code=return_code)

    def panic(self, *renderables: RenderableType) -> None:
        # When sshd closes the terminal, Textual's input thread can fail on it (EIO) a moment
        # before SIGHUP is handled: that is a hangup, not a crash to report.
        if self._signals is not None and self._signals.terminal.gone():
            self._signals.hangup_now()
            return
        super().panic(*renderables)

    # -- the conversation and the palette -------------------------------------------------
    @property
    def conversation(self) -> ConversationScreen | None:
        return self._main

    def node_for(self, scope: keymap.Scope) -> DOMNode | None:
        """Where an action of *scope* runs (the palette runs it there)."""
        screen = self._main
        if scope == "app":
            return self
        if screen is None or not screen.is_mounted:
            return None
        nodes: dict[str, DOMNode] = {
            "conversation": screen,
            "log": screen.log_view,
            "prompt": screen.prompt,
            "attachments": screen.chips,
        }
        return nodes.get(scope)

    def palette_entries(self) -> list[PaletteEntry]:
        """Every action with a palette title, then a "Switch to" entry per known model."""
        entries = []
        for action in keymap.palette_actions():
            if (node := self.node_for(action.scope)) is not None:
                run = partial(self.run_action, action.action, node)
                entries.append(PaletteEntry(action.palette, self.services.key_for(action.id), run))
        if (screen := self._main) is not None:
            for provider, model in self.services.all_models():
                switch = partial(screen.switch_model, provider, model)
                title = f"Switch to {provider}/{model}"
                entries.append(PaletteEntry(title, "model", switch, discover=False))
        return entries

    # -- actions ----------------------------------------------------------------------------
    def action_show_keys(self) -> None:
        if not isinstance(self.screen, KeysScreen):
            self.push_screen(KeysScreen(self.services))

    def action_open_sessions(self) -> None:
        from .screens.sessions import SessionsScreen

        screen = self._main
        if screen is None or isinstance(self.screen, SessionsScreen):
            return
        self.push_screen(SessionsScreen(self.services, screen.session.id), screen.open_chosen)

    def action_open_providers(self) -> None:
        from .screens.providers import ProvidersScreen

        if not isinstance(self.screen, ProvidersScreen):
            self.push_screen(ProvidersScreen(self.services))

    def action_open_settings(self) -> None:
        from .screens.settings import SettingsScreen

        if not isinstance(self.screen, SettingsScreen):
            self.push_screen(SettingsScreen(self.services))


def run_app(args: argparse.Namespace, config: Config) -> int:
    """``chatterm`` with no command: open the app (``-c``, ``-s ID``, ``-p``, ``-m``)."""
    import os
    import sys

    if os.environ.get("TERM", "") == "dumb":
        # A dumb terminal (Emacs shell, some CI logs) cannot move the cursor: Textual would
        # fill it with escape sequences. Say so before anything is drawn.
        print(
            "chatterm: this terminal (TERM=dumb) cannot show the app; "
            'use `chatterm ask "your question"` instead',
            file=sys.stderr,
        )
        return 2
    store = SessionStore(default_root())
    # One core for choosing and for the app: a provider built to check the choice is the
    # one that answers (and the one closed at exit).
    services = Services.build(config, store, data_dir() / "state.json")
    core = services.core
    which = {"provider": args.provider, "model": args.model}
    try:
        try:
            choice = choose(core, session=args.session, cont=args.cont, **which)
        except NothingToContinue as err:
            print(f"chatterm: {err}", file=sys.stderr)  # and a new conversation opens
            choice = choose(core, **which)
    except (SessionError, ConfigError, ProviderError) as err:
        print(f"chatterm: {err}", file=sys.stderr)
        return 2
    try:  # after the usage errors: those need no terminal to be told
        piped = files_attached(args, config) + piped_attachments(config)
    except AttachmentError as err:
        print(f"chatterm: {err}", file=sys.stderr)
        return 2
    app = ChattermApp(
        config,
        store,
        choice=choice,
        attachments=piped,
        low_bandwidth=getattr(args, "low_bandwidth", None),
        services=services,
    )
    if problem := store.check():  # e.g. root's after `sudo chatterm`: open, and say so
        app.notify(
            problem,
            title="Conversations cannot be saved",
            severity="error",
            timeout=30,
            markup=False,
        )
    from .widgets.paste_parser import install

    install()  # a 5 MB paste reaches the prompt in a fraction of a second, not ~15 s
    # "off": no mouse mode is sent at all, so the terminal's own selection works.
    app.run(mouse=app.link_settings().mouse != "off")
    return app.return_code or 0  # 1 after a crash, so a script or a test can tell


def files_attached(args: argparse.Namespace, config: Config) -> list[Loaded]:
    """``chatterm -a FILE``: the files for the first prompt; AttachmentError names the first
    that cannot be attached, before the app takes the terminal."""
    from . import attachments

    paths = getattr(args, "app_attach", None) or []
    limit = attachments.limit_bytes(config.attachment_limit)
    try:
        return attachments.read_files(paths, limit=limit, secrets=config.secrets())
    except AttachmentError as err:
        raise AttachmentError(f"cannot attach: {err}") from None


def piped_attachments(config: Config, fd: int = 0) -> list[Loaded]:
    """``git diff | chatterm``: the text on stdin (read to its end, at most the attachment
    limit) as the attachment "stdin" of the first prompt; then the terminal takes stdin's
    place, since Textual reads keys from it. Nothing when stdin is a terminal already.
    AttachmentError (one line) when the text cannot be attached or there is no terminal."""
    import os

    from . import attachments

    if os.isatty(fd):
        return []
    found: list[Loaded] = []
    if attachments.stdin_is_data(fd):  # a pipe or a file; not /dev/null or a closed stdin
        limit = attachments.limit_bytes(config.attachment_limit)
        raw = attachments.read_stream(fd, limit)
        if raw.strip():
            found.append(attachments.from_piped(raw, limit=limit, secrets=config.secrets()))
    try:
        attachments.terminal_for_keys(fd)
    except OSError as err:
        raise AttachmentError(
            f"stdin is not a terminal, and there is no terminal to read keys from "
            f"(/dev/tty: {err.strerror or err}); in a script, use `chatterm ask`"
        ) from None
    return found

"""The Textual app: screens, palette commands and app-wide keys over the core."""

from __future__ import annotations

import argparse
import asyncio
from contextlib import suppress
from pathlib import Path

from rich.console import RenderableType
from textual import work
from textual.app import App
from textual.binding import Binding
from textual.worker import Worker

from .chat import Core
from .commands import ChattermCommands
from .config import Config, ConfigError, permissions_warning
from .paths import data_dir
from .screens.conversation import FIRST_RUN_HINT, ConversationScreen
from .screens.help import KeysScreen
from .signals import ReplySignals
from .state import RecentModels
from .store import Session, SessionError, SessionStore, default_root


class ChattermApp(App[None]):
    CSS_PATH = "chatterm.tcss"
    TITLE = "chatterm"
    COMMANDS = App.COMMANDS | {ChattermCommands}
    BINDINGS = [
        Binding("f1", "show_keys", "Keys"),
        Binding("f3", "open_sessions", "Sessions", show=False),
        Binding("f4", "open_providers", "Providers", show=False),
        Binding("f5", "open_settings", "Settings", show=False),
        Binding("ctrl+q", "quit", "Quit"),
    ]

    def __init__(
        self,
        config: Config,
        store: SessionStore,
        *,
        session: Session | None = None,
        provider: str | None = None,
        model: str | None = None,
        state_path: Path | None = None,
    ) -> None:
        super().__init__()
        self.core = Core(config, store)
        self.config = config
        self.store = store
        self.recent = RecentModels(state_path or data_dir() / "state.json")
        self._initial = session
        self._choice = (provider, model)
        self._hint = ""  # the first-run hint, set with the first screen

    # -- start ----------------------------------------------------------------------------
    def get_default_screen(self) -> ConversationScreen:
        # The conversation is the first screen itself, not pushed over Textual's blank one:
        # one screen fewer to compose, style, resume and suspend before the first paint.
        session, self._hint = self._first_session()
        return ConversationScreen(session, hint=self._hint)

    def on_mount(self) -> None:
        self._watch_signals()
        if self.config.theme and self.config.theme in self.available_themes:
            self.theme = self.config.theme
        if self.config.error:
            self.notify(
                f"{self.config.error} — using defaults until you save settings (F5).",
                title="Config error",
                severity="error",
                timeout=15,
                markup=False,  # the file's own words (a provider name) are never markup
            )
        if warning := permissions_warning(self.config.path):
            self.notify(warning, severity="warning", timeout=15, markup=False)
        if self.recent.warning:
            self.notify(self.recent.warning, severity="warning", timeout=10, markup=False)
        if self._hint:
            self._probe_local_ollama()

    def _first_session(self) -> tuple[Session, str]:
        if self._initial is not None:
            session = self._initial
            if session.provider not in self.core.provider_names():
                name, model = self.core.default_choice()
                # The provider comes from the session file: untrusted, so never markup.
                gone = f"{session.provider} is not configured any more; using {name}."
                self.notify(gone, markup=False)
                session.provider, session.model = name, model
            provider, model = self._choice
            if provider or model:
                session.provider = provider or session.provider
                session.model = self.core.model_for(session.provider, model)
            self.sub_title = session.title
            return session, ""
        provider, model = self._choice
        if provider:
            model = self.core.model_for(provider, model)
        else:
            provider, default_model = self.core.default_choice()
            model = model or default_model
        hint = "" if provider != "echo" or self.config.default_provider else FIRST_RUN_HINT
        return self.store.new(provider, model, self.config.system_prompt), hint

    @work(exclusive=True, group="probe")
    async def _probe_local_ollama(self) -> None:
        """A reachable local Ollama beats echo; the probe runs after the first paint."""
        provider, model = await self.core.probe_default()
        screen = self.conversation
        if provider == "ollama" and screen and not screen.session.messages:
            screen.switch_model(provider, model)
            screen.query_one("#hint").display = False

    async def on_unmount(self) -> None:
        if self._signals is not None:
            self._signals.__exit__()
        await self.core.aclose()

    # -- signals (see tui/signals.py) -------------------------------------------------------
    _signals: ReplySignals | None = None

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

    # -- helpers used by screens and the palette --------------------------------------------
    @property
    def conversation(self) -> ConversationScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, ConversationScreen):
                return screen
        return None

    def all_models(self) -> list[tuple[str, str]]:
        return [
            (name, model)
            for name in self.core.provider_names()
            for model in self.core.provider(name).instance_models
        ]

    def switch_model(self, provider: str, model: str) -> None:
        if (screen := self.conversation) is not None:
            screen.switch_model(provider, model)

    def open_session_id(self, session_id: str | None) -> None:
        if not session_id or (screen := self.conversation) is None:
            return
        try:
            session = self.store.load(session_id)
        except SessionError as err:
            self.notify(str(err), severity="error", markup=False)
            return
        if not session.provider:  # a hand-written file may name none: the default answers
            session.provider, session.model = self.core.default_choice()
        screen.open_session(session)

    # -- actions ----------------------------------------------------------------------------
    def action_screen_action(self, name: str) -> None:
        if (screen := self.conversation) is not None:
            getattr(screen, f"action_{name}")()

    def action_show_keys(self) -> None:
        if not isinstance(self.screen, KeysScreen):
            self.push_screen(KeysScreen())

    def action_pick_model(self) -> None:
        from .screens.model_picker import ModelPickerScreen

        screen = self.conversation
        if screen is None or isinstance(self.screen, ModelPickerScreen):
            return
        current = (screen.session.provider, screen.session.model)

        def chosen(choice: tuple[str, str] | None) -> None:
            if choice:
                self.switch_model(*choice)

        self.push_screen(ModelPickerScreen(current), chosen)

    def action_open_sessions(self) -> None:
        from .screens.sessions import SessionsScreen

        if isinstance(self.screen, SessionsScreen):
            return
        current = self.conversation.session.id if self.conversation else None
        self.push_screen(SessionsScreen(self.store, current), self.open_session_id)

    def action_open_providers(self) -> None:
        from .screens.providers import ProvidersScreen

        if not isinstance(self.screen, ProvidersScreen):
            self.push_screen(ProvidersScreen())

    def action_open_settings(self) -> None:
        from .screens.settings import SettingsScreen

        if not isinstance(self.screen, SettingsScreen):
            self.push_screen(SettingsScreen())


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
    session = None
    try:
        if args.session or args.cont:
            session_id = store.resolve(args.session) if args.session else store.latest()
            if session_id is None:
                print("chatterm: no saved conversation to continue yet", file=sys.stderr)
            else:
                session = store.load(session_id)
        if args.provider:
            Core(config, store).check_choice(args.provider, args.model or "")
    except (SessionError, ConfigError) as err:
        print(f"chatterm: {err}", file=sys.stderr)
        return 2
    app = ChattermApp(config, store, session=session, provider=args.provider, model=args.model)
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
    app.run()
    return app.return_code or 0  # 1 after a crash, so a script or a test can tell

"""The settings of one conversation: its title, provider, model and system prompt, saved in
its own TOML file (not config.toml). ctrl+s saves, Esc goes back.

The system prompt of an open conversation can change: the next prompt is sent with the new
one (``Session.history`` puts it first). Provider and model change as with F2.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Select, Static, TextArea

from ..config import ConfigError
from ..providers.errors import ProviderError
from ..sanitize import one_line
from ..services import Services
from ..store import Session
from ..widgets.bindings import bindings
from .settings import row


@dataclass(frozen=True)
class ConversationValues:
    """What the form holds: what the conversation screen applies when it is saved."""

    title: str
    provider: str
    model: str
    system_prompt: str


class ConversationSettingsScreen(Screen[ConversationValues | None]):
    """Dismissed with the values to apply, or None when left without saving."""

    BINDINGS = [*bindings("settings"), Binding("escape", "back", "Back")]

    def __init__(self, services: Services, session: Session) -> None:
        super().__init__()
        self.services = services
        self.session = session

    def compose(self) -> ComposeResult:
        session = self.session
        names = self.services.core.provider_names()
        if session.provider not in names:  # a file naming a provider since removed
            names = [session.provider, *names]
        with VerticalScroll(id="conversation-form") as form:
            form.border_title = "This conversation"
            form.border_subtitle = Content(one_line(f"saved as {session.id}.toml", 70))
            title = Input(one_line(session.title, 500), compact=True, id="conversation-title")
            title.placeholder = "from the first prompt"
            yield row("Title", title)
            yield row(
                "Provider",
                Select(
                    [(one_line(name, 60), name) for name in names],
                    allow_blank=False,
                    value=session.provider,
                    compact=True,
                    id="conversation-provider",
                ),
            )
            yield row("Model", Input(session.model, compact=True, id="conversation-model"))
            yield Label("System prompt (sent first with every prompt of this conversation)")
            yield TextArea(session.system_prompt, compact=True, id="conversation-prompt")
            yield Static(id="conversation-message", markup=False)
            yield Button("Save", id="conversation-save", variant="primary", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#conversation-prompt", TextArea).focus()

    def _values(self) -> ConversationValues:
        provider = self.query_one("#conversation-provider", Select).value
        return ConversationValues(
            title=" ".join(self.query_one("#conversation-title", Input).value.split()),
            provider=provider if isinstance(provider, str) else self.session.provider,
            model=self.query_one("#conversation-model", Input).value.strip(),
            system_prompt=self.query_one("#conversation-prompt", TextArea).text,
        )

    @on(Select.Changed, "#conversation-provider")
    def _provider_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.session.provider:
            # Another provider rarely serves the same model name: start from its default.
            model = self.services.core.model_for(event.value)
            self.query_one("#conversation-model", Input).value = model

    @on(Button.Pressed, "#conversation-save")
    def _save_pressed(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        values = self._values()
        if not values.model:
            self._problem("Model: empty. Type one, or pick another provider for its default.")
            return
        try:
            self.services.core.check_choice(values.provider, values.model)
        except (ConfigError, ProviderError) as err:
            self._problem(str(err))
            return
        self.dismiss(values)

    def _problem(self, text: str) -> None:
        message = self.query_one("#conversation-message", Static)
        message.add_class("-error")
        message.update(Content(one_line(text, 400)))
        self.notify(one_line(text, 400), title="Not saved", severity="error", markup=False)

    def action_back(self) -> None:
        self.dismiss(None)

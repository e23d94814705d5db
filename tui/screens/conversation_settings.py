"""The settings of one conversation: its title, provider, model, generation parameters and
system prompt, saved in its own TOML file (not config.toml). ctrl+s saves, Esc goes back.

The system prompt of an open conversation can change: the next prompt is sent with the new
one (``Session.history`` puts it first). Provider and model change as with F2. The
generation parameters (temperature, top_p, max_tokens, seed) are the conversation's own, over
its provider's ``[providers.NAME]`` ones: an empty field leaves the provider's in force, and
a value [providers.NAME] would refuse is refused here, in the same words.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Select, Static, TextArea

from ..chat import parse_param
from ..config import ConfigError
from ..providers.errors import ProviderError
from ..providers.settings import GENERATION_PARAMS
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
    params: dict[str, float | int] = field(default_factory=dict)  # the conversation's own


# Each generation parameter's field: (label, input id).
PARAM_FIELDS = {
    "temperature": ("Temperature", "conversation-temperature"),
    "top_p": ("Top p", "conversation-top-p"),
    "max_tokens": ("Max tokens", "conversation-max-tokens"),
    "seed": ("Seed", "conversation-seed"),
}


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
            for key, (label, input_id) in PARAM_FIELDS.items():
                value = session.params.get(key)
                shown = "" if value is None else str(value)
                yield row(label, Input(shown, compact=True, id=input_id))
            yield Label("System prompt (sent first with every prompt of this conversation)")
            yield TextArea(session.system_prompt, compact=True, id="conversation-prompt")
            yield Static(id="conversation-message", markup=False)
            yield Button("Save", id="conversation-save", variant="primary", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self._show_provider_params(self.session.provider)
        self.query_one("#conversation-prompt", TextArea).focus()

    def _show_provider_params(self, provider: str) -> None:
        """Each empty field says what is sent instead: the provider's value, if it has one."""
        try:
            configured = self.services.core.config.provider_config(provider).params
        except ConfigError:  # a provider the file names that is gone
            configured = {}
        for key, (_label, input_id) in PARAM_FIELDS.items():
            value = configured.get(key)
            placeholder = "the service's default" if value is None else f"{provider}'s: {value}"
            self.query_one(f"#{input_id}", Input).placeholder = one_line(placeholder, 60)

    def _params(self) -> dict[str, float | int]:
        """The parameters typed; ValueError naming the first refused one (the value never
        quoted), in config.toml's words."""
        params: dict[str, float | int] = {}
        for key in GENERATION_PARAMS:
            text = self.query_one(f"#{PARAM_FIELDS[key][1]}", Input).value
            try:
                value = parse_param(key, text)
            except ValueError as err:
                raise ValueError(f"{key} {err}") from None
            if value is not None:
                params[key] = value
        return params

    def _values(self) -> ConversationValues:
        provider = self.query_one("#conversation-provider", Select).value
        return ConversationValues(
            title=" ".join(self.query_one("#conversation-title", Input).value.split()),
            provider=provider if isinstance(provider, str) else self.session.provider,
            model=self.query_one("#conversation-model", Input).value.strip(),
            system_prompt=self.query_one("#conversation-prompt", TextArea).text,
            params=self._params(),
        )

    @on(Select.Changed, "#conversation-provider")
    def _provider_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.session.provider:
            # Another provider rarely serves the same model name: start from its default.
            model = self.services.core.model_for(event.value)
            self.query_one("#conversation-model", Input).value = model
        if isinstance(event.value, str):
            self._show_provider_params(event.value)

    @on(Button.Pressed, "#conversation-save")
    def _save_pressed(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        try:
            values = self._values()
        except ValueError as err:  # a generation parameter out of range, or not a number
            self._problem(str(err))
            return
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

"""F5: the settings of config.toml that a person changes often, saved with ctrl+s.

Nothing is saved until every field is valid. The theme applies live so it can be judged;
leaving without saving puts the previous theme back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.validation import Function
from textual.widget import Widget
from textual.widgets import Button, Footer, Input, Label, Select, Static, TextArea

from ..config import MAX_ATTACHMENT_LIMIT, Config, ConfigError
from ..sanitize import one_line
from ..services import Services
from ..widgets.bindings import bindings


@dataclass(frozen=True)
class Values:
    """What the form holds, parsed; compared to tell whether anything changed."""

    default_provider: str | None
    default_model: str | None
    request_timeout: str
    attachment_limit: str
    fallback: str
    theme: str
    system_prompt: str
    low_bandwidth: str = "auto"  # the link (tui/link.py): values of LINK_CHOICES
    cursor_blink: str = "auto"
    mouse: str = "clicks"
    redraw: str = "changes"


def parse_timeout(text: str) -> float | None:
    """A positive, finite number of seconds, or None."""
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if value > 0 and math.isfinite(value) else None


def parse_limit(text: str) -> int | None:
    """A whole number of KB from 1 to MAX_ATTACHMENT_LIMIT, or None."""
    try:
        value = int(text.strip())
    except ValueError:
        return None
    return value if 1 <= value <= MAX_ATTACHMENT_LIMIT else None


# The link's settings: what each choice writes to config.toml (None: the key is left out).
TRISTATE: dict[str, bool | None] = {"auto": None, "on": True, "off": False}
LINK_CHOICES = {
    "low_bandwidth": [("automatic: on over SSH", "auto"), ("on", "on"), ("off", "off")],
    "cursor_blink": [("automatic: off in low bandwidth", "auto"), ("on", "on"), ("off", "off")],
    "mouse": [
        ("clicks, drags and the wheel", "clicks"),
        ("every movement too (hover)", "on"),
        ("off: the terminal selects text", "off"),
    ],
    "redraw": [
        ("only the cells that changed", "changes"),
        ("whole regions", "full"),
    ],
}
LINK_LABELS = {
    "low_bandwidth": "Low bandwidth",
    "cursor_blink": "Cursor blink",
    "mouse": "Mouse",
    "redraw": "Screen updates",
}


def tristate(value: bool | None) -> str:
    return next(key for key, choice in TRISTATE.items() if choice is value)


def parse_fallback(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def row(label: str, field: Widget) -> Horizontal:
    """A labelled field on one line of the form."""
    return Horizontal(Label(label), field, classes="row")


class SettingsScreen(Screen[None]):
    """``SettingsScreen()``; ctrl+s saves, Esc goes back (discarding what was not saved)."""

    # save_settings is a priority binding: the inputs and the text area would see it first
    BINDINGS = [*bindings("settings"), Binding("escape", "back", "Back")]

    class Saved(Message):
        """The settings were saved (the app puts the link's in force)."""

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self._saved_theme = ""
        self._saved_values: Values | None = None

    @property
    def config(self) -> Config:
        return self.services.config

    def compose(self) -> ComposeResult:
        config = self.config
        names = self.services.core.provider_names()
        default = config.default_provider if config.default_provider in names else Select.NULL
        with VerticalScroll(id="settings-form") as form:
            form.border_title = "Settings"
            form.border_subtitle = Content(one_line(str(config.path), 70))
            yield Static(id="settings-error", markup=False)
            yield row(
                "Default provider",
                Select(
                    [(name, name) for name in names],
                    prompt="automatic",
                    value=default,
                    compact=True,
                    id="settings-provider",
                ),
            )
            model = Input(config.default_model or "", compact=True, id="settings-model")
            model.placeholder = "the provider's own default"
            yield row("Default model", model)
            positive = Function(lambda v: parse_timeout(v) is not None, "not positive")
            timeout = f"{config.request_timeout:g}"
            yield row(
                "Request timeout (s)",
                Input(timeout, validators=[positive], compact=True, id="settings-timeout"),
            )
            in_range = Function(lambda v: parse_limit(v) is not None, "out of range")
            yield row(
                "Attachment limit (KB)",
                Input(
                    str(config.attachment_limit),
                    validators=[in_range],
                    compact=True,
                    id="settings-attachment-limit",
                ),
            )
            fallback = Input(", ".join(config.fallback), id="settings-fallback", compact=True)
            fallback.placeholder = "provider names, comma-separated"
            fallback.validators = [Function(self._unknown_none, "unknown provider")]
            fallback.valid_empty = True
            yield row("Fallback order", fallback)
            themes = [(theme, theme) for theme in sorted(self.app.available_themes)]
            theme = Select(themes, allow_blank=False, value=self.app.theme, id="settings-theme")
            theme.compact = True
            yield row("Theme", theme)
            link = {
                "low_bandwidth": tristate(config.low_bandwidth),
                "cursor_blink": tristate(config.cursor_blink),
                "mouse": config.mouse,
                "redraw": config.redraw,
            }
            for key, choices in LINK_CHOICES.items():
                field_id = f"settings-{key.replace('_', '-')}"
                field = Select(choices, allow_blank=False, value=link[key], id=field_id)
                field.compact = True
                yield row(LINK_LABELS[key], field)
            yield Label("System prompt for new conversations")
            yield TextArea(config.system_prompt, compact=True, id="settings-prompt")
        # Under the form, not in it: in sight however long the form grows.
        yield Static(id="settings-message", markup=False)
        yield Button("Save", id="settings-save", variant="primary", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        banner = self.query_one("#settings-error", Static)
        if self.config.error:
            banner.update(
                Content(
                    f"{one_line(self.config.error, 300)}\nDefaults are in force. Saving writes "
                    "a new file (the old one is kept as config.toml.bak)."
                )
            )
        banner.display = bool(self.config.error)
        self._saved_theme = self.app.theme
        self._saved_values = self._values()
        self.query_one("#settings-provider", Select).focus()

    # -- the form -------------------------------------------------------------------------
    def _unknown_none(self, text: str) -> bool:
        return not self._unknown(parse_fallback(text))

    def _unknown(self, names: list[str]) -> list[str]:
        known = set(self.services.core.provider_names())
        return [name for name in names if name not in known]

    def _values(self) -> Values:
        provider = self.query_one("#settings-provider", Select).value
        theme = self.query_one("#settings-theme", Select).value
        return Values(
            default_provider=provider if isinstance(provider, str) else None,
            default_model=self.query_one("#settings-model", Input).value.strip() or None,
            request_timeout=self.query_one("#settings-timeout", Input).value,
            attachment_limit=self.query_one("#settings-attachment-limit", Input).value,
            fallback=self.query_one("#settings-fallback", Input).value,
            theme=theme if isinstance(theme, str) else self.app.theme,
            system_prompt=self.query_one("#settings-prompt", TextArea).text,
            **{key: self._choice(key) for key in LINK_CHOICES},
        )

    def _choice(self, key: str) -> str:
        value = self.query_one(f"#settings-{key.replace('_', '-')}", Select).value
        return value if isinstance(value, str) else LINK_CHOICES[key][0][1]

    def _problems(self, values: Values) -> list[str]:
        problems = []
        if parse_timeout(values.request_timeout) is None:
            problems.append("Request timeout must be a positive number of seconds.")
        if parse_limit(values.attachment_limit) is None:
            problems.append(
                f"Attachment limit must be a whole number of KB from 1 to {MAX_ATTACHMENT_LIMIT}."
            )
        if unknown := self._unknown(parse_fallback(values.fallback)):
            known = ", ".join(self.services.core.provider_names())
            problems.append(f"Unknown provider in fallback: {', '.join(unknown)} (known: {known}).")
        return problems

    def _message(self, text: str, *, error: bool = False) -> None:
        message = self.query_one("#settings-message", Static)
        message.set_class(error, "-error")
        message.update(Content(one_line(text, 400)))

    # -- events and keys ------------------------------------------------------------------
    @on(Select.Changed, "#settings-provider")
    def _provider_changed(self, event: Select.Changed) -> None:
        model = self.query_one("#settings-model", Input)
        if isinstance(event.value, str):
            default = self.services.core.provider(event.value).instance_default_model
            model.placeholder = one_line(f"{default} (the provider's default)", 60)
        else:
            model.placeholder = "the provider's own default"

    @on(Select.Changed, "#settings-theme")
    def _theme_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.app.theme:
            self.app.theme = event.value  # live, so the user sees what they pick

    @on(Button.Pressed, "#settings-save")
    async def _save_pressed(self) -> None:
        await self.action_save()

    async def action_save(self) -> None:
        values = self._values()
        if problems := self._problems(values):
            for field in ("#settings-timeout", "#settings-attachment-limit", "#settings-fallback"):
                self.query_one(field, Input).validate(self.query_one(field, Input).value)
            self._message(" ".join(problems), error=True)
            self.notify(" ".join(problems), title="Not saved", severity="error")
            return
        if not await self._apply(values):
            return
        self._saved_theme = values.theme
        self._saved_values = values
        self.post_message(self.Saved())
        self.query_one("#settings-error", Static).display = False
        self._message(f"Saved to {self.config.path}")
        self.notify(f"Saved to {self.config.path}")

    async def _apply(self, values: Values) -> bool:
        """Save *values* (copy, validate, save, swap: see Services.change_config)."""
        timeout = parse_timeout(values.request_timeout)
        limit = parse_limit(values.attachment_limit)
        assert timeout is not None and limit is not None  # _problems checked them

        def change(config: Config) -> None:
            config.default_provider = values.default_provider
            config.default_model = values.default_model
            config.request_timeout = timeout
            config.attachment_limit = limit
            config.fallback = parse_fallback(values.fallback)
            config.theme = values.theme
            config.system_prompt = values.system_prompt
            config.low_bandwidth = TRISTATE[values.low_bandwidth]
            config.cursor_blink = TRISTATE[values.cursor_blink]
            config.mouse = values.mouse
            config.redraw = values.redraw

        path = self.config.path
        try:
            await self.services.change_config(change)
        except OSError as err:
            problem = f"Could not save {path}: {err.strerror}"
        except ConfigError as err:  # the file's own rules, in the file's own words
            problem = f"Not saved: {err}"
        else:
            return True
        self._message(problem, error=True)
        self.notify(problem, severity="error", markup=False)
        return False

    def action_back(self) -> None:
        if self._saved_values is not None and self._values() != self._saved_values:
            self.notify("Unsaved settings were discarded.")
        if self.app.theme != self._saved_theme:
            self.app.theme = self._saved_theme
        self.app.pop_screen()

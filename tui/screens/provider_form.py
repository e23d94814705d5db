"""F4's form: add a provider, or change one, in config.toml. ctrl+s saves, Esc goes back.

The form only gathers a ``ProviderForm``; checking and saving are the core's
(``tui/provider_admin.py`` through ``Services.change_config``), with the config file's own
messages, so a bad URL reads the same here, in ``chatterm providers add`` and in the file.
A saved key is never drawn: the key field starts empty and, left empty, keeps it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Select, Static

from ..provider_admin import ProviderForm
from ..providers import KINDS
from ..sanitize import one_line
from ..widgets.bindings import bindings
from .settings import row

# Called with the form; returns why it was not saved, or "" once it was.
Submit = Callable[[ProviderForm], Awaitable[str]]
FIELDS = ("name", "base-url", "key", "key-env", "proxy", "models", "default-model")


class ProviderFormScreen(Screen[str | None]):
    """Dismissed with the provider's name once saved, or None when left without saving."""

    BINDINGS = [*bindings("settings"), Binding("escape", "back", "Back")]

    def __init__(
        self, submit: Submit, form: ProviderForm | None = None, *, has_key: bool = False
    ) -> None:
        super().__init__()
        self.submit = submit
        self.editing = form is not None
        self.form = form or ProviderForm(name="", kind="openai")
        self.has_key = has_key

    def compose(self) -> ComposeResult:
        form = self.form
        with VerticalScroll(id="provider-form") as box:
            box.border_title = (
                f"Provider {one_line(form.name, 40)}" if self.editing else "New provider"
            )
            box.border_subtitle = "ctrl+s save · Esc back"
            name = Input(form.name, compact=True, id="provider-form-name", disabled=self.editing)
            name.placeholder = "e.g. groq, lmstudio, work-proxy"
            yield row("Name", name)
            kinds = [(kind, kind) for kind in KINDS]
            yield row(
                "Kind",
                Select(
                    kinds, value=form.kind, allow_blank=False, compact=True, id="provider-form-kind"
                ),
            )
            yield row("Base URL", self._input("base-url", form.base_url, "the service's default"))
            key_hint = "leave empty to keep the saved key" if self.has_key else "none"
            yield row("API key", self._input("key", "", key_hint, password=True))
            yield row("Key variable", self._input("key-env", form.api_key_env, "e.g. GROQ_API_KEY"))
            yield row("Proxy", self._input("proxy", form.proxy, "none"))
            models = ", ".join(form.models)
            yield row("Models", self._input("models", models, "the live list (comma-separated)"))
            yield row(
                "Default model", self._input("default-model", form.default_model, "the first")
            )
            yield Static(id="provider-form-message", markup=False)
            yield Button("Save", id="provider-form-save", variant="primary", compact=True)
        yield Footer()

    def _input(
        self, field: str, value: str | None, placeholder: str, password: bool = False
    ) -> Input:
        widget = Input(value or "", compact=True, password=password, id=f"provider-form-{field}")
        widget.placeholder = placeholder
        return widget

    def on_mount(self) -> None:
        first = "#provider-form-base-url" if self.editing else "#provider-form-name"
        self.query_one(first, Input).focus()

    def _text(self, field: str) -> str:
        return self.query_one(f"#provider-form-{field}", Input).value.strip()

    def values(self) -> ProviderForm:
        kind = self.query_one("#provider-form-kind", Select).value
        models = tuple(m.strip() for m in self._text("models").split(",") if m.strip())
        return ProviderForm(
            name=self._text("name"),
            kind=kind if isinstance(kind, str) else self.form.kind,
            base_url=self._text("base-url") or None,
            api_key=self._text("key") or None,
            api_key_env=self._text("key-env") or None,
            proxy=self._text("proxy") or None,
            models=models,
            default_model=self._text("default-model") or None,
        )

    @on(Button.Pressed, "#provider-form-save")
    async def _save_pressed(self) -> None:
        await self.action_save()

    async def action_save(self) -> None:
        values = self.values()
        problem = await self.submit(values)
        if problem:
            message = self.query_one("#provider-form-message", Static)
            message.add_class("-error")
            message.update(Content(one_line(problem, 400)))
            self.notify(one_line(problem, 400), title="Not saved", severity="error", markup=False)
            return
        self.query_one("#provider-form-key", Input).value = ""  # a key leaves the widget
        self.dismiss(values.name)

    def action_back(self) -> None:
        self.dismiss(None)

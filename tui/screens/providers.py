"""F4: every provider, its state and models; enter an API key; send a test prompt; add,
change or remove a provider (the form is tui/screens/provider_form.py, the checks and the
save tui/provider_admin.py, as for ``chatterm providers add|rm``).

A key typed here goes into config.toml only (mode 0600) and is shown masked from then
on; no full key is ever drawn, logged or put in a notification.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from rich.table import Table
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from ..config import Config, ConfigError, ProviderConfig
from ..provider_admin import ProviderForm, apply_form, apply_removal, form_of
from ..providers.base import LIVE_LIST_TIMEOUT, Provider
from ..providers.errors import ProviderError
from ..sanitize import mask_url, one_line
from ..services import Services
from ..widgets.bindings import bindings
from .provider_form import ProviderFormScreen, Submit

MODELS_SHOWN = 30  # a live list can hold hundreds; the picker (F2) is where to browse them
# Below this many columns the list and the details are stacked, not side by side: beside a
# 30-column list, the details of a 40-column terminal were 8 columns wide.
NARROW_WIDTH = 72


def mask_key(key: str) -> str:
    """``sk-…1234`` for a long key; a short one would be guessable from its ends."""
    return f"{key[:3]}…{key[-4:]}" if len(key) > 12 else "••••"


def provider_state(provider: Provider) -> str:
    states = []
    if not provider.configured:
        states.append("needs key")
    if not provider.working:
        states.append("not working")
    return " · ".join(states) or "configured"


def first_line(text: str) -> str:
    line = next((line for line in text.splitlines() if line.strip()), "")
    return one_line(line, 200) or "(an empty reply)"


class ProvidersScreen(Screen[None]):
    """``ProvidersScreen(selected=None)``; Esc or q goes back."""

    BINDINGS = [Binding("escape,q", "back", "Back"), *bindings("providers")]

    def __init__(self, services: Services, selected: str | None = None) -> None:
        super().__init__()
        self.services = services
        self._names: list[str] = []
        self._selected = selected
        self._asked: set[str] = set()  # providers whose live list was asked for on this visit
        self._tests: dict[str, tuple[str, str]] = {}  # name -> (text, "" | "-ok" | "-error")

    def compose(self) -> ComposeResult:
        with Horizontal(id="providers-body"):
            provider_list = OptionList(id="provider-list", markup=False)
            provider_list.border_title = "Providers"
            yield provider_list
            with VerticalScroll(id="provider-details"):
                yield Static(id="provider-info", markup=False)
                yield Static(id="provider-models", markup=False)
                yield Input(password=True, id="provider-key")
                with Horizontal(id="provider-test-row"):
                    yield Button("Test", id="provider-test")
                    yield Static(id="provider-test-result", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self._fill_list(self._selected)
        self.query_one("#provider-list", OptionList).focus()

    def _fill_list(self, selected: str | None) -> None:
        self._names = list(self.services.core.provider_names(g4f=True))
        provider_list = self.query_one("#provider-list", OptionList)
        provider_list.set_options(Option(self._list_item(name)) for name in self._names)
        start = self._names.index(selected) if selected in self._names else 0
        provider_list.highlighted = start
        self._show(self._names[start])

    # -- what is shown ----------------------------------------------------------------------
    @property
    def selected(self) -> str:
        index = self.query_one("#provider-list", OptionList).highlighted
        return self._names[index or 0]

    def _provider(self, name: str) -> Provider:
        return self.services.core.provider(name)

    def _list_item(self, name: str) -> Content:
        provider = self._provider(name)
        state = provider_state(provider)
        style = "$text-success" if state == "configured" else "$text-warning"
        return Content.assemble(
            (one_line(name, 24), "bold"),
            "\n  ",
            (one_line(provider.label, 22), "dim"),
            "\n  ",
            (state, style),
        )

    def _refresh_list(self) -> None:
        provider_list = self.query_one("#provider-list", OptionList)
        for index, name in enumerate(self._names):
            provider_list.replace_option_prompt_at_index(index, self._list_item(name))

    def _show(self, name: str) -> None:
        provider = self._provider(name)
        details = self.query_one("#provider-details", VerticalScroll)
        details.border_title = Content(one_line(name, 30))  # a name is never markup
        self.query_one("#provider-info", Static).update(self._info(name, provider))
        self._show_models(name)
        self._show_key_input(name, provider)
        self._show_test(name)

    def _info(self, name: str, provider: Provider) -> Table:
        """Label and value columns, so a long value wraps under itself."""
        table = Table.grid(padding=(0, 1))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        url = mask_url(provider.base_url or provider.url or "(none: runs locally)")
        rows = [
            ("label", one_line(provider.label, 60)),
            ("kind", provider.kind),
            ("URL", one_line(url, 200)),
            ("flags", " · ".join(provider.flags()) or "none"),
            ("key", self._key_state(name, provider)),
        ]
        if proxy := provider.settings.proxy:  # its password, if any, is never drawn
            rows.insert(3, ("proxy", one_line(mask_url(proxy), 200)))
        for label, value in rows:
            table.add_row(label, Text(value))  # Text: a server's words are never markup
        return table

    def _key_state(self, name: str, provider: Provider) -> str:
        """Where the key comes from, masked; or where one would go."""
        resolved = provider.settings.api_key
        in_file = self.services.config.providers.get(name)
        file_key = in_file.api_key if in_file else None
        env = provider.settings.api_key_env or provider.api_key_env
        if resolved and resolved != file_key:
            return f"{mask_key(resolved)} from ${env} (it wins over config.toml)"
        if resolved:
            return f"{mask_key(resolved)} in config.toml"
        if provider.needs_auth and not provider.configured:
            return f"missing: {provider.key_hint()}"
        if provider.needs_auth:  # a kind that takes keys, at a local address (OpenAI's)
            return "not needed here (add one if the server asks for it)"
        return "not needed"

    def _show_key_input(self, name: str, provider: Provider) -> None:
        key_input = self.query_one("#provider-key", Input)
        # a key only makes sense where the service reads one
        key_input.display = provider.needs_auth or bool(provider.api_key_env)
        key_input.placeholder = f"API key for {one_line(name, 30)} (Enter saves)"

    def _show_models(self, name: str) -> None:
        provider = self._provider(name)
        loading = provider.has_live_list() and name not in self._asked
        listed = self.services.model_lists.current(provider)
        models = listed.models
        text = ", ".join(one_line(m, 60) for m in models[:MODELS_SHOWN]) or "(none listed)"
        if len(models) > MODELS_SHOWN:
            text += f", … ({len(models) - MODELS_SHOWN} more in F2)"
        widget = self.query_one("#provider-models", Static)
        widget.update(
            Content.assemble(
                ("models", "bold"),
                ("  loading…" if loading else ""),
                "\n",
                text,
                "\n",
                (one_line(listed.describe(), 300), "dim"),  # where the list came from, or why not
            )
        )
        if loading:
            self._load_models(name)

    def _show_test(self, name: str) -> None:
        text, state = self._tests.get(name, ("press t to send a one-word test prompt", ""))
        result = self.query_one("#provider-test-result", Static)
        result.set_class(state == "-error", "-error")
        result.set_class(state == "-ok", "-ok")
        result.update(Content(text))

    # -- workers ----------------------------------------------------------------------------
    @work(exclusive=True, group="provider-models")
    async def _load_models(self, name: str) -> None:
        """The live list, asked once per visit (F4 is where one checks a provider); the
        cache (Services.model_lists) keeps it for F2 and says why when it fails."""
        provider = self._provider(name)
        try:
            async with asyncio.timeout(LIVE_LIST_TIMEOUT):
                await self.services.model_lists.refresh(provider, force=True)
        except TimeoutError:
            pass  # the cached or static list stays, said to be what it is
        self._asked.add(name)
        if name == self.selected:
            self._show_models(name)

    async def _run_test(self, name: str) -> None:
        try:
            reply = await self.services.core.test_provider(name)
        except (ProviderError, ConfigError) as err:
            self._tests[name] = (one_line(str(err), 400), "-error")
        else:
            self._tests[name] = (f"replied: {first_line(reply)}", "-ok")
        if name == self.selected:
            self._show_test(name)

    # -- events and keys --------------------------------------------------------------------
    def on_resize(self, event: events.Resize) -> None:
        # Textual CSS has no media queries: a class switches the layout (chatterm.tcss).
        self.set_class(event.size.width < NARROW_WIDTH, "-narrow")

    @on(OptionList.OptionHighlighted, "#provider-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show(self._names[event.option_index])

    @on(Button.Pressed, "#provider-test")
    def _test_pressed(self) -> None:
        self.action_test()

    def action_test(self) -> None:
        name = self.selected
        self._tests[name] = ("testing…", "")
        self._show_test(name)
        # one worker per provider, so testing a second one never cancels the first
        self.run_worker(self._run_test(name), group=f"test-{name}", exclusive=True)

    def action_focus_key(self) -> None:
        key_input = self.query_one("#provider-key", Input)
        if key_input.display:
            key_input.focus()

    def action_back(self) -> None:
        self.app.pop_screen()

    # -- add, change, remove ----------------------------------------------------------------
    def action_add_provider(self) -> None:
        self.app.push_screen(ProviderFormScreen(self._submitter(replacing=False)), self._saved)

    def action_edit_provider(self) -> None:
        name = self.selected
        config = self.services.config
        form = form_of(config, name)
        has_key = bool(name in config.providers and config.providers[name].api_key)
        screen = ProviderFormScreen(self._submitter(replacing=True), form, has_key=has_key)
        self.app.push_screen(screen, self._saved)

    def _submitter(self, *, replacing: bool) -> Submit:
        async def submit(form: ProviderForm) -> str:
            def change(config: Config) -> None:
                apply_form(config, form, replacing=replacing)

            return await self._change(change)

        return submit

    async def _change(self, change: Callable[[Config], None]) -> str:
        """Why the change was not saved ("" when it was): the file's own message."""
        try:
            await self.services.change_config(change)
        except ConfigError as err:  # its message names the setting, never a key
            return str(err)
        except OSError as err:
            return f"could not save {self.services.config.path}: {err.strerror}"
        return ""

    def _saved(self, name: str | None) -> None:
        if name is None:
            return
        self._asked.discard(name)
        self._tests.pop(name, None)
        self._fill_list(name)
        path = self.services.config.path
        self.notify(f"Saved {one_line(name, 30)} to {path}", markup=False)

    def action_remove_provider(self) -> None:
        from .sessions import ConfirmScreen

        name = self.selected
        if name not in self.services.config.providers:
            self.notify(f"{one_line(name, 30)} is built in: nothing to remove.", markup=False)
            return

        async def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            if problem := await self._change(lambda config: apply_removal(config, name)):
                self.notify(
                    one_line(problem, 400), title="Not removed", severity="error", markup=False
                )
                return
            self._fill_list(None)
            self.notify(
                f"Removed {one_line(name, 30)} from {self.services.config.path}", markup=False
            )

        question = f"Remove {one_line(name, 30)} from config.toml? y/n"
        self.app.push_screen(ConfirmScreen(question), confirmed)

    @on(Input.Submitted, "#provider-key")
    async def _key_submitted(self, event: Input.Submitted) -> None:
        event.input.value = ""  # the typed key leaves the widget whatever happens next
        key = event.value.strip()
        name = self.selected
        if not key or any(c.isspace() or not c.isprintable() for c in key):
            self.notify("An API key is one word without spaces; nothing saved.", severity="error")
            return
        if not await self._save_key(name, key):
            return
        self._asked.discard(name)
        self._refresh_list()
        self._show(name)
        path = self.services.config.path
        self.notify(f"Key for {one_line(name, 30)} saved to {path}", markup=False)

    async def _save_key(self, name: str, key: str) -> bool:
        def set_key(config: Config) -> None:
            entry = config.providers.get(name) or ProviderConfig(name=name, kind=name)
            entry.api_key = key
            config.providers[name] = entry

        path = self.services.config.path
        try:
            await self.services.change_config(set_key)
        except OSError as err:
            self.notify(f"Could not save {path}: {err.strerror}", severity="error")
            return False
        except ConfigError as err:  # its message names the setting, never the key
            self.notify(f"Not saved: {err}", severity="error", markup=False)
            return False
        return True

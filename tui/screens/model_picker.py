"""F2: choose a model from every provider, filtered as you type.

Static model lists show at once; providers with a live list are asked in a worker and
their extra models are merged in as each answer arrives, so a slow or dead server never
holds the picker up. Model names come from servers: they are shown through ``clean``
and only ever as plain ``Content``, never as markup.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from rich.cells import cell_len
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.fuzzy import FuzzySearch
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ..providers.base import LIVE_LIST_TIMEOUT, Provider
from ..sanitize import one_line
from ..services import Services

NAME_WIDTH = 44  # flags line up after this many cells, so they read as a column
HINT = "type to filter · ↑↓ move · Enter choose · Esc cancel"

Choice = tuple[str, str]


@dataclass(frozen=True)
class Entry:
    """One row: what it returns and what it shows (cleaned)."""

    choice: Choice
    text: str  # "provider/model", cleaned and on one line: what the filter matches
    flags: str
    typed: bool = False  # a typed provider/model that no list offered


def order_choices(recent: list[str], current: Choice, models: dict[str, list[str]]) -> list[Choice]:
    """Recent first, then the current one, then every provider's models in turn."""
    ordered: list[Choice] = []
    for item in recent:
        name, _, model = item.partition("/")
        if name in models and model:
            ordered.append((name, model))
    if current[0] in models and current[1]:
        ordered.append(current)
    for name, names in models.items():
        ordered.extend((name, model) for model in names)
    return list(dict.fromkeys(ordered))  # keeps the first place of each


def filter_entries(entries: list[Entry], query: str) -> list[Entry]:
    """Substring matches in list order, then fuzzy ones, best first."""
    query = query.strip().lower()
    if not query:
        return list(entries)
    exact = [e for e in entries if query in e.text.lower()]
    fuzzy = FuzzySearch()
    scored = [(fuzzy.match(query, e.text)[0], e) for e in entries if e not in exact]
    loose = [e for score, e in sorted(scored, key=lambda pair: -pair[0]) if score > 0]
    return exact + loose


def flags_for(provider: Provider) -> str:
    """The provider's caveats; "needs key" only while the key is actually missing."""
    flags = provider.flags()
    if provider.configured and "needs key" in flags:
        flags.remove("needs key")
    return " · ".join(flags)


class ModelPickerScreen(ModalScreen[Choice | None]):
    """Returns ``(provider, model)``, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        # priority: the Input keeps focus, so the list moves without ever taking it
        Binding("up", "move('up')", "Up", show=False, priority=True),
        Binding("down", "move('down')", "Down", show=False, priority=True),
        Binding("pageup", "move('page_up')", "Page up", show=False, priority=True),
        Binding("pagedown", "move('page_down')", "Page down", show=False, priority=True),
    ]

    def __init__(self, services: Services, current: Choice) -> None:
        super().__init__()
        self.services = services
        self.current = current
        self._models: dict[str, list[str]] = {}
        self._flags: dict[str, str] = {}
        self._shown: list[Entry] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-box") as box:
            box.border_title = "Model"
            box.border_subtitle = Content(one_line("/".join(self.current), 60))  # never markup
            yield Input(placeholder="filter, or type provider/model", id="picker-filter")
            option_list = OptionList(id="picker-list", markup=False)
            option_list.can_focus = False
            yield option_list
            yield Static(HINT, id="picker-hint", markup=False)

    def on_mount(self) -> None:
        core = self.services.core
        for name in core.provider_names():
            provider = core.provider(name)
            self._models[name] = list(provider.instance_models)
            self._flags[name] = flags_for(provider)
        self._refresh_options()
        self.query_one("#picker-filter", Input).focus()
        self._load_live_lists()

    # -- entries --------------------------------------------------------------------------
    def _entries(self) -> list[Entry]:
        items = list(self.services.recent.items)
        return [
            Entry(choice, _display(*choice), self._flags.get(choice[0], ""))
            for choice in order_choices(items, self.current, self._models)
        ]

    def _typed_entry(self, query: str, entries: list[Entry]) -> Entry | None:
        """``provider/model`` typed in full, for providers that host any model name."""
        name, slash, model = query.strip().partition("/")
        if not slash or not model.strip() or name not in self._models:
            return None
        choice = (name, model.strip())
        if any(e.choice == choice for e in entries):
            return None
        provider = self.services.core.provider(name)
        if not (provider.accepts_any_model or not provider.instance_models):
            return None  # the core would refuse a model outside a fixed list
        return Entry(choice, _display(*choice), "not in the list: use as typed", typed=True)

    def _refresh_options(self) -> None:
        query = self.query_one("#picker-filter", Input).value
        option_list = self.query_one("#picker-list", OptionList)
        kept = option_list.highlighted
        previous = self._shown[kept].choice if kept is not None and self._shown else None
        entries = self._entries()
        shown = filter_entries(entries, query)
        if typed := self._typed_entry(query, entries):
            # first when nothing else matches the text, so Enter takes what was typed
            exact = any(query.strip().lower() in e.text.lower() for e in shown)
            shown = [*shown, typed] if exact else [typed, *shown]
        self._shown = shown
        option_list.set_options(Option(_prompt(e, query)) for e in shown)
        choices = [e.choice for e in shown]
        if shown:
            option_list.highlighted = choices.index(previous) if previous in choices else 0

    # -- live lists -----------------------------------------------------------------------
    @work(exclusive=True, group="picker-live")
    async def _load_live_lists(self) -> None:
        core = self.services.core
        providers = [core.provider(name) for name in self._models]
        names = [p.name for p in providers if p.has_live_list() and p.configured]
        hint = self.query_one("#picker-hint", Static)
        if names:
            hint.update(f"asking {', '.join(names)} for their models… · {HINT}")
        for arrived in asyncio.as_completed([self._live_list(n) for n in names]):
            name, models = await arrived
            extra = [m for m in models if m and m not in self._models[name]]
            if extra:
                self._models[name].extend(extra)
                self._refresh_options()
        hint.update(HINT)

    async def _live_list(self, name: str) -> tuple[str, list[str]]:
        try:
            async with asyncio.timeout(LIVE_LIST_TIMEOUT):
                models = await self.services.core.provider(name).list_models()
        except Exception:  # a menu is optional: any failure keeps the static list
            return name, []
        return name, [m for m in models if isinstance(m, str)]

    # -- keys -----------------------------------------------------------------------------
    @on(Input.Changed, "#picker-filter")
    def _filter_changed(self) -> None:
        self._refresh_options()
        if self._shown:
            self.query_one("#picker-list", OptionList).highlighted = 0

    @on(Input.Submitted, "#picker-filter")
    def _submitted(self) -> None:
        index = self.query_one("#picker-list", OptionList).highlighted
        if index is not None and index < len(self._shown):
            self.dismiss(self._shown[index].choice)
        else:
            self.app.bell()

    @on(OptionList.OptionSelected, "#picker-list")
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._shown[event.option_index].choice)

    def action_move(self, step: str) -> None:
        """Move the highlight: "up" / "down" a row, "page_up" / "page_down" a page."""
        option_list = self.query_one("#picker-list", OptionList)
        moves = {
            "up": option_list.action_cursor_up,
            "down": option_list.action_cursor_down,
            "page_up": option_list.action_page_up,
            "page_down": option_list.action_page_down,
        }
        moves[step]()

    def action_cancel(self) -> None:
        self.dismiss(None)


def _display(provider: str, model: str) -> str:
    return f"{one_line(provider, 30)}/{one_line(model, 80)}"


def _prompt(entry: Entry, query: str) -> Content:
    """The row: name with the typed text underlined, then the flags, dimmed."""
    name = Content(entry.text)
    start = entry.text.lower().find(query.strip().lower()) if query.strip() else -1
    if start >= 0:
        name = name.stylize("bold underline", start, start + len(query.strip()))
    if not entry.flags:
        return name
    gap = max(2, NAME_WIDTH - cell_len(entry.text))
    return name + Content(" " * gap) + Content.styled(entry.flags, "dim")

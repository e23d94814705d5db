"""F2: choose a model from every provider, filtered as you type.

Each provider's list is shown at once as ``ModelLists`` has it (the cached live list, else
the configured or built-in one), each row saying where it came from; providers whose live
list is stale are asked in a worker and their rows updated as each answer arrives, so a
slow or dead server never holds the picker up, and one whose list failed says why in a dim
row. ctrl+r asks them all again. A ``provider/model`` no list offers is used as typed after
a confirmation. Model names and errors come from servers: they are shown through ``clean``
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

from ..model_lists import LIVE, ModelList, age_text
from ..providers import G4F_PREFIX
from ..providers.base import LIVE_LIST_TIMEOUT, Provider
from ..sanitize import one_line
from ..services import Services
from ..widgets.bindings import bindings
from .sessions import ConfirmScreen

NAME_WIDTH = 44  # the widest name column: the source and flags line up after it
SOURCE_WIDTH = 16  # "live · 59 min old" and the like; flags follow it
HINT = "type to filter · ↑↓ move · Enter choose · {refresh} refresh · Esc cancel"
# The worker's own bound on one list (httpx has its own per read): then the row says so.
ASK_TIMEOUT = LIVE_LIST_TIMEOUT * 3

Choice = tuple[str, str]


@dataclass(frozen=True)
class Entry:
    """One row: what it returns and what it shows (cleaned)."""

    choice: Choice
    text: str  # "provider/model", cleaned and on one line: what the filter matches
    flags: str
    source: str = ""  # where the model came from: "live · 2 min old", "configured"...
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
    """Substring matches in list order; only when there are none, fuzzy ones, best first
    (with the [g4f] extra's hundreds of models, loose matches after the real ones are
    noise that pushes nothing useful up)."""
    query = query.strip().lower()
    if not query:
        return list(entries)
    if exact := [e for e in entries if query in e.text.lower()]:
        return exact
    fuzzy = FuzzySearch()
    scored = [(fuzzy.match(query, e.text)[0], e) for e in entries]
    return [e for score, e in sorted(scored, key=lambda pair: -pair[0]) if score > 0]


def flags_for(provider: Provider) -> str:
    """The provider's caveats; "needs key" only while the key is actually missing."""
    flags = provider.flags()
    if provider.configured and "needs key" in flags:
        flags.remove("needs key")
    return " · ".join(flags)


def source_text(source: str, listed: ModelList, now: float | None = None) -> str:
    """A row's source column: "live · 2 min old", "configured", "built-in"."""
    age = listed.age(now)
    return f"live · {age_text(age)}" if source == LIVE and age is not None else source


def split_typed(query: str, providers: list[str]) -> tuple[str, str] | None:
    """``provider/model`` as typed: the longest provider name it starts with, else the text
    before the first "/" (a provider that is not there). The model may hold "/" and ":"."""
    text = query.strip()
    for name in sorted(providers, key=len, reverse=True):
        if text.startswith(f"{name}/"):
            return name, text[len(name) + 1 :].strip()
    name, slash, model = text.partition("/")
    return (name.strip(), model.strip()) if slash else None


class UseTypedModelScreen(ConfirmScreen):
    """The question before a model no list offers is used: Enter or y yes, n or Esc no."""

    BINDINGS = [Binding("enter", "answer(True)", "Yes", show=False)]

    def __init__(self, choice: Choice) -> None:
        provider, model = one_line(choice[0], 30), one_line(choice[1], 80)
        super().__init__(
            f"Use model '{model}' with provider '{provider}'? It is in none of its lists. "
            "Enter / y: yes · n / Esc: no"
        )


class ModelPickerScreen(ModalScreen[Choice | None]):
    """Returns ``(provider, model)``, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        *bindings("picker"),  # refresh_models (tui/keys.toml)
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
        self._lists: dict[str, ModelList] = {}
        self._flags: dict[str, str] = {}
        self._failures: dict[str, str] = {}  # lists the worker itself gave up on, and why
        self._shown: list[Entry] = []  # the selectable rows, first in the list in this order

    @property
    def _models(self) -> dict[str, list[str]]:
        return {name: [m for m, _ in listed.sources()] for name, listed in self._lists.items()}

    @property
    def hint(self) -> str:
        """The keys, refresh's as the user has it ([keys] refresh_models)."""
        return HINT.format(refresh=self.services.key_for("refresh_models"))

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-box") as box:
            box.border_title = "Model"
            box.border_subtitle = Content(one_line("/".join(self.current), 60))  # never markup
            yield Input(placeholder="filter, or type provider/model", id="picker-filter")
            option_list = OptionList(id="picker-list", markup=False)
            option_list.can_focus = False
            yield option_list
            yield Static(self.hint, id="picker-hint", markup=False)

    def on_mount(self) -> None:
        core = self.services.core
        lists = self.services.model_lists
        self._add_lists(core.provider_names())
        self._refresh_options()
        self.query_one("#picker-filter", Input).focus()
        stale = [n for n in self._askable() if lists.is_stale(core.provider(n))]
        if stale:
            self._ask(stale, force=False)
        # With the [g4f] extra, after the first paint: importing g4f takes a moment the
        # first time. Not in a thread: its listing refuses connections while it imports.
        self.call_after_refresh(self._add_g4f)

    def _add_lists(self, names: list[str]) -> None:
        core, lists = self.services.core, self.services.model_lists
        for name in names:
            provider = core.provider(name)
            self._lists[name] = lists.current(provider)  # the cache: no request, no wait
            self._flags[name] = flags_for(provider)

    def _add_g4f(self) -> None:
        """The [g4f] extra's working providers (g4f/NAME) and the models each declares,
        after the others; those marked not working are still taken when typed."""
        names = self.services.core.provider_names(g4f=True)  # the others, without the extra
        if added := [n for n in names if n not in self._lists]:
            self._add_lists(added)
            self._refresh_options()

    # -- entries --------------------------------------------------------------------------
    def _entries(self) -> list[Entry]:
        items = list(self.services.recent.items)
        sources = {name: dict(listed.sources()) for name, listed in self._lists.items()}
        entries = []
        for name, model in order_choices(items, self.current, self._models):
            listed = self._lists[name]
            source = source_text(sources[name].get(model, listed.source), listed)
            entries.append(Entry((name, model), _display(name, model), self._flags[name], source))
        return entries

    def _typed_names(self, query: str) -> list[str]:
        """The providers a typed ``provider/model`` may name: those listed, and with the
        [g4f] extra every ``g4f/NAME`` (not listed: there are dozens), once "g4f/" is typed."""
        names = list(self._lists)
        if query.strip().startswith(G4F_PREFIX):
            names += self.services.core.provider_names(g4f=True, not_working=True)
        return names

    def _typed_entry(self, query: str, entries: list[Entry]) -> Entry | None:
        """``provider/model`` typed in full, for providers that host any model name."""
        if self._typed_problem(query):
            return None
        split = split_typed(query, self._typed_names(query))
        if split is None or not split[1] or any(e.choice == split for e in entries):
            return None
        return Entry(split, _display(*split), "", "not listed · Enter to use it", typed=True)

    def _typed_problem(self, query: str) -> str:
        """Why the typed ``provider/model`` cannot be used ("" when it can, or is not one)."""
        split = split_typed(query, self._typed_names(query))
        if split is None:
            return ""
        name, model = split
        if name not in self._typed_names(query):
            known = ", ".join(self._lists)
            return f"no provider named {one_line(name, 30)!r} (there are: {known})"
        if not model or model in self._models.get(name, ()):
            return ""
        provider = self.services.core.provider(name)
        if not (provider.accepts_any_model or not provider.instance_models):
            return f"{name} takes only the models it lists"  # the core would refuse another
        return ""

    def _notes(self, query: str, shown: list[Entry], typed: Entry | None) -> list[str]:
        """The dim rows under the models: nothing matched, and the lists that failed."""
        notes = []
        text = query.strip()
        problem = self._typed_problem(text)
        if text and not shown:
            said = one_line(text, 40)
            if problem:
                notes.append(f"no model matches '{said}' — {problem}")
            elif typed is not None:
                notes.append(f"no model matches '{said}' — Enter uses it as typed, asking first")
            else:
                notes.append(
                    f"no model matches '{said}' — "
                    "type provider/model and Enter to use one not listed"
                )
        elif problem:
            notes.append(problem)  # some rows match loosely, but not as typed
        wanted = text.lower().partition("/")[0]
        for name, listed in self._lists.items():
            error = self._failures.get(name) or listed.error
            if error and (not wanted or wanted in name.lower()):
                notes.append(f"{one_line(name, 30)}: live list failed: {one_line(error, 100)}")
        return notes

    def _refresh_options(self) -> None:
        query = self.query_one("#picker-filter", Input).value
        option_list = self.query_one("#picker-list", OptionList)
        kept = option_list.highlighted
        previous = (
            self._shown[kept].choice if kept is not None and kept < len(self._shown) else None
        )
        entries = self._entries()
        matched = filter_entries(entries, query)
        shown = matched
        typed = self._typed_entry(query, entries)
        if typed is not None:
            # first when nothing else matches the text, so Enter takes what was typed
            exact = any(query.strip().lower() in e.text.lower() for e in shown)
            shown = [*shown, typed] if exact else [typed, *shown]
        self._shown = shown
        width = min(NAME_WIDTH, max((cell_len(e.text) for e in shown), default=0)) + 2
        options = [Option(_prompt(e, query, width)) for e in shown]
        options += [
            Option(Content.styled(note, "dim"), disabled=True)
            for note in self._notes(query, matched, typed)
        ]
        option_list.set_options(options)
        choices = [e.choice for e in shown]
        if shown:
            option_list.highlighted = choices.index(previous) if previous in choices else 0
        else:
            option_list.highlighted = None

    # -- live lists -----------------------------------------------------------------------
    def _askable(self) -> list[str]:
        """The providers with a live list that can be asked (a missing key cannot)."""
        core = self.services.core
        providers = [core.provider(name) for name in self._lists]
        return [p.name for p in providers if p.has_live_list() and p.configured]

    def action_refresh_lists(self) -> None:
        names = self._askable()
        if not names:
            self.notify("No provider here lists its models live.", markup=False)
            return
        self.notify(f"Asking {', '.join(names)} for their models again.", markup=False)
        self._ask(names, force=True)

    @work(exclusive=True, group="picker-live")
    async def _ask(self, names: list[str], force: bool) -> None:
        hint = self.query_one("#picker-hint", Static)
        hint.update(f"asking {', '.join(names)} for their models… · {self.hint}")
        try:
            for arrived in asyncio.as_completed([self._live_list(n, force) for n in names]):
                name, listed = await arrived
                self._lists[name] = listed
                self._refresh_options()
        finally:
            hint.update(self.hint)

    async def _live_list(self, name: str, force: bool) -> tuple[str, ModelList]:
        provider = self.services.core.provider(name)
        lists = self.services.model_lists
        self._failures.pop(name, None)
        try:
            async with asyncio.timeout(ASK_TIMEOUT):
                return name, await lists.refresh(provider, force=force)
        except TimeoutError:
            self._failures[name] = f"no answer in {ASK_TIMEOUT:g} s"
        except Exception as err:  # a menu is optional: any failure keeps what was shown
            self._failures[name] = one_line(str(err) or type(err).__name__, 100)
        return name, lists.current(provider)

    # -- keys -----------------------------------------------------------------------------
    @on(Input.Changed, "#picker-filter")
    def _filter_changed(self) -> None:
        self._refresh_options()
        if self._shown:
            self.query_one("#picker-list", OptionList).highlighted = 0

    @on(Input.Submitted, "#picker-filter")
    def _submitted(self, event: Input.Submitted) -> None:
        index = self.query_one("#picker-list", OptionList).highlighted
        if index is not None and index < len(self._shown):
            self._choose(self._shown[index])
            return
        if problem := self._typed_problem(event.value):
            self.notify(problem, severity="warning", markup=False)
        self.app.bell()

    @on(OptionList.OptionSelected, "#picker-list")
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        if event.option_index < len(self._shown):
            self._choose(self._shown[event.option_index])

    def _choose(self, entry: Entry) -> None:
        """A listed model is returned at once; a typed one after the user says yes."""
        if not entry.typed:
            self.dismiss(entry.choice)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss(entry.choice)

        self.app.push_screen(UseTypedModelScreen(entry.choice), answered)

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


def _prompt(entry: Entry, query: str, width: int = NAME_WIDTH) -> Content:
    """The row: name with the typed text underlined, then its source and flags, dimmed."""
    name = Content(entry.text)
    start = entry.text.lower().find(query.strip().lower()) if query.strip() else -1
    if start >= 0:
        name = name.stylize("bold underline", start, start + len(query.strip()))
    said = entry.source.ljust(SOURCE_WIDTH) + entry.flags if entry.flags else entry.source
    if not said:
        return name
    gap = max(2, width - cell_len(entry.text))
    return name + Content(" " * gap) + Content.styled(said.rstrip(), "dim")

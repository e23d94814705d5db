"""Every key of chatterm, written once (tui/keys.toml): the actions, their default keys,
where they apply.

BINDINGS, the command palette, the F1 list, ``chatterm keys`` and the README's key table
are all made from ``ACTIONS``; users remap an action by its id in config.toml::

    [keys]
    model_picker = "f9"            # id = key, or a list of keys
    copy_code = ["f7", "ctrl+y"]

The registry and its checks import nothing of Textual (config.py, part of the core, reads
``[keys]``); ``tui/widgets/bindings.py`` makes Textual ``Binding`` objects of it, and the
app hands the overrides to ``App.set_keymap``, which re-keys bindings by their id.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Scope = Literal[
    "app",
    "conversation",
    "prompt",
    "log",
    "attachments",
    "picker",
    "sessions",
    "providers",
    "settings",
]

# Where a key is read from, as the user thinks of it; bindings of scopes that are active
# together (the focused widget, its screen, the app) must not share a key.
PLACES: dict[str, tuple[Scope, ...]] = {
    "the prompt": ("app", "conversation", "prompt"),
    "the log": ("app", "conversation", "log"),
    "the attachments": ("app", "conversation", "attachments"),
    "F2 models": ("app", "picker"),
    "F3 sessions": ("app", "sessions"),
    "F4 providers": ("app", "providers"),
    "F5 settings": ("app", "settings"),
}

HEADINGS: dict[Scope, str] = {
    "prompt": "Prompt",
    "conversation": "Conversation",
    "app": "Anywhere",
    "log": "Log (ctrl+l to enter, Tab back to the prompt)",
    "attachments": "Attachments (Tab from the prompt)",
    "picker": "Model picker (F2)",
    "sessions": "Sessions (F3)",
    "providers": "Providers (F4)",
    "settings": "Settings (F5)",
}


@dataclass(frozen=True)
class KeyAction:
    """One action: ``action`` is a Textual action run on the scope's node (screen,
    widget or app); ``footer`` is its footer label ("" hides it); ``palette`` its title in
    the command palette ("" keeps it out: keys that only make sense in one widget)."""

    id: str
    keys: tuple[str, ...]
    description: str
    scope: Scope
    action: str
    footer: str = ""
    palette: str = ""
    priority: bool = False
    remap: bool = True  # False: a key the widget reads itself, listed but fixed


def _load() -> tuple[KeyAction, ...]:
    """The registry itself is data, tui/keys.toml: one table an action, in F1's order."""
    import tomllib
    from pathlib import Path

    table = tomllib.loads(Path(__file__).with_name("keys.toml").read_text("utf-8"))
    return tuple(KeyAction(**{**entry, "keys": tuple(entry["keys"])}) for entry in table["action"])


ACTIONS: tuple[KeyAction, ...] = _load()
BY_ID: dict[str, KeyAction] = {a.id: a for a in ACTIONS}

Overrides = Mapping[str, tuple[str, ...]]


class KeymapError(ValueError):
    """A ``[keys]`` entry that cannot be used; the message names the id and the key."""


# -- keys as written ------------------------------------------------------------------------

MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
_NAMED = frozenset(
    {
        *(f"f{n}" for n in range(1, 25)),
        *"escape enter tab space backspace delete insert home end pageup pagedown".split(),
        *"up down left right".split(),
        # Textual's names for characters whose Unicode names it shortens
        *"slash backslash at minus plus underscore".split(),
    }
)


def normalise(key: str) -> str:
    """One key as Textual names it ("[" -> "left_square_bracket"); the modifiers kept."""
    *mods, base = key.strip().split("+") if key.strip() != "+" else ["+"]
    if len(base) == 1 and not base.isalnum():
        base = _character_name(base)
    return "+".join([*(m.lower() for m in mods), base])


def _character_name(character: str) -> str:
    try:
        name = unicodedata.name(character).lower().replace("-", "_").replace(" ", "_")
    except ValueError:
        return character
    return {
        "solidus": "slash",
        "reverse_solidus": "backslash",
        "commercial_at": "at",
        "hyphen_minus": "minus",
        "plus_sign": "plus",
        "low_line": "underscore",
    }.get(name, name)


def key_problem(key: str) -> str | None:
    """Why *key* (normalised) is not a key a terminal can send, or None."""
    *mods, base = key.split("+")
    if any(m not in MODIFIERS for m in mods) or len(set(mods)) != len(mods):
        return "has an unknown or repeated modifier (ctrl, shift, alt, meta, super, hyper)"
    if not base:
        return "names no key"
    if len(base) == 1:
        return None if base.isprintable() and not base.isspace() else "is not a printable key"
    if base in _NAMED or _is_character_name(base):
        return None
    return "is not a key name (e.g. f9, ctrl+y, escape, pageup, left_square_bracket)"


def _is_character_name(name: str) -> bool:
    try:
        unicodedata.lookup(name.replace("_", " "))
    except KeyError:
        return False
    return True


def parse_overrides(table: object, where: str = "keys") -> dict[str, tuple[str, ...]]:
    """``[keys]`` as read from TOML -> {id: keys}; KeymapError names the id and the key."""
    if not isinstance(table, dict):
        raise KeymapError(f"[{where}] must be a table of action id = key")
    overrides: dict[str, tuple[str, ...]] = {}
    for action_id, value in table.items():
        action = BY_ID.get(action_id)
        if action is None or not action.remap:
            known = ", ".join(a.id for a in ACTIONS if a.remap)
            raise KeymapError(f"{where}.{action_id} is not an action id (one of {known})")
        raw = [value] if isinstance(value, str) else value
        if not isinstance(raw, list) or not raw or not all(isinstance(k, str) for k in raw):
            raise KeymapError(f"{where}.{action_id} must be a key or a list of keys")
        keys = []
        for text in (k for item in raw for k in item.split(",")):
            key = normalise(text)
            if problem := key_problem(key):
                shown = text.strip().encode("unicode_escape").decode("ascii")[:40]
                raise KeymapError(f"{where}.{action_id}: {shown!r} {problem}")
            keys.append(key)
        overrides[action_id] = tuple(dict.fromkeys(keys))
    return overrides


# -- keys in force --------------------------------------------------------------------------


def keys_of(action: KeyAction, overrides: Overrides | None = None) -> tuple[str, ...]:
    return (overrides or {}).get(action.id, action.keys)


def clashes(overrides: Overrides | None = None) -> list[str]:
    """One warning per key that two actions share in one place, naming both."""
    found: dict[tuple[str, str, str], list[str]] = {}
    for place, scopes in PLACES.items():
        seen: dict[str, KeyAction] = {}
        for action in (a for a in ACTIONS if a.scope in scopes):
            for key in keys_of(action, overrides):
                other = seen.setdefault(key, action)
                if other is not action and not _shadows(other, action):
                    found.setdefault((key, other.id, action.id), []).append(place)
    return [
        f"{display(key)} is bound to both {first} and {second} (in {', '.join(places)}): "
        f"only one of them works there; change one in [keys]"
        for (key, first, second), places in found.items()
    ]


def _shadows(first: KeyAction, second: KeyAction) -> bool:
    """Up scrolls the log and recalls a prompt: one key, two widgets never focused at once."""
    return {first.scope, second.scope} == {"prompt", "log"}


def textual_keymap(overrides: Overrides) -> dict[str, str]:
    """For ``App.set_keymap``: binding id -> comma-separated keys."""
    return {action_id: ",".join(keys) for action_id, keys in overrides.items()}


_DISPLAY = {
    "escape": "Esc",
    "enter": "Enter",
    "tab": "Tab",
    "space": "Space",
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "home": "Home",
    "end": "End",
    "delete": "Del",
    "backspace": "Backspace",
    "insert": "Ins",
}


def display(key: str) -> str:
    """How a key is written for people: F2, Esc, ctrl+t, [, shift+↑."""
    *mods, base = key.split("+")
    if base.startswith("f") and base[1:].isdigit():
        shown = base.upper()
    elif base in _DISPLAY:
        shown = _DISPLAY[base]
    elif len(base) > 1 and _is_character_name(base):
        shown = unicodedata.lookup(base.replace("_", " "))
    else:
        shown = {
            "slash": "/",
            "backslash": "\\",
            "at": "@",
            "minus": "-",
            "plus": "+",
            "underscore": "_",
        }.get(base, base)
    return "+".join([*mods, shown])


def keys_text(action: KeyAction, overrides: Overrides | None = None) -> str:
    if action.id == "copy_code_n":
        return "1–9"
    return " / ".join(display(k) for k in keys_of(action, overrides))


def rows(overrides: Overrides | None = None) -> list[tuple[Scope, str, str, str]]:
    """(scope, keys as shown, what it does, id) for every action, in registry order."""
    return [(a.scope, keys_text(a, overrides), a.description, a.id) for a in ACTIONS]


def markdown_table(overrides: Overrides | None = None) -> str:
    """The README's key table (a test compares them)."""
    lines = ["| where | key | what it does | id |", "|---|---|---|---|"]
    for scope, keys, description, action_id in rows(overrides):
        where = HEADINGS[scope].split(" (")[0]
        keys = keys.replace("|", "\\|")
        remap = f"`{action_id}`" if BY_ID[action_id].remap else "(fixed)"
        lines.append(f"| {where} | {keys} | {description} | {remap} |")
    return "\n".join(lines) + "\n"


def for_scope(scope: Scope) -> list[KeyAction]:
    return [a for a in ACTIONS if a.scope == scope]


def palette_actions() -> list[KeyAction]:
    return [a for a in ACTIONS if a.palette]

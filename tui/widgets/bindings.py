"""Textual BINDINGS made from the keymap registry (tui/keymap.py)."""

from __future__ import annotations

from collections.abc import Iterable

from textual.binding import Binding

from .. import keymap
from ..keymap import Scope


def bindings(scope: Scope, extra: Iterable[Binding] = ()) -> list[Binding]:
    """A scope's BINDINGS, each with its action id as binding id (what set_keymap re-keys)."""
    made: list[Binding] = []
    for action in keymap.for_scope(scope):
        if not action.action:
            continue  # read by the widget itself (Up in an empty prompt)
        if not action.remap:  # one binding per key, the key in the action: copy_code(3)
            made.extend(
                Binding(key, action.action.format(key=key), show=False) for key in action.keys
            )
            continue
        made.append(
            Binding(
                ",".join(action.keys),
                action.action,
                action.footer or action.description,
                # Textual's Footer draws the palette's key on its own, at its right end
                show=bool(action.footer) and action.action != "command_palette",
                priority=action.priority,
                id=action.id,
                tooltip=action.description,
            )
        )
    return [*made, *extra]

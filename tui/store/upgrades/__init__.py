"""Versioned upgrades of a session file's schema, so an older file is upgraded, not refused.

A file is decoded to a document (the dict tomllib gives) and, when its ``schema`` is older
than ``SCHEMA``, passed through each step from its schema up, in order, before it is read
as a Session; the next save writes it with ``SCHEMA``. A file with a higher schema than
``SCHEMA`` is never upgraded or rewritten (the store refuses it as SessionUnsupported).

To change the format: bump ``SCHEMA``, write the step in a module of its own here (e.g.
``v2.py`` holding ``def upgrade(doc: dict) -> dict`` from schema 1 to 2), and add
``(1, 2, v2.upgrade)`` to ``STEPS``. A step takes the whole document and returns it in the
next schema; it may change it in place.

- 1 → 2 (``v2``): alternatives, off the path on screen, each naming its parent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from . import v2

Document = dict[str, Any]
Step = tuple[int, int, Callable[[Document], Document]]  # (from schema, to schema, upgrade)

SCHEMA = 2  # what this chatterm writes: where the last step leads
STEPS: tuple[Step, ...] = ((1, 2, v2.upgrade),)


def upgrade(
    doc: Document, schema: int, steps: Sequence[Step] | None = None, latest: int | None = None
) -> Document:
    """*doc*, written with *schema* (at most *latest*), brought up to *latest* (by default
    ``SCHEMA``, through ``STEPS``)."""
    steps = STEPS if steps is None else steps
    latest = SCHEMA if latest is None else latest
    for source, target, step in steps:
        if source == schema:
            doc, schema = step(doc), target
    if schema != latest:  # a gap in the steps: a bug here, never the file's fault
        raise RuntimeError(f"no upgrade from schema {schema} to {latest}")
    return doc

"""Schema 1 → 2: conversations gain alternatives (``[[alternatives]]``, each with a
``parent``), kept when a reply is regenerated or a prompt is edited and resent.

A schema 1 file has one line of messages and nothing off it, so every message is on the
path on screen and the step has nothing to move: it says so, for the reader of a file
that declares a schema, by writing an empty list of alternatives.
"""

from __future__ import annotations

from typing import Any


def upgrade(doc: dict[str, Any]) -> dict[str, Any]:
    if "alternatives" in doc:
        # A key of that name in a schema 1 file was somebody's own: kept under another name
        # rather than read as messages it never meant.
        doc["alternatives_v1"] = doc.pop("alternatives")
    doc["alternatives"] = []
    doc["schema"] = 2
    return doc

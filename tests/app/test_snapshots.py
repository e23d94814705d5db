"""Every screen as a picture, compared with the SVG kept in ``__snapshots__/`` beside this file.

Each screen (the conversation with a reply half arrived, then the model picker, sessions,
providers, settings and keys screens its keys open) at 80×24 and 120×40, from the echo
conversation of tests/snapshot_data.py that ``screenshots/`` shows too. A test that fails
writes ``snapshot_report.html`` (in the folder pytest ran in) with both pictures side by side.
When a screen has changed on purpose, look at the report, then write the new pictures:

    .venv/bin/python -m pytest tests/app/test_snapshots.py --snapshot-update

(without ``-n``: syrupy then also deletes the pictures no test takes any more).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest

from tests.snapshot_data import LIVE_PICTURES, PICTURES, demo_app, demo_environment, show

SIZES = [(80, 24), (120, 40)]


@pytest.fixture
def folder(tmp_path: Path, picture: str) -> Iterator[Path]:
    with demo_environment(tmp_path, live=picture in LIVE_PICTURES):
        yield tmp_path


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("picture", PICTURES)
def test_screen_looks_as_it_did(
    snap_compare: Callable[..., bool], folder: Path, picture: str, size: tuple[int, int]
) -> None:
    app = demo_app(folder)
    assert snap_compare(app, terminal_size=size, run_before=partial(show, picture=picture))

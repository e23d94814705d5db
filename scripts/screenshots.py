"""Regenerate screenshots/*.svg from a deterministic echo conversation.

    .venv/bin/python scripts/screenshots.py [--out FOLDER]

Everything comes from tests/snapshot_data.py, which the snapshot tests use too: the offline
echo provider, fixed timestamps and a temporary folder, so the SVGs change only when a
screen really does. Each picture is taken in a fresh app, at 100×30.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZE = (100, 30)


async def shoot(folder: Path, picture: str, out: Path) -> None:
    from tests.snapshot_data import demo_app, show

    app = demo_app(folder)
    async with app.run_test(size=SIZE) as pilot:
        await show(pilot, picture)
        app.save_screenshot(filename=f"{picture}.svg", path=str(out))
    print(f"wrote {out / picture}.svg")


def main(out: Path) -> None:
    from tests.snapshot_data import LIVE_PICTURES, PICTURES, demo_environment

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chatterm-screenshots-") as tmp:
        for picture in PICTURES:
            folder = Path(tmp) / picture
            folder.mkdir()
            with demo_environment(folder, live=picture in LIVE_PICTURES):
                asyncio.run(shoot(folder, picture, out))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots", help="where to write")
    main(parser.parse_args().out)

"""The README's provider table names every kind, with its default URL and key variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.providers import KEY_ENV, KINDS, provider_class

README = Path(__file__).resolve().parents[2] / "README.md"


def rows() -> dict[str, str]:
    """The table under "## Providers": the first cell's name -> the whole row."""
    text = README.read_text("utf-8").split("## Providers", 1)[1]
    lines = [line for line in text.split("\n\n", 2)[1].splitlines() if line.startswith("| `")]
    return {line.split("`")[1]: line for line in lines}


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "g4f"])
def test_every_kind_has_a_row_with_its_url_and_key(kind: str) -> None:
    row = rows().get(kind)
    assert row is not None, f"README's provider table has no row for {kind}"
    url = provider_class(kind).default_base_url
    assert not url or f"`{url}`" in row
    if env := KEY_ENV.get(kind):
        assert f"`{env}`" in row


def test_the_g4f_providers_have_a_row() -> None:
    assert "g4f/NAME" in rows()

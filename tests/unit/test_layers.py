"""The house has no circle: the core never imports the Textual layer or the command line."""

from __future__ import annotations

import ast
from pathlib import Path

TUI = Path(__file__).resolve().parents[2] / "tui"
# The Textual layer; everything else is the core and runs without a screen.
UI = ("app.py", "commands.py", "screens/", "widgets/")


def imported(path: Path) -> set[str]:
    """Absolute names of the tui modules *path* imports (relative imports resolved)."""
    package = ["tui", *path.relative_to(TUI).parent.parts]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {n for n in names if n == "tui" or n.startswith(("tui.", "textual"))}


def modules() -> list[Path]:
    return sorted(TUI.rglob("*.py"))


def test_only_the_entry_point_imports_the_command_line() -> None:
    users = [
        str(p.relative_to(TUI))
        for p in modules()
        if p.name not in ("__main__.py", "cli.py") and "tui.cli" in imported(p)
    ]
    assert users == []


def test_the_core_never_imports_textual_or_the_screens() -> None:
    core = [p for p in modules() if not str(p.relative_to(TUI)).startswith(UI)]
    offenders = {
        str(p.relative_to(TUI)): sorted(
            n
            for n in imported(p)
            if n.startswith("textual") or n.startswith(("tui.app", "tui.screens", "tui.widgets"))
        )
        for p in core
    }
    assert {k: v for k, v in offenders.items() if v and k != "cli.py"} == {}

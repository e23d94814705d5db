"""A pytest plugin that prints the fault matrix: which cells were tried, which held.

A test joins the matrix with ``@pytest.mark.fault_cell("surface")`` and parameters named
``provider`` and ``fault``. Each cell's outcome rides on its test report (so it reaches the
controller under pytest-xdist too), and the terminal summary prints one table per surface;
the same tables go to ``.pytest_cache/d/fault-matrix/matrix.md``.

Registered from tests/conftest.py, because under xdist the controller never collects (so
never loads) the conftest of this folder.
"""

from __future__ import annotations

from typing import Any

import pytest

PROPERTY = "fault_cell"
HELD, BROKE = "held", "FAILED"
_cells: dict[tuple[str, str, str], str] = {}  # (surface, provider, fault) -> outcome
_axes: dict[str, tuple[list[str], list[str]]] = {}  # surface -> (providers, faults) in order
_figures: dict[str, str] = {}  # test id -> a measured figure (record_property("figure", ...))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fault_cell(surface): one cell of the fault matrix (see tests/reliability)"
    )


@pytest.fixture(autouse=True)
def _fault_cell(request: pytest.FixtureRequest) -> None:
    """Tag the test's reports with its cell, from setup on (a setup failure counts too)."""
    marker = request.node.get_closest_marker("fault_cell")
    if marker is None:
        return
    params = request.node.callspec.params
    fault = params["fault"]
    cell = f"{marker.args[0]}|{params['provider']}|{getattr(fault, 'id', fault)}"
    request.node.user_properties.append((PROPERTY, cell))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for name, value in report.user_properties:
        if name == "figure" and report.when == "call":
            _figures[report.nodeid] = f"{value} ({report.outcome})"
    cell = next((v for k, v in report.user_properties if k == PROPERTY), None)
    if cell is None:
        return
    surface, provider, fault = cell.split("|")
    key = (surface, provider, fault)
    providers, faults = _axes.setdefault(surface, ([], []))
    if provider not in providers:
        providers.append(provider)
    if fault not in faults:
        faults.append(fault)
    if report.failed:
        _cells[key] = BROKE
    elif report.when == "call" and report.passed:
        _cells.setdefault(key, HELD)
    elif report.skipped:
        _cells.setdefault(key, "skipped")


def tables() -> list[str]:
    out: list[str] = []
    for surface, (providers, faults) in _axes.items():
        tried = [k for k in _cells if k[0] == surface]
        held = [k for k in tried if _cells[k] == HELD]
        out.append(f"### {surface}: {len(tried)} cells tried, {len(held)} held")
        out.append("")
        out.append("| provider | " + " | ".join(faults) + " |")
        out.append("|---|" + "---|" * len(faults))
        for provider in providers:
            row = [_cells.get((surface, provider, f), "-") for f in faults]
            out.append(f"| {provider} | " + " | ".join(row) + " |")
        out.append("")
    return out


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if not _cells and not _figures:
        return
    lines = tables()
    if _figures:
        lines += ["### measured", ""] + [f"- {v}" for _, v in sorted(_figures.items())] + [""]
    terminalreporter.section("fault matrix")
    for line in lines:
        terminalreporter.write_line(line)
    cache = getattr(config, "cache", None)  # absent under -p no:cacheprovider
    if cache is not None:
        path = cache.mkdir("fault-matrix") / "matrix.md"
        path.write_text("\n".join(lines) + "\n", "utf-8")
        terminalreporter.write_line(f"(written to {path})")

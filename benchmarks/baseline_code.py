"""Earlier versions of chatterm's own modules, taken from git history, to measure against.

A benchmark compares today's code with the code it replaced in the same run. Rather than a
frozen copy in the tree, the old module is read with ``git show COMMIT:PATH`` into
``benchmarks/.baseline/`` (ignored by git) and imported from there; its relative imports
are made absolute so it runs beside today's package.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / ".baseline"
# name -> (commit, path): the last commit where that code stood as it was
BASELINES = {"store": ("52b45a4", "tui/store.py")}


class BaselineMissing(RuntimeError):
    """The commit is not in this clone (a shallow one): nothing to compare with."""


def load(name: str) -> ModuleType:
    """The old module *name* (see BASELINES), imported as ``baseline_NAME``."""
    module_name = f"baseline_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    commit, path = BASELINES[name]
    target = CACHE / f"{commit}-{Path(path).name}"
    if not target.exists():
        target.parent.mkdir(exist_ok=True)
        target.write_text(_absolute(_show(commit, path)), "utf-8")
    spec = importlib.util.spec_from_file_location(module_name, target)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def _show(commit: str, path: str) -> str:
    done = subprocess.run(
        ["git", "show", f"{commit}:{path}"], cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise BaselineMissing(f"{commit}:{path} is not in this clone ({done.stderr.strip()})")
    return done.stdout


def _absolute(source: str) -> str:
    return source.replace("\nfrom .", "\nfrom tui.")

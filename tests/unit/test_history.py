"""Prompt history: bounded, private, merged between instances, never holding a secret."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tui import history
from tui.config import Config, ProviderConfig
from tui.history import HistoryWalk, PromptHistory


def test_prompts_are_kept_newest_last_once_each_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "data" / "history.json"
    h = PromptHistory(path)
    for prompt in ["one", "two", "one", "  ", ""]:
        h.add(prompt)
    assert h.entries == ["two", "one"]
    h.flush()
    assert PromptHistory(path).entries == ["two", "one"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_two_instances_keep_each_others_prompts(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    first, second = PromptHistory(path), PromptHistory(path)
    first.add("from the first")
    first.flush()
    second.add("from the second")
    second.flush()
    assert PromptHistory(path).entries == ["from the first", "from the second"]


def test_the_history_is_bounded(tmp_path: Path) -> None:
    h = PromptHistory(tmp_path / "h.json")
    for n in range(history.LIMIT + 5):
        h.entries.append(f"p{n}")
    h.add("last")
    assert len(h.entries) == history.LIMIT and h.entries[-1] == "last"
    h.add("x" * (history.MAX_ENTRY_CHARS + 1))  # a pasted file: not a prompt to recall
    assert h.entries[-1] == "last"
    big = "y" * history.MAX_ENTRY_CHARS
    for n in range(history.MAX_TOTAL_CHARS // history.MAX_ENTRY_CHARS + 3):
        h.add(f"{n}{big[:-3]}")
    assert sum(map(len, h.entries)) <= history.MAX_TOTAL_CHARS


def test_a_prompt_holding_a_configured_secret_is_never_stored(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-SECRET-0001")
    config = Config(path=tmp_path / "config.toml")
    config.providers["lab"] = ProviderConfig(
        name="lab",
        kind="openai",
        api_key="lab-KEY-0002",
        proxy="http://user:p%40ss-0003@proxy:8080",
    )
    path = tmp_path / "history.json"
    h = PromptHistory(path, config.secrets)
    for prompt in [
        "my key is sk-env-SECRET-0001, why 401?",
        "try lab-KEY-0002",
        "proxy password p@ss-0003",
        "proxy password p%40ss-0003",
        "a plain question",
    ]:
        h.add(prompt)
    assert h.entries == ["a plain question"]
    h.flush()
    text = path.read_text("utf-8")
    for secret in ("SECRET-0001", "KEY-0002", "ss-0003"):
        assert secret not in text


def test_a_broken_file_is_ignored_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    path.write_text("[" * 100_000, "utf-8")
    h = PromptHistory(path)
    assert h.entries == [] and "not valid JSON" in h.warning
    h.add("fresh")
    h.flush()
    assert json.loads(path.read_text("utf-8")) == {"prompts": ["fresh"]}


def test_the_walk_goes_back_and_returns_to_the_draft() -> None:
    walk = HistoryWalk(["a", "b"], "draft")
    assert walk.step(1) is None  # already at the draft
    assert [walk.step(-1), walk.step(-1), walk.step(-1)] == ["b", "a", None]
    assert [walk.step(1), walk.step(1), walk.step(1)] == ["b", "draft", None]


def test_search_is_case_insensitive_newest_first(tmp_path: Path) -> None:
    h = PromptHistory(tmp_path / "h.json")
    for prompt in ["Docker compose", "git rebase", "docker build"]:
        h.add(prompt)
    assert h.matches("DOCKER") == ["docker build", "Docker compose"]


def test_sending_does_not_wait_for_the_file(tmp_path: Path, monkeypatch) -> None:
    # Rewriting a megabyte of history took ~10 ms on the Enter that sent the prompt.
    import threading

    path = tmp_path / "history.json"
    h = PromptHistory(path)
    release = threading.Event()
    real_write = history.write_private

    def slow_write(*args: object) -> None:
        assert release.wait(30)
        real_write(*args)

    monkeypatch.setattr(history, "write_private", slow_write)
    h.add("quick")  # returns while the write waits
    assert h.entries == ["quick"] and not path.exists()
    release.set()
    h.flush()
    assert json.loads(path.read_text("utf-8")) == {"prompts": ["quick"]}

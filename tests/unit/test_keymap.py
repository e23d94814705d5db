"""The keymap registry: one source for BINDINGS, palette, F1, `chatterm keys`, README."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tui import keymap
from tui.config import ConfigError, load
from tui.widgets.bindings import bindings

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = (
    "send newline stop model_picker next_model new regenerate edit_last copy_reply copy_code "
    "sessions providers settings help quit focus_log toggle_reasoning continue_reply"
).split()


def test_every_required_action_has_an_id_keys_and_a_description() -> None:
    for action_id in REQUIRED:
        action = keymap.BY_ID[action_id]
        assert action.keys and action.description and action.remap, action_id
    assert len(keymap.BY_ID) == len(keymap.ACTIONS)  # ids are unique


def test_the_defaults_clash_nowhere_and_every_default_key_is_valid() -> None:
    assert keymap.clashes() == []
    for action in keymap.ACTIONS:
        for key in action.keys:
            assert keymap.normalise(key) == key and keymap.key_problem(key) is None, key


def test_default_keys_are_keys_textual_knows() -> None:
    # Textual's own normalisation leaves every registry key as it is written.
    from textual.keys import _normalize_key_list

    for action in keymap.ACTIONS:
        assert _normalize_key_list(",".join(action.keys)) == ",".join(action.keys)


def test_descriptions_fit_one_line_of_f1_at_80_columns() -> None:
    widest = max(len(keymap.keys_text(a)) for a in keymap.ACTIONS)
    for action in keymap.ACTIONS:
        # 80 columns: a 74-column box less its border and padding (4), the key column with
        # its cell padding (widest + 4), the description's own cell padding (4)
        assert len(action.description) <= 74 - 4 - (widest + 4) - 4, action.id


def test_overrides_are_parsed_as_the_issue_writes_them() -> None:
    parsed = keymap.parse_overrides(
        {"model_picker": "f9", "copy_code": ["f7", "ctrl+y"], "focus_log": "["}
    )
    assert parsed == {
        "model_picker": ("f9",),
        "copy_code": ("f7", "ctrl+y"),
        "focus_log": ("left_square_bracket",),
    }
    assert keymap.textual_keymap(parsed)["copy_code"] == "f7,ctrl+y"


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ({"modle_picker": "f9"}, ["keys.modle_picker", "not an action id"]),
        ({"send": "ctrl+bogus"}, ["keys.send", "'ctrl+bogus'", "not a key name"]),
        ({"send": "ctrl+ctrl+a"}, ["keys.send", "modifier"]),
        ({"send": "hyperspace+a"}, ["keys.send", "modifier"]),
        ({"send": ""}, ["keys.send", "names no key"]),
        ({"send": 5}, ["keys.send", "a key or a list of keys"]),
        ({"send": []}, ["keys.send", "a key or a list of keys"]),
        ({"recall": "f9"}, ["keys.recall", "not an action id"]),  # fixed keys are not remapped
    ],
)
def test_a_bad_entry_is_an_error_naming_it(table: dict, words: list[str]) -> None:
    with pytest.raises(keymap.KeymapError) as caught:
        keymap.parse_overrides(table)
    for word in words:
        assert word in str(caught.value)


def test_two_actions_on_one_key_in_one_place_is_a_warning_naming_both() -> None:
    warnings = keymap.clashes({"model_picker": ("f7",)})
    assert len(warnings) == 1
    assert "F7" in warnings[0] and "model_picker" in warnings[0] and "copy_code" in warnings[0]
    # the same key in two places that are never active together is fine
    assert keymap.clashes({"test_provider": ("r",)}) == []


def test_a_bad_keys_table_in_config_toml_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[keys]\nmodel_picker = "f99"\n', "utf-8")
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert str(path) in str(caught.value) and "keys.model_picker" in str(caught.value)
    path.write_text('[keys]\nmodel_picker = "f9"\ncopy_code = ["f7", "ctrl+y"]\n', "utf-8")
    assert load(path).keys == {"model_picker": ("f9",), "copy_code": ("f7", "ctrl+y")}


def test_bindings_carry_the_action_id_for_set_keymap() -> None:
    made = bindings("conversation")
    ids = {b.id for b in made}
    assert {"stop", "model_picker", "copy_reply", "focus_log"} <= ids
    log = bindings("log")
    assert [b.action for b in log if b.key == "3"] == ["copy_code(3)"]


def test_the_readme_key_table_is_the_registry() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    start = readme.index("<!-- keys:")
    body = readme[readme.index("\n", start) + 1 : readme.index("<!-- /keys -->")]
    assert body == keymap.markdown_table(), "README key table is stale: chatterm keys --markdown"


def test_chatterm_keys_prints_the_registry_with_the_users_keys(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[keys]\nmodel_picker = "f9"\nnew = "f6"\n', "utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "tui", "--config", str(config), "keys"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    line = next(line for line in done.stdout.splitlines() if "[model_picker]" in line)
    assert line.split()[0] == "F9"
    assert "F6 is bound to both new and copy_reply" in done.stderr
    for action in keymap.ACTIONS:
        assert action.description in done.stdout

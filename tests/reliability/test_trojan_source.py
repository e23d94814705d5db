"""Trojan Source: text that reorders or hides itself is shown as code points, everywhere.

Bidi embeddings, overrides and isolates (U+202A-E, U+2066-9), bidi marks and zero-width
characters reached the terminal as they were, so a reply could read differently on screen
from what was saved and copied. They now show as ``⟨U+202E⟩`` in the app, in
``chatterm ask`` (not ``--raw``), in exports and in error lines, while emoji ZWJ sequences
(split across stream chunks too) and Hebrew and Arabic read as written.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.app.host import local_app, screen_text, type_and_send, wait_until
from tests.pty_driver import CHATTERM, PtyApp
from tests.reliability.test_injection import env_for, error_answer, local_config
from tests.servers import OpenAIServer

RAW = re.compile("[\u202a-\u202e\u2066-\u2069\u200b\u200e\u200f\u061c\u2060\ufeff]")
FAMILY = "👨\u200d👩\u200d👧"
CHUNKS = [
    "TROJAN1 if access_level != \u202e",
    '"user\u2066" ',
    "family 👨",
    "\u200d",
    "👩\u200d👧 ",
    "שלום مرحبا pay\u200bpal ",
    "&#x202E;ent\ufeff TROJAN2",
]


def assert_revealed(text: str) -> None:
    assert "TROJAN1" in text and "TROJAN2" in text, "nothing was captured"
    assert not RAW.search(text), f"a raw bidi or zero-width character: {RAW.findall(text)!r}"
    assert "⟨U+202E⟩" in text and "⟨U+2066⟩" in text and "pay⟨U+200B⟩pal" in text
    assert "שלום مرحبا" in text


async def test_the_app_shows_bidi_controls_as_code_points_and_saves_what_it_shows(
    tmp_path: Path,
) -> None:
    body = json.dumps({"error": {"message": "ERR1 \u202egnp.exe ERR2"}})
    with OpenAIServer(reply=CHUNKS) as server:
        app = local_app(tmp_path, server.base_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await type_and_send(pilot, "hi")
            await wait_until(pilot, lambda: "TROJAN2" in screen_text(app), 20)
            await wait_until(pilot, lambda: not app.conversation.streaming, 20)
            server.script(error_answer(500, body))
            await type_and_send(pilot, "again")
            await wait_until(pilot, lambda: "ERR2" in screen_text(app), 20)
            shown = screen_text(app)
            session = app.conversation.session
            saved = [m.content for m in session.messages if m.role == "assistant"]
    assert_revealed(shown)
    assert "⟨U+202E⟩gnp.exe" in shown  # the error line too
    assert FAMILY in saved[0] and not RAW.search(saved[0])
    # Saved (and so copied with F6) is what the screen showed, not the raw text.
    assert 'access_level != ⟨U+202E⟩"user⟨U+2066⟩"' in saved[0]


@pytest.mark.e2e
def test_ask_and_export_in_a_terminal_show_bidi_controls_as_code_points(tmp_path: Path) -> None:
    with OpenAIServer(reply=CHUNKS) as server:
        env = env_for(tmp_path, local_config(server))
        with PtyApp([CHATTERM, "ask", "hello"], env) as p:
            assert p.wait(20) == 0
            out = p.output.decode("utf-8")
        server.script(error_answer(500, "<html><title>ERR \u202eevil TROJAN1 TROJAN2</title>"))
        with PtyApp([CHATTERM, "ask", "again"], env) as p:
            assert p.wait(20) == 1
            failed = p.output.decode("utf-8")
    assert_revealed(out)
    assert FAMILY in out  # joined across the chunks it was split into
    assert "⟨U+202E⟩evil TROJAN1" in failed and not RAW.search(failed)  # the error line
    # A session file written elsewhere, raw controls and all, exports revealed.
    root = tmp_path / "data" / "sessions"
    (root / "20260101-100000-abcd.toml").write_text(
        'schema = 1\nid = "20260101-100000-abcd"\ntitle = "TROJAN1 \\u202Etitle"\n'
        "created = 2026-01-01T10:00:00Z\nupdated = 2026-01-01T10:00:00Z\n"
        'provider = "p"\nmodel = "m"\n\n[[messages]]\nid = "m-1"\nrole = "assistant"\n'
        f"content = {json.dumps(''.join(CHUNKS), ensure_ascii=False)}\n"
        "created = 2026-01-01T10:00:00Z\n",
        "utf-8",
    )
    for fmt in ("md", "json"):
        exported = subprocess.run(
            [CHATTERM, "sessions", "export", "20260101-100000-abcd", "--format", fmt],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert exported.returncode == 0, exported.stderr
        assert_revealed(
            json.loads(exported.stdout)["messages"][0]["content"]
            if fmt == "json"
            else exported.stdout
        )

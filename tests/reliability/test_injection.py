"""Untrusted text never drives the terminal: the real app and `chatterm ask` in a pty.

Every byte the process writes to its terminal is captured (tests/pty_driver.py)
and searched for the injected payloads themselves: an OSC title change, a CSI colour, a DCS
query, an 8-bit CSI, C1 controls, DEL and BEL. The app's own output is full of escape
sequences, so the checks look for the payloads, and for any OSC/DCS/APC/PM/SOS other than
the two Textual itself writes (OSC 22 pointer shape, OSC 52 clipboard). Text on both sides
of each payload must appear, so a test that saw nothing at all cannot pass.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tests.pty_driver import CHATTERM, PtyApp, visible
from tests.servers import OpenAIServer, Raw, free_port

pytestmark = pytest.mark.e2e

# One of each kind of hostile sequence; the letters between them must survive.
PAYLOAD = "\x1b]0;PWNED\x07 \x1b[31mINJ \x1bP+q\x1b\\ \x9b31m \x7f\x07\x85\x9d0;PWNED\x9c"
# The same, split across stream chunks inside every sequence.
REPLY_CHUNKS = [
    "BEFORE1 [@click=app.quit]CLICKME[/] [bold]BOLD[/bold] [/] ",
    "\x1b]0;PW",
    "NED\x07 \x1b",
    "[31mINJ \x1bP+",
    "q\x1b",
    "\\ \x9b",
    "31m \x7f\x07",
    "\x85\x9d0;PWN",
    "ED\x9c AFTER1",
]
KEY_F2, KEY_F4, KEY_F5, KEY_ESC, KEY_QUIT = "\x1bOQ", "\x1bOS", "\x1b[15~", "\x1b", "\x11"
# What Textual itself writes: the mouse pointer shape and the clipboard (F6/F7).
APP_OWN = re.compile(rb"\x1b\]22;[a-z-]+\x07|\x1b\]52;c;[A-Za-z0-9+/=]*\x07")
STRING_SEQUENCES = (b"\x1b]", b"\x1bP", b"\x1bX", b"\x1b^", b"\x1b_")


def assert_no_payload(out: bytes) -> None:
    """None of PAYLOAD's sequences reached the terminal, in any form."""
    assert out, "nothing was captured"
    text = out.decode("utf-8")  # strict: a raw 8-bit C1 byte is not valid UTF-8
    assert "PWNED" not in text  # the OSC bodies are dropped whole, not shown
    assert not re.search("[\x80-\x9f]", text), "a C1 control reached the terminal"
    assert b"\x7f" not in out
    assert b"\x1b[31mINJ" not in out
    rest = APP_OWN.sub(b"", out)
    for introducer in STRING_SEQUENCES:
        assert introducer not in rest, f"{introducer!r} reached the terminal"
    assert b"\x07" not in rest, "a BEL that is not the app's own reached the terminal"


def env_for(tmp_path: Path, config: str) -> dict[str, str]:
    path = tmp_path / "config.toml"
    path.write_text(config, "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(CHATTERM_CONFIG=str(path), CHATTERM_DATA_DIR=str(tmp_path / "data"))
    env["OLLAMA_HOST"] = f"127.0.0.1:{free_port()}"  # never a developer's own Ollama
    return env


def local_config(server: OpenAIServer, name: str = "local") -> str:
    return (
        f"default_provider = {json.dumps(name)}\n"
        f"[providers.{json.dumps(name)}]\nkind = 'openai'\nbase_url = '{server.base_url}'\n"
    )


def error_answer(status: int, body: str) -> Raw:
    data = body.encode()
    head = (
        f"HTTP/1.1 {status} Oops\r\nContent-Type: text/html\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    )
    return Raw(head.encode() + data)


def quit_app(p: PtyApp) -> None:
    p.send(KEY_QUIT)
    assert p.wait(15) == 0
    assert "Traceback" not in p.text


def test_hostile_reply_error_page_model_names_and_provider_name_never_reach_the_terminal(
    tmp_path: Path,
) -> None:
    models = ["MODELA\x1b]0;PWNED\x07\x9b31m\x85[/]MODELB", "plain-model"]
    error_page = f"<html><body>ERRBEFORE {PAYLOAD} ERRAFTER</body></html>"
    with OpenAIServer(reply=REPLY_CHUNKS, models=models) as server:
        # A provider name that is Textual markup must show as written, not crash a title.
        env = env_for(tmp_path, local_config(server, "loc[/]al"))
        server.script("normal", error_answer(500, error_page))
        with PtyApp([CHATTERM], env) as p:
            p.wait_written("loc[/]al", "idle")
            p.send("first\r")
            p.wait_written("AFTER1")
            # Markup in model text is shown literally, and clicking nothing quits the app.
            assert "[@click=app.quit]CLICKME[/]" in p.text and "[bold]BOLD[/bold]" in p.text
            p.send("second\r")
            p.wait_written("ERRAFTER")
            p.send(KEY_F2)  # the picker asks the server for its (hostile) model list
            p.wait_on_screen("type to filter")
            p.send("MODELA")  # below the built-in providers' models: filtered to it
            p.wait_on_screen("MODELA[/]MODELB")
            p.send(KEY_ESC)
            p.wait_gone("type to filter")  # the picker's hint
            p.send(KEY_F4)  # providers screen: name, URL, models
            p.wait_written("OpenAI-compatible")
            p.send(KEY_ESC)
            p.wait_gone("OpenAI-compatible")
            quit_app(p)
            out = p.output
    text = visible(out)
    for marker in ("BEFORE1", "INJ", "AFTER1", "ERRBEFORE", "ERRAFTER"):
        assert marker in text
    assert_no_payload(out)
    print(f"app: {len(out)} bytes captured, no payload among them")


def hostile_session(root: Path, session_id: str) -> None:
    def s(text: str) -> str:
        return json.dumps(text)  # TOML basic strings take JSON's \u escapes

    root.mkdir(parents=True)
    (root / f"{session_id}.toml").write_text(
        f"schema = 1\nid = {s(session_id)}\ntitle = {s('TITLEA ' + PAYLOAD + ' [/]TITLEB')}\n"
        "created = 2026-01-01T10:00:00Z\nupdated = 2026-01-01T10:00:00Z\n"
        f"provider = {s('gone ' + PAYLOAD + '[/]')}\nmodel = {s('MODEL ' + PAYLOAD)}\n\n"
        f'[[messages]]\nid = "m-1"\nrole = "user"\ncontent = {s("SESSA " + PAYLOAD + " SESSB")}\n'
        "created = 2026-01-01T10:00:00Z\n\n"
        f'[[messages]]\nid = "m-2"\nrole = "assistant"\ncontent = {s("REPLYA " + PAYLOAD)}\n'
        f'created = 2026-01-01T10:00:01Z\nstatus = "error"\nerror = {s("OOPSA " + PAYLOAD)}\n',
        "utf-8",
    )


def test_hostile_session_file_and_config_open_without_escaping_or_crashing(
    tmp_path: Path,
) -> None:
    session_id = "20260101-100000-abcd"
    hostile_session(tmp_path / "data" / "sessions", session_id)
    # A provider name with control characters is a config error: shown, cleaned.
    bad_name = json.dumps("bad" + PAYLOAD)
    env = env_for(tmp_path, f"[providers.{bad_name}]\nkind = 'openai'\n")
    with PtyApp([CHATTERM, "-s", session_id], env) as p:
        p.wait_written("SESSA", "SESSB", "REPLYA", "OOPSA", "Config error")
        p.send(KEY_F5)  # settings: provider names and the config path
        p.wait_written("Default provider")
        p.send(KEY_ESC)
        p.wait_gone("Default provider")
        quit_app(p)
        out = p.output
    assert "SESSA" in visible(out) and "OOPSA" in visible(out)
    assert_no_payload(out)
    print(f"app with a hostile session: {len(out)} bytes captured, no payload among them")


def test_ask_in_a_terminal_shows_the_reply_and_errors_without_their_sequences(
    tmp_path: Path,
) -> None:
    body = json.dumps({"error": {"message": f"ERRBEFORE {PAYLOAD} ERRAFTER"}})
    with OpenAIServer(reply=REPLY_CHUNKS) as server:
        env = env_for(tmp_path, local_config(server))
        with PtyApp([CHATTERM, "ask", "hello"], env) as p:
            assert p.wait(20) == 0
            ok = p.output
        server.script(error_answer(502, body))
        with PtyApp([CHATTERM, "ask", "again"], env) as p:
            assert p.wait(20) == 1
            failed = p.output
    assert "BEFORE1" in ok.decode() and "AFTER1" in ok.decode() and "INJ" in ok.decode()
    assert "ERRBEFORE" in failed.decode() and "ERRAFTER" in failed.decode()
    for out in (ok, failed):
        assert b"\x1b" not in out  # ask writes plain text: no escape at all
        assert_no_payload(out)


def test_ask_raw_refuses_a_terminal(tmp_path: Path) -> None:
    with OpenAIServer(reply=REPLY_CHUNKS) as server:
        env = env_for(tmp_path, local_config(server))
        with PtyApp([CHATTERM, "ask", "--raw", "hello"], env) as p:
            assert p.wait(20) == 2
            out = p.output
    assert b"only to a file or a pipe" in out and not server.requests
    assert_no_payload(out)


def test_providers_listing_in_a_terminal_shows_hostile_model_names_cleaned(
    tmp_path: Path,
) -> None:
    models = ["MODELA\x1b]0;PWNED\x07\x9b31m\x85MODELB"]
    with OpenAIServer(models=models) as server:
        env = env_for(tmp_path, local_config(server, "lo[/]cal"))
        with PtyApp([CHATTERM, "providers", "--live"], env) as p:
            assert p.wait(20) == 0
            out = p.output
    assert "MODELAMODELB" in out.decode() and "lo[/]cal" in out.decode()
    assert b"\x1b" not in out
    assert_no_payload(out)

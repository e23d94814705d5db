"""API keys and proxy passwords appear nowhere but where the user put them.

One environment key, one config-file key and one proxy password, each distinctive, go
through `chatterm ask` (successes and failures, incl. servers that echo the key back), the
`providers` and `sessions` commands and the app (chat, providers and settings screens,
Markdown export, screenshots). Then every file under the test's home, config and data
folders and every captured output is searched for them: only config.toml may hold them.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.app.host import ask, each_provider_shown, notices, screen_text, wait_until
from tests.pty_driver import CHATTERM
from tests.servers import ForwardProxy, OpenAIServer, Raw, free_port
from tui.app import ChattermApp
from tui.config import load
from tui.sanitize import mask_url
from tui.screens.settings import SettingsScreen
from tui.store import SessionStore, default_root

ENV_KEY = "sk-SECRET-env-1234567890"
FILE_KEY = "sk-SECRET-file-0987654321"
PROXY_PASSWORD = "hunter2pass"
# How the password travels in a Proxy-Authorization header: a leak in that form counts too.
PROXY_BASIC = base64.b64encode(f"user:{PROXY_PASSWORD}".encode()).decode()
SECRETS = (ENV_KEY, FILE_KEY, PROXY_PASSWORD, PROXY_BASIC)


@dataclass
class World:
    root: Path  # everything the processes may write lies under here
    config: Path
    env: dict[str, str]
    env_server: OpenAIServer
    file_server: OpenAIServer
    proxy: ForwardProxy
    outputs: list[str]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [CHATTERM, *args], env=self.env, capture_output=True, text=True, timeout=60
        )
        self.outputs += [result.stdout, result.stderr]
        assert "Traceback" not in result.stderr
        return result


def echo_answer(status: int, key: str, padding: int = 0) -> Raw:
    """An error answer that quotes the request's Authorization header back, as some do;
    with *padding*, a plain-text body where the key starts at that offset."""
    body = json.dumps({"error": {"message": f"bad request; you sent Authorization: Bearer {key}"}})
    if padding:
        body = " " * padding + key
    head = (
        f"HTTP/1.1 {status} Echo\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return Raw((head + body).encode())


@pytest.fixture
def world(tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{free_port()}")  # never a developer's own
    with (
        OpenAIServer(reply="env reply", api_key=ENV_KEY) as env_server,
        OpenAIServer(reply="file reply", api_key=FILE_KEY) as file_server,
        ForwardProxy() as proxy,
    ):
        proxy_url = f"http://user:{PROXY_PASSWORD}@127.0.0.1:{proxy.port}"
        dead_proxy = f"http://user:{PROXY_PASSWORD}@127.0.0.1:{free_port()}"
        config = isolated_home / "config" / "chatterm" / "config.toml"
        config.parent.mkdir(parents=True)
        config.write_text(
            'default_provider = "openai"\n'
            f'[providers.openai]\nbase_url = "{env_server.base_url}"\n'
            f'[providers.filed]\nkind = "openai"\nbase_url = "{file_server.base_url}"\n'
            f'api_key = "{FILE_KEY}"\n'
            f'[providers.proxied]\nkind = "openai"\nbase_url = "{file_server.base_url}"\n'
            f'api_key = "{FILE_KEY}"\nproxy = "{proxy_url}"\n'
            f'[providers.deadproxy]\nkind = "openai"\nbase_url = "{file_server.base_url}"\n'
            f'api_key = "{FILE_KEY}"\nproxy = "{dead_proxy}"\n',
            "utf-8",
        )
        config.chmod(0o600)
        env = {k: v for k, v in os.environ.items() if k != "CHATTERM_CONFIG"}
        yield World(isolated_home, config, env, env_server, file_server, proxy, [])
        assert_nothing_leaked(tmp_path, isolated_home, config)


def assert_nothing_leaked(tmp_path: Path, home: Path, config: Path) -> None:
    allowed = {config, config.with_name("config.toml.bak")}  # the user's own file, kept
    for folder in (tmp_path, home):
        for path in folder.rglob("*"):
            if not path.is_file() or path in allowed:
                continue
            data = path.read_bytes()
            for secret in SECRETS:
                assert secret.encode() not in data, f"{secret} written to {path}"


def assert_clean(texts: list[str]) -> None:
    assert texts
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"{secret} shown in:\n{text}"


def test_ask_successes_and_failures_never_show_a_key_or_proxy_password(world: World) -> None:
    assert world.run("ask", "-p", "openai", "env please").stdout.strip() == "env reply"
    assert world.run("ask", "-p", "filed", "file please").stdout.strip() == "file reply"
    assert world.run("ask", "-p", "proxied", "via proxy").stdout.strip() == "file reply"
    assert world.proxy.request_lines  # it really went through the proxy with the password

    failed = world.run("ask", "-p", "deadproxy", "proxy down")
    assert failed.returncode == 1 and "through the proxy http://user:•••@127.0.0.1" in failed.stderr
    for status in (401, 500):  # refused, server error: both echo the key
        world.env_server.script(echo_answer(status, ENV_KEY))
        result = world.run("ask", "-p", "openai", f"echo {status}")
        assert result.returncode in (1, 2) and f"HTTP {status}" in result.stderr
    # An echo padded so that the key straddles the 4 KiB the error excerpt is read from:
    # not even its first half may show.
    world.env_server.script(echo_answer(500, ENV_KEY, padding=4096 - 12))
    result = world.run("ask", "-p", "openai", "padded echo")
    assert result.returncode == 1 and ENV_KEY[:10] not in result.stderr
    world.file_server.script(echo_answer(500, FILE_KEY))
    result = world.run("ask", "-p", "filed", "file echo")
    assert result.returncode == 1 and "[redacted]" in result.stderr  # the body was shown

    providers = world.run("providers")
    assert "proxy:   http://user:•••@127.0.0.1" in providers.stdout
    listing = world.run("sessions", "list")
    session_id = listing.stdout.splitlines()[1].split()[0]
    world.run("sessions", "export", session_id, "--format", "json")
    assert_clean(world.outputs)


async def test_app_screens_exports_and_screenshots_never_show_a_key(
    world: World, tmp_path: Path
) -> None:
    config = load(world.config)
    app = ChattermApp(config, SessionStore(default_root()))
    texts: list[str] = []
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, "hello")
        await wait_until(pilot, lambda: "env reply" in screen_text(app))
        world.env_server.script(echo_answer(500, ENV_KEY))
        await ask(pilot, "again")
        await wait_until(pilot, lambda: "[redacted]" in screen_text(app))
        texts.append(screen_text(app))

        texts += await each_provider_shown(pilot)
        joined = "\n".join(texts)
        assert "sk-…7890 from $OPENAI_API_KEY" in joined and "sk-…4321 in config.toml" in joined
        assert "http://user:•••@127.0.0.1" in joined  # the proxy, its password masked
        await pilot.press("escape", "f5")  # settings
        await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        texts.append(screen_text(app))
        await pilot.press("escape", "f3")  # sessions: export to Markdown
        await wait_until(pilot, lambda: "hello" in screen_text(app))  # the list is loaded
        await pilot.press("e")
        await wait_until(pilot, lambda: any(n.startswith("Exported to") for n in notices(app)))
        texts.append(screen_text(app))
        texts.append(app.export_screenshot())
        app.save_screenshot(filename="shot.svg", path=str(tmp_path))
        await pilot.press("escape")
        texts += [n.message for n in app._notifications]
    exports = list((default_root().parent / "exports").glob("*.md"))
    assert exports and "hello" in exports[0].read_text()
    assert (tmp_path / "shot.svg").exists()
    assert_clean(texts)


def test_config_with_keys_readable_by_others_warns_with_the_chmod_to_run(world: World) -> None:
    world.config.chmod(0o644)
    result = world.run("providers")
    assert f"chmod 600 {world.config}" in result.stderr
    assert_clean([result.stderr])


async def test_a_key_typed_into_the_providers_screen_is_saved_private_and_masked(
    world: World,
) -> None:
    world.config.chmod(0o644)  # loosened by hand: the save must make it private again
    config = load(world.config)
    typed = "sk-SECRET-typed-5555566666"
    app = ChattermApp(config, SessionStore(default_root()))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f4")
        await pilot.pause(0.2)
        await pilot.press(
            "down", "down", "down", "down", "down"
        )  # raycast (after echo, openai, anthropic, gemini, ollama): needs a key
        await pilot.press("k", *typed, "enter")
        await pilot.pause(0.3)
        shown = screen_text(app)
        warnings = [n.message for n in app._notifications if "chmod" in n.message]
    assert len(warnings) == 1 and warnings[0].endswith(f"chmod 600 {world.config}")
    assert "sk-…6666 in config.toml" in shown and typed not in shown
    assert typed in world.config.read_text()
    assert stat.S_IMODE(world.config.stat().st_mode) == 0o600
    backup = world.config.with_name("config.toml.bak")
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:hunter2pass@127.0.0.1:3128", "http://user:•••@127.0.0.1:3128"),
        ("socks5://me:p@ss@proxy/x@y", "socks5://me:•••@y"),  # the last @ ends it, always
        ("user:hunter2pass@host:8080", "user:•••@host:8080"),  # no scheme, as people type it
        ("http://user@host:8080/", "http://user@host:8080/"),  # no password: as it is
        ("http://127.0.0.1:11434", "http://127.0.0.1:11434"),
    ],
)
def test_a_password_in_a_url_is_masked_and_the_rest_kept(url: str, shown: str) -> None:
    assert mask_url(url) == shown

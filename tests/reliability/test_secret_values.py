"""Secrets with awkward values never leave their setting.

Each kind of secret chatterm holds (an API key from the environment and one from the file,
both with the CR/LF/space a CRLF .env or a paste leaves; a proxy password and a base_url
password with reserved characters; VoiGpt's access_token) goes through `chatterm ask`
against loopback servers, then the sessions, their exports and the app. Every output and
every file written is searched for each secret raw, repr()-escaped and percent-encoded.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.app.host import ask, each_provider_shown, screen_text, wait_until
from tests.pty_driver import CHATTERM
from tests.servers import ForwardProxy, OpenAIServer, VoiGptServer, free_port
from tui import config as cfg
from tui.app import ChattermApp
from tui.sanitize import mask_url
from tui.store import SessionStore, default_root

ENV_KEY = "sk-ENVcr-5f1e2d3c4b"
FILE_KEY = "sk-FILEsp-9a8b7c6d5e"
PROXY_PASSWORD = "Px@w/9Z#q?k"  # every reserved character a password may hold
BASE_PASSWORD = "Bs#pw/7Y@u"
TOKEN = "TokVoi7Q2w3e4r5t6y"


def forms(secret: str) -> set[str]:
    """The ways a secret can show: raw, repr()-escaped, percent-encoded."""
    return {secret, repr(secret)[1:-1], quote(secret, safe="")}


def basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


SECRETS = {s: forms(s) for s in (ENV_KEY, FILE_KEY, PROXY_PASSWORD, BASE_PASSWORD, TOKEN)}
SECRETS["proxy basic"] = {basic("alice", PROXY_PASSWORD)}
SECRETS["base basic"] = {basic("bob", BASE_PASSWORD)}


@dataclass
class World:
    home: Path
    config: Path
    env: dict[str, str]
    keyed: OpenAIServer
    voigpt: VoiGptServer
    proxy: ForwardProxy
    outputs: list[str] = field(default_factory=list)

    def run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [CHATTERM, *args],
            env=env or self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.outputs += [result.stdout, result.stderr]
        assert "Traceback" not in result.stderr, result.stderr
        return result


def assert_no_secret(texts: list[str], where: str = "output") -> None:
    for text in texts:
        for name, shown in SECRETS.items():
            for form in shown:
                assert form not in text, f"{name} ({form!r}) in {where}:\n{text[:2000]}"


def assert_no_secret_in_files(home: Path, config: Path) -> list[Path]:
    allowed = {config, config.with_name("config.toml.bak")}
    searched = [p for p in home.rglob("*") if p.is_file() and p not in allowed]
    for path in searched:
        assert_no_secret([path.read_bytes().decode("utf-8", "replace")], str(path))
    return searched


@pytest.fixture
def world(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY + "\r\n")  # a CRLF .env
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{free_port()}")
    with (
        OpenAIServer(reply="keyed reply", api_key=ENV_KEY) as keyed,
        OpenAIServer(reply="filed reply", api_key=FILE_KEY) as filed,
        OpenAIServer(reply="based reply") as based,
        VoiGptServer(reply="voi reply") as voigpt,
        ForwardProxy() as proxy,
    ):
        voigpt.valid_tokens.add(TOKEN)
        proxy_url = f"http://alice:{quote(PROXY_PASSWORD, safe='')}@127.0.0.1:{proxy.port}"
        base_auth = f"bob:{quote(BASE_PASSWORD, safe='')}"
        config = isolated_home / "config" / "chatterm" / "config.toml"
        config.parent.mkdir(parents=True)
        config.write_text(
            'default_provider = "openai"\n'
            f'[providers.openai]\nbase_url = "{keyed.base_url}"\n'
            # a key pasted with its line end and a space, written as TOML escapes
            f'[providers.filed]\nkind = "openai"\nbase_url = "{filed.base_url}"\n'
            f'api_key = " {FILE_KEY}\\r\\n"\n'
            f'[providers.proxied]\nkind = "openai"\nbase_url = "{filed.base_url}"\n'
            f'api_key = "{FILE_KEY}"\nproxy = "{proxy_url}"\n'
            f'[providers.based]\nkind = "openai"\n'
            f'base_url = "http://{base_auth}@127.0.0.1:{based.port}/v1"\n'
            f'[providers.deadbase]\nkind = "openai"\n'
            f'base_url = "http://{base_auth}@127.0.0.1:{free_port()}/v1"\n'
            f'[providers.voi]\nkind = "voigpt"\nbase_url = "{voigpt.url}"\n'
            f'access_token = "{TOKEN}\\n"\n',
            "utf-8",
        )
        config.chmod(0o600)
        env = {k: v for k, v in os.environ.items() if k != "CHATTERM_CONFIG"}
        yield World(isolated_home, config, env, keyed, voigpt, proxy)


def test_every_secret_works_and_shows_nowhere(world: World) -> None:
    for provider, reply in [
        ("openai", "keyed reply"),
        ("filed", "filed reply"),
        ("proxied", "filed reply"),
        ("based", "based reply"),
        ("voi", "voi reply"),
    ]:
        result = world.run("ask", "-p", provider, f"to {provider}")
        assert (result.returncode, result.stdout.strip()) == (0, reply), result.stderr
    assert world.proxy.request_lines  # the proxy really carried a request
    failed = world.run("ask", "-p", "deadbase", "nobody home")
    assert failed.returncode == 1 and "http://bob:•••@127.0.0.1" in failed.stderr
    world.keyed.script("401")
    assert world.run("ask", "-p", "openai", "refused").returncode in (1, 2)

    listing = world.run("sessions", "list")
    ids = [line.split()[0] for line in listing.stdout.splitlines()[1:]]
    assert len(ids) == 7
    for session_id in ids:
        world.run("sessions", "export", session_id, "--format", "json")
        world.run("sessions", "export", session_id)
    world.run("providers")
    assert_no_secret(world.outputs)
    searched = assert_no_secret_in_files(world.home, world.config)
    assert sum(p.suffix == ".toml" for p in searched) >= 7


async def test_the_app_shows_no_secret_on_screen_or_in_its_state_file(world: World) -> None:
    config = cfg.load(world.config)
    app = ChattermApp(config, SessionStore(default_root()), provider="based")
    texts: list[str] = []
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, "hello")
        await wait_until(pilot, lambda: "based reply" in screen_text(app))
        texts.append(screen_text(app))
        app.conversation.switch_model("voi", "gpt-3.5-turbo")  # the recent list is written
        texts += await each_provider_shown(pilot)
        texts.append(app.export_screenshot())
        texts += [n.message for n in app._notifications]
    assert "based reply" in texts[0]
    assert "http://bob:•••@127.0.0.1" in "\n".join(texts)
    assert_no_secret(texts, "the app")
    assert_no_secret_in_files(world.home, world.config)


# -- keys that cannot travel in a header ----------------------------------------------------


@pytest.mark.parametrize("value", ["sk-ключ-1234", "sk-ab\x01cd1234", "sk-ab\ncd1234"])
def test_a_key_with_a_control_or_non_ascii_character_names_the_setting_not_the_value(
    world: World, value: str
) -> None:
    env = {**world.env, "OPENAI_API_KEY": value}
    result = world.run("ask", "-p", "openai", "hi", env=env)
    assert result.returncode == 2
    assert "OPENAI_API_KEY" in result.stderr
    for part in ("ключ", "cd1234", "sk-ab"):
        assert part not in result.stderr

    escaped = json.dumps(value)  # TOML reads JSON's \uXXXX escapes
    world.config.write_text(f'[providers.filed]\nkind = "openai"\napi_key = {escaped}\n')
    result = world.run("ask", "-p", "filed", "hi", env={**world.env, "OPENAI_API_KEY": ""})
    assert result.returncode == 2
    assert "providers.filed.api_key" in result.stderr
    for part in ("ключ", "cd1234", "sk-ab"):
        assert part not in result.stderr
    assert "Traceback" not in result.stderr


# -- URLs with passwords --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://alice:p@ss/9Z@host:3128", "http://alice:•••@host:3128"),
        ("http://alice:pa#ss@host:3128", "http://alice:•••@host:3128"),
        ("http://alice:pa?ss@host:3128/x", "http://alice:•••@host:3128/x"),
        ("socks5://me:p@ss@proxy/x@y", "socks5://me:•••@y"),  # ambiguous: hide more
        ("alice:s3/cr#t@host:8080", "alice:•••@host:8080"),
    ],
)
def test_masking_hides_the_whole_password_whatever_it_holds(url: str, shown: str) -> None:
    assert mask_url(url) == shown


@pytest.mark.parametrize("key", ["proxy", "base_url"])
@pytest.mark.parametrize(
    "url",
    [
        "http://alyx:Qz7@Wk/9Z@127.0.0.1:3128",
        "http://alyx:Qz7#Wk@127.0.0.1:3128",
        "http://alyx:Qz7?Wk@127.0.0.1:3128",
        "http://alyx:Qz7/Wk@127.0.0.1:3128",
        "alyx:Qz7Wk@127.0.0.1:3128",  # no scheme
        "http://alyx:Qz7Wk@127.0.0.1:99999",  # a port out of range
    ],
)
def test_an_unusable_url_is_a_config_error_that_never_quotes_its_userinfo(
    tmp_path: Path, key: str, url: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[providers.x]\nkind = "openai"\n{key} = "{url}"\n', "utf-8")
    with pytest.raises(cfg.ConfigError) as caught:
        cfg.load(path)
    message = str(caught.value)
    assert f"providers.x.{key}" in message
    for part in ("alyx", "Qz7", "Wk", "9Z"):
        assert part not in message.replace(str(path), "")


async def test_a_provider_given_a_bad_proxy_directly_never_quotes_the_password(
    make_provider, openai_server: OpenAIServer
) -> None:
    from tui.providers.errors import ProviderError

    for proxy in ("http://alice:Qz7#Wk@127.0.0.1:3128", "alice:Qz7Wk@127.0.0.1:3128"):
        provider = make_provider("openai", base_url=openai_server.base_url, proxy=proxy)
        with pytest.raises(ProviderError) as caught:
            async for _ in provider.stream("", [{"role": "user", "content": "hi"}]):
                pass
        assert "Qz7" not in str(caught.value) and "Wk" not in str(caught.value)


# -- the permission warning and the timeout ----------------------------------------------------


@pytest.mark.parametrize(
    "table",
    [
        'proxy = "http://alice:Qpass@127.0.0.1:3128"\n',
        'base_url = "http://bob:Qpass@127.0.0.1:8080/v1"\n',
        'kind = "voigpt"\naccess_token = "TokVoi"\n',
    ],
)
def test_a_readable_config_holding_any_secret_warns(tmp_path: Path, table: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"[providers.x]\n{table}", "utf-8")
    path.chmod(0o644)
    warning = cfg.permissions_warning(path)
    assert warning and f"chmod 600 {path}" in warning
    path.chmod(0o600)
    assert cfg.permissions_warning(path) is None


def test_a_readable_config_without_secrets_does_not_warn(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[providers.x]\nkind = "openai"\nbase_url = "http://bob@host/v1"\n')
    path.chmod(0o644)
    assert cfg.permissions_warning(path) is None


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-5", "0.0"])
def test_an_unusable_request_timeout_is_a_config_error_naming_the_key(
    tmp_path: Path, value: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"request_timeout = {value}\n", "utf-8")
    with pytest.raises(cfg.ConfigError, match="request_timeout"):
        cfg.load(path)

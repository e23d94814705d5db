"""Images for vision models: an attached PNG/JPEG/WebP/GIF goes as an image part in each
service's own shape (OpenAI image_url data URL, Ollama images), only to models that take
images; the session file keeps its path, size, hash and type, never its bytes."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.servers import OllamaServer, OpenAIServer, free_port
from tui.attachments import AttachmentError, compose, from_piped, read_file
from tui.chat import Core, Exchange
from tui.config import Config, ProviderConfig
from tui.providers.errors import BadSetting
from tui.store import SessionStore

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # a PNG's signature, then any bytes
CHATTERM = str(Path(sys.executable).with_name("chatterm"))


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "photo.png"
    path.write_bytes(PNG)
    return path


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Core]:
    core = Core(Config(path=tmp_path / "config.toml"), SessionStore(tmp_path / "sessions"))
    yield core
    await core.aclose()


def serve(core: Core, kind: str, url: str, **options: object) -> None:
    core.config.providers["local"] = ProviderConfig(
        name="local", kind=kind, base_url=url, options=dict(options)
    )


async def ask(core: Core, session, prompt: str, model: str, files=()) -> str:
    content, records = compose(prompt, list(files))
    exchange = Exchange(core, session, content, attachments=records, provider="local", model=model)
    return "".join([t async for t in exchange.chunks()])


def test_an_image_is_an_attachment_with_its_type_and_no_text(photo: Path) -> None:
    loaded = read_file(str(photo), limit=1024)  # the text limit does not bound an image
    assert (loaded.mime, loaded.block, loaded.size) == ("image/png", "", len(PNG))
    assert loaded.chip == f"▣ photo.png · {len(PNG) / 1024:.1f} KB · image"
    content, [record] = compose("what is this?", [loaded])
    assert content == "what is this?" and record.chars == 0 and record.mime == "image/png"
    with pytest.raises(AttachmentError, match="attach it as a file"):
        from_piped(PNG, limit=10_000)  # piped bytes have no path to read again


async def test_openai_gets_an_image_url_part_and_the_file_keeps_no_bytes(
    core: Core, photo: Path, tmp_path: Path
) -> None:
    with OpenAIServer() as server:
        serve(core, "openai", server.base_url)
        session = core.store.new("local", "gpt-4o")
        await ask(core, session, "what is this?", "gpt-4o", [read_file(str(photo), limit=1024)])
        [text, image] = server.requests[-1].json["messages"][-1]["content"]
        assert text == {"type": "text", "text": "what is this?"}
        url = "data:image/png;base64," + base64.b64encode(PNG).decode()
        assert image == {"type": "image_url", "image_url": {"url": url}}
        await ask(core, session, "and the colours?", "gpt-4o")  # the image goes again
        sent = server.requests[-1].json["messages"]
        assert sent[0]["content"][1]["image_url"]["url"] == url
        assert sent[-1] == {"role": "user", "content": "and the colours?"}
    raw = core.store.path(session.id).read_text()
    assert base64.b64encode(PNG).decode()[:40] not in raw
    [record] = tomllib.loads(raw)["messages"][0]["attachments"]
    assert record == {
        "name": "photo.png", "path": str(photo), "size": len(PNG),
        "sha256": hashlib.sha256(PNG).hexdigest(), "chars": 0, "mime": "image/png",
    }  # fmt: skip


async def test_ollama_gets_base64_in_the_messages_images(core: Core, photo: Path) -> None:
    with OllamaServer() as server:
        serve(core, "ollama", server.url)
        session = core.store.new("local", "llava:7b")
        await ask(core, session, "describe", "llava:7b", [read_file(str(photo), limit=1024)])
        message = server.requests[-1].json["messages"][-1]
        assert message == {
            "role": "user", "content": "describe", "images": [base64.b64encode(PNG).decode()]
        }  # fmt: skip


async def test_a_model_that_takes_no_images_is_refused_before_anything_is_sent(
    core: Core, photo: Path
) -> None:
    with OpenAIServer() as server:
        serve(core, "openai", server.base_url)
        with pytest.raises(BadSetting, match=r"is an image and gpt-3\.5-turbo takes no images"):
            core.check_images("local", "gpt-3.5-turbo", [read_file(str(photo), limit=1024)])
        serve(core, "openai", server.base_url, vision=True)  # the user says it does
        await core.forget()
        core.check_images("local", "my-own-vlm", [read_file(str(photo), limit=1024)])
        assert server.requests == []


async def test_an_earlier_image_that_changed_is_left_out_and_said(core: Core, photo: Path) -> None:
    notices: list[str] = []
    with OpenAIServer() as server:
        serve(core, "openai", server.base_url)
        session = core.store.new("local", "gpt-4o")
        await ask(core, session, "look", "gpt-4o", [read_file(str(photo), limit=1024)])
        change(photo)
        exchange = Exchange(
            core, session, "again?", provider="local", model="gpt-4o", on_notice=notices.append
        )
        assert "".join([t async for t in exchange.chunks()])
        assert server.requests[-1].json["messages"][0] == {"role": "user", "content": "look"}
    assert notices == ["1 image(s) of earlier prompts not sent to gpt-4o"]


def change(path: Path) -> None:
    path.write_bytes(PNG + b"changed")


def test_ask_with_an_image_for_a_model_without_vision_is_exit_2_and_sends_nothing(
    tmp_path: Path, photo: Path
) -> None:
    with OpenAIServer() as server:
        config = tmp_path / "config.toml"
        config.write_text(f'[providers.local]\nkind = "openai"\nbase_url = "{server.base_url}"\n')
        env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
        env.update(CHATTERM_CONFIG=str(config), CHATTERM_DATA_DIR=str(tmp_path / "data"))
        env["OLLAMA_HOST"] = f"127.0.0.1:{free_port()}"
        args = [CHATTERM, "ask", "-p", "local", "-m", "gpt-3.5-turbo", "-a", str(photo), "hi"]
        result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 2, result.stderr
        assert "is an image and gpt-3.5-turbo takes no images" in result.stderr
        assert server.requests == []
        args[5] = "gpt-4o"
        result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert server.requests[-1].json["messages"][-1]["content"][1]["type"] == "image_url"

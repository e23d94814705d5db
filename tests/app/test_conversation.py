"""The conversation screen, driven by keys against loopback servers."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.app.host import host_config, screen_text
from tests.servers import OpenAIServer
from tui.app import ChattermApp
from tui.config import ProviderConfig
from tui.store import SessionStore

SIZE = (100, 30)


def make_app(tmp_path: Path, server: OpenAIServer, **config: object) -> ChattermApp:
    cfg = host_config(tmp_path, default_provider="local", default_model="m1", **config)
    cfg.providers["local"] = ProviderConfig(
        name="local", kind="openai", base_url=server.base_url, models=("m1", "m2")
    )
    store = SessionStore(tmp_path / "sessions")
    return ChattermApp(cfg, store, state_path=tmp_path / "state.json")


async def wait_until(pilot, test: Callable[[], bool], seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.05)):
        if test():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition never became true")


async def type_and_send(pilot, text: str) -> None:
    await pilot.press(*text)
    await pilot.press("enter")


def chats(server: OpenAIServer) -> list:
    """The chat requests (the model picker also asks GET /models)."""
    return [r for r in server.requests if r.method == "POST"]


def saved(app: ChattermApp) -> dict:
    session = app.conversation.session
    return tomllib.loads(app.services.store.path(session.id).read_text())


async def test_enter_streams_the_reply_into_the_log_and_saves_it(tmp_path: Path) -> None:
    with OpenAIServer(reply="Hello **there**, friend.") as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            await type_and_send(pilot, "hi")
            screen = app.conversation
            await wait_until(pilot, lambda: not screen.streaming)
            await pilot.pause(0.1)
            assert "Hello there, friend." in screen_text(app)
            assert "local/m1" in screen_text(app)
            doc = saved(app)
            assert [m["role"] for m in doc["messages"]] == ["user", "assistant"]
            assert doc["messages"][1]["content"] == "Hello **there**, friend."
            assert doc["messages"][1]["status"] == "complete"
            assert chats(server)[-1].json["messages"][-1] == {"role": "user", "content": "hi"}


async def test_ctrl_j_inserts_a_newline_instead_of_sending(tmp_path: Path) -> None:
    with OpenAIServer(reply="ok") as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("a", "ctrl+j", "b")
            assert app.conversation.prompt.text == "a\nb"
            assert chats(server) == []
            await pilot.press("enter")
            await wait_until(pilot, lambda: bool(chats(server)))
            assert chats(server)[-1].json["messages"][-1]["content"] == "a\nb"


async def test_esc_keeps_partial_reply_and_saves_it_as_cancelled(tmp_path: Path) -> None:
    words = " ".join(f"word{i}" for i in range(200))
    with OpenAIServer(reply=words, delay=0.02) as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            await type_and_send(pilot, "go")
            screen = app.conversation
            await wait_until(pilot, lambda: "word5" in screen_text(app))
            await pilot.press("escape")
            await wait_until(pilot, lambda: not screen.streaming)
            await pilot.pause(0.1)
            reply = saved(app)["messages"][-1]
            assert reply["status"] == "cancelled"
            assert reply["content"].startswith("word0 word1")
            assert "word199" not in reply["content"]
            assert "cancelled" in screen_text(app)
            # The next prompt works.
            server.delay = 0
            await type_and_send(pilot, "again")
            await wait_until(pilot, lambda: not screen.streaming and len(chats(server)) == 2)


async def test_f2_switches_the_model_for_the_next_request(tmp_path: Path) -> None:
    with OpenAIServer(reply="fine") as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.conversation
            await type_and_send(pilot, "one")
            await wait_until(pilot, lambda: not screen.streaming and len(chats(server)) == 1)
            await pilot.press("f2")
            await pilot.pause(0.2)
            await pilot.press(*"local/m2")
            await pilot.press("enter")
            await pilot.pause(0.2)
            assert screen.session.model == "m2"
            await type_and_send(pilot, "two")
            await wait_until(pilot, lambda: not screen.streaming and len(chats(server)) == 2)
            assert chats(server)[-1].json["model"] == "m2"
            assert saved(app)["model"] == "m2"
            assert saved(app)["messages"][-1]["model"] == "m2"


async def test_regenerate_replaces_the_last_reply(tmp_path: Path) -> None:
    with OpenAIServer(reply="first answer") as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.conversation
            await type_and_send(pilot, "q")
            await wait_until(pilot, lambda: not screen.streaming and len(chats(server)) == 1)
            server.reply = "second answer"
            await pilot.press("ctrl+r")
            await wait_until(pilot, lambda: not screen.streaming and len(chats(server)) == 2)
            messages = saved(app)["messages"]
            assert [m["content"] for m in messages] == ["q", "second answer"]
            assert "first answer" not in screen_text(app)


async def test_copy_keys_put_reply_and_code_on_the_clipboard(tmp_path: Path) -> None:
    reply = "Here:\n\n```python\nprint('hi')\n```\n"
    with OpenAIServer(reply=[reply]) as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.conversation
            await type_and_send(pilot, "code please")
            await wait_until(pilot, lambda: not screen.streaming)
            await pilot.press("f6")
            assert app.clipboard == reply
            await pilot.press("f7")
            assert app.clipboard.strip() == "print('hi')"


async def test_up_in_empty_prompt_recalls_and_ctrl_o_edits_the_last_prompt(
    tmp_path: Path,
) -> None:
    with OpenAIServer(reply="ans") as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.conversation
            await type_and_send(pilot, "typo")
            await wait_until(pilot, lambda: not screen.streaming and len(chats(server)) == 1)
            await pilot.press("up")
            assert screen.prompt.text == "typo"
            screen.prompt.clear()
            await pilot.press("ctrl+o", "backspace", "backspace", "p", "o")  # "typo" -> "typo"
            await pilot.press("enter")
            await wait_until(pilot, lambda: not screen.streaming and len(chats(server)) == 2)
            contents = [m["content"] for m in saved(app)["messages"]]
            assert contents == ["typo", "ans"]


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        ("401", "credentials"),
        ("429", "rate limited"),
        ("500", "HTTP 500"),
        ("cut", "cut"),
        ("not_json", "not JSON"),
        ("drop", "cut"),
    ],
)
async def test_provider_failure_shows_in_the_log_and_the_app_stays_up(
    tmp_path: Path, mode: str, words: str
) -> None:
    with OpenAIServer(
        reply="partial words arrive first then more", mode=mode, retry_after="60"
    ) as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.conversation
            await type_and_send(pilot, "hi")
            await wait_until(pilot, lambda: not screen.streaming)
            await pilot.pause(0.1)
            text = screen_text(app)
            assert words in text, text
            reply = saved(app)["messages"][-1]
            assert reply["status"] == "error" and words in reply["error"]
            assert "<html" not in text and "<title>" not in text
            server.mode = "normal"
            await type_and_send(pilot, "again")
            await wait_until(pilot, lambda: not screen.streaming and len(chats(server)) >= 2)
            assert saved(app)["messages"][-1]["status"] == "complete"


async def test_stall_past_request_timeout_reads_as_a_timeout(tmp_path: Path) -> None:
    with OpenAIServer(reply="a b c", mode="stall", stall=2) as server:
        app = make_app(tmp_path, server, request_timeout=0.4)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.conversation
            await type_and_send(pilot, "hi")
            await wait_until(pilot, lambda: not screen.streaming)
            assert "request_timeout" in saved(app)["messages"][-1]["error"]


async def test_hostile_reply_neither_escapes_nor_acts_as_markup(tmp_path: Path) -> None:
    hostile = [
        "safe ",
        "\x1b]52;c;cHduZWQ=\x07",
        "[@click=app.quit]click[/] ",
        "\x1b[2J",
        "[bold]x[/] [/]",
    ]
    with OpenAIServer(reply=hostile) as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.conversation
            await type_and_send(pilot, "hi")
            await wait_until(pilot, lambda: not screen.streaming)
            await pilot.pause(0.1)
            text = screen_text(app)
            assert "[@click=app.quit]click[/]" in text
            assert "\x1b" not in text
            assert "\x1b" not in saved(app)["messages"][-1]["content"]
            await pilot.click("#log")
            assert app.is_running


async def test_reopened_conversation_resumes_with_its_provider_and_model(tmp_path: Path) -> None:
    with OpenAIServer(reply="remembered") as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.conversation
            await pilot.press("f2")
            await pilot.pause(0.2)
            await pilot.press(*"local/m2", "enter")
            await type_and_send(pilot, "keep me")
            await wait_until(pilot, lambda: not screen.streaming and len(chats(server)) == 1)
            session_id = screen.session.id
        store = SessionStore(tmp_path / "sessions")
        again = ChattermApp(
            app.services.config,
            store,
            session=store.load(session_id),
            state_path=tmp_path / "state.json",
        )
        async with again.run_test(size=SIZE) as pilot:
            await pilot.pause(0.2)
            text = screen_text(again)
            assert "keep me" in text and "remembered" in text
            assert again.conversation.session.model == "m2"
            assert "local · m2" in text


async def test_ctrl_n_starts_a_new_conversation(tmp_path: Path) -> None:
    with OpenAIServer(reply="x") as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.conversation
            await type_and_send(pilot, "first chat")
            await wait_until(pilot, lambda: not screen.streaming)
            first = screen.session.id
            await pilot.press("ctrl+n")
            await type_and_send(pilot, "second chat")
            await wait_until(pilot, lambda: not screen.streaming and len(chats(server)) == 2)
            assert screen.session.id != first
            assert chats(server)[-1].json["messages"] == [
                {"role": "user", "content": "second chat"}
            ]
            assert len(app.services.store.list()) == 2


async def test_first_start_without_config_uses_echo_with_a_hint(tmp_path: Path) -> None:
    cfg = host_config(tmp_path)
    app = ChattermApp(cfg, SessionStore(tmp_path / "s"), state_path=tmp_path / "state.json")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        text = screen_text(app)
        assert "echo · echo" in text
        assert "F4" in text
        await type_and_send(pilot, "ping")
        await wait_until(pilot, lambda: "You wrote" in screen_text(app))


async def test_f1_lists_every_key_and_palette_reaches_models(tmp_path: Path) -> None:
    with OpenAIServer(reply="x") as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f1")
            await pilot.pause(0.1)
            text = screen_text(app)
            assert "ctrl+j" in text and "regenerate" in text
            await pilot.press("escape", "ctrl+p")
            await pilot.pause(0.2)
            await pilot.press(*"Switch to local/m2")
            await pilot.pause(0.4)
            await pilot.press("enter")
            await pilot.pause(0.2)
            assert app.conversation.session.model == "m2"


async def test_a_bug_in_a_provider_shows_as_an_error_and_the_app_stays_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.providers.echo import EchoProvider

    async def broken(self, model, messages):  # a provider with a parsing bug
        yield "first words "
        raise KeyError("choices")

    monkeypatch.setattr(EchoProvider, "_stream", broken)
    cfg = host_config(tmp_path, default_provider="echo")
    app = ChattermApp(cfg, SessionStore(tmp_path / "s"), state_path=tmp_path / "state.json")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.conversation
        await type_and_send(pilot, "hi")
        await wait_until(pilot, lambda: not screen.streaming)
        await pilot.pause(0.1)
        text = screen_text(app)
        assert "first words" in text and "KeyError" in text
        assert app.is_running
        reply = saved(app)["messages"][-1]
        assert reply["status"] == "error" and reply["content"] == "first words "


async def test_the_conversation_is_the_first_screen_with_no_blank_screen_under_it(
    tmp_path: Path,
) -> None:
    # Pushing it over Textual's default screen cost ~0.2 s of CPU before the first paint
    # (one more screen to compose and style, and a full stylesheet refresh on the push).
    with OpenAIServer() as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert [type(s).__name__ for s in app.screen_stack] == ["ConversationScreen"]
            await pilot.press("f5")  # another screen on top, and back
            await pilot.press("escape")
            assert app.screen is app.conversation
            assert app.focused is app.conversation.prompt

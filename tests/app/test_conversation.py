"""The conversation screen, driven by keys against loopback servers."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from tests.app.host import (
    ask,
    host_config,
    local_app,
    notices,
    screen_text,
    type_and_send,
    wait_until,
)
from tests.servers import OpenAIServer
from tui.app import ChattermApp
from tui.store import SessionStore

SIZE = (100, 30)


def make_app(tmp_path: Path, server: OpenAIServer, **config: object) -> ChattermApp:
    return local_app(tmp_path, server.base_url, ("m1", "m2"), **config)


def chats(server: OpenAIServer) -> list:
    """The chat requests (the model picker also asks GET /models)."""
    return server.chat_requests


def highlighted(options: OptionList) -> str:
    """The text of the highlighted option ("" while there is none)."""
    index = options.highlighted
    return "" if index is None else str(options.get_option_at_index(index).prompt)


async def choose_model(pilot: Pilot[None], provider: str, model: str) -> None:
    """F2, type provider/model into the picker's filter, Enter once the list offers it."""
    app = pilot.app
    assert isinstance(app, ChattermApp) and app.conversation is not None
    screen = app.conversation
    await pilot.press("f2")
    await wait_until(pilot, lambda: isinstance(app.focused, Input))  # the picker's filter
    options = app.screen.query_one("#picker-list", OptionList)
    await pilot.press(*f"{provider}/{model}")
    await wait_until(pilot, lambda: highlighted(options).startswith(f"{provider}/{model}"))
    await pilot.press("enter")
    chosen = (provider, model)
    await wait_until(pilot, lambda: (screen.session.provider, screen.session.model) == chosen)


def saved(app: ChattermApp) -> dict:
    session = app.conversation.session
    return tomllib.loads(app.services.store.path(session.id).read_text())


async def test_enter_streams_the_reply_into_the_log_and_saves_it(tmp_path: Path) -> None:
    with OpenAIServer(reply="Hello **there**, friend.") as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            await ask(pilot, "hi")
            await wait_until(pilot, lambda: "Hello there, friend." in screen_text(app))
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
            await wait_until(pilot, lambda: "word5" in screen_text(app))
            await pilot.press("escape")
            await wait_until(pilot, lambda: saved(app)["messages"][-1].get("status") == "cancelled")
            reply = saved(app)["messages"][-1]
            assert reply["content"].startswith("word0 word1")
            assert "word199" not in reply["content"]
            await wait_until(pilot, lambda: "cancelled" in screen_text(app))
            # The next prompt works.
            server.delay = 0
            await ask(pilot, "again")


async def test_f2_switches_the_model_for_the_next_request(tmp_path: Path) -> None:
    with OpenAIServer(reply="fine") as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.conversation
            await ask(pilot, "one")
            await choose_model(pilot, "local", "m2")
            assert screen.session.model == "m2"
            await ask(pilot, "two")
            assert chats(server)[-1].json["model"] == "m2"
            assert saved(app)["model"] == "m2"
            assert saved(app)["messages"][-1]["model"] == "m2"


async def test_regenerate_replaces_the_last_reply(tmp_path: Path) -> None:
    with OpenAIServer(reply="first answer") as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.conversation
            await ask(pilot, "q")
            server.reply = "second answer"
            await pilot.press("ctrl+g")
            await wait_until(pilot, lambda: not screen.streaming and len(chats(server)) == 2)
            messages = saved(app)["messages"]
            assert [m["content"] for m in messages] == ["q", "second answer"]
            assert "first answer" not in screen_text(app)


@pytest.mark.parametrize("key", ["ctrl+g", "ctrl+o"])
async def test_a_key_that_needs_the_reply_finished_says_so_while_it_streams(
    tmp_path: Path, key: str
) -> None:
    """Regenerate and edit-last pressed while a reply streams did nothing at all; they now
    say why, as Enter does (a key pressed as a reply ends is not lost without a word)."""
    words = " ".join(f"word{i}" for i in range(200))
    with OpenAIServer(reply=words, delay=0.02) as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            await type_and_send(pilot, "go")
            await wait_until(pilot, lambda: "word3" in screen_text(app))
            await pilot.press(key)
            await wait_until(
                pilot, lambda: "A reply is still streaming: Esc stops it." in notices(app)
            )
            assert len(chats(server)) == 1


async def test_copy_keys_put_reply_and_code_on_the_clipboard(tmp_path: Path) -> None:
    reply = "Here:\n\n```python\nprint('hi')\n```\n"
    with OpenAIServer(reply=[reply]) as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            await ask(pilot, "code please")
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
            await ask(pilot, "typo")
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
            await ask(pilot, "hi")
            await wait_until(pilot, lambda: words in screen_text(app))
            text = screen_text(app)
            reply = saved(app)["messages"][-1]
            assert reply["status"] == "error" and words in reply["error"]
            assert "<html" not in text and "<title>" not in text
            server.mode = "normal"
            await ask(pilot, "again")
            assert saved(app)["messages"][-1]["status"] == "complete"


async def test_stall_past_request_timeout_reads_as_a_timeout(tmp_path: Path) -> None:
    with OpenAIServer(reply="a b c", mode="stall", stall=2) as server:
        app = make_app(tmp_path, server, request_timeout=0.4)
        async with app.run_test(size=SIZE) as pilot:
            await ask(pilot, "hi")
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
            await ask(pilot, "hi")
            await wait_until(pilot, lambda: "[@click=app.quit]click[/]" in screen_text(app))
            text = screen_text(app)
            assert "\x1b" not in text
            assert "\x1b" not in saved(app)["messages"][-1]["content"]
            await pilot.click("#log")
            assert app.is_running


async def test_reopened_conversation_resumes_with_its_provider_and_model(tmp_path: Path) -> None:
    with OpenAIServer(reply="remembered") as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.conversation
            await choose_model(pilot, "local", "m2")
            await ask(pilot, "keep me")
            session_id = screen.session.id
        store = SessionStore(tmp_path / "sessions")
        again = ChattermApp(
            app.services.config,
            store,
            session=store.load(session_id),
            state_path=tmp_path / "state.json",
        )
        async with again.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: "remembered" in screen_text(again))
            text = screen_text(again)
            assert "keep me" in text and "remembered" in text
            assert again.conversation.session.model == "m2"
            assert "local · m2" in text


async def test_ctrl_n_starts_a_new_conversation(tmp_path: Path) -> None:
    with OpenAIServer(reply="x") as server:
        app = make_app(tmp_path, server)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.conversation
            await ask(pilot, "first chat")
            first = screen.session.id
            await pilot.press("ctrl+n")
            await ask(pilot, "second chat")
            assert screen.session.id != first
            assert chats(server)[-1].json["messages"] == [
                {"role": "user", "content": "second chat"}
            ]
            assert len(app.services.store.list()) == 2


async def test_first_start_without_config_uses_echo_with_a_hint(tmp_path: Path) -> None:
    cfg = host_config(tmp_path)
    app = ChattermApp(cfg, SessionStore(tmp_path / "s"), state_path=tmp_path / "state.json")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "echo · echo" in screen_text(app))
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
            await wait_until(pilot, lambda: "regenerate" in screen_text(app))
            assert "ctrl+j" in screen_text(app)
            await pilot.press("escape", "ctrl+p")
            await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
            await pilot.press(*"Switch to local/m2")
            commands = app.screen.query_one(CommandList)
            await wait_until(pilot, lambda: "local/m2" in highlighted(commands))
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.conversation.session.model == "m2")


async def test_a_bug_in_a_provider_shows_as_an_error_and_the_app_stays_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.providers.echo import EchoProvider

    async def broken(self, model, messages, params=None):  # a provider with a parsing bug
        yield "first words "
        raise KeyError("choices")

    monkeypatch.setattr(EchoProvider, "_stream", broken)
    cfg = host_config(tmp_path, default_provider="echo")
    app = ChattermApp(cfg, SessionStore(tmp_path / "s"), state_path=tmp_path / "state.json")
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "hi")
        await wait_until(pilot, lambda: "KeyError" in screen_text(app))
        text = screen_text(app)
        assert "first words" in text
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

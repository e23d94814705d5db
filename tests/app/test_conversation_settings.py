"""F10: one conversation's settings (title, provider, model, generation parameters, system
prompt), saved in its own TOML and used from the next prompt on — also for a conversation
already under way."""

from __future__ import annotations

import tomllib
from pathlib import Path

from textual.widgets import Input, TextArea

from tests.app.host import ask, local_app, notices, screen_text, wait_until
from tests.servers import OpenAIServer
from tui.app import ChattermApp
from tui.screens.conversation_settings import ConversationSettingsScreen

SIZE = (100, 30)


def saved(app: ChattermApp) -> dict:
    session = app.conversation.session
    return tomllib.loads(app.services.store.path(session.id).read_text())


def last_request(server: OpenAIServer) -> dict:
    return server.chat_requests[-1].json


async def test_the_system_prompt_of_an_open_conversation_changes_and_is_sent(
    tmp_path: Path,
) -> None:
    with OpenAIServer(reply="ok") as server:
        app = local_app(tmp_path, server.base_url, ("m1", "m2"), system_prompt="be brief")
        async with app.run_test(size=SIZE) as pilot:
            await ask(pilot, "one")
            assert last_request(server)["messages"][0] == {"role": "system", "content": "be brief"}
            await pilot.press("f10")
            await wait_until(pilot, lambda: isinstance(app.screen, ConversationSettingsScreen))
            prompt = app.screen.query_one("#conversation-prompt", TextArea)
            await wait_until(pilot, lambda: app.focused is prompt)
            prompt.select_all()
            await pilot.press(*"answer in French")
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: not isinstance(app.screen, ConversationSettingsScreen))
            assert saved(app)["system_prompt"] == "answer in French"
            await ask(pilot, "two")
            sent = last_request(server)["messages"]
            assert sent[0] == {"role": "system", "content": "answer in French"}
            assert [m["content"] for m in sent[1:]] == ["one", "ok", "two"]
            assert app.services.config.system_prompt == "be brief"  # config.toml untouched


async def test_title_and_model_are_saved_with_the_conversation(tmp_path: Path) -> None:
    with OpenAIServer(reply="ok") as server:
        app = local_app(tmp_path, server.base_url, ("m1", "m2"))
        async with app.run_test(size=SIZE) as pilot:
            await ask(pilot, "hello")
            await pilot.press("f10")
            await wait_until(pilot, lambda: isinstance(app.screen, ConversationSettingsScreen))
            app.screen.query_one("#conversation-title", Input).value = "my  renamed chat"
            app.screen.query_one("#conversation-model", Input).value = "m2"
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: "my renamed chat" in screen_text(app))
            doc = saved(app)
            assert (doc["title"], doc["model"]) == ("my renamed chat", "m2")
            await ask(pilot, "again")
            assert last_request(server)["model"] == "m2"


async def test_a_model_the_provider_does_not_offer_is_refused_and_nothing_changes(
    tmp_path: Path,
) -> None:
    with OpenAIServer(reply="ok") as server:
        app = local_app(tmp_path, server.base_url, ("m1",))
        async with app.run_test(size=SIZE) as pilot:
            await ask(pilot, "hello")
            await pilot.press("f10")
            await wait_until(pilot, lambda: isinstance(app.screen, ConversationSettingsScreen))
            app.screen.query_one("#conversation-provider").value = "echo"
            app.screen.query_one("#conversation-model", Input).value = "no-such-model"
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: any("unknown model" in n for n in notices(app)))
            assert isinstance(app.screen, ConversationSettingsScreen)
            await pilot.press("escape")
            await wait_until(pilot, lambda: not isinstance(app.screen, ConversationSettingsScreen))
            assert (saved(app)["provider"], saved(app)["model"]) == ("local", "m1")


async def test_a_temperature_set_in_f10_is_saved_and_sent_with_the_next_prompt(
    tmp_path: Path,
) -> None:
    with OpenAIServer(reply="ok") as server:
        app = local_app(tmp_path, server.base_url, ("m1",))
        async with app.run_test(size=SIZE) as pilot:
            await ask(pilot, "one")
            assert "temperature" not in last_request(server)  # none set anywhere yet
            assert "params" not in saved(app)
            await pilot.press("f10")
            await wait_until(pilot, lambda: isinstance(app.screen, ConversationSettingsScreen))
            app.screen.query_one("#conversation-temperature", Input).value = "0.2"
            app.screen.query_one("#conversation-max-tokens", Input).value = " 50 "
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: not isinstance(app.screen, ConversationSettingsScreen))
            assert saved(app)["params"] == {"temperature": 0.2, "max_tokens": 50}
            await ask(pilot, "two")
            body = last_request(server)
            assert (body["temperature"], body["max_tokens"]) == (0.2, 50)
            assert "top_p" not in body and "seed" not in body  # empty fields: not set
            # F10 again shows them; emptying a field takes it out of the file.
            await pilot.press("f10")
            await wait_until(pilot, lambda: isinstance(app.screen, ConversationSettingsScreen))
            field = app.screen.query_one("#conversation-temperature", Input)
            assert field.value == "0.2"
            field.value = ""
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: not isinstance(app.screen, ConversationSettingsScreen))
            assert saved(app)["params"] == {"max_tokens": 50}
            await ask(pilot, "three")
            assert "temperature" not in last_request(server)


async def test_an_invalid_parameter_is_refused_in_the_config_files_words_and_nothing_saved(
    tmp_path: Path,
) -> None:
    with OpenAIServer(reply="ok") as server:
        app = local_app(tmp_path, server.base_url, ("m1",))
        async with app.run_test(size=SIZE) as pilot:
            await ask(pilot, "hello")
            await pilot.press("f10")
            await wait_until(pilot, lambda: isinstance(app.screen, ConversationSettingsScreen))
            app.screen.query_one("#conversation-title", Input).value = "renamed"
            app.screen.query_one("#conversation-temperature", Input).value = "3"
            await pilot.press("ctrl+s")
            said = "temperature must be a number from 0 to 2"  # as config.toml's check says
            await wait_until(pilot, lambda: any(said in n for n in notices(app)))
            assert isinstance(app.screen, ConversationSettingsScreen)
            app.screen.query_one("#conversation-temperature", Input).value = "0.5"
            app.screen.query_one("#conversation-max-tokens", Input).value = "1.5"
            await pilot.press("ctrl+s")
            said = "max_tokens must be a positive whole number (of tokens)"
            await wait_until(pilot, lambda: any(said in n for n in notices(app)))
            await pilot.press("escape")
            await wait_until(pilot, lambda: not isinstance(app.screen, ConversationSettingsScreen))
            doc = saved(app)
            assert "params" not in doc and doc["title"] != "renamed"
            await ask(pilot, "again")
            assert "temperature" not in last_request(server)

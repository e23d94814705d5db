"""Property tests: streams give the same tokens however the network splits them, and
conversations survive the disk whatever their text.

Streams: the real providers (OpenAI-compatible SSE, Raycast SSE, Ollama NDJSON) read a
byte stream through an httpx transport that hands over exactly the chunks drawn, cut
anywhere, and deliberately inside multi-byte UTF-8 characters and between the CR and LF
of a CRLF. (tests/unit/test_sse.py checks the line and event layers on their own.)

Sessions: what the store guarantees, for any text without lone surrogates (those cannot
be encoded in UTF-8 and are saved as "?"):
- the file on disk holds every string exactly, control characters included (as TOML
  escapes), so any TOML reader gets back what was written;
- the store reads it back exactly, except that terminal control characters are removed
  and CRLF becomes LF (sanitize.clean): a session file is untrusted input, and text from
  it is drawn on the screen.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import tomllib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.providers import build
from tui.providers.base import Provider, ProviderSettings
from tui.providers.think import ThinkSplitter
from tui.sanitize import clean
from tui.store import Message, SessionStore

EXAMPLES = 100
FAST = settings(max_examples=EXAMPLES, deadline=None)
# Token text rich in what breaks parsers: 2-, 3- and 4-byte characters, CR/LF, quotes,
# backslashes, "data:" look-alikes and JSON punctuation.
TOKEN = st.lists(
    st.characters(blacklist_categories=("Cs",))
    | st.sampled_from(["é", "€", "😀", "ж", "שלום", "\r\n", "\r", "\n", '"', "\\", "data: ", "}"]),
    min_size=1,
    max_size=8,
).map("".join)


class Chunks(httpx.AsyncByteStream):
    """A response body that arrives in exactly these pieces."""

    def __init__(self, chunks: Sequence[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk


def tokens_of(kind: str, content_type: str, chunks: Sequence[bytes]) -> list[str]:
    """What the real provider of *kind* yields for this body, split this way."""

    async def run() -> list[str]:
        provider: Provider = build(
            ProviderSettings(name=kind, kind=kind, base_url="http://127.0.0.1:9", api_key="k")
        )

        def answer(request: httpx.Request) -> httpx.Response:
            return httpx.Response(
                200, headers={"content-type": content_type}, stream=Chunks(chunks)
            )

        # The network is replaced by a transport; everything above it is the real provider.
        provider._client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
        try:
            return [t async for t in provider.stream("m", [{"role": "user", "content": "hi"}])]
        finally:
            await provider.aclose()

    return asyncio.run(run())


def as_given(tokens: list[str]) -> list[str]:
    """*tokens* as the OpenAI and Ollama providers give them: the start of a reply is held
    while it could still open a <think> block (tui/providers/think.py), so whitespace (or a
    "<th") at the start rides with the next token; every other token comes as it is."""
    splitter = ThinkSplitter()
    pieces = [piece for token in tokens for piece in splitter.feed(token)] + splitter.flush()
    return [piece for piece in pieces if isinstance(piece, str)]


def tricky_cuts(blob: bytes) -> list[int]:
    """Offsets inside a multi-byte character or between the CR and LF of a CRLF."""
    text = blob.decode("utf-8")
    cuts, offset = [], 0
    for char in text:
        size = len(char.encode())
        cuts += range(offset + 1, offset + size)
        offset += size
    cuts += [i + 1 for i in range(len(blob) - 1) if blob[i : i + 2] == b"\r\n"]
    return cuts


def split(blob: bytes, data: st.DataObject) -> list[bytes]:
    tricky = tricky_cuts(blob)
    anywhere = st.integers(0, len(blob))
    choice = (st.sampled_from(tricky) | anywhere) if tricky else anywhere
    cuts = sorted(data.draw(st.lists(choice, max_size=16)))
    bounds = [0, *cuts, len(blob)]
    return [blob[a:b] for a, b in itertools.pairwise(bounds)]


def sse(events: list[dict], ending: str) -> bytes:
    lines = [f"data: {json.dumps(e, ensure_ascii=False)}{ending}{ending}" for e in events]
    return ("".join(lines) + f"data: [DONE]{ending}{ending}").encode()


@FAST
@given(tokens=st.lists(TOKEN, max_size=8), ending=st.sampled_from(["\n", "\r\n"]), data=st.data())
def test_openai_stream_gives_the_same_tokens_however_it_is_split(tokens, ending, data) -> None:
    events = [{"choices": [{"delta": {"role": "assistant"}}]}]  # role-only: no text
    events += [{"choices": [{"index": 0, "delta": {"content": t}}]} for t in tokens]
    blob = sse(events, ending)
    assert tokens_of("openai", "text/event-stream", split(blob, data)) == as_given(tokens)


@FAST
@given(tokens=st.lists(TOKEN, max_size=8), ending=st.sampled_from(["\n", "\r\n"]), data=st.data())
def test_raycast_stream_gives_the_same_tokens_however_it_is_split(tokens, ending, data) -> None:
    events = [{"text": t} for t in tokens] + [{"text": None, "finish_reason": "stop"}]
    lines = [f"data: {json.dumps(e, ensure_ascii=False)}{ending}{ending}" for e in events]
    blob = "".join(lines).encode()
    assert tokens_of("raycast", "text/event-stream", split(blob, data)) == tokens


@FAST
@given(tokens=st.lists(TOKEN, max_size=8), ending=st.sampled_from(["\n", "\r\n"]), data=st.data())
def test_ollama_stream_gives_the_same_tokens_however_it_is_split(tokens, ending, data) -> None:
    lines = [{"message": {"role": "assistant", "content": t}, "done": False} for t in tokens]
    lines.append({"message": {"role": "assistant", "content": ""}, "done": True})
    blob = "".join(json.dumps(x, ensure_ascii=False) + ending for x in lines).encode()
    assert tokens_of("ollama", "application/x-ndjson", split(blob, data)) == as_given(tokens)


def test_a_split_inside_every_character_and_every_crlf_changes_nothing() -> None:
    tokens = ["😀€é", "\r\n", "שלום", 'a\\"b']
    events = [{"choices": [{"delta": {"content": t}}]} for t in tokens]
    blob = sse(events, "\r\n")
    one_byte_each = [blob[i : i + 1] for i in range(len(blob))]
    assert tokens_of("openai", "text/event-stream", one_byte_each) == tokens


# -- sessions --------------------------------------------------------------------------------
ANY_TEXT = st.lists(
    st.characters(blacklist_categories=("Cs",))
    | st.sampled_from(['"""', "'''", "\\", "\\u0041", "\x00", "\x1b[31m", "\x7f", "\x85", "\r\n"])
    | st.sampled_from(["😀", "👩‍👩‍👧", "مرحبا بالعالم", "\u202eRTL", "\ufeff", "\u2028"]),
    max_size=20,
).map("".join)


def saved_and_loaded(store: SessionStore, texts: dict[str, str]) -> tuple[dict, Message]:
    session = store.new(texts["provider"], texts["model"], system_prompt=texts["system"])
    store.append(session, Message("user", texts["prompt"]))
    reply = Message("assistant", texts["reply"], status="error", error=texts["error"])
    store.append(session, reply)
    session.title = texts["title"]
    store.save(session)
    doc = tomllib.loads(store.path(session.id).read_text("utf-8"))
    return doc, store.load(session.id).messages[1]


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    texts=st.fixed_dictionaries(
        {k: ANY_TEXT for k in ("provider", "model", "system", "prompt", "reply", "error")}
        | {"title": ANY_TEXT.filter(bool)}
    )
)
def test_any_text_is_stored_exactly_and_read_back_cleaned(
    tmp_path: Path, texts: dict[str, str]
) -> None:
    store = SessionStore(tmp_path / "sessions")
    doc, reply = saved_and_loaded(store, texts)

    # On disk: exact, whatever the characters.
    assert (doc["provider"], doc["model"]) == (texts["provider"], texts["model"])
    assert (doc["title"], doc["system_prompt"]) == (texts["title"], texts["system"])
    user, assistant = doc["messages"]
    assert user["content"] == texts["prompt"]
    assert (assistant["content"], assistant["error"]) == (texts["reply"], texts["error"])
    # Read back through the store: exact but for control characters.
    assert (reply.content, reply.error) == (clean(texts["reply"]), clean(texts["error"]))


def test_a_one_megabyte_message_of_everything_round_trips(tmp_path: Path) -> None:
    sample = 'quote " triple """ \'\'\' back \\ \\n emoji 😀👩‍👩‍👧 rtl مرحبا \u202e tab\t\n'
    big = (sample * (1_000_000 // len(sample) + 1))[:1_000_000]
    texts = dict.fromkeys(("provider", "model", "system", "prompt", "error"), "x")
    store = SessionStore(tmp_path / "sessions")
    doc, reply = saved_and_loaded(store, texts | {"reply": big, "title": "big"})
    # On disk exactly; read back, the bidi override is shown as ⟨U+202E⟩ and the emoji
    # sequence keeps its joiners.
    assert doc["messages"][1]["content"] == big and reply.content == clean(big)
    assert "👩\u200d👩\u200d👧" in reply.content and "\u202e" not in reply.content


@pytest.mark.parametrize("lone", ["\ud800", "a\udfffb"])
def test_a_lone_surrogate_is_saved_as_a_question_mark_not_a_failed_save(
    tmp_path: Path, lone: str
) -> None:
    texts = dict.fromkeys(("provider", "model", "system", "prompt", "error", "title"), "x")
    store = SessionStore(tmp_path / "sessions")
    _, reply = saved_and_loaded(store, texts | {"reply": lone})
    assert reply.content == lone.replace(lone.strip("ab"), "?")

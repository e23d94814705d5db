"""Line framing for streamed replies: bounded lines, SSE ``data:`` events, NDJSON.

httpx's own ``aiter_lines`` has no bound on a line's length; a server that never sends
a newline would grow one string without end, so lines are split here. The same holds for
an SSE event (all its ``data:`` lines) and for a compressed body: content-encoding is
decoded here with bounded output (httpx expands a whole compressed chunk at once, and a
stack of encodings multiplies), and bytes that bring no text are bounded too.
"""

from __future__ import annotations

import codecs
import functools
import json
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from .errors import BadResponse, ResponseTooLarge, StreamBroken, in_characters

if TYPE_CHECKING:
    import httpx

MAX_LINE = 1 << 20  # 1 MiB: far above any real SSE or NDJSON line
MAX_EVENT = MAX_LINE  # all the data: lines of one SSE event together
MAX_SILENT_BYTES = 8 << 20  # decoded bytes in a row that bring no text: a runaway server
DECODE_STEP = 64 << 10  # the most one decompression step may produce


class Meter:
    """What one request received since its last text: decoded bytes and events.

    Provider.stream makes one per request and sets it in METER while the provider runs,
    so the framing below can count without every provider passing it along."""

    def __init__(self, silent_limit: int = MAX_SILENT_BYTES) -> None:
        self.silent_limit = silent_limit
        self.bytes = 0
        self.events = 0

    def got_bytes(self, count: int) -> None:
        self.bytes += count
        if self.bytes > self.silent_limit:
            raise ResponseTooLarge(
                f"{self.bytes >> 20} MiB of the stream came without any text and was stopped",
                action="the server is not sending a normal stream: check base_url",
            )

    def got_event(self) -> None:
        self.events += 1

    def got_text(self) -> None:
        self.bytes = self.events = 0


METER: ContextVar[Meter | None] = ContextVar("chatterm_meter", default=None)


async def iter_lines(chunks: AsyncIterable[bytes], max_line: int = MAX_LINE) -> AsyncIterator[str]:
    """Split a byte stream into text lines (LF, CRLF or CR endings), whatever the chunking.

    Raises ResponseTooLarge as soon as one line passes *max_line* characters, complete or not.
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    splitter = _LineSplitter(max_line)
    async for chunk in chunks:
        if meter := METER.get():
            meter.got_bytes(len(chunk))
        for line in splitter.feed(decoder.decode(chunk)):
            yield line
    for line in splitter.feed(decoder.decode(b"", final=True)):
        yield line
    for line in splitter.finish():
        yield line


class _LineSplitter:
    """The state between chunks: the unfinished line, kept as pieces so a long line
    arriving in many small chunks costs linear time, and a CR that may start a CRLF."""

    def __init__(self, max_line: int) -> None:
        self.max_line = max_line
        self.pieces: list[str] = []
        self.size = 0
        self.held_cr = False

    def feed(self, text: str) -> Iterator[str]:
        if self.held_cr:
            text, self.held_cr = "\r" + text, False
        if text.endswith("\r"):  # maybe the first half of a CRLF: decide with the next text
            text, self.held_cr = text[:-1], True
        if "\n" not in text and "\r" not in text:
            self._keep(text)
            return
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        lines[0] = "".join(self.pieces) + lines[0]
        self.pieces, self.size = [], 0
        for line in lines[:-1]:
            self._check(len(line))
            yield line
        self._keep(lines[-1])

    def finish(self) -> list[str]:
        """The last line: yielded if it has text, or if a final CR ended it."""
        last = "".join(self.pieces)
        return [last] if last or self.held_cr else []

    def _keep(self, text: str) -> None:
        if text:
            self.pieces.append(text)
            self.size += len(text)
            self._check(self.size)

    def _check(self, size: int) -> None:
        if size > self.max_line:
            raise ResponseTooLarge(
                f"a line of the stream passed {in_characters(self.max_line)} and was stopped",
                action="what arrived is kept; the server is not sending a normal stream: "
                "check base_url",
            )


async def iter_sse_data(
    lines: AsyncIterable[str], max_event: int = MAX_EVENT
) -> AsyncIterator[str]:
    """Yield the data of each Server-Sent Event (multi-line data joined by LF).

    An event may hold *max_event* characters in all its ``data:`` lines, as a line may:
    a server that never sends the blank line must not grow one event without end."""
    data: list[str] = []
    size = 0
    async for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data, size = [], 0
            continue
        if line.startswith(":"):
            if meter := METER.get():  # a keep-alive: an event without text, for the count
                meter.got_event()
            continue
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
            size += len(value) + 1
            if size > max_event:
                raise ResponseTooLarge(
                    f"an event of the stream passed {in_characters(max_event)} and was stopped",
                    action="what arrived is kept; the server is not sending a normal stream: "
                    "check base_url",
                )
            data.append(value)
    if data:
        yield "\n".join(data)


def parse_json_line(line: str, what: str) -> Any:
    """Parse one JSON line of a stream, or fail with a message naming the protocol."""
    try:
        return json.loads(line)
    except ValueError:
        from ..sanitize import one_line

        raise StreamBroken(
            f"the {what} stream sent a line that is not JSON: {one_line(line, 80)!r}"
        ) from None


async def iter_ndjson(lines: AsyncIterable[str], what: str) -> AsyncIterator[Any]:
    async for line in lines:
        if line.strip():
            yield parse_json_line(line, what)


# -- content-encoding, decoded with bounded output ---------------------------------------------
async def bound_decoding(response: httpx.Response) -> None:
    """A response hook: decode the body's content-encoding here, a bounded step at a time,
    instead of in httpx (which expands a whole compressed chunk in memory: ~64 MB from 64
    KiB of gzip, and ``gzip, gzip`` multiplies that by a thousand)."""
    codings = [
        coding.strip().lower()
        for value in response.headers.get_list("content-encoding")
        for coding in value.split(",")
    ]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return
    decoder = BoundedDecoder(codings)
    del response.headers["content-encoding"]  # what httpx sees from now on is plain bytes
    response.stream = _decoded_stream()(response.stream, decoder)


class BoundedDecoder:
    """gzip / deflate (stacked in any order) decoded in steps of at most DECODE_STEP bytes."""

    def __init__(self, codings: list[str]) -> None:
        for coding in codings:
            if coding not in ("gzip", "x-gzip", "deflate"):
                raise BadResponse(
                    f"the server sent a body in the {coding[:20]!r} encoding, which chatterm "
                    "did not ask for and cannot read"
                )
        # Content-Encoding lists the codings in the order they were applied: undo the last first.
        self.stages = [_Inflater(coding) for coding in reversed(codings)]

    def feed(self, data: bytes) -> Iterator[bytes]:
        yield from self._through(0, data)

    def _through(self, index: int, data: bytes) -> Iterator[bytes]:
        if index == len(self.stages):
            if data:
                yield data
            return
        for piece in self.stages[index].feed(data):
            yield from self._through(index + 1, piece)


class _Inflater:
    def __init__(self, coding: str) -> None:
        self.gzip = coding != "deflate"
        self.started = False
        self.zlib = self._new()

    def _new(self, raw: bool = False) -> Any:
        wbits = 16 + zlib.MAX_WBITS if self.gzip else (-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
        return zlib.decompressobj(wbits)

    def feed(self, data: bytes) -> Iterator[bytes]:
        while True:
            try:
                out = self.zlib.decompress(data, DECODE_STEP)
            except zlib.error as err:
                if not self.gzip and not self.started:  # "deflate" without its zlib header
                    self.zlib, self.started = self._new(raw=True), True
                    continue
                raise BadResponse(f"the server's compressed body is corrupt ({err})") from None
            self.started = True
            data = self.zlib.unconsumed_tail
            if self.zlib.eof and self.zlib.unused_data:  # another gzip member follows
                data, self.zlib = self.zlib.unused_data, self._new()
            if out:
                yield out
            if not data and len(out) < DECODE_STEP:
                return


def discard_body(response: httpx.Response) -> None:
    """A same-origin redirect: httpx reads its body whole before following it, and a
    hostile one would never end; its body is never needed, so it is not read at all."""
    response.stream = _decoded_stream()(response.stream, None)


@functools.cache
def _decoded_stream() -> type:
    """The class, made at first use: httpx is imported where a request is made (base.py)."""
    import httpx

    class DecodedStream(httpx.AsyncByteStream):
        """httpx's byte stream of the response, decoded as it is read (or never read)."""

        def __init__(self, inner: httpx.AsyncByteStream, decoder: BoundedDecoder | None) -> None:
            self.inner, self.decoder = inner, decoder  # no decoder: the body is dropped

        async def __aiter__(self) -> AsyncIterator[bytes]:
            if self.decoder is None:
                return
            async for raw in self.inner:
                for piece in self.decoder.feed(raw):
                    yield piece

        async def aclose(self) -> None:
            await self.inner.aclose()

    return DecodedStream

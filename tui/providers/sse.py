"""Line framing for streamed replies: bounded lines, SSE ``data:`` events, NDJSON.

httpx's own ``aiter_lines`` has no bound on a line's length; a server that never sends
a newline would grow one string without end, so lines are split here.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from typing import Any

from .errors import ResponseTooLarge, StreamBroken, in_characters

MAX_LINE = 1 << 20  # 1 MiB: far above any real SSE or NDJSON line


async def iter_lines(chunks: AsyncIterable[bytes], max_line: int = MAX_LINE) -> AsyncIterator[str]:
    """Split a byte stream into text lines (LF, CRLF or CR endings), whatever the chunking.

    Raises ResponseTooLarge as soon as one line passes *max_line* characters, complete or not.
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    splitter = _LineSplitter(max_line)
    async for chunk in chunks:
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


async def iter_sse_data(lines: AsyncIterable[str]) -> AsyncIterator[str]:
    """Yield the data of each Server-Sent Event (multi-line data joined by LF)."""
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue  # comment / keep-alive
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
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

"""Line framing for streamed replies: bounded lines, SSE ``data:`` events, NDJSON.

httpx's own ``aiter_lines`` has no bound on a line's length; a server that never sends
a newline would grow one string without end, so lines are split here.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from .errors import ResponseTooLarge, StreamBroken

MAX_LINE = 1 << 20  # 1 MiB: far above any real SSE or NDJSON line


async def iter_lines(chunks: AsyncIterable[bytes], max_line: int = MAX_LINE) -> AsyncIterator[str]:
    """Split a byte stream into text lines (LF, CRLF or CR endings), whatever the chunking."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    buffer = ""
    async for chunk in chunks:
        buffer += decoder.decode(chunk)
        # A CR at the very end may be the first half of CRLF: wait for the next chunk.
        cut = len(buffer) - 1 if buffer.endswith("\r") else len(buffer)
        lines = buffer[:cut].replace("\r\n", "\n").replace("\r", "\n").split("\n")
        buffer = lines.pop() + buffer[cut:]
        for line in lines:
            yield line
        if len(buffer) > max_line:
            raise ResponseTooLarge(f"a line of the reply is longer than {max_line} bytes")
    buffer += decoder.decode(b"", final=True)
    if buffer.endswith("\r"):
        buffer = buffer[:-1]
    if buffer:
        yield buffer


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

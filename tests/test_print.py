"""Tables print whole: column widths from their content, landscape pages for wide tables (``render/layout``).

Unit tests of the layout need no external tool. The demo appendix is run once with its PDF
(Chromium) and its Word file is printed by LibreOffice; every word of every table of the HTML page
must then appear whole in the printed text (``pdftotext -raw``). Skipped where a tool is missing.
"""
from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import docx
import pytest
from test_runner import demo_project

from tyokyky_eval.render import layout
from tyokyky_eval.render.cells import Cell
from tyokyky_eval.render.document import (
    Document,
    Heading,
    Part,
    Prose,
    TableBlock,
    TitlePage,
)
from tyokyky_eval.render.docx import write_docx
from tyokyky_eval.render.html import STYLE, page
from tyokyky_eval.render.pdf import find_chromium
from tyokyky_eval.run import runner

PRE_POST = ("Palvelu", "Mittari", "Vertailu", "n paria", "Keskiarvo ennen", "Keskiarvo jälkeen",
            "Keskimääräinen muutos", "95 %:n LV alaraja", "95 %:n LV yläraja", "p (t-testi)", "p (Wilcoxon)",
            "p (Holm)", "d_z", "d_z LV alaraja", "d_z LV yläraja", "g_z (Hedges)")


def table(columns, *rows) -> TableBlock:
    return TableBlock("Taulukko", tuple(columns), tuple(tuple(Cell(text) for text in row) for row in rows))


WIDE = table(PRE_POST, ["IPS-työhönvalmennuksen pilotti", "Toimintakyky", "alku → seuranta", "17", "5,4",
                        "6,3", "0,94", "0,52", "1,37", "<0,001", "0,003", "0,002", "1,14", "0,51", "1,74", "1,08"])
NARROW = table(["Palvelu", "Asiakkaita"], ["IPS-työhönvalmennus", "35"])


def document(*blocks) -> Document:
    title = TitlePage("Arviointiliite", "Hanke", "", (), ())
    return Document("fi", title, (Part("osa", tuple(blocks)),))


# -- the layout, without external tools -------------------------------------------------------------
def test_lines_break_at_spaces_and_after_a_hyphen_before_a_letter():
    assert layout.words("IPS-työhönvalmennuksen pilotti") == ["IPS-", "työhönvalmennuksen", "pilotti"]
    kept = ["1\u202f234,5", "−0,2", "2021–2022", "95\u00a0%:n"]  # no-break spaces, a minus, a range
    assert layout.words(" ".join(kept)) == kept


def test_measured_width_is_never_below_the_fonts_own():
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    for text in ("Keskiarvo", "sijabiseriaalinen", "IPS-työhönvalmennus", "MMM", "0,003"):
        for bold in (False, True):
            font = FontProperties(family="DejaVu Sans", weight="bold" if bold else "normal", size=100)
            assert layout.em_width(text, bold) * 100 > text_to_path.get_text_width_height_descent(text, font, False)[0]
    assert layout.em_width("iiiii") < layout.em_width("mmmmm")


def test_columns_share_the_room_as_a_browser_does():
    assert layout.share([10, 10], [20, 60], 160) == [40, 120]  # longest texts fit: stretched alike
    assert layout.share([10, 10], [20, 60], 50) == [15, 35]  # widest words and the rest as lacking
    assert layout.share([30, 30], [40, 40], 50) == [30, 30]  # not even the widest words fit
    assert layout.share([], [], 100) == []


def test_a_narrow_table_stays_portrait_in_the_normal_font():
    chosen = layout.table_layout(NARROW)
    assert (chosen.landscape, chosen.style) == (False, layout.NORMAL)
    assert sum(chosen.widths) == pytest.approx(layout.text_width_pt(False))


def test_a_wide_table_turns_landscape_and_no_column_is_narrower_than_its_widest_word():
    chosen = layout.table_layout(WIDE)
    assert chosen.landscape and sum(chosen.widths) == pytest.approx(layout.text_width_pt(True))
    for header, cell, width in zip(WIDE.columns, WIDE.rows[0], chosen.widths):
        widest = max([layout.em_width(w, bold=True) for w in layout.words(header)]
                     + [layout.em_width(w) for w in layout.words(cell.text)])
        assert width >= widest * chosen.style.font_pt + 2 * chosen.style.padding_pt


def test_a_table_too_wide_for_every_choice_takes_the_last():
    chosen = layout.table_layout(table([f"Sarakeotsikko{i}" for i in range(40)]))
    assert (chosen.landscape, chosen.style) == layout.CHOICES[-1]


def test_headings_right_before_a_landscape_table_print_with_it():
    blocks = [Heading(1, "Osa"), Heading(2, "Tulokset"), WIDE, Prose("Teksti."), NARROW, Heading(2, "Lisää"), WIDE]
    assert layout.landscape_blocks(blocks) == [True, True, True, False, False, True, True]


def test_stylesheet_prints_tables_as_the_layout_measures_them():
    top, side = layout.MARGIN_MM
    assert f"@page {{ size: A4; margin: {top}mm {side}mm; }}" in STYLE and "@page wide { size: A4 landscape; }" in STYLE
    normal = layout.NORMAL
    assert f"table {{ font-size: {normal.font_pt}pt;" in STYLE
    assert re.search(rf"  th, td {{ padding: [\d.]+pt {normal.padding_pt}pt; }}", STYLE)
    for style in (layout.SMALL, layout.SMALLEST):
        name = f"table.{style.css_class}"
        assert f"{name} {{ font-size: {style.font_pt:g}pt; }}" in STYLE
        assert re.search(rf"{name} th, {name} td {{ padding: [\d.]+pt {style.padding_pt:g}pt; }}", STYLE)
    assert ".te-landscape { page: wide; }" in STYLE and "overflow-wrap" not in STYLE


def test_page_puts_a_wide_table_and_its_heading_on_landscape_pages():
    html = page(document(Heading(2, "Tulokset"), WIDE, Prose("Teksti."), NARROW))
    assert re.search(r'<h2 class="te-landscape">Tulokset</h2>\s*<div class="te-landscape"><p class="te-caption"', html)
    assert html.count('class="te-landscape"') == 2 and html.count('class="te-table te-wide"') == 1


def test_word_puts_a_wide_table_in_a_landscape_section_with_its_column_widths(tmp_path):
    path = tmp_path / "appendix.docx"
    write_docx(document(NARROW, Heading(2, "Tulokset"), WIDE, NARROW), path, dt.datetime(2022, 12, 31))
    word = docx.Document(str(path))
    assert [s.page_width > s.page_height for s in word.sections] == [False, True, False]
    for block, word_table in zip((NARROW, WIDE, NARROW), word.tables):
        chosen = layout.table_layout(block)
        assert [c.width.pt for c in word_table.columns] == pytest.approx(chosen.widths, abs=0.05)
        assert word_table.rows[1].cells[0].paragraphs[0].runs[0].font.size.pt == chosen.style.font_pt
        assert 'w:tblLayout w:type="fixed"' in word_table._tbl.xml


# -- the demo appendix, printed ----------------------------------------------------------------------
class PageWords(HTMLParser):
    """Words of a page's visible text and of its table cells and headers (inline tags join words)."""

    INLINE = frozenset({"a", "b", "strong", "em", "i", "span", "code"})

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text, self.cells, self.cell, self.skip = [], [], None, False

    def handle_starttag(self, tag, attrs):
        self.skip = self.skip or tag in ("style", "title")
        if tag not in self.INLINE:
            self.text.append("\n")
        if tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        self.skip = self.skip and tag not in ("style", "title")
        if tag not in self.INLINE:
            self.text.append("\n")
        if tag in ("td", "th") and self.cell is not None:
            self.cells.append("".join(self.cell))
            self.cell = None

    def handle_data(self, data):
        if not self.skip:
            self.text.append(data)
            if self.cell is not None:
                self.cell.append(data)


def words(text: str) -> list[str]:
    """Words as a printed line may break them: at white space and after a hyphen or dash."""
    return [w for w in re.split(r"\s+|(?<=[-–])", text) if w]


def broken_words(tables: Counter, shown: Counter, pdf: Path) -> list[str]:
    """The table words that the printed text holds fewer times than the document shows them: each
    such word is broken somewhere (a word may be found anywhere in the text, as often as shown)."""
    printed = Counter(words(subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True,
                                           check=True).stdout))
    return sorted(w for w in tables if printed[w] < max(shown[w], tables[w]))


def table_words(html: str) -> tuple[Counter, Counter]:
    """(words of every table cell and header, words of the whole visible page) of the HTML page."""
    parsed = PageWords()
    parsed.feed(html)
    return Counter(w for cell in parsed.cells for w in words(cell)), Counter(words("".join(parsed.text)))


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> Path:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    root = tmp_path_factory.mktemp("print")
    runner.run_project(demo_project(root), root / "out", progress=False, pdf=True)
    return root / "out" / "demo"


@pytest.mark.slow
def test_every_table_word_is_whole_in_the_pdf(printed):
    if find_chromium() is None:
        pytest.skip("chromium not installed")
    tables, shown = table_words((printed / "appendix.html").read_text(encoding="utf-8"))
    assert len(tables) > 500
    assert broken_words(tables, shown, printed / "appendix.pdf") == []


@pytest.mark.slow
def test_every_table_word_is_whole_in_word_printed_by_libreoffice(printed, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) not installed")
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to",
                    "pdf", "--outdir", str(tmp_path), str(printed / "appendix.docx")],
                   check=True, capture_output=True, timeout=300)
    tables, _ = table_words((printed / "appendix.html").read_text(encoding="utf-8"))
    word = docx.Document(str(printed / "appendix.docx"))
    cells = [c.text for t in word.tables for row in t.rows for c in row.cells]
    assert Counter(w for c in cells for w in words(c)) == tables  # the HTML page's tables, word for word
    shown = Counter(w for text in [p.text for p in word.paragraphs] + cells for w in words(text))
    assert broken_words(tables, shown, tmp_path / "appendix.pdf") == []

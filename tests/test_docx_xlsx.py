"""The appendix for editing (issue 17): ``appendix.docx`` and ``tables.xlsx``.

Unit tests build both files from the blocks ``Report`` shows (a small attacked table and a figure),
read back from notebook outputs as a run reads them; the ``slow`` tests run the demo appendix in
Finnish and compare every table and figure of the HTML page with the Word document and the
workbook, and render the Word file with LibreOffice where ``soffice`` is installed. ``test_runner`` checks that two runs give the same
workbook and ``test_attacks`` attacks both files.
"""
from __future__ import annotations

import datetime as dt
import re
import shutil
import struct
import subprocess
import time
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import docx
import matplotlib
import openpyxl
import pandas as pd
import pytest
from test_runner import demo_project

from tyokyky_eval.i18n import fmt_number
from tyokyky_eval.render import document as doc
from tyokyky_eval.render import report as report_module
from tyokyky_eval.render.docx import TABLE_STYLE, write_docx
from tyokyky_eval.render.html import page as page_html
from tyokyky_eval.render.report import Report
from tyokyky_eval.render.xlsx import write_xlsx
from tyokyky_eval.run import runner

matplotlib.use("Agg")

ATTACK = '=HYPERLINK("http://127.0.0.1:9/x","klikkaa")'
STAMP = dt.datetime(2022, 12, 31)


def collapse(text: str) -> str:
    """HTML white space collapsed (no-break spaces kept, as a browser shows them)."""
    return re.sub(r"[ \t\n\r\f]+", " ", text).strip()


class Tables(HTMLParser):
    """Captions, ``te-table`` cells and figures of a page, as a reader sees them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables, self.captions, self.figures = [], [], 0
        self.cell = self.caption = None
        self.active = False  # inside a te-table

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.active = "te-table" in (attrs.get("class") or "")
            if self.active:
                self.tables.append([])
        elif tag == "tr" and self.active:
            self.tables[-1].append([])
        elif tag in ("td", "th") and self.active:
            self.cell = ""
        elif tag == "p" and "te-caption" in (attrs.get("class") or ""):
            self.caption = ""
        elif tag == "img" and "data:image/png" in (attrs.get("src") or ""):
            self.figures += 1

    def handle_endtag(self, tag):
        if tag == "table":
            self.active = False
        elif tag in ("td", "th") and self.cell is not None:
            self.tables[-1][-1].append(collapse(self.cell))
            self.cell = None
        elif tag == "p" and self.caption is not None:
            self.captions.append(collapse(self.caption))
            self.caption = None
        elif tag == "span" and self.caption is not None:
            self.caption += " "

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data
        elif self.caption is not None:
            self.caption += data


def read_page(page: str) -> Tables:
    parser = Tables()
    parser.feed(page)
    return parser


def shown(cell, language: str) -> str:
    """A workbook cell as the HTML shows it (an empty text is stored as an empty cell)."""
    if cell.value is None:
        return ""
    if cell.data_type == "s":
        return cell.value
    if isinstance(cell.value, dt.datetime):
        return f"{cell.value.day}.{cell.value.month}.{cell.value.year}" if language == "fi" else \
            cell.value.date().isoformat()
    if cell.number_format == "0":
        return str(cell.value)
    decimals = len(cell.number_format.partition(".")[2])
    return fmt_number(cell.value, language, decimals)


def workbook_tables(path: Path) -> list[tuple[str, list[list]]]:
    """(A1 caption, [header row, data rows…]) per table sheet; every cell checked to be no formula."""
    workbook = openpyxl.load_workbook(path)
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            assert all(cell.data_type != "f" for cell in row), sheet.title
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name), name
    return [(sheet["A1"].value, [list(r) for r in sheet.iter_rows(min_row=3) if any(c.value is not None for c in r)])
            for sheet in workbook.worksheets[1:] if not sheet["A1"].value.endswith(".csv")]  # shown tables


def docx_pictures(path: Path) -> list[tuple[int, int]]:
    """Pixel size of every PNG in the Word file."""
    with zipfile.ZipFile(path) as archive:
        return [struct.unpack(">II", archive.read(n)[16:24]) for n in sorted(archive.namelist())
                if n.startswith("word/media/") and n.endswith(".png")]


def no_external_links(path: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.endswith(".rels"):
                assert b'TargetMode="External"' not in archive.read(name), name


# -- files made from what a Report shows -----------------------------------------------------------
def _project(language: str, title: str = "Hanke"):
    params = SimpleNamespace(title={"fi": title, "en": title}, description={}, evaluation_period=None, synthetic=False,
                             cutoff_date=dt.date(2022, 12, 31))
    return SimpleNamespace(language=language, params=params)


@pytest.fixture
def shown_outputs(tmp_path, monkeypatch):
    """The document of one attacked table and one figure, as a notebook in a run shows them (its
    outputs carry the blocks) and the run reads them back (``runner.notebook_blocks``), and its page."""
    import matplotlib.pyplot as plt
    import nbformat

    def build(language: str, title: str = "Hanke"):
        outputs = []
        monkeypatch.setattr(report_module, "_display", lambda obj, metadata=None: outputs.append(
            nbformat.v4.new_output("display_data", {"text/html": obj.data}, metadata=metadata)))
        rep = Report(_project(language), output_dir=tmp_path / language)
        frame = pd.DataFrame({"service": [ATTACK, "ips"], "n": pd.Series([12, "<5"], dtype=object),
                              "mean": [1234.5, float("nan")], "p": [0.0004, 0.2],
                              "day": pd.to_datetime(["2022-12-31", None])})
        rep.table(frame, None, "+cmd|' /C calc'!A0", decimals={"mean": 2}, note="@SUM(1) <5 = 1–4")
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.bar(["a", "b"], [1, 2])
        rep.figure(fig, "Kuvio = 1")
        nb = nbformat.v4.new_notebook()
        origin = {"notebook": "20_osa.ipynb", "cell": 2, "id": "x"}
        nb.cells = [nbformat.v4.new_markdown_cell("# Osa\n\n## Alaosa", metadata={"tyokyky_eval": origin}),
                    nbformat.v4.new_code_cell("report.table(…)", metadata={"tyokyky_eval": origin}, outputs=outputs)]
        blocks = runner.notebook_blocks(nb, language)["20_osa.ipynb"]
        document = doc.assemble(_project(language, title), [doc.Part("osa", tuple(blocks))], None)
        return document, page_html(document)

    return build


def test_the_run_reads_back_the_blocks_the_notebook_showed(shown_outputs):
    document, _ = shown_outputs("fi")
    table, figure = [b for b in document.blocks() if isinstance(b, (doc.TableBlock, doc.FigureBlock))]
    assert table.rows[0][0].text == ATTACK and table.rows[0][1].value == 12 and table.rows[1][1].text == "<5"
    assert figure.png.startswith(b"\x89PNG") and (table.number, figure.number) == (1, 1)


@pytest.mark.parametrize("language", ["fi", "en"])
def test_workbook_stores_numbers_as_numbers_and_no_text_as_formula(shown_outputs, tmp_path, language):
    document, page = shown_outputs(language, "=Hanke")
    path = tmp_path / "tables.xlsx"
    write_xlsx(document, path, STAMP)
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == (["Sisällys", "Taulukko 1"] if language == "fi" else ["Contents", "Table 1"])
    sheet = workbook.worksheets[1]
    assert sheet["A1"].value == ("Taulukko 1. " if language == "fi" else "Table 1. ") + "+cmd|' /C calc'!A0"
    assert [c.value for c in sheet[3]] == ["service", "n", "mean", "p", "day"]
    assert sheet["A4"].value == ATTACK and sheet["A4"].data_type == "s"
    assert (sheet["B4"].value, sheet["B4"].number_format) == (12, "0") and sheet["B5"].value == "<5"
    assert (sheet["C4"].value, sheet["C4"].number_format) == (1234.5, "#,##0.00") and sheet["C5"].value == "–"
    assert sheet["D4"].value == ("<0,001" if language == "fi" else "<0.001") and sheet["D4"].data_type == "s"
    assert (sheet["D5"].value, sheet["D5"].number_format) == (0.2, "#,##0.000")
    assert sheet["E4"].value == dt.datetime(2022, 12, 31) and sheet["E5"].value == "–"
    assert sheet["A7"].value == "@SUM(1) <5 = 1–4"  # the note and legend under the table
    tables = read_page(page).tables
    assert [[shown(c, language) for c in row] for row in workbook_tables(path)[0][1][:3]] == tables[0]
    link = workbook.worksheets[0]["A5"].hyperlink  # contents → the table's sheet, inside the workbook
    assert link.location == f"'{workbook.sheetnames[1]}'!A1" and not link.target
    no_external_links(path)


def test_word_document_has_styles_captions_tables_and_print_figures(shown_outputs, tmp_path):
    document, page = shown_outputs("fi")
    path = tmp_path / "appendix.docx"
    write_docx(document, path, STAMP)
    document = docx.Document(str(path))
    styled = [(p.style.name, p.text) for p in document.paragraphs if p.text]
    assert ("Heading 1", "Osa") in styled and ("Heading 2", "Alaosa") in styled
    assert [t for s, t in styled if s == "Caption"] == ["Taulukko 1. +cmd|' /C calc'!A0", "Kuvio 1. Kuvio = 1"]
    assert ("Note", "@SUM(1) <5 = 1–4") in styled
    assert [[c.text for c in r.cells] for r in document.tables[0].rows] == read_page(page).tables[0]
    assert document.tables[0].style.name == TABLE_STYLE
    assert "SEQ Taulukko" in document.element.xml and "SEQ Kuvio" in document.element.xml
    (width, _), = docx_pictures(path)
    assert width >= 3 * doc.PRINT_DPI * 0.8  # a 3-inch figure at print resolution
    assert document.core_properties.created.replace(tzinfo=None) == STAMP and document.core_properties.title == "Hanke"
    no_external_links(path)


def test_office_files_are_reproducible(shown_outputs, tmp_path):
    document, _ = shown_outputs("fi")
    for name, write in (("tables.xlsx", write_xlsx), ("appendix.docx", write_docx)):
        write(document, tmp_path / f"1-{name}", STAMP)
        time.sleep(1.1)  # a clock time in the file would differ
        write(document, tmp_path / f"2-{name}", STAMP)
        assert (tmp_path / f"1-{name}").read_bytes() == (tmp_path / f"2-{name}").read_bytes(), name


# -- the real notebooks ------------------------------------------------------------------------------
#: the blocks the demo run wrote its files from, and those of the notebook papermill saved
RUN_BLOCKS: dict = {}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> Path:
    import nbformat

    root = tmp_path_factory.mktemp("office")
    read, sanitise = runner.notebook_blocks, runner.sanitise_executed

    def saved(path, source, parameters=None):
        RUN_BLOCKS["saved"] = read(nbformat.read(str(path), as_version=4), "fi")
        sanitise(path, source, parameters)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "notebook_blocks", lambda nb, language: RUN_BLOCKS.setdefault("run", read(nb, language)))
        patch.setattr(runner, "sanitise_executed", saved)
        runner.run_project(demo_project(root), root / "out", progress=False, pdf=False)
    return root / "out" / "demo"


def test_the_files_are_written_from_the_cells_papermill_saves(demo_run):
    """The run writes the page, Word and Excel from the cells as the kernel finished them
    (``runner.FinishedNotebook``), while papermill saves the notebook: the same blocks."""
    assert RUN_BLOCKS["run"] == RUN_BLOCKS["saved"] and len(RUN_BLOCKS["run"]) >= 8
    assert doc.BLOCK_KEY not in (demo_run / "executed" / "appendix.ipynb").read_text(encoding="utf-8")


def test_figures_are_the_same_whichever_process_draws_them(demo_run, tmp_path, monkeypatch):
    """The run and its kernel share the drawing by who claims a section first
    (``render.document.make_blocks_ahead``): the figures do not depend on which one drew them."""
    def figures(folder: Path) -> list[str]:
        return re.findall(r'src="data:image/png;base64,([^"]+)"', (folder / "appendix.html").read_text(encoding="utf-8"))

    monkeypatch.setattr(runner.doc, "make_blocks_ahead", lambda *args: [])  # the kernel draws every section
    runner.run_project(demo_project(tmp_path), tmp_path / "out", progress=False, pdf=False)
    assert figures(tmp_path / "out" / "demo") == figures(demo_run) and len(figures(demo_run)) > 10


@pytest.mark.slow
def test_every_html_table_and_figure_is_in_the_word_file_and_the_workbook(demo_run):
    page = read_page((demo_run / "appendix.html").read_text(encoding="utf-8"))
    assert len(page.tables) > 10 and page.figures > 3
    document = docx.Document(str(demo_run / "appendix.docx"))
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    assert captions == page.captions
    assert [re.match(r"(Taulukko|Kuvio) \d+", c).group(0) for c in captions if c.startswith("Taulukko")] == \
        [f"Taulukko {n}" for n in range(1, len(page.tables) + 1)]
    word_tables = [[[c.text for c in row.cells] for row in table.rows] for table in document.tables]
    assert word_tables[:len(page.tables)] == page.tables  # then the provenance tables
    assert len(docx_pictures(demo_run / "appendix.docx")) == page.figures
    sheets = workbook_tables(demo_run / "tables.xlsx")
    assert [caption for caption, _ in sheets] == [c for c in page.captions if c.startswith("Taulukko")]
    for (_, rows), table in zip(sheets, page.tables):
        assert [[shown(c, "fi") for c in row] for row in rows[:len(table)]] == table
    workbook = openpyxl.load_workbook(demo_run / "tables.xlsx")  # every CSV of tables/ has its sheet
    named = {s["A2"].value.removeprefix("tables/").removesuffix(".csv") for s in workbook.worksheets[1:]
             if s["A2"].value} | {s.title for s in workbook.worksheets[1:] if s["A1"].value.endswith(".csv")}
    assert named == {p.stem for p in (demo_run / "tables").glob("*.csv")}
    findings = workbook.worksheets[1]  # the key findings first, each value linked to its table's sheet
    assert findings["A1"].value == "Taulukko 1. Keskeiset tulokset palveluittain"
    assert all(c.hyperlink.location.startswith("'Taulukko ") for c in findings["C"][3:] if c.hyperlink)
    assert sum(1 for c in findings["C"][3:] if c.hyperlink) >= 5
    headings = {p.style.name for p in document.paragraphs}
    assert {"Title", "Heading 1", "Heading 2", "Caption", "Note"} <= headings
    no_external_links(demo_run / "appendix.docx")
    no_external_links(demo_run / "tables.xlsx")


class Text(HTMLParser):
    """The visible text of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skip = [], False

    def handle_starttag(self, tag, attrs):
        self.skip = tag in ("style", "title")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(collapse(data))


@pytest.mark.slow
def test_workbook_publishes_nothing_the_html_does_not(demo_run):
    page = Text()
    page.feed((demo_run / "appendix.html").read_text(encoding="utf-8"))
    text = "\n".join(page.parts)
    workbook = openpyxl.load_workbook(demo_run / "tables.xlsx")
    legend = "Merkinnät: <5 = lukumäärä"
    for sheet in workbook.worksheets[1:]:
        if sheet["A1"].value.endswith(".csv"):  # a table the page does not show, as tables/ publishes it
            continue
        assert sheet["A1"].value.split(" ", 2)[2] in text  # the caption after its number
        values = [c.value for row in sheet.iter_rows(min_row=4) for c in row]
        if "<5" in values:  # a suppressed cell: its symbol, and the legend under the table
            assert any(isinstance(v, str) and legend in v for v in values), sheet.title
        for row in sheet.iter_rows(min_row=3):
            for cell in row:
                if isinstance(cell.value, float):  # no more precision than the appendix shows
                    assert cell.value == round(cell.value, len(cell.number_format.partition(".")[2]))
                elif isinstance(cell.value, str):
                    assert cell.value in text, (sheet.title, cell.coordinate, cell.value)


@pytest.mark.slow
def test_word_file_renders_in_libreoffice(demo_run, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None or shutil.which("pdftoppm") is None:
        pytest.skip("LibreOffice (soffice) or pdftoppm not installed")
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to",
                    "pdf", "--outdir", str(tmp_path), str(demo_run / "appendix.docx")],
                   check=True, capture_output=True, timeout=300)
    pdf = tmp_path / "appendix.pdf"
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "2", str(pdf), str(tmp_path / "page")],
                   check=True, timeout=120)
    from matplotlib.image import imread

    for image in sorted(tmp_path.glob("page*.png")):
        pixels = imread(image)
        assert pixels.std() > 0.01, image.name  # not blank
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-l", "2", str(pdf), "-"], capture_output=True, text=True).stdout
        assert "Arviointiliite" in text and "Sisällys" in text


@pytest.mark.parametrize("text", ["35", " lead and trail ", "a\tb\nc\rd", "<b>&amp;</b> \"q\"", "", "\t", "x\x01y"])
def test_a_table_cell_holds_its_text_as_python_docx_writes_a_run(text):
    """Word tables are written as one XML string (``render.docx._table``); a cell's run content is
    what python-docx's own ``run.text`` gives (characters XML cannot hold are dropped)."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    from tyokyky_eval.render.docx import _run_content

    def content(run):
        return [(child.tag, child.text, dict(child.attrib)) for child in run]

    expected = docx.Document().add_paragraph().add_run(text.replace("\x01", ""))._r
    assert content(parse_xml(f"<w:r {nsdecls('w')}>{_run_content(text)}</w:r>")) == content(expected)

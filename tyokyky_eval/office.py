"""The appendix for editing: ``appendix.docx`` (Word) and ``tables.xlsx`` (Excel).

Both are made from what the HTML appendix publishes, nothing else. The Word document follows the
assembled HTML page block by block (title page, contents, headings, prose, captions, notes,
provenance); its captioned tables and figures come from the records ``Report`` leaves for every
table and figure it shows (``report.RECORDS``: the cells as shown with the number behind each,
rounded as shown, and the figure at ``report.PRINT_DPI``), in the order the HTML shows them. The
workbook holds the same table records, one sheet each, numbers stored as numbers with a display
format. Dates inside both files come from the cut-off date, so that equal inputs give equal files.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from tyokyky_eval import __version__
from tyokyky_eval.i18n import t

HEADING_STYLES = {1: "Heading 1", 2: "Heading 2"}  # deeper levels: "Heading 3"
NOTE_STYLE = "Note"
TABLE_STYLE = "Table Grid"
WIDE_TABLE_COLUMNS = 8
PROOFING_LANGUAGES = {"fi": "fi-FI", "en": "en-GB"}
_SPACE = re.compile(r"[ \t\n\r\f]+")  # HTML white space; no-break spaces stay
_VOID = {"img", "br", "meta", "link", "hr", "input", "col", "wbr", "source"}
_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "pre", "blockquote"}
_PARAGRAPH_STYLES = {"term": None, "": None}


# -- records --------------------------------------------------------------------------------------
def load_records(folders: list[Path]) -> list[dict]:
    """The table and figure records of ``folders`` (one per notebook, in appendix order), each
    figure with its PNG bytes under ``png``."""
    records = []
    for folder in folders:
        for path in sorted(folder.glob("*.json")):
            record = json.loads(path.read_text(encoding="utf-8"))
            if record["kind"] == "figure":
                record["png"] = (folder / record["image"]).read_bytes()
            records.append(record)
    return records


def _caption_parts(kind: str, language: str) -> tuple[str, str]:
    """The locale's caption label around its number: ('Taulukko ', '.')."""
    before, after = t(f"appendix.{kind}_label", language, n="\0").split("\0")
    return before, after


# -- the HTML page as blocks --------------------------------------------------------------------
@dataclass
class Block:
    """One paragraph-level piece of the page: ``kind`` heading, paragraph, item, caption, table,
    image or pagebreak."""

    kind: str
    text: str = ""
    style: str = ""
    level: int = 0
    rows: list = field(default_factory=list)
    classes: tuple = ()
    src: str = ""
    runs: list = field(default_factory=list)  # (text, bold, italic, code); ``text`` is their sum


class _PageParser(HTMLParser):
    """Reads the assembled appendix page (our own markup) into ``Block``s; scripts, styles and the
    head are ignored."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.stack: list[tuple[str, tuple]] = []
        self.current: Block | None = None
        self.lists: list[list] = []  # [ordered, count] per open list
        self.table: Block | None = None
        self.cell: list[str] | None = None

    def _inside(self, tag: str, cls: str = "") -> bool:
        return any(name == tag and (not cls or cls in classes) for name, classes in self.stack)

    def _flush(self) -> None:
        block, self.current = self.current, None
        if block is None:
            return
        runs, text = [], block.text  # a prefix ("1. ", "Kieli: ") set when the block began
        for part, *marks in block.runs:
            part = _SPACE.sub(" ", part)
            if not text.strip() or text.endswith(" "):
                part = part.lstrip(" ")
            if part:
                runs.append((part, *marks))
                text += part
        if runs:
            runs[-1] = (runs[-1][0].rstrip(" "), *runs[-1][1:])
        block.runs, block.text = [(block.text, False, False, False), *runs] if block.text else runs, text.strip()
        if block.text or block.kind == "caption":
            self.blocks.append(block)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = tuple((attrs.get("class") or "").split())
        if tag not in _VOID:
            self.stack.append((tag, classes))
        if self._inside("head") or self._inside("style"):
            return
        if tag == "table":
            self._flush()
            self.table = Block("table", classes=classes)
        elif tag == "tr" and self.table is not None:
            self.table.rows.append([])
        elif tag in ("td", "th") and self.table is not None:
            self.cell = []
            self.table.rows[-1].append((tag == "th", self.cell))
        elif tag in ("ul", "ol"):
            self._flush()
            self.lists.append([tag == "ol", 0])
        elif tag == "img":
            self._flush()
            self.blocks.append(Block("image", src=attrs.get("src") or "", classes=classes,
                                     style="figure" if self._inside("figure", "te-figure") else ""))
        elif tag == "br":
            self._data("\n")
        elif tag == "dd" and self.current is None and self.blocks and self.blocks[-1].style == "term":
            self.current = self.blocks.pop()  # a definition continues its term: "Kieli: suomi"
            self.current.style, self.current.text, self.current.runs = "", self.current.text + ": ", []
        elif tag in _BLOCKS and self.table is None:
            self._flush()
            self.current = self._block(tag, classes, attrs)

    def _block(self, tag: str, classes: tuple, attrs: dict) -> Block:
        if tag[0] == "h" and tag[1:].isdigit():
            style = ("Title" if "te-title" in classes else "TOC Heading" if "te-toc-title" in classes
                     else HEADING_STYLES.get(int(tag[1]), "Heading 3"))
            return Block("heading", style=style)
        if "te-caption" in classes:
            return Block("caption", style=attrs.get("data-kind") or "table")
        if tag == "li":
            ordered, count = self.lists[-1] if self.lists else (False, 0)
            if self.lists:
                self.lists[-1][1] = count + 1
            return Block("item", level=len(self.lists), style="ordered" if ordered else "", text=(
                f"{count + 1}. " if ordered else ""))
        if tag == "dt":
            return Block("paragraph", style="term")
        style = ("Subtitle" if "te-kind" in classes else NOTE_STYLE if {"te-note", "te-skipped"} & set(classes)
                 else "")
        return Block("paragraph", style=style)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in _VOID or all(name != tag for name, _ in self.stack):
            return
        while self.stack:
            name, classes = self.stack.pop()
            if name == tag:
                break
        if self._inside("head"):
            return
        if tag in ("td", "th"):
            self.cell = None
        elif tag == "table" and self.table is not None:
            self.blocks.append(self.table)
            self.table = None
        elif tag in ("ul", "ol") and self.lists:
            self._flush()
            self.lists.pop()
        elif tag in _BLOCKS:
            self._flush()
        elif tag in ("header", "nav") and {"te-title-page", "te-toc"} & set(classes):
            self._flush()
            self.blocks.append(Block("pagebreak"))

    def handle_data(self, data):
        if self._inside("head") or self._inside("style") or self._inside("script"):
            return
        self._data(data)

    def _data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)
            return
        if self._inside("span", "te-caption-label"):
            return  # "Taulukko 1.": Word numbers its captions itself (``_caption``)
        if self.current is None:
            if not data.strip():
                return
            self.current = Block("paragraph")
        self.current.runs.append((data, self._inside("strong") or self._inside("b"),
                                  self._inside("em") or self._inside("i"), self._inside("code")))


def page_blocks(page: str) -> list[Block]:
    """The blocks of an appendix page; table cells as ``(is_header, text)``."""
    parser = _PageParser()
    parser.feed(page)
    parser.close()
    parser._flush()
    for block in parser.blocks:
        if block.kind == "table":
            block.rows = [[(head, _SPACE.sub(" ", "".join(text)).strip()) for head, text in row]
                          for row in block.rows if row]
    return parser.blocks


# -- Word -----------------------------------------------------------------------------------------
def _field(paragraph, instruction: str, shown: str) -> None:
    """A Word field (``SEQ`` for caption numbers) with ``shown`` as its current result."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def char(kind):
        element = OxmlElement("w:fldChar")
        element.set(qn("w:fldCharType"), kind)
        paragraph.add_run()._r.append(element)

    char("begin")
    code = OxmlElement("w:instrText")
    code.set(qn("xml:space"), "preserve")
    code.text = f" {instruction} "
    paragraph.add_run()._r.append(code)
    char("separate")
    paragraph.add_run(shown)
    char("end")


def _document(language: str):
    """A Word document on A4 with the styles the appendix uses (Heading 1–3, Title, Caption, Note,
    Table Grid), so that an evaluator's template can restyle it."""
    from docx import Document
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(20)
    section.top_margin = section.bottom_margin = Mm(20)
    note = document.styles.add_style(NOTE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    note.base_style = document.styles["Normal"]
    note.font.size = Pt(8.5)
    document.styles["Normal"].font.size = Pt(10.5)
    proofing = OxmlElement("w:lang")  # Word checks the spelling in the appendix's language
    proofing.set(qn("w:val"), PROOFING_LANGUAGES[language])
    document.styles["Normal"].element.get_or_add_rPr().append(proofing)
    document.core_properties.language = PROOFING_LANGUAGES[language]
    return document


def _table(document, rows: list[list[tuple[bool, str]]], numeric: list[list[bool]] | None = None) -> None:
    """A Word table in ``TABLE_STYLE``: header cells bold, the header row repeated on every page,
    numbers right-aligned, a smaller font for wide tables."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.shared import Pt

    width = max((len(row) for row in rows), default=0)
    if width == 0:
        return
    table = document.add_table(rows=len(rows), cols=width)
    table.style = document.styles[TABLE_STYLE]
    size = Pt(7.5 if width > WIDE_TABLE_COLUMNS else 9)
    for i, row in enumerate(rows):
        if row and row[0][0]:
            table.rows[i]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
        for j, (head, text) in enumerate(row):
            paragraph = table.cell(i, j).paragraphs[0]
            run = paragraph.add_run(text)
            run.bold, run.font.size = head or None, size
            if numeric and i > 0 and numeric[i - 1][j]:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT


def _paragraph(document, block: Block, style: str | None):
    """A paragraph of ``block``'s runs (bold, italic and code kept)."""
    paragraph = document.add_paragraph(style=style)
    for text, bold, italic, code in block.runs:
        run = paragraph.add_run(text)
        run.bold, run.italic = bold or None, italic or None
        if code:
            run.font.name = "Consolas"
    return paragraph


def _caption(document, kind: str, number: int, text: str, language: str) -> None:
    before, after = _caption_parts(kind, language)
    paragraph = document.add_paragraph(style="Caption")
    paragraph.add_run(before)
    _field(paragraph, f"SEQ {before.strip() or kind} \\* ARABIC", str(number))
    paragraph.add_run(f"{after} {text}")


def _picture(document, png: bytes) -> None:
    section = document.sections[0]
    usable = section.page_width - section.left_margin - section.right_margin
    shape = document.add_picture(io.BytesIO(png))
    if shape.width > usable:
        shape.height = int(shape.height * usable / shape.width)
        shape.width = usable


def write_docx(page: str, records: list[dict], path: Path, language: str, title: str, stamp: dt.datetime) -> None:
    """``appendix.docx``: the blocks of the HTML ``page``; captioned tables and figures from
    ``records`` (their order is the page's: a mismatch is an error, never a silent shift)."""
    import base64

    from docx.enum.text import WD_BREAK
    from docx.shared import Mm

    document = _document(language)
    queue = {kind: [r for r in records if r["kind"] == kind] for kind in ("table", "figure")}
    counters = {"table": 0, "figure": 0}

    def take(kind: str, caption: str) -> dict:
        if not queue[kind] or _SPACE.sub(" ", queue[kind][0]["caption"]).strip() != caption:
            raise ValueError(f"the appendix page and the {kind} records disagree at {caption!r}")
        return queue[kind].pop(0)

    blocks = page_blocks(page)
    for i, block in enumerate(blocks):
        if block.kind == "heading":
            _paragraph(document, block, block.style)
        elif block.kind == "paragraph":
            _paragraph(document, block, _PARAGRAPH_STYLES.get(block.style, block.style))
        elif block.kind == "item" and block.style == "ordered":  # numbered as shown: lists restart
            _paragraph(document, block, "List Paragraph").paragraph_format.left_indent = Mm(6 * block.level)
        elif block.kind == "item":
            _paragraph(document, block, "List Bullet" if block.level <= 1 else "List Bullet 2")
        elif block.kind == "caption":
            counters[block.style] += 1
            _caption(document, block.style, counters[block.style], block.text, language)
            if block.style == "table":
                record = take("table", block.text)
                _table(document, [[(True, h) for h in record["columns"]]] +
                       [[(False, c["text"]) for c in row] for row in record["rows"]],
                       [[c.get("value") is not None for c in row] for row in record["rows"]])
        elif block.kind == "table" and "te-table" not in block.classes:
            _table(document, block.rows)
        elif block.kind == "image":
            following = next((b for b in blocks[i + 1:] if b.kind == "caption"), None)
            if block.style == "figure" and following is not None:
                _picture(document, take("figure", following.text)["png"])
            elif block.src.startswith("data:image/png;base64,"):
                _picture(document, base64.b64decode(block.src.split(",", 1)[1]))
        elif block.kind == "pagebreak":
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    if queue["table"] or queue["figure"]:
        raise ValueError("records left over that the appendix page does not show")
    properties = document.core_properties
    properties.title, properties.author, properties.last_modified_by = title, "tyokyky-eval", "tyokyky-eval"
    properties.created = properties.modified = properties.last_printed = stamp
    properties.revision, properties.comments = 1, f"tyokyky-eval {__version__}"
    document.save(str(path))
    reproducible_zip(path, stamp)


# -- Excel ----------------------------------------------------------------------------------------
def _text(cell, text: str) -> None:
    """A text cell, never a formula, whatever the text begins with; characters Excel cannot store
    are dropped."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    cell.value = ILLEGAL_CHARACTERS_RE.sub("", text)
    cell.data_type = "s"


def _sheet_name(kind: str, number: int, language: str) -> str:
    before, after = _caption_parts(kind, language)
    return f"{before}{number}{after}".rstrip(".").strip()[:31]


def write_xlsx(records: list[dict], path: Path, language: str, title: str, stamp: dt.datetime) -> None:
    """``tables.xlsx``: a contents sheet, then one sheet per published table (caption, column
    titles, cells, note and symbol legend). Numbers are numbers with a display format, everything
    else is text, and no cell is a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.hyperlink import Hyperlink
    from openpyxl.xml.functions import tostring
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    workbook = Workbook()
    contents = workbook.active
    contents.title = t("appendix.contents", language)[:31]
    _text(contents["A1"], title)
    contents["A1"].font = Font(bold=True, size=13)
    _text(contents["A2"], t("appendix.workbook_intro", language))
    for column, key in (("A", "table"), ("B", "caption")):
        _text(contents[f"{column}4"], t(f"appendix.{key}", language))
        contents[f"{column}4"].font = bold
    tables = [r for r in records if r["kind"] == "table"]
    for number, record in enumerate(tables, 1):
        name = _sheet_name("table", number, language)
        sheet = workbook.create_sheet(name)
        label = f"{_caption_parts('table', language)[0]}{number}{_caption_parts('table', language)[1]}"
        _text(contents.cell(4 + number, 1), label)
        contents.cell(4 + number, 1).hyperlink = Hyperlink(f"A{4 + number}", location=f"'{name}'!A1")
        _text(contents.cell(4 + number, 2), record["caption"])
        _text(sheet["A1"], f"{label} {record['caption']}")
        sheet["A1"].font = bold
        widths = [len(h) for h in record["columns"]]
        for j, header in enumerate(record["columns"], 1):
            _text(sheet.cell(3, j), header)
            sheet.cell(3, j).font = bold
            sheet.cell(3, j).alignment = Alignment(wrap_text=True, vertical="top")
        for i, row in enumerate(record["rows"], 4):
            for j, value in enumerate(row, 1):
                cell = sheet.cell(i, j)
                if value.get("value") is None:
                    _text(cell, value["text"])
                else:
                    number_value = value["value"]
                    cell.value = dt.date.fromisoformat(number_value) if isinstance(number_value, str) else number_value
                    cell.number_format = value["format"]
                widths[j - 1] = max(widths[j - 1], len(value["text"]))
        if record["note"]:
            _text(sheet.cell(len(record["rows"]) + 5, 1), record["note"])
        sheet.freeze_panes = "A4"
        for j, width in enumerate(widths, 1):
            sheet.column_dimensions[get_column_letter(j)].width = min(max(width + 2, 8), 40)
    contents.column_dimensions["A"].width = 14
    contents.column_dimensions["B"].width = 90
    properties = workbook.properties
    properties.title, properties.creator, properties.lastModifiedBy = title, "tyokyky-eval", "tyokyky-eval"
    properties.created = properties.modified = stamp
    properties.language = language
    workbook.save(str(path))
    properties.modified = stamp  # saving set it to the clock: put the stamp back into the file
    reproducible_zip(path, stamp, {"docProps/core.xml": tostring(properties.to_tree())})


# -- reproducible zip containers ------------------------------------------------------------------
def reproducible_zip(path: Path, stamp: dt.datetime, replace: dict[str, bytes] | None = None) -> None:
    """Rewrite the Office file ``path`` with every member dated ``stamp`` (and the members of
    ``replace`` swapped in), so that equal inputs give equal bytes."""
    with zipfile.ZipFile(path) as source:
        members = [(info.filename, (replace or {}).get(info.filename) or source.read(info))
                   for info in source.infolist()]
    date_time = (max(stamp.year, 1980), stamp.month, stamp.day, 0, 0, 0)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, data)

"""``appendix.docx``: the appendix's blocks as a Word document (python-docx), for editing.

Headings in Word's heading styles, prose from its Markdown (mistune's syntax tree: paragraphs,
lists, bold, italic, code), captions numbered by ``SEQ`` fields, tables with their header row
repeated on every page, numbers right-aligned and columns as wide as their text asks
(``render.layout``; a table too wide for a portrait page in a landscape section), figures at print
resolution. Dates inside the file come from the cut-off date, so that equal inputs give equal files.
"""
from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

from tyokyky_eval import __version__
from tyokyky_eval.i18n import t
from tyokyky_eval.render.document import (
    Document,
    FigureBlock,
    Heading,
    Prose,
    Raw,
    TableBlock,
)
from tyokyky_eval.render.html import contents_entries, text_of
from tyokyky_eval.render.layout import (
    MARGIN_MM,
    PAGE_MM,
    landscape_blocks,
    table_layout,
)
from tyokyky_eval.render.zipfiles import reproducible_zip

NOTE_STYLE = "Note"
TABLE_STYLE = "Table Grid"
PROOFING_LANGUAGES = {"fi": "fi-FI", "en": "en-GB"}


def _field_char(paragraph, kind: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    element = OxmlElement("w:fldChar")
    element.set(qn("w:fldCharType"), kind)
    paragraph.add_run()._r.append(element)


def _field_start(paragraph, instruction: str) -> None:
    """The start of a Word field: its instruction, then its current result follows."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    _field_char(paragraph, "begin")
    code = OxmlElement("w:instrText")
    code.set(qn("xml:space"), "preserve")
    code.text = f" {instruction} "
    paragraph.add_run()._r.append(code)
    _field_char(paragraph, "separate")


def _field(paragraph, instruction: str, shown: str) -> None:
    """A Word field (``SEQ`` for caption numbers) with ``shown`` as its current result."""
    _field_start(paragraph, instruction)
    paragraph.add_run(shown)
    _field_char(paragraph, "end")


def _contents(word, document: Document) -> None:
    """A table-of-contents field (headings 1–2, linked) whose current result is the contents list,
    so that it reads right before Word or LibreOffice updates it."""
    entries = contents_entries(document)
    paragraphs = [_paragraph(word, style="TOC 2" if level > 1 else "TOC 1") for level, _, _ in entries] or \
        [word.add_paragraph()]
    _field_start(paragraphs[0], 'TOC \\o "1-2" \\h \\z \\u')
    for paragraph, (_, _, text) in zip(paragraphs, entries):
        paragraph.add_run(text)
    _field_char(paragraphs[-1], "end")


def _orientation(section, landscape: bool) -> None:
    """An A4 section, portrait or landscape, with the print margins."""
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm

    width, height = (Mm(side) for side in (PAGE_MM[::-1] if landscape else PAGE_MM))
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = width, height
    section.top_margin = section.bottom_margin = Mm(MARGIN_MM[0])
    section.left_margin = section.right_margin = Mm(MARGIN_MM[1])


def _document(language: str):
    """A Word document on A4 with the styles the appendix uses (Heading 1–3, Title, Caption, Note,
    Table Grid, TOC 1–2), so that an evaluator's template can restyle it."""
    from docx import Document as WordDocument
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    document = WordDocument()
    _orientation(document.sections[0], landscape=False)
    for level in (1, 2):  # the contents field's entries (Word's built-in "toc 1", "toc 2")
        entry = document.styles.add_style(f"TOC {level}", WD_STYLE_TYPE.PARAGRAPH)
        entry.base_style = document.styles["Normal"]
        entry.paragraph_format.left_indent = Mm(6 * (level - 1))
        entry.paragraph_format.space_after = Pt(2)
    note = document.styles.add_style(NOTE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    note.base_style = document.styles["Normal"]
    note.font.size = Pt(8.5)
    document.styles["Normal"].font.size = Pt(10.5)
    proofing = OxmlElement("w:lang")  # Word checks the spelling in the appendix's language
    proofing.set(qn("w:val"), PROOFING_LANGUAGES[language])
    document.styles["Normal"].element.get_or_add_rPr().append(proofing)
    document.core_properties.language = PROOFING_LANGUAGES[language]
    return document


def _table(document, block: TableBlock) -> None:
    """A Word table in ``TABLE_STYLE``: header cells bold, the header row repeated on every page,
    numbers right-aligned; font, padding and fixed column widths from ``table_layout``. Written as
    one ``w:tbl`` string that is parsed once, as python-docx makes its own new tables: filling a
    table cell by cell through python-docx's objects took most of the Word file's time."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls
    from docx.shared import Pt

    header = any(block.columns)
    rows = ([[(True, h, False) for h in block.columns]] if header else []) + \
        [[(False, c.text, c.value is not None) for c in row] for row in block.rows]
    if not rows or not block.columns:
        return
    layout = table_layout(block)
    widths = [Pt(w).twips for w in layout.widths]
    size = round(layout.style.font_pt * 2)  # half-points
    padding = round(layout.style.padding_pt * 20)  # twentieths of a point
    xml = [f'<w:tbl {nsdecls("w")}><w:tblPr><w:tblStyle w:val="{_style_id(document, TABLE_STYLE)}"/>'
           '<w:tblW w:type="auto" w:w="0"/><w:tblLayout w:type="fixed"/><w:tblCellMar>'
           f'<w:left w:w="{padding}" w:type="dxa"/><w:right w:w="{padding}" w:type="dxa"/></w:tblCellMar>'
           '<w:tblLook w:firstColumn="1" w:firstRow="1" w:lastColumn="0" w:lastRow="0" w:noHBand="0" '
           'w:noVBand="1" w:val="04A0"/></w:tblPr><w:tblGrid>',
           *(f'<w:gridCol w:w="{w}"/>' for w in widths), "</w:tblGrid>"]
    for i, row in enumerate(rows):
        xml.append("<w:tr><w:trPr><w:tblHeader/></w:trPr>" if header and i == 0 else "<w:tr>")
        for width, (bold, text, number) in zip(widths, row):
            xml.append(f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{width}"/></w:tcPr><w:p>'
                       + ('<w:pPr><w:jc w:val="right"/></w:pPr>' if number else "")
                       + f'<w:r><w:rPr>{"<w:b/>" if bold else ""}<w:sz w:val="{size}"/></w:rPr>'
                       + _run_content(text) + "</w:r></w:p></w:tc>")
        xml.append("</w:tr>")
    xml.append("</w:tbl>")
    document.element.body._insert_tbl(parse_xml("".join(xml)))


#: characters XML 1.0 cannot hold (a Word file with them does not open)
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _run_content(text: str) -> str:
    """A run's content as python-docx writes ``run.text``: a tab as ``w:tab``, a line break as
    ``w:br``, the text between them in ``w:t`` (spaces kept where it starts or ends with one)."""
    from xml.sax.saxutils import escape

    content = []
    for piece in re.split(r"(\t|\r|\n)", _NOT_XML.sub("", text)):
        if piece == "\t":
            content.append("<w:tab/>")
        elif piece in ("\r", "\n"):
            content.append("<w:br/>")
        elif piece:
            space = ' xml:space="preserve"' if piece.strip() != piece else ""
            content.append(f"<w:t{space}>{escape(piece)}</w:t>")
    return "".join(content)


#: style name → id; every document starts from ``_document``, so the mapping is the same for all
_STYLE_IDS: dict[str, str] = {}


def _style_id(document, name: str) -> str:
    if name not in _STYLE_IDS:
        _STYLE_IDS[name] = document.styles[name].style_id
    return _STYLE_IDS[name]


def _paragraph(document, text: str = "", style: str | None = None):
    """``document.add_paragraph(text, style)`` with the style set by its id: python-docx looks a
    style name up, and compares it with the default style, by scanning every style on each call."""
    paragraph = document.add_paragraph(text)
    if style:
        paragraph._p.style = _style_id(document, style)
    return paragraph


def _runs(paragraph, nodes, bold=False, italic=False) -> None:
    """Inline Markdown nodes as runs (links show their text only; raw HTML as text)."""
    for node in nodes:
        kind = node["type"]
        if kind in ("text", "inline_html"):
            run = paragraph.add_run(node["raw"])
            run.bold, run.italic = bold or None, italic or None
        elif kind == "codespan":
            run = paragraph.add_run(node["raw"])
            run.font.name = "Consolas"
        elif kind in ("softbreak", "linebreak"):
            paragraph.add_run(" ")
        elif kind == "strong":
            _runs(paragraph, node["children"], True, italic)
        elif kind == "emphasis":
            _runs(paragraph, node["children"], bold, True)
        elif "children" in node:
            _runs(paragraph, node["children"], bold, italic)
        elif "raw" in node:
            paragraph.add_run(node["raw"])


def _markdown(document, text: str, style: str | None = None, depth: int = 0) -> None:
    """Markdown prose as Word paragraphs and lists."""
    import mistune
    from docx.shared import Mm

    def blocks(nodes, depth):
        for node in nodes:
            kind = node["type"]
            if kind in ("paragraph", "block_text"):
                _runs(_paragraph(document, style=style), node["children"])
            elif kind == "heading":
                _runs(_paragraph(document, style=f"Heading {min(node['attrs']['level'], 3)}"), node["children"])
            elif kind == "block_code":
                _paragraph(document, node["raw"].rstrip("\n"), style).runs[0].font.name = "Consolas"
            elif kind == "list":
                ordered = node["attrs"]["ordered"]
                for number, item in enumerate(node["children"], node["attrs"].get("start") or 1):
                    first, *rest = item["children"] or [{"type": "block_text", "children": []}]
                    if ordered:  # numbered as written: Word's own numbering would run on across lists
                        paragraph = _paragraph(document, f"{number}. ", "List Paragraph")
                        paragraph.paragraph_format.left_indent = Mm(6 * (depth + 1))
                    else:
                        paragraph = _paragraph(document, style="List Bullet" if depth == 0 else "List Bullet 2")
                    _runs(paragraph, first.get("children", []))
                    blocks(rest, depth + 1)
            elif kind == "block_quote":
                blocks(node["children"], depth)
            elif "children" in node and kind != "blank_line":
                blocks(node["children"], depth)

    blocks(mistune.create_markdown(renderer=None)(text), depth)


def _caption(document, kind: str, number: int, text: str, language: str) -> None:
    before, after = t(f"appendix.{kind}_label", language, n="\0").split("\0")
    paragraph = _paragraph(document, style="Caption")
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


def _page_break(document) -> None:
    from docx.enum.text import WD_BREAK

    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def _block(document, block, language: str) -> None:
    if isinstance(block, Heading):
        _paragraph(document, block.text, f"Heading {min(block.level, 3)}")
    elif isinstance(block, Prose):
        _markdown(document, block.markdown, NOTE_STYLE if block.style == "note" else None)
    elif isinstance(block, TableBlock):
        if block.caption:
            _caption(document, "table", block.number, block.caption, language)
        _table(document, block)
        if block.note:
            _paragraph(document, block.note, NOTE_STYLE)
    elif isinstance(block, FigureBlock):
        _picture(document, block.png)
        _caption(document, "figure", block.number, block.caption, language)
    elif isinstance(block, Raw) and text_of(block.html):
        document.add_paragraph(text_of(block.html))


def write_docx(document: Document, path: Path, stamp: dt.datetime) -> None:
    """``appendix.docx``: title page, contents, every block of ``document`` in order."""
    language = document.language
    word = _document(language)
    page = document.title_page
    _paragraph(word, page.kind, "Subtitle")
    _paragraph(word, page.title, "Title")
    if page.description:
        word.add_paragraph(page.description)
    for key, value in page.facts:
        word.add_paragraph(f"{key}: {value}")
    for note in page.notes:
        _paragraph(word, note, NOTE_STYLE)
    _page_break(word)
    _paragraph(word, t("appendix.contents", language), "TOC Heading")
    _contents(word, document)
    _page_break(word)
    blocks, landscape = list(document.blocks()), False
    for block, turned in zip(blocks, landscape_blocks(blocks)):
        if turned != landscape:  # a run of wide tables in its own landscape section
            _orientation(word.add_section(), turned)
            landscape = turned
        _block(word, block, language)
    properties = word.core_properties
    properties.title, properties.author, properties.last_modified_by = page.title, "tyokyky-eval", "tyokyky-eval"
    properties.created = properties.modified = properties.last_printed = stamp
    properties.revision, properties.comments = 1, f"tyokyky-eval {__version__}"
    word.save(str(path))
    reproducible_zip(path, stamp)

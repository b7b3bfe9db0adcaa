"""``tables.xlsx``: a contents sheet, then one sheet per captioned table of the appendix (caption,
column titles, cells, note and symbol legend), then one sheet per published table the appendix
does not show (``data``: as ``tables/`` holds it, language-free), so that the workbook has every
table of ``tables/``. Numbers are numbers with a display format (rounded
as shown), everything else is text, and no cell is a formula. Dates inside the file come from the
cut-off date, so that equal inputs give equal files.
"""
from __future__ import annotations

import datetime as dt
import math
import numbers
from pathlib import Path

from tyokyky_eval.i18n import t
from tyokyky_eval.render.document import Document, TableBlock, caption_label
from tyokyky_eval.render.zipfiles import reproducible_zip


def _text(cell, text: str) -> None:
    """A text cell, never a formula, whatever the text begins with; characters Excel cannot store
    are dropped."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    cell.value = ILLEGAL_CHARACTERS_RE.sub("", text)
    cell.data_type = "s"


def _data_sheet(sheet, name: str, frame) -> None:
    """A published table as ``tables/<name>.csv`` holds it: column names, numbers as numbers,
    everything else as text."""
    from openpyxl.styles import Font

    _text(sheet["A1"], f"{name}.csv")
    sheet["A1"].font = Font(bold=True)
    for j, column in enumerate(frame.columns, 1):
        _text(sheet.cell(3, j), str(column))
        sheet.cell(3, j).font = Font(bold=True)
    for i, values in enumerate(frame.itertuples(index=False), 4):
        for j, value in enumerate(values, 1):
            if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value):
                sheet.cell(i, j).value = value
            elif value is not None and value == value:
                _text(sheet.cell(i, j), str(value))
    sheet.freeze_panes = "A4"


def write_xlsx(document: Document, path: Path, stamp: dt.datetime, data: dict | None = None) -> None:
    """``tables.xlsx`` of the captioned tables of ``document`` and the ``data`` tables
    (name → published frame) that it does not show."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.hyperlink import Hyperlink
    from openpyxl.xml.functions import tostring

    language, title = document.language, document.title_page.title
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
    tables = [b for b in document.blocks() if isinstance(b, TableBlock) and b.caption]
    sheets = {b.anchor: caption_label("table", b.number, language).rstrip(".").strip()[:31] for b in tables}
    for row, block in enumerate(tables, 5):
        label = caption_label("table", block.number, language)
        name = sheets[block.anchor]
        sheet = workbook.create_sheet(name)
        _text(contents.cell(row, 1), label)
        contents.cell(row, 1).hyperlink = Hyperlink(f"A{row}", location=f"'{name}'!A1")
        _text(contents.cell(row, 2), block.caption)
        _text(sheet["A1"], f"{label} {block.caption}")
        sheet["A1"].font = bold
        if block.name in (data or {}):  # the same table, language-free, in tables/
            _text(sheet["A2"], f"tables/{block.name}.csv")
        widths = [len(h) for h in block.columns]
        for j, header in enumerate(block.columns, 1):
            _text(sheet.cell(3, j), header)
            sheet.cell(3, j).font = bold
            sheet.cell(3, j).alignment = Alignment(wrap_text=True, vertical="top")
        for i, cells in enumerate(block.rows, 4):
            for j, value in enumerate(cells, 1):
                cell = sheet.cell(i, j)
                if value.value is None:
                    _text(cell, value.text)
                else:
                    cell.value = dt.date.fromisoformat(value.value) if isinstance(value.value, str) else value.value
                    cell.number_format = value.format
                if value.link in sheets:  # a key finding: to the sheet of its table
                    cell.hyperlink = Hyperlink(cell.coordinate, location=f"'{sheets[value.link]}'!A1")
                widths[j - 1] = max(widths[j - 1], len(value.text))
        if block.note:
            _text(sheet.cell(len(block.rows) + 5, 1), block.note)
        sheet.freeze_panes = "A4"
        for j, width in enumerate(widths, 1):
            sheet.column_dimensions[get_column_letter(j)].width = min(max(width + 2, 8), 40)
    shown = {b.name for b in tables}
    for row, (name, frame) in enumerate(sorted((n, f) for n, f in (data or {}).items() if n not in shown),
                                        5 + len(tables)):
        _data_sheet(workbook.create_sheet(name[:31]), name, frame)
        _text(contents.cell(row, 1), name[:31])
        contents.cell(row, 1).hyperlink = Hyperlink(f"A{row}", location=f"'{name[:31]}'!A1")
        _text(contents.cell(row, 2), t("appendix.data_sheet", language, table=name))
    contents.column_dimensions["A"].width = 14
    contents.column_dimensions["B"].width = 90
    properties = workbook.properties
    properties.title, properties.creator, properties.lastModifiedBy = title, "tyokyky-eval", "tyokyky-eval"
    properties.created = properties.modified = stamp
    properties.language = language
    workbook.save(str(path))
    properties.modified = stamp  # saving set it to the clock: put the stamp back into the file
    reproducible_zip(path, stamp, {"docProps/core.xml": tostring(properties.to_tree())})

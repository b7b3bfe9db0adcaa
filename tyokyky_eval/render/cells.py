"""A table's cells as the appendix shows them: the text in the appendix's language, and the number
(or ISO date) behind it, rounded as shown, with its spreadsheet format. The HTML page, the Word
document, the workbook and ``tables/*.csv`` all read these, so that they carry the same numbers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tyokyky_eval.i18n import code_label, fmt_date, fmt_number, has_text, t

#: spreadsheet formats of dates, as ``fmt_date`` shows them
DATE_FORMATS = {"fi": "d\\.m\\.yyyy", "en": "yyyy-mm-dd"}


def number_format(decimals: int) -> str:
    """Spreadsheet number format with ``decimals`` decimals and a thousands separator; Excel shows
    it with the reader's decimal comma or point."""
    return "#,##0" + ("." + "0" * decimals if decimals > 0 else "")


@dataclass(frozen=True)
class Cell:
    """One table cell: its text as shown; ``value`` the number (or ISO date) behind it, rounded as
    shown, with its spreadsheet ``format``; ``value`` is None for text (labels, symbols, '–');
    ``link``: the anchor of the table the cell is read from (key findings), or ''."""

    text: str
    value: int | float | str | None = None
    format: str = ""
    link: str = ""


def is_p_column(column: str) -> bool:
    """Columns named ``p``, ``p_*`` or ``*_p`` hold p-values."""
    return column == "p" or column.startswith("p_") or column.endswith("_p")


def shown_value(value, digits: int, p_value: bool = False):
    """A number as the appendix shows it: a float rounded to ``digits`` decimals (a p-value to 3,
    below 0.001 the text ``<0.001``); anything else as it is. What ``tables/*.csv`` and
    ``tables.xlsx`` hold, so that they carry the page's numbers (a mean at full precision times
    its n would give an exact sum)."""
    if isinstance(value, (float, np.floating)) and math.isfinite(value):
        if p_value:
            return "<0.001" if value < 0.001 else round(float(value), 3)
        return round(float(value), digits)
    return value


def rounded_as_shown(frame: pd.DataFrame, decimals: int | dict = 1) -> pd.DataFrame:
    """A published table with every number as :func:`shown_value` gives it (``decimals``: one
    number, or per column with 1 as the default). Integers, symbols and text stay."""
    out = frame.copy()
    for column in out.columns:
        digits = decimals.get(column, 1) if isinstance(decimals, dict) else decimals
        p_value = is_p_column(str(column))
        values = out[column].map(lambda v, d=digits, p=p_value: shown_value(v, d, p))
        out[column] = values.astype(float) if pd.api.types.is_float_dtype(out[column]) and not p_value else values
    return out


def p_text(value, language: str) -> str:
    """A p-value with three decimals; below 0.001 shown as '<0,001' / '<0.001'."""
    if value is not None and not pd.isna(value) and value < 0.001:
        return "<" + fmt_number(0.001, language, 3)
    return fmt_number(value, language, 3)


def header(column: str, language: str, namespace: str | None = None) -> str:
    """Column header: ``<namespace>.columns.<name>``, else ``columns.<name>``, else the name."""
    keys = ([f"{namespace}.columns.{column}"] if namespace else []) + [f"columns.{column}"]
    return next((t(key, language) for key in keys if has_text(key, language)), column)


def cell(value, digits: int, language: str) -> Cell:
    """A number as shown (integers as they are) with its value; anything else as text."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return Cell("–")
    if isinstance(value, (bool, np.bool_)):
        return Cell(str(value))
    if isinstance(value, (int, np.integer)):
        return Cell(str(value), int(value), "0")
    if isinstance(value, (float, np.floating)) and math.isfinite(value):
        return Cell(fmt_number(value, language, digits), shown_value(value, digits), number_format(digits))
    return Cell(fmt_number(value, language, digits) if isinstance(value, float) else str(value))


def p_cell(value, language: str) -> Cell:
    """A p-value as :func:`p_text` shows it: below 0.001 as text ('<0,001')."""
    if not pd.isna(value) and value < 0.001:
        return Cell(p_text(value, language))
    return cell(value, 3, language)


def typed_columns(frame: pd.DataFrame, language: str, decimals: int | dict = 1, code_columns=(),
                  namespace: str | None = None, headers: dict | None = None) -> list[tuple[str, list[Cell]]]:
    """``(header, cells)`` per column: each cell's text as shown in ``language`` and the number or
    date behind it, rounded as shown. Headers and code labels are looked up under
    ``<namespace>.columns`` / ``<namespace>.codes`` first, then the shared ``columns`` / ``codes``."""
    columns = []
    for column in frame.columns:
        values = frame[column]
        digits = decimals.get(column, 1) if isinstance(decimals, dict) else decimals
        if column in code_columns:
            cells = [Cell("" if pd.isna(v) else code_label(column, v, language, namespace)) for v in values]
        elif pd.api.types.is_datetime64_any_dtype(values):
            cells = [Cell(fmt_date(v, language)) if pd.isna(v) else
                     Cell(fmt_date(v, language), v.date().isoformat(), DATE_FORMATS[language]) for v in values]
        elif is_p_column(column):  # also where symbols made the column text
            cells = [p_cell(v, language) if isinstance(v, (float, np.floating)) else cell(v, 3, language)
                     for v in values]
        else:
            cells = [cell(v, digits, language) for v in values]
        title = (headers or {}).get(column) or header(column, language, namespace)
        if title in (h for h, _ in columns):  # two columns under one header would hide one of them
            raise ValueError(f"columns share the header {title!r}; give each its own locale text")
        columns.append((title, cells))
    return columns

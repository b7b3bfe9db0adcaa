"""Reading input files as the user saved them.

CSV with comma, semicolon or tab separators, UTF-8, UTF-8 with BOM or cp1252 (detected, not asked),
Excel ``.xlsx`` (first or named sheet) and Parquet. Everything is read as text first; the index of the
returned frame is the row number the user sees in the file (header = row 1), so every later problem
can point at the right row. Typed parsing (decimal comma, Finnish dates, yes/no) is ``parse_types``.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd

from tyokyky_eval.errors import DataError, Problem

ENCODINGS = ("utf-8", "cp1252")


def detect_encoding(raw: bytes) -> str:
    """'utf-8-sig' when a BOM is present, else the first of UTF-8, cp1252 that decodes."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    for encoding in ENCODINGS:
        try:
            raw.decode(encoding)
            return encoding
        except UnicodeDecodeError:
            continue
    return "latin-1"  # decodes any byte string; the values will show as they are


def detect_separator(text: str) -> str:
    """Separator of a delimited text: the csv sniffer over ';', ',' and tab, else the header's most common."""
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t").delimiter
    except csv.Error:
        header = text.splitlines()[0] if text else ""
        return max(";,\t", key=header.count)


def read_table(path: Path, sheet: str | None = None, label: str | None = None) -> pd.DataFrame:
    """Read a CSV, XLSX or Parquet file as text columns indexed by the user's row numbers.

    Blank lines are dropped but keep their place in the numbering. Raises ``DataError`` for an
    empty or unreadable file or a missing sheet.
    """
    label = label or path.name
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        frame = _read_excel(path, sheet, label)
    elif suffix == ".parquet":
        frame = _parquet_as_text(pd.read_parquet(path))
        frame.index = np.arange(2, len(frame) + 2)
    else:
        frame = _read_delimited(path, label)
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.columns.empty or (len(frame) == 0 and len(frame.columns) <= 1 and not frame.columns[0]):
        raise DataError([Problem(label, None, None, "the file is empty")])
    if len(frame) == 0:
        raise DataError([Problem(label, 2, None, "the file has a header but no data rows")])
    return frame


def _parquet_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Typed Parquet columns as the text a CSV export would hold (dates ISO, missing → ""),
    converted column by column with vectorised operations."""
    out = {}
    for name, values in frame.items():
        missing = values.isna().to_numpy()
        if pd.api.types.is_datetime64_any_dtype(values):
            text = values.dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
        else:
            text = values.astype(str).to_numpy(dtype=object)
        text[missing] = ""
        out[name] = text
    return pd.DataFrame(out, index=frame.index)


def _read_delimited(path: Path, label: str) -> pd.DataFrame:
    raw = path.read_bytes()
    if not raw.strip():
        raise DataError([Problem(label, None, None, "the file is empty")])
    encoding = detect_encoding(raw)
    text = raw.decode(encoding)
    sep = detect_separator(text)
    from io import StringIO

    try:
        frame = pd.read_csv(StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            skip_blank_lines=False)
    except (pd.errors.ParserError, csv.Error) as exc:
        match = re.search(r"line (\d+)", str(exc))
        row = int(match[1]) if match else None
        raise DataError([Problem(label, row, None, f"cannot read the file as a table: {exc}")]) from None
    frame.index = np.arange(2, len(frame) + 2)
    blank = (frame == "").all(axis=1)
    return frame[~blank]


def _read_excel(path: Path, sheet: str | None, label: str) -> pd.DataFrame:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for damaged files
        raise DataError([Problem(label, None, None, f"cannot open the Excel file: {exc}")]) from None
    names = book.sheetnames
    book.close()
    if sheet is not None and sheet not in names:
        raise DataError([Problem(label, None, None,
                                 f"no sheet named '{sheet}'; the workbook has: {', '.join(names)}")])
    frame = pd.read_excel(path, sheet_name=sheet if sheet is not None else 0, dtype=object, header=0)
    # pandas drops leading blank rows only with header; rows keep Excel numbering (header = row 1)
    frame.index = np.arange(2, len(frame) + 2)
    frame = frame.dropna(how="all")
    return frame.map(_excel_cell_to_text)


def _excel_cell_to_text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, pd.Timestamp) or hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_DECIMAL_COMMA = re.compile(r"^\s*[-−]?\d[\d\s\u00a0\u202f]*,\d+\s*$")
_FI_DATE = re.compile(r"^\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*$")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?\s*$")


def normalise_number_text(series: pd.Series) -> pd.Series:
    """'3,5' → '3.5', '1 234,5' → '1234.5', '−2' → '-2'; other text unchanged (validation reports it)."""
    text = series.astype(str).str.strip()
    comma = text.str.match(_DECIMAL_COMMA)
    fixed = text.where(~comma, text.str.replace(r"[\s\u00a0\u202f]", "", regex=True).str.replace(",", "."))
    return fixed.str.replace("−", "-", regex=False)


def parse_dates(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse ISO (2022-12-31) and Finnish (31.12.2022) dates.

    Returns the parsed dates (NaT where empty or invalid) and a boolean mask of non-empty values that
    are not valid dates.
    """
    text = series.astype(str).str.strip()
    empty = text.eq("")
    fi = text.str.extract(_FI_DATE)
    iso = text.str.extract(_ISO_DATE)
    year = iso[0].fillna(fi[2])
    month = iso[1].fillna(fi[1])
    day = iso[2].fillna(fi[0])
    parts = pd.DataFrame({"year": pd.to_numeric(year), "month": pd.to_numeric(month),
                          "day": pd.to_numeric(day)}, index=series.index)
    parsed = pd.to_datetime(parts, errors="coerce")
    return parsed, parsed.isna() & ~empty


def parse_booleans(series: pd.Series, true_values, false_values) -> tuple[pd.Series, pd.Series]:
    """Map yes/no text to a nullable boolean; returns the values and a mask of unrecognised text."""
    text = series.astype(str).str.strip().str.lower()
    out = pd.Series(pd.NA, index=series.index, dtype="boolean")
    out[text.isin([v.lower() for v in true_values])] = True
    out[text.isin([v.lower() for v in false_values])] = False
    return out, out.isna() & text.ne("")

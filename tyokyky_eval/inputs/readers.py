"""Reading input files as the user saved them.

CSV with comma, semicolon or tab separators, UTF-8, UTF-8 with BOM or cp1252 (detected, not asked)
and Windows, Unix or classic Mac line ends, Excel ``.xlsx`` (first or named sheet) and Parquet.
Everything is read as text first; the index of the returned frame is the row number the user sees
in the file (header = row 1), so every later problem can point at the right row. Typed parsing
(decimal comma, Finnish dates, yes/no) is ``parse_types``.
"""
from __future__ import annotations

import csv
import html
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from tyokyky_eval.errors import DataError, Problem

ENCODINGS = ("utf-8", "cp1252")
#: files whose lines end in CR alone come from classic Mac software (Excel for Mac's "CSV (Macintosh)")
MAC_ENCODINGS = ("utf-8", "mac_roman")
#: inputs larger than this are refused before reading (a 1 000 000-client CSV is about 100 MB)
MAX_INPUT_BYTES = 4 << 30
#: how much of a long value a message shows
SHOWN_CHARS = 60

_MAGIC = {
    b"PK\x03\x04": "xlsx",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": "ole2",  # .xls, or an encrypted (password) .xlsx
    b"PAR1": "parquet",
}
_SUFFIX_KIND = {".xlsx": "xlsx", ".xlsm": "xlsx", ".parquet": "parquet", ".pq": "parquet"}
_UNSUPPORTED = {
    ".xls": "an Excel 97–2003 (.xls) workbook; open it in Excel and save it as .xlsx",
    ".xlsb": "an Excel binary (.xlsb) workbook; open it in Excel and save it as .xlsx",
    ".ods": "an OpenDocument spreadsheet; save it as .xlsx or CSV",
    ".json": "a JSON file; export the table as CSV or .xlsx",
    ".sav": "an SPSS file; export the table as CSV or .xlsx",
    ".zip": "a zip archive; unpack it and name the CSV or .xlsx file inside",
}


def shorten(text: str, limit: int = SHOWN_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was (a message never echoes 5 MB)."""
    text = str(text)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def detect_encoding(raw: bytes) -> str:
    """'utf-8-sig' when a BOM is present, 'utf-16' with a UTF-16 BOM, else the first of UTF-8,
    cp1252 that decodes (UTF-8, Mac Roman when CR alone ends the lines)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    for encoding in MAC_ENCODINGS if b"\r" in raw and b"\n" not in raw else ENCODINGS:
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


def _kind(path: Path, label: str) -> tuple[str, str | None]:
    """What the file is by its first bytes (not its name): xlsx, parquet or text, and a note when
    the name says otherwise. Formats that cannot be read raise ``DataError`` saying what to do."""
    with path.open("rb") as handle:
        head = handle.read(8)
    by_content = next((kind for magic, kind in _MAGIC.items() if head.startswith(magic)), "text")
    suffix = path.suffix.lower()
    by_name = _SUFFIX_KIND.get(suffix, "text")
    if by_content == "ole2":
        with path.open("rb") as handle:
            raw = handle.read(1 << 20)
        if "EncryptedPackage".encode("utf-16-le") in raw:
            raise DataError([Problem(label, None, None, "the workbook is password-protected; save a copy without "
                                                        "a password (File → Info → Protect Workbook) and read that")])
        raise DataError([Problem(label, None, None, f"the file is {_UNSUPPORTED['.xls']}")])
    if by_content == "text" and suffix in _UNSUPPORTED:
        raise DataError([Problem(label, None, None, f"the file is {_UNSUPPORTED[suffix]}")])
    if by_content == "text" and head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        raise DataError([Problem(label, None, None, f"the file is {_UNSUPPORTED['.json']}")])
    if by_content == by_name:
        return by_content, None
    shown = {"xlsx": "an Excel workbook", "parquet": "a Parquet file", "text": "a text (CSV) file"}
    if by_content == "xlsx":
        import zipfile

        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError):
            names = []
        if "xl/workbook.xml" not in names:
            raise DataError([Problem(label, None, None, f"the file is {_UNSUPPORTED['.zip']}")])
    return by_content, (f"the file is named '{path.name}' but is {shown[by_content]}; it was read as "
                        f"{shown[by_content]}")


def read_table(path: Path, sheet: str | None = None, label: str | None = None) -> pd.DataFrame:
    """Read a CSV, XLSX or Parquet file as text columns indexed by the user's row numbers.

    The file's kind is recognised from its content (an .xlsx saved as .csv is still read as Excel,
    with a warning). Blank lines are dropped but keep their place in the numbering. Raises
    ``DataError`` for an empty or unreadable file, a missing sheet, duplicate column headers and
    formats that cannot be read (.xls, password-protected workbooks, JSON …), each with what to do.
    ``frame.attrs``: ``headers`` (as written), ``read_as`` (sheet, or encoding and separator) and
    ``notes`` (warnings as ``Problem``).
    """
    label = label or path.name
    try:
        size = path.stat().st_size
        if size > MAX_INPUT_BYTES:
            raise DataError([Problem(label, None, None, f"the file is {size / (1 << 30):.1f} GiB; at most "
                                                        f"{MAX_INPUT_BYTES / (1 << 30):.0f} GiB can be read "
                                                        "(is this the right file?)")])
        kind, note = _kind(path, label)
        if kind == "xlsx":
            frame = _read_excel(path, sheet, label)
        elif kind == "parquet":
            frame = _read_parquet(path, label)
        else:
            frame = _read_delimited(path, label)
    except MemoryError:
        raise DataError([Problem(label, None, None, "the file is too large to read into memory "
                                                    "(is this the right file?)")]) from None
    except (OSError, RuntimeError) as exc:
        raise DataError([Problem(label, None, None,
                                 f"cannot read the file: {getattr(exc, 'strerror', None) or exc}")]) from None
    notes = list(frame.attrs.get("notes", []))
    if note:
        notes.append(Problem(label, None, None, note, None, "warning", "format_note"))
    headers = [unicodedata.normalize("NFC", str(c)).strip() for c in frame.columns]
    read_as = frame.attrs.get("read_as", "")
    frame.columns = headers
    frame.attrs.update(headers=headers, read_as=read_as, notes=notes)
    if frame.columns.empty or (len(frame) == 0 and len(frame.columns) <= 1 and not frame.columns[0]):
        raise DataError([Problem(label, None, None, "the file is empty")])
    check_headers(headers, label)
    if len(frame) == 0:
        raise DataError([Problem(label, 2, None, f"the file has a header but no data rows ({read_as})")])
    return frame


def check_headers(headers: list[str], label: str) -> None:
    """Duplicate headers are an error (pandas would silently rename the second to 'name.1')."""
    problems, first = [], {}
    for number, name in enumerate(headers, 1):
        if name in first and name:
            problems.append(Problem(label, 1, name, f"the column header appears twice (columns {first[name]} and "
                                                    f"{number}); rename or delete one of them"))
        first.setdefault(name, number)
    if problems:
        raise DataError(problems)


def _read_parquet(path: Path, label: str) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError([Problem(label, None, None, f"cannot read the Parquet file (damaged or incomplete?): "
                                                    f"{shorten(str(exc), 200)}")]) from None
    nested = [f.name for f in table.schema if pa.types.is_nested(f.type)]
    if nested:
        raise DataError([Problem(label, 1, name, "the column holds nested values (lists or records), not one "
                                                 "value per cell; flatten it before export") for name in nested])
    names = [str(n) for n in table.column_names]
    check_headers(names, label)
    frame = _parquet_as_text(table.to_pandas())
    frame.index = np.arange(2, len(frame) + 2)
    frame.attrs["read_as"] = "read as Parquet"
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


_ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "cp1252": "cp1252 (Windows Latin-1)",
                   "mac_roman": "Mac Roman", "utf-16": "UTF-16", "latin-1": "Latin-1"}
_SEPARATOR_NAMES = {";": "';'", ",": "','", "\t": "tab"}


def _read_delimited(path: Path, label: str) -> pd.DataFrame:
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    if head.count(0) > len(head) // 4 and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError([Problem(label, None, None, "the file is binary data, not text (mostly NUL bytes); "
                                                    "is this the right file?")])
    raw = path.read_bytes()
    if not raw.strip():
        raise DataError([Problem(label, None, None, "the file is empty")])
    if raw.count(0) > len(raw) // 4 and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError([Problem(label, None, None, "the file is binary data, not text (mostly NUL bytes); "
                                                    "is this the right file?")])
    encoding = detect_encoding(raw)
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        raise DataError([Problem(label, None, None, "the file starts with a UTF-16 mark but cannot be decoded as "
                                                    "UTF-16; save it again as CSV UTF-8")]) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\n" not in text:  # classic Mac OS line ends (Excel's "CSV (Macintosh)"): CR alone
        text = text.replace("\r", "\n")
    if "\x00" in text:
        line = text[:text.index("\x00")].count("\n") + 1
        raise DataError([Problem(label, line, None, "the file contains NUL bytes (invisible binary zeros) on this "
                                                    "line; save it again from Excel as CSV UTF-8")])
    sep = detect_separator(text)
    read_as = f"read as {_ENCODING_NAMES.get(encoding, encoding)}, separator {_SEPARATOR_NAMES.get(sep, repr(sep))}"
    from io import StringIO

    try:
        frame = pd.read_csv(StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            skip_blank_lines=False)
    except (pd.errors.ParserError, csv.Error) as exc:
        match = re.search(r"line (\d+)", str(exc))
        row = int(match[1]) if match else None
        detail = re.sub(r"^Error tokenizing data\. C error: ", "", str(exc)).strip()
        raise DataError([Problem(label, row, None, f"cannot read the file as a table ({read_as}): "
                                                   f"{shorten(detail, 200)}")]) from None
    header = next(csv.reader(StringIO(text.split("\n", 1)[0].rstrip("\r")), delimiter=sep), [])
    if len(header) == frame.shape[1]:
        frame.columns = header  # as written: pandas renames a repeated header to 'name.1'
    frame.index = np.arange(2, len(frame) + 2)
    blank = (frame == "").all(axis=1)
    frame = frame[~blank]
    _check_separators(frame, sep, label, read_as)
    frame.attrs["read_as"] = read_as
    return frame


def _check_separators(frame: pd.DataFrame, sep: str, label: str, read_as: str) -> None:
    """Rows written with another separator than the header land whole in the first column."""
    if frame.shape[1] < 2:
        return
    rest_empty = (frame.iloc[:, 1:] == "").all(axis=1)
    first = frame.iloc[:, 0].astype(str)
    problems = []
    for other in (s for s in ";,\t" if s != sep):
        odd = rest_empty & (first.str.count(re.escape(other)) >= min(2, frame.shape[1] - 1))
        problems += [Problem(label, int(row), None, f"this row is separated by {_SEPARATOR_NAMES[other]}, the header "
                                                    f"by {_SEPARATOR_NAMES[sep]} ({read_as}); use one separator "
                                                    "in the whole file") for row in frame.index[odd]]
    if problems:
        raise DataError(problems)


def _read_excel(path: Path, sheet: str | None, label: str) -> pd.DataFrame:
    import openpyxl

    try:
        with path.open("rb") as handle:  # a handle: openpyxl refuses names not ending in .xlsx
            book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
            names = book.sheetnames
            name = sheet if sheet in names else names[0]
            header = next(book[name].iter_rows(min_row=1, max_row=1, values_only=True), ())
            book.close()
    except Exception as exc:  # noqa: BLE001 — openpyxl raises several types for damaged files
        raise DataError([Problem(label, None, None, f"cannot open the Excel file (damaged, or not saved by "
                                                    f"Excel?): {shorten(str(exc), 200)}")]) from None
    if sheet is not None and sheet not in names:
        raise DataError([Problem(label, None, None,
                                 f"no sheet named '{sheet}'{_suggest(sheet, names)}; the workbook has: "
                                 f"{', '.join(names)}")])
    try:
        with path.open("rb") as handle:
            frame = pd.read_excel(handle, sheet_name=name, dtype=object, header=0, engine="openpyxl")
    except Exception as exc:  # noqa: BLE001
        raise DataError([Problem(label, None, None, f"cannot read sheet '{name}': {shorten(str(exc), 200)}")]) from None
    # pandas drops leading blank rows only with header; rows keep Excel numbering (header = row 1)
    frame.index = np.arange(2, len(frame) + 2)
    headers = [str(c) for c in frame.columns]
    written = ["" if h is None else str(h) for h in header]
    if len(written) == len(headers) and all(w.strip() for w in written):
        frame.columns = written  # as written: pandas renames a repeated header to 'name.1'
    xml = _sheet_xml(path, name)
    for (row, column), value in _error_cells(xml).items():  # pandas reads them as empty cells
        if 2 <= row < len(frame) + 2 and column < frame.shape[1]:
            frame.iat[row - 2, column] = value  # validation reports the text, as it does in a CSV
    frame = frame.dropna(how="all")
    frame = frame.map(_excel_cell_to_text)
    problems = _sheet_problems(xml, name, headers, label)
    if problems:
        raise DataError(problems)
    frame.attrs["read_as"] = f"sheet '{name}'"
    return frame


def _column_index(letters: str) -> int:
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number - 1


def _sheet_xml(path: Path, sheet: str) -> bytes | None:
    """The worksheet XML of ``sheet`` in an .xlsx (None when it cannot be found)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            workbook = archive.read("xl/workbook.xml").decode("utf-8")
            rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8")
            for tag in re.findall(r"<(?:\w+:)?sheet\b[^>]*>", workbook):
                name = re.search(r'\bname="([^"]*)"', tag)
                rid = re.search(r'\br:id="([^"]*)"', tag)
                if name and rid and html.unescape(name[1]) == sheet:
                    for rel in re.findall(r"<Relationship\b[^>]*>", rels):
                        if f'Id="{rid[1]}"' in rel:
                            target = re.search(r'Target="([^"]*)"', rel)[1]
                            target = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                            return archive.read(target)
    except (KeyError, OSError, zipfile.BadZipFile, TypeError, UnicodeDecodeError):
        return None
    return None


#: a cell of the worksheet XML: column letters, row, attributes, content
_CELL = re.compile(rb'<(?:\w+:)?c r="([A-Z]+)(\d+)"([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)', re.DOTALL)
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]+)</(?:\w+:)?v>")


def _error_cells(xml: bytes | None) -> dict[tuple[int, int], str]:
    """The cells that show a formula error (#DIV/0!, #N/A …) as ``{(row, column index): text}``."""
    errors = {}
    for cell in _CELL.finditer(xml or b""):
        value = _VALUE.search(cell[4] or b"")
        if value and re.search(rb'\bt="e"', cell[3]):
            errors[int(cell[2]), _column_index(cell[1].decode())] = html.unescape(value[1].decode())
    return errors


def _sheet_problems(xml: bytes | None, sheet: str, headers: list[str], label: str) -> list[Problem]:
    """What ``data_only`` reading loses without a word in the worksheet ``xml``: merged cells (only
    the first keeps the value) and formulas whose result was never saved (files written by scripts,
    not by Excel)."""
    if xml is None:
        return []

    def column_name(letters: str) -> str:
        index = _column_index(letters)
        return headers[index] if 0 <= index < len(headers) else letters

    problems = []
    for first_col, first_row, last_col, last_row in re.findall(
            rb'<(?:\w+:)?mergeCell ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"', xml):
        if int(first_row) == 1 and int(last_row) == 1:
            continue  # a merged title cell in the header row loses no data
        cells = f"{first_col.decode()}{first_row.decode()}:{last_col.decode()}{last_row.decode()}"
        problems.append(Problem(label, int(first_row), column_name(first_col.decode()),
                                f"merged cells {cells} (sheet '{sheet}'): only the first cell holds the value, the "
                                "others would be read as empty; unmerge them and fill in every cell"))
    formulas: dict[str, list[int]] = {}
    for cell in _CELL.finditer(xml):
        body = cell[4] or b""
        if b"<f" in body and not _VALUE.search(body):
            formulas.setdefault(cell[1].decode(), []).append(int(cell[2]))
    for letters, rows in formulas.items():
        more = f" (and {len(rows) - 1} more rows below)" if len(rows) > 1 else ""
        problems.append(Problem(label, rows[0], column_name(letters),
                                f"a formula without a saved result{more} (sheet '{sheet}'): the workbook was "
                                "written by a program, not saved by Excel, so the values are missing; open it in "
                                "Excel and save it (or paste the values)"))
    return problems


def _suggest(word: str, choices) -> str:
    import difflib

    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


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


#: yes/no text of boolean columns (true values, false values), compared in lower case
BOOLEAN_TEXT = (["kyllä", "k", "yes", "y", "true", "1", "x"], ["ei", "e", "no", "n", "false", "0"])


def parse_booleans(series: pd.Series, true_values, false_values) -> tuple[pd.Series, pd.Series]:
    """Map yes/no text to a nullable boolean; returns the values and a mask of unrecognised text."""
    text = series.astype(str).str.strip().str.lower()
    out = pd.Series(pd.NA, index=series.index, dtype="boolean")
    out[text.isin([v.lower() for v in true_values])] = True
    out[text.isin([v.lower() for v in false_values])] = False
    return out, out.isna() & text.ne("")

"""Statistical disclosure control for published tables and text.

Primary suppression: a count ``0 < n < min_cell`` is shown as ``"<min_cell"`` and the shares and
statistics computed from it are blanked. Secondary suppression: when a row or column whose total is
published has exactly one suppressed count, the total minus the other counts would reveal it, so
the next smallest count of that line is suppressed too (repeated until no line has a single
suppressed count; the approach of Statistics Finland's FIONA output checking). Follow-up summaries
are withheld below ``min_followup`` respondents (Kykyviisari's rule). Internal tables
(``tables-internal/``) are never suppressed.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from tyokyky_eval.i18n import t

MARGINS = (None, "columns", "rows", "both")


def small(counts: pd.Series, min_cell: int) -> pd.Series:
    """True where a count must be suppressed: 0 < n < min_cell (zeros reveal nothing)."""
    numeric = pd.to_numeric(counts, errors="coerce")
    return numeric.gt(0) & numeric.lt(min_cell)


def _lines(shape, margins: str, total_row: int | None, total_column: int | None):
    """Index lists (row positions, column positions) of every line whose total is known; the
    total cell itself is last in the line when it is part of the table."""
    n_rows, n_cols = shape
    body_rows = [i for i in range(n_rows) if i != total_row]
    body_cols = [j for j in range(n_cols) if j != total_column]
    lines = []
    if margins in ("columns", "both"):
        for j in range(n_cols):
            lines.append(([(i, j) for i in body_rows], (total_row, j) if total_row is not None else None))
    if margins in ("rows", "both"):
        for i in range(n_rows):
            lines.append(([(i, j) for j in body_cols], (i, total_column) if total_column is not None else None))
    return lines


def suppression_mask(counts: pd.DataFrame, min_cell: int, margins: str | None = None,
                     total_row=None, total_column: str | None = None) -> pd.DataFrame:
    """Which cells of a table of counts to suppress (True), primary and secondary.

    ``margins`` says which totals are published: ``"columns"`` (each column's sum, e.g. N clients),
    ``"rows"``, ``"both"`` or None (primary suppression only). ``total_row`` (an index label) and
    ``total_column`` name the cells that hold those totals when they are part of the table; they are
    not counted as cells of their line. In a line with exactly one suppressed cell the smallest
    other non-zero cell is suppressed as well (a zero only when nothing else is left, and the total
    itself when the line has no other cell); this repeats until every line is safe.
    """
    if margins not in MARGINS:
        raise ValueError(f"margins must be one of {MARGINS}, got {margins!r}")
    values = counts.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    mask = (values > 0) & (values < min_cell)
    if margins is None:
        return pd.DataFrame(mask, index=counts.index, columns=counts.columns)
    row = None if total_row is None else counts.index.get_loc(total_row)
    col = None if total_column is None else counts.columns.get_loc(total_column)
    lines = _lines(values.shape, margins, row, col)
    changed = True
    while changed:
        changed = False
        for cells, total in lines:
            hidden = [c for c in cells if mask[c]]
            if len(hidden) != 1:
                continue
            open_cells = [c for c in cells if not mask[c] and not np.isnan(values[c])]
            positive = [c for c in open_cells if values[c] > 0]
            candidates = positive or open_cells
            if candidates:
                mask[min(candidates, key=lambda c: values[c])] = True
            elif total is not None and not mask[total]:
                mask[total] = True
            else:
                continue
            changed = True
    return pd.DataFrame(mask, index=counts.index, columns=counts.columns)


def suppress_counts(frame: pd.DataFrame, count_columns, min_cell: int,
                    dependent: dict[str, list[str]] | None = None, *, margins: str | None = None,
                    total_row=None, total_column: str | None = None) -> pd.DataFrame:
    """Replace small counts by ``"<min_cell"`` and blank the columns that depend on them.

    ``dependent`` maps a count column to the columns computed from it (shares, means …), which are
    set to missing wherever that count is suppressed. ``margins``, ``total_row`` and
    ``total_column`` switch on secondary suppression (see ``suppression_mask``); by default only
    primary suppression is applied.
    """
    count_columns = list(count_columns)
    out = frame.copy()
    dependent = dependent or {}
    mask = suppression_mask(frame[count_columns], min_cell, margins, total_row, total_column)
    for column in count_columns:
        out[column] = out[column].astype(object).where(~mask[column], f"<{min_cell}")
        for dep in dependent.get(column, []):
            out[dep] = out[dep].astype(object).where(~mask[column], None)
    return out


def withhold_rows(frame: pd.DataFrame, n_column: str, min_n: int, columns) -> pd.DataFrame:
    """Blank ``columns`` on rows whose ``n_column`` is below ``min_n`` (e.g. follow-up summaries)."""
    out = frame.copy()
    mask = pd.to_numeric(frame[n_column], errors="coerce").lt(min_n)
    for column in columns:
        out[column] = out[column].astype(object).where(~mask, None)
    return out


def count_text(n, min_cell: int) -> str:
    """A count for published prose: ``"<5"`` for 0 < n < min_cell, else the number."""
    return f"<{min_cell}" if 0 < n < min_cell else str(int(n))


def rule_sentence(min_cell: int, min_followup: int, language: str = "fi") -> str:
    """The disclosure rule of the appendix stated in words (for the overview section)."""
    return t("appendix.disclosure_rule", language, min_cell=min_cell, below=min_cell - 1,
             min_followup=min_followup)

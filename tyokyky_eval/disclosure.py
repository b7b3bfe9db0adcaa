"""Statistical disclosure control for published tables and text.

Primary suppression: a count ``0 < n < min_cell`` is shown as ``"<min_cell"`` and the shares and
statistics computed from it are blanked. Follow-up summaries are withheld below ``min_followup``
respondents (Kykyviisari's rule). Internal tables (``tables-internal/``) are never suppressed.
"""
from __future__ import annotations

import pandas as pd


def small(counts: pd.Series, min_cell: int) -> pd.Series:
    """True where a count must be suppressed: 0 < n < min_cell (zeros reveal nothing)."""
    numeric = pd.to_numeric(counts, errors="coerce")
    return numeric.gt(0) & numeric.lt(min_cell)


def suppress_counts(frame: pd.DataFrame, count_columns, min_cell: int,
                    dependent: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Replace small counts by ``"<min_cell"`` and blank the columns that depend on them.

    ``dependent`` maps a count column to the columns computed from it (shares, means …), which are
    set to missing wherever that count is suppressed.
    """
    out = frame.copy()
    dependent = dependent or {}
    for column in count_columns:
        mask = small(frame[column], min_cell)
        out[column] = out[column].astype(object).where(~mask, f"<{min_cell}")
        for dep in dependent.get(column, []):
            out[dep] = out[dep].astype(object).where(~mask, None)
    return out


def withhold_rows(frame: pd.DataFrame, n_column: str, min_n: int, columns) -> pd.DataFrame:
    """Blank ``columns`` on rows whose ``n_column`` is below ``min_n`` (e.g. follow-up summaries)."""
    out = frame.copy()
    mask = pd.to_numeric(frame[n_column], errors="coerce").lt(min_n)
    for column in columns:
        out[column] = out[column].astype(object).where(~mask, None)
    return out

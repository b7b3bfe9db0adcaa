"""Overview statistics: what the data hold and what the checks remarked, as aggregates only (counts
by table or by kind of remark, never rows or ids). Publishing (texts, suppression, the flow of
clients shared with the service-paths section) is :mod:`tyokyky_eval.sections.overview`.
"""
from __future__ import annotations

import pandas as pd

from tyokyky_eval.errors import Problem

_DATE_COLUMN = {"clients": "start_date", "kykyviisari": "measured_on", "fidelity": "review_date",
                "activities": "date", "employment": "job_start"}
_UNIT_COLUMN = {"clients": "client_id", "kykyviisari": "client_id", "fidelity": "site_id",
                "feedback": "survey_id", "activities": "kind", "employment": "client_id"}
#: tables whose units are clients (their counts are counts of people)
CLIENT_TABLES = ("clients", "kykyviisari", "employment")


def data_summary(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per input table: ``table, n_rows, n_units, first_date, last_date`` (units = clients,
    sites or surveys; dates from the table's main date column)."""
    rows = []
    for name in sorted(tables):
        frame = tables[name]
        dates = frame[_DATE_COLUMN[name]] if name in _DATE_COLUMN else pd.Series(dtype="datetime64[ns]")
        rows.append({"table": name, "n_rows": len(frame), "n_units": frame[_UNIT_COLUMN[name]].nunique(),
                     "first_date": dates.min(), "last_date": dates.max()})
    return pd.DataFrame(rows, columns=["table", "n_rows", "n_units", "first_date", "last_date"])


def quality_summary(warnings: list[Problem]) -> pd.DataFrame:
    """Validation warnings counted by ``file, column, kind`` (the message's locale key), column
    ``n``; no rows, values or ids."""
    frame = pd.DataFrame([(w.file, w.column or "", w.key or w.message) for w in warnings],
                         columns=["file", "column", "kind"])
    counts = frame.value_counts().rename("n").reset_index()
    return counts.sort_values(["file", "column", "kind"], kind="stable").reset_index(drop=True)

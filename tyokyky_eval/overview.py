"""Overview of a project's data: how many rows, clients and what period each table covers."""
from __future__ import annotations

import pandas as pd

_DATE_COLUMN = {"clients": "start_date", "kykyviisari": "measured_on", "fidelity": "review_date"}
_UNIT_COLUMN = {"clients": "client_id", "kykyviisari": "client_id", "fidelity": "site_id",
                "feedback": "survey_id"}


def data_summary(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per input table: ``table, n_rows, n_units, first_date, last_date`` (units = clients,
    sites or surveys; dates from the table's main date column)."""
    rows = []
    for name in sorted(tables):
        frame = tables[name]
        dates = frame[_DATE_COLUMN[name]] if name in _DATE_COLUMN else pd.Series(dtype="datetime64[ns]")
        rows.append({"table": name, "n_rows": len(frame), "n_units": frame[_UNIT_COLUMN[name]].nunique(),
                     "first_date": dates.min(), "last_date": dates.max()})
    return pd.DataFrame(rows)

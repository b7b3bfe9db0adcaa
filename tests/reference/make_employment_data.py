"""Write ``data/employment_jobs.csv`` for ``R/employment.R`` (run from the repository root):
hand-made job histories with the edge cases of tenure, and the IPS job starts of the Essote
synthetic project (``parameters/essote-tyokykya-ja-kumppanuutta.yaml``, its ``synthetic`` key)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from tyokyky_eval import demo
from tyokyky_eval.stats import employment as em

DATA = Path(__file__).resolve().parent / "data"
CUTOFF = "2022-12-31"
# (start, end, hours): a job ending on day 89 (lasted 90 days: not still employed at 90) and one on
# day 90; two tied durations; ongoing jobs; an end after the cut-off (censored at it); a one-day
# job; jobs started too late to be followed 90 or 180 days; no hours.
HAND = [("2022-01-01", "2022-03-31", 20), ("2022-01-01", "2022-04-01", 20), ("2022-02-01", "2022-03-02", 8),
        ("2022-02-10", "2022-03-11", 37.5), ("2021-06-01", None, 30), ("2022-03-15", None, 4),
        ("2022-05-01", "2023-02-28", 12), ("2022-06-01", "2022-06-01", 25), ("2022-08-01", None, 16),
        ("2022-11-01", None, None), ("2021-10-01", "2022-02-15", 10), ("2022-04-20", "2022-09-30", 18)]


def essote_starts() -> pd.DataFrame:
    import yaml

    params = Path(__file__).resolve().parents[2] / "parameters" / "essote-tyokykya-ja-kumppanuutta.yaml"
    raw = yaml.safe_load(params.read_text(encoding="utf-8"))
    spec = demo.spec_from_synthetic({"tables": ("clients", "employment"), "cutoff_date": raw["cutoff_date"],
                                     **raw["synthetic"]})
    tables = demo.generate(spec)
    starts = em.job_starts(tables["employment"], tables["clients"])
    return starts[starts["service"].eq("ips")]


def jobs() -> pd.DataFrame:
    hand = pd.DataFrame(HAND, columns=["job_start", "job_end", "hours_per_week"]).assign(dataset="hand")
    ips = essote_starts()[["job_start", "job_end", "hours_per_week"]].assign(dataset="essote_ips")
    for frame in (hand, ips):
        for column in ("job_start", "job_end"):
            frame[column] = pd.to_datetime(frame[column]).dt.strftime("%Y-%m-%d")
    out = pd.concat([hand, ips], ignore_index=True).assign(cutoff=CUTOFF)
    return out[["dataset", "job_start", "job_end", "hours_per_week", "cutoff"]]


if __name__ == "__main__":
    jobs().to_csv(DATA / "employment_jobs.csv", index=False)

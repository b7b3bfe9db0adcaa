"""Employment histories: one row per job (the optional ``employment`` table), pure functions.

A **job start** (IPS Grow's rule) is a competitive job (``competitive`` true: paid work on the open
labour market, wage-subsidised jobs included) of at least ``min_hours`` paid hours a week (default
4; a job without hours counts), starting on or after the client's service start. Jobs before the
service and non-competitive jobs (work trials, sheltered work) are history, not outcomes.

- :func:`first_jobs` gives each client's first job start; :func:`derive_clients` fills
  ``clients.first_employment_date`` and ``clients.wage_subsidy`` from it where the clients table
  leaves them empty, and lists the clients whose own values disagree (a validation error: the two
  sources must tell one story; fix one of them).
- **Tenure** (IPS outcome studies report job tenure): of the job starts with ``d`` days of follow-up
  before the cut-off (start + d ≤ cut-off), the share still employed ``d`` days after the start
  (``job_end`` empty or ≥ start + d), with a Wilson CI; and the Kaplan–Meier estimate of staying in
  the job beyond ``d`` days, which also uses the jobs followed for less than ``d`` days. Job
  duration is counted inclusively, ``job_end − job_start + 1`` days (a job that ends on the day
  start + d − 1 lasted d days), ongoing jobs (and jobs ending after the cut-off) are censored at
  ``cut-off − job_start + 1``; so the two estimates agree when no job is censored before ``d``.
- Hours a week: median and quartiles (R's default quantile, type 7); wage subsidy: share of the
  employed clients whose first job was subsidised (Wilson CI, statsmodels); employer sector mix.

Tables are per service (``service`` first): outcomes of different services are never pooled.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from tyokyky_eval.stats import survival as sv

SECTORS = ("private", "public", "third_sector", "other")
CLIENT_COLUMNS = ["service", "n_clients", "n_employed", "n_not_employed", "n_multiple_jobs", "n_wage_subsidy",
                  "n_no_wage_subsidy", "n_wage_subsidy_unknown", "wage_subsidy_share", "ci_low", "ci_high"]
JOB_COLUMNS = (["service", "n_jobs", "n_additional_jobs", "n_with_hours", "hours_median", "hours_q1", "hours_q3"]
               + [f"n_{s}" for s in SECTORS] + ["n_sector_unknown"])
TENURE_COLUMNS = ["service", "days", "n_followed", "n_still_employed", "n_ended", "n_ended_between", "share",
                  "ci_low", "ci_high", "n_ended_interval", "retention", "retention_ci_low", "retention_ci_high"]


@dataclass(frozen=True)
class Options:
    """Options of ``analyses.employment``."""

    min_hours: float = 4  # IPS Grow: a job start needs at least 4 paid hours (here hours a week)
    tenure_days: tuple = (90, 180)  # still employed this many days after the job start

    def __post_init__(self):
        if isinstance(self.min_hours, bool) or not isinstance(self.min_hours, (int, float)) or self.min_hours < 0:
            raise ValueError(f"min_hours must be a number of hours ≥ 0, got {self.min_hours!r}")
        days = self.tenure_days
        if isinstance(days, str) or not hasattr(days, "__iter__") or not days or any(
                isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in days) \
                or list(days) != sorted(set(days)):
            raise ValueError(f"tenure_days must be increasing whole numbers of days, e.g. [90, 180], got {days!r}")
        object.__setattr__(self, "tenure_days", tuple(days))


def no_jobs() -> pd.DataFrame:
    """An employment table without rows (typed as validation types it)."""
    return pd.DataFrame({"client_id": pd.Series(dtype=object), "job_start": pd.Series(dtype="datetime64[ns]"),
                         "job_end": pd.Series(dtype="datetime64[ns]"), "hours_per_week": pd.Series(dtype=float),
                         "wage_subsidy": pd.Series(dtype="boolean"), "employer_sector": pd.Series(dtype=object),
                         "competitive": pd.Series(dtype="boolean")})


def job_starts(jobs: pd.DataFrame, clients: pd.DataFrame, options: Options = Options()) -> pd.DataFrame:
    """The jobs that count as job starts (see the module docstring), with the client's ``service``,
    sorted by client, start, then more hours first."""
    start = jobs["client_id"].map(clients.drop_duplicates("client_id").set_index("client_id")["start_date"])
    hours = jobs["hours_per_week"]
    counts = (jobs["competitive"].fillna(False).astype(bool) & (hours.isna() | (hours >= options.min_hours))
              & jobs["job_start"].ge(start).fillna(False))
    out = jobs[counts.to_numpy()].merge(clients[["client_id", "service"]], on="client_id", how="left")
    return out.sort_values(["client_id", "job_start", "hours_per_week"], ascending=[True, True, False],
                           na_position="last", kind="stable").reset_index(drop=True)


def first_jobs(starts: pd.DataFrame) -> pd.DataFrame:
    """Each client's first job start (of :func:`job_starts`; on a tie, the job with more hours):
    ``client_id, first_employment_date, wage_subsidy, n_jobs``."""
    first = starts.drop_duplicates("client_id", keep="first")
    n = starts.groupby("client_id").size()
    return pd.DataFrame({"client_id": first["client_id"].to_numpy(),
                         "first_employment_date": first["job_start"].to_numpy(),
                         "wage_subsidy": first["wage_subsidy"].astype("boolean").to_numpy(),
                         "n_jobs": first["client_id"].map(n).to_numpy()})


def derive_clients(clients: pd.DataFrame, jobs: pd.DataFrame, options: Options = Options()):
    """``(clients, conflicts)``: ``clients`` with ``first_employment_date`` and ``wage_subsidy``
    filled from the first job starts where they are empty, and the conflicts (index = the clients
    row; ``column, given, derived``) where a value given disagrees (a date with no job start in the
    employment table counts as a disagreement)."""
    first = first_jobs(job_starts(jobs, clients, options)).set_index("client_id")
    derived = {c: clients["client_id"].map(first[c]) for c in ("first_employment_date", "wage_subsidy")}
    out = clients.copy()
    conflicts = []
    for column, values in derived.items():
        given = clients[column]
        values = values.astype(given.dtype)
        if column == "first_employment_date":
            differs = given.notna() & (values.isna() | given.ne(values).fillna(True))
        else:
            differs = given.notna() & values.notna() & given.ne(values).fillna(False)
        conflicts.append(pd.DataFrame({"column": column, "given": given[differs].astype(object),
                                       "derived": values[differs].astype(object)}))
        out[column] = given.where(given.notna(), values)
    return out, pd.concat(conflicts).sort_index(kind="stable")


def _wilson(k: int, n: int) -> tuple[float, float, float]:
    if n == 0:
        return np.nan, np.nan, np.nan
    low, high = proportion_confint(k, n, method="wilson")
    return k / n, float(low), float(high)


def client_table(clients: pd.DataFrame, starts: pd.DataFrame, services) -> pd.DataFrame:
    """Per service: clients, clients with a job start (``n_employed``) and without, clients with
    more than one job start, and the wage subsidy of the first job (share of those known, Wilson)."""
    first = first_jobs(starts)
    rows = []
    for service in services:
        members = clients["client_id"][clients["service"].eq(service)]
        mine = first[first["client_id"].isin(members)]
        subsidy = mine["wage_subsidy"]
        yes, no = int(subsidy.eq(True).sum()), int(subsidy.eq(False).sum())
        rows.append([service, len(members), len(mine), len(members) - len(mine), int(mine["n_jobs"].gt(1).sum()),
                     yes, no, int(subsidy.isna().sum()), *_wilson(yes, yes + no)])
    return pd.DataFrame(rows, columns=CLIENT_COLUMNS)


def job_table(starts: pd.DataFrame, services) -> pd.DataFrame:
    """Per service: job starts, those beyond each client's first (``n_additional_jobs``), hours a
    week (median and quartiles, R type 7, of the jobs with hours) and employers by sector."""
    rows = []
    for service in services:
        mine = starts[starts["service"].eq(service)]
        hours = mine["hours_per_week"].dropna().to_numpy(float)
        quartiles = np.quantile(hours, [0.5, 0.25, 0.75]) if hours.size else [np.nan] * 3
        sectors = [int(mine["employer_sector"].eq(s).sum()) for s in SECTORS]
        rows.append([service, len(mine), len(mine) - mine["client_id"].nunique(), int(hours.size), *quartiles,
                     *sectors, int(mine["employer_sector"].isna().sum())])
    return pd.DataFrame(rows, columns=JOB_COLUMNS)


def durations(starts: pd.DataFrame, cutoff_date) -> pd.DataFrame:
    """Per job start: ``time_days`` in the job (inclusive; censored at the cut-off) and ``ended``."""
    cutoff = pd.Timestamp(cutoff_date)
    ended = starts["job_end"].notna() & starts["job_end"].le(cutoff)
    last = starts["job_end"].where(ended, cutoff)
    return pd.DataFrame({"time_days": ((last - starts["job_start"]).dt.days + 1).astype(float),
                         "ended": ended.to_numpy()}, index=starts.index)


def tenure(starts: pd.DataFrame, cutoff_date, days) -> pd.DataFrame:
    """Still employed ``days`` after the job start (one row per day; columns of
    :data:`TENURE_COLUMNS` without ``service``): the share among job starts followed that long
    (Wilson CI; ``n_ended_between`` = those of them that ended after the previous day, the step
    between two rows) and the Kaplan–Meier retention S(d) = P(duration > d) with its log(−log) 95 %
    CI (:func:`tyokyky_eval.stats.survival.kaplan_meier`); ``n_ended_interval`` = jobs ended in (previous
    day, d]. The jobs at risk beyond ``d`` in the Kaplan–Meier are exactly ``n_still_employed``
    (a job still on at ``d`` has been followed that long), so no separate count is given."""
    cutoff = pd.Timestamp(cutoff_date)
    span = durations(starts, cutoff)
    lasted = (starts["job_end"] - starts["job_start"]).dt.days + 1  # NaN = ongoing
    rows, previous = [], 0
    for d in days:
        followed = (starts["job_start"] + pd.Timedelta(days=d)).le(cutoff)
        still = followed & ~lasted.le(d)
        between = followed & lasted.gt(previous) & lasted.le(d)  # ended after the previous day
        n, k = int(followed.sum()), int(still.sum())
        rows.append([d, n, k, n - k, int(between.sum()), *_wilson(k, n)])
        previous = d
    out = pd.DataFrame(rows, columns=TENURE_COLUMNS[1:9])
    if len(span):
        at = sv.at_times(sv.kaplan_meier(span["time_days"], span["ended"]), days)
        out["n_ended_interval"] = at["n_events"].to_numpy()
        out["retention"] = 1 - at["cumulative_incidence"].to_numpy()
        out["retention_ci_low"], out["retention_ci_high"] = 1 - at["ci_high"].to_numpy(), 1 - at["ci_low"].to_numpy()
    else:
        out["n_ended_interval"] = 0
        out[["retention", "retention_ci_low", "retention_ci_high"]] = np.nan
    beyond = out["days"].map(lambda d: not span["time_days"].ge(d).any())  # no job followed that long
    out.loc[beyond.to_numpy(), ["retention", "retention_ci_low", "retention_ci_high"]] = np.nan
    return out


def tenure_table(starts: pd.DataFrame, cutoff_date, services, days) -> pd.DataFrame:
    """:func:`tenure` per service (``service`` first)."""
    frames = [tenure(starts[starts["service"].eq(s)], cutoff_date, days).assign(service=s) for s in services]
    return (pd.concat(frames, ignore_index=True)[TENURE_COLUMNS] if frames
            else pd.DataFrame(columns=TENURE_COLUMNS))

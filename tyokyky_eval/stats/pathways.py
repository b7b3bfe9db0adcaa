"""Service paths, as pure statistics: service volumes, referral source × end reason, job coaches'
caseloads. Tidy DataFrames and :class:`Options` in, DataFrames out; publishing (suppression, coach
labels, texts and figures) is :mod:`tyokyky_eval.sections.pathways`.

- ``service_volume``: per service and calendar year, clients who started and clients in service at
  any time during the year (e.g. Essote's work-ability service: over 500 clients in 2022).
- ``service_outcomes``: service (rows) × end reason, with totals: the flow of clients per service.
- ``referral_outcomes``: a cross-table of referral source (rows) × end reason (columns, ``ongoing``
  for clients still in service at the cut-off), with a ``total`` column.
- ``caseload``: clients in service per job coach, daily, summarised as each month's maximum; set
  against the IPS fidelity scale's limit of 20 active clients per employment specialist (item 1,
  Becker et al. 2019) and the project's own target.
- Time from start to the first employer contact needs a column the canonical clients table does not
  have (see the data dictionary); the section says so instead of estimating it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

IPS_CASELOAD_LIMIT = 20
MAX_COACH_LINES = 10  # more coaches: the caseload figure shows their largest and median caseloads
END_ORDER = ["employed", "work_trial", "rehabilitative_work", "education", "pension", "other_service",
             "dropped_out", "other", "ongoing"]
REFERRAL_ORDER = ["kuntakokeilu", "social_work", "typ", "te_services", "health_care",
                  "work_ability_coordinator", "lifestyle_guidance", "self", "other", "unknown"]


@dataclass(frozen=True)
class Options:
    """``caseload_limit``: the IPS maximum of active clients per job coach (20);
    ``caseload_target``: the project's own maximum (e.g. 10 in the Essote pilot), None = none;
    ``services``: services whose clients count in caseloads and cross-tables (empty = all)."""

    caseload_limit: int = IPS_CASELOAD_LIMIT
    caseload_target: int | None = None
    services: tuple = ()

    def __post_init__(self):
        if not isinstance(self.caseload_limit, int) or self.caseload_limit < 1:
            raise ValueError(f"caseload_limit must be a positive whole number, got {self.caseload_limit!r}")
        if self.caseload_target is not None and (not isinstance(self.caseload_target, int)
                                                 or self.caseload_target < 1):
            raise ValueError(f"caseload_target must be a positive whole number or empty, got {self.caseload_target!r}")
        if isinstance(self.services, str) or not all(isinstance(s, str) for s in self.services):
            raise ValueError("services must be a list of service codes, e.g. [ips]")
        object.__setattr__(self, "services", tuple(self.services))


def select_services(clients: pd.DataFrame, options: Options) -> pd.DataFrame:
    """The clients of ``options.services`` (all clients when it is empty)."""
    return clients if not options.services else clients[clients["service"].isin(options.services)]


def service_volume(clients: pd.DataFrame, cutoff) -> pd.DataFrame:
    """``service, year, n_started, n_in_service``: clients who started in the year and clients in
    service on at least one day of the year (ongoing clients count until ``cutoff``)."""
    cutoff = pd.Timestamp(cutoff)
    end = clients["end_date"].fillna(cutoff)
    years = range(clients["start_date"].dt.year.min(), cutoff.year + 1)
    rows = []
    for year in years:
        first, last = pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)
        started = clients["start_date"].dt.year.eq(year)
        active = clients["start_date"].le(last) & end.ge(first)
        by = pd.DataFrame({"service": clients["service"], "started": started, "active": active})
        sums = by.groupby("service")[["started", "active"]].sum()
        for service, row in sums.iterrows():
            rows.append({"service": service, "year": year, "n_started": int(row["started"]),
                         "n_in_service": int(row["active"])})
    return pd.DataFrame(rows, columns=["service", "year", "n_started", "n_in_service"]).sort_values(
        ["service", "year"], kind="stable").reset_index(drop=True)


def _ordered(values, order) -> list:
    present = set(values)
    return [v for v in order if v in present] + sorted(present - set(order))


def referral_outcomes(clients: pd.DataFrame) -> pd.DataFrame:
    """Clients by ``referral_source`` (rows; ``unknown`` when missing) and end reason (columns;
    ``ongoing`` while in service), with a ``total`` column."""
    source = clients["referral_source"].fillna("unknown")
    reason = clients["end_reason"].fillna("ongoing")
    table = pd.crosstab(source, reason)
    table = table.reindex(index=_ordered(table.index, REFERRAL_ORDER), columns=_ordered(table.columns, END_ORDER))
    table["total"] = table.sum(axis=1)
    table.index.name = "referral_source"
    table.columns.name = None
    return table.reset_index()


def service_outcomes(clients: pd.DataFrame, order=()) -> pd.DataFrame:
    """Clients by ``service`` (rows: the codes of ``order`` first, then any others sorted) and end
    reason (columns as in :func:`referral_outcomes` for all clients), with a ``total`` column and
    a ``total`` row (all clients)."""
    reason = clients["end_reason"].fillna("ongoing")
    table = pd.crosstab(clients["service"].astype(str), reason)
    rows = [c for c in order if c in table.index] + sorted(set(table.index) - set(order))
    table = table.reindex(index=rows, columns=_ordered(table.columns, END_ORDER))
    table["total"] = table.sum(axis=1)
    table.loc["total"] = table.sum()
    table.index.name = "service"
    table.columns.name = None
    return table.astype("int64").reset_index()


def flow_table(clients: pd.DataFrame, options: Options) -> pd.DataFrame:
    """All clients by end reason: the rows of :func:`referral_outcomes` for the clients of
    ``options.services``, then (when some clients are of other services) one row
    ``other_services`` for the rest, then a ``total`` row (all clients); columns as in
    :func:`referral_outcomes` for all clients, ``total`` last."""
    everyone = referral_outcomes(clients)
    columns = list(everyone.columns)
    selected = select_services(clients, options)
    parts = [referral_outcomes(selected).reindex(columns=columns, fill_value=0) if len(selected)
             else pd.DataFrame(columns=columns)]
    rest = clients.drop(index=selected.index)
    if len(rest):
        counts = referral_outcomes(rest.assign(referral_source="other_services")).reindex(columns=columns,
                                                                                        fill_value=0)
        parts.append(counts)
    total = everyone.drop(columns="referral_source").sum().to_frame().T.assign(referral_source="total")
    out = pd.concat([p for p in parts if len(p)] + [total[columns]], ignore_index=True)
    counts = [c for c in columns if c != "referral_source"]
    out[counts] = out[counts].fillna(0).astype("int64")
    return out


def caseload(clients: pd.DataFrame, cutoff) -> pd.DataFrame:
    """``month, job_coach, max_active``: the largest number of clients in service on any day of the
    month, per job coach (``job_coach`` = the ``job_coach_id`` as text; the section decides how a
    coach is labelled). A client counts from the start date to the end date inclusive (ongoing: to
    ``cutoff``). Rows sorted by coach id, then month.

    Linear in clients × days: a coach × day matrix gets +1 on each start day and −1 on the day after
    each end, its running sum along the days is the daily count, and ``np.maximum.reduceat`` at the
    month starts gives the monthly maxima."""
    cutoff = pd.Timestamp(cutoff)
    data = clients.dropna(subset=["job_coach_id"])
    if data.empty:
        return pd.DataFrame({"month": pd.Series(dtype="datetime64[ns]"), "job_coach": pd.Series(dtype=object),
                             "max_active": pd.Series(dtype="int64")})
    codes, ids = pd.factorize(data["job_coach_id"].astype(str), sort=True)
    days = pd.date_range(data["start_date"].min(), cutoff, freq="D")
    start = days.searchsorted(data["start_date"])
    stop = days.searchsorted(data["end_date"].fillna(cutoff), side="right")
    delta = np.zeros((len(ids), len(days) + 1), dtype=np.int32)
    np.add.at(delta, (codes, start), 1)
    np.add.at(delta, (codes, stop), -1)
    daily = np.cumsum(delta[:, :-1], axis=1, dtype=np.int32)
    month_of_day = days.to_period("M")
    firsts = np.flatnonzero(np.r_[True, month_of_day[1:] != month_of_day[:-1]])
    monthly = np.maximum.reduceat(daily, firsts, axis=1).astype(np.int64)
    months = month_of_day[firsts].to_timestamp()
    out = pd.DataFrame({"month": np.tile(months, len(ids)), "job_coach": np.repeat(np.asarray(ids, dtype=object),
                                                                                   len(months)),
                        "max_active": monthly.ravel()})
    return out.sort_values(["job_coach", "month"]).reset_index(drop=True)


def caseload_summary(load: pd.DataFrame, options: Options) -> pd.DataFrame:
    """Per job coach (in the order of ``load``): ``job_coach, months, max_active,
    months_over_limit`` and, when the project has a target, ``months_over_target``."""
    target = options.caseload_target
    flags = load.assign(over_limit=load["max_active"].gt(options.caseload_limit).astype(int),
                        over_target=load["max_active"].gt(target).astype(int) if target else 0)
    out = flags.groupby("job_coach", sort=False).agg(
        months=("month", "size"), max_active=("max_active", "max"),
        months_over_limit=("over_limit", "sum"), months_over_target=("over_target", "sum")).reset_index()
    return out if target is not None else out.drop(columns="months_over_target")


def caseload_overview(summary: pd.DataFrame) -> pd.DataFrame:
    """All coaches in one row, for projects with more coaches than a table can list:
    ``n_coaches, median_max_active, max_active, coaches_over_limit`` and, with a target,
    ``coaches_over_target``."""
    row = {"n_coaches": len(summary), "median_max_active": float(summary["max_active"].median()),
           "max_active": int(summary["max_active"].max()),
           "coaches_over_limit": int(summary["months_over_limit"].gt(0).sum())}
    if "months_over_target" in summary:
        row["coaches_over_target"] = int(summary["months_over_target"].gt(0).sum())
    return pd.DataFrame([row])

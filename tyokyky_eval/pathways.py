"""Service paths: service volumes, referral source × end reason, and job coaches' caseloads.

- ``service_volume``: per service and calendar year, clients who started and clients in service at
  any time during the year (e.g. Essote's work-ability service: over 500 clients in 2022).
- ``referral_outcomes``: a cross-table of referral source (rows) × end reason (columns, ``ongoing``
  for clients still in service at the cut-off), with a ``total`` column; published with primary and
  secondary suppression (``tyokyky_eval.disclosure``).
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

from tyokyky_eval.disclosure import suppress_counts
from tyokyky_eval.i18n import code_label, t

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


def publish_referral_outcomes(table: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Primary and secondary suppression: row totals are in the table and column totals are
    published elsewhere (outcome counts), so both directions are protected."""
    counts = [c for c in table.columns if c != "referral_source"]
    return suppress_counts(table, counts, min_cell, margins="both", total_column="total")


def _label(column: str, code: str, language: str) -> str:
    return code_label(column, code, language, "pathways")


def plot_flow(table: pd.DataFrame, min_cell: int, language: str):
    """Referral source → end reason as a flow diagram (Sankey-like): node heights are clients;
    sources or outcomes with fewer than ``min_cell`` clients are merged into one 'other (small
    groups)' node, and flows of fewer than ``min_cell`` clients are not drawn."""
    import matplotlib.pyplot as plt

    long = table.drop(columns="total").melt(id_vars="referral_source", var_name="end_reason", value_name="n")
    long = long[long["n"].gt(0)]
    for column in ("referral_source", "end_reason"):
        totals = long.groupby(column)["n"].transform("sum")
        long[column] = long[column].where(totals.ge(min_cell), "small_groups")
    long = long.groupby(["referral_source", "end_reason"], sort=False, as_index=False)["n"].sum()
    left = _ordered(long["referral_source"], REFERRAL_ORDER + ["small_groups"])
    right = _ordered(long["end_reason"], END_ORDER + ["small_groups"])
    total = long["n"].sum()
    gap = 0.02 * total

    def positions(nodes, column):
        sizes = long.groupby(column)["n"].sum().reindex(nodes)
        tops = np.concatenate([[0], np.cumsum(sizes.to_numpy() + gap)[:-1]])
        return dict(zip(nodes, tops)), sizes

    ltop, lsize = positions(left, "referral_source")
    rtop, rsize = positions(right, "end_reason")
    fig, ax = plt.subplots(figsize=(8, 5))
    colours = plt.get_cmap("tab10")
    x = np.linspace(0, 1, 50)
    curve = 3 * x ** 2 - 2 * x ** 3  # smoothstep
    lfill, rfill = dict(ltop), dict(rtop)
    for _, flow in long.sort_values(["referral_source", "end_reason"], key=lambda s: s.map(
            {v: i for i, v in enumerate(left + right)})).iterrows():
        a, b, n = flow["referral_source"], flow["end_reason"], flow["n"]
        y0, y1 = lfill[a], rfill[b]
        lfill[a] += n
        rfill[b] += n
        if n < min_cell:
            continue
        lower = y0 + (y1 - y0) * curve
        ax.fill_between(0.1 + 0.8 * x, lower, lower + n, color=colours(left.index(a) % 10), alpha=0.45, lw=0)
    for nodes, top, size, xpos, column, align in ((left, ltop, lsize, 0.1, "referral_source", "right"),
                                                   (right, rtop, rsize, 0.9, "end_reason", "left")):
        for node in nodes:
            ax.add_patch(plt.Rectangle((xpos - 0.01, top[node]), 0.02, size[node], color="0.3"))
            ax.text(xpos + (-0.02 if align == "right" else 0.02), top[node] + size[node] / 2,
                    f"{_label(column, node, language)} ({size[node]})", ha=align, va="center", fontsize=8)
    ax.set_xlim(-0.35, 1.35)
    ax.set_ylim(max(ltop[left[-1]] + lsize[left[-1]], rtop[right[-1]] + rsize[right[-1]]) + gap, -gap)
    ax.axis("off")
    ax.set_title(t("pathways.flow_title", language, min_cell=min_cell), fontsize=9)
    fig.tight_layout()
    return fig


def caseload(clients: pd.DataFrame, cutoff) -> pd.DataFrame:
    """``month, job_coach, max_active``: the largest number of clients in service on any day of the
    month, per job coach (coaches relabelled 1, 2, … in order of their ids). A client counts from
    the start date to the end date inclusive (ongoing: to ``cutoff``).

    Linear in clients × days: a coach × day matrix gets +1 on each start day and −1 on the day after
    each end, its running sum along the days is the daily count, and ``np.maximum.reduceat`` at the
    month starts gives the monthly maxima."""
    cutoff = pd.Timestamp(cutoff)
    data = clients.dropna(subset=["job_coach_id"])
    if data.empty:
        return pd.DataFrame(columns=["month", "job_coach", "max_active"])
    codes, ids = pd.factorize(data["job_coach_id"], sort=True)
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
    labels = np.arange(1, len(ids) + 1).astype(str)
    out = pd.DataFrame({"month": np.tile(months, len(ids)), "job_coach": np.repeat(labels, len(months)),
                        "max_active": monthly.ravel()})
    return out.sort_values(["job_coach", "month"]).reset_index(drop=True)


def caseload_summary(load: pd.DataFrame, options: Options) -> pd.DataFrame:
    """Per job coach: ``job_coach, months, max_active, months_over_limit, months_over_target``."""
    target = options.caseload_target
    flags = load.assign(over_limit=load["max_active"].gt(options.caseload_limit).astype(int),
                        over_target=load["max_active"].gt(target).astype(int) if target else 0)
    out = flags.groupby("job_coach", sort=True).agg(
        months=("month", "size"), max_active=("max_active", "max"),
        months_over_limit=("over_limit", "sum"), months_over_target=("over_target", "sum")).reset_index()
    if target is None:
        out["months_over_target"] = pd.NA
    return out


def caseload_overview(summary: pd.DataFrame) -> pd.DataFrame:
    """All coaches in one row, for projects with more coaches than a table can list:
    ``n_coaches, median_max_active, max_active, coaches_over_limit, coaches_over_target``."""
    over_target = summary["months_over_target"]
    return pd.DataFrame([{
        "n_coaches": len(summary),
        "median_max_active": float(summary["max_active"].median()),
        "max_active": int(summary["max_active"].max()),
        "coaches_over_limit": int(summary["months_over_limit"].gt(0).sum()),
        "coaches_over_target": pd.NA if over_target.isna().all() else int(over_target.gt(0).sum()),
    }])


def plot_caseload(load: pd.DataFrame, options: Options, language: str):
    """Monthly maximum of clients in service per job coach, with the IPS limit and the target; with
    more than ``MAX_COACH_LINES`` coaches, the largest and the median of the coaches' monthly maxima
    instead of one line per coach."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5))
    n_coaches = load["job_coach"].nunique()
    if n_coaches <= MAX_COACH_LINES:
        for coach, rows in load.groupby("job_coach", sort=True):
            ax.step(rows["month"], rows["max_active"], where="post",
                    label=t("pathways.coach_label", language, coach=coach))
    else:
        by_month = load.groupby("month", sort=True)["max_active"]
        for stat, key in (("max", "coaches_max"), ("median", "coaches_median")):
            values = by_month.agg(stat)
            ax.step(values.index, values.to_numpy(), where="post", label=t(f"pathways.{key}", language, n=n_coaches))
    ax.axhline(options.caseload_limit, color="firebrick", linestyle="--",
               label=t("pathways.ips_limit", language, limit=options.caseload_limit))
    if options.caseload_target is not None:
        ax.axhline(options.caseload_target, color="darkorange", linestyle=":",
                   label=t("pathways.own_target", language, target=options.caseload_target))
    ax.set_ylim(0, max(options.caseload_limit, load["max_active"].max()) + 2)
    ax.set_ylabel(t("pathways.axis_active", language))
    ax.legend(fontsize=7, loc="upper left", ncols=2)
    ax.spines[["top", "right"]].set_visible(False)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


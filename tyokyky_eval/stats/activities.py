"""Activities and process, as pure statistics over the optional ``activities`` table (one row per
activity: ``date, kind, organisation, participants, client_id``; kinds are codes the project
declares under ``activities.kinds``). Publishing is :mod:`tyokyky_eval.sections.activities`.

- ``counts``: activities, participants and distinct clients per kind and period (or organisation),
  with a ``total`` row per kind: trainings, workshops (Päijät-Häme: 2–4, 3–6, 4–6, 3–5 per round),
  KuumaLinja consultations, Helsinki's weekly network consultations.
- ``funnel``: a chain of steps (Pohde: consent → contact request → network meeting → joint plan →
  follow-up meeting): clients reaching each step (an event of the step's kind on or after the
  previous step), their share of those who entered the chain with a Wilson CI, and the median days
  from the previous step.
- ``event_share``: per service, the share of clients with an event of a kind (Essote: "about a
  third" of the work-ability service's clients seen by the work-ability doctor), Wilson CI.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from tyokyky_eval.inputs.keys import bilingual

PERIODS = {"year": "Y", "half": "half", "quarter": "Q"}


@dataclass(frozen=True)
class Options:
    """``kinds``: activity code → label (a text or ``{fi, en}``); ``chains``: chain name → its
    steps (kinds, in order); ``client_events``: kinds shown as a share of clients per service;
    ``period``: ``year``, ``half`` or ``quarter``; ``synthetic``: the activities are illustrative
    (the source documents give no figures), said in the appendix."""

    kinds: dict = field(default_factory=dict)
    chains: dict = field(default_factory=dict)
    client_events: tuple = ()
    period: str = "half"
    synthetic: bool = False

    def __post_init__(self):
        if not isinstance(self.kinds, dict):
            raise ValueError("kinds must map activity codes to labels, e.g. {training: {fi: Koulutus, en: Training}}")
        object.__setattr__(self, "kinds", {str(k): bilingual(v, f"kinds.{k}") for k, v in self.kinds.items()})
        if not isinstance(self.chains, dict) or not all(isinstance(v, list) and len(v) >= 2
                                                        for v in self.chains.values()):
            raise ValueError("chains must map a chain name to a list of at least two kinds")
        object.__setattr__(self, "chains", {str(k): tuple(map(str, v)) for k, v in self.chains.items()})
        if isinstance(self.client_events, str):
            raise ValueError("client_events must be a list of kinds, e.g. [doctor_assessment]")
        object.__setattr__(self, "client_events", tuple(map(str, self.client_events)))
        if self.period not in PERIODS:
            raise ValueError(f"period must be one of {', '.join(PERIODS)}, got {self.period!r}")
        undeclared = sorted({k for steps in self.chains.values() for k in steps} | set(self.client_events))
        undeclared = [k for k in undeclared if self.kinds and k not in self.kinds]
        if undeclared:
            raise ValueError(f"chains and client_events name kinds not declared under kinds: {', '.join(undeclared)}")


def period_of(dates: pd.Series, period: str) -> pd.Series:
    """Period labels: ``2022`` (year), ``2022-H1`` (half), ``2022-Q3`` (quarter)."""
    year = dates.dt.year.astype("Int64").astype(str)
    if period == "year":
        return year
    if period == "half":
        return year + "-H" + ((dates.dt.month - 1) // 6 + 1).astype("Int64").astype(str)
    return year + "-Q" + dates.dt.quarter.astype("Int64").astype(str)


def client_kinds(activities: pd.DataFrame) -> set:
    """Kinds recorded with client ids (client events: their counts are counts of people)."""
    return set(activities.loc[activities["client_id"].notna(), "kind"])


def counts(activities: pd.DataFrame, by: str, period: str = "half") -> pd.DataFrame:
    """``kind, <by>, n_events, participants, n_clients`` per kind and ``by`` (``period`` or
    ``organisation``; missing organisation = ``unknown``), then a ``total`` row per kind;
    ``participants`` sums the column (empty = 0), ``n_clients`` counts distinct client ids."""
    data = activities.assign(period=period_of(activities["date"], period),
                             organisation=activities["organisation"].fillna("unknown"),
                             participants=activities["participants"].fillna(0))
    frames = []
    for key, group in (("by", [by]), ("total", [])):
        grouped = data.groupby(["kind", *group], sort=True)
        out = grouped.agg(n_events=("kind", "size"), participants=("participants", "sum"),
                          n_clients=("client_id", "nunique")).reset_index()
        if key == "total":
            out[by] = "total"
        frames.append(out)
    out = pd.concat(frames, ignore_index=True)
    out["is_total"] = out[by].eq("total")
    out = out.sort_values(["kind", "is_total", by], kind="stable").drop(columns="is_total")
    return out.astype({"n_events": "int64", "participants": "int64", "n_clients": "int64"})[
        ["kind", by, "n_events", "participants", "n_clients"]].reset_index(drop=True)


def funnel(activities: pd.DataFrame, steps, alpha: float = 0.05) -> pd.DataFrame:
    """Clients through a chain of ``steps`` (kinds): ``step`` (1, 2, …), ``kind``, ``n_reached``
    (clients with an event of the kind on or after the date they reached the previous step; step 1:
    any event of the first kind), ``n_not_reached`` (reached the previous step but not this one),
    ``share`` of those who entered (step 1) with a Wilson CI, and ``median_days`` from the previous
    step (first event of the step on or after the previous step's date)."""
    data = activities.dropna(subset=["client_id"])
    reached = data[data["kind"].eq(steps[0])].groupby("client_id")["date"].min()
    entered = len(reached)
    rows, previous_n = [], entered
    for k, kind in enumerate(steps, start=1):
        days = pd.Series(dtype=float)
        if k > 1:
            events = data[data["kind"].eq(kind)][["client_id", "date"]].merge(
                reached.rename("previous").reset_index(), on="client_id")
            events = events[events["date"] >= events["previous"]]
            first = events.groupby("client_id").agg(date=("date", "min"), previous=("previous", "first"))
            days = (first["date"] - first["previous"]).dt.days.astype(float)
            reached = first["date"]
        n = len(reached)
        share = n / entered if entered else np.nan
        low, high = proportion_confint(n, entered, alpha=alpha, method="wilson") if entered else (np.nan, np.nan)
        rows.append({"step": k, "kind": kind, "n_reached": n, "n_not_reached": previous_n - n,
                     "share": share, "ci_low": float(low), "ci_high": float(high),
                     "median_days": float(days.median()) if len(days) else np.nan})
        previous_n = n
    return pd.DataFrame(rows, columns=["step", "kind", "n_reached", "n_not_reached", "share", "ci_low",
                                       "ci_high", "median_days"])


def event_share(activities: pd.DataFrame, clients: pd.DataFrame, kind: str, alpha: float = 0.05) -> pd.DataFrame:
    """Per service (rows in code order, then ``all``): ``service, n_clients, n_with_event,
    n_without_event, share, ci_low, ci_high`` for the clients with at least one event of
    ``kind`` (Wilson CI)."""
    has = clients["client_id"].isin(activities.loc[activities["kind"].eq(kind), "client_id"].dropna())
    frame = pd.DataFrame({"service": clients["service"].astype(str), "has": has})
    rows = [(s, g["has"]) for s, g in frame.groupby("service", sort=True)] + [("all", frame["has"])]
    out = []
    for service, flags in rows:
        n, k = len(flags), int(flags.sum())
        low, high = proportion_confint(k, n, alpha=alpha, method="wilson") if n else (np.nan, np.nan)
        out.append({"service": service, "n_clients": n, "n_with_event": k, "n_without_event": n - k,
                    "share": k / n if n else np.nan, "ci_low": float(low), "ci_high": float(high)})
    return pd.DataFrame(out)

"""Goals against achievements, as pure functions: goals declared in the parameters (``goals:``),
each either **computed** from the data by an indicator this module knows (with its target and unit)
or **assessed** by the evaluator (status ``achieved`` / ``partly`` / ``not_achieved``, a short
justification and its source). Publishing (suppression of small counts, texts, the link to the
section that shows the figure) is :mod:`tyokyky_eval.sections.goals`.

Seed 003 (Essote) has both kinds: "100 henkilön pilottiryhmä" → over 500 clients in 2022 (computed:
clients of the work-ability service in service during 2022, target 100) and "Kumppanuuspöytää ei
ole perustettu" (assessed: not achieved).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tyokyky_eval.inputs.identifiers import is_code
from tyokyky_eval.inputs.keys import bilingual, suggest

STATUSES = ("achieved", "partly", "not_achieved", "not_assessable")


def _in_year(start: pd.Series, end: pd.Series, year: int) -> pd.Series:
    """In service on at least one day of ``year`` (``end`` missing = ongoing)."""
    return start.le(pd.Timestamp(year, 12, 31)) & (end.isna() | end.ge(pd.Timestamp(year, 1, 1)))


def _clients(tables, goal) -> pd.DataFrame | None:
    clients = tables.get("clients")
    if clients is None:
        return None
    if goal.service is not None:
        clients = clients[clients["service"].eq(goal.service)]
    if goal.year is not None:
        clients = clients[_in_year(clients["start_date"], clients["end_date"], goal.year)]
    return clients


def _n_clients(tables, goal):
    clients = _clients(tables, goal)
    return None if clients is None else int(clients["client_id"].nunique())


def _n_employed(tables, goal):
    clients = _clients(tables, goal)
    return None if clients is None else int(clients.loc[clients["first_employment_date"].notna(), "client_id"].nunique())


def _n_measured(tables, goal):
    clients, kyky = _clients(tables, goal), tables.get("kykyviisari")
    if clients is None or kyky is None:
        return None
    return int(kyky.loc[kyky["client_id"].isin(clients["client_id"]), "client_id"].nunique())


def _activities(tables, goal) -> pd.DataFrame | None:
    activities = tables.get("activities")
    if activities is None:
        return None
    rows = activities[activities["kind"].eq(goal.kind)]
    if goal.year is not None:
        rows = rows[rows["date"].dt.year.eq(goal.year)]
    return rows


def _n_activities(tables, goal):
    rows = _activities(tables, goal)
    return None if rows is None else len(rows)


def _n_participants(tables, goal):
    rows = _activities(tables, goal)
    return None if rows is None else int(rows["participants"].fillna(0).sum())


@dataclass(frozen=True)
class Indicator:
    """An indicator a computed goal can name: its ``unit`` (a code), the ``section`` that shows the
    figure, whether it needs ``kind`` (an activity kind), and the function computing it."""

    unit: str
    section: str
    compute: object
    needs_kind: bool = False


#: the indicators a computed goal can name (``indicator:`` in the parameters)
INDICATORS = {
    "clients": Indicator("clients", "pathways", _n_clients),
    "clients_employed": Indicator("clients", "survival", _n_employed),
    "kykyviisari_measured": Indicator("clients", "prepost", _n_measured),
    "activities": Indicator("events", "activities", _n_activities, needs_kind=True),
    "activity_participants": Indicator("participants", "activities", _n_participants, needs_kind=True),
}


@dataclass(frozen=True)
class Goal:
    """One goal: ``id`` (a code), ``title``; computed: ``indicator`` (one of :data:`INDICATORS`),
    ``target`` and the filters ``service``, ``year``, ``kind``; assessed: ``status`` (one of
    :data:`STATUSES`) and ``justification``; both: ``source`` (where the figure or judgement is
    from, e.g. "Loppuraportti 2022, luku 3")."""

    id: str
    title: dict
    indicator: str | None = None
    target: float | None = None
    service: str | None = None
    year: int | None = None
    kind: str | None = None
    status: str | None = None
    justification: dict = field(default_factory=dict)
    source: str = ""

    def __post_init__(self):
        if not isinstance(self.id, str) or not is_code(self.id):
            raise ValueError(f"id {self.id!r} must be a short code (letters, digits, _ and -), e.g. pilot_clients")
        object.__setattr__(self, "title", bilingual(self.title, "title"))
        if self.indicator is None:
            if self.status not in STATUSES:
                raise ValueError(f"an assessed goal needs status: one of {', '.join(STATUSES)} (or name an "
                                 f"indicator: {', '.join(INDICATORS)}); got {self.status!r}")
            object.__setattr__(self, "justification", bilingual(self.justification, "justification"))
            extra = [k for k in ("target", "service", "year", "kind") if getattr(self, k) is not None]
            if extra:
                raise ValueError(f"{', '.join(extra)} only go with an indicator")
        else:
            if self.indicator not in INDICATORS:
                raise ValueError(f"unknown indicator {self.indicator!r}{suggest(self.indicator, INDICATORS)}; "
                                 f"indicators are {', '.join(INDICATORS)}")
            if self.status is not None or self.justification:
                raise ValueError("a computed goal gets its status from the data; leave out status and justification")
            if isinstance(self.target, bool) or not isinstance(self.target, (int, float)) or self.target <= 0:
                raise ValueError(f"target must be a positive number, got {self.target!r}")
            if INDICATORS[self.indicator].needs_kind != (self.kind is not None):
                raise ValueError(f"indicator {self.indicator} {'needs' if self.kind is None else 'takes no'} kind "
                                 "(an activity kind)")
            if self.year is not None and (isinstance(self.year, bool) or not isinstance(self.year, int)):
                raise ValueError(f"year must be a year such as 2022, got {self.year!r}")
        object.__setattr__(self, "source", str(self.source or ""))

    @property
    def computed(self) -> bool:
        return self.indicator is not None


def status_of(value, target) -> str | None:
    """Status of a computed goal: ``achieved`` (value ≥ target), ``partly`` (0 < value < target),
    ``not_achieved`` (0); None without data."""
    if value is None or pd.isna(value):
        return None
    return "achieved" if value >= target else "partly" if value > 0 else "not_achieved"


def evaluate(goals, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per goal, in the declared order: ``goal_id, assessment`` (``computed`` /
    ``assessed``), ``indicator, unit, target, achieved`` (the indicator's value; NaN for assessed
    goals and when the data lack the indicator's table), ``status, section`` (the section showing
    the figure), ``source``."""
    rows = []
    for goal in goals:
        row = {"goal_id": goal.id, "assessment": "computed" if goal.computed else "assessed",
               "indicator": goal.indicator, "unit": None, "target": np.nan, "achieved": np.nan,
               "status": goal.status, "section": None, "source": goal.source}
        if goal.computed:
            indicator = INDICATORS[goal.indicator]
            value = indicator.compute(tables, goal)
            row.update(unit=indicator.unit, target=float(goal.target), section=indicator.section,
                       achieved=np.nan if value is None else float(value), status=status_of(value, goal.target))
        rows.append(row)
    return pd.DataFrame(rows, columns=["goal_id", "assessment", "indicator", "unit", "target", "achieved",
                                       "status", "section", "source"])

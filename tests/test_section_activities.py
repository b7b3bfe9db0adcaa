"""The activities section as an attacker sees it: only the published tables, every relation between
them (periods and organisations add up to the kind's total, the two totals are equal, reached +
not reached = the previous step, with + without = clients, the services add up to all, a step's
clients are the clients of its kind) and linear programming. No hidden count may be pinned down."""
from __future__ import annotations

from types import SimpleNamespace

import matplotlib
import numpy as np
import pandas as pd
import pytest
from attacker import attack, equation

from tyokyky_eval import publication
from tyokyky_eval.inputs.params import Disclosure
from tyokyky_eval.inputs.project import Project
from tyokyky_eval.sections.activities import (
    BY_ORGANISATION,
    BY_PERIOD,
    ActivitiesSection,
    event_name,
    funnel_name,
)
from tyokyky_eval.stats import activities as ac

matplotlib.use("Agg")
STEPS = ("consent", "request", "meeting", "plan")


def synthetic(seed: int, n: int = 40):
    rng = np.random.default_rng(seed)
    clients = pd.DataFrame({"client_id": [f"C{i}" for i in range(n)],
                            "service": rng.choice(["ips", "was", "lg"], n, p=[0.5, 0.4, 0.1])})
    rows = []
    for cid in clients["client_id"]:
        day = pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(rng.integers(0, 600)))
        org = rng.choice(["oulu", "ii", "ylivieska"], p=[0.6, 0.3, 0.1])
        for k, kind in enumerate(STEPS):
            if k and rng.random() > 0.85:
                break
            day += pd.Timedelta(days=int(rng.integers(1, 40)))
            rows.append((day, kind, org, pd.NA, cid))
        if rng.random() < 0.3:
            rows.append((day, "health_check", org, pd.NA, cid))
    for _ in range(7):
        rows.append((pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(rng.integers(0, 700))), "training",
                     rng.choice(["oulu", "ii"]), int(rng.integers(1, 12)), None))
    data = pd.DataFrame(rows, columns=["date", "kind", "organisation", "participants", "client_id"])
    data = data[data["date"] <= pd.Timestamp("2024-12-31")].astype({"participants": "Int64"})
    return clients, data.reset_index(drop=True)


def make_section(clients, data, min_cell=5) -> ActivitiesSection:
    options = ac.Options(chains={"network": list(STEPS)}, client_events=("health_check",))
    params = SimpleNamespace(disclosure=Disclosure(min_cell, max(10, min_cell)), activities=options, services={})
    tables = {"activities": data} if clients is None else {"activities": data, "clients": clients}
    return ActivitiesSection(Project(params, "en", tables))


class Reader:
    """The attacker's view: a published cell is a known number or an unknown with the symbol's range."""

    def __init__(self, published, rules):
        self.published, self.rules, self.bounds = published, rules, {}

    def term(self, table, row, column):
        value = self.published[table].at[row, column]
        if not publication.is_symbol(value, self.rules):
            return ({}, float(value))
        name = f"{table}:{row}:{column}"
        self.bounds[name] = (1, self.rules.min_cell - 1) if value == self.rules.symbol(publication.PRIMARY) else (0, None)
        return ({name: 1.0}, 0.0)


def relations(section, published, reader):
    """Every relation the reader knows, as equations."""
    out = []
    internal = section.internal()
    for name, by in ((BY_PERIOD, "period"), (BY_ORGANISATION, "organisation")):
        frame = published[name]
        for kind, rows in frame.groupby("kind"):
            total = rows.index[rows[by].eq("total")][0]
            parts = [i for i in rows.index if i != total]
            columns = ["participants"] + (["n_events"] if kind in section.person_kinds else [])
            out += [equation(reader.term(name, total, c), [reader.term(name, i, c) for i in parts]) for c in columns]
            data = internal[name]
            for i in rows.index:  # one event per client where it is so (the reader may well know it)
                if kind in section.person_kinds and data.at[i, "n_events"] == data.at[i, "n_clients"]:
                    out.append(equation(reader.term(name, i, "n_clients"), [reader.term(name, i, "n_events")]))
    period, organisation = published[BY_PERIOD], published[BY_ORGANISATION]
    totals = {k: i for i, k in zip(period.index, period["kind"]) if period.at[i, "period"] == "total"}
    for i, kind in zip(organisation.index, organisation["kind"]):
        if organisation.at[i, "organisation"] == "total":
            out += [equation(reader.term(BY_PERIOD, totals[kind], c), [reader.term(BY_ORGANISATION, i, c)])
                    for c in ("n_events", "participants", "n_clients")]
    funnel = funnel_name("network")
    data = internal[funnel]
    for k in range(1, len(data)):
        out.append(equation(reader.term(funnel, k - 1, "n_reached"),
                            [reader.term(funnel, k, "n_reached"), reader.term(funnel, k, "n_not_reached")]))
    clients_of = internal[BY_PERIOD].set_index(["kind", "period"])["n_clients"]
    for k, kind in enumerate(data["kind"]):
        if clients_of[(kind, "total")] == data.at[k, "n_reached"]:
            out.append(equation(reader.term(BY_PERIOD, totals[kind], "n_clients"), [reader.term(funnel, k, "n_reached")]))
    event = event_name("health_check")
    frame = published[event]
    last = len(frame) - 1
    for i in frame.index:
        out.append(equation(reader.term(event, i, "n_clients"),
                            [reader.term(event, i, "n_with_event"), reader.term(event, i, "n_without_event")]))
    for c in ("n_clients", "n_with_event", "n_without_event"):
        out.append(equation(reader.term(event, last, c), [reader.term(event, i, c) for i in range(last)]))
    if clients_of[("health_check", "total")] == internal[event].at[last, "n_with_event"]:
        out.append(equation(reader.term(BY_PERIOD, totals["health_check"], "n_clients"),
                            [reader.term(event, last, "n_with_event")]))
    return out


@pytest.mark.parametrize("min_cell", [3, 5, 10])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_hidden_count_is_pinned_down(min_cell, seed):
    section = make_section(*synthetic(seed), min_cell=min_cell)
    published = section.published()
    reader = Reader(published, section.rules)
    equations = relations(section, published, reader)
    assert reader.bounds, "the synthetic data must have small cells"
    ranges = attack(set(reader.bounds), equations, reader.bounds)
    pinned = {name: r for name, r in ranges.items() if r[1] - r[0] < 1e-6}
    assert not pinned


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shares_and_medians_are_withheld_with_their_counts(seed):
    section = make_section(*synthetic(seed), min_cell=5)
    rules = section.rules
    frame = section.published()[funnel_name("network")]
    for row in frame.itertuples():
        if publication.is_symbol(row.n_reached, rules):
            assert all(publication.is_symbol(v, rules) for v in (row.share, row.ci_low, row.ci_high, row.median_days))
    if publication.is_symbol(frame.at[0, "n_reached"], rules):
        assert frame["share"].map(lambda v: publication.is_symbol(v, rules)).all()


def test_trainings_are_not_people_but_their_participants_are():
    clients, data = synthetic(0)
    data = pd.concat([data, pd.DataFrame({"date": [pd.Timestamp("2024-06-01")], "kind": ["workshop"],
                                          "organisation": ["ii"], "participants": pd.array([3], dtype="Int64"),
                                          "client_id": [None]})], ignore_index=True)
    table = make_section(clients, data).published()[BY_PERIOD]
    row = table[table["kind"].eq("workshop") & table["period"].ne("total")].iloc[0]
    assert row["n_events"] == 1 and row["participants"] == "<5"


def test_figures_are_drawn_from_published_values_and_one_organisation_works():
    clients, data = synthetic(1)
    data = data.assign(organisation="oulu")
    section = make_section(clients, data)
    figures = section.figures("fi")
    assert len(figures) == 2
    trend = figures[0][1]
    drawn = np.concatenate([line.get_ydata() for line in trend.axes[0].get_lines()])
    published = section.published()[BY_PERIOD]
    shown = {float(v) for v in published["n_events"] if not publication.is_symbol(v, section.rules)}
    assert {float(v) for v in drawn if not np.isnan(v)} <= shown


def test_no_activities_and_no_clients():
    empty = pd.DataFrame({"date": pd.Series(dtype="datetime64[ns]"), "kind": pd.Series(dtype=object),
                          "organisation": pd.Series(dtype=object), "participants": pd.Series(dtype="Int64"),
                          "client_id": pd.Series(dtype=object)})
    section = make_section(None, empty)
    assert section.tables() == [] and section.figures("en") == []
    assert section.text("en") == ["The activities table holds no activities."]
    _, data = synthetic(0)
    section = make_section(None, data)
    assert not any(name.startswith("activities_event_") for name in section.published())
    assert any("no clients table" in p for p in section.text("en"))

"""The service-paths section (and the overview's flow of clients) as an attacker sees them: only
the published tables, every relation between them, and integer programming."""
from __future__ import annotations

import re
from types import SimpleNamespace

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from tyokyky_eval import publication
from tyokyky_eval.inputs.params import Disclosure
from tyokyky_eval.inputs.project import Project
from tyokyky_eval.sections.overview import CLIENT_FLOW, OverviewSection
from tyokyky_eval.sections.pathways import (
    BY_SERVICE,
    CASELOAD,
    FLOW,
    VOLUME,
    PathwaysSection,
    coach_labels,
)
from tyokyky_eval.stats import pathways as pw

matplotlib.use("Agg")
MIN_CELLS = (3, 5, 10)
CUTOFF = pd.Timestamp("2022-12-31")
REASONS = ["employed", "work_trial", "pension", "dropped_out", "other_service", None]
SOURCES = ["kuntakokeilu", "social_work", "typ", "self", None]


def synthetic_clients(n: int, seed: int) -> pd.DataFrame:
    """Small skewed groups: many cells of 1–9 clients."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    reason = rng.choice(np.array(REASONS, dtype=object), n, p=[0.3, 0.15, 0.05, 0.25, 0.1, 0.15])
    end = pd.Series(start + pd.to_timedelta(rng.integers(0, 300, n), unit="D"))
    end[pd.isna(reason)] = pd.NaT
    end[end > CUTOFF] = CUTOFF
    return pd.DataFrame({
        "client_id": [f"C{k}" for k in range(n)],
        "service": rng.choice(["ips", "ips", "ips", "wellbeing", "group"], n),
        "referral_source": rng.choice(np.array(SOURCES, dtype=object), n, p=[0.45, 0.25, 0.1, 0.1, 0.1]),
        "start_date": start, "end_date": end, "end_reason": reason,
        "job_coach_id": rng.choice(np.array(["Anna Virtanen", "COACH-2", None], dtype=object), n),
    })


def make_project(clients: pd.DataFrame, min_cell: int, services=(), target=None) -> Project:
    options = pw.Options(caseload_target=target, services=tuple(services))
    params = SimpleNamespace(disclosure=Disclosure(min_cell, max(10, min_cell)), cutoff_date=CUTOFF,
                             options=lambda name: options, title={"fi": "T", "en": "T"}, description={},
                             evaluation_period=None, services={})
    return Project(params, "en", {"clients": clients})


def cases():
    for min_cell in MIN_CELLS:
        for seed in (0, 1, 3):
            for services in ((), ("ips",)):
                yield min_cell, 25 + 15 * seed, seed, services


def numeric(value) -> float | None:
    return None if isinstance(value, str) else float(value)


class Attack:
    """Integer unknowns for every count the attacker does not see, fixed values for the ones shown,
    and the relations between them; :meth:`ranges` gives each unknown's smallest and largest value."""

    def __init__(self, rules):
        self.rules, self.index, self.bounds, self.rows = rules, {}, [], []

    def cell(self, key, value) -> dict:
        """A published cell as a linear term: ``{unknown: 1}`` or ``{None: value}``."""
        if not isinstance(value, str):
            return {None: float(value)}
        if key not in self.index:
            self.index[key] = len(self.index)
            self.bounds.append((1, self.rules.min_cell - 1) if value == self.rules.symbol(publication.PRIMARY)
                               else (0, np.inf))
        return {key: 1.0}

    def relation(self, terms: list[tuple[float, dict]], low=0.0, high=0.0) -> None:
        """low ≤ Σ sign·term ≤ high."""
        self.rows.append((terms, low, high))

    def ranges(self) -> dict:
        n = len(self.index)
        if not n:
            return {}
        a, lows, highs = [], [], []
        for terms, low, high in self.rows:
            row, constant = np.zeros(n), 0.0
            for sign, term in terms:
                for key, value in term.items():
                    if key is None:
                        constant += sign * value
                    else:
                        row[self.index[key]] += sign * value
            a.append(row)
            lows.append(low - constant)
            highs.append(high - constant)
        constraints = LinearConstraint(np.array(a), lows, highs) if a else ()
        bounds = Bounds([b[0] for b in self.bounds], [b[1] for b in self.bounds])
        out = {}
        for key, k in self.index.items():
            c = np.zeros(n)
            c[k] = 1
            found = [milp(sign * c, constraints=constraints, bounds=bounds, integrality=np.ones(n))
                     for sign in (1, -1)]
            assert found[0].success, f"the published values are inconsistent: {found[0]}"
            out[key] = (found[0].fun, -found[1].fun if found[1].success else np.inf)  # else unbounded
        return out


def attack(section: PathwaysSection, overview: OverviewSection) -> dict:
    """Every relation an attacker knows between the published counts: the cross-table's rows and
    columns add up to their totals, the overview's flow is its total row and its client count the
    grand total, clients who started add up to the clients of the services, "in service" ≥
    "started", in service this year ≤ last year's + this year's starts, and equal in a service's
    first year."""
    shown, ov = section.published(), overview.published()
    a = Attack(section.rules)
    flow, volume = shown[FLOW], shown[VOLUME]
    counts = [c for c in flow.columns if c != "referral_source"]
    last = len(flow) - 1
    cell = lambda i, c: a.cell((FLOW, i, c), flow.at[i, c])  # noqa: E731
    for i in range(len(flow)):
        a.relation([(1, cell(i, c)) for c in counts[:-1]] + [(-1, cell(i, "total"))])
    for c in counts:
        a.relation([(1, cell(i, c)) for i in range(last)] + [(-1, cell(last, c))])
    by_service = shown[BY_SERVICE]
    scell = lambda i, c: a.cell((BY_SERVICE, i, c), by_service.at[i, c])  # noqa: E731
    slast = len(by_service) - 1
    for i in range(len(by_service)):
        a.relation([(1, scell(i, c)) for c in counts[:-1]] + [(-1, scell(i, "total"))])
    for c in counts:
        a.relation([(1, scell(i, c)) for i in range(slast)] + [(-1, scell(slast, c))])
        a.relation([(1, scell(slast, c)), (-1, cell(last, c))])
    row_of = {code: i for i, code in enumerate(by_service["service"])}
    oflow = ov[CLIENT_FLOW]
    for i, (service, reason) in enumerate(zip(oflow["service"], oflow["end_reason"])):
        a.relation([(1, a.cell(("overview", i), oflow.at[i, "n"])), (-1, scell(row_of[service], reason))])
        share = numeric(oflow.at[i, "share"])
        if share is not None:  # share × the service's total = 100·n
            total = numeric(by_service.at[row_of[service], "total"])
            a.relation([(1, a.cell(("overview", i), oflow.at[i, "n"]))], share * total / 100 - 1e-6,
                       share * total / 100 + 1e-6)
    data = ov["data_summary"].set_index("table")
    a.relation([(1, a.cell(("data", "n_rows"), data.at["clients", "n_rows"])), (-1, cell(last, "total"))])
    vcell = lambda i, c: a.cell((VOLUME, i, c), volume.at[i, c])  # noqa: E731
    chosen = set(section.options.services) or set(volume["service"])
    body = [i for i in range(last) if flow.at[i, "referral_source"] != "other_services"]
    other = [i for i in range(last) if flow.at[i, "referral_source"] == "other_services"]
    a.relation([(1, vcell(i, "n_started")) for i in volume.index if volume.at[i, "service"] in chosen]
               + [(-1, cell(i, "total")) for i in body])
    a.relation([(1, vcell(i, "n_started")) for i in volume.index if volume.at[i, "service"] not in chosen]
               + [(-1, cell(i, "total")) for i in other])
    for inside, rows in ((True, body), (False, other)):  # the referral rows add up to their services' rows
        services = [row_of[s] for s in row_of if s != "total" and (s in chosen) == inside]
        for c in counts:
            a.relation([(1, cell(i, c)) for i in rows] + [(-1, scell(i, c)) for i in services])
    for service, rows in volume.groupby("service"):
        a.relation([(1, vcell(i, "n_started")) for i in rows.index] + [(-1, scell(row_of[service], "total"))])
    for service, rows in volume.groupby("service"):
        previous = None
        for i in rows.sort_values("year").index:
            a.relation([(1, vcell(i, "n_in_service")), (-1, vcell(i, "n_started"))], 0, np.inf)
            if previous is None:
                a.relation([(1, vcell(i, "n_in_service")), (-1, vcell(i, "n_started"))])
            else:
                a.relation([(1, vcell(i, "n_in_service")), (-1, vcell(i, "n_started")),
                            (-1, vcell(previous, "n_in_service"))], -np.inf, 0)
            previous = i
    return a.ranges()


@pytest.mark.parametrize("min_cell, n, seed, services", list(cases()))
def test_no_hidden_count_of_clients_is_determined(min_cell, n, seed, services):
    project = make_project(synthetic_clients(n, seed), min_cell, services)
    section, overview = PathwaysSection(project), OverviewSection(project)
    ranges = attack(section, overview)
    determined = {k: r for k, r in ranges.items() if r[1] - r[0] < 0.5}
    assert not determined, f"hidden counts worked out: {determined}"


@pytest.mark.parametrize("min_cell, n, seed, services", list(cases())[::5])
def test_published_equals_internal_where_not_protected(min_cell, n, seed, services):
    project = make_project(synthetic_clients(n, seed), min_cell, services)
    section = PathwaysSection(project)
    internal, shown = section.internal(), section.published()
    rules = section.rules
    for name in (FLOW, VOLUME, CASELOAD):
        full, out = internal[name].reset_index(drop=True), shown[name]
        assert list(full.columns) == list(out.columns)
        for column in full.columns:
            for value, published in zip(full[column], out[column]):
                if publication.is_symbol(published, rules):  # "<m" is a true range; "x" says nothing
                    if published == rules.symbol(publication.PRIMARY):
                        assert 0 < value < rules.min_cell
                else:
                    assert published == value or (pd.isna(published) and pd.isna(value))
                if isinstance(value, (int, np.integer)) and 0 < value < rules.min_cell and column != "months":
                    assert publication.is_symbol(published, rules)


@pytest.mark.parametrize("services", [(), ("ips",)])
def test_overview_flow_is_the_published_rows_by_service(services):
    project = make_project(synthetic_clients(40, 3), 5, services)
    shown = PathwaysSection(project).published()
    flow, by_service = shown[FLOW], shown[BY_SERVICE].set_index("service")
    total = flow[flow["referral_source"].eq("total")].iloc[0]
    overview = OverviewSection(project).published()[CLIENT_FLOW]
    for service, reason, value in overview[["service", "end_reason", "n"]].itertuples(index=False):
        assert value == by_service.at[service, reason]
        if service == "total":
            assert value == total[reason]
    assert list(dict.fromkeys(overview["service"])) == list(by_service.index)
    assert flow["referral_source"].eq("other_services").any() == bool(services)


def test_figures_show_no_hidden_count():
    """The flow diagram's labels are published values or symbols; the caseload lines never show a
    value between 1 and min_cell − 1."""
    project = make_project(synthetic_clients(40, 1), 5, ("ips",))
    section = PathwaysSection(project)
    shown = section.published()[FLOW]
    labels_allowed = {str(v) for v in np.ravel(shown.drop(columns="referral_source").to_numpy(object))}
    for caption, fig in section.figures("en"):
        for text in fig.axes[0].texts:
            found = re.search(r"\(([^()]*)\)$", text.get_text())
            if found:
                assert found.group(1) in labels_allowed, text.get_text()
        for line in fig.axes[0].get_lines():
            y = np.asarray(line.get_ydata(), float)
            assert not ((y > 0) & (y < 5)).any(), (caption, y)


def test_coach_names_are_never_labels():
    clients = synthetic_clients(30, 2)
    labels = coach_labels(clients)
    assert set(labels.values()) == {"1", "2"}  # a name among the ids: every coach numbered
    first = clients.dropna(subset=["job_coach_id"]).sort_values(["start_date", "job_coach_id"]).iloc[0]
    assert labels[first["job_coach_id"]] == "1"  # in the order of their first client
    codes = clients.assign(job_coach_id=clients["job_coach_id"].replace({"Anna Virtanen": "JC07"}))
    assert coach_labels(codes) == {"COACH-2": "COACH-2", "JC07": "JC07"}
    section = PathwaysSection(make_project(clients, 5))
    assert set(section.published()[CASELOAD]["job_coach"]) == {"1", "2"}
    assert "Anna" not in " ".join(section.text("en"))


def test_no_target_no_target_column():
    section = PathwaysSection(make_project(synthetic_clients(30, 2), 5))
    assert "months_over_target" not in section.published()[CASELOAD]
    with_target = PathwaysSection(make_project(synthetic_clients(30, 2), 5, target=3))
    assert "months_over_target" in with_target.published()[CASELOAD]


def test_many_coaches_one_row_and_summary_lines():
    clients = synthetic_clients(120, 4)
    clients["job_coach_id"] = [f"C{k % (pw.MAX_COACH_LINES + 2)}" for k in range(len(clients))]
    section = PathwaysSection(make_project(clients, 3))
    assert len(section.published()[CASELOAD]) == 1
    monthly = section.monthly()
    assert set(monthly["job_coach"]) == {"max", "median"}
    load = section.load.groupby("month")["max_active"]
    largest = monthly[monthly["job_coach"].eq("max")].set_index("month")["max_active"]
    expected = load.max().astype(float).where(lambda v: ~((v > 0) & (v < 3)))
    pd.testing.assert_series_equal(largest, expected, check_names=False)

"""The overview section as an attacker sees it: its published tables and text."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from test_section_pathways import make_project, synthetic_clients  # noqa: E402

from tyokyky_eval import publication
from tyokyky_eval.errors import Problem
from tyokyky_eval.sections.overview import CLIENT_FLOW, DATA, QUALITY, OverviewSection
from tyokyky_eval.sections.pathways import FLOW, PathwaysSection

MIN_CELLS = (3, 5, 10)


def warnings(counts: dict[str, int]) -> list[Problem]:
    """``counts`` remarks of each kind on the clients file (one per row)."""
    out = []
    for kind, n in counts.items():
        out += [Problem("data/clients.csv", row, "end_date", f"Matti Meikäläinen {row}", value="x",
                        severity="warning", key=kind) for row in range(n)]
    return out


def ranges(values: list, total, rules) -> list[tuple[float, float]]:
    """Smallest and largest value of each hidden count when the counts add up to ``total``
    (itself maybe hidden), by integer programming."""
    cells = values + [total]
    hidden = [k for k, v in enumerate(cells) if isinstance(v, str)]
    if not hidden:
        return []
    known = sum((1 if k < len(values) else -1) * float(v) for k, v in enumerate(cells) if k not in hidden)
    row = np.array([1.0 if k < len(values) else -1.0 for k in hidden])
    bounds = Bounds([1 if cells[k] == rules.symbol(publication.PRIMARY) else 0 for k in hidden],
                    [rules.min_cell - 1 if cells[k] == rules.symbol(publication.PRIMARY) else np.inf for k in hidden])
    constraint = LinearConstraint(row[None, :], -known, -known)
    out = []
    for j in range(len(hidden)):
        c = np.zeros(len(hidden))
        c[j] = 1
        low, high = (milp(s * c, constraints=constraint, bounds=bounds, integrality=np.ones(len(hidden)))
                     for s in (1, -1))
        out.append((low.fun, -high.fun if high.success else np.inf))
    return out


@pytest.mark.parametrize("min_cell", MIN_CELLS)
@pytest.mark.parametrize("counts", [{"end_before_start": 2, "employment_after_end": 7},
                                    {"end_before_start": 1}, {"a": 2, "b": 2, "c": 9, "d": 30},
                                    {"end_before_start": 12, "employment_after_end": 3, "birth_year_range": 1}])
def test_quality_counts_and_their_total_reveal_no_small_count(min_cell, counts):
    project = make_project(synthetic_clients(30, 0), min_cell)
    project.warnings = warnings(counts)
    section = OverviewSection(project)
    shown = section.published()[QUALITY]
    rules = section.rules
    n = list(shown["n"])
    for low, high in ranges(n[:-1], n[-1], rules):
        assert high - low >= 0.5
    assert shown["file"].iloc[-1] == "total"
    text = " ".join(section.text("en"))
    assert f"with {publication.escape_markdown(n[-1])} remarks" in text  # the total in the text is the published one
    for value, published in zip(section.internal()[QUALITY]["n"], n):
        if 0 < value < min_cell:
            assert publication.is_symbol(published, rules)
        elif not publication.is_symbol(published, rules):
            assert published == value


def test_quality_shows_kinds_in_words_never_messages():
    project = make_project(synthetic_clients(30, 0), 5)
    project.warnings = warnings({"no_such_key": 6})
    project.labels = {"clients": "clients.csv"}
    section = OverviewSection(project)
    shown = next(t for t in section.tables() if t.name == QUALITY).data
    assert "Matti" not in shown.to_string() and "Matti" not in " ".join(section.text("en"))
    assert shown["kind"].iloc[0] == "Other remark"
    assert shown["file"].iloc[0] == "clients"  # the table, never the user's file name


@pytest.mark.parametrize("min_cell", MIN_CELLS)
def test_client_counts_follow_the_service_paths_protection(min_cell):
    clients = synthetic_clients(12, 2).iloc[: min_cell - 1] if min_cell > 3 else synthetic_clients(2, 2)
    project = make_project(clients, min_cell)
    section = OverviewSection(project)
    data = section.published()[DATA].set_index("table")
    grand = PathwaysSection(project).published()[FLOW].iloc[-1]["total"]
    assert data.at["clients", "n_rows"] == grand == data.at["clients", "n_units"]
    assert publication.is_symbol(grand, section.rules)
    assert f"{publication.escape_markdown(grand)} clients" in section.text("en")[1]
    assert section.internal()[DATA].set_index("table").at["clients", "n_rows"] == len(clients)


def test_flow_shares_withheld_with_their_counts_and_equal_internal_otherwise():
    project = make_project(synthetic_clients(60, 1), 5)
    section = OverviewSection(project)
    shown, full = section.published()[CLIENT_FLOW], section.internal()[CLIENT_FLOW]
    for (_, s), (_, f) in zip(shown.iterrows(), full.iterrows()):
        if publication.is_symbol(s["n"], section.rules):
            assert s["share"] == section.rules.symbol(publication.WITHHELD)
        else:
            assert s["n"] == f["n"] and s["share"] == pytest.approx(f["share"])
    assert shown["n"].iloc[-1] == 60 and shown["share"].iloc[-1] == 100


def test_months_not_days_and_rules_in_the_text():
    project = make_project(synthetic_clients(30, 0), 5)
    project.params.title = {"fi": "Hanke", "en": "Hanke [linkki](http://x)"}
    section = OverviewSection(project)
    data = section.published()[DATA]
    assert list(data.columns) == ["table", "n_rows", "n_units", "first_month", "last_month"]
    assert data["first_month"].iloc[0] == pd.Timestamp(project.table("clients")["start_date"].min()).strftime("%Y-%m")
    text = section.text("en")
    assert publication.escape_markdown("[linkki](http://x)") in text[0]
    assert text[-1] == section.rules.legend("en") and "“x”" in text[-2]
    assert section.figures("en") == []

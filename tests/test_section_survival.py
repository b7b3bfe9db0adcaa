"""The survival section as an attacker sees it: only its published tables and figures."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tyokyky_eval import demo, publication, sections
from tyokyky_eval.project import load_project

from attacker import attack, equation

MIN_CELLS = (3, 5, 10)


def project(project_files, min_cell: int, clients: int, seed: int, group="referral_source"):
    spec = demo.DemoSpec(seed=seed, clients=clients)
    tables = demo.generate(spec)
    project_files.tables = tables
    for name, frame in tables.items():
        project_files.write(name, frame)
    project_files.params["disclosure"] = {"min_cell": min_cell, "min_followup": max(10, min_cell)}
    project_files.params["analyses"] = {"survival": {"group": group}}
    return load_project(project_files.save_params(), "en")


def numeric(value) -> float:
    return float(value) if not isinstance(value, str) else np.nan



def relations(section, code: str | None = None) -> tuple[dict, list, dict]:
    """What an attacker knows from the published summary and rules tables (of service ``code``, or
    all rows): the groups add up to all clients (n and jobs), the rules add up to all clients, the
    job rules to all jobs."""
    rules = section.rules
    shown = {name: frame if code is None else frame[frame["service"].eq(code)].reset_index(drop=True)
             for name, frame in section.published().items()}
    summary, rule_table = shown["survival_summary"], shown["survival_rules"]
    unknowns, bounds = {}, {}

    def term(table, row, column, value):
        if isinstance(value, str):
            name = f"{code or ''}:{table}:{row}:{column}"
            unknowns[name] = value
            bounds[name] = (1, rules.min_cell - 1) if value == rules.symbol(publication.PRIMARY) else (0, None)
            return {name: 1.0}, 0.0
        return {}, float(value)

    equations = []
    for column in ("n", "n_events"):
        total = term("summary", 0, column, summary.at[0, column])
        parts = [term("summary", i, column, summary.at[i, column]) for i in range(1, len(summary))]
        if len(parts):
            equations.append(equation(total, parts))
    total_n = term("summary", 0, "n", summary.at[0, "n"])
    equations.append(equation(total_n, [term("rules", i, "n", v) for i, v in enumerate(rule_table["n"])]))
    jobs = [term("rules", i, "n", v) for i, (r, v) in enumerate(zip(rule_table["rule"], rule_table["n"]))
            if r in ("job", "job_after_end", "event_reason_at_end")]
    equations.append(equation(term("summary", 0, "n_events", summary.at[0, "n_events"]), jobs))
    return unknowns, equations, bounds


@pytest.mark.parametrize("min_cell", MIN_CELLS)
@pytest.mark.parametrize("clients, seed", [(24, 1), (35, 3), (80, 3), (150, 9)])
def test_no_suppressed_count_is_recovered_by_linear_programming(project_files, min_cell, clients, seed):
    section = sections.load("survival", project(project_files, min_cell, clients, seed))
    unknowns, equations, bounds = relations(section)
    for name, (low, high) in attack(unknowns, equations, bounds).items():
        assert high - low >= 1 - 1e-9, f"{name} recovered: {low}…{high}"


@pytest.mark.parametrize("min_cell", MIN_CELLS)
@pytest.mark.parametrize("clients, seed", [(35, 3), (80, 3), (300, 5)])
def test_curves_reveal_no_interval_with_few_jobs_or_clients_at_risk(project_files, min_cell, clients, seed):
    section = sections.load("survival", project(project_files, min_cell, clients, seed))
    shown = section.published()
    km, summary = shown["survival_km"], shown["survival_summary"].set_index("group")
    all_days = set(km.loc[km["group"].eq("all"), "time_days"])
    for group, rows in km.groupby("group"):
        assert (rows["n_at_risk"].astype(float) >= min_cell).all()
        events = rows["n_events"].astype(float)
        assert ((events == 0) | (events >= min_cell)).all()
        assert set(rows["time_days"]) <= all_days
        total = summary.at[group, "n_events"]
        if not isinstance(total, str):  # jobs after the last published point are not a small count
            after = float(total) - events.sum()
            assert after == 0 or after >= min_cell
        days = list(rows["time_days"])
        assert days == sorted(days)
    groups = summary.drop(index="all")["n"]
    assert all(isinstance(n, str) or n >= min_cell for n in groups)


def test_published_values_equal_the_internal_ones(project_files):
    section = sections.load("survival", project(project_files, 5, 150, 9))
    shown = section.published()["survival_km"]
    internal = section.internal()["survival_km"]
    for _, row in shown.iterrows():
        curve = internal[internal["group"].eq(row["group"]) & internal["time_days"].le(row["time_days"])]
        assert row["cumulative_incidence"] == pytest.approx(curve["cumulative_incidence"].iloc[-1], abs=1e-12)


def test_figures_are_drawn_from_published_values(project_files):
    import matplotlib

    matplotlib.use("Agg")
    section = sections.load("survival", project(project_files, 5, 150, 9))
    km = section.published()["survival_km"]
    captions = [caption for caption, _ in section.figures("en")]
    assert captions
    fig = section.cohorts["ips"].figure_km(km.drop(columns="service"), "en")
    for line, (group, rows) in zip(fig.axes[0].lines, km.groupby("group", sort=False)):
        assert list(line.get_ydata()) == pytest.approx(list(rows["cumulative_incidence"].astype(float)))


def test_small_groups_are_combined_so_no_group_is_isolated():
    codes = pd.Series(["a"] * 10 + ["b"] * 6 + ["c"] * 2 + ["d"] * 1)
    collapsed = publication.collapse_small_groups(codes, 5)
    assert collapsed.value_counts().to_dict() == {"a": 10, "other_groups": 9}  # c + d = 3 < 5: b joins
    events = pd.Series([True] * 2 + [False] * 8 + [False] * 9)
    collapsed = publication.collapse_small_groups(codes, 5, events=events)
    assert "a" not in set(collapsed)  # a has 2 jobs: combined


def test_rules_reject_unsafe_thresholds():
    for bad in (0, -3, 2, True, 4.5, "5"):
        with pytest.raises(ValueError):
            publication.Rules(min_cell=bad)
    with pytest.raises(ValueError, match="min_followup"):
        publication.Rules(min_cell=5, min_followup=4)

"""The survival section as an attacker sees it: only its published tables and figures."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from attacker import attack, equation

from tyokyky_eval import demo, load_section, publication
from tyokyky_eval.i18n import fmt_percent
from tyokyky_eval.inputs.project import load_project

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
    section = load_section("survival", project(project_files, min_cell, clients, seed))
    unknowns, equations, bounds = relations(section)
    for name, (low, high) in attack(unknowns, equations, bounds).items():
        assert high - low >= 1 - 1e-9, f"{name} recovered: {low}…{high}"


@pytest.mark.parametrize("min_cell", MIN_CELLS)
@pytest.mark.parametrize("clients, seed", [(35, 3), (80, 3), (80, 5), (300, 5)])
def test_curves_show_a_step_only_after_enough_clients_left_follow_up(project_files, min_cell, clients, seed):
    """The published Kaplan–Meier table has no interval job counts; at every point but day 0 at
    least min_cell clients have left the risk set since the previous point, at least min_cell are
    still followed, and the jobs by then are 0 or at least min_cell (recomputed from the data).
    The groups share one set of (≥ 2) points."""
    section = load_section("survival", project(project_files, min_cell, clients, seed))
    shown = section.published()
    km, summary = shown["survival_km"], shown["survival_summary"].set_index("group")
    assert "n_events" not in km.columns
    cohort = section.cohorts["ips"]
    time, event = cohort.tte["time_days"].to_numpy(float), cohort.tte["event"].to_numpy(bool)
    group_days = set()
    for group, rows in km.groupby("group"):
        mask = (np.ones(len(time), dtype=bool) if group == "all"
                else cohort.group.astype("string").eq(group).fillna(False).to_numpy())
        days = list(rows["time_days"].astype(float))
        assert days == sorted(days)
        assert (rows["n_at_risk"].astype(float) >= min_cell).all()
        previous = -np.inf
        for day, left in zip(days, rows["n_left"].astype(int)):
            assert left == (0 if day == 0 else int((mask & (time > previous) & (time <= day)).sum()))
            assert day == 0 or left >= min_cell
            jobs = int((mask & event & (time <= day)).sum())
            assert jobs == 0 or jobs >= min_cell
            previous = day
        if group != "all":
            group_days.add(tuple(days))
    assert len(group_days) <= 1 and all(len(days) >= 2 for days in group_days)
    groups = summary.drop(index="all")["n"]
    assert all(isinstance(n, str) or n >= min_cell for n in groups)


ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", ["demo", "essote-tyokykya-ja-kumppanuutta", "pohde-palo2"])
def test_example_services_with_enough_jobs_show_at_least_three_points(name):
    """Every service with at least 2 × min_cell jobs shows its all-clients curve at ≥ 3 points,
    reaching 12 months where at least min_cell clients are followed that long."""
    section = load_section("survival", load_project(ROOT / "parameters" / f"{name}.yaml", "en"))
    km = section.published()["survival_km"]
    for code, cohort in section.cohorts.items():
        min_cell = cohort.rules.min_cell
        days = list(km.query("service == @code and group == 'all'")["time_days"].astype(float))
        assert days == cohort.days
        if cohort.tte["event"].sum() >= 2 * min_cell:
            assert len(days) >= 3, code
            assert days[-1] >= 365 or (cohort.tte["time_days"] >= 365).sum() < min_cell


def test_withheld_incidence_gives_the_true_reason():
    """Essote's 6-month incidence is published now; Pohde Ii's 6-month point is skipped by the rule
    (16 clients followed), which the text says, and no longer claims that too few were followed."""
    essote = load_section("survival", load_project(ROOT / "parameters" / "essote-tyokykya-ja-kumppanuutta.yaml", "en"))
    text = " ".join(essote.text("en"))
    assert "By 6 months" in text and "estimate at 6 months" not in text
    pohde = load_section("survival", load_project(ROOT / "parameters" / "pohde-palo2.yaml", "en"))
    ii = pohde.cohorts["ips_ii"]
    assert (ii.tte["time_days"] >= 182).sum() >= ii.rules.min_cell and 182 not in ii.days
    text = ii._text_summary("en")
    assert "estimate at 6 months is not shown: the curve is shown only at time points" in text
    assert "6 months is withheld because fewer than" not in text
    assert "12 months is withheld because fewer than 5 clients were followed" in text
    assert "kuukauden kohdalla ei näytetä: käyrä näytetään vain ajankohtina" in ii._text_summary("fi")


def test_groups_without_two_common_points_are_left_out_and_said_so():
    """Demo: the two referral groups have no second point meeting the rule (a group has < 5 jobs
    by 6 months and too few followed later): no group curves, the all-clients curve keeps its 3."""
    section = load_section("survival", load_project(ROOT / "parameters" / "demo.yaml", "en"))
    cohort = section.cohorts["ips"]
    km = section.published()["survival_km"]
    assert set(km["group"]) == {"all"} and len(cohort.days) >= 3 and cohort.group_days == []
    assert "No curves by group are shown" in " ".join(section.text("en"))
    assert "Ryhmittäisiä käyriä ei näytetä" in " ".join(section.text("fi"))


def test_a_skipped_point_reports_the_nearest_published_one(project_files):
    section = load_section("survival", project(project_files, 5, 150, 1))
    cohort = section.cohorts["ips"]
    assert {0, 91, 182, 365} <= set(cohort.days)
    shown = cohort.published()
    km = shown["survival_km"]
    at_91 = km[km["group"].eq("all") & km["time_days"].eq(91)].iloc[0]
    cohort._published = lambda code: {**shown, "survival_km": km[~km["time_days"].isin([182, 273, 365])]}
    text = cohort._text_summary("en")
    value = fmt_percent(at_91["cumulative_incidence"], "en").rstrip("%")  # the prose escapes % for Markdown
    assert f"so 6 months is not among them; by 3 months, the nearest time point shown before it, {value}" in text
    assert "so 12 months is not among them; by 3 months" in text
    assert "lähimpään aiempaan näytettyyn ajankohtaan eli 3 kuukauden kuluessa" in cohort._text_summary("fi")
    cohort._published = lambda code: {**shown, "survival_km": km[km["time_days"].eq(0)]}
    assert "The estimate at 6 months is not shown: the curve is shown only" in cohort._text_summary("en")


def test_published_values_equal_the_internal_ones(project_files):
    section = load_section("survival", project(project_files, 5, 150, 9))
    shown = section.published()["survival_km"]
    internal = section.internal()["survival_km"]
    for _, row in shown.iterrows():
        curve = internal[internal["group"].eq(row["group"]) & internal["time_days"].le(row["time_days"])]
        assert row["cumulative_incidence"] == pytest.approx(curve["cumulative_incidence"].iloc[-1], abs=1e-12)


def test_figures_are_drawn_from_published_values(project_files):
    import matplotlib

    matplotlib.use("Agg")
    section = load_section("survival", project(project_files, 5, 150, 9))
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

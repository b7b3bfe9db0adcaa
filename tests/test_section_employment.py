"""The employment section as an attacker sees it: only its published tables, text and figure."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from attacker import attack, equation

from tyokyky_eval import demo, load_section, publication
from tyokyky_eval.inputs.project import load_project

MIN_CELLS = (3, 5, 10)
COHORTS = ({"service": "ips", "clients": 35},
           {"service": "work_ability_service", "clients": 60, "clients_per_coach": 0,
            "outcome_mix": {"employed": 3, "other_service": 40, "dropped_out": 10, "": 7}},
           {"service": "lifestyle_guidance", "clients": 20, "clients_per_coach": 0,
            "outcome_mix": {"employed": 1, "other": 15, "": 4}})


def project(project_files, min_cell: int, seed: int, second_job_share: float = 0.2):
    spec = demo.DemoSpec(seed=seed, cohorts=COHORTS, second_job_share=second_job_share,
                         tables=("clients", "employment"))
    tables = demo.generate(spec)
    project_files.params["data"] = {name: f"data/{name}.csv" for name in tables}
    for name, frame in tables.items():
        project_files.write(name, frame)
    project_files.params["disclosure"] = {"min_cell": min_cell, "min_followup": max(10, min_cell)}
    return load_project(project_files.save_params(), "en")


def relations(section):
    """What an attacker knows from the published tables: the lines of the module docstring."""
    rules, shown = section.rules, section.published()
    unknowns, bounds = {}, {}

    def term(table, row, column):
        value = shown[table].at[row, column]
        if isinstance(value, str):
            name = f"{table}:{row}:{column}"
            unknowns[name] = (table, row, column)
            bounds[name] = (1, rules.min_cell - 1) if value == rules.symbol(publication.PRIMARY) else (0, None)
            return {name: 1.0}, 0.0
        return {}, float(value)

    clients, jobs, tenure = "employment_clients", "employment_jobs", "employment_tenure"
    equations = []
    for i in range(len(shown[clients])):
        equations.append(equation(term(clients, i, "n_clients"),
                                  [term(clients, i, c) for c in ("n_employed", "n_not_employed")]))
        equations.append(equation(term(clients, i, "n_employed"), [term(clients, i, c) for c in (
            "n_wage_subsidy", "n_no_wage_subsidy", "n_wage_subsidy_unknown")]))
        equations.append(equation(term(jobs, i, "n_jobs"), [term(jobs, i, c) for c in (
            "n_private", "n_public", "n_third_sector", "n_other", "n_sector_unknown")]))
        equations.append(equation(term(jobs, i, "n_jobs"),
                                  [term(clients, i, "n_employed"), term(jobs, i, "n_additional_jobs")]))
    for i in range(len(shown[tenure])):
        equations.append(equation(term(tenure, i, "n_followed"),
                                  [term(tenure, i, c) for c in ("n_still_employed", "n_ended")]))
    return unknowns, equations, bounds


@pytest.mark.parametrize("min_cell", MIN_CELLS)
@pytest.mark.parametrize("seed", [1, 4, 11])
def test_no_hidden_count_is_recovered(project_files, min_cell, seed):
    section = load_section("employment", project(project_files, min_cell, seed))
    unknowns, equations, bounds = relations(section)
    internal = section.internal()
    for name, (low, high) in attack(unknowns, equations, bounds).items():
        table, row, column = unknowns[name]
        true = internal[table].at[row, column]
        assert low < high or true == 0, f"{name} = {true} recovered (min_cell {min_cell})"


def published_elsewhere(project, internal) -> dict:
    """``(service, column) → value`` an attacker reads in other sections of the same appendix: the
    survival summary's jobs and the service-paths flow's employed clients and total, kept where
    the number equals this section's count (the attacker may take them for the same count)."""
    summary = load_section("survival", project).published()["survival_summary"]
    flow = load_section("pathways", project).published()["pathways_service_outcomes"]
    every = summary[summary["group"].eq("all")]
    candidates = [*((s, "n_employed", v) for s, v in zip(every["service"], every["n_events"])),
                  *((s, "n_employed", v) for s, v in zip(flow["service"], flow["employed"])),
                  *((s, "n_clients", v) for s, v in zip(flow["service"], flow["total"]))]
    true = internal["employment_clients"].set_index("service")
    return {(s, c): float(v) for s, c, v in candidates
            if not isinstance(v, str) and s in true.index and float(v) == float(true.at[s, c])}


@pytest.mark.parametrize("min_cell", MIN_CELLS)
@pytest.mark.parametrize("seed", [1, 4, 11])
def test_no_hidden_count_is_recovered_with_the_other_sections(project_files, min_cell, seed):
    """Issue 13's cross-section attack: the employed clients read in the survival section (or the
    flow) and subtracted here (jobs − employed = additional jobs) give back no hidden count."""
    project_ = project(project_files, min_cell, seed, second_job_share=0.1)
    section = load_section("employment", project_)
    internal = section.internal()
    known = published_elsewhere(project_, internal)
    unknowns, equations, bounds = relations(section)
    services = list(section.published()["employment_clients"]["service"])
    for name, (table, row, column) in unknowns.items():
        if table == "employment_clients" and (services[row], column) in known:
            equations.append(equation(({name: 1.0}, 0.0), [({}, known[(services[row], column)])]))
    for name, (low, high) in attack(unknowns, equations, bounds).items():
        table, row, column = unknowns[name]
        true = internal[table].at[row, column]
        assert low < high or true == 0, f"{name} = {true} recovered (min_cell {min_cell})"


@pytest.mark.parametrize("min_cell", MIN_CELLS)
@pytest.mark.parametrize("seed", [1, 4, 11])
def test_shares_and_tenure_steps(project_files, min_cell, seed):
    """A share is never published next to a hidden count behind it, and between two published
    tenure estimates (from the start for the first) 0 or at least min_cell jobs ended."""
    section = load_section("employment", project(project_files, min_cell, seed))
    shown, internal, rules = section.published(), section.internal(), section.rules

    def hidden(value):
        return publication.is_symbol(value, rules)

    clients = shown["employment_clients"]
    for i in range(len(clients)):
        if not hidden(clients.at[i, "wage_subsidy_share"]):
            assert not hidden(clients.at[i, "n_wage_subsidy"]) and not hidden(clients.at[i, "n_no_wage_subsidy"])
    tenure, true = shown["employment_tenure"], internal["employment_tenure"]
    for _, rows in true.groupby("service"):
        for count, estimate in (("n_ended_between", "share"), ("n_ended_interval", "retention")):
            pending = 0
            for i in rows.sort_values("days").index:
                pending += int(true.at[i, count])
                if not hidden(tenure.at[i, estimate]) and not pd.isna(tenure.at[i, estimate]):
                    assert pending == 0 or pending >= min_cell, (count, i, pending)
                    pending = 0
        for i in rows.index:
            if not hidden(tenure.at[i, "share"]):
                assert not hidden(tenure.at[i, "n_still_employed"]) and not hidden(tenure.at[i, "n_ended"])


def test_text_and_figure_use_published_values(project_files):
    section = load_section("employment", project(project_files, 3, 4))
    shown = section.published()
    text = " ".join(section.text("en"))
    for i, row in shown["employment_clients"].iterrows():
        assert f"{publication.escape_markdown(str(row['n_employed']))} of {row['n_clients']} clients" in text
    tenure = shown["employment_tenure"]
    published_shares = [float(v) for v in tenure["share"] if not publication.is_symbol(v, section.rules)
                        and not pd.isna(v)]
    figures = section.figures("en")
    if not published_shares:
        assert figures == []
        return
    ax = figures[0][1].axes[0]
    heights = sorted(p.get_height() for p in ax.patches)
    assert heights == pytest.approx(sorted(published_shares))


def test_tenure_figure_draws_a_share_of_one(project_files):
    """Everyone still employed: Wilson's upper limit of 41/41 falls a rounding error below 1, and
    the error bar must not turn negative (a generated programme's project stopped on it)."""
    from statsmodels.stats.proportion import proportion_confint

    section = load_section("employment", project(project_files, 3, 4))
    low, high = proportion_confint(41, 41, method="wilson")
    tenure = pd.DataFrame({"service": ["ips"], "days": [90], "share": [1.0], "ci_low": [low], "ci_high": [high]})
    assert high < 1.0
    assert section.figure_tenure(tenure, "en").axes[0].patches[0].get_height() == 1.0


def test_essote_like_pilot_hides_the_one_client_with_two_jobs(project_files):
    """10 employed, one of them twice (min_cell 5): the additional job is '<5', and neither
    "jobs − employed" nor the sectors give it back."""
    section = load_section("employment", project(project_files, 5, 4, second_job_share=0.1))
    ips = section.internal()["employment_jobs"].set_index("service").loc["ips"]
    assert ips["n_additional_jobs"] == 1
    shown = section.published()
    row = shown["employment_jobs"].index[shown["employment_jobs"]["service"].eq("ips")][0]
    assert shown["employment_jobs"].at[row, "n_additional_jobs"] == "<5"
    employed, jobs = shown["employment_clients"].at[row, "n_employed"], shown["employment_jobs"].at[row, "n_jobs"]
    assert isinstance(employed, str) or isinstance(jobs, str)
    assert np.isfinite(float(shown["employment_clients"].at[row, "n_clients"]))

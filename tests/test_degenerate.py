"""Valid but degenerate projects: every section runs and says in one sentence what it cannot estimate.

Each case changes the small valid project of ``conftest.ProjectFiles`` into a shape that real
projects have (nobody employed yet, everyone employed, everyone employed on the same day, everyone
still in service, one client, all censored at day 0, ties everywhere, one group, no answers, one
round, one site, one rater) and builds every section's blocks in this process, as a run does
before its kernel shows them. One case also runs the whole appendix from the command line.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib
import pandas as pd
import pytest

from tyokyky_eval import load_section, publication
from tyokyky_eval.cli import main
from tyokyky_eval.i18n import t
from tyokyky_eval.inputs.project import load_project

matplotlib.use("Agg")


def run_notebooks(params_path: Path, language: str = "en") -> str:
    """What the appendix notebooks show of the project, built as a run builds it (the protected
    appendix once, then every section's blocks, ``render.document.section_blocks``, which the
    notebooks' ``report.show_tables`` / ``show_figures`` display); returns the text of every prose
    block (the sections' findings)."""
    import matplotlib.pyplot as plt

    from tyokyky_eval.inputs.project import load_project
    from tyokyky_eval.publication.appendix import protect_appendix
    from tyokyky_eval.render.document import Prose, section_blocks

    appendix = protect_appendix(load_project(params_path, language))
    shown = [block.markdown for section in appendix.sections.values()
             for blocks in section_blocks(section, language).values() for block in blocks if isinstance(block, Prose)]
    plt.close("all")
    return "\n".join(shown)


def change_clients(files, change) -> None:
    clients = change(files.tables["clients"].copy())
    files.tables["clients"] = clients
    files.write("clients", clients)
    kept = files.tables["kykyviisari"]
    kept = kept[kept["client_id"].isin(clients["client_id"])]
    files.write("kykyviisari", kept)


def nobody_employed(c):
    c["first_employment_date"] = pd.NaT
    c["end_reason"] = c["end_reason"].replace({"employed": "dropped_out", "pension": "dropped_out"})
    c["wage_subsidy"] = ""
    return c


def everybody_employed(c):
    c["end_reason"] = "employed"
    c["end_date"] = c["end_date"].fillna(c["start_date"] + pd.Timedelta(days=100))
    c["first_employment_date"] = c["first_employment_date"].fillna(c["start_date"] + pd.Timedelta(days=50))
    return c


def everybody_employed_on_day_50(c):
    c["first_employment_date"] = c["start_date"] + pd.Timedelta(days=50)
    c["end_date"], c["end_reason"], c["wage_subsidy"] = c["start_date"] + pd.Timedelta(days=100), "employed", ""
    return c


def everybody_in_service(c):
    c["end_date"], c["end_reason"], c["first_employment_date"], c["wage_subsidy"] = pd.NaT, "", pd.NaT, ""
    return c


def censored_at_day_0(c):
    c["end_date"], c["end_reason"], c["first_employment_date"], c["wage_subsidy"] = \
        c["start_date"], "dropped_out", pd.NaT, ""
    return c


def ties_everywhere(c):
    c["start_date"] = pd.Timestamp("2021-01-01")
    c["first_employment_date"] = c["first_employment_date"].where(c["first_employment_date"].isna(),
                                                                  pd.Timestamp("2021-06-01"))
    c["end_date"] = c["end_date"].where(c["end_date"].isna(), pd.Timestamp("2021-07-01"))
    return c


def one_group(c):
    c["referral_source"] = "kuntakokeilu"
    return c


CLIENT_CASES = {
    "nobody_employed": (nobody_employed, "survival.text.no_events"),
    "everybody_employed": (everybody_employed, None),
    "everybody_employed_on_day_50": (everybody_employed_on_day_50, None),
    "everybody_in_service": (everybody_in_service, "survival.text.no_events"),
    "one_client": (lambda c: c.iloc[:1], "survival.text.too_few_clients"),
    "censored_at_day_0": (censored_at_day_0, "survival.text.no_events"),
    "ties_everywhere": (ties_everywhere, None),
    "one_group": (one_group, "survival.text.one_group"),
}


@pytest.mark.parametrize("case", sorted(CLIENT_CASES))
@pytest.mark.parametrize("grouped", [False, True], ids=["ungrouped", "by_referral"])
def test_degenerate_clients_give_a_complete_section(project_files, case, grouped):
    change, sentence = CLIENT_CASES[case]
    change_clients(project_files, change)
    if grouped:
        project_files.params["analyses"] = {"survival": {"group": "referral_source",
                                                         "covariates": ["gender"]}}
    text = run_notebooks(project_files.save_params())
    if sentence and (grouped or sentence != "survival.text.one_group"):
        assert t(sentence, "en", min_cell=5) in text


def test_nobody_employed_with_groups_says_why_there_is_no_log_rank_test(project_files):
    change_clients(project_files, nobody_employed)
    project_files.params["analyses"] = {"survival": {"group": "gender"}}
    text = run_notebooks(project_files.save_params())
    assert t("survival.text.logrank_no_events", "en") in text


def test_everybody_employed_on_one_day_publishes_what_can_be_estimated(project_files):
    """Every job on day 50: the Cox model, its proportional-hazards test, the log-rank test and the
    median's CI are undefined; the section publishes the counts and the median and says why."""
    change_clients(project_files, everybody_employed_on_day_50)
    project_files.params["analyses"] = {"survival": {"group": "referral_source", "covariates": ["age_at_start"]}}
    section = load_section("survival", load_project(project_files.save_params(), "en"))
    published = section.published()
    summary = published["survival_summary"].set_index("group")
    assert summary.loc["all", ["n", "n_events", "median_days"]].tolist() == [20, 20, 50]
    assert summary["median_ci_low"].isna().all() and summary["median_ci_high"].isna().all()
    assert published["survival_km"][["group", "time_days", "n_at_risk"]].values.tolist() == [["all", 0.0, 20]]
    assert "survival_cox" not in published and "survival_ph" not in published
    assert section.figures("en") == []
    for language in ("fi", "en"):
        text = "\n".join(section.text(language))
        assert publication.text("survival.text.cox_tied_events", language, covariates="age_at_start") in text
        assert t("survival.text.median_no_ci", language, days="50") in text
        assert t("survival.text.logrank_undefined", language) in text


def test_one_job_day_with_clients_followed_after_it_fits_cox_without_a_ph_test(project_files):
    """Jobs on day 50 only, five clients still in service: the Cox model is fitted (hazard ratio
    published), its proportional-hazards test is undefined (no spread of job times) and said so."""
    def change(c):
        c = everybody_employed_on_day_50(c)
        c.loc[c.index[:5], ["end_date", "first_employment_date"]] = pd.NaT
        c.loc[c.index[:5], "end_reason"] = ""
        return c

    change_clients(project_files, change)
    project_files.params["analyses"] = {"survival": {"covariates": ["age_at_start"]}}
    section = load_section("survival", load_project(project_files.save_params(), "en"))
    published = section.published()
    assert published["survival_cox"]["term"].tolist() == ["age_at_start"] and "survival_ph" not in published
    assert section.cohorts["ips"].cox.ph is None
    for language in ("fi", "en"):
        text = "\n".join(section.text(language))
        assert t("survival.text.cox", language, n=20, events=15, terms=1) in text
        assert t("survival.text.ph_undefined", language) in text


def test_all_feedback_answers_empty(project_files):
    feedback = project_files.tables["feedback"].assign(response="")
    project_files.write("feedback", feedback)
    run_notebooks(project_files.save_params())


def test_one_feedback_round_one_site_one_rater(project_files):
    feedback = project_files.tables["feedback"]
    project_files.write("feedback", feedback[feedback["round"].eq(feedback["round"].min())])
    fidelity = project_files.tables["fidelity"]
    fidelity = fidelity[fidelity["rater"].eq("consensus") & fidelity["site_id"].eq(fidelity["site_id"].iloc[0])]
    project_files.write("fidelity", fidelity)
    run_notebooks(project_files.save_params())


@pytest.mark.slow
def test_nobody_employed_gives_a_complete_appendix(project_files, tmp_path):
    change_clients(project_files, nobody_employed)
    assert main(["run", str(project_files.save_params()), "--output", str(tmp_path / "out"),
                 "--language", "en", "--no-pdf"]) == 0
    html = (tmp_path / "out" / "broken-test" / "appendix.html").read_text(encoding="utf-8")
    assert t("survival.text.no_events", "en") in html

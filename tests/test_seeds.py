"""The seed projects: every parameters file validates once its synthetic data are generated, and
each dataset reproduces the figures its seed document reports (DOMAIN.md, ../shared/seeds/)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from tyokyky_eval import demo
from tyokyky_eval.cli import main
from tyokyky_eval.errors import ParameterError
from tyokyky_eval.inputs.project import load_project
from tyokyky_eval.stats import feedback as fb
from tyokyky_eval.stats import pathways as pw

PARAMETERS = Path(__file__).resolve().parent.parent / "parameters"
SEEDS = ["essote-tyokykya-ja-kumppanuutta", "phhyky-tuetusti-tyohon", "helsinki-tyokykyisempi-stadi",
         "pohde-palo2"]


def generated_projects(root: Path, names, language: str | None = None) -> dict:
    """Each named parameters file copied to ``root/parameters``, its synthetic data generated there
    (``demo-data --params``), loaded."""
    (root / "parameters").mkdir()
    paths = [shutil.copy(PARAMETERS / f"{name}.yaml", root / "parameters") for name in names]
    assert main(["demo-data", "--params", *map(str, paths)]) == 0
    return {name: load_project(root / "parameters" / f"{name}.yaml", language) for name in names}


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    return generated_projects(tmp_path_factory.mktemp("seeds"), SEEDS)


def counts(series: pd.Series) -> dict:
    return series.fillna("ongoing").value_counts().to_dict()


@pytest.mark.parametrize("seed", SEEDS)
def test_every_seed_validates_and_its_responses_fit_the_survey_specs(projects, seed):
    project = projects[seed]
    assert project.params.project_id == seed and not project.warnings
    responses = project.table("feedback")
    specs = fb.survey_specs(responses, project.params.options("feedback"))
    assert not fb.out_of_scale(responses, specs).any()


def test_essote_ips_pilot_services_and_development_group(projects):
    project = projects["essote-tyokykya-ja-kumppanuutta"]
    clients = project.table("clients")
    ips = clients[clients["service"].eq("ips")]
    assert len(ips) == 35
    assert counts(ips["referral_source"]) == {"kuntakokeilu": 19, "social_work": 6, "typ": 3, "te_services": 3,
                                              "work_ability_coordinator": 2, "self": 2}
    assert counts(ips["end_reason"]) == {"employed": 10, "work_trial": 6, "rehabilitative_work": 1, "pension": 2,
                                         "other_service": 2, "dropped_out": 9, "ongoing": 5}
    load = pw.caseload(ips, project.params.cutoff_date)
    assert load["job_coach"].nunique() == 2 and load["max_active"].max() <= 10  # "at most 10 at a time"
    volume = pw.service_volume(clients, project.params.cutoff_date).set_index(["service", "year"])
    assert volume.loc[("work_ability_service", 2022), "n_in_service"] > 500  # "over 500 clients in 2022"
    assert (clients["service"] == "lifestyle_guidance").sum() == 63
    measured = project.table("kykyviisari")["client_id"]
    assert measured.nunique() == 31 and measured.isin(ips["client_id"]).all()  # 31 with a Kykyviisari id
    assert project.table("fidelity") is None  # Essote did not score its IPS fidelity
    feedback = project.table("feedback")
    summary = fb.item_summary(feedback[feedback["survey_id"].eq("development_group")]).set_index("item_id")
    assert summary["n"].eq(10).all()
    assert summary["mean"].round(2).to_dict() == {"development_achieved": 3.8, "expectations_met": 3.4,
                                                  "meetings_attended": 4.5, "teams_as_tool": 4.0}
    assert summary.drop(index="meetings_attended")["sd"].idxmax() == "teams_as_tool"  # large spread


def test_phhyky_three_services_workshops_and_mood_meter(projects):
    project = projects["phhyky-tuetusti-tyohon"]
    clients = project.table("clients")
    services = {"work_ability_coordinator", "group_employment", "ips"}
    assert set(clients["service"]) == services
    measured = clients[clients["client_id"].isin(project.table("kykyviisari")["client_id"])]
    assert set(measured["service"]) == services  # Kykyviisari in all three services
    responses = project.table("feedback")
    assert set(responses["survey_id"]) == {"client_experience", "stakeholder_feedback", "process_evaluation",
                                           "mood_meter"}
    comparison = fb.compare_rounds(responses)
    workshops = comparison[comparison["survey_id"].eq("process_evaluation")]
    assert set(workshops["respondent_group"]) == {"project_workers", "stakeholders"}
    assert workshops["paired"].all() and set(workshops["test"]) == {"wilcoxon", "friedman"}
    assert responses.query("survey_id == 'process_evaluation'")["round"].max() == 3  # three workshops
    assert responses.query("survey_id == 'mood_meter'")["round"].nunique() == 6
    assert project.table("fidelity") is None


def test_helsinki_network_consultations_and_user_survey(projects):
    project = projects["helsinki-tyokykyisempi-stadi"]
    clients = project.table("clients")
    assert set(clients["service"]) == {"network_consultation"} and clients["job_coach_id"].isna().all()
    assert clients["start_date"].min() >= pd.Timestamp("2022-05-01")  # pilot started in May 2022
    assert project.table("kykyviisari") is None and project.table("fidelity") is None
    comparison = fb.compare_rounds(project.table("feedback"))
    assert set(comparison["test"]) == {"mann_whitney"} and not comparison["paired"].any()  # anonymous rounds


def test_pohde_three_pilot_areas_with_fidelity_reviews(projects):
    project = projects["pohde-palo2"]
    clients = project.table("clients")
    assert clients["service"].value_counts().to_dict() == {"ips_oulu": 42, "ips_ylivieska": 20, "ips_ii": 16}
    fidelity = project.table("fidelity")
    reviews = fidelity[["site_id", "review_date"]].drop_duplicates()
    assert sorted(reviews["site_id"].unique()) == ["ii", "oulu", "ylivieska"] and len(reviews) == 6
    assert fidelity.groupby(["site_id", "review_date"])["rater"].nunique().eq(3).all()  # two raters + consensus
    assert project.table("kykyviisari")["client_id"].isin(clients["client_id"]).all()
    assert project.params.cutoff_date.year == 2024


def test_survey_exports_of_the_tools_are_read_into_the_seeds(projects):
    """Issue 15: Webropol (Päijät-Häme process evaluation with a multiple choice and coded open
    answers), Questback (Helsinki), Google Forms (Essote lifestyle guidance over three places),
    Microsoft Forms and LimeSurvey (Pohde's uniform indicators in Ii, Oulu and Ylivieska)."""
    phhyky = projects["phhyky-tuetusti-tyohon"].table("feedback")
    process = phhyky[phhyky["survey_id"].eq("process_evaluation")]
    assert process["option"].notna().any() and process["themes"].notna().any() and process["not_applicable"].any()
    pohde = projects["pohde-palo2"].table("feedback")
    assert set(pohde["site"]) == {"ii", "oulu", "ylivieska"} and set(pohde["round"]) == {1, 2}
    essote = projects["essote-tyokykya-ja-kumppanuutta"].table("feedback")
    assert set(essote.loc[essote["survey_id"].eq("lifestyle_guidance"), "site"]) == {"mikkeli", "kangasniemi",
                                                                                  "hirvensalmi"}
    helsinki = projects["helsinki-tyokykyisempi-stadi"].table("feedback")
    assert fb.respondent_counts(helsinki)["n"].tolist() == [9, 16, 14, 31]


def test_unknown_synthetic_keys_are_rejected():
    with pytest.raises(ParameterError, match="did you mean 'cohorts'"):
        demo.spec_from_synthetic({"cohort": []})

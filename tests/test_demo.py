"""The synthetic generator reproduces the Essote IPS pilot figures (DOMAIN.md, seed 003)."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tyokyky_eval import demo
from tyokyky_eval.cli import main
from tyokyky_eval.inputs.project import load_project

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def default_tables():
    return demo.generate()


def test_referral_mix_of_the_essote_pilot(default_tables):
    counts = default_tables["clients"]["referral_source"].value_counts().to_dict()
    assert counts == {"kuntakokeilu": 19, "social_work": 6, "typ": 3, "te_services": 3,
                      "work_ability_coordinator": 2, "self": 2}


def test_outcome_mix_of_the_essote_pilot(default_tables):
    reasons = default_tables["clients"]["end_reason"].fillna("ongoing").value_counts().to_dict()
    assert reasons == {"employed": 10, "work_trial": 6, "rehabilitative_work": 1, "pension": 2,
                       "other_service": 2, "dropped_out": 9, "ongoing": 5}


def test_two_coaches_with_at_most_ten_active_clients(default_tables):
    clients = default_tables["clients"]
    assert clients["job_coach_id"].nunique() == 2
    days = pd.date_range("2021-02-01", "2022-12-31", freq="D")
    end = clients["end_date"].fillna(pd.Timestamp("2022-12-31"))
    for _, group in clients.groupby("job_coach_id"):
        active = [(group["start_date"].le(d) & end[group.index].ge(d)).sum() for d in days[::7]]
        assert max(active) <= 10


def test_kykyviisari_attrition_and_small_positive_change(default_tables):
    kyky = default_tables["kykyviisari"].merge(default_tables["clients"][["client_id", "start_date"]])
    day = (kyky["measured_on"] - kyky["start_date"]).dt.days
    baseline = kyky[day.between(-30, 30)].set_index("client_id")["work_ability"]
    followup = kyky[day.between(120, 240)].set_index("client_id")["work_ability"]
    assert 25 <= len(baseline) <= 35 and 10 <= len(followup) < len(baseline)  # attrition
    paired = followup.index.intersection(baseline.index)
    change = (followup[paired] - baseline[paired]).mean()
    assert 0 < change < 1.5  # small positive change, as in PARTY (6.1 → 6.3) and Essote


def test_development_group_survey_means(default_tables):
    survey = default_tables["feedback"].query("survey_id == 'development_group'")
    means = survey.groupby("item_id")["response"].mean().round(2).to_dict()
    assert means == {"meetings_attended": 4.5, "expectations_met": 3.4, "development_achieved": 3.8,
                     "teams_as_tool": 4.0}
    assert survey.groupby("item_id")["response"].std().idxmax() == "teams_as_tool"  # the wide spread


def test_fidelity_reviews_two_raters_consensus_and_not_applicable(default_tables):
    fid = default_tables["fidelity"]
    assert sorted(fid["rater"].unique()) == ["R1", "R2", "consensus"]
    assert fid.groupby("site_id")["review_date"].nunique().eq(2).all()
    assert fid["score"].isna().sum() > 0 and fid.loc[fid["score"].isna(), "na_reason"].notna().all()


def test_same_seed_same_files_other_seed_other_files(tmp_path):
    def digest(folder):
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.csv"))}

    assert main(["demo-data", "--out", str(tmp_path / "a"), "--seed", "5"]) == 0
    assert main(["demo-data", "--out", str(tmp_path / "b"), "--seed", "5"]) == 0
    assert main(["demo-data", "--out", str(tmp_path / "c"), "--seed", "6"]) == 0
    assert digest(tmp_path / "a") == digest(tmp_path / "b") != digest(tmp_path / "c")


def test_large_cohort_keeps_the_mix_exactly():
    clients = demo.generate(demo.DemoSpec(clients=100_000))["clients"]
    shares = clients["referral_source"].value_counts(normalize=True)
    assert shares["kuntakokeilu"] == pytest.approx(19 / 35, abs=1e-4)
    assert clients["client_id"].is_unique


def test_demo_parameters_map_the_generated_files(tmp_path):
    """parameters/demo.yaml's column_map and value_map match what the generator writes."""
    (tmp_path / "parameters").mkdir()
    shutil.copy(ROOT / "parameters" / "demo.yaml", tmp_path / "parameters" / "demo.yaml")
    demo.write_for_params(tmp_path / "parameters" / "demo.yaml")
    project = load_project(tmp_path / "parameters" / "demo.yaml")
    assert project.warnings == []
    expected = demo.generate()["clients"]
    pd.testing.assert_series_equal(project.tables["clients"]["end_reason"], expected["end_reason"],
                                   check_dtype=False)


def test_out_writes_the_employment_table_as_params_does(tmp_path):
    """`demo-data --out` writes the employment table too: the one `--params parameters/demo.yaml` writes."""
    (tmp_path / "parameters").mkdir()
    shutil.copy(ROOT / "parameters" / "demo.yaml", tmp_path / "parameters" / "demo.yaml")
    demo.write_for_params(tmp_path / "parameters" / "demo.yaml")
    assert main(["demo-data", "--out", str(tmp_path / "out")]) == 0
    for name in ("clients", "employment"):
        assert (tmp_path / "out" / f"{name}.csv").read_bytes() == (tmp_path / "demo-data" / f"{name}.csv").read_bytes()


def test_apportion_is_exact():
    assert demo.apportion(10, {"a": 1, "b": 1, "c": 1}) == {"a": 4, "b": 3, "c": 3}
    assert sum(demo.apportion(1234, demo.REFERRAL_MIX).values()) == 1234

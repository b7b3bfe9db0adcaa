"""Employment histories (``tyokyky_eval.stats.employment``): the Grow job-start rule, derivation of
``clients.first_employment_date`` and ``wage_subsidy``, tenure against R and lifelines, hours,
validation of the table, degenerate data, and the Essote pilot's figures in the synthetic data."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tyokyky_eval import demo, load_section
from tyokyky_eval.cli import main
from tyokyky_eval.errors import ParameterError
from tyokyky_eval.inputs.params import load_params
from tyokyky_eval.inputs.project import Project, load_project
from tyokyky_eval.inputs.validation import validate_project
from tyokyky_eval.stats import employment as em

REF = Path(__file__).resolve().parent / "reference"
ROOT = REF.parents[1]
CUTOFF = "2022-12-31"


def clients(*rows) -> pd.DataFrame:
    """rows: (client_id, service, start)."""
    frame = pd.DataFrame(rows, columns=["client_id", "service", "start_date"])
    frame["start_date"] = pd.to_datetime(frame["start_date"])
    frame["first_employment_date"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    frame["wage_subsidy"] = pd.array([pd.NA] * len(frame), dtype="boolean")
    return frame


def jobs(*rows) -> pd.DataFrame:
    """rows: (client_id, start, end, hours, wage_subsidy, sector, competitive)."""
    frame = pd.DataFrame(rows, columns=["client_id", "job_start", "job_end", "hours_per_week", "wage_subsidy",
                                        "employer_sector", "competitive"])
    for column in ("job_start", "job_end"):
        frame[column] = pd.to_datetime(frame[column])
    frame["hours_per_week"] = frame["hours_per_week"].astype(float)
    frame["wage_subsidy"] = frame["wage_subsidy"].astype("boolean")
    frame["competitive"] = frame["competitive"].astype("boolean")
    return frame


# -- the job-start rule and the derivation -------------------------------------------------------
def test_grow_rule_hours_competitive_and_service_start():
    c = clients(("A", "ips", "2022-01-01"), ("B", "ips", "2022-01-01"), ("C", "ips", "2022-01-01"))
    j = jobs(("A", "2022-02-01", None, 3, True, "private", True),  # 3 h a week: not a job start
             ("A", "2022-03-01", None, 4, False, "public", True),  # 4 h: the first job start
             ("B", "2021-12-01", None, 20, True, "private", True),  # before the service: history
             ("B", "2022-02-01", None, 20, True, "private", False),  # a work trial: not competitive
             ("C", "2022-05-01", None, None, True, "other", True))  # hours unknown: counts
    first = em.first_jobs(em.job_starts(j, c)).set_index("client_id")
    assert first["first_employment_date"].to_dict() == {"A": pd.Timestamp("2022-03-01"),
                                                        "C": pd.Timestamp("2022-05-01")}
    assert first.at["A", "wage_subsidy"] == False  # noqa: E712 — of the first job start, not the 3-hour job
    looser = em.first_jobs(em.job_starts(j, c, em.Options(min_hours=2))).set_index("client_id")
    assert looser.at["A", "first_employment_date"] == pd.Timestamp("2022-02-01")


def test_same_day_jobs_take_the_one_with_more_hours():
    c = clients(("A", "ips", "2022-01-01"))
    j = jobs(("A", "2022-02-01", None, 10, False, "private", True), ("A", "2022-02-01", None, 30, True, "public", True))
    first = em.first_jobs(em.job_starts(j, c))
    assert first["wage_subsidy"].tolist() == [True] and first["n_jobs"].tolist() == [2]


def test_derive_fills_empty_cells_and_reports_disagreements():
    c = clients(("A", "ips", "2022-01-01"), ("B", "ips", "2022-01-01"), ("C", "ips", "2022-01-01"),
                ("D", "ips", "2022-01-01"))
    c.loc[1, "first_employment_date"] = pd.Timestamp("2022-04-01")  # B: agrees
    c.loc[2, "first_employment_date"] = pd.Timestamp("2022-06-01")  # C: no job in the table
    c.loc[3, "wage_subsidy"] = True  # D: disagrees with its job
    j = jobs(("A", "2022-02-01", None, 20, True, "private", True), ("B", "2022-04-01", None, 20, False, "public", True),
             ("D", "2022-03-01", "2022-05-01", 20, False, "private", True))
    out, conflicts = em.derive_clients(c, j)
    assert out["first_employment_date"].tolist() == [pd.Timestamp(d) for d in
                                                     ("2022-02-01", "2022-04-01", "2022-06-01", "2022-03-01")]
    assert out["wage_subsidy"].tolist() == [True, False, pd.NA, True]  # a given value is never overwritten
    assert conflicts.reset_index().values.tolist() == [
        [2, "first_employment_date", pd.Timestamp("2022-06-01"), pd.NaT], [3, "wage_subsidy", True, False]]


def test_options_are_checked():
    for bad in ({"min_hours": -1}, {"min_hours": "4"}, {"tenure_days": [180, 90]}, {"tenure_days": []}):
        with pytest.raises(ValueError):
            em.Options(**bad)
    assert em.Options(tenure_days=[30, 90]).tenure_days == (30, 90)


# -- tenure, hours and shares against independent references ---------------------------------------
def reference_jobs(dataset: str) -> pd.DataFrame:
    data = pd.read_csv(REF / "data" / "employment_jobs.csv", parse_dates=["job_start", "job_end"])
    return data[data["dataset"].eq(dataset)].reset_index(drop=True)


@pytest.mark.parametrize("dataset", ["hand", "essote_ips"])
def test_tenure_and_hours_match_r(dataset):
    starts = reference_jobs(dataset).assign(service="x", client_id=lambda f: f.index.astype(str))
    got = em.tenure(starts, CUTOFF, (90, 180))
    r = pd.read_csv(REF / "expected" / "employment_tenure.csv")
    r = r[r["dataset"].eq(dataset)].reset_index(drop=True)
    for column in ("n_followed", "n_still_employed", "n_ended_interval"):
        assert got[column].tolist() == r[column].tolist(), column
    for column in ("share", "ci_low", "ci_high", "retention", "retention_ci_low", "retention_ci_high"):
        np.testing.assert_allclose(got[column], r[column], rtol=1e-6, err_msg=column)
    hours = em.job_table(starts.assign(employer_sector=None), ["x"])
    r_hours = pd.read_csv(REF / "expected" / "employment_hours.csv").set_index("dataset").loc[dataset]
    for column in ("hours_median", "hours_q1", "hours_q3"):
        assert hours.at[0, column] == pytest.approx(r_hours[column], rel=1e-9)


def test_reference_data_are_current():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_employment_data", REF / "make_employment_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    stored = pd.read_csv(REF / "data" / "employment_jobs.csv", keep_default_na=False, dtype=str)
    fresh = module.jobs().astype(object).where(lambda f: f.notna(), "")
    assert stored.values.tolist() == fresh.astype(str).replace("nan", "").values.tolist()


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R not installed")
def test_r_still_prints_the_stored_employment_numbers(tmp_path):
    run = subprocess.run(["Rscript", str(REF / "R" / "employment.R"), str(REF / "data"), str(tmp_path)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    for name in ("employment_tenure", "employment_hours"):
        new, old = pd.read_csv(tmp_path / f"{name}.csv"), pd.read_csv(REF / "expected" / f"{name}.csv")
        pd.testing.assert_frame_equal(new, old, rtol=1e-10)


def test_retention_matches_lifelines_and_the_hand_share_without_censoring():
    lifelines = pytest.importorskip("lifelines")
    starts = reference_jobs("hand").assign(service="x")
    span = em.durations(starts, CUTOFF)
    fit = lifelines.KaplanMeierFitter().fit(span["time_days"], span["ended"])
    got = em.tenure(starts, CUTOFF, (90, 180))
    np.testing.assert_allclose(got["retention"], fit.survival_function_at_times([90, 180]).to_numpy(), rtol=1e-12)
    old = starts[starts["job_start"] <= "2022-01-01"]  # every job followed 180 days: KM = the plain share
    got = em.tenure(old, CUTOFF, (90, 180))
    np.testing.assert_allclose(got["retention"], got["share"], rtol=1e-12)
    # still at 90: ended on day 90 after the start (lasted 91 days), on day 137, ongoing; not the job that
    # ended on day 89 (lasted 90 days); at 180: the ongoing one
    assert got["n_still_employed"].tolist() == [3, 1]


def test_jobs_still_employed_are_the_kaplan_meier_risk_set():
    starts = reference_jobs("essote_ips")
    span = em.durations(starts, CUTOFF)
    got = em.tenure(starts, CUTOFF, (30, 90, 180, 365))
    assert got["n_still_employed"].tolist() == [int(span["time_days"].gt(d).sum()) for d in (30, 90, 180, 365)]


def test_client_table_counts_and_wilson_share():
    c = clients(*[(f"C{i}", "ips" if i < 6 else "other", "2021-01-01") for i in range(8)])
    j = jobs(("C0", "2021-02-01", "2021-03-01", 20, True, "private", True),
             ("C0", "2021-05-01", None, 20, False, "public", True),
             ("C1", "2021-02-01", None, 20, True, "third_sector", True),
             ("C2", "2021-02-01", None, 20, None, None, True),
             ("C6", "2021-02-01", None, 20, False, "private", True))
    starts = em.job_starts(j, c)
    table = em.client_table(c, starts, ["ips", "other"]).set_index("service")
    assert table.loc["ips", ["n_clients", "n_employed", "n_not_employed", "n_multiple_jobs", "n_wage_subsidy",
                             "n_no_wage_subsidy", "n_wage_subsidy_unknown"]].tolist() == [6, 3, 3, 1, 2, 0, 1]
    assert table.at["ips", "wage_subsidy_share"] == 1.0 and table.at["ips", "ci_low"] == pytest.approx(0.3423802, 1e-6)
    jobs_table = em.job_table(starts, ["ips"])
    assert jobs_table.loc[0, ["n_jobs", "n_additional_jobs", "n_private", "n_public", "n_third_sector",
                              "n_sector_unknown"]].tolist() == [4, 1, 1, 1, 1, 1]


# -- degenerate data -----------------------------------------------------------------------------
def test_nobody_employed_one_job_and_all_ongoing():
    c = clients(("A", "ips", "2022-01-01"), ("B", "ips", "2022-01-01"))
    empty = jobs()
    starts = em.job_starts(empty, c)
    assert em.client_table(c, starts, ["ips"]).loc[0, ["n_employed", "n_not_employed"]].tolist() == [0, 2]
    nobody = em.tenure(starts.assign(service="ips"), CUTOFF, (90, 180))
    assert nobody["n_followed"].tolist() == [0, 0] and nobody["retention"].isna().all()
    one = em.job_starts(jobs(("A", "2022-01-10", None, 20, True, "private", True)), c)
    tenure = em.tenure(one, CUTOFF, (90, 180))
    assert tenure["share"].tolist() == [1.0, 1.0] and tenure["retention"].tolist() == [1.0, 1.0]
    assert np.isnan(em.job_table(one, ["ips"]).at[0, "hours_q1"]) is np.False_  # one value: all quartiles 20
    late = em.tenure(em.job_starts(jobs(("A", "2022-12-01", None, 20, True, "private", True)), c), CUTOFF, (90,))
    assert late["n_followed"].tolist() == [0] and np.isnan(late.at[0, "share"]) and np.isnan(late.at[0, "retention"])


# -- validation ----------------------------------------------------------------------------------
def with_employment(project_files, frame: pd.DataFrame, column_map=None):
    project_files.write("employment", frame)
    project_files.params["data"]["employment"] = "data/employment.csv"
    if column_map:
        project_files.params.setdefault("column_map", {})["employment"] = column_map
    return load_params(project_files.save_params())


def demo_jobs(project_files) -> pd.DataFrame:
    spec = demo.DemoSpec(seed=7, clients=20, tables=("clients", "employment"))
    return demo.generate(spec)["employment"]


def test_valid_employment_table_and_derivation(project_files):
    frame = demo_jobs(project_files)
    assert len(frame) > 0
    result = validate_project(with_employment(project_files, frame))
    assert not result.errors, result.errors
    c = result.tables["clients"]
    assert c["first_employment_date"].notna().sum() == frame["client_id"].nunique()


def test_bad_employment_rows_are_reported_in_the_users_terms(project_files):
    frame = demo_jobs(project_files)
    frame.loc[0, "client_id"] = "NOBODY-1"
    frame.loc[1, "job_end"] = frame.loc[1, "job_start"] - pd.Timedelta(days=3)
    frame["employer_sector"] = frame["employer_sector"].astype(object)
    frame.loc[2, "employer_sector"] = "privat"
    renamed = frame.rename(columns={"job_start": "Alkoi", "employer_sector": "Sektori"})
    params = with_employment(project_files, renamed, {"Alkoi": "job_start", "Sektori": "employer_sector"})
    errors = [(p.file, p.row, p.column, p.message) for p in validate_project(params).errors]
    assert ("employment.csv", 2, "client_id") in [e[:3] for e in errors]
    assert any(e[1] == 3 and e[2] == "job_end" and "start date" in e[3] for e in errors)
    assert any(e[1] == 4 and e[2] == "Sektori (employer_sector)" and "private" in e[3] for e in errors)


def test_missing_required_column_names_the_users_file(project_files):
    frame = demo_jobs(project_files).drop(columns=["competitive"])
    errors = validate_project(with_employment(project_files, frame)).errors
    assert [(p.file, p.row, p.column) for p in errors] == [("employment.csv", 1, "competitive")]


def test_conflict_with_clients_is_an_error_at_the_clients_row(project_files):
    frame = demo_jobs(project_files)
    client = frame.loc[0, "client_id"]
    clients_table = project_files.tables["clients"]
    row = int(clients_table.index[clients_table["client_id"].eq(client)][0])
    clients_table.loc[row, "first_employment_date"] += pd.Timedelta(days=1)
    project_files.write("clients", clients_table)
    errors = validate_project(with_employment(project_files, frame)).errors
    assert [(p.file, p.row, p.column, p.key) for p in errors] == [
        ("clients.csv", row + 2, "first_employment_date", "employment_conflict")]
    assert "employment.csv" in errors[0].message


def test_unknown_employment_option_is_a_parameter_error(project_files):
    project_files.params["analyses"] = {"employment": {"min_hour": 4}}
    with pytest.raises(ParameterError, match="min_hours"):
        load_params(project_files.save_params())


# -- the Essote pilot in the synthetic data -------------------------------------------------------
@pytest.fixture(scope="module")
def essote(tmp_path_factory):
    root = tmp_path_factory.mktemp("essote")
    (root / "parameters").mkdir()
    path = shutil.copy(ROOT / "parameters" / "essote-tyokykya-ja-kumppanuutta.yaml", root / "parameters")
    assert main(["demo-data", "--params", str(path)]) == 0
    return load_project(path, "en")


def test_essote_ips_pilot_figures(essote):
    section = load_section("employment", essote)
    ips = section.clients.set_index("service").loc["ips"]
    assert (ips["n_clients"], ips["n_employed"], ips["n_multiple_jobs"]) == (35, 10, 1)  # 10 of 35, one twice
    assert (ips["n_wage_subsidy"], ips["n_no_wage_subsidy"]) == (9, 1)  # wage subsidy for almost all
    assert section.jobs.set_index("service").at["ips", "n_jobs"] == 11
    c = essote.table("clients")
    assert c.loc[c["service"].eq("ips"), "first_employment_date"].notna().sum() == 10
    jobs_per_client = section.starts[section.starts["service"].eq("ips")].groupby("client_id").size()
    assert sorted(jobs_per_client.tolist()) == [1] * 9 + [2]
    hours = section.jobs.set_index("service").loc["ips", ["hours_q1", "hours_q3"]]
    assert 4 <= hours["hours_q1"] <= hours["hours_q3"] <= 40


def test_demo_wage_subsidy_is_almost_all():
    tables = demo.generate(demo.DemoSpec())
    subsidy = tables["clients"]["wage_subsidy"].dropna()
    assert subsidy.mean() == pytest.approx(0.9, abs=0.05)


def test_project_without_employment_has_no_section(project_files):
    """The runner leaves notebooks/45_employment.ipynb out (with its one sentence) when the
    project has no employment table, and runs it when it has one."""
    import nbformat

    from tyokyky_eval.run import runner

    nb = nbformat.read(ROOT / "notebooks" / "45_employment.ipynb", 4)
    assert runner.section_metadata(nb)["requires"] == ["clients", "employment"]
    project = load_project(project_files.save_params(), "en")
    assert runner.missing_tables(nb, project) == ["employment"]
    with_jobs = load_project(with_employment(project_files, demo_jobs(project_files)).path, "en")
    assert runner.missing_tables(nb, with_jobs) == []


def test_section_runs_on_a_project_without_jobs(project_files):
    project = load_project(project_files.save_params(), "en")
    for table in (jobs(), None):
        with_table = Project(project.params, "en", {**project.tables, "employment": table})
        section = load_section("employment", with_table)
        assert [s.code for s in section.services] == ["ips"] and section.figures("en") == []
        assert section.text("en")[-1].startswith("IPS job coaching: 0 of 20 clients had at least one job start; 0 job starts")
        assert section.published()["employment_clients"]["n_employed"].tolist() == [0]

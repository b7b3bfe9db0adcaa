"""Survival to employment: censoring rules one by one, estimates against lifelines (test-only).
The proportional-hazards test is tested in test_schoenfeld.py."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import AalenJohansenFitter, CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test
from lifelines.utils import median_survival_times
from scipy.stats import binomtest

from tyokyky_eval import load_section
from tyokyky_eval.stats import survival as sv

CUTOFF = pd.Timestamp("2022-12-31")


def clients(*rows):
    """rows: (start, end, end_reason, first_job, wage_subsidy)."""
    frame = pd.DataFrame(rows, columns=["start_date", "end_date", "end_reason", "first_employment_date",
                                        "wage_subsidy"])
    for column in ("start_date", "end_date", "first_employment_date"):
        frame[column] = pd.to_datetime(frame[column])
    frame["wage_subsidy"] = frame["wage_subsidy"].astype("boolean")
    return frame


def one(row, options=sv.Options(), grace=90):
    return sv.time_to_event(clients(row), CUTOFF, options, grace).iloc[0]


# -- censoring rules, one by one ----------------------------------------------------------------
def test_ongoing_without_job_is_censored_at_cutoff():
    r = one(("2022-12-01", None, None, None, None))
    assert (r.time_days, r.outcome, r.event, r.rule) == (30, "censored", False, "ongoing_at_cutoff")


def test_ongoing_with_job_is_an_event():
    r = one(("2022-01-01", None, None, "2022-03-02", False))
    assert (r.time_days, r.event, r.rule) == (60, True, "job")


def test_job_after_end_counts_only_for_event_reason_within_grace():
    employed = one(("2022-01-01", "2022-02-01", "employed", "2022-02-21", False))
    assert (employed.time_days, employed.event, employed.rule) == (51, True, "job_after_end")
    too_late = one(("2022-01-01", "2022-02-01", "employed", "2022-02-21", False), grace=10)
    assert (too_late.time_days, too_late.event, too_late.rule) == (31, True, "event_reason_at_end")
    dropout = one(("2022-01-01", "2022-02-01", "dropped_out", "2022-02-21", False))
    assert (dropout.time_days, dropout.event, dropout.rule) == (31, False, "censored_at_end")


def test_job_before_end_counts_whatever_the_end_reason():
    r = one(("2022-01-01", "2022-05-01", "other_service", "2022-01-11", False))
    assert (r.time_days, r.event, r.rule) == (10, True, "job")


def test_pension_is_competing_at_end_date():
    r = one(("2022-01-01", "2022-04-11", "pension", None, None))
    assert (r.time_days, r.outcome, r.event, r.rule) == (100, "pension", False, "competing")


def test_dropout_and_other_censoring_reasons_censored_at_end():
    for reason in ("dropped_out", "work_trial", "rehabilitative_work", "education", "other_service", "other"):
        r = one(("2022-01-01", "2022-01-21", reason, None, None))
        assert (r.time_days, r.outcome, r.rule) == (20, "censored", "censored_at_end")


def test_same_day_start_and_job_is_event_at_time_zero():
    data = clients(("2022-01-01", None, None, "2022-01-01", False),
                   *[("2022-01-01", "2022-06-30", "dropped_out", None, None)] * 3)
    tte = sv.time_to_event(data, CUTOFF)
    assert tte.iloc[0].time_days == 0 and tte.iloc[0].event
    curve = sv.kaplan_meier(tte.time_days, tte.event)
    first = curve.iloc[0]
    assert (first.time_days, first.n_at_risk, first.n_events) == (0, 4, 1)
    assert first.cumulative_incidence == pytest.approx(1 / 4)


def test_wage_subsidy_separate_outcome():
    row = ("2022-01-01", None, None, "2022-02-01", True)
    assert one(row).outcome == "employed"
    separate = one(row, sv.Options(wage_subsidy_as_event=False))
    assert (separate.outcome, separate.event) == ("wage_subsidy", False)


def test_end_after_cutoff_is_still_in_service():
    r = one(("2022-12-01", "2023-02-01", "dropped_out", None, None))
    assert (r.time_days, r.rule) == (30, "ongoing_at_cutoff")


def test_options_are_validated():
    with pytest.raises(ValueError, match="both"):
        sv.Options(competing_reasons=("pension", "dropped_out"))
    with pytest.raises(ValueError, match="risk_table_months"):
        sv.Options(risk_table_months=[6, 3])
    assert sv.Options(covariates=["age_at_start"]).covariates == ("age_at_start",)
    assert list(sv.month_days([0, 3, 6, 9, 12, 18, 24])) == [0, 91, 182, 273, 365, 547, 730]


# -- estimates against lifelines ----------------------------------------------------------------
def generated(seed=1, n=80, ties=True):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    t_event = rng.exponential(300 * np.exp(-0.5 * x[:, 0] + 0.3 * x[:, 1]))
    t_cens = rng.uniform(50, 700, n)
    time = np.minimum(t_event, t_cens)
    time = np.ceil(time) if ties else time
    return time, (t_event <= t_cens).astype(int), x


def test_kaplan_meier_matches_lifelines():
    time, event, _ = generated()
    ours = sv.kaplan_meier(time, event).set_index("time_days")
    kmf = KaplanMeierFitter().fit(time, event)
    ref = kmf.survival_function_["KM_estimate"].reindex(ours.index)
    np.testing.assert_allclose(ours["survival"], ref, atol=1e-10)
    # raw Greenwood variance of log S (lifelines keeps it as _cumulative_sq_)
    greenwood = kmf._cumulative_sq_.reindex(ours.index)
    finite = np.isfinite(ours["greenwood"])
    np.testing.assert_allclose(ours["greenwood"][finite], greenwood[finite], atol=1e-10)
    # statsmodels' SE of S is Greenwood: S·sqrt(Σ d/(n(n−d)))
    np.testing.assert_allclose(ours["se"][finite], (ours["survival"] * np.sqrt(ours["greenwood"]))[finite],
                               atol=1e-12)
    # both use the log(−log) ("exponential Greenwood") interval
    ci = kmf.confidence_interval_survival_function_.reindex(ours.index)
    inner = finite & (ours["survival"] > 0) & (ours.index > 0)
    np.testing.assert_allclose(ours["ci_low"][inner], 1 - ci.iloc[:, 1][inner], atol=1e-6)
    np.testing.assert_allclose(ours["ci_high"][inner], 1 - ci.iloc[:, 0][inner], atol=1e-6)


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_median_and_ci_match_lifelines(seed):
    time, event, _ = generated(seed, n=60, ties=False)
    median, low, high = sv.median_time(time, event)
    kmf = KaplanMeierFitter().fit(time, event)
    assert median == pytest.approx(kmf.median_survival_time_, abs=1e-6)
    ref = median_survival_times(kmf.confidence_interval_).iloc[0]
    assert low == pytest.approx(ref.iloc[0], abs=1e-6)  # the lower S limit reaches 0.5 first
    assert high == pytest.approx(ref.iloc[1], abs=1e-6)


def test_logrank_matches_lifelines():
    time, event, x = generated(5, n=90)
    group = pd.Series(np.where(x[:, 0] > 0.3, "a", np.where(x[:, 0] < -0.5, "b", "c")))
    tte = pd.DataFrame({"time_days": time, "event": event.astype(bool)})
    ours = sv.logrank(tte, group, min_cell=5)
    ref = multivariate_logrank_test(time, group, event)
    assert ours["df"] == 2 and ours["groups"] == ["a", "b", "c"]
    assert ours["chisq"] == pytest.approx(ref.test_statistic, abs=1e-6)
    assert ours["p"] == pytest.approx(ref.p_value, abs=1e-6)
    assert sv.logrank(tte, group, min_cell=40) is None or len(sv.logrank(tte, group, min_cell=40)["groups"]) >= 2


def test_cox_matches_lifelines_efron():
    time, event, x = generated(6, n=120)
    tte = pd.DataFrame({"time_days": time, "event": event.astype(bool)})
    exog = pd.DataFrame(x, columns=["a", "b"])
    result = sv.cox_model(tte, exog, sv.Options(min_events_per_covariate=10))
    ref = CoxPHFitter().fit(pd.DataFrame({"T": time, "E": event, "a": x[:, 0], "b": x[:, 1]}), "T", "E")
    table = result.table.set_index("term")
    np.testing.assert_allclose(table["coef"], ref.params_[["a", "b"]], atol=1e-6)
    np.testing.assert_allclose(table["se"], ref.standard_errors_[["a", "b"]], atol=1e-6)
    np.testing.assert_allclose(table["p"], ref.summary.loc[["a", "b"], "p"], atol=1e-6)
    for ours_col, ref_col in (("hr_ci_low", "coef lower 95%"), ("hr_ci_high", "coef upper 95%")):
        np.testing.assert_allclose(np.log(table[ours_col]), ref.summary.loc[["a", "b"], ref_col], atol=1e-6)
    np.testing.assert_allclose(table["hr"], np.exp(ref.params_[["a", "b"]]), rtol=1e-6)
    assert list(result.table.columns) == sv.COX_COLUMNS


def test_cox_skipped_with_too_few_events():
    time, event, x = generated(7, n=30)
    tte = pd.DataFrame({"time_days": time, "event": event.astype(bool)})
    result = sv.cox_model(tte, pd.DataFrame(x, columns=["a", "b"]), sv.Options())
    assert result.skipped == "too_few_events" and result.table is None
    assert result.n_events == event.sum() < 20


def test_cox_is_skipped_or_has_no_ph_test_when_undefined():
    """All 30 jobs on day 50 with nobody else at risk: no information (skipped, not a spurious
    hazard ratio of 1); a constant covariate: singular; the same jobs with 10 clients followed
    longer: fitted, but the proportional-hazards test is undefined (ph None)."""
    x = pd.DataFrame({"a": np.linspace(20, 60, 40)})
    tied = pd.DataFrame({"time_days": 50.0, "event": np.arange(40) < 30})
    tied.loc[30:, "time_days"] = 20.0  # censored before the jobs
    result = sv.cox_model(tied, x, sv.Options())
    assert (result.skipped, result.n, result.n_events, result.table) == ("tied_events", 40, 30, None)
    constant = tied.assign(time_days=np.linspace(10, 400, 40))
    assert sv.cox_model(constant, x.assign(a=1.0), sv.Options()).skipped == "singular"
    tied.loc[30:, "time_days"] = 80.0  # followed past the jobs
    result = sv.cox_model(tied, x, sv.Options())
    assert result.skipped is None and result.ph is None
    ref = CoxPHFitter().fit(tied.assign(a=x["a"]), "time_days", "event")
    assert result.table["coef"].iloc[0] == pytest.approx(ref.params_["a"], rel=1e-4)  # -0.0637


def test_cumulative_incidence_matches_lifelines_aalen_johansen():
    rng = np.random.default_rng(8)
    n = 70
    time = rng.uniform(1, 600, n)  # no ties: lifelines would jitter them
    outcome = rng.choice(["employed", "pension", "censored"], n, p=[0.45, 0.2, 0.35])
    tte = pd.DataFrame({"time_days": time, "outcome": outcome, "event": outcome == "employed"})
    ours = sv.competing_risks(tte)
    code = pd.Series(outcome).map({"censored": 0, "employed": 1, "pension": 2}).to_numpy()
    for k, name in ((1, "employed"), (2, "pension")):
        ajf = AalenJohansenFitter(calculate_variance=True).fit(time, code, event_of_interest=k)
        part = ours[ours.outcome == name].set_index("time_days")
        ref = ajf.cumulative_density_.iloc[:, 0].reindex(part.index)
        np.testing.assert_allclose(part["cif"], ref, atol=1e-6)
        ci = ajf.confidence_interval_.reindex(part.index)
        inner = (part["cif"] > 0) & np.isfinite(part["ci_low"]) & (part.index < np.sort(time)[-3])
        # same delta-method variance and log(−log F) interval (lifelines labels its columns the other way)
        np.testing.assert_allclose(part["ci_low"][inner], ci.min(axis=1)[inner], atol=1e-6)
        np.testing.assert_allclose(part["ci_high"][inner], ci.max(axis=1)[inner], atol=1e-6)
    # without competing risks the cumulative incidence is 1 − KM
    single = tte.assign(outcome=np.where(outcome == "employed", "employed", "censored"))
    cif = sv.competing_risks(single).set_index("time_days")["cif"]
    km = sv.kaplan_meier(time, outcome == "employed").set_index("time_days")["cumulative_incidence"]
    np.testing.assert_allclose(cif, km.reindex(cif.index, method="ffill"), atol=1e-12)


# -- groups, benchmark, disclosure --------------------------------------------------------------
def test_km_tables_give_every_group_of_min_cell_a_curve():
    time, event, x = generated(10, n=40)
    tte = pd.DataFrame({"time_days": time, "event": event.astype(bool)})
    group = pd.Series(np.where(np.arange(40) < 37, "big", "tiny"))
    curves, grid = sv.km_tables(tte, group, sv.Options(), min_cell=5)
    assert set(curves["group"]) == {"all", "big"} and list(curves.columns) == sv.KM_COLUMNS
    assert (grid["time_days"].isin(sv.month_days(sv.Options().risk_table_months))).all()
    summary = sv.summary_table(tte, group, 5)
    assert list(summary.columns) == sv.SUMMARY_COLUMNS
    assert summary.set_index("group").loc["tiny", "n"] == 3
    assert np.isnan(summary.set_index("group").loc["tiny", "median_days"])


def test_benchmark_share_and_wilson_interval():
    data = clients(*[("2021-01-01", "2021-06-01", "employed", "2021-03-01", False)] * 4,
                   *[("2021-01-01", "2021-06-01", "dropped_out", None, None)] * 5,
                   ("2021-01-01", "2022-06-01", "employed", "2022-03-01", False),  # job after 12 months
                   ("2022-06-01", None, None, "2022-07-01", False))  # followed < 12 months: excluded
    tte = sv.time_to_event(data, CUTOFF)
    result = sv.benchmark(data, tte, CUTOFF, sv.Options())
    assert (result["n"], result["employed"]) == (10, 4)
    ci = binomtest(4, 10).proportion_ci(method="wilson")
    assert (result["ci_low"], result["ci_high"]) == pytest.approx((ci.low, ci.high), abs=1e-9)
    assert result["band"] == "minimal"


def test_cox_is_skipped_with_a_sentence_when_its_covariate_data_are_missing(tmp_path):
    """Baseline work ability asked for, but the project has no Kykyviisari table: the section still
    runs and says why there is no model."""
    import yaml

    from tyokyky_eval import demo
    from tyokyky_eval.inputs.project import load_project

    tables = demo.generate(demo.DemoSpec(seed=3, clients=60))
    clients = tables["clients"].copy()
    for column in ("start_date", "end_date", "first_employment_date"):
        clients[column] = clients[column].dt.strftime("%Y-%m-%d")
    clients.to_csv(tmp_path / "clients.csv", index=False)
    params = {"project_id": "nokyky", "title": "t", "language": "en", "cutoff_date": "2022-12-31",
              "data": {"clients": "clients.csv"},
              "analyses": {"survival": {"covariates": ["baseline_work_ability"]}}}
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    section = load_section("survival", load_project(tmp_path / "p.yaml")).cohorts["ips"]
    assert section.cox.skipped == "missing_covariates" and section.cox.table is None
    assert "baseline\\_work\\_ability" in section.text("en")[3]  # escaped for Markdown (after the heading)
    assert section.cox.n_events == int(section.tte["event"].sum()) > 0

"""Every published statistic compared with R, the reference the field trusts (issue 11).

The inputs are small CSV files in ``tests/reference/data`` (written once by
``tests/reference/make_data.py``: hand-made edge cases and the demo cohort run through the
package's own pipeline); the numbers R printed for them are stored in ``tests/reference/expected``
by the scripts in ``tests/reference/R``. These tests need no R. Where ``Rscript`` (with survival,
cmprsk, lme4 and psych) is on the PATH, ``test_r_still_prints_the_stored_numbers`` re-runs the
scripts and checks that R still prints the stored numbers.

Tolerance: relative 1e-6 (absolute 1e-9 near zero) unless a test says otherwise.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tyokyky_eval import demo
from tyokyky_eval.inputs.dictionary import instrument
from tyokyky_eval.stats import feedback, fidelity, prepost
from tyokyky_eval.stats import survival as sv
from tyokyky_eval.stats.lmm import random_intercept_reml

REF = Path(__file__).resolve().parent / "reference"
DATA, EXPECTED, SCRIPTS = REF / "data", REF / "expected", REF / "R"
RTOL, ATOL = 1e-6, 1e-9


def data(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"{name}.csv", keep_default_na=False, na_values=[""])


def expected(name: str) -> pd.DataFrame:
    return pd.read_csv(EXPECTED / f"{name}.csv", keep_default_na=False, na_values=[""])


def close(actual, desired, rtol=RTOL, atol=ATOL, what=""):
    np.testing.assert_allclose(np.asarray(actual, dtype=float), np.asarray(desired, dtype=float),
                               rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


def keys(frame: pd.DataFrame, *columns) -> list[tuple]:
    return list(frame[list(columns)].drop_duplicates().itertuples(index=False, name=None))


# -- survival ------------------------------------------------------------------------------------
SURVIVAL = {"hand": "survival_hand", "demo": "survival_demo", "flat": "survival_flat"}


def survival_rows(dataset: str, group: str) -> pd.DataFrame:
    """``time_days, event`` of one data set and group ("all" = everybody)."""
    frame = data(SURVIVAL[dataset])
    if group != "all":
        frame = frame[frame["group"].eq(group)]
    return pd.DataFrame({"time_days": frame["time"].astype(float), "event": frame["status"].eq(1)})


def tte(dataset: str) -> pd.DataFrame:
    frame = data(SURVIVAL[dataset])
    return pd.DataFrame({"time_days": frame["time"].astype(float), "event": frame["status"].eq(1),
                         "outcome": frame["outcome"]})


KM = expected("survival_km")


@pytest.mark.parametrize("dataset,group", keys(KM, "dataset", "group"))
def test_kaplan_meier_matches_survfit_loglog(dataset, group):
    """1 − S with log(−log) CIs (R: survfit(conf.type = "log-log"), lower/upper swapped) and
    Greenwood's variance of log S (R: std.err²), at every event time; the package's row at day 0
    (before any event) is 0 with CI (0, 0)."""
    rows = survival_rows(dataset, group)
    curve = sv.kaplan_meier(rows["time_days"], rows["event"])
    r = KM[KM["dataset"].eq(dataset) & KM["group"].eq(group) & KM["n_event"].gt(0)]
    ours = curve[curve["n_events"].gt(0)]
    close(ours["time_days"], r["time"], what="event times")
    assert ours["n_at_risk"].tolist() == r["n_risk"].tolist()
    assert ours["n_events"].tolist() == r["n_event"].tolist()
    close(ours["cumulative_incidence"], r["cumulative_incidence"], what="1 - S")
    close(ours["ci_low"], r["ci_low"], what="ci_low")
    close(ours["ci_high"], r["ci_high"], what="ci_high")
    # internal column; where S drops to 0 R's std.err is Inf and the package's variance NaN (the
    # published CI is missing in both)
    close(ours["greenwood"], (r["std_err"] ** 2).replace(np.inf, np.nan), what="Greenwood variance of log S")
    if r["time"].iloc[0] > 0:
        first = curve.iloc[0]
        assert (first["time_days"], first["cumulative_incidence"], first["ci_low"], first["ci_high"]) == (0, 0, 0, 0)


RISK = expected("survival_risk")


@pytest.mark.parametrize("dataset,group", keys(RISK, "dataset", "group"))
def test_risk_table_matches_summary_survfit(dataset, group):
    """``grid`` (the survival_km.csv risk table) against summary(fit, times = ..., extend = TRUE):
    number at risk, events since the previous time, 1 − S and its CI; beyond the data (nobody at
    risk) the package leaves the estimate empty."""
    r = RISK[RISK["dataset"].eq(dataset) & RISK["group"].eq(group)]
    at = sv.grid(survival_rows(dataset, group), r["time"].to_numpy())
    assert at["n_at_risk"].tolist() == r["n_risk"].tolist()
    assert at["n_events"].tolist() == r["n_event"].tolist()
    seen = r["n_risk"].gt(0).to_numpy()
    for column in ("cumulative_incidence", "ci_low", "ci_high"):
        assert at.loc[~seen, column].isna().all()
    close(at.loc[seen, "cumulative_incidence"], r.loc[seen, "cumulative_incidence"], what="1 - S")
    # before the first event (S = 1) R's log(−log) CI is NA (or 1, 1 at the start); the package's (0, 0)
    started = seen & r["cumulative_incidence"].gt(0).to_numpy()
    for column in ("ci_low", "ci_high"):
        close(at.loc[started, column], r.loc[started, column], what=column)
        assert at.loc[seen & ~started, column].eq(0).all()


MEDIAN = expected("survival_median")


@pytest.mark.parametrize("dataset,group", keys(MEDIAN, "dataset", "group"))
def test_median_and_ci_match_survfit(dataset, group):
    """quantile(survfit(conf.type = "log-log"), 0.5): the median (NA = not reached → NaN) and its
    CI (an upper limit NA = not reached → inf). Where the curve is exactly 0.5 over a flat stretch R
    takes the midpoint of the stretch (data set ``flat``: 7, and 3 where the stretch runs to the last
    follow-up time); where the curve drops to 0 at the last time (demo COACH-4, COACH-5) R's
    log(−log) limits are NA there, so the upper limit is not reached."""
    rows = survival_rows(dataset, group)
    r = MEDIAN[MEDIAN["dataset"].eq(dataset) & MEDIAN["group"].eq(group)].iloc[0]
    median, low, high = sv.median_time(rows["time_days"], rows["event"])
    close(median, r["median"], what="median")
    close(low, r["lower"], what="median CI lower limit")
    close(high, np.inf if np.isnan(r["upper"]) else r["upper"], what="median CI upper limit")


@pytest.mark.parametrize("dataset", ["hand", "demo"])
def test_summary_table_uses_the_same_median_and_incidence(dataset):
    """survival_summary.csv: median with CI and the incidence at 182 / 365 days as R prints them."""
    frame = data(SURVIVAL[dataset])
    summary = sv.summary_table(tte(dataset), frame["group"], min_cell=1).set_index("group")
    med = MEDIAN[MEDIAN["dataset"].eq(dataset)].set_index("group")
    close(summary.loc[med.index, "median_days"], med["median"])
    close(summary.loc[med.index, "median_ci_low"], med["lower"])
    close(summary.loc[med.index, "median_ci_high"], med["upper"].fillna(np.inf))
    risk = RISK[RISK["dataset"].eq(dataset) & RISK["time"].isin([182, 365]) & RISK["n_risk"].gt(0)]
    for row in risk.itertuples():
        close(summary.loc[row.group, f"cumulative_incidence_{row.time}d"], row.cumulative_incidence)


LOGRANK = expected("survival_logrank").set_index("dataset")


@pytest.mark.parametrize("dataset", LOGRANK.index.tolist())
def test_logrank_matches_survdiff(dataset):
    frame = data(SURVIVAL[dataset])
    result = sv.logrank(tte(dataset), frame["group"], min_cell=1)
    r = LOGRANK.loc[dataset]
    close(result["chisq"], r["chisq"])
    assert result["df"] == r["df"]
    close(result["p"], r["p"])


COX = expected("survival_cox")
ZPH = expected("survival_zph")
COVARIATES = {"hand": ["x1", "x2"], "demo": ["age", "baseline_work_ability"]}


def cox(dataset: str) -> sv.CoxResult:
    frame = data(SURVIVAL[dataset])
    return sv.cox_model(tte(dataset), frame[COVARIATES[dataset]],
                        sv.Options(min_events_per_covariate=1))


@pytest.mark.parametrize("dataset", list(COVARIATES))
def test_cox_matches_coxph_efron(dataset):
    """coxph(ties = "efron"): coefficients, SEs, hazard ratios with Wald CIs, Wald p; n and events
    after dropping clients with a missing covariate."""
    result = cox(dataset)
    r = COX[COX["dataset"].eq(dataset)]
    assert (result.n, result.n_events) == (r["n"].iloc[0], r["n_events"].iloc[0])
    assert result.table["term"].tolist() == r["term"].tolist()
    for column in ("coef", "se", "hr", "hr_ci_low", "hr_ci_high", "p"):
        close(result.table[column], r[column], what=column)


@pytest.mark.parametrize("dataset", list(COVARIATES))
def test_ph_test_matches_cox_zph(dataset):
    """cox.zph(fit, transform = "km", terms = FALSE) of survival ≥ 3: chisq, df, p per covariate
    and GLOBAL."""
    ph = cox(dataset).ph
    r = ZPH[ZPH["dataset"].eq(dataset)]
    assert ph["term"].tolist() == r["term"].tolist()
    assert ph["df"].tolist() == r["df"].tolist()
    close(ph["chisq"], r["chisq"], what="chisq")
    close(ph["p"], r["p"], what="p")


CIF = expected("survival_cif")
CIF_OUTCOME = {"hand": "outcome", "demo": "outcome_ws"}


@pytest.mark.parametrize("dataset", list(CIF_OUTCOME))
def test_competing_risks_match_aalen_johansen(dataset):
    """competing_risks.csv at every distinct time: the cumulative incidence equals
    survfit(Surv(time, multi-state status)) and cmprsk::cuminc; its standard error and log(−log)
    CI equal survfit's (conf.type = "log-log"). cmprsk's variance (Gray 1988) is another estimator
    and is not compared. Where the incidence is still 0 R's CI is NA and the package's (0, 0)."""
    frame = data(SURVIVAL[dataset])
    cif = sv.competing_risks(pd.DataFrame({"time_days": frame["time"].astype(float),
                                           "outcome": frame[CIF_OUTCOME[dataset]]}))
    r = CIF[CIF["dataset"].eq(dataset)]
    assert keys(cif, "outcome") == keys(r, "outcome")
    merged = cif.merge(r, left_on=["outcome", "time_days"], right_on=["outcome", "time"], how="outer",
                       indicator=True, suffixes=("", "_r"))
    assert merged["_merge"].eq("both").all(), "the package and R report different times"
    close(merged["cif"], merged["cif_r"], what="cif vs survfit")
    close(merged["cif"], merged["cif_cmprsk"], what="cif vs cmprsk::cuminc")
    positive = merged["cif"].gt(0)
    close(merged.loc[positive, "ci_low"], merged.loc[positive, "ci_low_r"], what="ci_low")
    close(merged.loc[positive, "ci_high"], merged.loc[positive, "ci_high_r"], what="ci_high")
    assert merged.loc[~positive, ["ci_low", "ci_high"]].eq(0).all().all()
    assert merged.loc[~positive, ["ci_low_r", "ci_high_r"]].isna().all().all()


BENCHMARK = expected("survival_benchmark")


@pytest.mark.parametrize("row", range(len(BENCHMARK)))
def test_benchmark_share_and_wilson_ci_match_prop_test(row):
    """The IPS benchmark: the share employed within 365 days among clients who started at least
    365 days before the cut-off, with the Wilson CI (R: prop.test(correct = FALSE)); the demo
    cohort (R counts the cohort and the jobs itself) and hand-made counts including 0 and n."""
    r = BENCHMARK.iloc[row]
    if r["dataset"] == "demo":
        frame = data("survival_demo")
        clients = pd.DataFrame({"start_date": pd.to_datetime(frame["start_date"])})
        rows = tte("demo")
        cutoff = demo.DemoSpec().cutoff_date
    else:
        n, employed = int(r["n"]), int(r["employed"])
        clients = pd.DataFrame({"start_date": pd.to_datetime(["2020-01-01"] * n)})
        rows = pd.DataFrame({"time_days": [100.0] * n, "event": [True] * employed + [False] * (n - employed)})
        cutoff = "2022-12-31"
    result = sv.benchmark(clients, rows, cutoff, sv.Options())
    assert (result["n"], result["employed"]) == (r["n"], r["employed"])
    close(result["share"], r["share"])
    close(result["ci_low"], r["ci_low"], what="Wilson lower limit")
    close(result["ci_high"], r["ci_high"], what="Wilson upper limit")


def test_survival_demo_inputs_are_what_the_pipeline_produces():
    """The demo rows given to R are the package's own time_to_event / covariates of
    demo.generate(DemoSpec(seed=3, clients=80)); if this fails the demo generator or the censoring
    rules changed: re-run tests/reference/make_data.py and the R scripts (README there)."""
    spec = demo.DemoSpec(seed=3, clients=80)
    tables = demo.generate(spec)
    clients = tables["clients"]
    stored = data("survival_demo")
    now = sv.time_to_event(clients, spec.cutoff_date)
    assert stored["id"].tolist() == clients["client_id"].tolist()
    close(stored["time"], now["time_days"])
    assert stored["status"].tolist() == now["event"].astype(int).tolist()
    age = sv.AGE_AT_START  # the derived covariate start year − birth year
    options = sv.Options(covariates=(age, "baseline_work_ability"))
    cov = sv.covariates(clients, tables["kykyviisari"], options.covariates, options)
    close(stored["age"], cov[age])
    close(stored["baseline_work_ability"], cov["baseline_work_ability"])


# -- pre/post ------------------------------------------------------------------------------------
PAIRED = expected("prepost_paired")


def paired_summary(dataset: str) -> pd.DataFrame:
    """paired_changes → paired_summary of the stored pairs (index measure, comparison)."""
    pairs = data("prepost_pairs")
    pairs = pairs[pairs["dataset"].eq(dataset)]
    comparisons = [tuple(c.split("_")) for c in dict.fromkeys(pairs["comparison"])]
    long = pd.concat([
        pairs[["client_id", "measure", "pre"]].assign(timepoint=pairs["comparison"].str.split("_").str[0])
        .rename(columns={"pre": "score"}),
        pairs[["client_id", "measure", "post"]].assign(timepoint=pairs["comparison"].str.split("_").str[1])
        .rename(columns={"post": "score"})]).drop_duplicates(["client_id", "measure", "timepoint"])
    assigned = long.pivot(index=["client_id", "timepoint"], columns="measure", values="score").reset_index()
    assigned.columns.name = None
    assigned["status"] = "used"
    options = prepost.Options(comparisons=comparisons)
    if dataset == "demo":  # Kykyviisari's own measure table (precision, reliability)
        measures = prepost.measure_table(instrument("kykyviisari"), options)
    else:  # hand-made cases recorded, like Kykyviisari, to one decimal
        names = list(dict.fromkeys(pairs["measure"]))
        measures = pd.DataFrame({"direction": "higher_is_better", "reliability": 0.8, "reference_sd": np.nan,
                                 "decimals": 1}, index=pd.Index(names, name="measure"))
    changes = prepost.paired_changes(assigned, measures, options)
    return prepost.paired_summary(changes, measures, options).set_index(["measure", "comparison"])


SUMMARIES = {dataset: paired_summary(dataset) for dataset in ("demo", "hand")}
PAIRED_KEYS = keys(PAIRED, "dataset", "measure", "comparison")


@pytest.mark.parametrize("dataset,measure,comparison", PAIRED_KEYS)
def test_paired_t_dz_and_holm_match_r(dataset, measure, comparison):
    """t.test(post, pre, paired = TRUE) (t, p, CI of the mean change), p.adjust("holm") over the
    measures of a comparison, d_z with its noncentral-t CI (uniroot on pt(t, df, ncp)), Hedges' g_z,
    SD, median and quartiles (type 7) of the change."""
    ours = SUMMARIES[dataset].loc[(measure, comparison)]
    r = PAIRED.set_index(["dataset", "measure", "comparison"]).loc[(dataset, measure, comparison)]
    assert ours["n_pairs"] == r["n_pairs"]
    assert ours["n_zero_change"] == r["n_zero_change"]
    for column in ("mean_pre", "mean_post", "mean_change", "change_ci_low", "change_ci_high", "t_stat",
                   "t_p", "p_holm", "dz", "dz_ci_low", "dz_ci_high", "gz", "sd_change", "median_change",
                   "change_q1", "change_q3"):
        close(ours[column], r[column], what=column)


@pytest.mark.parametrize("dataset,measure,comparison", PAIRED_KEYS)
def test_signed_rank_matches_r_on_rounded_changes(dataset, measure, comparison):
    """Wilcoxon signed-rank on the changes rounded to the instrument's precision (0.1), zeros
    dropped, mid-ranks for ties, with scipy's method choice (tests/reference/R/signrank.R: exact
    without ties or zeros, exhaustive sign-flip permutation up to 13 changes, otherwise
    wilcox.test(exact = FALSE, correct = FALSE)); statistic = min(T+, T−). Cases whose changes tie
    only after rounding (e.g. ``float_ties``) fail until the package rounds the changes."""
    ours = SUMMARIES[dataset].loc[(measure, comparison)]
    r = PAIRED.set_index(["dataset", "measure", "comparison"]).loc[(dataset, measure, comparison)]
    close(ours["wilcoxon_stat"], r["wilcoxon_stat"], what=f"statistic ({r['wilcoxon_method']})")
    close(ours["wilcoxon_p"], r["wilcoxon_p"], what=f"p ({r['wilcoxon_method']})")


LMM = expected("lmm_random_intercept")
LMM_KEYS = keys(LMM, "dataset", "measure")
TIMEPOINTS = ["baseline", "followup", "end"]


def lmm_data(dataset: str, measure: str) -> pd.DataFrame:
    long = data("lmm_long")
    return long[long["dataset"].eq(dataset) & long["measure"].eq(measure)].reset_index(drop=True)


@pytest.mark.parametrize("dataset,measure", LMM_KEYS)
def test_random_intercept_reml_matches_lme4(dataset, measure):
    """lmm.random_intercept_reml against lmer(score ~ timepoint + (1 | client_id), REML = TRUE):
    fixed effects, SEs from vcov(), σ²_u and σ²_e; tolerance relative 1e-5 (both are numerical
    optima of the REML criterion; lme4 run with bobyqa rhoend = 1e-12). The ``hand`` set is the
    boundary case σ²_u = 0 (lme4: singular fit)."""
    long = lmm_data(dataset, measure)
    present = [tp for tp in TIMEPOINTS if tp in set(long["timepoint"])]
    design = np.column_stack([np.ones(len(long))] + [long["timepoint"].eq(tp) for tp in present[1:]])
    fit = random_intercept_reml(design, long["score"].to_numpy(float), long["client_id"])
    r = LMM[LMM["dataset"].eq(dataset) & LMM["measure"].eq(measure)]
    assert r["term"].tolist() == ["(Intercept)", *present[1:]]
    close(fit.params, r["estimate"], rtol=1e-5, atol=1e-7, what="fixed effects")
    close(fit.bse, r["se"], rtol=1e-5, what="standard errors")
    close(fit.sigma2_residual, r["sigma2_residual"].iloc[0], rtol=1e-5, what="sigma2_residual")
    close(fit.sigma2_group, r["sigma2_group"].iloc[0], rtol=1e-5, atol=1e-7, what="sigma2_group")
    assert fit.converged


@pytest.mark.parametrize("dataset,measure", LMM_KEYS)
def test_mixed_model_table_matches_lme4(dataset, measure):
    """prepost.mixed_model, the table the appendix shows: estimate, SE, Wald 95 % CI and p (normal
    reference) of each later timepoint (difference from baseline) as lme4; tolerance relative 1e-5
    (p 1e-4: a p-value's relative error is |z| times that of the SE)."""
    long = lmm_data(dataset, measure)
    table = prepost.mixed_model(long[["client_id", "timepoint", "score"]])
    r = LMM[LMM["dataset"].eq(dataset) & LMM["measure"].eq(measure) & LMM["term"].ne("(Intercept)")]
    assert table["timepoint"].tolist() == r["term"].tolist()
    close(table["estimate"], r["estimate"], rtol=1e-5, atol=1e-7, what="estimate")
    close(table["se"], r["se"], rtol=1e-5, what="se")
    close(table["ci_low"], r["ci_low"], rtol=1e-5, atol=1e-7, what="ci_low")
    close(table["ci_high"], r["ci_high"], rtol=1e-5, atol=1e-7, what="ci_high")
    close(table["p"], r["p_wald"], rtol=1e-4, atol=1e-12, what="Wald p")


@pytest.mark.parametrize("dataset,measure", [k for k in LMM_KEYS if k[0] == "demo"])
def test_statsmodels_mixedlm_is_near_lme4(dataset, measure):
    """For the record, statsmodels MixedLM (which the package no longer uses for this model): the
    same estimates (relative 1e-4, its optimiser stops earlier), SEs within 1 % (it inverts the
    observed Hessian of all parameters; lme4 and lmm.py use the expected information of β).
    Observed on the demo data: estimates within 2e-6, SEs 0.003–0.4 % larger or smaller."""
    import statsmodels.formula.api as smf

    long = lmm_data(dataset, measure)
    long["timepoint"] = pd.Categorical(long["timepoint"], [tp for tp in TIMEPOINTS if tp in set(long["timepoint"])])
    fit = smf.mixedlm("score ~ C(timepoint)", long, groups=long["client_id"]).fit(reml=True)
    r = LMM[LMM["dataset"].eq(dataset) & LMM["measure"].eq(measure)]
    close(fit.fe_params, r["estimate"], rtol=1e-4, atol=1e-6, what="estimate")
    close(fit.bse_fe, r["se"], rtol=1e-2, what="se")


# -- fidelity ------------------------------------------------------------------------------------
KAPPA = expected("kappa").set_index("set")


def test_weighted_kappa_of_demo_reviews_matches_psych():
    """agreement() of the demo fidelity reviews (R1 vs R2): quadratic weighted kappa as
    psych::cohen.kappa (levels 1–5) and by hand, exact and within-one agreement."""
    instrument = fidelity.load_instrument("ips25")
    items = fidelity.item_table(demo.generate(demo.DemoSpec(seed=3, clients=80))["fidelity"], instrument)
    table = fidelity.agreement(items, instrument)
    table.index = table["site_id"] + "/" + table["review_date"].astype(str)
    r = KAPPA.loc[[s for s in KAPPA.index if not s.startswith("hand")]]
    assert sorted(table.index) == sorted(r.index)
    table = table.loc[r.index]
    assert table["n_items"].tolist() == r["n_items"].tolist()
    close(table["kappa_quadratic"], r["kappa_quadratic"], what="kappa vs psych")
    close(table["kappa_quadratic"], r["kappa_by_hand"], what="kappa vs hand computation in R")
    close(table["exact_agreement_pct"], r["exact_agreement_pct"])
    close(table["within_one_pct"], r["within_one_pct"])


@pytest.mark.parametrize("name", [s for s in KAPPA.index if s.startswith("hand")])
def test_weighted_kappa_edge_cases_match_psych(name):
    """Unused categories (1 and 5) and a negative kappa."""
    pairs = data("kappa_pairs")
    pairs = pairs[pairs["set"].eq(name)]
    kappa = fidelity.weighted_kappa(pairs["score_a"], pairs["score_b"], range(1, 6))
    close(kappa, KAPPA.loc[name, "kappa_quadratic"])


def test_kappa_demo_pairs_are_current():
    """The demo ratings given to R are still what the demo generator writes (else re-run
    make_data.py and kappa.R)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_reference_data", REF / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    columns = ["set", "item", "score_a", "score_b"]
    assert data("kappa_pairs")[columns].values.tolist() == module.kappa_pairs()[columns].values.tolist()


# -- feedback ------------------------------------------------------------------------------------
FEEDBACK = expected("feedback_rounds").set_index(["item_id", "rounds"])
ROUNDS = feedback.compare_rounds(data("feedback_rounds")).set_index(["item_id", "rounds"])


@pytest.mark.parametrize("item_id,rounds", FEEDBACK.index.tolist())
def test_feedback_rank_tests_match_r(item_id, rounds):
    """compare_rounds: Wilcoxon signed-rank (scipy defaults; signrank.R), Mann–Whitney
    (wilcox.test with exact = TRUE when the smaller sample has ≤ 8 values and no ties, else
    exact = FALSE, correct = TRUE), friedman.test, kruskal.test, and their effect sizes."""
    ours, r = ROUNDS.loc[(item_id, rounds)], FEEDBACK.loc[(item_id, rounds)]
    assert ours["test"] == r["test"]
    assert (ours["n_first"], ours["n_last"]) == (r["n_first"], r["n_last"])
    for column in ("mean_first", "mean_last", "statistic", "p", "effect_size"):
        close(ours[column], r[column], what=f"{column} ({r['method']})")


def test_feedback_has_every_comparison_r_made():
    assert sorted(ROUNDS.index) == sorted(FEEDBACK.index)


def test_prepost_demo_inputs_are_current():
    """The demo pairs and measurements given to R are still what assign_timepoints and
    paired_changes make of demo.generate(DemoSpec(seed=3, clients=80))."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_reference_data", REF / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    pairs, long = module.prepost_demo()
    stored = data("prepost_pairs")
    stored = stored[stored["dataset"].eq("demo")].reset_index(drop=True)
    columns = ["measure", "comparison", "client_id"]
    assert stored[columns].values.tolist() == pairs[columns].values.tolist()
    close(stored[["pre", "post"]], pairs[["pre", "post"]], rtol=0, atol=0)
    stored_long = data("lmm_long")
    stored_long = stored_long[stored_long["dataset"].eq("demo")]
    columns = ["measure", "client_id", "timepoint"]
    assert stored_long[columns].values.tolist() == long[columns].values.tolist()
    close(stored_long["score"], long["score"], rtol=0, atol=0)


# -- R itself ------------------------------------------------------------------------------------
# meta_analysis.R needs metafor: re-run by tests/test_meta_analysis.py
R_SCRIPTS = sorted(p.stem for p in SCRIPTS.glob("*.R") if p.stem not in ("common", "signrank", "meta_analysis"))


@pytest.fixture(scope="module")
def rscript() -> str:
    """Path of Rscript; the test is skipped without R or without one of its packages."""
    path = shutil.which("Rscript")
    if not path:
        pytest.skip("Rscript not found")
    check = subprocess.run([path, "-e", "for (p in c('survival','cmprsk','lme4','psych')) "
                            "if (!requireNamespace(p, quietly = TRUE)) quit(status = 1)"], capture_output=True)
    if check.returncode != 0:
        pytest.skip("R lacks one of survival, cmprsk, lme4, psych")
    return path


@pytest.mark.parametrize("script", R_SCRIPTS)
def test_r_still_prints_the_stored_numbers(script, rscript, tmp_path):
    """Re-run the R script on the stored data; every file it writes must equal the stored one
    (same rows, text columns equal, numbers to relative 1e-8; lmm to 1e-6 since an optimiser in
    another lme4 version may stop elsewhere within its tolerance)."""
    run = subprocess.run([rscript, str(SCRIPTS / f"{script}.R"), str(DATA), str(tmp_path)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    written = sorted(tmp_path.glob("*.csv"))
    assert written, f"{script}.R wrote nothing"
    rtol = 1e-6 if script == "lmm" else 1e-8
    for path in written:
        new = pd.read_csv(path, keep_default_na=False, na_values=[""])
        old = expected(path.stem)
        assert list(new.columns) == list(old.columns), path.name
        assert len(new) == len(old), path.name
        for column in new.columns:
            if pd.api.types.is_numeric_dtype(old[column]):
                close(new[column], old[column], rtol=rtol, atol=1e-12, what=f"{path.name}: {column}")
            else:
                assert new[column].tolist() == old[column].tolist(), f"{path.name}: {column}"

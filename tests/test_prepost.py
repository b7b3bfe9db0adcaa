"""Tests of tyokyky_eval.stats.prepost against independent references (scipy, pingouin, statsmodels'
own fit on a balanced design, published Kykyviisari reliability figures, hand computations)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import integrate, optimize, stats

from tyokyky_eval import load_section
from tyokyky_eval.inputs.dictionary import instrument
from tyokyky_eval.stats import prepost

ROOT = Path(__file__).resolve().parent.parent
MEASURES = [m["id"] for m in instrument("kykyviisari")["measures"]]


def clients_frame(n: int, start="2021-01-01", end=None) -> pd.DataFrame:
    return pd.DataFrame({
        "client_id": [f"C{i:02d}" for i in range(n)],
        "start_date": pd.to_datetime([start] * n),
        "end_date": pd.to_datetime([end] * n),
    })


def measurements(rows) -> pd.DataFrame:
    """rows: (client_id, days after 2021-01-01, {measure: score}); missing measures are NaN."""
    base = pd.Timestamp("2021-01-01")
    frame = pd.DataFrame([{"client_id": c, "measured_on": base + pd.Timedelta(days=d), **s} for c, d, s in rows])
    for m in MEASURES:
        if m not in frame:
            frame[m] = np.nan
    return frame[["client_id", "measured_on", *MEASURES]].astype({m: float for m in MEASURES})


def paired_data(pre, post, measure="work_ability", end=None, post_day=180):
    """Clients measured on day 0 (pre) and ``post_day`` (post) on ``measure``."""
    rows = []
    for i, (a, b) in enumerate(zip(pre, post)):
        rows += [(f"C{i:02d}", 0, {measure: a}), (f"C{i:02d}", post_day, {measure: b})]
    return measurements(rows), clients_frame(len(pre), end=end)


def summarise(kyky, clients, options=prepost.Options()):
    measures = prepost.measure_table(instrument("kykyviisari"), options)
    assigned = prepost.assign_timepoints(kyky, clients, options)
    changes = prepost.paired_changes(assigned, measures, options)
    return prepost.paired_summary(changes, measures, options).set_index(["measure", "comparison"])


# -- options ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    ({"baseline_window": (30, -30)}, "after the last day"),
    ({"followup_window": [120]}, "two whole numbers"),
    ({"followup_target": 300}, "outside followup_window"),
    ({"comparisons": [["end", "baseline"]]}, "must come before"),
    ({"comparisons": [["baseline", "six_months"]]}, "not a pair of timepoints"),
    ({"reliability": {"work_ability": 1.2}}, "0 ≤ r < 1"),
    ({"reference_sd": {"work_ability": 0}}, "> 0"),
    ({"subgroup": ""}, "must name a clients column"),
])
def test_options_reject_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        prepost.Options(**kwargs)


def test_options_from_yaml_lists_and_unknown_measure():
    options = prepost.Options(comparisons=[["baseline", "end"]], baseline_window=[-10, 10],
                              reliability={"work_ability": 0.8})
    assert options.comparisons == (("baseline", "end"),) and options.baseline_window == (-10, 10)
    table = prepost.measure_table(instrument("kykyviisari"), options)
    assert table.loc["work_ability", "reliability"] == 0.8 and table.loc["mind", "reliability"] == 0.74
    with pytest.raises(prepost.ParameterError, match="unknown measure"):
        prepost.measure_table(instrument("kykyviisari"), prepost.Options(reference_sd={"workability": 2.0}))


# -- timepoints ------------------------------------------------------------------------------------
def test_timepoint_rule_closest_then_earliest_and_outside_count():
    clients = clients_frame(2, end="2021-12-31")  # end day = 364
    kyky = measurements([
        ("C00", -20, {}), ("C00", 5, {}), ("C00", -5, {}),  # baseline tie |5| = |-5| → earlier (-5)
        ("C00", 150, {}), ("C00", 185, {}),                 # follow-up: 185 closest to 182
        ("C00", 80, {}),                                    # in no window
        ("C00", 340, {}), ("C00", 366, {}),                 # end: 366 (2 days) beats 340 (24 days)
        ("C01", 25, {}), ("C01", 400, {}),                  # 400 = end + 36: outside
    ])
    out = prepost.assign_timepoints(kyky, clients, prepost.Options())
    days = out.set_index(["client_id", "days_from_start"])
    assert days.loc[("C00", -5), "timepoint"] == "baseline"
    assert days.loc[("C00", 185), "timepoint"] == "followup"
    assert days.loc[("C00", 366), "timepoint"] == "end"
    assert days.loc[("C01", 25), "timepoint"] == "baseline"
    assert set(days.loc[[("C00", -20), ("C00", 5), ("C00", 150), ("C00", 340)], "status"]) == {"extra"}
    counts = prepost.assignment_counts(out).set_index("category")["n_measurements"]
    assert counts.to_dict() == {"baseline": 2, "followup": 1, "end": 1, "extra": 4, "outside": 2, "total": 10}


def test_overlapping_windows_use_each_measurement_once():
    clients = clients_frame(1, end="2021-02-15")  # 45-day service: baseline and end windows overlap
    out = prepost.assign_timepoints(measurements([("C00", 2, {}), ("C00", 44, {})]), clients, prepost.Options())
    assert out["timepoint"].tolist() == ["baseline", "end"]


# -- paired statistics -----------------------------------------------------------------------------
RNG = np.random.default_rng(7)
PRE = np.round(RNG.uniform(2, 8, 24), 1)
POST = np.clip(np.round(PRE + RNG.normal(0.8, 1.2, 24), 1), 0, 10)


def test_paired_tests_match_scipy():
    row = summarise(*paired_data(PRE, POST)).loc[("work_ability", "baseline_followup")]
    ref = stats.ttest_rel(POST, PRE)
    ci = ref.confidence_interval(0.95)
    assert row["n_pairs"] == 24
    assert row["mean_change"] == pytest.approx(np.mean(POST - PRE))
    assert (row["change_ci_low"], row["change_ci_high"]) == pytest.approx((ci.low, ci.high))
    assert (row["t_stat"], row["t_p"]) == pytest.approx((ref.statistic, ref.pvalue))
    wil = stats.wilcoxon(np.round(POST - PRE, 1), zero_method="wilcox")  # changes in 0.1 points
    assert (row["wilcoxon_stat"], row["wilcoxon_p"]) == pytest.approx((wil.statistic, wil.pvalue))
    d = POST - PRE
    assert row["median_change"] == pytest.approx(np.median(d))
    assert (row["change_q1"], row["change_q3"]) == pytest.approx(tuple(np.quantile(d, [0.25, 0.75])))


def test_signed_rank_ties_changes_that_are_equal_to_the_scores_precision():
    """6.3 − 6.1 and 5.2 − 5.0 are both 0.2 points but differ in binary floating point; ranked
    unrounded they would not be tied. The test must equal scipy on the exact changes (integer tenths)."""
    pre = np.array([6.1, 5.0, 7.3, 4.4, 6.6, 3.1, 5.5, 8.2, 2.4, 6.0, 5.7, 4.9, 7.7, 6.8, 3.9, 5.1])
    tenths = np.array([2, 2, 3, -1, 4, 2, -3, 1, 5, 3, 2, -2, 1, 4, 3, 2])
    post = np.round(pre + tenths / 10, 1)
    assert len(set(post - pre)) > len(set(tenths))  # the floating-point differences break the ties
    row = summarise(*paired_data(pre, post)).loc[("work_ability", "baseline_followup")]
    exact = stats.wilcoxon(tenths / 10, zero_method="wilcox")  # 16 changes with ties: normal approx.
    assert (row["wilcoxon_stat"], row["wilcoxon_p"]) == pytest.approx((exact.statistic, exact.pvalue), rel=1e-12)
    unrounded = stats.wilcoxon(post - pre, zero_method="wilcox")
    assert unrounded.pvalue != pytest.approx(exact.pvalue, rel=1e-6)


def _nct_cdf_by_integration(t, df, ncp):
    """P(T ≤ t) for T = (Z + ncp) / √(V/df), V ~ χ²(df): ∫ Φ(t·√(v/df) − ncp) f(v) dv over the
    central 1 − 2e-14 of χ²(df) (where the density is not negligible, also for large df)."""
    lo, hi = stats.chi2.ppf([1e-14, 1 - 1e-14], df)
    return integrate.quad(lambda v: stats.norm.cdf(t * math.sqrt(v / df) - ncp) * stats.chi2.pdf(v, df),
                          lo, hi, limit=200, epsabs=1e-13)[0]


def _dz_interval_by_integration(dz, n):
    t_obs = dz * math.sqrt(n)
    lo = optimize.brentq(lambda l: _nct_cdf_by_integration(t_obs, n - 1, l) - 0.975, t_obs - 6, t_obs)
    hi = optimize.brentq(lambda l: _nct_cdf_by_integration(t_obs, n - 1, l) - 0.025, t_obs, t_obs + 6)
    return lo / math.sqrt(n), hi / math.sqrt(n)


def test_dz_and_its_noncentral_t_interval_by_hand():
    row = summarise(*paired_data(PRE, POST)).loc[("work_ability", "baseline_followup")]
    d, n = POST - PRE, len(PRE)
    dz = d.mean() / d.std(ddof=1)
    assert row["dz"] == pytest.approx(dz)
    assert (row["dz_ci_low"], row["dz_ci_high"]) == pytest.approx(_dz_interval_by_integration(dz, n), abs=1e-5)
    # Hedges: J(df) ≈ 1 − 3 / (4·df − 1) (Hedges & Olkin 1985, eq. 5.10)
    assert row["gz"] == pytest.approx(dz * (1 - 3 / (4 * (n - 1) - 1)), rel=1e-3)


@pytest.mark.parametrize("dz, n", [(0.392, 310), (-0.8, 2000)])
def test_dz_interval_where_scipy_nct_returns_nan_in_the_far_tail(dz, n):
    """scipy's nct.cdf is NaN far in the tail (nct.cdf(6.90, 309, −5.0)); the interval must still be
    the exact one, here checked against the integral of the noncentral t."""
    interval = prepost.dz_confidence_interval(dz, n)
    assert interval == pytest.approx(_dz_interval_by_integration(dz, n), abs=1e-6)


@pytest.mark.parametrize("dz, n, tol", [(0.4, 400, 2e-3), (0.392, 50_000, 1e-5), (1.5, 50_000, 1e-5)])
def test_dz_interval_approaches_pingouin_normal_approximation_in_large_samples(dz, n, tol):
    """pingouin: d_z ± z·√(1/n + d_z²/(2n)), which the exact interval approaches as n grows."""
    pingouin = pytest.importorskip("pingouin")
    low, high = prepost.dz_confidence_interval(dz, n)
    ref = pingouin.compute_esci(stat=dz, nx=n, ny=n, paired=True, eftype="cohen", decimals=12)
    assert (low, high) == pytest.approx(tuple(ref), abs=tol)


def test_holm_matches_hand_computation():
    rows = []
    shifts = {"work_ability": 0.9, "functioning": 0.1, "mind": 0.5, "inclusion": 0.3}
    rng = np.random.default_rng(3)
    for i in range(15):
        scores_pre = {m: float(rng.uniform(3, 7)) for m in shifts}
        scores_post = {m: scores_pre[m] + s + float(rng.normal(0, 1)) for m, s in shifts.items()}
        rows += [(f"C{i:02d}", 0, scores_pre), (f"C{i:02d}", 180, scores_post)]
    summary = summarise(measurements(rows), clients_frame(15)).xs("baseline_followup", level="comparison")
    p = summary.loc[list(shifts), "t_p"].to_numpy()
    order = np.argsort(p)
    m = len(p)
    adjusted = np.empty(m)
    running = 0.0
    for rank, index in enumerate(order):  # Holm: (m − rank)·p, made monotone, capped at 1
        running = max(running, (m - rank) * p[index])
        adjusted[index] = min(1.0, running)
    assert summary.loc[list(shifts), "p_holm"].to_numpy() == pytest.approx(adjusted)
    assert summary.loc[["skills", "body"], "p_holm"].isna().all()  # no data: left out of the family


def test_holm_is_statsmodels_multipletests_and_leaves_the_collector_as_it_was():
    """prepost.holm runs multipletests(method="holm") with the objects alive frozen (its full
    gc.collect() is then cheap): the same values, and the collector's frozen set as before."""
    import gc

    from statsmodels.stats.multitest import multipletests

    p = np.random.default_rng(5).uniform(0, 0.2, 9)
    expected = multipletests(p, method="holm")[1].tolist()
    before = gc.get_freeze_count()
    assert prepost.holm(p).tolist() == expected and gc.get_freeze_count() == before
    gc.freeze()  # a caller that froze objects itself keeps them frozen
    try:
        frozen = gc.get_freeze_count()
        assert prepost.holm(p).tolist() == expected and gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_subgroup_summary_is_paired_summary_of_each_subgroup():
    """The subgroup table (one grouping of all pairs) holds, per subgroup, exactly the statistics
    paired_summary gives for that subgroup's pairs alone; a missing code is the subgroup 'missing'."""
    rng = np.random.default_rng(11)
    rows = []
    for i in range(40):
        pre = {m: float(rng.integers(0, 101)) / 10 for m in ("work_ability", "mind")}
        post = {m: float(np.clip(v + rng.integers(-20, 30) / 10, 0, 10)) for m, v in pre.items()}
        rows += [(f"C{i:02d}", 0, pre), (f"C{i:02d}", 180, post)]
    kyky, clients = measurements(rows), clients_frame(40)
    codes = pd.Series(rng.choice(["a", "b", "c", None], 40), index=clients["client_id"], name="referral_source")
    options = prepost.Options()
    measures = prepost.measure_table(instrument("kykyviisari"), options)
    changes = prepost.paired_changes(prepost.assign_timepoints(kyky, clients, options), measures, options)
    sub = prepost.subgroup_summary(changes, codes, measures, options)
    named = codes.fillna("missing")
    assert sorted(sub["referral_source"].unique()) == sorted(named.unique())
    for value, part in sub.groupby("referral_source"):
        alone = changes[changes["client_id"].isin(named.index[named == value])]
        expected = prepost.paired_summary(alone, measures, options)[prepost.SUBGROUP_COLUMNS]
        pd.testing.assert_frame_equal(part[prepost.SUBGROUP_COLUMNS].reset_index(drop=True), expected,
                                      check_exact=True)


# -- reliable change -------------------------------------------------------------------------------
def test_reliable_change_reproduces_published_kykyviisari_detectable_change():
    """Kekäläinen et al. (BMJ Open 2021): work ability ICC 0.89, SEM 0.69, smallest detectable change
    1.9–2.2 points. SEM = SD·√(1 − r) gives SD = 0.69/√0.11 = 2.080; 1.96·S_diff = 1.96·√2·0.69 = 1.913."""
    sd = 0.69 / math.sqrt(1 - 0.89)
    rc, s_diff, category = prepost.reliable_change([2.0, -1.0, -2.0], sd, 0.89)
    assert s_diff == pytest.approx(0.69 * math.sqrt(2), rel=1e-9)
    assert 1.96 * s_diff == pytest.approx(1.913, abs=5e-4)
    assert round(1.96 * s_diff, 1) == 1.9
    assert category.tolist() == ["improved", "no_change", "worsened"]


def test_reliable_change_index_written_out():
    """Christensen & Mendoza (1986) form: SD 7.5, r 0.80 → S_E = 7.5·√0.2 = 3.354, S_diff = √2·S_E =
    4.743; a fall of 15 points gives RC = −15/4.743 = −3.162 (reliable; improvement when lower is better)."""
    rc, s_diff, category = prepost.reliable_change([-15.0, -9.0], 7.5, 0.80, direction="lower_is_better")
    assert s_diff == pytest.approx(4.743, abs=5e-4)
    assert rc == pytest.approx([-3.162, -1.897], abs=5e-4)
    assert category.tolist() == ["improved", "no_change"]


def test_reliable_change_counts_use_baseline_sd_or_reference_sd():
    pre = np.array([2.0, 4, 6, 8, 5, 5])
    post = pre + np.array([3.0, 0, -3, 1, 0, 2])
    row = summarise(*paired_data(pre, post)).loc[("work_ability", "baseline_followup")]
    # baseline SD = √(20/5) = 2 → threshold 1.96·2·√2·√0.11 = 1.839: changes 3, 2 up; −3 down; 0, 0, 1 none
    assert row["sd_pre"] == pytest.approx(2.0)
    assert row["rc_threshold"] == pytest.approx(1.96 * 2 * math.sqrt(2) * math.sqrt(0.11))
    assert (row["n_reliable_improved"], row["n_no_reliable_change"], row["n_reliable_worsened"]) == (2, 3, 1)
    options = prepost.Options(reference_sd={"work_ability": 1.0})  # threshold 1.96·√2·√0.11 = 0.919
    row = summarise(*paired_data(pre, post), options).loc[("work_ability", "baseline_followup")]
    assert (row["n_reliable_improved"], row["n_no_reliable_change"], row["n_reliable_worsened"]) == (3, 2, 1)


# -- attrition and the mixed model -----------------------------------------------------------------
def test_mixed_model_equals_mean_differences_in_a_balanced_complete_design():
    rng = np.random.default_rng(11)
    n = 12
    person = rng.normal(0, 1.5, n)
    long = pd.DataFrame([{"client_id": f"C{i:02d}", "timepoint": tp,
                          "score": 5 + person[i] + shift + rng.normal(0, 0.7)}
                         for i in range(n) for tp, shift in (("baseline", 0), ("followup", 0.8), ("end", 1.1))])
    fit = prepost.mixed_model(long).set_index("timepoint")
    means = long.groupby("timepoint")["score"].mean()
    for tp in ("followup", "end"):
        assert fit.loc[tp, "estimate"] == pytest.approx(means[tp] - means["baseline"], abs=1e-6)
        # with complete data the Wald SE of a difference equals √(2σ²/n) with σ² the residual variance
    assert fit["converged"].all() and (fit["n_clients"] == n).all() and (fit["n_measurements"] == 3 * n).all()


def test_mixed_model_uses_incomplete_clients_and_smd_by_hand():
    pre = [3.0, 4, 5, 6, 7, 5, 4, 6]
    post = [4.0, 5, 6, 7, 9, np.nan, np.nan, np.nan]
    rows = [(f"C{i:02d}", 0, {"work_ability": a}) for i, a in enumerate(pre)]
    rows += [(f"C{i:02d}", 180, {"work_ability": b}) for i, b in enumerate(post) if not np.isnan(b)]
    kyky, clients = measurements(rows), clients_frame(len(pre))
    options = prepost.Options()
    measures = prepost.measure_table(instrument("kykyviisari"), options)
    assigned = prepost.assign_timepoints(kyky, clients, options)
    summary = prepost.paired_summary(prepost.paired_changes(assigned, measures, options), measures, options)
    mixed = prepost.mixed_models(assigned, measures, summary)
    assert mixed.columns[:len(prepost.MIXED_COLUMNS)].tolist() == prepost.MIXED_COLUMNS
    row = mixed.set_index(["measure", "timepoint"]).loc[("work_ability", "followup")]
    assert row["n_measurements"] == 13 and row["completers_n_pairs"] == 5
    assert row["completers_change"] == pytest.approx(1.2)
    status = prepost.eligibility(clients, assigned, options, "2022-12-31")
    flow = prepost.attrition(status).set_index("timepoint")
    assert flow.loc["followup", ["n_due", "n_measured", "n_with_baseline"]].tolist() == [8, 5, 5]
    assert flow.loc["end", "n_due"] == 0
    completion = prepost.baseline_by_completion(assigned, status, measures, options).set_index(["measure", "comparison"])
    a, b = np.array(pre[:5]), np.array(pre[5:])
    smd = (a.mean() - b.mean()) / math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    assert completion.loc[("work_ability", "baseline_followup"), "smd"] == pytest.approx(smd)


def simulated_long(seed: int, n: int, sd_client: float, drop: float) -> pd.DataFrame:
    """Clients with a random intercept (SD ``sd_client``), residual SD 1, changes +0.8 (follow-up) and
    +1.1 (end); each later timepoint is missing with probability ``drop`` (unbalanced data)."""
    rng = np.random.default_rng(seed)
    person = rng.normal(0, sd_client, n)
    rows = [{"client_id": f"C{i:03d}", "timepoint": tp, "score": 5 + person[i] + shift + rng.normal(0, 1)}
            for i in range(n) for k, (tp, shift) in enumerate((("baseline", 0), ("followup", 0.8), ("end", 1.1)))
            if k == 0 or rng.random() >= drop]
    return pd.DataFrame(rows)


def _statsmodels_reml(long):
    import statsmodels.formula.api as smf

    data = long.assign(timepoint=pd.Categorical(long["timepoint"], categories=prepost.TIMEPOINTS))
    return smf.mixedlm("score ~ C(timepoint)", data, groups=data["client_id"]).fit(reml=True)


@pytest.mark.parametrize("seed, n, sd_client, drop", [
    (1, 60, 1.5, 0.0),   # balanced, complete
    (2, 80, 1.0, 0.4),   # clients missing timepoints
    (4, 40, 0.3, 0.5),   # small between-client variance, half missing
])
def test_profiled_reml_equals_statsmodels_mixedlm(seed, n, sd_client, drop):
    from tyokyky_eval.stats.lmm import random_intercept_reml

    long = simulated_long(seed, n, sd_client, drop)
    ref = _statsmodels_reml(long)
    design = np.column_stack([np.ones(len(long)), long["timepoint"] == "followup", long["timepoint"] == "end"])
    fit = random_intercept_reml(design, long["score"], long["client_id"])
    assert fit.converged and ref.converged
    assert fit.params == pytest.approx(ref.fe_params.to_numpy(), abs=1e-5)
    assert fit.sigma2_residual == pytest.approx(ref.scale, rel=1e-4)
    assert fit.sigma2_group == pytest.approx(float(ref.cov_re.iloc[0, 0]), rel=1e-4)
    assert fit.bse == pytest.approx(ref.bse_fe.to_numpy(), rel=0.01)  # expected vs observed information


@pytest.mark.filterwarnings("ignore:The MLE may be on the boundary")
def test_profiled_reml_boundary_without_between_client_variance():
    """No client effect in the data and REML at the boundary σ²_u = 0: the fit is then ordinary least
    squares (σ̂² = RSS/(N − p), cov = σ̂²(X'X)⁻¹), and statsmodels' estimate is ≈ 0 too."""
    from tyokyky_eval.stats.lmm import random_intercept_reml

    long = simulated_long(1, 40, 0.0, 0.3)
    design = np.column_stack([np.ones(len(long)), long["timepoint"] == "followup", long["timepoint"] == "end"])
    fit = random_intercept_reml(design, long["score"], long["client_id"])
    ref = _statsmodels_reml(long)
    assert fit.sigma2_group == 0.0 and float(ref.cov_re.iloc[0, 0]) < 1e-6
    beta, rss = np.linalg.lstsq(design, long["score"].to_numpy(), rcond=None)[:2]
    assert fit.params == pytest.approx(beta, abs=1e-10) and fit.params == pytest.approx(ref.fe_params, abs=1e-5)
    assert fit.sigma2_residual == pytest.approx(rss[0] / (len(long) - 3), rel=1e-10)
    assert fit.sigma2_residual == pytest.approx(ref.scale, rel=1e-4)
    assert fit.cov_params == pytest.approx(fit.sigma2_residual * np.linalg.inv(design.T @ design), rel=1e-10)
    assert fit.bse == pytest.approx(ref.bse_fe.to_numpy(), rel=0.01)


def test_mixed_model_agrees_with_statsmodels_mixedlm_and_reports_wald_intervals():
    """The estimates equal MixedLM's REML fit; the SEs are lme4's expected-information SEs (checked
    against lme4 itself in test_reference.py), within 1 % of MixedLM's observed-information SEs."""
    long = simulated_long(2, 80, 1.0, 0.4)
    ref = _statsmodels_reml(long)
    fit = prepost.mixed_model(long).set_index("timepoint")
    z = stats.norm.ppf(0.975)
    for tp in ("followup", "end"):
        term = f"C(timepoint)[T.{tp}]"
        row = fit.loc[tp]
        assert row["estimate"] == pytest.approx(ref.fe_params[term], abs=1e-5)
        assert row["se"] == pytest.approx(ref.bse_fe[term], rel=0.01)
        assert [row["ci_low"], row["ci_high"]] == pytest.approx(
            [row["estimate"] - z * row["se"], row["estimate"] + z * row["se"]], rel=1e-12)
        assert row["p"] == pytest.approx(2 * stats.norm.sf(abs(row["estimate"] / row["se"])), rel=1e-12)


# -- edge cases ------------------------------------------------------------------------------------
def test_nobody_with_followup():
    kyky = measurements([(f"C{i:02d}", 0, {m: 5.0 + i for m in MEASURES}) for i in range(6)])
    clients = clients_frame(6)
    summary = summarise(kyky, clients)
    assert (summary["n_pairs"] == 0).all()
    assert summary[["mean_change", "t_p", "wilcoxon_p", "p_holm", "dz", "dz_ci_low"]].isna().all().all()
    assert summary["n_reliable_improved"].isna().all()
    options = prepost.Options()
    measures = prepost.measure_table(instrument("kykyviisari"), options)
    assigned = prepost.assign_timepoints(kyky, clients, options)
    assert prepost.mixed_models(assigned, measures, summary.reset_index()).empty


def test_one_pair():
    row = summarise(*paired_data([4.0], [6.0])).loc[("work_ability", "baseline_followup")]
    assert row["n_pairs"] == 1 and row["mean_change"] == 2.0
    assert pd.isna(row["change_ci_low"]) and pd.isna(row["t_p"]) and pd.isna(row["dz_ci_low"])
    assert pd.isna(row["n_reliable_improved"])  # the baseline SD of one client is undefined


def test_all_changes_zero():
    pre = [3.0, 5, 7, 4, 6]
    row = summarise(*paired_data(pre, pre)).loc[("work_ability", "baseline_followup")]
    assert row["mean_change"] == 0 and row["change_ci_low"] == 0 and row["change_ci_high"] == 0
    assert pd.isna(row["t_p"]) and pd.isna(row["wilcoxon_p"]) and pd.isna(row["dz"])
    assert row["n_no_reliable_change"] == 5 and row["n_zero_change"] == 5


def test_measure_missing_from_export():
    kyky, clients = paired_data(PRE, POST)
    assert kyky["skills"].isna().all()
    summary = summarise(kyky, clients)
    assert (summary.loc["skills", "n_pairs"] == 0).all() and summary.loc["skills", "t_p"].isna().all()
    assert summary.columns.tolist() == prepost.SUMMARY_COLUMNS[2:] + prepost.SUMMARY_EXTRA


# -- the whole analysis on the demo project (the section) ------------------------------------------
@pytest.fixture(scope="module")
def demo_section(tmp_path_factory):
    from tyokyky_eval import demo
    from tyokyky_eval.inputs.project import load_project

    folder = tmp_path_factory.mktemp("demo")
    written = demo.write(demo.generate(demo.DemoSpec(seed=2023, clients=35)), folder / "data")
    params = yaml.safe_load((ROOT / "parameters" / "demo.yaml").read_text(encoding="utf-8"))
    params["data"] = {k: f"data/{Path(v).name}" for k, v in params["data"].items() if k in written}
    params.setdefault("analyses", {})["prepost"] = {"subgroup": "referral_source"}
    (folder / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    return load_section("prepost", load_project(folder / "params.yaml", "en")).cohorts["ips"]


def test_demo_published_tables_follow_disclosure_rules(demo_section):
    s = demo_section
    follow, cell = s.rules.min_followup, s.rules.min_cell
    assert s.summary.columns[:19].tolist() == prepost.SUMMARY_COLUMNS
    published = s.published()
    safe = published["prepost_summary"]
    small = s.summary["n_pairs"] < follow
    assert small.any() and (~small).any()  # the demo has both kinds
    assert safe.loc[small, "mean_change"].eq("..").all()
    assert safe.loc[~small, "mean_change"].map(lambda v: isinstance(v, float)).all()
    assert safe.loc[small & (s.summary["n_pairs"] < cell), "n_pairs"].eq(f"<{cell}").all()
    times = published["prepost_timepoints"]
    assert times.loc[s.timepoints["n"].lt(follow).to_numpy(), "mean"].eq("..").all()
    sub = published["prepost_subgroups"]
    assert sub.loc[s._subgroup_rows()["n_pairs"].lt(follow).to_numpy(), "mean_change"].eq("..").all()
    text = " ".join(s.text("en")) + " ".join(s.text("fi"))
    assert "withheld" in text and "julkaisematta" in text
    counts = s.counts.set_index("category")["n_measurements"]
    assert counts[["baseline", "followup", "end", "extra", "outside"]].sum() == counts["total"]


def test_demo_figures_are_drawn(demo_section):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = demo_section.figures("fi")
    assert len(figures) >= 2 and all(caption for caption, _ in figures)
    plt.close("all")

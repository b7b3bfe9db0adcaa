"""tyokyky_eval.stats.meta_analysis against R's metafor 3.8 (``tests/reference/R/meta_analysis.R``).

Inputs: ``tests/reference/data/meta_*.csv`` (written by ``make_meta_analysis_data.py``: metafor's
dat.bcg trials, proportions with zero cells, mean changes, and degenerate sets); what metafor
printed for them: ``tests/reference/expected/meta_*.csv``. The suite needs no R; where ``Rscript``
with metafor is on the PATH, ``test_r_still_prints_the_stored_meta_analysis`` re-runs the script.

Tolerance: absolute 1e-8 for every statistic (both sides run the same Fisher scoring to a change in
τ² of at most 1e-12).
"""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tyokyky_eval.stats import meta_analysis as ma

REF = Path(__file__).resolve().parent / "reference"
DATA, EXPECTED, SCRIPT = REF / "data", REF / "expected", REF / "R" / "meta_analysis.R"
ATOL = 1e-8


def data(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"{name}.csv", keep_default_na=False, na_values=[""])


def expected(name: str) -> pd.DataFrame:
    return pd.read_csv(EXPECTED / f"{name}.csv", keep_default_na=False, na_values=[""])


def close(actual, desired, what=""):
    np.testing.assert_allclose(np.asarray(actual, dtype=float), np.asarray(desired, dtype=float),
                               rtol=0, atol=ATOL, equal_nan=True, err_msg=what)


def log_risk_ratio(counts: pd.DataFrame) -> pd.DataFrame:
    """escalc(measure = "RR") by hand (the BCG trials have no zero cell)."""
    a, b, c, d = (counts[col].astype(float) for col in ("tpos", "tneg", "cpos", "cneg"))
    return pd.DataFrame({"study": counts["study"].astype(str),
                         "estimate": np.log(a / (a + b)) - np.log(c / (c + d)),
                         "variance": 1 / a - 1 / (a + b) + 1 / c - 1 / (c + d)})


def effects(dataset: str) -> pd.DataFrame:
    """study, estimate, variance of a reference data set, made by the package's helpers."""
    for name, make in (("meta_counts", log_risk_ratio), ("meta_proportions", ma.logit_proportion),
                       ("meta_mean_change", ma.mean_change), ("meta_generic", lambda f: f)):
        frame = data(name)
        if dataset in set(frame["dataset"]):
            rows = frame[frame["dataset"].eq(dataset)].reset_index(drop=True)
            out = make(rows)
            return out.assign(study=out["study"].astype(str))[["study", "estimate", "variance"]]
    raise KeyError(dataset)


POOLED = expected("meta_pooled")
CASES = list(POOLED[["dataset", "method"]].itertuples(index=False, name=None))
# package attribute → metafor column
COLUMNS = {"estimate": "estimate", "se": "se", "t": "tval", "df": "df", "p": "pval", "ci_low": "ci_lb",
           "ci_high": "ci_ub", "kh_factor": "s2w", "se_z": "se_z", "z": "zval", "p_z": "pval_z",
           "ci_low_z": "ci_lb_z", "ci_high_z": "ci_ub_z", "tau2": "tau2", "se_tau2": "se_tau2", "i2": "I2",
           "h2": "H2", "q": "QE", "q_p": "QEp", "pi_low": "pi_lb", "pi_high": "pi_ub", "k": "k"}


def r_row(dataset: str, method: str) -> pd.Series:
    return POOLED[POOLED["dataset"].eq(dataset) & POOLED["method"].eq(method)].iloc[0]


# -- effect sizes --------------------------------------------------------------------------------
@pytest.mark.parametrize("dataset", sorted(set(expected("meta_effects")["dataset"])))
def test_effect_sizes_match_escalc(dataset):
    """Log risk ratio (by hand), PLO with metafor's 1/2 added to both cells of zero-cell studies
    only, and the mean change with variance sd²/n: yi and vi as escalc."""
    r = expected("meta_effects")
    r = r[r["dataset"].eq(dataset)]
    ours = effects(dataset)
    assert ours["study"].tolist() == r["study"].astype(str).tolist()
    close(ours["estimate"], r["yi"], "yi")
    close(ours["variance"], r["vi"], "vi")


def test_zero_cell_correction_only_where_a_cell_is_zero():
    props = data("meta_proportions")
    out = ma.logit_proportion(props[props["dataset"].eq("plo_zero_cells")])
    assert out["corrected"].tolist() == [False, True, False, False, False, True]
    b = out.iloc[1]  # 0 of 15 → log(0.5/15.5), 1/0.5 + 1/15.5
    assert b["estimate"] == pytest.approx(np.log(0.5 / 15.5)) and b["variance"] == pytest.approx(2 + 1 / 15.5)
    assert out["n"].tolist() == props[props["dataset"].eq("plo_zero_cells")]["n"].tolist()  # n as given


# -- pooling -------------------------------------------------------------------------------------
@pytest.mark.parametrize("dataset,method", CASES)
def test_pool_matches_metafor(dataset, method):
    """rma(method, test = "knha") and test = "z", predict() (t with k − 1 df), weights()."""
    result = ma.pool(effects(dataset), method=method)
    r = r_row(dataset, method)
    assert result.status == "pooled" and result.converged and result.method == method
    for ours, theirs in COLUMNS.items():
        close(getattr(result, ours), r[theirs], f"{dataset} {method}: {ours} vs metafor {theirs}")
    assert result.q_df == result.df == result.k - 1
    assert result.tau == np.sqrt(result.tau2)
    w = expected("meta_weights")
    w = w[w["dataset"].eq(dataset) & w["method"].eq(method)]
    close(result.studies["weight_pct"], w["weight_pct"], "weights")


@pytest.mark.parametrize("dataset,method", [c for c in CASES if c[0].startswith("plo")])
def test_pooled_proportion_matches_predict_transf_ilogit(dataset, method):
    r = expected("meta_proportion_scale")
    r = r[r["dataset"].eq(dataset) & r["method"].eq(method)].iloc[0]
    ours = ma.pooled_proportion(ma.pool(effects(dataset), method=method)).iloc[0]
    for column in ("proportion", "ci_low", "ci_high", "ci_low_z", "ci_high_z", "pi_low", "pi_high"):
        theirs = {"ci_low": "ci_lb", "ci_high": "ci_ub", "ci_low_z": "ci_lb_z", "ci_high_z": "ci_ub_z",
                  "pi_low": "pi_lb", "pi_high": "pi_ub"}.get(column, column)
        close(ours[column], r[theirs], f"{dataset} {method}: {column}")


def test_published_bcg_example():
    """Viechtbauer (2010, J Stat Softw 36(3)) / metafor's documentation: μ̂ = −0.7145, τ̂² = 0.3132."""
    result = ma.pool(effects("bcg"))
    assert round(result.estimate, 4) == -0.7145 and round(result.tau2, 4) == 0.3132
    assert round(result.i2, 2) == 92.22 and round(result.q, 4) == 152.2330


def test_boundary_tau2_is_exactly_zero():
    """Homogeneous studies and a positive HE start (Q > df, DL τ² > 0) that REML walks down to 0:
    τ² = 0 exactly (metafor stops at 1e-13), I² = 0, H² = 1, the prediction interval equals the
    Knapp–Hartung CI; the homogeneous set's KH factor < 1 is kept (not truncated at 1)."""
    for dataset in ("homogeneous", "boundary_from_above"):
        result = ma.pool(effects(dataset))
        assert result.tau2 == 0.0 and result.i2 == 0.0 and result.h2 == 1.0
        assert (result.pi_low, result.pi_high) == (result.ci_low, result.ci_high)
    result = ma.pool(effects("homogeneous"))
    assert result.kh_factor < 1 and result.se < result.se_z


def test_huge_variance_study_gets_almost_no_weight():
    result = ma.pool(effects("huge_variance"))
    assert result.studies["weight_pct"].iloc[-1] < 1e-3


def test_dl_equals_statsmodels_combine_effects():
    """Cross-check of the DL option: statsmodels' method_re="chi2" (τ², μ̂, z SE; its "random
    effect wls" SE is the Knapp–Hartung SE)."""
    from statsmodels.stats.meta_analysis import combine_effects

    for dataset in ("bcg", "mean_change", "huge_variance"):
        e = effects(dataset)
        sm = combine_effects(e["estimate"].to_numpy(), e["variance"].to_numpy(), method_re="chi2")
        ours = ma.pool(e, method="DL")
        close([ours.tau2, ours.estimate, ours.se_z], [sm.tau2, sm.mean_effect_re, sm.sd_eff_w_re])
        close(ours.se, sm.summary_frame().loc["random effect wls", "sd_eff"])


# -- degenerate inputs ----------------------------------------------------------------------------
def test_one_study_is_its_own_estimate():
    result = ma.pool(pd.DataFrame({"study": ["A"], "estimate": [0.4], "variance": [0.04]}))
    assert result.status == "one_study" and result.k == 1
    assert result.estimate == 0.4 and result.se_z == pytest.approx(0.2)
    assert result.ci_low_z == pytest.approx(0.4 - 1.959963984540054 * 0.2)
    for name in ("tau2", "i2", "q", "se", "ci_low", "pi_low"):
        assert np.isnan(getattr(result, name)), name
    assert "one study" in result.reason
    assert result.to_frame().shape == (1, len(ma.MetaAnalysis.__dataclass_fields__) - 1)


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"study": [], "estimate": [], "variance": []}),
    pd.DataFrame({"study": ["A", "B"], "estimate": [np.nan, 0.2], "variance": [0.1, np.nan]}),
    pd.DataFrame({"study": ["A", "B"], "estimate": [None, None], "variance": [None, None]}),
], ids=["empty", "all-missing", "none"])
def test_no_studies_gives_an_empty_result_with_a_reason(frame):
    result = ma.pool(frame)
    assert result.status == "no_studies" and result.k == 0 and result.k_excluded == len(frame)
    assert np.isnan(result.estimate) and np.isnan(result.tau2) and np.isnan(result.ci_low)
    assert "no study" in result.reason
    assert ma.pooled_proportion(result)["proportion"].isna().all()


def test_missing_rows_are_left_out_and_counted():
    e = effects("bcg")
    with_gaps = pd.concat([e, pd.DataFrame({"study": ["x", "y"], "estimate": [np.nan, 1.0],
                                            "variance": [0.1, np.inf]})], ignore_index=True)
    result = ma.pool(with_gaps)
    assert result.k == 13 and result.k_excluded == 2 and "2 row(s)" in result.reason
    assert result.estimate == ma.pool(e).estimate
    assert result.studies["used"].tolist() == [True] * 13 + [False, False]


def test_can_pool():
    assert not ma.can_pool(2) and ma.can_pool(3) and ma.can_pool(2, minimum=2) and not ma.can_pool(0)


def test_invalid_inputs_are_explained():
    with pytest.raises(ValueError, match="variance must be > 0.*'B'"):
        ma.pool(pd.DataFrame({"study": ["A", "B"], "estimate": [0.1, 0.2], "variance": [0.1, 0.0]}))
    with pytest.raises(ValueError, match="columns"):
        ma.pool(pd.DataFrame({"study": ["A"], "yi": [0.1], "vi": [0.1]}))
    with pytest.raises(ValueError, match="method"):
        ma.pool(effects("bcg"), method="PM")
    with pytest.raises(ValueError, match="within 0..n.*'C'"):
        ma.logit_proportion(pd.DataFrame({"study": ["A", "C"], "events": [1, 5], "n": [4, 3]}))
    with pytest.raises(ValueError, match="negative"):
        ma.mean_change(pd.DataFrame({"study": ["A"], "n": [4], "mean_change": [1.0], "sd_change": [-1.0]}))


def test_other_column_names():
    e = effects("mean_change").rename(columns={"study": "project", "estimate": "yi", "variance": "vi"})
    result = ma.pool(e, estimate="yi", variance="vi", study="project")
    close(result.estimate, r_row("mean_change", "REML")["estimate"])
    assert result.studies["study"].tolist() == e["project"].tolist()


# -- the stored inputs and R ---------------------------------------------------------------------
def test_meta_analysis_inputs_are_current():
    spec = importlib.util.spec_from_file_location("make_meta_analysis_data", REF / "make_meta_analysis_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, make in module.FILES.items():
        pd.testing.assert_frame_equal(data(name), make(), check_dtype=False, obj=name)


def test_r_still_prints_the_stored_meta_analysis(tmp_path):
    """Re-run R/meta_analysis.R (skipped without Rscript or metafor); numbers to relative 1e-8."""
    rscript = shutil.which("Rscript")
    if not rscript:
        pytest.skip("Rscript not found")
    if subprocess.run([rscript, "-e", "quit(status = !requireNamespace('metafor', quietly = TRUE))"],
                      capture_output=True).returncode != 0:
        pytest.skip("R lacks metafor")
    run = subprocess.run([rscript, str(SCRIPT), str(DATA), str(tmp_path)], capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr
    written = sorted(tmp_path.glob("*.csv"))
    assert [p.stem for p in written] == ["meta_effects", "meta_pooled", "meta_proportion_scale", "meta_weights"]
    for path in written:
        new, old = pd.read_csv(path, keep_default_na=False, na_values=[""]), expected(path.stem)
        assert list(new.columns) == list(old.columns) and len(new) == len(old), path.name
        for column in new.columns:
            if pd.api.types.is_numeric_dtype(old[column]):
                np.testing.assert_allclose(new[column], old[column], rtol=1e-8, atol=1e-12,
                                           err_msg=f"{path.name}: {column}")
            else:
                assert new[column].tolist() == old[column].tolist(), f"{path.name}: {column}"

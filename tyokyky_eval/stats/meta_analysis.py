"""Random-effects meta-analysis of one effect across projects (a programme-level synthesis).

Pure statistics: tidy ``pandas`` frames in, a small result object (and tidy frames) out; no files,
no project parameters, no prose in any language beyond a short English ``reason``.

Model: y_i = μ + u_i + e_i with u_i ~ N(0, τ²) and e_i ~ N(0, v_i), v_i the known within-study
variance (squared units of the estimate). Everything below follows R's ``metafor`` (3.8)
``rma.uni(yi, vi, test = "knha")`` and ``predict()`` on it, and is checked against it to 1e-8 in
``tests/test_meta_analysis.py``:

* τ² by REML (Viechtbauer 2005, J Educ Behav Stat 30:261–293) with metafor's Fisher scoring: start at
  the Hedges (HE) estimate truncated at 0, step (y'PPy − tr P)/tr(PP), the step halved while it would
  make τ² negative, stop when τ² changes by at most ``threshold`` (metafor's default is 1e-5; here
  1e-12), then metafor's check that τ² = 0 does not have the higher restricted likelihood. Where the
  restricted likelihood falls at τ² = 0 and the iteration has run down to 0, τ² is reported as
  exactly 0 (metafor stops a hair above it). DerSimonian–Laird (``method="DL"``) is the moment
  alternative, also truncated at 0.
* μ̂ = Σw_i y_i / Σw_i with w_i = 1/(v_i + τ̂²); Wald (z) SE sqrt(1/Σw_i).
* Knapp & Hartung (2003, Stat Med 22:2693–2710; = Hartung–Knapp–Sidik–Jonkman): SE² multiplied by
  s² = Σw_i(y_i − μ̂)²/(k − 1), **not** truncated at 1 (metafor's ``test = "knha"``; s² = 0 when the
  weighted residual sum of squares is ≤ machine epsilon), CI and p from t with k − 1 df.
* Cochran's Q with fixed-effect weights 1/v_i, k − 1 df; I² = 100·τ²/(τ² + s̃²) and
  H² = (τ² + s̃²)/s̃² with the "typical" within-study variance s̃² = (k − 1)·Σw/((Σw)² − Σw²), w = 1/v
  (Higgins & Thompson 2002, Stat Med 21:1539–1558; metafor's definition for τ² estimators).
* Prediction interval for the effect in a new project: μ̂ ± t_{k−1, 1−α/2}·sqrt(τ̂² + SE²_KH), as
  ``predict()`` gives it for a ``knha`` model (Riley et al. 2011, BMJ 342:d549; IntHout et al. 2014,
  BMJ Open 6:e010247 — Riley's k − 2 df is not used).

Degenerate inputs do not raise: one study → its own estimate and z interval (``status =
"one_study"``, no τ², no Knapp–Hartung interval: 0 df); no usable study (none, or all estimates or
variances missing) → NaN everywhere with ``status = "no_studies"``. Whether a programme should pool
at all is the caller's decision (``can_pool``). Invalid values (a variance ≤ 0, a count outside
0..n) raise ``ValueError`` naming the study.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

METHODS = ("REML", "DL")
#: metafor's tolerance of its "τ² = 0 has the higher likelihood" check (.Machine$double.eps^0.25)
_LL0_TOL = np.finfo(float).eps ** 0.25
_NAN = float("nan")


def can_pool(k: int, minimum: int = 3) -> bool:
    """True when ``k`` studies are enough to pool (default at least 3: with 2 the Knapp–Hartung and
    prediction intervals use t with 1 df and are very wide; ``pool`` still computes them)."""
    return int(k) >= int(minimum)


# -- effect sizes ---------------------------------------------------------------------------------
def logit_proportion(frame: pd.DataFrame, *, events: str = "events", n: str = "n",
                     study: str = "study", add: float = 0.5) -> pd.DataFrame:
    """Log odds of a proportion per study (metafor ``escalc(measure = "PLO", xi, ni)``).

    yi = log(x/(n − x)), vi = 1/x + 1/(n − x). As metafor's default (``to = "only0", add = 1/2``),
    ``add`` is added to both cells (x and n − x, so n grows by 2·add) of the studies with a zero cell
    (x = 0 or x = n) only; other studies are untouched. Returns ``study, events, n, estimate,
    variance, corrected`` (``corrected``: the zero-cell correction was applied); a row with a
    missing count gets NaN estimate and variance (``pool`` leaves it out)."""
    x = pd.to_numeric(frame[events], errors="coerce").to_numpy(dtype=float)
    size = pd.to_numeric(frame[n], errors="coerce").to_numpy(dtype=float)
    labels = frame[study].to_numpy() if study in frame else np.arange(len(frame))
    known = ~np.isnan(x) & ~np.isnan(size)
    bad = known & ((x < 0) | (size <= 0) | (x > size))
    if bad.any():
        raise ValueError(f"events must be within 0..n and n > 0; not so for study {labels[bad][0]!r}")
    others = size - x
    corrected = known & ((x == 0) | (others == 0))
    x_c, others_c = np.where(corrected, x + add, x), np.where(corrected, others + add, others)
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate, variance = np.log(x_c / others_c), 1.0 / x_c + 1.0 / others_c
    return pd.DataFrame({"study": labels, "events": x, "n": size, "estimate": estimate,
                         "variance": variance, "corrected": corrected})


def inverse_logit(values):
    """Proportion (0..1) from log odds: 1/(1 + exp(−x)); NaN stays NaN."""
    return 1.0 / (1.0 + np.exp(-np.asarray(values, dtype=float)))


def mean_change(frame: pd.DataFrame, *, n: str = "n", mean_change: str = "mean_change",
                sd_change: str = "sd_change", study: str = "study") -> pd.DataFrame:
    """Mean within-person change per study with its variance sd²/n (metafor ``escalc(measure =
    "MC")`` with the SD of the changes given; units of the score, variance in squared units).
    Returns ``study, n, estimate, variance``; a row with a missing value or n < 1 gets NaN."""
    size = pd.to_numeric(frame[n], errors="coerce").to_numpy(dtype=float)
    mean = pd.to_numeric(frame[mean_change], errors="coerce").to_numpy(dtype=float)
    sd = pd.to_numeric(frame[sd_change], errors="coerce").to_numpy(dtype=float)
    labels = frame[study].to_numpy() if study in frame else np.arange(len(frame))
    if np.any(sd < 0):
        raise ValueError(f"a standard deviation is negative (study {labels[sd < 0][0]!r})")
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = np.where(size >= 1, sd ** 2 / size, np.nan)
    estimate = np.where(np.isnan(variance), np.nan, mean)
    return pd.DataFrame({"study": labels, "n": size, "estimate": estimate, "variance": variance})


# -- pooling --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MetaAnalysis:
    """A pooled estimate, on the scale of the inputs (e.g. log odds, log risk ratio, score points).

    ``estimate``; Knapp–Hartung ``se``, ``t``, ``df`` (k − 1), ``p``, ``ci_low``/``ci_high``;
    Wald ``se_z``, ``z``, ``p_z``, ``ci_low_z``/``ci_high_z``; ``kh_factor`` (s², the factor on the
    variance); ``tau2`` (squared units), ``se_tau2``, ``tau``; ``i2`` (%), ``h2``; ``q``, ``q_df``,
    ``q_p``; prediction interval ``pi_low``/``pi_high``; ``k`` studies used, ``k_excluded`` rows
    left out for a missing estimate or variance; ``method`` ("REML", "DL"), ``level``,
    ``iterations`` (REML), ``converged``; ``status`` ("pooled", "one_study", "no_studies") and
    ``reason``. ``studies``: every input row with ``used``, ``weight`` (1/(v + τ²)) and
    ``weight_pct``, and its own Wald interval."""

    estimate: float
    se: float
    t: float
    df: float
    p: float
    ci_low: float
    ci_high: float
    se_z: float
    z: float
    p_z: float
    ci_low_z: float
    ci_high_z: float
    kh_factor: float
    tau2: float
    se_tau2: float
    tau: float
    i2: float
    h2: float
    q: float
    q_df: float
    q_p: float
    pi_low: float
    pi_high: float
    k: int
    k_excluded: int
    method: str
    level: float
    iterations: int
    converged: bool
    status: str
    reason: str
    studies: pd.DataFrame = field(repr=False, compare=False)

    def to_frame(self) -> pd.DataFrame:
        """One row with every number above (``studies`` left out)."""
        row = {key: value for key, value in asdict(self).items() if key != "studies"}
        return pd.DataFrame([row])


def _reml_score_parts(y, v, tau2):
    w = 1.0 / (v + tau2)
    sw, sw2 = w.sum(), np.sum(w ** 2)
    mu = np.dot(w, y) / sw
    ypp_y = np.sum(w ** 2 * (y - mu) ** 2)
    tr_p = sw - sw2 / sw
    tr_pp = sw2 - 2.0 * np.sum(w ** 3) / sw + (sw2 / sw) ** 2
    return ypp_y, tr_p, tr_pp


def _reml_loglik(y, v, tau2):
    w = 1.0 / (v + tau2)
    sw = w.sum()
    mu = np.dot(w, y) / sw
    return (-0.5 * (len(y) - 1) * np.log(2 * np.pi) - 0.5 * np.sum(np.log(v + tau2))
            - 0.5 * np.log(sw) - 0.5 * np.sum(w * (y - mu) ** 2))


def _reml_tau2(y, v, threshold, max_iter):
    """metafor's Fisher scoring for REML (module docstring); returns (τ², iterations, converged)."""
    k = len(y)
    hedges = (np.sum((y - y.mean()) ** 2) - (k - 1) / k * v.sum()) / (k - 1)
    tau2, iterations, converged = max(0.0, hedges), 0, False
    while iterations < max_iter:
        iterations += 1
        ypp_y, tr_p, tr_pp = _reml_score_parts(y, v, tau2)
        step = (ypp_y - tr_p) / tr_pp if tr_pp > 0 else 0.0
        if not np.isfinite(step) or (tau2 <= 0 and step < 0):
            step = 0.0
        while tau2 + step < 0:
            step /= 2
        old, tau2 = tau2, tau2 + step
        if abs(tau2 - old) <= threshold:
            converged = True
            break
    if converged and tau2 > threshold and _reml_loglik(y, v, 0.0) - _reml_loglik(y, v, tau2) > _LL0_TOL:
        tau2 = 0.0  # metafor: Fisher scoring stuck at a local maximum below τ² = 0's likelihood
    if tau2 > 0 and tau2 < 1e3 * max(threshold, 1e-300):
        ypp_y, tr_p, _ = _reml_score_parts(y, v, 0.0)
        if ypp_y - tr_p <= 0:  # restricted likelihood falls from τ² = 0: the maximum is the boundary
            tau2 = 0.0
    return float(max(0.0, tau2)), iterations, converged


def _empty(studies, k, k_excluded, method, level, status, reason, **values) -> MetaAnalysis:
    numbers = {name: _NAN for name in MetaAnalysis.__dataclass_fields__
               if MetaAnalysis.__dataclass_fields__[name].type == "float" and name != "level"}
    numbers.update(values)
    return MetaAnalysis(**numbers, k=k, k_excluded=k_excluded, method=method, level=level, iterations=0,
                        converged=status != "no_studies", status=status, reason=reason, studies=studies)


def pool(effects: pd.DataFrame, *, estimate: str = "estimate", variance: str = "variance",
         study: str = "study", method: str = "REML", level: float = 0.95,
         threshold: float = 1e-12, max_iter: int = 1000) -> MetaAnalysis:
    """Random-effects pooled estimate of one row per study (module docstring for the methods).

    ``effects``: columns ``study`` (label), ``estimate`` (on an additive scale: log odds, log risk
    ratio, mean change …) and ``variance`` (its sampling variance, squared units); other names via
    the keyword arguments. Rows with a missing or non-finite estimate or variance are left out and
    counted in ``k_excluded``. ``method``: "REML" (default) or "DL"; ``level``: confidence level of
    every interval; ``threshold``/``max_iter``: REML convergence (change in τ²)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, not {level!r}")
    missing = [c for c in (estimate, variance) if c not in effects]
    if missing:
        raise ValueError(f"effects needs the columns {missing} (estimate and its variance per study)")
    y_all = pd.to_numeric(effects[estimate], errors="coerce").to_numpy(dtype=float)
    v_all = pd.to_numeric(effects[variance], errors="coerce").to_numpy(dtype=float)
    labels = effects[study].to_numpy() if study in effects else np.arange(len(effects))
    used = np.isfinite(y_all) & np.isfinite(v_all)
    if np.any(v_all[used] <= 0):
        raise ValueError(f"a variance must be > 0; study {labels[used & (v_all <= 0)][0]!r} has "
                         f"{v_all[used & (v_all <= 0)][0]}")
    y, v = y_all[used], v_all[used]
    k, k_excluded = int(used.sum()), int((~used).sum())
    z_crit = stats.norm.ppf(0.5 + level / 2)
    studies = pd.DataFrame({"study": labels, "estimate": y_all, "variance": v_all, "used": used,
                            "ci_low_z": y_all - z_crit * np.sqrt(v_all),
                            "ci_high_z": y_all + z_crit * np.sqrt(v_all),
                            "weight": _NAN, "weight_pct": _NAN})
    excluded = f"; {k_excluded} row(s) without an estimate or variance left out" if k_excluded else ""
    if k == 0:
        return _empty(studies, 0, k_excluded, method, level, "no_studies",
                      "no study with both an estimate and a variance" + excluded)
    if k == 1:
        se_z = float(np.sqrt(v[0]))
        studies.loc[used, ["weight", "weight_pct"]] = [1.0 / v[0], 100.0]
        return _empty(studies, 1, k_excluded, method, level, "one_study",
                      "one study: the estimate is that study's own, with its z interval; no τ², "
                      "heterogeneity, Knapp–Hartung or prediction interval (0 df)" + excluded,
                      estimate=float(y[0]), se_z=se_z, z=float(y[0] / se_z),
                      p_z=float(2 * stats.norm.sf(abs(y[0] / se_z))),
                      ci_low_z=float(y[0] - z_crit * se_z), ci_high_z=float(y[0] + z_crit * se_z))

    # heterogeneity with fixed-effect weights
    w_fe = 1.0 / v
    sw_fe = w_fe.sum()
    tr_p_fe = sw_fe - np.sum(w_fe ** 2) / sw_fe
    q = max(0.0, float(np.sum(w_fe * (y - np.dot(w_fe, y) / sw_fe) ** 2)))
    iterations, converged = 0, True
    if method == "REML":
        tau2, iterations, converged = _reml_tau2(y, v, threshold, max_iter)
        se_tau2 = float(np.sqrt(2.0 / _reml_score_parts(y, v, tau2)[2]))
    else:
        tau2 = max(0.0, (q - (k - 1)) / tr_p_fe)
        p_fe_sq = (np.sum(w_fe ** 2) - 2.0 * np.sum(w_fe ** 3) / sw_fe + (np.sum(w_fe ** 2) / sw_fe) ** 2)
        se_tau2 = float(np.sqrt((2 * (k - 1) + 4 * tau2 * tr_p_fe + 2 * tau2 ** 2 * p_fe_sq) / tr_p_fe ** 2))
    typical = (k - 1) / tr_p_fe

    w = 1.0 / (v + tau2)
    sw = w.sum()
    mu = float(np.dot(w, y) / sw)
    se_z = float(np.sqrt(1.0 / sw))
    rss = float(np.sum(w * (y - mu) ** 2))
    kh_factor = 0.0 if rss <= np.finfo(float).eps else rss / (k - 1)
    se = float(np.sqrt(kh_factor / sw))
    df = k - 1
    t_crit = stats.t.ppf(0.5 + level / 2, df)
    t_value = mu / se if se > 0 else np.copysign(np.inf, mu) if mu != 0 else _NAN
    studies.loc[used, "weight"] = w
    studies.loc[used, "weight_pct"] = 100.0 * w / sw
    half_pi = t_crit * np.sqrt(tau2 + se ** 2)
    reason = "pooled" + excluded
    if not converged:
        reason = f"REML did not converge in {max_iter} iterations (τ² change > {threshold})" + excluded
    return MetaAnalysis(
        estimate=mu, se=se, t=float(t_value), df=float(df), p=float(2 * stats.t.sf(abs(t_value), df)),
        ci_low=float(mu - t_crit * se), ci_high=float(mu + t_crit * se),
        se_z=se_z, z=mu / se_z, p_z=float(2 * stats.norm.sf(abs(mu / se_z))),
        ci_low_z=float(mu - z_crit * se_z), ci_high_z=float(mu + z_crit * se_z), kh_factor=float(kh_factor),
        tau2=float(tau2), se_tau2=se_tau2, tau=float(np.sqrt(tau2)),
        i2=float(100.0 * tau2 / (typical + tau2)), h2=float(tau2 / typical + 1.0),
        q=q, q_df=float(df), q_p=float(stats.chi2.sf(q, df)),
        pi_low=float(mu - half_pi), pi_high=float(mu + half_pi),
        k=k, k_excluded=k_excluded, method=method, level=level, iterations=iterations, converged=converged,
        status="pooled", reason=reason, studies=studies)


def pooled_proportion(result: MetaAnalysis) -> pd.DataFrame:
    """The pooled log odds of ``pool(logit_proportion(...))`` back on the proportion scale (0..1),
    one row: ``proportion, ci_low, ci_high`` (Knapp–Hartung), ``ci_low_z, ci_high_z``, ``pi_low,
    pi_high`` (each limit back-transformed, as metafor's ``predict(transf = transf.ilogit)``),
    ``k, method, status``."""
    columns = ["estimate", "ci_low", "ci_high", "ci_low_z", "ci_high_z", "pi_low", "pi_high"]
    row = {("proportion" if c == "estimate" else c): float(inverse_logit(getattr(result, c))) for c in columns}
    row.update(k=result.k, method=result.method, status=result.status)
    return pd.DataFrame([row])

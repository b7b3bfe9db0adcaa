"""Proportional-hazards test of a Cox model from scaled Schoenfeld residuals (Grambsch–Therneau).

statsmodels has no ``cox.zph``; this is the test of R's ``survival::cox.zph`` (survival ≥ 3.0).

Method (Grambsch P.M. & Therneau T.M. 1994, "Proportional hazards tests and diagnostics based on
weighted residuals", Biometrika 81:515–526; Therneau & Grambsch 2000, *Modeling Survival Data*,
ch. 6.2): if the coefficient of covariate j drifts in time as β_j + θ_j·g(t), the score test of
θ = 0 in the model with the extra time-varying covariates X·g(t), evaluated at (β̂, 0), is

    U_j = Σ_events g(t_i)·r_ij        (r = Schoenfeld residuals; Efron-averaged means at ties)
    I   = Σ_events [[V, gV], [gV, g²V]]  (V = risk-set covariance of X, Efron-adjusted at ties)

with g the centred transformed time (default: 1 − left-continuous Kaplan–Meier, R's ``km``
transform, centred on its mean over the events). The per-covariate statistic uses the
(p+1)×(p+1) block of I for (β, θ_j) and the global statistic the full 2p×2p matrix, with score
(0, U): the "full variance" form of survival ≥ 3.0, not the older approximation that scaled the
residuals by the variance of β̂. Each statistic is χ² with 1 (global: p) degrees of freedom.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import chi2


def transformed_time(time: np.ndarray, status: np.ndarray, transform: str = "km") -> np.ndarray:
    """g(t) at each event (one value per event row): ``km`` = 1 − S(t−) (Kaplan–Meier of the
    fitted data, left-continuous) or ``identity`` = t; centred on the mean over the events."""
    event_time = time[status]
    if transform == "identity":
        g = event_time.astype(float)
    elif transform == "km":
        utimes, n_at, d = _risk_counts(time, status)
        surv = np.cumprod(1 - d / n_at)
        previous = np.searchsorted(utimes, event_time, side="left") - 1  # last event time < t
        g = 1 - np.where(previous >= 0, surv[np.maximum(previous, 0)], 1.0)
    else:
        raise ValueError(f"transform must be 'km' or 'identity', got {transform!r}")
    return g - g.mean()


def _risk_counts(time, status):
    utimes = np.unique(time[status])
    n_at = np.array([(time >= t).sum() for t in utimes], dtype=float)
    d = np.array([(status & (time == t)).sum() for t in utimes], dtype=float)
    return utimes, n_at, d


def ph_test(time, status, exog, params, names=None, transform: str = "km") -> pd.DataFrame:
    """Grambsch–Therneau test per covariate and global: columns ``term, chisq, df, p``
    (last row ``term = "GLOBAL"``). ``time`` in any unit, ``status`` 1 = event, ``exog`` n × p,
    ``params`` the fitted Cox coefficients (Efron ties)."""
    time = np.asarray(time, dtype=float)
    status = np.asarray(status).astype(bool)
    x = np.asarray(exog, dtype=float).reshape(len(time), -1)
    p = x.shape[1]
    names = list(names) if names is not None else [f"x{j + 1}" for j in range(p)]
    eta = x @ np.asarray(params, dtype=float)
    w = np.exp(eta - eta.max())
    g_rows = transformed_time(time, status, transform)
    event_rows = np.flatnonzero(status)
    u = np.zeros(p)
    info = np.zeros((2 * p, 2 * p))
    for t in np.unique(time[status]):
        risk = time >= t
        dead = status & (time == t)
        g = g_rows[np.flatnonzero(time[event_rows] == t)[0]]
        xr, wr, xd, wd = x[risk], w[risk], x[dead], w[dead]
        s0, s1, s2 = wr.sum(), wr @ xr, (xr * wr[:, None]).T @ xr
        d0, d1, d2 = wd.sum(), wd @ xd, (xd * wd[:, None]).T @ xd
        n_dead = dead.sum()
        score = xd.sum(axis=0)
        v = np.zeros((p, p))
        for k in range(n_dead):  # Efron: the tied deaths leave the risk set gradually
            f = k / n_dead
            a0, a1, a2 = s0 - f * d0, s1 - f * d1, s2 - f * d2
            mean = a1 / a0
            score = score - mean
            v += a2 / a0 - np.outer(mean, mean)
        u += g * score
        info += np.block([[v, g * v], [g * v, g * g * v]])
    rows = []
    for j in range(p):
        keep = list(range(p)) + [p + j]
        score = np.r_[np.zeros(p), u[j]]
        stat = float(score @ np.linalg.solve(info[np.ix_(keep, keep)], score))
        rows.append((names[j], stat, 1))
    score = np.r_[np.zeros(p), u]
    rows.append(("GLOBAL", float(score @ np.linalg.solve(info, score)), p))
    table = pd.DataFrame(rows, columns=["term", "chisq", "df"])
    table["p"] = chi2.sf(table["chisq"], table["df"])
    return table

"""Proportional-hazards test of a Cox model: the score test of R's ``survival::cox.zph`` (survival ≥ 3.0).

statsmodels has no ``cox.zph``. This module computes the test that ``cox.zph`` reports since
survival 3.0 (Therneau, ``cox.zph`` documentation and the survival package vignette): for each
covariate, and globally, the score test for adding the time-dependent term X·g(t) to the fitted
Cox model, with the full information matrix ("full variance" form). It is *not* the 1994
Grambsch–Therneau approximation that survival < 3.0 used (the residuals scaled by the variance of
β̂, i.e. the risk-set covariance taken as constant in time); that paper (Grambsch P.M. & Therneau
T.M. 1994, "Proportional hazards tests and diagnostics based on weighted residuals", Biometrika
81:515–526; Therneau & Grambsch 2000, *Modeling Survival Data*, ch. 6.2) is where the idea of
testing with time-weighted Schoenfeld residuals comes from.

If the coefficient of covariate j drifts in time as β_j + θ_j·g(t), the score test of θ = 0 in the
model with the extra covariates X·g(t), evaluated at (β̂, 0), uses

    U_j = Σ_events g(t_i)·r_ij        (r = Schoenfeld residuals; Efron-averaged means at ties)
    I   = Σ_events [[V, gV], [gV, g²V]]  (V = risk-set covariance of X, Efron-adjusted at ties)

with g the centred transformed time (default: 1 − left-continuous Kaplan–Meier, R's ``km``
transform, centred on its mean over the events). The per-covariate statistic uses the
(p+1)×(p+1) block of I for (β, θ_j) and the global statistic the full 2p×2p matrix, with score
(0, U). Each statistic is χ² with 1 (global: p) degrees of freedom.

Computation: O(n·p²) after one O(n log n) search. Risk-set sums at every event time are reverse
cumulative sums of per-event-time bins; Efron's correction is applied per death (death r of m tied
deaths sees the risk set minus r/m of the tied deaths); the Σ a₂/a₀ part of the information is
folded into one weighted cross-product XᵀΩX, so no n×p×p or events×p×p array is formed.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import chi2


def transformed_time(time: np.ndarray, status: np.ndarray, transform: str = "km") -> np.ndarray:
    """g(t) at each event (one value per event row, in data order): ``km`` = 1 − S(t−) (Kaplan–Meier
    of the fitted data, left-continuous) or ``identity`` = t; centred on the mean over the events."""
    time = np.asarray(time, dtype=float)
    status = np.asarray(status).astype(bool)
    utimes, n_at, deaths = _risk_counts(time, status)
    g = _transform(utimes, n_at, deaths, transform)[np.searchsorted(utimes, time[status])]
    return g - g.mean()


def _event_times(time, status):
    """Unique event times, the number of events at each, and for every row the index of the last
    event time ≤ its own time (−1 before the first event time): row i is at risk at event time k
    exactly when that index is ≥ k."""
    utimes, deaths = np.unique(time[status], return_counts=True)
    last = np.searchsorted(utimes, time, side="right") - 1
    return utimes, deaths.astype(float), last


def _at_risk(values, last, n_times):
    """Σ ``values`` (n, or n × q) over the risk set {time ≥ t_k} at every event time t_k."""
    keep = last >= 0
    idx = last[keep]
    values = np.asarray(values, dtype=float)[keep]
    if values.ndim == 1:
        bins = np.bincount(idx, values, minlength=n_times)
    else:
        bins = np.column_stack([np.bincount(idx, values[:, j], minlength=n_times) for j in range(values.shape[1])])
    return np.cumsum(bins[::-1], axis=0)[::-1]


def _risk_counts(time, status):
    """Unique event times, number at risk and number of events at each."""
    utimes, deaths, last = _event_times(time, status)
    return utimes, _at_risk(np.ones(len(time)), last, len(utimes)), deaths


def _transform(utimes, n_at, deaths, transform):
    """g at every unique event time (not centred)."""
    if transform == "identity":
        return utimes.astype(float)
    if transform == "km":
        surv = np.cumprod(1 - deaths / n_at)
        return 1 - np.r_[1.0, surv[:-1]]  # left-continuous: S just before t_k
    raise ValueError(f"transform must be 'km' or 'identity', got {transform!r}")


def ph_test(time, status, exog, params, names=None, transform: str = "km") -> pd.DataFrame:
    """Proportional-hazards score test of R survival ≥ 3.0 ``cox.zph`` per covariate and global:
    columns ``term, chisq, df, p`` (last row ``term = "GLOBAL"``). ``time`` in any unit, ``status``
    1 = event, ``exog`` n × p, ``params`` the fitted Cox coefficients (Efron ties)."""
    time = np.asarray(time, dtype=float)
    status = np.asarray(status).astype(bool)
    x = np.asarray(exog, dtype=float).reshape(len(time), -1)
    p = x.shape[1]
    names = list(names) if names is not None else [f"x{j + 1}" for j in range(p)]
    eta = x @ np.asarray(params, dtype=float)
    w = np.exp(eta - eta.max())
    x = x - x.mean(axis=0)  # same test (scores and covariances are shift-free); less cancellation

    utimes, deaths, last = _event_times(time, status)
    n_times = len(utimes)
    s0 = _at_risk(w, last, n_times)  # risk-set sums at every event time
    s1 = _at_risk(w[:, None] * x, last, n_times)
    n_at = _at_risk(np.ones(len(time)), last, n_times)
    g_time = _transform(utimes, n_at, deaths, transform)

    # the deaths, ordered by event time; k = index of their event time, rank r = 0 … m−1 within a tie
    dead = np.flatnonzero(status)
    dead = dead[np.argsort(last[dead], kind="stable")]
    k = last[dead]
    first = np.cumsum(deaths) - deaths
    f = (np.arange(len(dead)) - first[k]) / deaths[k]  # Efron: r/m of the tied deaths have left
    d0 = np.bincount(k, w[dead], minlength=n_times)
    d1 = np.column_stack([np.bincount(k, w[dead] * x[dead, j], minlength=n_times) for j in range(p)])
    a0 = s0[k] - f * d0[k]
    mean = (s1[k] - f[:, None] * d1[k]) / a0[:, None]  # Efron-adjusted risk-set mean per death
    g = g_time[k]
    g = g - g.mean()  # centred over the events

    u = g @ (x[dead] - mean)  # Σ g·(Schoenfeld residual)
    # V-blocks Σ_deaths c·(a2/a0 − mean·meanᵀ) for c = 1, g, g², where a2 = S2[k] − f·D2[k]:
    # Σ_deaths (c/a0)·S2[k] = Σ_rows w·xxᵀ·(Σ over event times k ≤ own time of Σ_{deaths at k} c/a0),
    # Σ_deaths (c·f/a0)·D2[k] = Σ_dead w·xxᵀ·(Σ_{deaths at own time} c·f/a0).
    at_risk = last >= 0
    blocks = []
    for c in (np.ones_like(g), g, g * g):
        omega = np.zeros(len(time))
        omega[at_risk] = np.cumsum(np.bincount(k, c / a0, minlength=n_times))[last[at_risk]]
        omega[dead] -= np.bincount(k, c * f / a0, minlength=n_times)[k]
        omega *= w
        blocks.append((x * omega[:, None]).T @ x - (mean * c[:, None]).T @ mean)
    v, gv, ggv = blocks
    info = np.block([[v, gv], [gv, ggv]])

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

"""Linear mixed model with a random intercept per group, fitted by REML from per-group sums.

The model is y_ij = x_ij'β + u_i + e_ij with u_i ~ N(0, σ²_u) and e_ij ~ N(0, σ²_e), i.e.
V_i = σ²_e (I + γ·11'), γ = σ²_u/σ²_e. Because V_i⁻¹ = (I − w_i·11')/σ²_e with
w_i = γ/(1 + n_i·γ) and |V_i| = σ²_e^{n_i}·(1 + n_i·γ), every quantity of the REML criterion is a sum
over groups of a few sufficient statistics (n_i, X_i'1, 1'y_i) and the totals X'X, X'y, y'y:

    A(γ) = X'X − Σ w_i (X_i'1)(1'X_i),  b(γ) = X'y − Σ w_i (X_i'1)(1'y_i),  c(γ) = y'y − Σ w_i (1'y_i)²,
    β̂(γ) = A⁻¹b,  r(γ) = c − b'β̂,  σ̂²_e(γ) = r/(N − p),

and −2·(REML log-likelihood), profiled over σ²_e, is up to a constant
(N − p)·log r(γ) + Σ log(1 + n_i·γ) + log|A(γ)| (Harville 1977; Pinheiro & Bates 2000, ch. 2.2).
It is minimised over log γ (a grid, then Brent's bounded method around the best grid point), with
γ = 0 (no between-group variance) as the boundary case. Since w_i depends on n_i only, the sums over
groups are taken once per group size: Σ w_i (X_i'1)(1'X_i) = Σ_n w(n)·Σ_{n_i = n} (X_i'1)(1'X_i), and
likewise for the other two sums and Σ log(1 + n_i·γ). Collecting them costs O(groups·p²) once; each
evaluation then costs O(group sizes·p²), so a fit is linear in the number of groups, where
statsmodels' ``MixedLM`` loops over the groups in Python at every likelihood evaluation.

The estimates equal ``statsmodels`` ``MixedLM(...).fit(reml=True)``. The covariance of β̂ is
σ̂²_e·A(γ̂)⁻¹, the inverse expected (Fisher) information of β as in lme4/nlme; statsmodels takes its
standard errors from the observed Hessian of all parameters jointly, so the two SEs differ slightly
(well under 1 % in the Kykyviisari data).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

#: grid of log γ searched before the bounded refinement (γ from e⁻²⁰ ≈ 2e-9 to e¹⁵ ≈ 3e6)
LOG_GAMMA_GRID = np.arange(-20.0, 16.0)


@dataclass(frozen=True)
class RandomInterceptFit:
    """REML fit: ``params`` β̂ (order of the columns of X), ``cov_params`` σ̂²_e·A⁻¹,
    ``sigma2_residual`` σ̂²_e, ``sigma2_group`` σ̂²_u (same units as y, squared), ``converged``
    (False when the optimum is at the upper end of the γ grid or the fit is degenerate)."""

    params: np.ndarray
    cov_params: np.ndarray
    sigma2_residual: float
    sigma2_group: float
    converged: bool

    @property
    def bse(self) -> np.ndarray:
        """Standard errors of β̂."""
        return np.sqrt(np.diag(self.cov_params))


def random_intercept_reml(X, y, groups) -> RandomInterceptFit:
    """Fit y = Xβ + u_group + e by REML (module docstring). ``X``: N × p design with full column rank
    (include the intercept), ``y``: N responses, ``groups``: N group labels (any hashable values)."""
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    codes, uniques = pd.factorize(pd.Series(groups), sort=False)
    n_groups, (n_obs, p) = len(uniques), X.shape
    sizes, size_of = np.unique(np.bincount(codes, minlength=n_groups), return_inverse=True)  # distinct n_i
    n_with_size = np.bincount(size_of).astype(float)                                  # groups of each size
    sums = np.column_stack([np.bincount(codes, X[:, j], n_groups) for j in range(p)]
                           + [np.bincount(codes, y, n_groups)])                        # z_i = [X_i'1, 1'y_i]
    outer = np.array([[np.bincount(size_of, sums[:, j] * sums[:, k], len(sizes)) for k in range(p + 1)]
                      for j in range(p + 1)])                        # Σ z_i z_i' per size, (p+1) × (p+1) × sizes
    sizes = sizes.astype(float)
    xtx, xty, yty = X.T @ X, X.T @ y, float(y @ y)

    def parts(gamma: float):
        m = outer @ (gamma / (1 + sizes * gamma))  # Σ w_i z_i z_i'
        a = xtx - m[:p, :p]
        b = xty - m[:p, p]
        beta = np.linalg.solve(a, b)
        return a, beta, yty - float(m[p, p]) - float(b @ beta)

    def criterion(gamma: float) -> float:
        a, _, r = parts(gamma)
        if not r > 0:
            return np.inf
        return (n_obs - p) * np.log(r) + float(n_with_size @ np.log1p(sizes * gamma)) + np.linalg.slogdet(a)[1]

    values = [criterion(float(np.exp(g))) for g in LOG_GAMMA_GRID]
    best = int(np.argmin(values))
    lo, hi = LOG_GAMMA_GRID[max(best - 1, 0)], LOG_GAMMA_GRID[min(best + 1, len(LOG_GAMMA_GRID) - 1)]
    refined = optimize.minimize_scalar(lambda g: criterion(float(np.exp(g))), bounds=(lo, hi),
                                       method="bounded", options={"xatol": 1e-9})
    gamma, value = float(np.exp(refined.x)), float(refined.fun)
    if criterion(0.0) <= value:  # boundary: no between-group variance
        gamma, value = 0.0, criterion(0.0)
    a, beta, r = parts(gamma)
    converged = bool(np.isfinite(value) and best < len(LOG_GAMMA_GRID) - 1)
    scale = r / (n_obs - p)
    return RandomInterceptFit(params=beta, cov_params=scale * np.linalg.inv(a), sigma2_residual=scale,
                              sigma2_group=gamma * scale, converged=converged)

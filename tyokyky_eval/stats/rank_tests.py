"""Rank tests on scores recorded to a known precision.

Scores such as Kykyviisari's 0–10 with one decimal are stored as binary floats, so a difference
like 6.3 − 6.1 is 0.19999999999999973 while 5.2 − 5.0 is 0.20000000000000018: ranked as they are,
equal changes are not tied and the tie correction of the signed-rank test is wrong. Every rank test
of the package therefore rounds its input to the instrument's precision first (:func:`rounded`).

The p-value rules, all from ``scipy.stats``:

- ``signed_rank_test``: Wilcoxon signed-rank test, two-sided, ``zero_method="wilcox"`` (zero
  differences dropped before ranking; Wilcoxon 1945), tied absolute differences get mid-ranks,
  ``method="auto"``: the exact null distribution when there are at most 50 differences and no ties
  or zeros; an exhaustive permutation distribution when there are ties or zeros and at most 13
  differences; otherwise the normal approximation with the tie-corrected variance and **no**
  continuity correction. R's ``wilcox.test(paired = TRUE, exact = FALSE, correct = FALSE)`` gives
  the same normal approximation; R's default adds a continuity correction.
- Mann–Whitney U (``mannwhitneyu``, two-sided, ``method="auto"``: exact when one group has at most 8
  responses and there are no ties, otherwise normal with tie correction and continuity correction, as R's ``wilcox.test``
  default with ``exact = FALSE``), Kruskal–Wallis (``kruskal``: χ² approximation with tie
  correction, as R's ``kruskal.test``) and Friedman (``friedmanchisquare``: χ² approximation with
  tie correction, as R's ``friedman.test``) are applied to whole-number survey responses.
"""
from __future__ import annotations

import numpy as np
from scipy import stats


def rounded(values, decimals: int) -> np.ndarray:
    """``values`` as floats rounded to ``decimals`` (the precision the scores were recorded with)."""
    return np.round(np.asarray(values, dtype=float), decimals)


def signed_rank_test(differences, decimals: int) -> tuple[float, float]:
    """Wilcoxon signed-rank test of paired differences rounded to ``decimals`` (module docstring):
    ``(statistic, p)``, the statistic being the smaller of the positive and negative rank sums;
    NaN for both when no difference is non-zero."""
    d = rounded(differences, decimals)
    if not np.any(d != 0):
        return np.nan, np.nan
    nonzero = d[d != 0]
    ties_or_zeros = len(nonzero) < len(d) or len(np.unique(np.abs(nonzero))) < len(nonzero)
    if ties_or_zeros and len(d) <= EXHAUSTIVE_MAX:
        return _exhaustive_signed_rank(nonzero)
    result = stats.wilcoxon(d, zero_method="wilcox", method="auto")
    return float(result.statistic), float(result.pvalue)


#: scipy's ``method="auto"`` uses the exhaustive sign-flip distribution up to this many differences
EXHAUSTIVE_MAX = 13


def _exhaustive_signed_rank(nonzero: np.ndarray) -> tuple[float, float]:
    """The permutation test scipy's ``wilcoxon(method="auto")`` runs with ties or zeros (every
    one of the 2ⁿ sign flips, two-sided p = 2·min(P(T⁺ ≤ t), P(T⁺ ≥ t)), at most 1), computed at
    once from the mid-ranks instead of re-ranking each flip (milliseconds instead of seconds; the
    zeros, flipped or not, add nothing to T⁺ and weigh every flip equally)."""
    ranks = stats.rankdata(np.abs(nonzero))
    signs = (np.arange(2 ** len(ranks))[:, None] >> np.arange(len(ranks))) & 1
    null = signs @ ranks
    observed = float(ranks[nonzero > 0].sum())
    tolerance = 1e-9 * max(1.0, observed)
    p = 2 * min(np.mean(null <= observed + tolerance), np.mean(null >= observed - tolerance))
    return float(min(observed, ranks.sum() - observed)), float(min(p, 1.0))

"""The signed-rank test: rounding to the recorded precision, and the fast exhaustive permutation
distribution checked against scipy's own (slow) permutation test."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from tyokyky_eval.stats.rank_tests import EXHAUSTIVE_MAX, signed_rank_test


@pytest.mark.parametrize("seed", range(6))
def test_exhaustive_permutation_equals_scipy_with_ties_and_zeros(seed):
    rng = np.random.default_rng(seed)
    d = rng.integers(-4, 5, size=rng.integers(6, EXHAUSTIVE_MAX + 1)) / 10
    d[0] = 0.0  # a zero: scipy switches to its permutation test
    ours = signed_rank_test(d, 1)
    ref = stats.wilcoxon(np.round(d, 1), zero_method="wilcox", method="auto")
    assert ours == pytest.approx((ref.statistic, ref.pvalue), rel=1e-12, abs=1e-15)


def test_without_ties_scipy_exact_distribution_is_used():
    d = np.array([0.1, -0.2, 0.3, 0.4, 0.5, -0.6, 0.7, 0.8])
    ref = stats.wilcoxon(d, method="exact")
    assert signed_rank_test(d, 1) == pytest.approx((ref.statistic, ref.pvalue))


def test_no_nonzero_change_gives_no_test():
    assert all(np.isnan(signed_rank_test([0.0, 0.0, 0.0], 1)))

"""The proportional-hazards test (score test of R survival ≥ 3.0 ``cox.zph``): against a hand
computation, a counting-process score test built with statsmodels, and the original loop over event
times (kept here only as the oracle of the vectorised implementation)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2
from statsmodels.duration.hazard_regression import PHReg
from test_survival import generated  # noqa: E402  (the same synthetic cohorts)

from tyokyky_eval.stats.schoenfeld import _risk_counts, ph_test, transformed_time


# -- the oracle: the first implementation, one risk set per event time (O(n · event times)) --------
def loop_transformed_time(time, status, transform="km"):
    event_time = time[status]
    if transform == "identity":
        g = event_time.astype(float)
    else:
        utimes = np.unique(time[status])
        n_at = np.array([(time >= t).sum() for t in utimes], dtype=float)
        d = np.array([(status & (time == t)).sum() for t in utimes], dtype=float)
        surv = np.cumprod(1 - d / n_at)
        previous = np.searchsorted(utimes, event_time, side="left") - 1
        g = 1 - np.where(previous >= 0, surv[np.maximum(previous, 0)], 1.0)
    return g - g.mean()


def loop_ph_test(time, status, exog, params, transform="km"):
    time = np.asarray(time, dtype=float)
    status = np.asarray(status).astype(bool)
    x = np.asarray(exog, dtype=float).reshape(len(time), -1)
    p = x.shape[1]
    eta = x @ np.asarray(params, dtype=float)
    w = np.exp(eta - eta.max())
    g_rows = loop_transformed_time(time, status, transform)
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
    stats = []
    for j in range(p):
        keep = list(range(p)) + [p + j]
        score = np.r_[np.zeros(p), u[j]]
        stats.append(score @ np.linalg.solve(info[np.ix_(keep, keep)], score))
    score = np.r_[np.zeros(p), u]
    stats.append(score @ np.linalg.solve(info, score))
    return np.array(stats)


def cohort(seed, n, p, ties):
    """Covariates on the scales of the projects (age in years, 0/1 indicators, a standard normal),
    times in whole days, in months (heavy ties) or continuous."""
    rng = np.random.default_rng(seed)
    columns = [rng.integers(18, 65, n).astype(float), rng.integers(0, 2, n).astype(float), rng.normal(size=n)]
    x = np.column_stack(columns[:p])
    lp = np.array([0.02, -0.3, 0.4])[:p] @ (x - x.mean(axis=0)).T
    t_event = rng.exponential(300 * np.exp(-lp))
    t_cens = rng.uniform(30, 700, n)
    time = np.minimum(t_event, t_cens)
    time = {"days": np.ceil(time), "months": np.ceil(time / 30.4), "none": time}[ties]
    return time, (t_event <= t_cens).astype(int), x


# -- equality with the loop ------------------------------------------------------------------------
@pytest.mark.parametrize("ties", ["none", "days", "months"])
@pytest.mark.parametrize("p", [1, 2, 3])
def test_vectorised_equals_the_loop_over_event_times(ties, p):
    for seed, n in enumerate((40, 150, 500)):
        time, event, x = cohort(100 * p + seed, n=n, p=p, ties=ties)
        beta = PHReg(time, x, event, ties="efron").fit().params
        for transform in ("km", "identity"):
            ours = ph_test(time, event, x, beta, transform=transform)
            expected = loop_ph_test(time, event, x, beta, transform=transform)
            np.testing.assert_allclose(ours["chisq"], expected, rtol=1e-10, atol=1e-10)
            np.testing.assert_allclose(ours["p"], chi2.sf(expected, [1] * p + [p]), rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(transformed_time(time, event, transform),
                                       loop_transformed_time(time, event.astype(bool), transform), rtol=0, atol=1e-12)


def test_vectorised_equals_the_loop_at_other_coefficients_and_unsorted_input():
    """Not only at β̂: any β (the statistic is a function of β), rows in any order, an event at the
    first time and a censored row before every event."""
    time, event, x = cohort(7, n=300, p=3, ties="days")
    time[0], event[0] = time.min() - 1, 0
    time[1], event[1] = time.min(), 1
    order = np.random.default_rng(1).permutation(len(time))
    for beta in ([0.0, 0.0, 0.0], [0.05, -1.0, 0.7]):
        ours = ph_test(time[order], event[order], x[order], beta)
        np.testing.assert_allclose(ours["chisq"], loop_ph_test(time, event, x, beta), rtol=1e-10, atol=1e-10)


def test_risk_counts():
    time = np.array([5.0, 1, 3, 3, 3, 8, 2, 3, 9])
    status = np.array([1, 0, 1, 1, 0, 1, 1, 0, 0], dtype=bool)
    utimes, n_at, d = _risk_counts(time, status)
    np.testing.assert_array_equal(utimes, [2, 3, 5, 8])
    np.testing.assert_array_equal(n_at, [8, 7, 3, 2])
    np.testing.assert_array_equal(d, [1, 2, 1, 1])


# -- the test itself -------------------------------------------------------------------------------
def test_ph_test_hand_computation():
    """Five clients, one covariate, β = 0.5, identity time; the score test written out by hand."""
    time = np.array([1.0, 2, 3, 4, 5])
    status = np.array([1, 1, 0, 1, 1])
    x = np.array([1.0, 0, 1, 0, 1])
    beta = 0.5
    w = np.exp(beta * x)
    # event times 1, 2, 4, 5; g = t − mean(1, 2, 4, 5) = t − 3
    u = i11 = i12 = i22 = 0.0
    for t, who in ((1, 0), (2, 1), (4, 3), (5, 4)):
        risk = time >= t
        mean = (w[risk] * x[risk]).sum() / w[risk].sum()
        var = (w[risk] * x[risk] ** 2).sum() / w[risk].sum() - mean**2
        g = t - 3
        u += g * (x[who] - mean)
        i11, i12, i22 = i11 + var, i12 + g * var, i22 + g * g * var
    expected = u**2 / (i22 - i12**2 / i11)  # score test of θ at (β, 0): U² / (I22 − I12²/I11)
    table = ph_test(time, status, x[:, None], [beta], names=["x"], transform="identity")
    assert table["chisq"].iloc[0] == pytest.approx(expected, rel=1e-12)
    assert table["chisq"].iloc[1] == pytest.approx(expected, rel=1e-12)  # one covariate: global = it
    assert list(table["term"]) == ["x", "GLOBAL"]
    assert list(table.columns) == ["term", "chisq", "df", "p"] and list(table["df"]) == [1, 1]


def test_ph_test_equals_counting_process_score_test():
    """Efron ties, two covariates, km transform: the same score test built independently by
    splitting follow-up at every event time and asking statsmodels PHReg for the score and
    information of the model with X and X·g(t) at (β̂, 0)."""
    time, event, x = generated(9, n=60)
    time = np.ceil(time / 20)  # many ties
    beta = PHReg(time, x, event, ties="efron").fit().params
    ours = ph_test(time, event, x, beta)
    status = event.astype(bool)
    utimes = np.unique(time[status])
    # g: 1 − left-continuous KM at each event time, centred over the events (R's km transform)
    surv = np.cumprod([1 - (status & (time == t)).sum() / (time >= t).sum() for t in utimes])
    g_unique = 1 - np.r_[1, surv[:-1]]
    g_unique = g_unique - np.mean(g_unique[np.searchsorted(utimes, time[status])])
    rows = []
    for i in range(len(time)):
        entry = 0.0  # all times are ≥ 1
        for t, g in zip(utimes, g_unique):
            if t > time[i]:
                break
            rows.append((entry, t, int(status[i] and t == time[i]), *x[i], *(x[i] * g)))
            entry = t + 0.5  # PHReg keeps a row at risk at its entry time; times are whole numbers
        if entry < time[i]:  # censored after the last event time
            rows.append((entry, time[i], 0, *x[i], *(x[i] * 0)))
    data = np.array(rows)
    model = PHReg(data[:, 1], data[:, 3:], data[:, 2], entry=data[:, 0], ties="efron")
    params = np.r_[beta, 0, 0]
    score, info = model.score(params), -model.hessian(params)
    score[:2] = 0
    assert ours["chisq"].iloc[2] == pytest.approx(score @ np.linalg.solve(info, score), rel=1e-8)
    for j in range(2):
        keep = [0, 1, 2 + j]
        s = score[keep]
        assert ours["chisq"].iloc[j] == pytest.approx(s @ np.linalg.solve(info[np.ix_(keep, keep)], s), rel=1e-8)


def test_names_and_inputs_as_pandas():
    time, event, x = generated(3, n=120)
    exog = pd.DataFrame(x, columns=["age", "female"])
    beta = PHReg(time, x, event, ties="efron").fit().params
    from_pandas = ph_test(pd.Series(time), pd.Series(event.astype(bool)), exog, pd.Series(beta), names=exog.columns)
    assert list(from_pandas["term"]) == ["age", "female", "GLOBAL"] and list(from_pandas["df"]) == [1, 1, 2]
    np.testing.assert_allclose(from_pandas["chisq"], ph_test(time, event, x, beta)["chisq"], rtol=1e-14)
    assert list(ph_test(time, event, x, beta)["term"]) == ["x1", "x2", "GLOBAL"]
    with pytest.raises(ValueError, match="transform"):
        ph_test(time, event, x, beta, transform="rank")

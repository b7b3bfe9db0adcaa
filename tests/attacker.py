"""The attacker of the disclosure tests: how far the published numbers pin down a hidden count."""
from __future__ import annotations

import numpy as np
from scipy.optimize import linprog


def attack(unknowns, equations: list, bounds: dict) -> dict:
    """The smallest and largest value of each unknown (a hidden count) consistent with the
    ``equations`` (``({unknown: coefficient}, constant)``: Σ coefficient·unknown = constant, what a
    reader knows from totals and relations between published numbers) and the ``bounds`` the
    symbols give (``<5``: 1…4); ``{unknown: (low, high)}``. A count is recovered when low = high."""
    names = sorted(unknowns)
    a_eq = [[eq.get(n, 0.0) for n in names] for eq, _ in equations]
    b_eq = [constant for _, constant in equations]
    out = {}
    for k, name in enumerate(names):
        c = np.zeros(len(names))
        c[k] = 1
        low = linprog(c, A_eq=a_eq or None, b_eq=b_eq or None, bounds=[bounds[n] for n in names])
        high = linprog(-c, A_eq=a_eq or None, b_eq=b_eq or None, bounds=[bounds[n] for n in names])
        assert low.status == 0 and high.status in (0, 3), "the published numbers must be consistent"
        out[name] = (low.fun, -high.fun if high.status == 0 else np.inf)  # 3: no upper bound at all
    return out


def equation(total, parts):
    """``total`` − Σ ``parts`` = 0 as ``({unknown: coefficient}, constant)``; each term is
    ``({unknown: 1.0}, 0.0)`` for a hidden count or ``({}, value)`` for a published one."""
    coefficients, constant = dict(total[0]), -total[1]
    for unknown, value in parts:
        for name, c in unknown.items():
            coefficients[name] = coefficients.get(name, 0.0) - c
        constant += value
    return coefficients, constant

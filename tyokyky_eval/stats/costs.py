"""Costs, as pure descriptive statistics from the ``costs:`` block of the parameters (budget lines,
funding shares, actual spending per service and period) and the clients table. Publishing
(suppression, the caveat text) is :mod:`tyokyky_eval.sections.costs`.

Essote (seed 003): budget 782 001 € = staff 670 000 + purchased services 70 000 + operating costs
42 001, funded 80 % by the state (STM) and 20 % by Essote. Cost per client, per client who
completed and per employed client divide the spending of a service (or the whole budget) by the
clients of the service: a description of what the project cost, not a cost-effectiveness estimate.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tyokyky_eval.inputs.keys import bilingual


def _amounts(values, where: str) -> dict:
    if not isinstance(values, dict) or not values:
        raise ValueError(f"{where} must map codes to amounts, e.g. {{staff: 670000}}")
    out = {}
    for code, amount in values.items():
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount < 0 or not np.isfinite(amount):
            raise ValueError(f"{where}.{code}: expected an amount ≥ 0, got {amount!r}")
        out[str(code)] = float(amount)
    return out


@dataclass(frozen=True)
class Costs:
    """``budget``: budget line → amount; ``funding``: source → share (0–1, summing to 1) of the
    budget; ``spending``: actual spending, a list of ``{service, period, amount}``; ``currency``;
    ``synthetic``: the figures are illustrative (the documents give none), said in the appendix;
    ``caveat``: the evaluator's own caveat (text or ``{fi, en}``) instead of the standard one."""

    budget: dict = field(default_factory=dict)
    funding: dict = field(default_factory=dict)
    spending: tuple = ()
    currency: str = "EUR"
    synthetic: bool = False
    caveat: dict | str | None = None

    def __post_init__(self):
        if self.budget:
            object.__setattr__(self, "budget", _amounts(self.budget, "budget"))
        if self.funding:
            shares = _amounts(self.funding, "funding")
            if any(v > 1 for v in shares.values()) or abs(sum(shares.values()) - 1) > 1e-9:
                raise ValueError("funding: give each source's share of the budget (0–1); the shares must add up to 1")
            object.__setattr__(self, "funding", shares)
        if isinstance(self.spending, (str, dict)) or not all(isinstance(s, dict) for s in self.spending):
            raise ValueError("spending must be a list of {service, period, amount}")
        rows = []
        for i, row in enumerate(self.spending, 1):
            if set(row) != {"service", "period", "amount"}:
                raise ValueError(f"spending[{i}]: expected keys service, period, amount; got {', '.join(map(str, row))}")
            rows.append({"service": str(row["service"]), "period": str(row["period"]),
                         "amount": _amounts({"amount": row["amount"]}, f"spending[{i}]")["amount"]})
        object.__setattr__(self, "spending", tuple(rows))
        if not self.budget and not self.spending:
            raise ValueError("give a budget (budget lines and amounts) or spending (per service and period)")
        if self.caveat is not None:
            object.__setattr__(self, "caveat", bilingual(self.caveat, "caveat"))

    @property
    def total(self) -> float:
        """The budget total, or the spending total when no budget is given."""
        return sum(self.budget.values()) if self.budget else sum(r["amount"] for r in self.spending)


def budget_table(costs: Costs) -> pd.DataFrame:
    """``line, amount, share`` (of the total, %) per budget line, then ``total``."""
    lines = pd.DataFrame({"line": list(costs.budget), "amount": list(costs.budget.values())})
    total = lines["amount"].sum()
    lines = pd.concat([lines, pd.DataFrame([{"line": "total", "amount": total}])], ignore_index=True)
    return lines.assign(share=100 * lines["amount"] / total if total else np.nan)


def funding_table(costs: Costs) -> pd.DataFrame:
    """``source, share`` (%), ``amount`` (share × the budget total) per funding source."""
    return pd.DataFrame({"source": list(costs.funding), "share": [100 * s for s in costs.funding.values()],
                         "amount": [s * costs.total for s in costs.funding.values()]})


def spending_table(costs: Costs) -> pd.DataFrame:
    """Actual spending ``service, period, amount``, summed, sorted."""
    frame = pd.DataFrame(list(costs.spending), columns=["service", "period", "amount"])
    return frame.groupby(["service", "period"], as_index=False)["amount"].sum()


def per_client(costs: Costs, clients: pd.DataFrame) -> pd.DataFrame:
    """Per service (every service of ``clients``, in code order) and ``all``: ``service, cost``
    (the service's spending; ``all``: the budget total, or all spending), ``n_clients,
    n_completed`` (ended for a reason other than ``dropped_out``), ``n_employed`` (with a first
    competitive job), ``cost_per_client, cost_per_completed, cost_per_employed`` (not computed
    when the divisor is 0 or the cost unknown)."""
    spent = spending_table(costs).groupby("service")["amount"].sum()
    completed = clients["end_date"].notna() & clients["end_reason"].ne("dropped_out")
    frame = pd.DataFrame({"service": clients["service"].astype(str), "completed": completed,
                          "employed": clients["first_employment_date"].notna()})
    groups = [(s, g) for s, g in frame.groupby("service", sort=True)] + [("all", frame)]
    rows = []
    for service, group in groups:
        cost = costs.total if service == "all" else spent.get(service, np.nan)
        n = {"n_clients": len(group), "n_completed": int(group["completed"].sum()),
             "n_employed": int(group["employed"].sum())}
        row = {"service": service, "cost": float(cost), **n}
        for name, count in (("client", "n_clients"), ("completed", "n_completed"), ("employed", "n_employed")):
            row[f"cost_per_{name}"] = cost / n[count] if n[count] else np.nan
        rows.append(row)
    return pd.DataFrame(rows)

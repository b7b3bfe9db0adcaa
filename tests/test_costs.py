"""Costs: the parameters block, the Essote budget of the final report, costs per client by hand."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tyokyky_eval.inputs.keys import build
from tyokyky_eval.inputs.params import load_params
from tyokyky_eval.stats import costs as co

ROOT = Path(__file__).resolve().parent.parent


def test_essote_budget_and_funding_as_the_final_report_states_them():
    """Seed 003: 782 001 € = staff 670 000 + purchased services 70 000 + operating 42 001;
    STM 80 %, Essote 20 %."""
    costs = load_params(ROOT / "parameters" / "essote-tyokykya-ja-kumppanuutta.yaml").costs
    assert costs.budget == {"staff": 670000, "purchased_services": 70000, "operating": 42001}
    assert costs.total == 782001 and not costs.synthetic
    budget = co.budget_table(costs).set_index("line")
    assert budget.at["total", "amount"] == 782001 and budget.at["total", "share"] == pytest.approx(100)
    assert budget.drop(index="total")["share"].sum() == pytest.approx(100)
    funding = co.funding_table(costs).set_index("source")
    assert funding.at["state", "share"] == pytest.approx(80)
    assert funding.at["state", "amount"] == pytest.approx(625600.8)


def test_the_other_seed_projects_label_their_costs_synthetic():
    for name in ("phhyky-tuetusti-tyohon", "helsinki-tyokykyisempi-stadi", "pohde-palo2"):
        assert load_params(ROOT / "parameters" / f"{name}.yaml").costs.synthetic


def clients():
    return pd.DataFrame({
        "client_id": list("abcdef"), "service": ["ips"] * 4 + ["lg"] * 2,
        "end_date": pd.to_datetime(["2022-01-01", "2022-02-01", None, "2022-03-01", "2022-01-01", None]),
        "end_reason": ["employed", "dropped_out", None, "work_trial", "other", None],
        "first_employment_date": pd.to_datetime(["2021-12-01", None, "2022-05-01", None, None, None]),
    })


def test_cost_per_client_by_hand():
    costs = co.Costs(budget={"staff": 1000.0}, spending=({"service": "ips", "period": "2022", "amount": 600},
                                                         {"service": "ips", "period": "2021", "amount": 200}))
    frame = co.per_client(costs, clients()).set_index("service")
    # ips: 800 €; 4 clients, completed a and d (b dropped out, c ongoing), employed a and c
    assert frame.loc["ips", ["cost", "n_clients", "n_completed", "n_employed"]].tolist() == [800, 4, 2, 2]
    assert frame.loc["ips", ["cost_per_client", "cost_per_completed", "cost_per_employed"]].tolist() == [200, 400, 400]
    # lg: no spending given; nobody employed → not computed
    assert np.isnan(frame.at["lg", "cost"]) and np.isnan(frame.at["lg", "cost_per_employed"])
    # all: the budget total over all six clients
    assert frame.at["all", "cost"] == 1000 and frame.at["all", "cost_per_client"] == pytest.approx(1000 / 6)


def test_zero_cost_gives_zero_per_client():
    frame = co.per_client(co.Costs(budget={"staff": 0}), clients()).set_index("service")
    assert frame.at["all", "cost_per_client"] == 0


@pytest.mark.parametrize(("values", "message"), [
    ({"budget": {"staff": -1}}, "amount ≥ 0"),
    ({"budget": {"staff": 10}, "funding": {"state": 0.8, "own": 0.3}}, "add up to 1"),
    ({"budget": {"staff": 10}, "spending": [{"service": "ips", "amount": 3}]}, "service, period, amount"),
    ({}, "give a budget"),
    ({"budget": {"staff": "paljon"}}, "amount ≥ 0"),
])
def test_bad_costs(values, message):
    errors = []
    assert build(co.Costs, values, "costs", errors) is None
    assert message in str(errors[0]) and str(errors[0]).startswith("costs")


def test_unknown_costs_key_gets_a_suggestion():
    errors = []
    build(co.Costs, {"budjet": {"staff": 1}}, "costs", errors)
    assert "did you mean 'budget'" in str(errors[0])

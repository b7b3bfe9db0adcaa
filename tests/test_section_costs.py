"""The costs section as an attacker sees it: a cost per employed client must never give back a
hidden number of employed clients (cost ÷ cost per client = count), and no hidden count may be
pinned down by the services adding up to all clients."""
from __future__ import annotations

from types import SimpleNamespace

import matplotlib
import numpy as np
import pandas as pd
import pytest
from attacker import attack, equation

from tyokyky_eval import publication
from tyokyky_eval.inputs.params import Disclosure
from tyokyky_eval.inputs.project import Project
from tyokyky_eval.sections.costs import PER, PER_CLIENT, CostsSection
from tyokyky_eval.stats import costs as co

matplotlib.use("Agg")


def make_clients(sizes: dict, employed: dict, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for service, n in sizes.items():
        job = np.zeros(n, dtype=bool)
        job[: employed[service]] = True
        ended = rng.random(n) < 0.7
        frames.append(pd.DataFrame({
            "service": service, "end_date": pd.to_datetime(np.where(ended, "2022-06-01", None)),
            "end_reason": np.where(ended, rng.choice(["employed", "dropped_out", "other"], n), None),
            "first_employment_date": pd.to_datetime(np.where(job, "2022-03-01", None))}))
    out = pd.concat(frames, ignore_index=True)
    return out.assign(client_id=[f"C{i}" for i in range(len(out))])


def make_section(clients, costs, min_cell=5, language="en") -> CostsSection:
    params = SimpleNamespace(disclosure=Disclosure(min_cell, max(10, min_cell)), costs=costs, services={})
    return CostsSection(Project(params, language, {"clients": clients} if clients is not None else {}))


COSTS = co.Costs(budget={"staff": 300000}, spending=tuple(
    {"service": s, "period": "2022", "amount": a} for s, a in (("ips", 90000), ("lg", 30000), ("was", 150000))))


def number(value):
    return None if publication.is_symbol(value, publication.Rules(5)) or pd.isna(value) else float(value)


@pytest.mark.parametrize("min_cell", [3, 5, 10])
@pytest.mark.parametrize("employed", [{"ips": 3, "lg": 0, "was": 12}, {"ips": 2, "lg": 1, "was": 40},
                                      {"ips": 9, "lg": 4, "was": 2}])
def test_cost_per_employed_never_gives_a_hidden_count_back(min_cell, employed):
    clients = make_clients({"ips": 20, "lg": 7, "was": 60}, employed)
    section = make_section(clients, COSTS, min_cell)
    rules = section.rules
    table = section.published()[PER_CLIENT].set_index("service")
    for service, row in table.iterrows():
        for count, (per,) in PER.items():
            if publication.is_symbol(row[count], rules):
                assert publication.is_symbol(row[per], rules), (service, count)
            cost, value = number(row["cost"]), number(row[per])
            if cost is not None and value is not None and value > 0:
                # the attack: cost ÷ cost per … = the count; it may only give back a published count
                assert number(row[count]) == pytest.approx(cost / value)
    # the services add up to all clients: no hidden count is pinned down
    for count in PER:
        unknowns, parts, bounds = set(), [], {}
        for service, value in table[count].items():
            term = ({f"{service}": 1.0}, 0.0) if publication.is_symbol(value, rules) else ({}, float(value))
            if term[0]:
                unknowns.add(service)
                bounds[service] = (1, min_cell - 1) if value == rules.symbol(publication.PRIMARY) else (0, None)
            if service == "all":
                total = term
            else:
                parts.append(term)
        if unknowns:
            ranges = attack(unknowns, [equation(total, parts)], bounds)
            assert all(low < high for low, high in ranges.values()), (count, ranges)


def test_small_number_of_employed_is_suppressed_with_its_cost():
    clients = make_clients({"ips": 20, "lg": 7, "was": 60}, {"ips": 3, "lg": 0, "was": 12})
    table = make_section(clients, COSTS).published()[PER_CLIENT].set_index("service")
    assert table.at["ips", "n_employed"] == "<5" and table.at["ips", "cost_per_employed"] == ".."


def test_nobody_employed_is_said_and_not_computed():
    clients = make_clients({"ips": 20}, {"ips": 0})
    section = make_section(clients, co.Costs(budget={"staff": 1000}))
    assert np.isnan(section.internal()[PER_CLIENT].set_index("service").at["all", "cost_per_employed"])
    assert any("No client was employed" in p for p in section.text("en"))


def test_zero_cost_and_no_clients_table():
    section = make_section(None, co.Costs(budget={"staff": 0}))
    text = " ".join(section.text("en"))
    assert "No costs are recorded" in text and "no clients table" in text
    assert PER_CLIENT not in section.published()
    assert section.figures("en")


def test_no_costs_declared_shows_nothing():
    section = make_section(make_clients({"ips": 5}, {"ips": 1}), None)
    assert section.tables() == [] and section.figures("fi") == []
    assert section.text("fi") == ["Hankkeelle ei ole kirjattu kustannuksia."]


def test_evaluators_caveat_is_escaped():
    costs = co.Costs(budget={"staff": 10}, caveat="<script>alert(1)</script> [x](http://evil.example)")
    caveat = make_section(None, costs).text("fi")[-1]
    html = publication.safe_markdown_html(publication.neutralise_markdown(caveat))
    assert "<script" not in html and "href" not in html and "&lt;script&gt;" in html

"""Activities: counts per kind and period, funnels of chains (checked by hand and against numpy),
shares of clients with an event (Wilson CI by its formula), the parameters and the validation."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tyokyky_eval.inputs.params import load_params
from tyokyky_eval.inputs.validation import validate_project
from tyokyky_eval.stats import activities as ac

ROOT = Path(__file__).resolve().parent.parent
D = pd.Timestamp


def chain_data() -> pd.DataFrame:
    rows = [  # client, kind, date
        ("a", "consent", "2023-01-02"), ("a", "request", "2023-01-09"), ("a", "meeting", "2023-01-30"),
        ("b", "consent", "2023-02-01"), ("b", "request", "2023-02-04"), ("b", "meeting", "2023-02-05"),
        ("c", "consent", "2023-03-01"), ("c", "request", "2023-03-21"),
        ("d", "consent", "2023-03-10"), ("d", "meeting", "2023-03-01"),  # meeting before any request
        ("e", "request", "2023-04-01"), ("e", "meeting", "2023-04-02"),  # never consented: not in the chain
        ("c", "request", "2023-03-25"),  # a second request: the first one counts
    ]
    frame = pd.DataFrame(rows, columns=["client_id", "kind", "date"]).assign(date=lambda f: pd.to_datetime(f["date"]))
    return frame.assign(organisation="x", participants=pd.NA)


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval by its formula (Wilson 1927)."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_funnel_by_hand():
    frame = ac.funnel(chain_data(), ("consent", "request", "meeting"))
    assert frame["n_reached"].tolist() == [4, 3, 2]
    assert frame["n_not_reached"].tolist() == [0, 1, 1]
    np.testing.assert_allclose(frame["share"], [1, 0.75, 0.5])
    # days consent → request: a 7, b 3, c 20 → median 7; request → meeting: a 21, b 1 → median 11
    assert frame["median_days"].tolist()[1:] == [float(np.median([7, 3, 20])), float(np.median([21, 1]))]
    assert np.isnan(frame.at[0, "median_days"])
    for row in frame.itertuples():
        assert (row.ci_low, row.ci_high) == pytest.approx(wilson(row.n_reached, 4))


def test_funnel_median_against_pandas_on_a_larger_chain():
    rng = np.random.default_rng(5)
    n = 400
    first = D("2023-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    gap = rng.integers(0, 90, n)
    data = pd.concat([pd.DataFrame({"client_id": np.arange(n), "kind": "s1", "date": first}),
                      pd.DataFrame({"client_id": np.arange(n), "kind": "s2",
                                    "date": first + pd.to_timedelta(gap, unit="D")})])
    data = data.assign(organisation="x", participants=pd.NA)
    frame = ac.funnel(data, ("s1", "s2"))
    assert frame.at[1, "n_reached"] == n
    assert frame.at[1, "median_days"] == pd.Series(gap).median()


def test_counts_per_kind_and_period_with_totals():
    data = pd.DataFrame({"date": pd.to_datetime(["2022-01-10", "2022-03-01", "2022-08-01", "2022-08-02"]),
                         "kind": ["training", "training", "training", "doctor"], "organisation": ["a", "b", None, "a"],
                         "participants": pd.array([10, 5, pd.NA, pd.NA], dtype="Int64"),
                         "client_id": [None, None, None, "c1"]})
    by_period = ac.counts(data, "period", "half")
    assert by_period.to_dict("records") == [
        {"kind": "doctor", "period": "2022-H2", "n_events": 1, "participants": 0, "n_clients": 1},
        {"kind": "doctor", "period": "total", "n_events": 1, "participants": 0, "n_clients": 1},
        {"kind": "training", "period": "2022-H1", "n_events": 2, "participants": 15, "n_clients": 0},
        {"kind": "training", "period": "2022-H2", "n_events": 1, "participants": 0, "n_clients": 0},
        {"kind": "training", "period": "total", "n_events": 3, "participants": 15, "n_clients": 0}]
    assert ac.counts(data, "organisation")["organisation"].tolist() == ["a", "total", "a", "b", "unknown", "total"]
    assert ac.period_of(data["date"], "quarter").tolist() == ["2022-Q1", "2022-Q1", "2022-Q3", "2022-Q3"]
    assert ac.client_kinds(data) == {"doctor"}


def test_event_share_per_service():
    clients = pd.DataFrame({"client_id": [f"c{i}" for i in range(9)], "service": ["was"] * 6 + ["ips"] * 3})
    data = pd.DataFrame({"client_id": ["c0", "c1", "c1", "c7"], "kind": "doctor"})
    frame = ac.event_share(data, clients, "doctor").set_index("service")
    assert frame.loc["was", ["n_clients", "n_with_event", "n_without_event"]].tolist() == [6, 2, 4]
    assert frame.loc["all", ["n_clients", "n_with_event"]].tolist() == [9, 3]
    assert (frame.at["was", "ci_low"], frame.at["was", "ci_high"]) == pytest.approx(wilson(2, 6))


def test_options_refuse_undeclared_kinds_and_short_chains():
    with pytest.raises(ValueError, match="not declared"):
        ac.Options(kinds={"a": "A"}, chains={"c": ["a", "b"]})
    with pytest.raises(ValueError, match="at least two"):
        ac.Options(chains={"c": ["a"]})
    with pytest.raises(ValueError, match="period"):
        ac.Options(period="month")


def test_pohde_network_chain_as_the_plan_describes_it():
    """Seed 004: consent → contact request → network meeting → joint plan → follow-up meetings;
    health checks for the unemployed."""
    options = load_params(ROOT / "parameters" / "pohde-palo2.yaml").activities
    assert options.chains["network"] == ("consent", "contact_request", "network_meeting", "joint_plan",
                                         "follow_up_meeting")
    assert options.client_events == ("health_check",) and options.synthetic


def test_essote_doctor_assessment_is_a_client_event():
    options = load_params(ROOT / "parameters" / "essote-tyokykya-ja-kumppanuutta.yaml").activities
    assert options.client_events == ("doctor_assessment",)


def test_validation_names_row_and_header_of_an_unknown_kind_and_an_orphan_client(project_files):
    clients = project_files.tables["clients"]
    frame = pd.DataFrame({"Päivä": ["2022-01-10", "2022-02-10", "2022-03-01"], "Laji": ["training", "trainnig", "doctor"],
                          "organisation": ["a", "a", "a"], "participants": [5, "", ""],
                          "client_id": ["", "", "NOT-A-CLIENT"]})
    frame.to_csv(project_files.root / "data" / "activities.csv", index=False)
    project_files.params["data"]["activities"] = "data/activities.csv"
    project_files.params["column_map"] = {"activities": {"Päivä": "date", "Laji": "kind"}}
    project_files.params["activities"] = {"kinds": {"training": "Training", "doctor": "Doctor"}}
    result = validate_project(load_params(project_files.save_params()))
    messages = [str(p) for p in result.errors]
    assert any(m.startswith("activities.csv:3:Laji (kind)") and "did you mean 'training'" in m for m in messages)
    assert any(m.startswith("activities.csv:4:client_id") and "clients table" in m for m in messages)
    assert len(clients) and len(messages) == 2

"""Goals against achievements: parsing the parameters, the indicators, the status, and the goals
of the seed documents."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tyokyky_eval import demo
from tyokyky_eval.errors import ParameterError
from tyokyky_eval.inputs.params import load_params
from tyokyky_eval.stats import goals

ROOT = Path(__file__).resolve().parent.parent
ESSOTE = ROOT / "parameters" / "essote-tyokykya-ja-kumppanuutta.yaml"


def tables():
    clients = pd.DataFrame({
        "client_id": ["a", "b", "c", "d", "e"],
        "service": ["ips", "ips", "ips", "was", "was"],
        "start_date": pd.to_datetime(["2021-03-01", "2021-12-01", "2022-05-01", "2020-01-01", "2022-02-01"]),
        "end_date": pd.to_datetime(["2021-06-30", None, "2022-09-01", "2021-12-31", None]),
        "first_employment_date": pd.to_datetime([None, "2022-01-10", "2022-08-01", None, None]),
    })
    kyky = pd.DataFrame({"client_id": ["a", "a", "c", "e"]})
    activities = pd.DataFrame({"date": pd.to_datetime(["2021-05-01", "2022-01-01", "2022-02-01"]),
                               "kind": ["training", "training", "workshop"], "participants": [10, 12, 8]})
    return {"clients": clients, "kykyviisari": kyky, "activities": activities}


def goal(**values):
    return goals.Goal(id="g", title="T", **values)


@pytest.mark.parametrize(("values", "expected"), [
    ({"indicator": "clients", "target": 3}, 5),
    ({"indicator": "clients", "target": 3, "service": "ips"}, 3),
    ({"indicator": "clients", "target": 3, "service": "ips", "year": 2022}, 2),  # b ongoing, c started 2022
    ({"indicator": "clients", "target": 3, "year": 2021}, 3),  # a, b, d (ended 31.12.2021)
    ({"indicator": "clients_employed", "target": 1}, 2),
    ({"indicator": "kykyviisari_measured", "target": 1, "service": "ips"}, 2),
    ({"indicator": "activities", "target": 1, "kind": "training"}, 2),
    ({"indicator": "activities", "target": 1, "kind": "training", "year": 2022}, 1),
    ({"indicator": "activity_participants", "target": 1, "kind": "training"}, 22),
])
def test_indicators_by_hand(values, expected):
    frame = goals.evaluate([goal(**values)], tables())
    assert frame.at[0, "achieved"] == expected


def test_status_from_target():
    assert goals.status_of(5, 5) == "achieved"
    assert goals.status_of(4, 5) == "partly"
    assert goals.status_of(0, 5) == "not_achieved"
    assert goals.status_of(None, 5) is None


def test_indicator_without_its_table_is_not_assessable():
    frame = goals.evaluate([goal(indicator="activities", target=1, kind="training")], {"clients": tables()["clients"]})
    assert np.isnan(frame.at[0, "achieved"]) and frame.at[0, "status"] is None


def test_assessed_goal_keeps_the_evaluators_judgement():
    g = goal(status="partly", justification={"fi": "Osittain.", "en": "Partly."}, source="Raportti s. 3")
    frame = goals.evaluate([g], {})
    assert frame.loc[0, ["assessment", "status", "source"]].tolist() == ["assessed", "partly", "Raportti s. 3"]
    assert np.isnan(frame.at[0, "achieved"])


@pytest.mark.parametrize(("item", "message"), [
    ({"id": "g", "title": "T", "indicator": "clientz", "target": 1}, "did you mean 'clients'"),
    ({"id": "g", "title": "T", "status": "achieved"}, "justification"),
    ({"id": "g", "title": "T", "status": "done", "justification": "x"}, "status"),
    ({"id": "g", "title": "T", "indicator": "clients", "target": 0}, "target must be a positive number"),
    ({"id": "g", "title": "T", "indicator": "activities", "target": 2}, "needs kind"),
    ({"id": "g", "title": "T", "indicator": "clients", "target": 2, "status": "achieved"}, "leave out status"),
    ({"id": "g", "title": "T", "indicatr": "clients"}, "did you mean 'indicator'"),
    ({"id": "Matti Meikäläinen", "title": "T", "status": "achieved", "justification": "x"}, "short code"),
    ({"title": "T", "status": "achieved", "justification": "x"}, "missing key 'id'"),
])
def test_bad_goals_are_clear_parameter_errors(tmp_path, item, message):
    params = {"project_id": "p", "title": "P", "cutoff_date": "2022-12-31", "data": {"clients": "c.csv"},
              "goals": [item]}
    (tmp_path / "c.csv").write_text("client_id\n", encoding="utf-8")
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ParameterError) as exc:
        load_params(path)
    assert message in str(exc.value) and "goals[1]" in str(exc.value)


def test_essote_goals_as_the_final_report_states_them():
    """Seed 003: Goals 1–6; "100 henkilön pilottiryhmä" (work-ability service, 2022); the
    partnership table and the application were not achieved."""
    by_id = {g.id: g for g in load_params(ESSOTE).goals}
    pilot = by_id["pilot_group"]
    assert (pilot.indicator, pilot.service, pilot.year, pilot.target) == ("clients", "work_ability_service", 2022, 100)
    assert by_id["partnership_table"].status == "not_achieved"
    assert "Kumppanuuspöytää ei ole perustettu" in by_id["partnership_table"].justification["fi"]
    assert by_id["application"].status == "not_achieved"
    assert by_id["competence"].status == "achieved"


def test_essote_synthetic_data_give_over_500_clients_in_2022():
    """The final report: over 500 clients of the work-ability service in 2022, against a pilot
    group of 100; lifestyle guidance 63 clients."""
    raw = yaml.safe_load(ESSOTE.read_text(encoding="utf-8"))
    spec = demo.spec_from_synthetic({**raw["synthetic"], "cutoff_date": raw["cutoff_date"],
                                     "tables": ("clients", "kykyviisari", "activities")})
    frame = goals.evaluate(load_params(ESSOTE).goals, demo.generate(spec)).set_index("goal_id")
    assert frame.at["pilot_group", "achieved"] > 500 and frame.at["pilot_group", "status"] == "achieved"
    assert frame.at["lifestyle_guidance_clients", "achieved"] == 63

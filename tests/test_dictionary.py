"""The data dictionary is complete, bilingual and its rendered README is current."""
from __future__ import annotations

from pathlib import Path

import pytest

from tyokyky_eval.i18n import LANGUAGES, _catalog
from tyokyky_eval.inputs import dictionary

ROOT = Path(__file__).resolve().parent.parent


def test_rendered_readme_is_current():
    committed = (ROOT / "data_dictionary" / "README.md").read_text(encoding="utf-8")
    assert committed.strip() == dictionary.render_markdown().strip(), \
        "data_dictionary/README.md is out of date: run `make dictionary`"


@pytest.mark.parametrize("table", dictionary.TABLES)
def test_every_field_has_english_and_finnish_texts(table):
    schema = dictionary.table_schema(table)
    for field in schema["fields"]:
        assert field["type"] in {"string", "number", "integer", "date", "boolean"}
        assert field["title"] and field["description"]
        assert set(field["fi"]) == {"title", "description"} and all(field["fi"].values())


def test_canonical_columns_are_the_design_contract():
    assert dictionary.field_names("clients") == [
        "client_id", "service", "referral_source", "start_date", "end_date", "end_reason",
        "first_employment_date", "wage_subsidy", "job_coach_id", "birth_year", "gender"]
    assert dictionary.field_names("fidelity") == ["site_id", "review_date", "rater", "item", "score", "na_reason"]
    assert dictionary.field_names("feedback") == ["survey_id", "round", "respondent_group", "respondent_id",
                                                  "item_id", "response",  # optional, from survey exports:
                                                  "site", "not_applicable", "option", "answer", "themes"]


def test_ips25_spec():
    spec = dictionary.instrument("ips25")
    assert [i["number"] for i in spec["items"]] == list(range(1, 26))
    assert {i["section"] for i in spec["items"][:3]} == {"staffing"}
    bands = {b["code"]: (b["min"], b["max"]) for b in spec["bands"]}
    assert bands == {"exemplary": (115, 125), "good": (100, 114), "fair": (74, 99), "not_supported": (25, 73)}
    assert all(set(i["short_name"]) == {"fi", "en"} for i in spec["items"])


def test_kykyviisari_spec_reliability_defaults():
    spec = dictionary.instrument("kykyviisari")
    measures = {m["id"]: m for m in spec["measures"]}
    assert set(measures) == {"work_ability", "functioning", "mind", "inclusion", "body", "skills", "everyday_life"}
    assert measures["work_ability"]["reliability"] == 0.89 and measures["work_ability"]["sem"] == 0.69
    assert all(0.74 <= m["reliability"] <= 0.93 for m in measures.values())


def _keys(node, prefix=""):
    if isinstance(node, dict):
        return {k for key, value in node.items() for k in _keys(value, f"{prefix}{key}.")}
    return {prefix.rstrip(".")}


def test_finnish_and_english_locale_files_have_the_same_keys():
    fi, en = (_keys(_catalog(language)) for language in LANGUAGES)
    assert sorted(fi - en) == [] and sorted(en - fi) == []

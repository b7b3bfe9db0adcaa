"""Fidelity scoring: expectations computed by hand in the comments, kappa against scikit-learn."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from tyokyky_eval import load_project, load_section
from tyokyky_eval.errors import DataError, ParameterError
from tyokyky_eval.stats import fidelity

IPS = fidelity.load_instrument("ips25")
COLUMNS = ["site_id", "review_date", "rater", "item", "score", "na_reason"]


def review(item_scores: dict, site="s1", date="2022-01-10", rater="consensus", reasons=None) -> pd.DataFrame:
    """Canonical fidelity rows for one rating; a score of None is not applicable (reason given)."""
    reasons = reasons or {}
    rows = [(site, pd.Timestamp(date), rater, item, score,
             None if score is not None else reasons.get(item, "not applicable here"))
            for item, score in item_scores.items()]
    return pd.DataFrame(rows, columns=COLUMNS).astype({"score": "Int64"})


def all_items(scores) -> dict:
    return dict(zip(range(1, len(scores) + 1), scores))


def score_one(frame, instrument=IPS, options=fidelity.Options()):
    return fidelity.scores(fidelity.item_table(frame, instrument), instrument, options).iloc[0]


# -- bands -------------------------------------------------------------------------------------
@pytest.mark.parametrize("total, band", [
    (125, "exemplary"), (115, "exemplary"), (114, "good"), (100, "good"),
    (99, "fair"), (74, "fair"), (73, "not_supported"), (25, "not_supported"),
])
def test_band_edges(total, band):
    # start from 25 × 1 and fill items up to 5 one by one: e.g. 114 = 22 × 5 + 1 × 2 + 2 × 1
    fives, rest = divmod(total - 25, 4)
    scores = [5] * fives + ([1 + rest] if fives < 25 else []) + [1] * max(24 - fives, 0)
    assert sum(scores) == total and min(scores) >= 1 and max(scores) <= 5
    row = score_one(review(all_items(scores)))
    assert row["total"] == total
    assert row["prorated_total"] == pytest.approx(total)
    assert row["mean_item_score"] == pytest.approx(total / 25)
    assert row["band"] == band
    assert not row["band_is_indicative"]


def test_band_of_prorated_totals_is_not_rounded_up():
    assert IPS.band(114.99) == "good"
    assert IPS.band(99.5) == "fair"
    assert IPS.band(24.9) is None


# -- prorating, sections, not-applicable items ---------------------------------------------------
def test_prorating_with_24_rated_items():
    # items 1–15 score 5, items 16–25 score 4; item 4 not applicable: 14 × 5 + 10 × 4 = 110
    scores = all_items([5] * 15 + [4] * 10)
    scores[4] = None
    row = score_one(review(scores, reasons={4: "no psychiatric team"}))
    assert row["n_items_rated"] == 24
    assert row["total"] == 14 * 5 + 10 * 4 == 110
    assert row["mean_item_score"] == pytest.approx(110 / 24)  # 4.5833
    assert row["prorated_total"] == pytest.approx(110 / 24 * 25)  # 114.583: good, not exemplary
    assert row["band"] == "good"
    assert row["band_is_indicative"]
    # sections: staffing 1–3 = 15; organization 5–11 (4 n/a) = 7 × 5 = 35; services 12–25 = 4×5 + 10×4 = 60
    assert (row["staffing"], row["organization"], row["services"]) == (15, 35, 60)


def test_unrated_items_are_listed_with_reasons_and_missing_rows_count():
    scores = all_items([3] * 25)
    scores[4], scores[8] = None, None
    frame = review(scores, reasons={4: "no psychiatric team", 8: "no team leader"})
    frame = frame[frame["item"] != 20]  # item 20 has no row at all
    items = fidelity.item_table(frame, IPS)
    assert items.set_index("item").loc[[4, 8, 20], "status"].tolist() == ["not_applicable", "not_applicable",
                                                                         "missing"]
    listed = fidelity.unrated_items(items, IPS, "en")
    assert listed["item"].tolist() == [4, 8, 20]
    assert listed["na_reason"].tolist() == ["no psychiatric team", "no team leader", None]  # internal only
    assert listed["short_name"].iloc[0] == "Integration with treatment through team assignment"
    row = fidelity.scores(items, IPS).iloc[0]
    assert row["n_items_rated"] == 22 and row["total"] == 66  # 22 × 3
    assert row["prorated_total"] == pytest.approx(75.0)  # mean 3 × 25: fair (indicative)
    assert row["band"] == "fair" and row["band_is_indicative"]


def test_no_band_when_more_than_five_items_unrated():
    scores = all_items([4] * 25)
    for item in (4, 5, 8, 12, 13, 14):  # 6 of 25 not applicable
        scores[item] = None
    row = score_one(review(scores))
    assert row["n_items_rated"] == 19 and row["total"] == 76
    assert row["prorated_total"] == pytest.approx(100.0)  # would be "good", but too few items
    assert row["band"] is None
    assert not row["band_is_indicative"]
    five = {**scores, 14: 4}  # 5 unrated: band given, indicative
    assert score_one(review(five))["band"] == "good"
    # the limit is an option
    assert score_one(review(scores), options=fidelity.Options(max_unrated_items=6))["band"] == "good"


def test_no_band_text_in_summary(tmp_path):
    rows = "".join(f"s1,2022-05-01,consensus,{item},{'' if item <= 6 else 4},{'n_a' if item <= 6 else ''}\n"
                   for item in range(1, 26))
    section = load_section("fidelity", load_project(write_project(tmp_path, rows), "en"))
    assert "No band is given (not rated: 6 of 25 items; at most 5 allowed)." in section.summary("en")
    assert section.scores["band"].isna().all()


# -- agreement ---------------------------------------------------------------------------------
def test_weighted_kappa_hand_computation():
    # a = [1, 2, 3], b = [1, 3, 3]; weights (i−j)²; observed Σw·O = (1/3)·1 = 1/3
    # marginals a: 1/3 each of 1,2,3; b: 1/3 at 1, 2/3 at 3
    # Σw·E = Σ_i Σ_j p_a(i) p_b(j) (i−j)² = 1/3·[1/3·(0+1+4) + 2/3·(4+1+0)] = 1/3·5 = 5/3
    # kappa = 1 − (1/3)/(5/3) = 0.8
    assert fidelity.weighted_kappa([1, 2, 3], [1, 3, 3], range(1, 6)) == pytest.approx(0.8)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_weighted_kappa_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 6, 25)
    b = np.clip(a + rng.choice([-2, -1, 0, 0, 1], 25), 1, 5)
    ours = fidelity.weighted_kappa(a, b, range(1, 6))
    assert ours == pytest.approx(cohen_kappa_score(a, b, weights="quadratic", labels=[1, 2, 3, 4, 5]), abs=1e-12)


def test_weighted_kappa_uses_true_score_distances_when_a_category_is_unused():
    # no 2s: the weights must still see 1 → 3 as two points apart
    a, b = [1, 3, 3, 4, 5, 1], [1, 3, 4, 4, 5, 3]
    ours = fidelity.weighted_kappa(a, b, range(1, 6))
    assert ours == pytest.approx(cohen_kappa_score(a, b, weights="quadratic", labels=[1, 2, 3, 4, 5]))
    assert ours != pytest.approx(cohen_kappa_score(a, b, weights="quadratic"))


@pytest.mark.parametrize("kappa, label", [(-0.1, "poor"), (0.0, "slight"), (0.2, "slight"), (0.21, "fair"),
                                          (0.6, "moderate"), (0.8, "substantial"), (0.81, "almost_perfect"),
                                          (1.0, "almost_perfect"), (float("nan"), None)])
def test_landis_koch(kappa, label):
    assert fidelity.landis_koch(kappa) == label


def test_agreement_and_disagreements():
    r1 = [3, 4, 5, 2, 1] + [3] * 20
    r2 = [3, 5, 3, 2, 4] + [3] * 20  # differences 0, 1, 2, 0, 3 then 0 × 20
    r2_items = all_items(r2)
    r2_items[25] = None  # rated by R1 only → not compared
    frame = pd.concat([review(all_items(r1), rater="R1"), review(r2_items, rater="R2"),
                       review(all_items(r1), rater="consensus")])
    items = fidelity.item_table(frame, IPS)
    row = fidelity.agreement(items, IPS).iloc[0]
    assert (row["rater_a"], row["rater_b"], row["n_items"]) == ("R1", "R2", 24)
    assert row["exact_agreement_pct"] == pytest.approx(100 * 21 / 24)  # items 1, 4, 6–24
    assert row["within_one_pct"] == pytest.approx(100 * 22 / 24)  # plus item 2
    expected = cohen_kappa_score(r1[:24], r2[:24], weights="quadratic", labels=[1, 2, 3, 4, 5])
    assert row["kappa_quadratic"] == pytest.approx(expected)
    assert row["interpretation"] == fidelity.landis_koch(expected)
    big = fidelity.disagreements(items)
    assert big["item"].tolist() == [3, 5] and big["difference"].tolist() == [2, 3]
    assert "short_name" not in big
    assert fidelity.disagreements(items, fidelity.Options(disagreement_points=3))["item"].tolist() == [5]


# -- change and development areas ----------------------------------------------------------------
def test_change_between_reviews_and_development_areas():
    first = all_items([3] * 25)
    first[4] = None
    second = all_items([4] * 25)
    second[1], second[2], second[3] = 2, 3, 5
    frame = pd.concat([review(first, date="2021-09-15"), review(second, date="2022-09-15"),
                       review(all_items([1] * 25), date="2022-09-15", rater="R1")])
    items = fidelity.item_table(frame, IPS)
    change = fidelity.change(items, fidelity.scores(items, IPS)).iloc[0]
    # before: 24 × 3 → mean 3, prorated 75; after: 2 + 3 + 5 + 22 × 4 = 98 → 98 / 25
    assert change["previous_prorated_total"] == pytest.approx(75.0)
    assert change["prorated_total"] == pytest.approx(98.0)
    assert change["change_mean_item_score"] == pytest.approx(98 / 25 - 3)
    # compared: 24 items (4 not rated first); item 1 declined (3→2), item 2 unchanged, the other 22 improved
    assert (change["n_items_compared"], change["n_improved"], change["n_declined"], change["n_unchanged"]) == \
        (24, 22, 1, 1)
    changed = fidelity.changed_items(items)
    assert changed.loc[changed["direction"].eq("declined"), "item"].tolist() == [1]
    assert changed["item"].iloc[0] == 3 and changed["change"].iloc[0] == 2  # largest improvement first
    # development areas: latest consensus (not R1's ones), below 4, lowest first
    dev = fidelity.development_areas(items)
    assert dev["item"].tolist() == [1, 2] and dev["score"].tolist() == [2, 3]
    assert dev["section"].tolist() == ["staffing", "staffing"]  # section ids: titles only in display
    strict = fidelity.development_areas(items, fidelity.Options(development_threshold=4.5))
    assert len(strict) == 24 and strict["item"].iloc[0] == 1


def test_single_rater_review_is_the_review_score():
    items = fidelity.item_table(review(all_items([4] * 25), rater="R1"), IPS)
    matrix = fidelity.item_matrix(items, IPS)
    assert matrix.columns.tolist() == ["item", "section", "s1 2022-01-10"]
    assert matrix["s1 2022-01-10"].tolist() == [4] * 25
    assert fidelity.agreement(items, IPS).empty and fidelity.change(items, fidelity.scores(items, IPS)).empty


# -- options and instruments -------------------------------------------------------------------
@pytest.mark.parametrize("values", [{"max_unrated_items": -1}, {"development_threshold": "four"},
                                    {"disagreement_points": 0}])
def test_options_rejects_bad_values(values):
    with pytest.raises(ValueError):
        fidelity.Options(**values)


def test_instrument_spec_with_gap_between_bands_is_rejected():
    spec = {"id": "bad", "title": {"fi": "x", "en": "x"}, "score_range": {"min": 1, "max": 5},
            "max_unrated_items": 0, "sections": [{"id": "a", "title": {"fi": "A", "en": "A"}}],
            "items": [{"number": 1, "section": "a", "short_name": {"fi": "x", "en": "x"}}],
            "bands": [{"code": "low", "min": 1, "max": 2}, {"code": "high", "min": 4, "max": 5}]}
    with pytest.raises(ParameterError, match="without gaps"):
        fidelity.load_instrument(spec)


CUSTOM = """\
id: mini5
kind: fidelity
title: {en: Mini criteria, fi: Minikriteerit}
reference: test instrument
score_range: {min: 0, max: 3}
bands:
  - {code: high, min: 11, max: 15}
  - {code: mid, min: 6, max: 10}
  - {code: low, min: 0, max: 5}
max_unrated_items: 1
sections:
  - {id: people, title: {en: People, fi: Ihmiset}}
  - {id: work, title: {en: Work, fi: Työ}}
items:
  - {number: 1, section: people, short_name: {en: One, fi: Yksi}}
  - {number: 2, section: people, short_name: {en: Two, fi: Kaksi}}
  - {number: 3, section: work, short_name: {en: Three, fi: Kolme}}
  - {number: 4, section: work, short_name: {en: Four, fi: Neljä}}
  - {number: 5, section: work, short_name: {en: Five, fi: Viisi}}
"""


def write_project(tmp_path, rows: str, extra: str = "") -> str:
    (tmp_path / "fidelity.csv").write_text("site_id,review_date,rater,item,score,na_reason\n" + rows,
                                           encoding="utf-8")
    params = tmp_path / "params.yaml"
    params.write_text("project_id: t\ntitle: T\ncutoff_date: 2022-12-31\ndata:\n  fidelity: fidelity.csv\n"
                      + extra, encoding="utf-8")
    return str(params)


def test_custom_instrument_is_scored_without_code_changes(tmp_path):
    (tmp_path / "mini5.yaml").write_text(CUSTOM, encoding="utf-8")
    rows = "".join(f"a,2022-05-01,consensus,{i},{s},{r}\n"
                   for i, s, r in [(1, 3, ""), (2, 3, ""), (3, 2, ""), (4, "", "not offered"), (5, 1, "")])
    project = load_project(write_project(tmp_path, rows, "instruments:\n  fidelity: mini5.yaml\n"
                                         "analyses:\n  fidelity:\n    development_threshold: 2\n"), "en")
    result = load_section("fidelity", project)
    row = result.scores.iloc[0]
    # 3 + 3 + 2 + 1 = 9 over 4 items: mean 2.25, prorated 2.25 × 5 = 11.25 → high (indicative)
    assert list(result.scores.columns) == fidelity.SCORE_COLUMNS + ["people", "work"]
    assert (row["total"], row["n_items_rated"]) == (9, 4)
    assert row["prorated_total"] == pytest.approx(11.25)
    assert row["band"] == "high" and row["band_is_indicative"]
    assert (row["people"], row["work"]) == (6, 3)
    assert result.development["item"].tolist() == [5]  # only item 5 scored below 2
    development = result.published()["fidelity_development"]
    assert development[["short_name_en", "section_title_en", "section_title_fi"]].iloc[0].tolist() == \
        ["Five", "Work", "Työ"]
    shown = result.published()["fidelity_sections"]
    assert shown["section_title_en"].tolist() == ["People", "Work"]
    assert shown["section_title_fi"].tolist() == ["Ihmiset", "Työ"]
    assert "high 11–15" in result.method_text("en")
    assert "not offered" not in result.published()["fidelity_unrated"].to_csv()


def test_custom_instrument_rejects_items_and_scores_outside_its_range(tmp_path):
    (tmp_path / "mini5.yaml").write_text(CUSTOM, encoding="utf-8")
    params = write_project(tmp_path, "a,2022-05-01,consensus,6,2,\na,2022-05-01,consensus,1,4,\n",
                           "instruments:\n  fidelity: mini5.yaml\n")
    with pytest.raises(DataError) as caught:
        load_project(params, "en")
    assert {(p.row, p.column) for p in caught.value.problems} == {(2, "item"), (3, "score")}


def test_fully_invalid_review_is_rejected_by_validation(tmp_path):
    # every score outside IPS-25's 1–5
    rows = "".join(f"s1,2022-05-01,consensus,{item},{score},\n"
                   for item, score in zip(range(1, 26), [0, 6, 7, 9, 10] * 5))
    with pytest.raises(DataError) as caught:
        load_project(write_project(tmp_path, rows), "en")
    problems = caught.value.problems
    assert len(problems) == 25
    assert {p.column for p in problems} == {"score"} and sorted(p.row for p in problems) == list(range(2, 27))


def test_misspelt_option_is_a_parameter_error(tmp_path):
    rows = "".join(f"s1,2022-05-01,consensus,{item},4,\n" for item in range(1, 26))
    with pytest.raises(ParameterError, match="did you mean 'development_threshold'"):
        load_project(write_project(tmp_path, rows, "analyses:\n  fidelity:\n    development_treshold: 3\n"))


def test_declared_reason_codes_are_published_and_free_text_is_not():
    """Reason codes declared in the instrument (and added in the parameters) are published with their
    labels; any other text becomes "reason recorded (not published)" (the section's table)."""
    from tyokyky_eval.sections.fidelity import NOT_PUBLISHED, reason_code

    declared = IPS.reason_labels({"no_coach": {"fi": "Ei valmentajaa", "en": "No coach"}})
    assert declared["no_psychiatric_team"]["fi"] == "Ei psykiatrista hoitotiimiä, johon integroitua"
    assert [reason_code(v, declared) for v in ("no_psychiatric_team", " Other ", "no_coach",
                                               "Matti Meikäläinen 131052-308T", "")] == [
        "no_psychiatric_team", "other", "no_coach", NOT_PUBLISHED, None]
    with pytest.raises(ValueError, match="needs labels fi and en"):
        fidelity.Options(na_reasons={"x": {"fi": "vain suomeksi"}})
    with pytest.raises(ValueError, match="not a code"):
        fidelity.Options(na_reasons={"two words": {"fi": "a", "en": "b"}})

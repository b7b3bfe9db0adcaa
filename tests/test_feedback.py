"""Feedback survey statistics against scipy, pingouin and hand computations (disclosure: test_section_feedback.py)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats

from tyokyky_eval.errors import ParameterError
from tyokyky_eval.stats import feedback as fb

SPECS = {sid: fb.load_survey(sid) for sid in ("development_group", "process_evaluation",
                                                "network_consultation_users")}


def frame(survey, item, rounds, group="staff", linked=True):
    """Long feedback rows from {round: [responses]} (respondent i answers position i of each round)."""
    rows = []
    for r, values in rounds.items():
        for i, v in enumerate(values):
            rid = f"R{i}" if linked else f"R{r}-{i}"
            rows.append({"survey_id": survey, "round": r, "respondent_group": group, "respondent_id": rid,
                         "item_id": item, "response": v})
    return pd.DataFrame(rows)


def test_item_summary_by_hand():
    # Essote development group, 'expectations met': 2, 3, 3, 3, 3, 4, 4, 4, 4, 4 → mean 3.4
    values = [2, 3, 3, 3, 3, 4, 4, 4, 4, 4]
    row = fb.item_summary(frame("development_group", "expectations_met", {1: values})).iloc[0]
    sd = np.sqrt(sum((v - 3.4) ** 2 for v in values) / 9)  # = sqrt(4.4 / 9)
    half = 2.2621571627409915 * sd / np.sqrt(10)  # t(0.975, 9) from tables
    assert row["n"] == 10 and row["mean"] == pytest.approx(3.4)
    assert row["sd"] == pytest.approx(np.sqrt(4.4 / 9))
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((3.4 - half, 3.4 + half))
    assert row["median"] == 3.5  # (3 + 4) / 2
    # type-7 quartiles: position 1 + 0.25·9 = 3.25 → 3; position 7.75 → 4
    assert (row["q1"], row["q3"]) == (3.0, 4.0)


def test_confidence_interval_matches_scipy():
    values = [1, 2, 4, 4, 4, 5, 5, 5, 5, 5]
    row = fb.item_summary(frame("development_group", "teams_as_tool", {1: values}), confidence=0.9).iloc[0]
    low, high = stats.t.interval(0.9, 9, loc=np.mean(values), scale=stats.sem(values))
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high))


def test_category_counts_and_shares_by_hand():
    values = [2, 3, 3, 3, 3, 4, 4, 4, 4, 4]
    counts = fb.category_counts(frame("development_group", "expectations_met", {1: values}), SPECS)
    assert counts["category"].tolist() == ["1", "2", "3", "4", "5"]
    assert counts["n"].tolist() == [0, 1, 4, 5, 0]
    assert counts["share"].tolist() == pytest.approx([0, 0.1, 0.4, 0.5, 0])


def test_merge_bands_below_centre_and_above():
    # 1 + 1 + 6 + 7 + 5 = 20 → bands 1–2 (2), 3 (6), 4–5 (12)
    values = [1, 2] + [3] * 6 + [4] * 7 + [5] * 5
    counts = fb.category_counts(frame("development_group", "expectations_met", {1: values}), SPECS)
    merged = fb.merge_bands(counts, fb.centre(fb.item_scale(SPECS["development_group"], "expectations_met")))
    assert merged["category"].tolist() == ["1–2", "3", "4–5"]
    assert merged["n"].tolist() == [2, 6, 12]
    assert merged["share"].tolist() == pytest.approx([0.1, 0.3, 0.6])
    assert merged.columns.tolist() == fb.CATEGORY_COLUMNS


def test_respondent_counts_with_and_without_ids():
    data = pd.concat([frame("development_group", "expectations_met", {1: [3, 4, None]}),
                      frame("development_group", "teams_as_tool", {1: [3, None, None]})], ignore_index=True)
    assert fb.respondent_counts(data)["n"].tolist() == [2]  # R0 and R1 answered something
    assert fb.respondent_counts(data.assign(respondent_id=None))["n"].tolist() == [2]
    assert fb.respondent_counts(data.assign(response=np.nan)).empty


def test_paired_rounds_wilcoxon_and_rank_biserial():
    first = [2, 3, 3, 2, 4, 3, 2, 3, 4, 3, 2, 3]
    last = [4, 3, 4, 3, 5, 4, 4, 3, 4, 5, 3, 2]
    row = fb.compare_rounds(frame("process_evaluation", "goals_clear", {1: first, 2: last})).iloc[0]
    reference = pg.wilcoxon(last, first)
    assert row["paired"] and row["test"] == "wilcoxon" and row["n_first"] == 12
    assert row["statistic"] == pytest.approx(stats.wilcoxon(np.subtract(last, first)).statistic)
    assert row["p"] == pytest.approx(reference["p_val"].item())
    assert row["effect_size"] == pytest.approx(reference["RBC"].item())


def test_unlinked_rounds_mann_whitney_and_cliffs_delta():
    first = [5, 6, 7, 7, 8, 8, 9]
    last = [6, 7, 8, 8, 9, 9, 10, 10]
    data = frame("network_consultation_users", "recommend", {1: first, 2: last}, linked=False)
    row = fb.compare_rounds(data).iloc[0]
    assert not row["paired"] and row["test"] == "mann_whitney"
    assert row["p"] == pytest.approx(stats.mannwhitneyu(last, first, alternative="two-sided").pvalue)
    # rank-biserial = Cliff's delta = P(last > first) − P(last < first), by brute force
    greater = sum(x > y for x in last for y in first)
    less = sum(x < y for x in last for y in first)
    assert row["effect_size"] == pytest.approx((greater - less) / (len(first) * len(last)))


def test_three_linked_rounds_friedman_kendall_w():
    rounds = {1: [2, 3, 3, 2, 4, 3, 2], 2: [3, 3, 4, 2, 4, 4, 3], 3: [4, 4, 4, 3, 5, 4, 3]}
    rows = fb.compare_rounds(frame("process_evaluation", "goals_clear", rounds)).set_index("rounds")
    long = pd.DataFrame([(i, r, v) for r, vs in rounds.items() for i, v in enumerate(vs)],
                        columns=["subject", "round", "value"])
    reference = pg.friedman(long, dv="value", within="round", subject="subject")
    assert rows.loc["all", "test"] == "friedman"
    assert rows.loc["all", "p"] == pytest.approx(reference["p_unc"].item())
    assert rows.loc["all", "effect_size"] == pytest.approx(reference["W"].item())
    assert rows.loc["1–3", "test"] == "wilcoxon"


def test_three_unlinked_rounds_kruskal_epsilon_squared():
    rounds = {1: [5, 6, 6, 7], 2: [6, 7, 8, 8, 9], 3: [8, 9, 9, 10]}
    data = frame("network_consultation_users", "recommend", rounds, group="professionals", linked=False)
    row = fb.compare_rounds(data).set_index("rounds").loc["all"]
    h = stats.kruskal(*rounds.values()).statistic
    assert row["test"] == "kruskal" and row["statistic"] == pytest.approx(h)
    assert row["effect_size"] == pytest.approx(h / (13 - 1))


def test_out_of_scale_and_unknown_items():
    data = pd.concat([frame("development_group", "expectations_met", {1: [0, 3, 5, 6, 2.5]}),
                      frame("development_group", "no_such_item", {1: [3]})], ignore_index=True)
    assert fb.out_of_scale(data, SPECS).tolist() == [True, False, False, True, True, True]


def test_every_builtin_spec_loads_and_bad_specs_are_explained(tmp_path):
    for sid in fb.builtin_surveys():
        spec = fb.load_survey(sid)
        assert spec["id"] == sid and all(i["text"]["fi"] and i["text"]["en"] for i in spec["items"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\nscales: {s: {type: likert, min: 1, max: 5, neutral: 7}}\nitems: [{id: a, scale: t}]\n")
    with pytest.raises(ParameterError) as info:
        fb.load_survey("bad.yaml", tmp_path)
    text = str(info.value)
    assert "type must be one of" in text and "unknown scale 't'" in text
    with pytest.raises(ParameterError, match="built-in specs are"):
        fb.load_survey("no_such_survey")
    with pytest.raises(ValueError, match="confidence"):
        fb.Options(confidence=95)


def test_answers_of_every_kind_count_respondents_and_dont_know_is_counted_apart():
    spec = fb.load_survey("process_evaluation")
    rows = [("a", "goals_clear", 4.0, False, None, None, None), ("b", "goals_clear", np.nan, True, None, None, None),
            ("c", "useful_activities", np.nan, False, "trainings", None, None),
            ("c", "useful_activities", np.nan, False, "workshops", None, None),
            ("d", "successes", np.nan, False, None, "Hyvin meni", "cooperation;client_work"),
            ("e", "successes", np.nan, False, None, "", "cooperation"), ("f", "goals_clear", np.nan, False, None, None, None)]
    data = pd.DataFrame(rows, columns=["respondent_id", "item_id", "response", "not_applicable", "option", "answer",
                                       "themes"]).assign(survey_id="process_evaluation", round=1,
                                                         respondent_group="staff")
    assert fb.respondent_counts(data)["n"].tolist() == [5]  # f left everything empty
    assert fb.respondent_counts(data)["site"].tolist() == [fb.ALL_SITES]
    assert fb.not_applicable_counts(data)["n_not_applicable"].tolist() == [1]
    assert fb.item_summary(data)["n"].tolist() == [1]
    themes = fb.theme_counts(data, {"process_evaluation": spec}).set_index("theme")
    assert themes["n"].to_dict() == {"cooperation": 2, "client_work": 1, "competence": 0, "resources": 0, "other": 0}
    assert (themes["n_answers"] == 2).all() and (themes["n"] + themes["n_not_coded"] == 2).all()
    choices = fb.choice_shares(data, {"process_evaluation": spec}).set_index("option")
    assert choices.loc["trainings", "share"] == 1.0 and choices.loc["materials", "n"] == 0
    assert fb.open_answers(data, {"process_evaluation": spec})["answer"].tolist() == ["Hyvin meni", ""]

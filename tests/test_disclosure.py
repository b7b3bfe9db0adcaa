"""Disclosure control on hand-made tables; expected cells are worked out in the comments."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tyokyky_eval.disclosure import (count_text, rule_sentence, suppress_counts, suppression_mask,
                                     withhold_rows)


def test_primary_only_by_default():
    frame = pd.DataFrame({"group": list("abcd"), "n": [10, 3, 0, 7], "share": [50.0, 15.0, 0.0, 35.0]})
    out = suppress_counts(frame, ["n"], 5, dependent={"n": ["share"]})
    assert out["n"].tolist() == [10, "<5", 0, 7]  # zero reveals nothing, stays
    assert out["share"].isna().tolist() == [False, True, False, False]


def test_secondary_in_a_column_with_published_total():
    # 10 + 3 + 8 + 6 = 27 is published: 27 − 10 − 8 − 6 would give the 3 back, so the next smallest
    # count (6) is hidden as well; then the column has two hidden cells and is safe.
    frame = pd.DataFrame({"reason": ["a", "b", "c", "d", "total"], "n": [10, 3, 8, 6, 27],
                          "share": [37.0, 11.1, 29.6, 22.2, 100.0]})
    out = suppress_counts(frame, ["n"], 5, dependent={"n": ["share"]}, margins="columns", total_row=4)
    assert out["n"].tolist() == [10, "<5", 8, "<5", 27]
    assert out["share"].isna().tolist() == [False, True, False, True, False]


def test_secondary_prefers_non_zero_cells_and_falls_back_to_the_total():
    # column x: 2 hidden; zeros left only → a zero is hidden (0 or 2 cannot be told apart)
    # column y: 4 hidden; no other cell → the total (4) itself is hidden
    counts = pd.DataFrame({"x": [2, 0, 0, 2], "y": [4, np.nan, np.nan, 4]}, index=["r1", "r2", "r3", "all"])
    mask = suppression_mask(counts, 5, margins="columns", total_row="all")
    assert mask["x"].tolist() == [True, True, False, True]  # the total 2 is itself small (primary)
    assert mask["y"].tolist() == [True, False, False, True]


def test_secondary_propagates_across_rows_and_columns():
    # Cross-table with published row and column totals (not in the table).
    #        c1  c2  c3
    # r1      2  20  30     2 is small → row r1 hides 20 (next smallest), column c1 hides 7
    # r2      7   9  40     then r2 has one hidden (7) → hides 9; column c2 now has 20 and 9 hidden
    # r3     12  25   6
    counts = pd.DataFrame({"c1": [2, 7, 12], "c2": [20, 9, 25], "c3": [30, 40, 6]}, index=["r1", "r2", "r3"])
    mask = suppression_mask(counts, 5, margins="both")
    expected = pd.DataFrame({"c1": [True, True, False], "c2": [True, True, False], "c3": [False, False, False]},
                            index=counts.index)
    pd.testing.assert_frame_equal(mask, expected)


def test_rows_margin_uses_total_column():
    frame = pd.DataFrame({"men": [3, 12], "women": [9, 11], "all": [12, 23]})
    out = suppress_counts(frame, ["men", "women", "all"], 5, margins="rows", total_column="all")
    assert out.loc[0].tolist() == ["<5", "<5", 12]
    assert out.loc[1].tolist() == [12, 11, 23]


@settings(max_examples=60, deadline=None)
@given(arrays(np.int64, st.tuples(st.integers(1, 5), st.integers(1, 5)), elements=st.integers(0, 12)))
def test_no_line_is_left_with_a_single_hidden_cell(values):
    mask = suppression_mask(pd.DataFrame(values), 5, margins="both").to_numpy()
    assert (mask | ~((values > 0) & (values < 5))).all()  # every primary cell stays hidden
    for line in [*mask, *mask.T]:
        # a line of one cell is its own total: nothing else in it could protect it
        assert line.sum() != 1 or line.size == 1


def test_bad_margins_name_is_an_error():
    with pytest.raises(ValueError, match="margins"):
        suppression_mask(pd.DataFrame({"n": [1]}), 5, margins="column")


def test_withhold_rows_below_followup_threshold():
    frame = pd.DataFrame({"n_pairs": [9, 10], "mean_change": [0.4, 0.3]})
    out = withhold_rows(frame, "n_pairs", 10, ["mean_change"])
    assert out["mean_change"].isna().tolist() == [True, False]


def test_count_text_and_rule_sentence():
    assert [count_text(n, 5) for n in (0, 1, 4, 5, 35)] == ["0", "<5", "<5", "5", "35"]
    fi, en = rule_sentence(5, 10, "fi"), rule_sentence(3, 12, "en")
    assert "1–4" in fi and "<5" in fi and "alle 10" in fi
    assert "1 to 2" in en and "<3" in en and "fewer than 12" in en

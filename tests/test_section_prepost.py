"""Attack tests of the pre/post section: from ``section.published()`` alone, with every relation an
attacker knows, no suppressed count is determined (integer linear programming), no withheld
follow-up summary comes back as "all clients minus the published subgroups", and what is published
equals the internal (full-precision) values."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from tyokyky_eval import load_section, publication
from tyokyky_eval.inputs.project import load_project

COUNTS = {
    "prepost_timepoint_counts": ("n_measurements",),
    "prepost_attrition": ("n_due", "n_measured", "n_not_measured", "n_with_baseline", "n_without_baseline"),
    "prepost_timepoints": ("n",),
    "prepost_summary": ("n_pairs", "n_reliable_improved", "n_no_reliable_change", "n_reliable_worsened"),
    "prepost_individual": ("n_pairs", "n_reliable_improved", "n_no_reliable_change", "n_reliable_worsened"),
    "prepost_completion": ("n_completers", "n_noncompleters", "n_not_due"),
    "prepost_mixed": ("n_at_timepoint", "completers_n_pairs"),
    "prepost_subgroups": ("n_pairs",),
}
RELIABLE = ("n_reliable_improved", "n_no_reliable_change", "n_reliable_worsened")


def make_section(project_files, min_cell: int, clients: int = 24):
    files = project_files
    files.params["disclosure"] = {"min_cell": min_cell, "min_followup": max(10, min_cell)}
    files.params["analyses"] = {"prepost": {"subgroup": "referral_source"}}
    return load_section("prepost", load_project(files.save_params(), "en")).cohorts["ips"]  # one service


@pytest.fixture(params=[3, 5, 10], ids=lambda m: f"min_cell_{m}")
def section(project_files, request):
    return make_section(project_files, request.param)


class Attack:
    """Integer program over the section's count cells: published values fixed, protected ones free
    (``<m`` means 1…m−1), with the relations between the tables."""

    def __init__(self, published: dict, rules: publication.Rules):
        self.index, self.bounds, self.eq, self.ub = {}, [], [], []
        self.hidden = []
        for name, columns in COUNTS.items():
            frame = published.get(name)
            if frame is None:
                continue
            for column in columns:
                for row, value in enumerate(frame[column]):
                    cell = (name, row, column)
                    if value == rules.symbol(publication.PRIMARY):
                        bound = (1, rules.min_cell - 1)
                    elif publication.is_symbol(value, rules):
                        bound = (0, 10_000)
                    elif value is None or value is pd.NA or pd.isna(value):
                        continue
                    else:
                        bound = (float(value), float(value))
                    self.index[cell] = len(self.bounds)
                    self.bounds.append(bound)
                    if bound[0] != bound[1]:
                        self.hidden.append(cell)

    def relation(self, plus, minus=(), inequality=False) -> None:
        """sum(plus) − sum(minus) = 0 (or ≤ 0); cells that are not estimable are left out."""
        if not all(c in self.index for c in (*plus, *minus)):
            return
        row = np.zeros(len(self.bounds))
        for c in plus:
            row[self.index[c]] += 1
        for c in minus:
            row[self.index[c]] -= 1
        (self.ub if inequality else self.eq).append(row)

    def range(self, cell) -> tuple[float, float]:
        out = []
        for sign in (1, -1):
            c = np.zeros(len(self.bounds))
            c[self.index[cell]] = sign
            res = linprog(c, A_ub=np.array(self.ub) if self.ub else None, b_ub=np.zeros(len(self.ub)) if self.ub else None,
                          A_eq=np.array(self.eq) if self.eq else None, b_eq=np.zeros(len(self.eq)) if self.eq else None,
                          bounds=self.bounds, integrality=np.ones(len(self.bounds)), method="highs")
            assert res.status == 0, res.message  # the published tables are consistent
            out.append(sign * res.fun)
        return out[0], out[1]


def attack(section) -> Attack:
    published = section.published()
    a = Attack(published, section.rules)
    counts = published["prepost_timepoint_counts"]
    n = len(counts)
    a.relation([("prepost_timepoint_counts", i, "n_measurements") for i in range(n - 1)],
               [("prepost_timepoint_counts", n - 1, "n_measurements")])
    attrition = published["prepost_attrition"]
    for i, tp in enumerate(attrition["timepoint"]):
        t = ("prepost_attrition", i)
        a.relation([(*t, "n_measured"), (*t, "n_not_measured")], [(*t, "n_due")])
        a.relation([(*t, "n_with_baseline"), (*t, "n_without_baseline")], [(*t, "n_measured")])
        j = list(counts["category"]).index(tp)
        a.relation([("prepost_timepoint_counts", j, "n_measurements")], [(*t, "n_measured")])
    times = published["prepost_timepoints"]
    tp_row = {(m, tp): i for i, (m, tp) in enumerate(zip(times["measure"], times["timepoint"]))}
    for (m, tp), i in tp_row.items():  # clients measured on a measure ≤ clients measured
        j = list(attrition["timepoint"]).index(tp)
        a.relation([("prepost_timepoints", i, "n")], [("prepost_attrition", j, "n_measured")], inequality=True)
    summary = published["prepost_summary"]
    sum_row = {(m, c): i for i, (m, c) in enumerate(zip(summary["measure"], summary["comparison"]))}
    for (m, c), i in sum_row.items():
        s = ("prepost_summary", i)
        a.relation([(*s, r) for r in RELIABLE], [(*s, "n_pairs")])
        for column in ("n_pairs", *RELIABLE):
            a.relation([(*s, column)], [("prepost_individual", i, column)])
        pre, post = c.split("_")
        for tp in (pre, post):
            a.relation([(*s, "n_pairs")], [("prepost_timepoints", tp_row[(m, tp)], "n")], inequality=True)
        if pre == "baseline":
            j = list(attrition["timepoint"]).index(post)
            a.relation([(*s, "n_pairs")], [("prepost_attrition", j, "n_with_baseline")], inequality=True)
    completion = published["prepost_completion"]
    for i, (m, c) in enumerate(zip(completion["measure"], completion["comparison"])):
        k = ("prepost_completion", i)
        a.relation([(*k, "n_completers"), (*k, "n_noncompleters"), (*k, "n_not_due")],
                   [("prepost_timepoints", tp_row[(m, c.split("_")[0])], "n")])
        a.relation([(*k, "n_completers")], [("prepost_summary", sum_row[(m, c)], "n_pairs")])
    mixed = published["prepost_mixed"]
    for i, (m, tp) in enumerate(zip(mixed["measure"], mixed["timepoint"])):
        a.relation([("prepost_mixed", i, "n_at_timepoint")], [("prepost_timepoints", tp_row[(m, tp)], "n")])
        if (m, f"baseline_{tp}") in sum_row:
            a.relation([("prepost_mixed", i, "completers_n_pairs")],
                       [("prepost_summary", sum_row[(m, f"baseline_{tp}")], "n_pairs")])
    sub = published.get("prepost_subgroups")
    if sub is not None:
        for (m, c), part in sub.groupby(["measure", "comparison"], sort=False):
            a.relation([("prepost_subgroups", int(i), "n_pairs") for i in part.index],
                       [("prepost_summary", sum_row[(m, c)], "n_pairs")])
    return a


def test_no_suppressed_count_is_determined(section):
    a = attack(section)
    assert a.hidden, "the synthetic project should have protected counts"
    internal = section.internal()
    for cell in a.hidden:
        true = internal[cell[0]].reset_index(drop=True).at[cell[1], cell[2]]
        if pd.isna(true):  # not estimable (e.g. no reliable-change rating): nothing to reveal
            continue
        low, high = a.range(cell)
        assert low <= true <= high
        assert high > low, f"{cell} is determined ({true:g}) by the published tables"


def test_withheld_subgroup_summaries_are_never_alone(section):
    """Overall = weighted sum of the subgroups: in every measure × comparison whose overall summary
    is published, the withheld subgroups with pairs are none or at least two."""
    published = section.published()
    sub = published.get("prepost_subgroups")
    if sub is None:
        pytest.skip("one subgroup left after combining")
    summary = published["prepost_summary"].set_index(["measure", "comparison"])
    internal = section.subgroups
    for (m, c), part in sub.groupby(["measure", "comparison"], sort=False):
        if publication.is_symbol(summary.at[(m, c), "mean_change"], section.rules):
            continue
        hidden = [i for i in part.index if part.at[i, "mean_change"] == ".." and internal.at[i, "n_pairs"] > 0]
        assert len(hidden) != 1, (m, c)


def test_followup_summaries_need_min_followup(section):
    published = section.published()
    follow = section.rules.min_followup
    for name, n_column, stat in (("prepost_summary", "n_pairs", "mean_change"), ("prepost_timepoints", "n", "mean"),
                                 ("prepost_mixed", "n_at_timepoint", "estimate"),
                                 ("prepost_individual", "n_pairs", "share_reliable_improved")):
        internal = section.internal()[name].reset_index(drop=True)
        small = pd.to_numeric(internal[n_column], errors="coerce").lt(follow).to_numpy()
        shown = published[name][stat].map(lambda v: not publication.is_symbol(v, section.rules)).to_numpy()
        assert not (small & shown).any(), name


def test_published_equals_internal_where_not_protected(section):
    published, internal = section.published(), section.internal()
    for name, frame in published.items():
        full = internal[name].reset_index(drop=True)[frame.columns]
        for column in frame.columns:
            for row, value in enumerate(frame[column]):
                if publication.is_symbol(value, section.rules):
                    continue
                expected = full.at[row, column]
                if pd.isna(expected):
                    assert pd.isna(value), (name, row, column)
                else:
                    assert value == pytest.approx(expected) if isinstance(expected, float) else value == expected


def test_figures_use_published_values_only(project_files):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    section = make_section(project_files, 5)
    for caption, fig in section.figures("en"):
        for ax in fig.axes:
            for text in ax.texts:  # no count label in a figure
                assert not any(ch.isdigit() for ch in text.get_text().replace("10", "")), text.get_text()
    plt.close("all")
    published = section.published()["prepost_timepoints"]
    shown = published[published["mean"].map(lambda v: isinstance(v, float) and not np.isnan(v))]
    assert (section.timepoints.loc[shown.index, "n"] >= section.rules.min_followup).all()

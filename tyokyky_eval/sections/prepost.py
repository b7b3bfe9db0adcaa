"""Section "Kykyviisari pre/post": the statistics of :mod:`tyokyky_eval.stats.prepost`, published safely.

What is published, and why (issue 12's rules, decided jointly for the section's tables):

- **Counts** below ``min_cell`` are suppressed, and every relation an attacker knows is a line of
  the publication layer, so no suppressed count comes back by subtraction: measurements by
  timepoint add up to all measurements; due = measured + not measured and measured = with + without
  baseline (attrition); reliably improved + no reliable change + worsened = pairs (the change and the
  individual-change tables); completers + not measured + not yet due = clients measured at the
  pre timepoint (completion table against the timepoint means); the subgroups' pairs add up to the
  pairs of all clients; equal counts shown in two tables (measured at a timepoint, pairs) are one.
- **Follow-up rule** (Kykyviisari's own): every summary of fewer than ``min_followup`` clients
  (pairs, timepoint means, the mixed model at a timepoint, completers) is withheld (``..``), with
  the reliable-change counts and shares. Subgroup rows of one measure × comparison are parts of the
  all-clients row: when one is withheld, a second one is too (complementary withholding), so
  "all minus the published subgroups" gives no withheld subgroup back. Subgroups with fewer than
  ``min_cell`` clients are combined first (``other_groups``).
- Every statistic computed from a suppressed count is withheld with it (shares, means, SDs,
  quantiles, CIs, tests, effect sizes). Holm's correction is taken over the published rows of a
  comparison only, so a published adjusted p-value does not depend on a withheld one.
- **Figures** are drawn from published values only: timepoint means with their CIs, the shares of
  reliable change (no histogram of individual changes: its bars would count single clients), and
  the domain profile.

Per service: one :class:`Cohort` per service whose analyses include ``prepost``; every table has a
``service`` column first (Kykyviisari coverage, attrition and change of the services side by
side), each service's findings come under its own heading, and no row pools the services.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from tyokyky_eval import publication
from tyokyky_eval.i18n import code_label, fmt_number, fmt_percent, has_text, t
from tyokyky_eval.inputs.dictionary import instrument
from tyokyky_eval.sections.per_service import PerServiceSection, captioned, heading
from tyokyky_eval.stats import prepost as pp

OTHER_GROUPS = "other_groups"
NS = "prepost"
CODE_COLUMNS = ("measure", "comparison", "timepoint", "category")
SHOW_CHANGE = ["measure", "comparison", "n_pairs", "mean_pre", "mean_post", "mean_change", "change_ci_low",
               "change_ci_high", "t_p", "wilcoxon_p", "p_holm", "dz", "dz_ci_low", "dz_ci_high", "gz"]
INDIVIDUAL_COLUMNS = ["measure", "comparison", "n_pairs", "median_change", "change_q1", "change_q3",
                      "rc_threshold", "n_reliable_improved", "n_no_reliable_change", "n_reliable_worsened",
                      "share_reliable_improved", "share_no_reliable_change", "share_reliable_worsened"]
SHOW_INDIVIDUAL = INDIVIDUAL_COLUMNS[:10]
SHOW_ATTRITION = ["timepoint", "n_due", "n_measured", "n_not_measured", "share_measured", "n_with_baseline"]
SHOW_COMPLETION = ["measure", "comparison", "n_completers", "mean_completers", "n_noncompleters",
                   "mean_noncompleters", "n_not_due", "smd"]
MIXED_PUBLISHED = ["measure", "timepoint", "n_at_timepoint", "estimate", "se", "ci_low", "ci_high", "p",
                   "completers_n_pairs", "completers_change", "completers_ci_low", "completers_ci_high"]
SHOW_MIXED = [c for c in MIXED_PUBLISHED if c != "se"]
DECIMALS = {"t_p": 3, "wilcoxon_p": 3, "p_holm": 3, "p": 3, "dz": 2, "dz_ci_low": 2, "dz_ci_high": 2,
            "gz": 2, "smd": 2, "share_measured": 2, "estimate": 2, "se": 2, "ci_low": 2, "ci_high": 2,
            "mean_change": 2, "change_ci_low": 2, "change_ci_high": 2, "completers_change": 2,
            "completers_ci_low": 2, "completers_ci_high": 2, "rc_threshold": 1}
#: statistics of a paired summary row (withheld with n_pairs and by the follow-up rule)
PAIRED_STATS = tuple(c for c in pp.SUMMARY_COLUMNS[3:] + pp.SUMMARY_EXTRA if c != "reliability")
RELIABLE = tuple(pp.RELIABLE_COUNTS)
SHARES = tuple(pp.RELIABLE_COUNTS.values())


def holm_published(summary: pd.DataFrame, min_followup: int) -> pd.Series:
    """Holm-adjusted t-test p-values over the rows of each comparison that may be published
    (``n_pairs`` ≥ ``min_followup``); NaN elsewhere (:func:`tyokyky_eval.stats.prepost.holm`)."""
    out = pd.Series(np.nan, index=summary.index)
    shown = summary["n_pairs"].fillna(0).ge(min_followup) & summary["t_p"].notna()
    for _, group in summary[shown].groupby("comparison", sort=False):
        out.loc[group.index] = pp.holm(group["t_p"])
    return out


def _sum_lines(frame: pd.DataFrame, parts, whole: str) -> tuple[publication.Line, ...]:
    """One line per row: ``parts`` add up to ``whole``, all as cells of the line, so that a hidden
    whole with open parts is protected too (``publication`` does not act on a hidden total alone)."""
    return tuple(publication.Line(tuple((i, c) for c in (*parts, whole))) for i in range(len(frame)))


def _same(a, b) -> tuple[publication.Line, ...]:
    """Two cells (``(table, row, column)``) that always hold the same count: hiding one hides the other."""
    return publication.Line((a,), b), publication.Line((b,), a)


class Cohort:
    """The clients of one service and their Kykyviisari measurements: every statistic of the
    section, its tables (without the ``service`` column), links, texts and figures;
    ``published`` gives this service's rows of the section's published tables."""

    def __init__(self, project, rules: publication.Rules, service, published):
        self.project, self.rules, self.service, self._published = project, rules, service, published
        params = project.params
        self.options = options = params.options("prepost")
        self.measures = measures = pp.measure_table(instrument(params.instrument("kykyviisari")), options)
        clients, kyky = project.table("clients"), project.table("kykyviisari")
        clients = clients[clients["service"].astype("string").eq(service.code).fillna(False)]
        kyky = kyky[kyky["client_id"].isin(clients["client_id"])]
        self.assigned = assigned = pp.assign_timepoints(kyky, clients, options)
        self.counts = pp.assignment_counts(assigned)
        self.timepoints = pp.timepoint_summary(assigned, measures)
        self.changes = changes = pp.paired_changes(assigned, measures, options)
        summary = pp.paired_summary(changes, measures, options)
        summary["p_holm"] = holm_published(summary, self.rules.min_followup)
        self.summary = summary
        status = pp.eligibility(clients, assigned, options, params.cutoff_date)
        self.attrition = pp.attrition(status)
        self.completion = pp.baseline_by_completion(assigned, status, measures, options)
        self.mixed = pp.mixed_models(assigned, measures, summary)
        self.subgroup = options.subgroup
        self.subgroups = None
        if options.subgroup:
            codes = clients[options.subgroup].astype("string").fillna("missing")
            codes = publication.collapse_small_groups(codes, self.rules.min_cell, OTHER_GROUPS)
            if codes.nunique() >= 2:  # one group is everyone
                groups = pd.Series(codes.to_numpy(), index=clients["client_id"].to_numpy(), name=options.subgroup)
                self.subgroups = pp.subgroup_summary(changes, groups, measures, options)

    # -- tables ----------------------------------------------------------------------------------
    def internal(self) -> dict[str, pd.DataFrame]:
        """Full precision: every table with every column (the mixed model with its sizes and
        convergence flag); Holm's correction as published (over the published rows)."""
        out = {table.name: table.data for table in self.tables()}
        out["prepost_mixed"] = self.mixed
        out["prepost_summary"] = self.summary
        out["prepost_individual"] = self.summary[INDIVIDUAL_COLUMNS]
        return out

    def _subgroup_rows(self) -> pd.DataFrame:
        """Subgroup rows of the measure × comparisons whose all-clients summary is published
        (n_pairs ≥ ``min_followup``): the breakdown of a withheld summary adds only small counts,
        and their ``<5`` symbols (each "at least 1") under a small total could pin them down."""
        enough = self.summary.loc[self.summary["n_pairs"].fillna(0).ge(self.rules.min_followup),
                                  ["measure", "comparison"]]
        keys = set(zip(enough["measure"], enough["comparison"]))
        sub = self.subgroups
        keep = [k in keys for k in zip(sub["measure"], sub["comparison"])]
        return sub[keep].reset_index(drop=True)

    def _followup_counts(self, summary: pd.DataFrame) -> pd.DataFrame:
        """The reliable-change counts of a summary below ``min_followup`` pairs are follow-up results:
        withheld whole (``..``), not shown as ``<5`` (which would tell the attacker "at least 1"
        per category and, with the total's own ``<5``, could pin the counts down)."""
        out = summary.copy()
        small = out["n_pairs"].fillna(0).lt(self.rules.min_followup)
        for column in (*RELIABLE, "n_zero_change"):
            out[column] = out[column].astype("Int64").mask(small)
        return out

    def tables(self) -> list[publication.Table]:
        follow = {"min_n": self.rules.min_followup}
        counts = self.counts
        summary = self._followup_counts(self.summary.reset_index(drop=True))
        individual = summary[INDIVIDUAL_COLUMNS]
        reliable_lines = _sum_lines(summary, RELIABLE, "n_pairs")
        mixed = self.mixed[MIXED_PUBLISHED] if len(self.mixed) else pd.DataFrame(columns=MIXED_PUBLISHED)
        completion_stats = ("mean_completers", "sd_completers", "smd")
        noncompletion_stats = ("mean_noncompleters", "sd_noncompleters", "smd")
        tables = [
            publication.Table("prepost_timepoint_counts", counts, "prepost.caption_counts", counts=("n_measurements",),
                              lines=(publication.Line(tuple((i, "n_measurements") for i in range(len(counts)))),),
                              code_columns=CODE_COLUMNS, namespace=NS),
            publication.Table("prepost_attrition", self.attrition, "prepost.caption_attrition",
                              counts=("n_due", "n_measured", "n_not_measured", "n_with_baseline",
                                      "n_without_baseline"),
                              derived={c: ("share_measured",) for c in ("n_due", "n_measured", "n_not_measured")},
                              lines=_sum_lines(self.attrition, ["n_measured", "n_not_measured"], "n_due")
                              + _sum_lines(self.attrition, ["n_with_baseline", "n_without_baseline"], "n_measured"),
                              columns=tuple(SHOW_ATTRITION), decimals=DECIMALS, code_columns=CODE_COLUMNS,
                              namespace=NS),
            publication.Table("prepost_timepoints", self.timepoints, "prepost.caption_timepoints", counts=("n",),
                              derived={"n": ("mean", "sd", "ci_low", "ci_high")},
                              followup={"n": ("mean", "sd", "ci_low", "ci_high")},
                              note="prepost.note_followup", note_values=follow,
                              code_columns=CODE_COLUMNS, namespace=NS, key=("n",)),
            publication.Table("prepost_summary", summary, "prepost.caption_change",
                              counts=("n_pairs", "n_zero_change", *RELIABLE),
                              derived={"n_pairs": PAIRED_STATS, **{c: (s,) for c, s in pp.RELIABLE_COUNTS.items()}},
                              followup={"n_pairs": (*PAIRED_STATS, *RELIABLE, "n_zero_change")},
                              lines=reliable_lines, note="prepost.note_holm", note_values=follow,
                              columns=tuple(SHOW_CHANGE), decimals=DECIMALS, code_columns=CODE_COLUMNS,
                              namespace=NS, key=("n_pairs",)),
            publication.Table("prepost_individual", individual, "prepost.caption_individual",
                              counts=("n_pairs", *RELIABLE),
                              derived={"n_pairs": tuple(INDIVIDUAL_COLUMNS[3:]),
                                       **{c: (s,) for c, s in pp.RELIABLE_COUNTS.items()}},
                              followup={"n_pairs": tuple(INDIVIDUAL_COLUMNS[3:])},
                              lines=_sum_lines(individual, RELIABLE, "n_pairs"),
                              note="prepost.note_followup", note_values=follow,
                              columns=tuple(SHOW_INDIVIDUAL), decimals=DECIMALS, code_columns=CODE_COLUMNS,
                              namespace=NS, key=("n_pairs",)),
            publication.Table("prepost_completion", self.completion, "prepost.caption_completion",
                              counts=("n_completers", "n_noncompleters", "n_not_due"),
                              derived={"n_completers": completion_stats, "n_noncompleters": noncompletion_stats},
                              followup={"n_completers": completion_stats + noncompletion_stats},
                              columns=tuple(SHOW_COMPLETION), decimals=DECIMALS, code_columns=CODE_COLUMNS,
                              namespace=NS, key=("n_completers",)),
            publication.Table("prepost_mixed", mixed, "prepost.caption_mixed",
                              counts=("n_at_timepoint", "completers_n_pairs"),
                              derived={"n_at_timepoint": ("estimate", "se", "ci_low", "ci_high", "p"),
                                       "completers_n_pairs": ("completers_change", "completers_ci_low",
                                                              "completers_ci_high")},
                              followup={"n_at_timepoint": ("estimate", "se", "ci_low", "ci_high", "p"),
                                        "completers_n_pairs": ("completers_change", "completers_ci_low",
                                                               "completers_ci_high")},
                              columns=tuple(SHOW_MIXED), decimals=DECIMALS, code_columns=CODE_COLUMNS,
                              namespace=NS, key=("n_at_timepoint", "completers_n_pairs")),
        ]
        if self.subgroups is not None:
            sub = self._subgroup_rows()
            keys = list(zip(sub["measure"], sub["comparison"]))
            parts = tuple(tuple(i for i, k in enumerate(keys) if k == key) for key in dict.fromkeys(keys))
            stats = tuple(pp.SUBGROUP_COLUMNS[3:])
            tables.append(publication.Table(
                "prepost_subgroups", sub, "prepost.caption_subgroups", counts=("n_pairs",),
                derived={"n_pairs": stats}, followup={"n_pairs": stats}, followup_lines=parts,
                caption_values={"column": self._column_name(self.project.language)},
                note="prepost.note_subgroups", note_values={**follow, "min_cell": self.rules.min_cell},
                decimals=DECIMALS, code_columns=(*CODE_COLUMNS, self.subgroup), namespace=NS, key=("n_pairs",)))
        return tables

    def _row(self, frame: pd.DataFrame, **where) -> int | None:
        mask = np.ones(len(frame), dtype=bool)
        for column, value in where.items():
            mask &= frame[column].to_numpy() == value
        rows = np.flatnonzero(mask)
        return int(rows[0]) if len(rows) else None

    def links(self) -> tuple[publication.Line, ...]:
        """Relations across the tables (module docstring); what the single-line rule misses (a
        ``<5`` pinned by its range, chains of tables) is left to the appendix's audit, which knows
        :meth:`audit_relations`."""
        return self._base_links()

    def audit_relations(self) -> list:
        """:meth:`_relations` as ``(terms, low, high)``."""
        eq, ub = self._relations(self.tables())
        return [([(1.0, c) for c in plus] + [(-1.0, c) for c in minus], low, 0.0)
                for relations, low in ((eq, 0.0), (ub, -np.inf)) for plus, minus in relations]

    # -- the relations an attacker knows ----------------------------------------------------------
    def _relations(self, tables) -> tuple[list, list]:
        """(equalities, inequalities) an attacker knows between count cells, each ``(plus, minus)``:
        sum(plus) = sum(minus), or sum(plus) ≤ sum(minus)."""
        frames = {table.name: table.data.reset_index(drop=True) for table in tables}
        eq, ub = [], []
        counts, attrition, times = (frames[n] for n in ("prepost_timepoint_counts", "prepost_attrition",
                                                        "prepost_timepoints"))
        last = len(counts) - 1
        eq.append(([("prepost_timepoint_counts", i, "n_measurements") for i in range(last)],
                   [("prepost_timepoint_counts", last, "n_measurements")]))
        tp_index = {tp: i for i, tp in enumerate(attrition["timepoint"])}
        for i, tp in enumerate(attrition["timepoint"]):
            a = ("prepost_attrition", i)
            eq.append(([(*a, "n_measured"), (*a, "n_not_measured")], [(*a, "n_due")]))
            eq.append(([(*a, "n_with_baseline"), (*a, "n_without_baseline")], [(*a, "n_measured")]))
            j = self._row(counts, category=tp)
            eq.append(([("prepost_timepoint_counts", j, "n_measurements")], [(*a, "n_measured")]))
        tp_row = {(m, tp): i for i, (m, tp) in enumerate(zip(times["measure"], times["timepoint"]))}
        for (m, tp), i in tp_row.items():
            ub.append(([("prepost_timepoints", i, "n")], [("prepost_attrition", tp_index[tp], "n_measured")]))
        summary = frames["prepost_summary"]
        sum_row = {(m, c): i for i, (m, c) in enumerate(zip(summary["measure"], summary["comparison"]))}
        for (m, c), i in sum_row.items():
            row = ("prepost_summary", i)
            eq.append(([(*row, r) for r in RELIABLE], [(*row, "n_pairs")]))
            for column in ("n_pairs", *RELIABLE):
                eq.append(([(*row, column)], [("prepost_individual", i, column)]))
            pre, post = c.split("_")
            for tp in (pre, post):
                ub.append(([(*row, "n_pairs")], [("prepost_timepoints", tp_row[(m, tp)], "n")]))
            if pre == "baseline":
                ub.append(([(*row, "n_pairs")], [("prepost_attrition", tp_index[post], "n_with_baseline")]))
        completion = frames["prepost_completion"]
        for i, (m, c) in enumerate(zip(completion["measure"], completion["comparison"])):
            k = ("prepost_completion", i)
            eq.append(([(*k, "n_completers"), (*k, "n_noncompleters"), (*k, "n_not_due")],
                       [("prepost_timepoints", tp_row[(m, c.split("_")[0])], "n")]))
            eq.append(([(*k, "n_completers")], [("prepost_summary", sum_row[(m, c)], "n_pairs")]))
        mixed = frames["prepost_mixed"]
        for i, (m, tp) in enumerate(zip(mixed["measure"], mixed["timepoint"])):
            eq.append(([("prepost_mixed", i, "n_at_timepoint")], [("prepost_timepoints", tp_row[(m, tp)], "n")]))
            if (m, f"baseline_{tp}") in sum_row:
                eq.append(([("prepost_mixed", i, "completers_n_pairs")],
                           [("prepost_summary", sum_row[(m, f"baseline_{tp}")], "n_pairs")]))
        if "prepost_subgroups" in frames:
            sub = frames["prepost_subgroups"]
            for (m, c), part in sub.groupby(["measure", "comparison"], sort=False):
                eq.append(([("prepost_subgroups", int(i), "n_pairs") for i in part.index],
                           [("prepost_summary", sum_row[(m, c)], "n_pairs")]))
        return eq, ub

    def _base_links(self) -> tuple[publication.Line, ...]:
        """Relations across the tables (module docstring)."""
        lines: list[publication.Line] = []
        summary, tps = self.summary.reset_index(drop=True), self.timepoints
        attrition = self.attrition
        for i, category in enumerate(self.counts["category"]):
            j = self._row(attrition, timepoint=category)
            if j is not None:  # measurements used at a timepoint = clients measured there
                lines += _same(("prepost_timepoint_counts", i, "n_measurements"), ("prepost_attrition", j, "n_measured"))
        for i in range(len(summary)):  # the individual-change table repeats the counts
            for column in ("n_pairs", *RELIABLE):
                lines += _same(("prepost_summary", i, column), ("prepost_individual", i, column))
        for i, row in self.completion.iterrows():
            j = self._row(summary, measure=row["measure"], comparison=row["comparison"])
            lines += _same(("prepost_completion", i, "n_completers"), ("prepost_summary", j, "n_pairs"))
            pre = row["comparison"].split("_")[0]
            k = self._row(tps, measure=row["measure"], timepoint=pre)
            lines.append(publication.Line(tuple(("prepost_completion", i, c) for c in
                                                ("n_completers", "n_noncompleters", "n_not_due"))
                                          + (("prepost_timepoints", k, "n"),)))
        for i, row in self.mixed.reset_index(drop=True).iterrows():
            k = self._row(tps, measure=row["measure"], timepoint=row["timepoint"])
            lines += _same(("prepost_mixed", i, "n_at_timepoint"), ("prepost_timepoints", k, "n"))
            j = self._row(summary, measure=row["measure"], comparison=f"baseline_{row['timepoint']}")
            if j is not None and not pd.isna(row["completers_n_pairs"]):
                lines += _same(("prepost_mixed", i, "completers_n_pairs"), ("prepost_summary", j, "n_pairs"))
        if self.subgroups is not None:
            sub = self._subgroup_rows()
            for (measure, comparison), part in sub.groupby(["measure", "comparison"], sort=False):
                j = self._row(summary, measure=measure, comparison=comparison)
                lines.append(publication.Line(tuple(("prepost_subgroups", int(i), "n_pairs") for i in part.index)
                                              + (("prepost_summary", j, "n_pairs"),)))
        return tuple(lines)

    # -- text ------------------------------------------------------------------------------------
    def _t(self, key: str, language: str, **values) -> str:
        return publication.text(f"prepost.{key}", language, **values)

    def _column_name(self, language: str) -> str:
        if not self.subgroup:
            return ""
        key = f"prepost.group_names.{self.subgroup}"
        return t(key, language) if has_text(key, language) else self.subgroup

    def _symbol(self, value) -> bool:
        return publication.is_symbol(value, self.rules) or value is None or value is pd.NA or (
            isinstance(value, float) and math.isnan(value))

    def published(self) -> dict[str, pd.DataFrame]:
        return self._published(self.service.code)

    def text(self, language: str) -> list[str]:
        return [heading(self.service, language), self._text_methods(language), self._text_withheld(language),
                self._text_subgroups(language)]

    def _text_methods(self, language: str) -> str:
        o = self.options
        days = {key: fmt_number(value, language, 0) for key, value in zip(
            ("b0", "b1", "f0", "f1", "ft", "e0", "e1"),
            (*o.baseline_window, *o.followup_window, o.followup_target, *o.end_window))}
        counts = self.published()["prepost_timepoint_counts"].set_index("category")["n_measurements"]
        parts = [self._t("methods_windows", language, **days)]
        if not any(publication.is_symbol(counts[k], self.rules) for k in ("total", "extra", "outside")):
            parts.append(self._t("methods_counts", language, total=counts["total"], extra=counts["extra"],
                                 outside=counts["outside"]))
        parts += [self._t("methods_tests", language), self._t("methods_mixed", language)]
        shown = self.published()["prepost_summary"]
        shown = shown[shown["rc_threshold"].map(lambda v: not self._symbol(v))]
        if not shown.empty:
            row = shown.iloc[0]
            parts.append(self._t("methods_rc", language, r=fmt_number(row["reliability"], language, 2),
                                 measure=code_label("measure", row["measure"], language, NS).lower(),
                                 comparison=code_label("comparison", row["comparison"], language, NS),
                                 threshold=fmt_number(float(row["rc_threshold"]), language, 1)))
        return "\n\n".join(parts)

    def _text_withheld(self, language: str) -> str:
        follow = self.rules.min_followup
        withheld = self.summary[self.summary["n_pairs"].fillna(0).lt(follow)]
        if withheld.empty:
            return self._t("none_withheld", language, min_n=follow)
        names = [code_label("comparison", c, language, NS) for c in dict.fromkeys(withheld["comparison"])]
        return self._t("withheld", language, min_n=follow, k=len(withheld), total=len(self.summary),
                       comparisons=", ".join(names))

    def _text_subgroups(self, language: str) -> str:
        if not self.subgroup:
            return self._t("no_subgroups", language)
        if self.subgroups is None:
            return self._t("one_subgroup", language, column=self._column_name(language), min_cell=self.rules.min_cell)
        return self._t("subgroups", language, column=self._column_name(language),
                       shown=self.subgroups[self.subgroup].nunique(), min_cell=self.rules.min_cell,
                       min_n=self.rules.min_followup)

    # -- figures ---------------------------------------------------------------------------------
    def figures(self, language: str) -> list[tuple[str, object]]:
        published = self.published()
        times = self._shown(published["prepost_timepoints"], "mean")
        out = []
        if len(times):
            out.append((t("prepost.caption_figure_means", language), self.figure_means(times, language)))
        individual = published["prepost_individual"]
        for pre, post in self.options.comparisons:
            code = pp.comparison_code(pre, post)
            rows = individual[individual["comparison"].eq(code)]
            if len(self._shown(rows, *SHARES)):
                out.append((t("prepost.caption_figure_reliable", language,
                              comparison=code_label("comparison", code, language, NS)),
                            self.figure_reliable(rows, language)))
        if len(times[times["timepoint"].isin(["baseline", "end"])]):
            out.append((t("prepost.caption_figure_profile", language), self.figure_profile(times, language)))
        return captioned(self.service, out, language)

    def _shown(self, frame: pd.DataFrame, *columns) -> pd.DataFrame:
        """Rows of a published frame whose ``columns`` are all published numbers."""
        keep = np.ones(len(frame), dtype=bool)
        for column in columns:
            keep &= ~frame[column].map(self._symbol).to_numpy(bool)
        return frame[keep]

    def _title(self, measure: str, language: str) -> str:
        return code_label("measure", measure, language, NS)

    def _axes_grid(self, n: int, width: float = 11.0, per_row: int = 4):
        import matplotlib.pyplot as plt

        rows = max(1, math.ceil(n / per_row))
        fig, axes = plt.subplots(rows, per_row, figsize=(width, 2.7 * rows), squeeze=False)
        for ax in axes.flat[n:]:
            ax.set_visible(False)
        return fig, list(axes.flat)

    @staticmethod
    def _number_axis(ax, language: str, axis: str = "y") -> None:
        from matplotlib.ticker import FuncFormatter

        target = ax.yaxis if axis == "y" else ax.xaxis
        target.set_major_formatter(FuncFormatter(lambda v, _: fmt_number(v, language, 0 if v == int(v) else 1)))

    def figure_means(self, times: pd.DataFrame, language: str, ax=None):
        """Published mean (95 % CI) at each timepoint, one panel per measure (``ax``: one panel with
        every measure)."""
        labels = [code_label("timepoint", tp, language, NS) for tp in pp.TIMEPOINTS]
        if ax is None:
            fig, axes = self._axes_grid(len(self.measures))
            panels = list(zip(axes, self.measures.index))
        else:
            fig, panels = ax.figure, [(ax, m) for m in self.measures.index]
        for k, (axis, measure) in enumerate(panels):
            rows = times[times["measure"].eq(measure)]
            mean, low, high = (rows[c].astype(float).to_numpy() for c in ("mean", "ci_low", "ci_high"))
            x = [pp.TIMEPOINTS.index(tp) for tp in rows["timepoint"]]
            axis.errorbar(x, mean, yerr=[mean - low, high - mean], fmt="o-", capsize=3,
                          color="#1f5f8b" if ax is None else f"C{k}",
                          label=None if ax is None else self._title(measure, language))
            axis.set_xticks(range(len(pp.TIMEPOINTS)), labels, fontsize=8)
            axis.set_xlim(-0.5, len(pp.TIMEPOINTS) - 0.5)
            axis.set_ylim(self.measures.loc[measure, "min"], self.measures.loc[measure, "max"])
            if ax is None:
                axis.set_title(self._title(measure, language), fontsize=9)
            self._number_axis(axis, language)
        if ax is not None:
            ax.legend(fontsize=7, frameon=False)
        fig.tight_layout()
        return fig

    def figure_reliable(self, rows: pd.DataFrame, language: str, ax=None):
        """Published shares reliably improved / no reliable change / reliably worsened per measure
        (stacked bars); a measure whose shares are withheld is named as such."""
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7.5, 0.42 * len(rows) + 1.3)) if ax is None else (ax.figure, ax)
        y = np.arange(len(rows))
        colors = ("#1f7a4d", "#bbbbbb", "#b03a2e")
        names = ("improved", "no_change", "worsened")
        left = np.zeros(len(rows))
        shown = ~rows[list(SHARES)].apply(lambda c: c.map(self._symbol)).any(axis=1).to_numpy()
        for share, name, color in zip(SHARES, names, colors):
            values = np.where(shown, pd.to_numeric(rows[share].where(shown, 0), errors="coerce").fillna(0), 0.0)
            ax.barh(y, values, left=left, color=color, label=t(f"prepost.figure.{name}", language))
            left += values
        for k in np.flatnonzero(~shown):
            ax.text(0.02, y[k], t("prepost.figure.withheld", language, min_n=self.rules.min_followup),
                    va="center", fontsize=8)
        ax.set_yticks(y, [self._title(m, language) for m in rows["measure"]])
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: fmt_percent(v, language)))
        ax.set_xlabel(t("prepost.figure.share", language))
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=3, fontsize=8, frameon=False)
        fig.tight_layout()
        return fig

    def figure_profile(self, times: pd.DataFrame, language: str, ax=None):
        """Domain profile: published mean (95 % CI) of every measure at baseline and at the end; a
        timepoint withheld for every measure is named in the legend."""
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(self.measures) + 1.2)) if ax is None else (ax.figure, ax)
        y = np.arange(len(self.measures))
        for offset, timepoint, color in ((-0.12, "baseline", "#999999"), (0.12, "end", "#1f5f8b")):
            rows = times[times["timepoint"].eq(timepoint)].set_index("measure").reindex(self.measures.index)
            mean, low, high = (pd.to_numeric(rows[c], errors="coerce").to_numpy(float)
                               for c in ("mean", "ci_low", "ci_high"))
            label = code_label("timepoint", timepoint, language, NS)
            if np.isfinite(mean).any():
                ax.errorbar(mean, y + offset, xerr=[mean - low, high - mean], fmt="o", capsize=3, color=color,
                            label=label)
            else:
                ax.plot([], [], " ", label=t("prepost.legend_withheld", language, timepoint=label,
                                             min_n=self.rules.min_followup))
        ax.set_yticks(y, [self._title(m, language) for m in self.measures.index])
        ax.invert_yaxis()
        ax.set_xlim(self.measures["min"].min(), self.measures["max"].max())
        ax.set_xlabel(t("prepost.axis_score", language))
        self._number_axis(ax, language, "x")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=8, frameon=False)
        fig.tight_layout()
        return fig


class PrepostSection(PerServiceSection):
    """Pre/post comparison of Kykyviisari self-assessments (see :mod:`tyokyky_eval.stats.prepost`)."""

    name = "prepost"
    cohort = Cohort
    none_key = "prepost.no_service"


SECTION = PrepostSection

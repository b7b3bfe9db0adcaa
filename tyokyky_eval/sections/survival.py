"""Section "Time to employment": the statistics of :mod:`tyokyky_eval.stats.survival`, published safely.

Per service: one :class:`Cohort` per service whose analyses include ``survival`` (IPS, group
employment, undeclared services), each table with a ``service`` column first and each service's
findings under its own heading; the IPS benchmark only for services of kind ``ips``. Services are
never pooled, so no "all services" row exists for a difference to be taken from.

What is published, and why (the publication layer's survival rules, within each service):

- **Groups** with fewer than ``min_cell`` clients are combined into ``other_groups`` (and, when the
  combination is still small, the smallest group joins it), so every group shown has at least
  ``min_cell`` clients and "all minus the groups shown" isolates nobody.
- **Time points: hold each step until enough clients have left the risk set** (the ACRO/SACRO
  survival rule, :func:`rule_days`). A Kaplan–Meier curve steps once per event, so it is published
  only at time points of the risk table (``risk_table_months``). The curve of all clients of a
  service is judged on its own, independently of its groups and of the competing outcomes. Going
  through the risk-table points in ascending order, a point *t* is published when

  (a) at least ``min_cell`` clients are still followed at *t* (``n_at_risk`` ≥ ``min_cell``),
  (b) at least ``min_cell`` clients have left the risk set (a job, another outcome or censoring)
      since the previous published point (``n_left``; day 0 is the first point and needs none),
  (c) the cumulative number of jobs by *t* is 0 or at least ``min_cell`` (so the first rise of the
      curve shows at least ``min_cell`` jobs).

  A point failing (b) or (c) is skipped (the curve holds its last published value); the first
  point failing (a) ends the curve, and nothing after the last published point is published.
  The published table ``survival_km`` gives ``n_at_risk`` and ``n_left`` (clients who left the
  risk set in (previous published point, *t*]) but no interval job counts; the internal table
  keeps the full curve at every event time.
- **Group curves** use the same rule at common points chosen among the risk-table points, so that
  every group shown *and* the complement "all clients minus the groups shown" (when it is not
  empty, e.g. clients without a group code) satisfy (a)–(c) at those points. Groups that cannot be
  shown at two points or more are left out of the table and the figure (all or none); they never
  remove points of the all-clients curve. The summary's incidences at 182 and 365 days read the
  published points.
- **Competing outcomes** (e.g. pension) with fewer than ``min_cell`` events are combined into
  ``other_outcomes``, which is not shown when still below ``min_cell``. The competing-risks table
  is published at the all-clients curve's points, leaving out, per outcome, the points by which it
  has 1 … ``min_cell`` − 1 events. Competing outcomes never block the employment curve.
- Counts below ``min_cell`` are suppressed with the statistics computed from them, and the event
  counts of the groups are protected against the total (secondary suppression). Figures are drawn
  from the published values only.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from tyokyky_eval import publication
from tyokyky_eval.i18n import code_label, fmt_number, fmt_percent, has_text, t
from tyokyky_eval.sections.per_service import PerServiceSection, captioned, heading
from tyokyky_eval.stats import survival as sv

OTHER_GROUPS = "other_groups"
OTHER_OUTCOMES = "other_outcomes"
KM_PUBLISHED_COLUMNS = ["group", "time_days", "n_at_risk", "n_left", "cumulative_incidence", "ci_low", "ci_high"]
RULES_COLUMNS = ["rule", "n"]
BENCHMARK_COLUMNS = ["followup_days", "n", "n_employed", "share", "ci_low", "ci_high", "band"]


def rule_days(tte: pd.DataFrame, curves: list[np.ndarray], candidates, min_cell: int) -> list[float]:
    """The candidate days (ascending) at which the ``curves`` (boolean masks of ``tte``'s rows) may
    all be published, chosen greedily: a day is kept when every curve has (a) ≥ ``min_cell`` clients
    followed at least that long, (b) ≥ ``min_cell`` clients whose time falls in (previous kept day,
    day] (not required at day 0; before the first kept day the interval starts at −∞) and (c) 0 or
    ≥ ``min_cell`` jobs by the day; a day failing (b) or (c) is skipped, the first day failing (a)
    ends the list."""
    time, event = tte["time_days"].to_numpy(float), tte["event"].to_numpy(bool)
    kept: list[float] = []
    for day in sorted({float(d) for d in candidates}):
        if any(int((mask & (time >= day)).sum()) < min_cell for mask in curves):
            break
        low = kept[-1] if kept else -np.inf
        if all(_passes(mask, time, event, low, day, min_cell) for mask in curves):
            kept.append(day)
    return kept


def _passes(mask, time, event, low: float, day: float, min_cell: int) -> bool:
    """Rules (b) and (c) for one curve at ``day``, the previous published day being ``low``."""
    if day > 0 and int((mask & (time > low) & (time <= day)).sum()) < min_cell:
        return False
    jobs = int((mask & event & (time <= day)).sum())
    return jobs == 0 or jobs >= min_cell


def left_counts(time: np.ndarray, days) -> list[int]:
    """Clients (their ``time`` in days) who left the risk set in (previous day, day] for each of
    the published ``days`` (ascending); 0 at day 0, from −∞ for a first day after 0."""
    out, low = [], -np.inf
    for day in days:
        out.append(0 if day <= 0 else int(((time > low) & (time <= day)).sum()))
        low = day
    return out


class Cohort:
    """The clients of one service: every statistic of the section, its tables (without the
    ``service`` column), links, texts and figures; ``published`` gives this service's rows of the
    section's published tables."""

    def __init__(self, project, rules: publication.Rules, service, published):
        params = project.params
        self.rules, self.service, self._published = rules, service, published
        self.options = options = params.options("survival")
        self.has_benchmark = service.applies("benchmark")
        min_cell = self.rules.min_cell
        clients = project.table("clients")
        clients = clients[clients["service"].astype("string").eq(service.code).fillna(False)]
        self.tte = tte = sv.time_to_event(clients, params.cutoff_date, options,
                                          params.validation.employment_after_end_days)
        self.group_column = options.group
        self.group = (publication.collapse_small_groups(clients[options.group], min_cell, OTHER_GROUPS,
                                                        events=tte["event"]) if options.group else None)
        if self.group is not None and self.group.nunique() < 2:
            self.group = None  # one group is the whole cohort
        self.curves = sv.km_tables(tte, self.group, options, 1)[0]
        candidates = sv.month_days(options.risk_table_months)
        self.days = rule_days(tte, [np.ones(len(tte), dtype=bool)], candidates, min_cell)
        self.group_days = self._group_days(candidates)
        self.grid = self._grid()
        self.summary = self._summary()
        self.logrank = self._logrank()
        self.cif = sv.competing_risks(tte)  # internal: every outcome as recorded
        self.competing_tte = self._competing_outcomes()
        self.outcomes = [sv.EMPLOYED] + sorted(
            o for o, n in self.competing_tte["outcome"].value_counts().items()
            if o not in (sv.EMPLOYED, sv.CENSORED) and n >= min_cell)
        self.competing = self._competing()
        kyky = project.table("kykyviisari")
        missing = tuple(n for n in options.covariates if n not in clients and n.startswith(sv.BASELINE_PREFIX)
                        and (kyky is None or n.removeprefix(sv.BASELINE_PREFIX) not in kyky))
        if missing:
            self.cox = sv.CoxResult(n=len(tte), n_events=int(tte["event"].sum()), n_terms=len(options.covariates),
                                    skipped="missing_covariates", missing=missing)
        else:
            self.cox = sv.cox_model(tte, sv.covariates(clients, kyky, options.covariates, options,
                                                       params.validation.measurement_tolerance_days), options)
        self.benchmark = sv.benchmark(clients, tte, params.cutoff_date, options) if self.has_benchmark else None
        counts = tte["rule"].value_counts().sort_index()
        self.rule_counts = pd.DataFrame({"rule": counts.index, "n": counts.to_numpy()})

    # -- tables ----------------------------------------------------------------------------------
    def _codes(self):
        return ["all"] + (sorted(self.group.dropna().unique()) if self.group is not None else [])

    def _rows(self, code):
        return self.tte if code == "all" else self.tte[self.group.eq(code).fillna(False).to_numpy()]

    def _logrank(self) -> dict | None:
        """The log-rank test between the groups (clients without a group code are left out); None
        when it is undefined (e.g. a group whose members all left before the first job, or every
        client still followed found a job on the same day)."""
        if self.group is None:
            return None
        known = self.group.notna().to_numpy()
        try:
            return sv.logrank(self.tte[known], self.group[known], 1)
        except np.linalg.LinAlgError:
            return None

    def _group_days(self, candidates) -> list[float]:
        """The common published points of the group curves: every group and the complement "all
        minus the groups" (when not empty) meet the rule at each of them; none when fewer than 2."""
        if self.group is None:
            return []
        codes = self._codes()[1:]
        masks = [self.group.eq(code).fillna(False).to_numpy() for code in codes]
        rest = ~np.logical_or.reduce(masks)
        if rest.any():
            masks.append(rest)
        days = rule_days(self.tte, masks, candidates, self.rules.min_cell)
        return days if len(days) >= 2 else []

    def _grid(self) -> pd.DataFrame:
        """The published Kaplan–Meier table: each curve at its published points with ``n_at_risk``
        and ``n_left`` (clients who left the risk set since the previous published point)."""
        frames = []
        for code in self._codes():
            days = self.days if code == "all" else self.group_days
            if not days:
                continue
            rows = self._rows(code)
            frame = sv.grid(rows, days).assign(group=code)
            frame["n_left"] = left_counts(rows["time_days"].to_numpy(float), days)
            frames.append(frame[KM_PUBLISHED_COLUMNS])
        return (pd.concat(frames, ignore_index=True) if frames
                else pd.DataFrame(columns=KM_PUBLISHED_COLUMNS))

    def _summary(self) -> pd.DataFrame:
        summary = sv.summary_table(self.tte, self.group, 1).replace([np.inf], np.nan)
        for days in (182, 365):
            column = f"cumulative_incidence_{days}d"
            values = self.grid[self.grid["time_days"].eq(days)].set_index("group")["cumulative_incidence"]
            summary[column] = summary["group"].map(values).astype(float)
        return summary

    def _competing_outcomes(self) -> pd.DataFrame:
        """``tte`` with the competing outcomes of fewer than ``min_cell`` events recoded as
        ``other_outcomes`` (employment and censoring are never recoded)."""
        outcome = self.tte["outcome"]
        counts = outcome.value_counts()
        small = [o for o, n in counts.items() if o not in (sv.EMPLOYED, sv.CENSORED) and n < self.rules.min_cell]
        return self.tte.assign(outcome=outcome.where(~outcome.isin(small), OTHER_OUTCOMES)) if small else self.tte

    def _competing(self) -> pd.DataFrame:
        """The Aalen–Johansen curves of the outcomes shown at the all-clients curve's published
        points, without the points by which an outcome has 1 … ``min_cell`` − 1 events."""
        rows = []
        days = np.asarray(self.days, dtype=float)
        tte = self.competing_tte
        cif = sv.competing_risks(tte)
        time, outcomes = tte["time_days"].to_numpy(float), tte["outcome"].to_numpy()
        for outcome in self.outcomes:
            part = cif[cif["outcome"].eq(outcome)]
            if part.empty or not len(days):
                continue
            idx = np.searchsorted(part["time_days"].to_numpy(), days, side="right") - 1
            values = part.iloc[np.maximum(idx, 0)][["cif", "ci_low", "ci_high"]].to_numpy()
            values[idx < 0] = 0.0
            counts = np.array([int(((outcomes == outcome) & (time <= day)).sum()) for day in days])
            keep = (counts == 0) | (counts >= self.rules.min_cell)
            if keep.any():
                rows.append(pd.DataFrame(values[keep], columns=["cif", "ci_low", "ci_high"])
                            .assign(outcome=outcome, time_days=days[keep]))
        return pd.concat(rows, ignore_index=True)[sv.CIF_COLUMNS] if rows else pd.DataFrame(columns=sv.CIF_COLUMNS)

    def published(self) -> dict[str, pd.DataFrame]:
        return self._published(self.service.code)

    def internal(self) -> dict[str, pd.DataFrame]:
        """Full precision: the curves at every event time, the summary of every group as formed
        for publication, the competing-risks curves at every time, the Cox model."""
        out = {"survival_rules": self.rule_counts, "survival_km": self.curves,
               "survival_summary": sv.summary_table(self.tte, self.group, 1), "competing_risks": self.cif}
        if self.has_benchmark:
            out["survival_benchmark"] = self._benchmark_frame()
        if self.cox.table is not None:
            out["survival_cox"] = self.cox.table
        if self.cox.ph is not None:
            out["survival_ph"] = self.cox.ph
        return out

    def _benchmark_frame(self) -> pd.DataFrame:
        b = self.benchmark
        return pd.DataFrame([{"followup_days": self.options.benchmark_followup_days, "n": b["n"],
                              "n_employed": b["employed"], "share": b["share"], "ci_low": b["ci_low"],
                              "ci_high": b["ci_high"], "band": b["band"]}], columns=BENCHMARK_COLUMNS)

    def tables(self) -> list[publication.Table]:
        stats = ["median_days", "median_ci_low", "median_ci_high", "cumulative_incidence_182d",
                 "cumulative_incidence_365d"]
        summary = self.summary
        tables = [
            publication.Table("survival_rules", self.rule_counts, "survival.caption_rules", counts=("n",),
                              lines=publication.column_lines(self.rule_counts, ["n"]),
                              code_columns=("rule",), namespace="survival"),
            publication.Table("survival_km", self.grid, "survival.caption_km", counts=("n_at_risk", "n_left"),
                              derived={"n_at_risk": ("cumulative_incidence", "ci_low", "ci_high")},
                              note="survival.note_km", note_values={"min_cell": self.rules.min_cell},
                              decimals={"time_days": 0, "cumulative_incidence": 3, "ci_low": 3, "ci_high": 3},
                              code_columns=("group",), namespace="survival"),
            publication.Table("survival_summary", summary, "survival.caption_summary", counts=("n", "n_events"),
                              derived={"n": tuple(stats), "n_events": tuple(stats)},
                              lines=publication.partition_lines(summary, "group", "all", counts=("n", "n_events")),
                              note="survival.note_summary",
                              decimals={"median_days": 0, "median_ci_low": 0, "median_ci_high": 0,
                                        "cumulative_incidence_182d": 3, "cumulative_incidence_365d": 3},
                              code_columns=("group",), namespace="survival", key=("n", "n_events")),
            publication.Table("competing_risks", self.competing, "survival.caption_competing",
                              note="survival.note_competing", note_values={"min_cell": self.rules.min_cell},
                              decimals={"time_days": 0, "cif": 3, "ci_low": 3, "ci_high": 3},
                              code_columns=("outcome",), namespace="survival"),
        ]
        if self.has_benchmark:
            tables.append(publication.Table(
                "survival_benchmark", self._benchmark_frame(), "survival.caption_benchmark",
                counts=("n", "n_employed"),
                derived={"n": ("share", "ci_low", "ci_high", "band"),
                         "n_employed": ("share", "ci_low", "ci_high", "band")},
                decimals={"followup_days": 0, "share": 3, "ci_low": 3, "ci_high": 3},
                code_columns=("band",), namespace="survival"))
        if self.cox.table is not None:
            tables.append(publication.Table(
                "survival_cox", self.cox.table, "survival.caption_cox", code_columns=("term",),
                decimals={"coef": 3, "se": 3, "hr": 2, "hr_ci_low": 2, "hr_ci_high": 2, "p": 3}, namespace="survival"))
        if self.cox.ph is not None:
            tables.append(publication.Table("survival_ph", self.cox.ph, "survival.caption_ph", code_columns=("term",),
                                            decimals={"chisq": 2, "p": 3}, namespace="survival"))
        return tables

    def links(self) -> tuple[publication.Line, ...]:
        """The clients counted by each rule add up to the cohort of the summary's ``all`` row, and
        the event rules to its jobs."""
        rules = list(self.rule_counts["rule"])
        events = [("survival_rules", i, "n") for i, r in enumerate(rules)
                  if r in ("job", "job_after_end", "event_reason_at_end")]
        everyone = [("survival_rules", i, "n") for i in range(len(rules))]
        return (publication.Line(tuple(everyone), ("survival_summary", 0, "n")),
                publication.Line(tuple(events), ("survival_summary", 0, "n_events")))

    # -- text ------------------------------------------------------------------------------------
    def _t(self, key: str, language: str, **values) -> str:
        return publication.text(f"survival.{key}", language, **values)

    def label(self, code: str, language: str) -> str:
        if code == "all":
            return t("survival.codes.group.all", language)
        if code == OTHER_GROUPS:
            return t("survival.codes.group.other_groups", language)
        return code_label(self.group_column, code, language, "survival")

    def text(self, language: str) -> list[str]:
        """A heading naming the service, then its findings."""
        out = [heading(self.service, language), self._text_summary(language), self._text_groups(language), self._text_cox(language)]
        return out + ([self._text_benchmark(language)] if self.has_benchmark else [])

    def _text_summary(self, language: str) -> str:
        row = self.summary.iloc[0]
        min_cell = self.rules.min_cell
        if row["n"] < min_cell:
            return self._t("text.too_few_clients", language, min_cell=min_cell)
        shown = self.published()["survival_summary"].iloc[0]  # the counts as published (a symbol when hidden)
        parts = [self._t("text.cohort", language, n=shown["n"], events=shown["n_events"])]
        if row["n_events"] == 0:
            return " ".join([*parts, self._t("text.no_events", language)])
        published = self.published()["survival_km"]
        at = published[published["group"].eq("all")].set_index("time_days")
        pct = lambda v: fmt_percent(v, language)  # noqa: E731
        at = at[at["cumulative_incidence"].map(lambda v: not publication.is_symbol(v, self.rules))]
        for days, months in ((182, 6), (365, 12)):
            if days in at.index:
                parts.append(self._t("text.incidence", language, months=months,
                                     value=pct(at.at[days, "cumulative_incidence"]),
                                     low=pct(at.at[days, "ci_low"]), high=pct(at.at[days, "ci_high"])))
                continue
            if int((self.tte["time_days"] >= days).sum()) < min_cell:
                parts.append(self._t("text.incidence_withheld", language, months=months, min_cell=min_cell))
                continue
            before = at[(at.index <= days) & (at.index > 0)]
            if before.empty:
                parts.append(self._t("text.incidence_not_published", language, months=months, min_cell=min_cell))
                continue
            day = before.index[-1]
            parts.append(self._t("text.incidence_nearest", language, months=months, min_cell=min_cell,
                                 at=round(day / sv.DAYS_PER_MONTH),
                                 value=pct(before.at[day, "cumulative_incidence"]),
                                 low=pct(before.at[day, "ci_low"]), high=pct(before.at[day, "ci_high"])))
        if row["n_events"] < min_cell or np.isnan(row["median_days"]):
            parts.append(self._t("text.median_not_reached", language))
        elif np.isnan(row["median_ci_low"]):  # the curve reaches 100 % where it passes 50 %: no variance
            parts.append(self._t("text.median_no_ci", language, days=fmt_number(row["median_days"], language, 0)))
        else:
            high = row["median_ci_high"]
            parts.append(self._t("text.median", language, days=fmt_number(row["median_days"], language, 0),
                                 low=fmt_number(row["median_ci_low"], language, 0),
                                 high=t("survival.not_reached", language) if np.isnan(high)
                                 else fmt_number(high, language, 0)))
        return " ".join(parts)

    def _text_groups(self, language: str) -> str:
        if self.group is None:
            key = "text.no_group" if not self.group_column else "text.one_group"
            return self._t(key, language, min_cell=self.rules.min_cell)
        key = f"survival.group_names.{self.group_column}"
        column = t(key, language) if has_text(key, language) else self.group_column
        parts = [self._t("text.groups_collapsed", language, column=column, shown=self.group.nunique(),
                         min_cell=self.rules.min_cell)]
        if not self.group_days:
            parts.append(self._t("text.group_curves_withheld", language, min_cell=self.rules.min_cell))
        if self.logrank is None:
            parts.append(self._t("text.logrank_undefined" if self.tte["event"].any() else "text.logrank_no_events",
                                 language))
        else:
            parts.append(self._t("text.logrank", language, chisq=fmt_number(self.logrank["chisq"], language, 2),
                                 df=self.logrank["df"], p=fmt_number(self.logrank["p"], language, 3)))
        return " ".join(parts)

    def _text_cox(self, language: str) -> str:
        cox = self.cox
        if cox.skipped == "no_covariates":
            return self._t("text.cox_no_covariates", language)
        if cox.skipped == "missing_covariates":
            return self._t("text.cox_missing", language, covariates=", ".join(cox.missing))
        minimum = self.options.min_events_per_covariate
        if cox.skipped == "too_few_events":
            return self._t("text.cox_skipped", language, events=self.rules.count_text(cox.n_events),
                           terms=cox.n_terms, minimum=minimum, needed=minimum * cox.n_terms)
        if cox.skipped in ("tied_events", "singular"):
            return self._t(f"text.cox_{cox.skipped}", language, covariates=", ".join(self.options.covariates))
        if self._cox_counts_safe():
            fitted = self._t("text.cox", language, n=cox.n, events=cox.n_events, terms=cox.n_terms)
        else:
            fitted = self._t("text.cox_counts_withheld", language, terms=cox.n_terms, min_cell=self.rules.min_cell)
        if cox.ph is None:
            return f"{fitted} {self._t('text.ph_undefined', language)}"
        ph = cox.ph.iloc[-1]
        return f"{fitted} " + self._t("text.ph", language, chisq=fmt_number(ph["chisq"], language, 2),
                                      df=int(ph["df"]), p=fmt_number(ph["p"], language, 3))

    def _cox_counts_safe(self) -> bool:
        """The Cox model's clients and jobs may be printed when the published summary shows the
        cohort's clients and jobs, and the clients left out for missing covariates, their jobs and
        their non-jobs are each 0 or at least ``min_cell`` (else subtraction gives a small count)."""
        shown = self.published()["survival_summary"].iloc[0]
        if publication.is_symbol(shown["n"], self.rules) or publication.is_symbol(shown["n_events"], self.rules):
            return False
        left_out = int(shown["n"]) - self.cox.n
        jobs = int(shown["n_events"]) - self.cox.n_events
        return all(k == 0 or k >= self.rules.min_cell for k in (left_out, jobs, left_out - jobs))

    def _text_benchmark(self, language: str) -> str:
        shown = self.published()["survival_benchmark"].iloc[0]
        months = round(self.options.benchmark_followup_days / sv.DAYS_PER_MONTH)
        if publication.is_symbol(shown["share"], self.rules) or pd.isna(shown["share"]):
            n = shown["n"] if not pd.isna(shown["n"]) else 0
            return self._t("text.benchmark_withheld", language, n=n, months=months, min_cell=self.rules.min_cell)
        pct = lambda v: fmt_percent(v, language)  # noqa: E731
        return self._t("text.benchmark", language, n=shown["n"], months=months, employed=shown["n_employed"],
                       share=pct(shown["share"]), low=pct(shown["ci_low"]), high=pct(shown["ci_high"]),
                       band=t(f"survival.bands.{shown['band']}", language))

    # -- figures ---------------------------------------------------------------------------------
    def figures(self, language: str) -> list[tuple[str, object]]:
        published = self.published()
        out = []
        km = published["survival_km"]
        if self.days and len(self.days) > 1:
            out.append((t("survival.caption_fig_km", language), self.figure_km(km, language)))
        competing = published["competing_risks"]
        if len(competing) and len(self.days) > 1:
            out.append((t("survival.caption_fig_competing", language), self.figure_competing(competing, language)))
        if self.has_benchmark:
            out.append((t("survival.caption_fig_benchmark", language),
                        self.figure_benchmark(published["survival_benchmark"].iloc[0], language)))
        return captioned(self.service, out, language)

    def figure_km(self, km: pd.DataFrame, language: str, ax=None):
        """Cumulative incidence of employment at the published time points (steps between them)
        with 95 % bands and the number at risk under the figure, x axis in months."""
        import matplotlib.pyplot as plt

        groups = list(dict.fromkeys(km["group"]))
        if ax is None:
            fig, (ax, table) = plt.subplots(2, 1, figsize=(7.5, 4.6 + 0.25 * len(groups)), sharex=True,
                                            gridspec_kw={"height_ratios": [4, 0.5 + 0.3 * len(groups)]})
        else:
            fig, table = ax.figure, None
        for k, code in enumerate(groups):
            rows = km[km["group"].eq(code)]
            rows = rows[rows["cumulative_incidence"].map(lambda v: not publication.is_symbol(v, self.rules))]
            x = rows["time_days"].to_numpy(float) / sv.DAYS_PER_MONTH
            y, low, high = (rows[c].astype(float).to_numpy() for c in ("cumulative_incidence", "ci_low", "ci_high"))
            ax.step(x, y, where="post", color=f"C{k}", marker="o", markersize=3, label=self.label(code, language))
            ax.fill_between(x, low, high, step="post", color=f"C{k}", alpha=0.15)
        ax.set_ylim(0, 1)
        ax.set_ylabel(t("survival.figure.incidence", language))
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: fmt_percent(v, language)))
        ax.legend(loc="upper left", frameon=False)
        ax.grid(alpha=0.3)
        if table is not None:
            for k, code in enumerate(groups):
                rows = km[km["group"].eq(code)]
                for day, count in zip(rows["time_days"], rows["n_at_risk"]):
                    table.text(day / sv.DAYS_PER_MONTH, len(groups) - 1 - k, str(count), ha="center",
                               va="center", fontsize=8, color=f"C{k}")
            table.set_yticks(range(len(groups)), [self.label(g, language) for g in reversed(groups)], fontsize=8)
            table.set_ylim(-0.6, len(groups) - 0.4)
            table.set_title(t("survival.figure.at_risk", language), fontsize=9, loc="left")
            table.set_xticks(np.asarray(self.options.risk_table_months))
            table.set_xlim(-0.5, self.options.risk_table_months[-1] + 0.5)
            table.set_xlabel(t("survival.figure.months", language))
            for side in ("top", "right", "left"):
                table.spines[side].set_visible(False)
        fig.tight_layout()
        return fig

    def figure_competing(self, competing: pd.DataFrame, language: str, ax=None):
        """Aalen–Johansen cumulative incidence of employment and of each competing outcome shown,
        at the published time points."""
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7.5, 4)) if ax is None else (ax.figure, ax)
        for k, (outcome, part) in enumerate(competing.groupby("outcome", sort=False)):
            ax.step(part["time_days"].astype(float) / sv.DAYS_PER_MONTH, part["cif"].astype(float), where="post",
                    marker="o", markersize=3, color=f"C{k}",
                    label=t("survival.figure.cif", language,
                            outcome=t(f"survival.codes.outcome.{outcome}", language)))
        ax.set_xlim(0, self.options.risk_table_months[-1])
        ax.set_ylim(0, 1)
        ax.set_xlabel(t("survival.figure.months", language))
        ax.set_ylabel(t("survival.figure.incidence", language))
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: fmt_percent(v, language)))
        ax.legend(loc="upper left", frameon=False)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        return fig

    def figure_benchmark(self, shown: pd.Series, language: str, ax=None):
        """The published share employed within the benchmark follow-up with its Wilson CI against
        the IPS benchmark lines (31 / 41 / 50 %); only the lines when the share is withheld."""
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7.5, 1.9)) if ax is None else (ax.figure, ax)
        if not publication.is_symbol(shown["share"], self.rules) and not pd.isna(shown["share"]):
            share, low, high = float(shown["share"]), float(shown["ci_low"]), float(shown["ci_high"])
            ax.barh([0], [share], color="C0", height=0.5)
            ax.errorbar([share], [0], xerr=[[share - low], [high - share]], color="black", capsize=4)
        for (name, limit), align, height in zip(sv.IPS_BENCHMARKS.items(), ("right", "center", "left"),
                                                (0.5, 0.34, 0.5)):
            ax.axvline(limit, color="grey", linestyle=":")
            ax.text(limit, height, f"{t(f'survival.bands.{name}', language)} {fmt_percent(limit, language)}",
                    fontsize=8, ha=align, backgroundcolor="white")
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.5, 0.6)
        ax.set_yticks([0], [self.service.name(language)])
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: fmt_percent(v, language)))
        ax.set_xlabel(t("survival.figure.share_employed", language,
                        months=round(self.options.benchmark_followup_days / sv.DAYS_PER_MONTH)))
        fig.tight_layout()
        return fig


class SurvivalSection(PerServiceSection):
    """Time from service start to the first competitive job (see :mod:`tyokyky_eval.stats.survival`),
    one :class:`Cohort` per service whose kind has an employment outcome (never pooled); the IPS
    benchmark only for IPS services."""

    name = "survival"
    cohort = Cohort
    none_key = "survival.text.no_service"

    def text(self, language: str) -> list[str]:
        """The project's rules of what counts as employment (with their values), then each service."""
        if not self.cohorts:
            return super().text(language)
        params = self.project.params
        subsidy = "counted" if params.options("survival").wage_subsidy_as_event else "separate"
        rule = " ".join(publication.text(key, language, days=params.validation.employment_after_end_days)
                        for key in ("survival.text.after_end", f"survival.text.wage_subsidy_{subsidy}"))
        return [rule, *super().text(language)]


SECTION = SurvivalSection

"""Pre/post comparison of Kykyviisari (Abilitator) self-assessments.

Scores are on the instrument's scale (0–10 points, higher is better, unless the instrument spec says
otherwise). The steps, each a function that takes tidy DataFrames and plain options:

1. ``assign_timepoints``: each measurement is placed in a time window relative to the client's
   ``start_date`` (baseline, follow-up) or ``end_date`` (end). **Rule when several measurements fall in
   one window:** the one closest to the window's target day (baseline: the start day, follow-up:
   ``Options.followup_target`` days after the start, end: the end day) is used; ties go to the earlier
   measurement. Timepoints are filled in the order baseline → follow-up → end and a measurement is used
   for one timepoint only (when windows overlap, the earlier timepoint gets it). Measurements in a
   window but not chosen are ``extra``; measurements in no window are ``outside`` and counted.
2. ``paired_changes`` / ``paired_summary``: for each measure and comparison (pre → post), the clients
   measured at both timepoints. Mean change with a t-based 95 % CI, the paired t-test
   (``scipy.stats.ttest_rel``), the Wilcoxon signed-rank test on changes rounded to the
   measure's recorded precision (``tyokyky_eval.stats.rank_tests``, which states the exact, permutation
   and normal-approximation rules), Holm's correction of the
   t-test p-values across the measures of one comparison (``statsmodels`` ``multipletests``), the effect
   size d_z = mean change / SD of change with a 95 % CI from the noncentral t distribution
   (Cumming & Finch 2001), Hedges' small-sample correction g_z = J(n − 1)·d_z, and the median change
   with its interquartile range.
3. Individual change: the Jacobson & Truax (1991) reliable change index RC = change / S_diff with
   S_diff = SD·√2·√(1 − r) (Christensen & Mendoza 1986); SD is the SD of the baseline (pre) scores of
   the clients in the comparison unless the parameters give a reference SD, r the test–retest
   reliability from the instrument spec unless overridden. |RC| > 1.96 is reliable change.
4. Attrition: who was due and who was measured at each timepoint, completers vs non-completers at
   baseline (standardised mean difference), and a linear mixed model (random intercept per client,
   timepoint as a factor, REML) that uses every measurement, next to the completers-only change;
   fitted by REML profiled over the variance ratio from per-client sums (``tyokyky_eval.stats.lmm``, the
   estimates and standard errors of lme4, linear in the number of clients).

These are pure functions (tidy DataFrames and ``Options`` in, DataFrames out): no language, no
disclosure thresholds, no project. What the appendix publishes from them (suppression, the follow-up
rule, texts and figures) is decided by the section :mod:`tyokyky_eval.sections.prepost`.
"""
from __future__ import annotations

import gc
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from tyokyky_eval.errors import ParameterError
from tyokyky_eval.stats.rank_tests import signed_rank_test

TIMEPOINTS = ("baseline", "followup", "end")
RELIABLE_Z = 1.96
SUMMARY_COLUMNS = [
    "measure", "comparison", "n_pairs", "mean_pre", "mean_post", "mean_change", "change_ci_low",
    "change_ci_high", "t_stat", "t_p", "wilcoxon_stat", "wilcoxon_p", "p_holm", "dz", "dz_ci_low",
    "dz_ci_high", "n_reliable_improved", "n_no_reliable_change", "n_reliable_worsened",
]
SUMMARY_EXTRA = [
    "gz", "sd_change", "median_change", "change_q1", "change_q3", "n_zero_change", "sd_pre",
    "reliability", "s_diff", "rc_threshold", "share_reliable_improved", "share_no_reliable_change",
    "share_reliable_worsened",
]
RELIABLE_COUNTS = {"n_reliable_improved": "share_reliable_improved",
                   "n_no_reliable_change": "share_no_reliable_change",
                   "n_reliable_worsened": "share_reliable_worsened"}


def _window(value, name: str) -> tuple[int, int]:
    if not (isinstance(value, (list, tuple)) and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        raise ValueError(f"{name} must be two whole numbers of days [from, to], got {value!r}")
    if value[0] > value[1]:
        raise ValueError(f"{name}: the first day {value[0]} is after the last day {value[1]}")
    return int(value[0]), int(value[1])


@dataclass(frozen=True)
class Options:
    """Options of the pre/post analysis (``analyses.prepost`` in the parameters file).

    Windows are whole days ``[from, to]`` (inclusive): baseline and follow-up relative to the client's
    start date, end relative to the end date. ``comparisons`` are ``[pre, post]`` pairs of timepoints.
    ``reliability`` and ``reference_sd`` override the instrument spec per measure
    (``{work_ability: 0.85}``). ``subgroup`` names a clients column (e.g. ``referral_source``).
    The minimum number of pairs for a published follow-up summary is ``disclosure.min_followup``.
    """

    baseline_window: tuple[int, int] = (-30, 30)
    followup_window: tuple[int, int] = (120, 240)
    followup_target: int = 182
    end_window: tuple[int, int] = (-60, 30)
    comparisons: tuple[tuple[str, str], ...] = (("baseline", "followup"), ("baseline", "end"))
    reliability: Mapping[str, float] = field(default_factory=dict)
    reference_sd: Mapping[str, float] = field(default_factory=dict)
    subgroup: str | None = None

    def __post_init__(self):
        for name in ("baseline_window", "followup_window", "end_window"):
            object.__setattr__(self, name, _window(getattr(self, name), name))
        lo, hi = self.followup_window
        if not lo <= self.followup_target <= hi:
            raise ValueError(f"followup_target {self.followup_target} is outside followup_window {lo}…{hi}")
        pairs = []
        for pair in self.comparisons:
            if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and all(p in TIMEPOINTS for p in pair)):
                raise ValueError(f"comparisons: {pair!r} is not a pair of timepoints; use [pre, post] with "
                                 f"{', '.join(TIMEPOINTS)}")
            if TIMEPOINTS.index(pair[0]) >= TIMEPOINTS.index(pair[1]):
                raise ValueError(f"comparisons: in {list(pair)} the first timepoint must come before the second")
            pairs.append((str(pair[0]), str(pair[1])))
        if not pairs:
            raise ValueError("comparisons: give at least one [pre, post] pair")
        object.__setattr__(self, "comparisons", tuple(dict.fromkeys(pairs)))
        for name, ok, rule in (("reliability", lambda v: 0 <= v < 1, "0 ≤ r < 1"),
                               ("reference_sd", lambda v: v > 0, "> 0")):
            values = getattr(self, name) or {}
            if not isinstance(values, Mapping):
                raise ValueError(f"{name}: expected 'measure: value'")
            for key, value in values.items():
                if not isinstance(value, (int, float)) or isinstance(value, bool) or not ok(value):
                    raise ValueError(f"{name}.{key}: {value!r} is not a number {rule}")
            object.__setattr__(self, name, {str(k): float(v) for k, v in values.items()})
        if self.subgroup is not None and (not isinstance(self.subgroup, str) or not self.subgroup.strip()):
            raise ValueError(f"subgroup must name a clients column, got {self.subgroup!r}")

    def window(self, timepoint: str) -> tuple[str, tuple[int, int], int]:
        """(anchor column, window, target day) of ``timepoint``."""
        return {"baseline": ("start_date", self.baseline_window, 0),
                "followup": ("start_date", self.followup_window, self.followup_target),
                "end": ("end_date", self.end_window, 0)}[timepoint]


def comparison_code(pre: str, post: str) -> str:
    return f"{pre}_{post}"


def measure_table(spec: dict, options: Options) -> pd.DataFrame:
    """The instrument's measures (index ``measure``): ``direction``, ``reliability`` (r, spec or
    override), ``reference_sd`` (NaN = use the baseline SD), ``title_fi``, ``title_en``, ``min``, ``max``
    and ``decimals`` (the precision scores are recorded with; default 1, Kykyviisari's one decimal)."""
    ids = [m["id"] for m in spec["measures"]]
    for name in ("reliability", "reference_sd"):
        unknown = sorted(set(getattr(options, name)) - set(ids))
        if unknown:
            raise ParameterError(f"analyses.prepost.{name}: unknown measure(s) {', '.join(unknown)}; "
                                 f"measures of {spec['id']} are {', '.join(ids)}")
    rows = [{"measure": m["id"], "min": m["min"], "max": m["max"], "decimals": m.get("decimals", 1),
             "direction": m["direction"],
             "reliability": options.reliability.get(m["id"], m["reliability"]),
             "reference_sd": options.reference_sd.get(m["id"], np.nan),
             "title_fi": m["title"]["fi"], "title_en": m["title"]["en"]} for m in spec["measures"]]
    return pd.DataFrame(rows).set_index("measure")


# -- 1. timepoints ----------------------------------------------------------------------------------
def assign_timepoints(measurements: pd.DataFrame, clients: pd.DataFrame, options: Options) -> pd.DataFrame:
    """Every measurement with ``days_from_start``, ``days_from_end``, ``timepoint`` (baseline, followup,
    end; missing when not used) and ``status`` (``used``, ``extra`` = in a window but another
    measurement was chosen, ``outside`` = in no window). See the module docstring for the rule."""
    out = measurements.merge(clients[["client_id", "start_date", "end_date"]], on="client_id", how="left")
    out["days_from_start"] = (out["measured_on"] - out["start_date"]).dt.days
    out["days_from_end"] = (out["measured_on"] - out["end_date"]).dt.days
    client = pd.factorize(out["client_id"])[0]
    chosen_as = np.full(len(out), None, dtype=object)
    in_any = np.zeros(len(out), dtype=bool)
    for timepoint in TIMEPOINTS:
        anchor, (lo, hi), target = options.window(timepoint)
        days = out["days_from_start" if anchor == "start_date" else "days_from_end"]
        inside = days.between(lo, hi).to_numpy()
        in_any |= inside
        free = np.flatnonzero(inside & pd.isna(chosen_as))
        # per client the first candidate by (distance, day) in a stable sort: the closest, ties to the earlier
        candidates = pd.DataFrame({"client": client[free], "distance": np.abs(days.to_numpy()[free] - target),
                                   "measured_on": out["measured_on"].to_numpy()[free]}, index=free)
        chosen = candidates.sort_values(["distance", "measured_on"], kind="stable").drop_duplicates("client").index
        chosen_as[chosen] = timepoint
    out["timepoint"] = pd.array(chosen_as, dtype="string")
    out["status"] = np.where(out["timepoint"].notna(), "used", np.where(in_any, "extra", "outside"))
    return out.drop(columns=["start_date", "end_date"]).sort_values(["client_id", "measured_on"],
                                                                  kind="stable").reset_index(drop=True)


def assignment_counts(assigned: pd.DataFrame) -> pd.DataFrame:
    """``category, n_measurements``: used at each timepoint, extra in a window, outside every window."""
    used = assigned[assigned["status"] == "used"]["timepoint"].value_counts()
    rows = [(tp, int(used.get(tp, 0))) for tp in TIMEPOINTS]
    rows += [(status, int((assigned["status"] == status).sum())) for status in ("extra", "outside")]
    rows.append(("total", len(assigned)))
    return pd.DataFrame(rows, columns=["category", "n_measurements"])


def _scores(assigned: pd.DataFrame, measures: pd.DataFrame) -> pd.DataFrame:
    """Used measurements wide, one pivot for every measure: index client_id (sorted), columns
    (measure, timepoint); a measure ``assigned`` lacks is all missing."""
    used = assigned[assigned["status"] == "used"]
    wide = used.pivot(index="client_id", columns="timepoint", values=[m for m in measures.index if m in assigned])
    return wide.reindex(columns=pd.MultiIndex.from_product([measures.index, TIMEPOINTS])).astype(float)


def timepoint_summary(assigned: pd.DataFrame, measures: pd.DataFrame) -> pd.DataFrame:
    """``measure, timepoint, n, mean, sd, ci_low, ci_high`` of every client measured at the timepoint
    (t-based 95 % CI of the mean)."""
    wide = _scores(assigned, measures)
    rows = []
    for measure in measures.index:
        for timepoint in TIMEPOINTS:
            x = wide[(measure, timepoint)].dropna().to_numpy(float)
            low, high = _mean_ci(x)
            rows.append({"measure": measure, "timepoint": timepoint, "n": len(x),
                         "mean": x.mean() if len(x) else np.nan, "sd": _sd(x), "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows).astype({"n": "Int64"})


# -- 2. paired comparisons ---------------------------------------------------------------------------
def _sd(x: np.ndarray) -> float:
    return float(np.std(x, ddof=1)) if len(x) > 1 else np.nan


def _mean_ci(x: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """t-based CI of the mean; NaN below two values."""
    if len(x) < 2:
        return np.nan, np.nan
    half = stats.t.ppf(0.5 + level / 2, len(x) - 1) * _sd(x) / math.sqrt(len(x))
    return float(x.mean() - half), float(x.mean() + half)


def dz_confidence_interval(dz: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """CI of d_z by inverting the noncentral t distribution (Cumming & Finch 2001): with
    t = d_z·√n and df = n − 1, the bounds are λ/√n where P(T ≥ t | λ_low) = (1 − level)/2 and
    P(T ≤ t | λ_high) = (1 − level)/2 (``scipy.stats.nct``, exact; roots by ``brentq``).

    Each bound solves for a small tail probability (``nct.sf`` for the lower, ``nct.cdf`` for the upper
    bound), which is accurate where the other tail would round to 1. The search starts at the
    large-sample bounds t ± z·√(1 + t²/(2·df)) and widens from there; far in the tails, where scipy's
    noncentral t returns NaN (e.g. ``nct.cdf(6.9, 309, -5)``), the tail probability is taken as its
    limit (0 on the near side of t, 1 on the far side)."""
    if n < 2 or not np.isfinite(dz):
        return np.nan, np.nan
    df, t_obs = n - 1, dz * math.sqrt(n)
    alpha = (1 - level) / 2
    step = stats.norm.ppf(1 - alpha) * math.sqrt(1 + t_obs ** 2 / (2 * df))

    def tail(ncp: float, upper: bool) -> float:
        """P(T ≥ t | ncp) (upper) or P(T ≤ t | ncp), minus alpha."""
        p = stats.nct.sf(t_obs, df, ncp) if upper else stats.nct.cdf(t_obs, df, ncp)
        if np.isnan(p):
            p = float((ncp > t_obs) == upper)
        return p - alpha

    def bound(sign: int) -> float:
        """Root on the side ``sign`` of t (−1: lower bound, +1: upper bound); the tail function is
        positive at λ = t and falls to −alpha far out, so the bracket widens (doubling) until it does."""
        f = lambda ncp: tail(ncp, upper=sign < 0)  # noqa: E731
        near, width = t_obs, step
        while f(near + sign * width) > 0:
            near, width = near + sign * width, 2 * width
        return optimize.brentq(f, *sorted((near, near + sign * width)), xtol=1e-12)

    return bound(-1) / math.sqrt(n), bound(+1) / math.sqrt(n)


def hedges_correction(df: int) -> float:
    """Exact small-sample correction J(df) = Γ(df/2) / (√(df/2)·Γ((df − 1)/2)) (Hedges 1981)."""
    if df < 2:
        return np.nan
    return float(math.exp(special.gammaln(df / 2) - special.gammaln((df - 1) / 2)) / math.sqrt(df / 2))


def reliable_change(change, sd_pre: float, reliability: float, direction: str = "higher_is_better"):
    """Jacobson–Truax RC = change / S_diff, S_diff = SD·√2·√(1 − r). Returns ``(rc, s_diff,
    category)`` with category ``improved`` / ``no_change`` / ``worsened`` (|RC| > 1.96; the sign is
    flipped for ``lower_is_better`` measures) or missing when S_diff is not positive and finite."""
    change = np.asarray(change, dtype=float)
    s_diff = sd_pre * math.sqrt(2) * math.sqrt(1 - reliability) if np.isfinite(sd_pre) else np.nan
    if not (np.isfinite(s_diff) and s_diff > 0):
        return np.full(change.shape, np.nan), np.nan, pd.Series([pd.NA] * len(change), dtype="string")
    rc = change / s_diff
    better = rc if direction == "higher_is_better" else -rc
    category = np.where(better > RELIABLE_Z, "improved", np.where(better < -RELIABLE_Z, "worsened", "no_change"))
    return rc, s_diff, pd.Series(category, dtype="string")


def paired_changes(assigned: pd.DataFrame, measures: pd.DataFrame, options: Options) -> pd.DataFrame:
    """Row-level pairs (internal only, never published): ``client_id, measure, comparison, pre, post,
    change, rc, reliable`` plus ``sd_pre`` and ``s_diff`` of the comparison."""
    scores = _scores(assigned, measures)
    frames = []
    for measure, info in measures.iterrows():
        if measure not in assigned:
            continue
        wide = scores[measure]
        for pre, post in options.comparisons:
            pairs = wide[[pre, post]].dropna()
            change = (pairs[post] - pairs[pre]).to_numpy()
            sd = info["reference_sd"] if np.isfinite(info["reference_sd"]) else _sd(pairs[pre].to_numpy())
            rc, s_diff, category = reliable_change(change, sd, info["reliability"], info["direction"])
            frames.append(pd.DataFrame({
                "client_id": pairs.index.to_numpy(), "measure": measure, "comparison": comparison_code(pre, post),
                "pre": pairs[pre].to_numpy(), "post": pairs[post].to_numpy(), "change": change, "rc": rc,
                "reliable": category.to_numpy(), "sd_pre": sd, "s_diff": s_diff}))
    columns = ["client_id", "measure", "comparison", "pre", "post", "change", "rc", "reliable", "sd_pre", "s_diff"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def _change_stats(pre: np.ndarray, post: np.ndarray, change: np.ndarray) -> dict:
    """``n_pairs``, the means of pre, post and change, the t-based 95 % CI of the mean change,
    ``sd_change`` and d_z = mean change / SD of change (NaN below two pairs and when the changes are
    equal up to rounding, i.e. their SD is 0)."""
    n = len(change)
    row = {"n_pairs": n, "mean_pre": pre.mean() if n else np.nan, "mean_post": post.mean() if n else np.nan,
           "mean_change": change.mean() if n else np.nan}
    row["change_ci_low"], row["change_ci_high"] = _mean_ci(change)
    row["sd_change"] = sd_change = _sd(change)
    varies = n >= 2 and sd_change > 1e-9 * max(1.0, abs(row["mean_change"]))
    row["dz"] = row["mean_change"] / sd_change if varies else np.nan
    return row


def _paired_row(pairs: pd.DataFrame, info: pd.Series) -> dict:
    pre, post, change = (pairs[c].to_numpy(float) for c in ("pre", "post", "change"))
    n = len(change)
    row = _change_stats(pre, post, change)
    if np.isnan(row["dz"]):  # d_z is missing exactly when the changes do not vary: no t-test
        row["t_stat"] = row["t_p"] = np.nan
    else:
        test = stats.ttest_rel(post, pre)
        row["t_stat"], row["t_p"] = float(test.statistic), float(test.pvalue)
    row["wilcoxon_stat"], row["wilcoxon_p"] = signed_rank_test(change, int(info["decimals"]))
    row["dz_ci_low"], row["dz_ci_high"] = dz_confidence_interval(row["dz"], n)
    counts = pairs["reliable"].value_counts()
    rated = int(pairs["reliable"].notna().sum())
    for key, code in (("improved", "improved"), ("no_reliable_change", "no_change"), ("worsened", "worsened")):
        name = "n_reliable_" + key if key != "no_reliable_change" else "n_no_reliable_change"
        row[name] = int(counts.get(code, 0)) if rated else pd.NA
        row[RELIABLE_COUNTS[name]] = row[name] / rated if rated else np.nan
    sd_pre = float(pairs["sd_pre"].iloc[0]) if n else np.nan
    s_diff = float(pairs["s_diff"].iloc[0]) if n else np.nan
    row.update({
        "gz": row["dz"] * hedges_correction(n - 1) if n >= 3 else np.nan,
        "median_change": float(np.median(change)) if n else np.nan,
        "change_q1": float(np.percentile(change, 25)) if n else np.nan,
        "change_q3": float(np.percentile(change, 75)) if n else np.nan,
        "n_zero_change": int((change == 0).sum()), "sd_pre": sd_pre, "reliability": info["reliability"],
        "s_diff": s_diff, "rc_threshold": RELIABLE_Z * s_diff,
    })
    return row


def holm(p_values) -> np.ndarray:
    """Holm-adjusted p-values: statsmodels' ``multipletests(method="holm")``. Its Holm branch ends with
    a full ``gc.collect()``, which walks every object of the process (about 60 ms with 100 000 clients
    loaded); the objects alive before the call are frozen for it (``gc.freeze``, then unfrozen),
    unless the caller froze some already."""
    from statsmodels.stats.multitest import multipletests

    freeze = not gc.get_freeze_count()
    if freeze:
        gc.freeze()
    try:
        return multipletests(np.asarray(p_values, dtype=float), method="holm")[1]
    finally:
        if freeze:
            gc.unfreeze()


def paired_summary(changes: pd.DataFrame, measures: pd.DataFrame, options: Options) -> pd.DataFrame:
    """One row per measure × comparison: the ``prepost_summary.csv`` columns (DESIGN.md) followed by
    ``SUMMARY_EXTRA``. Measures without data get ``n_pairs`` 0 and empty statistics. ``p_holm``: Holm
    over the measures of one comparison (t-test p-values; measures without a p-value are left out)."""
    blocks = changes.groupby(["measure", "comparison"], sort=False).indices  # row positions, in order
    rows = []
    for measure, info in measures.iterrows():
        for pre, post in options.comparisons:
            code = comparison_code(pre, post)
            pairs = changes.iloc[blocks.get((measure, code), [])]
            rows.append({"measure": measure, "comparison": code, **_paired_row(pairs, info)})
    out = pd.DataFrame(rows)
    out["p_holm"] = np.nan
    for _, group in out.groupby("comparison", sort=False):
        valid = group["t_p"].notna()
        if valid.any():
            out.loc[group.index[valid], "p_holm"] = holm(group.loc[valid, "t_p"])
    counts = ["n_pairs", "n_zero_change", *RELIABLE_COUNTS]
    return out[SUMMARY_COLUMNS + SUMMARY_EXTRA].astype({c: "Int64" for c in counts})


# -- 4. attrition --------------------------------------------------------------------------------------
def eligibility(clients: pd.DataFrame, assigned: pd.DataFrame, options: Options, cutoff) -> pd.DataFrame:
    """Per client (index) and timepoint: ``due`` (the window had opened by the cut-off date while the
    client was in service: baseline = started; follow-up = start + first follow-up day ≤ cut-off and
    ≤ end date; end = ended by the cut-off) or measured, and ``measured`` (a used measurement)."""
    cutoff = pd.Timestamp(cutoff)
    start, end = clients["start_date"], clients["end_date"]
    followup_opens = start + pd.to_timedelta(options.followup_window[0], unit="D")
    due = pd.DataFrame({
        "baseline": start.le(cutoff),
        "followup": followup_opens.le(cutoff) & (end.isna() | followup_opens.le(end)),
        "end": end.notna() & end.le(cutoff),
    })
    due.index = clients["client_id"].to_numpy()
    used = assigned[assigned["status"] == "used"]
    measured = pd.DataFrame({tp: due.index.isin(used.loc[used["timepoint"] == tp, "client_id"])
                             for tp in TIMEPOINTS}, index=due.index)
    return pd.concat({"due": due | measured, "measured": measured}, axis=1)


def attrition(status: pd.DataFrame) -> pd.DataFrame:
    """Flow table ``timepoint, n_due, n_measured, n_not_measured, share_measured, n_with_baseline,
    n_without_baseline`` (clients; the complements make the relations n_due = measured + not measured
    and n_measured = with + without baseline explicit)."""
    rows = []
    for timepoint in TIMEPOINTS:
        due, measured = status[("due", timepoint)], status[("measured", timepoint)]
        with_baseline = int((measured & status[("measured", "baseline")]).sum())
        rows.append({"timepoint": timepoint, "n_due": int(due.sum()), "n_measured": int(measured.sum()),
                     "n_not_measured": int((due & ~measured).sum()),
                     "share_measured": measured.sum() / due.sum() if due.sum() else np.nan,
                     "n_with_baseline": with_baseline, "n_without_baseline": int(measured.sum()) - with_baseline})
    counts = ["n_due", "n_measured", "n_not_measured", "n_with_baseline", "n_without_baseline"]
    return pd.DataFrame(rows).astype({c: "Int64" for c in counts})


def standardised_mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    """(mean a − mean b) / √((SD a² + SD b²)/2) (Austin 2009); NaN when a group has < 2 values."""
    pooled = math.sqrt((_sd(a) ** 2 + _sd(b) ** 2) / 2) if len(a) > 1 and len(b) > 1 else np.nan
    return (a.mean() - b.mean()) / pooled if pooled and np.isfinite(pooled) else np.nan


def baseline_by_completion(assigned: pd.DataFrame, status: pd.DataFrame, measures: pd.DataFrame,
                           options: Options) -> pd.DataFrame:
    """Baseline (pre) scores of completers vs non-completers among clients measured at ``pre`` and due
    at ``post``: ``measure, comparison, n_completers, mean_completers, sd_completers,
    n_noncompleters, mean_noncompleters, sd_noncompleters, smd`` (completers − non-completers), and
    ``n_not_due``: clients measured at ``pre`` not (yet) due at ``post`` (the three counts add up to
    the clients measured at ``pre``)."""
    wide = _scores(assigned, measures)
    due_at = {post: status[("due", post)].reindex(wide.index, fill_value=False).to_numpy(bool)
              for _, post in options.comparisons}
    rows = []
    for measure in measures.index:
        for pre, post in options.comparisons:
            measured = wide[(measure, pre)].notna().to_numpy()
            base = wide[(measure, pre)].to_numpy(float)[measured]
            due = due_at[post][measured]
            done = wide[(measure, post)].notna().to_numpy()[measured]
            a, b = base[due & done], base[due & ~done]
            rows.append({"measure": measure, "comparison": comparison_code(pre, post),
                         "n_completers": len(a), "mean_completers": a.mean() if len(a) else np.nan,
                         "sd_completers": _sd(a), "n_noncompleters": len(b),
                         "mean_noncompleters": b.mean() if len(b) else np.nan, "sd_noncompleters": _sd(b),
                         "smd": standardised_mean_difference(a, b), "n_not_due": int((~due).sum())})
    return pd.DataFrame(rows).astype({"n_completers": "Int64", "n_noncompleters": "Int64", "n_not_due": "Int64"})


MIXED_COLUMNS = ["measure", "timepoint", "n_clients", "n_measurements", "n_at_timepoint", "estimate", "se",
                 "ci_low", "ci_high", "p", "converged"]
def mixed_model(long: pd.DataFrame) -> pd.DataFrame:
    """Fit ``score ~ timepoint`` (timepoint a factor, baseline the reference) with a random intercept
    per client by REML on ``client_id, timepoint, score``; one row per non-baseline timepoint: the
    fixed effect (difference from baseline, points) with its Wald 95 % CI and p (normal reference
    distribution). Fitted by :func:`tyokyky_eval.stats.lmm.random_intercept_reml`, whose estimates and
    standard errors are those of lme4's ``lmer(score ~ timepoint + (1 | client_id), REML = TRUE)``
    (its ``vcov``); linear in the number of clients. Empty when there is nothing to compare."""
    from tyokyky_eval.stats.lmm import random_intercept_reml

    long = long.dropna(subset=["score"])
    present = [tp for tp in TIMEPOINTS if tp in set(long["timepoint"].unique())]
    n_clients = long["client_id"].nunique()
    if "baseline" not in present or len(present) < 2 or n_clients < 2:
        return pd.DataFrame(columns=MIXED_COLUMNS[1:])
    codes = pd.Categorical(long["timepoint"], categories=present).codes
    design = np.column_stack([np.ones(len(long))] + [codes == k for k in range(1, len(present))])
    try:
        fit = random_intercept_reml(design, long["score"].to_numpy(float), long["client_id"])
        params, bse, converged = fit.params, fit.bse, fit.converged
    except np.linalg.LinAlgError:  # e.g. a timepoint whose scores are all equal to the baseline's
        params = bse = np.full(len(present), np.nan)
        converged = False
    z = stats.norm.ppf(0.975)
    rows = []
    for k, timepoint in enumerate(present[1:], start=1):
        estimate, se = params[k], bse[k]
        with np.errstate(divide="ignore", invalid="ignore"):
            p = 2 * stats.norm.sf(abs(estimate / se))
        rows.append({"timepoint": timepoint, "n_clients": n_clients, "n_measurements": len(long),
                     "n_at_timepoint": int((codes == k).sum()), "estimate": estimate, "se": se,
                     "ci_low": estimate - z * se, "ci_high": estimate + z * se, "p": p,
                     "converged": converged})
    return pd.DataFrame(rows)


def mixed_models(assigned: pd.DataFrame, measures: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """``MIXED_COLUMNS`` per measure, with the completers-only paired change (baseline → that
    timepoint) alongside: ``completers_n_pairs, completers_change, completers_ci_low, completers_ci_high``.
    Clients and timepoints are coded once for all measures (integer client codes, categorical timepoints)."""
    used = assigned[assigned["status"] == "used"]
    coded = pd.DataFrame({"client_id": pd.factorize(used["client_id"])[0],
                          "timepoint": pd.Categorical(used["timepoint"], categories=TIMEPOINTS)})
    frames = []
    for measure in measures.index:
        if measure not in assigned:
            continue
        fit = mixed_model(coded.assign(score=used[measure].to_numpy(float)))
        if not fit.empty:
            frames.append(fit.assign(measure=measure))
    out = pd.concat(frames, ignore_index=True)[MIXED_COLUMNS] if frames else pd.DataFrame(columns=MIXED_COLUMNS)
    completers = summary.assign(timepoint=summary["comparison"].str.replace("baseline_", "", regex=False))
    completers = completers[summary["comparison"].str.startswith("baseline_")][
        ["measure", "timepoint", "n_pairs", "mean_change", "change_ci_low", "change_ci_high"]].rename(columns={
            "n_pairs": "completers_n_pairs", "mean_change": "completers_change",
            "change_ci_low": "completers_ci_low", "change_ci_high": "completers_ci_high"})
    out = out.merge(completers, on=["measure", "timepoint"], how="left")
    return out.astype({"n_clients": "Int64", "n_measurements": "Int64", "n_at_timepoint": "Int64",
                       "completers_n_pairs": "Int64"})


SUBGROUP_COLUMNS = ["measure", "comparison", "n_pairs", "mean_pre", "mean_post", "mean_change",
                    "change_ci_low", "change_ci_high", "dz"]


def subgroup_summary(changes: pd.DataFrame, groups: pd.Series, measures: pd.DataFrame,
                     options: Options) -> pd.DataFrame:
    """Paired summaries per subgroup: ``groups`` maps client_id (index) to a subgroup code (missing →
    ``missing``); the table's first column is named after ``groups.name``. One row per subgroup ×
    measure × comparison (``SUBGROUP_COLUMNS``: the statistics of :func:`paired_summary` of the
    subgroup's pairs), subgroups sorted, every row with its statistics."""
    column = groups.name or "subgroup"
    groups = groups.astype("string").fillna("missing")
    blocks = changes.groupby([changes["client_id"].map(groups), "measure", "comparison"], sort=False).indices
    pre, post, change = (changes[c].to_numpy(float) for c in ("pre", "post", "change"))
    rows = []
    for value in sorted(groups.unique()):
        for measure in measures.index:
            for code in (comparison_code(*pair) for pair in options.comparisons):
                take = blocks.get((value, measure, code), [])
                rows.append({column: value, "measure": measure, "comparison": code,
                             **_change_stats(pre[take], post[take], change[take])})
    return pd.DataFrame(rows, columns=[column, *SUBGROUP_COLUMNS]).astype({"n_pairs": "Int64"})

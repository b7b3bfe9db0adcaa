"""Time from service start to the first competitive job: Kaplan–Meier, competing risks, Cox.

Built on statsmodels' duration tools (``SurvfuncRight``, ``survdiff``, ``CumIncidenceRight``,
``PHReg``); the proportional-hazards test is in :mod:`tyokyky_eval.stats.schoenfeld`. Times are in days
from ``start_date``; a month is 365/12 days, rounded down (6 months = 182 d, 12 months = 365 d).

Censoring rules (:func:`time_to_event`), applied in this order:

1. A first job on or before the end date (or, for clients still in service, on or before the
   cut-off) is the event at the job date, whatever the end reason. A job on the start date is an
   event at day 0 (it counts in the cumulative incidence at day 0; everybody is at risk at 0).
2. A first job *after* the end date counts only when the end reason is an event reason
   (``employed``: the service recorded the job, the contract merely started later) and at most
   ``employment_after_end_days`` (``validation.employment_after_end_days``) after the end. Jobs
   found after leaving for any other reason are not followed up systematically, so counting the few
   that happen to be recorded would bias the estimate; such clients are censored at the end date.
3. No job: still in service (no end date, or an end after the cut-off) → censored at the cut-off;
   a competing end reason (default ``pension``) → competing outcome at the end date; an event
   reason without a job date → event at the end date; every other reason (the censoring reasons,
   and reasons not listed anywhere) → censored at the end date.

With ``wage_subsidy_as_event=False`` a subsidised first job (palkkatuki) is its own competing
outcome ``wage_subsidy``: censored in Kaplan–Meier and Cox, a separate curve in the competing-risks
analysis.

Confidence intervals: pointwise 95 % CIs of the Kaplan–Meier curve use Greenwood's variance on
the log(−log S) scale ("exponential Greenwood", Kalbfleisch & Prentice 2002; as lifelines and
Stata; R's ``survfit`` defaults to the log scale) so that limits stay in [0, 1]; the median and
its CI are the times the curve and its pointwise limits reach 50 % (Brookmeyer & Crowley 1982),
read by R ``survfit``'s rule (:func:`r_quantile`: the midpoint of a flat stretch at exactly 50 %),
so the median agrees with R and its CI with the curve's. Aalen–Johansen cumulative incidences use
statsmodels' delta-method standard error, also on the log(−log) scale.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import CumIncidenceRight, SurvfuncRight, survdiff
from statsmodels.stats.proportion import proportion_confint

from tyokyky_eval.stats.schoenfeld import ph_test

DAYS_PER_MONTH = 365 / 12
IPS_BENCHMARKS = {"minimal": 0.31, "average": 0.41, "excellent": 0.50}  # Bond et al., IPS employment rates
KM_COLUMNS = ["group", "time_days", "n_at_risk", "n_events", "cumulative_incidence", "ci_low", "ci_high"]
SUMMARY_COLUMNS = ["group", "n", "n_events", "median_days", "median_ci_low", "median_ci_high",
                   "cumulative_incidence_182d", "cumulative_incidence_365d"]
COX_COLUMNS = ["term", "coef", "se", "hr", "hr_ci_low", "hr_ci_high", "p"]
CIF_COLUMNS = ["outcome", "time_days", "cif", "ci_low", "ci_high"]
EMPLOYED = "employed"
WAGE_SUBSIDY = "wage_subsidy"
CENSORED = "censored"


def _tuple(value, name: str) -> tuple:
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        raise ValueError(f"{name} must be a list, got {value!r}")
    return tuple(value)


@dataclass(frozen=True)
class Options:
    """Options of ``analyses.survival`` (defaults are the documented behaviour)."""

    event_reasons: tuple = ("employed",)  # end reasons that mean a competitive job
    competing_reasons: tuple = ("pension",)  # end reasons that rule the job out
    censoring_reasons: tuple = ("dropped_out", "other_service", "work_trial", "rehabilitative_work",
                                "education")
    wage_subsidy_as_event: bool = True  # False: a subsidised first job is a separate outcome
    group: str | None = None  # clients column for curves by group and the log-rank test
    covariates: tuple = ()  # Cox covariates: clients columns, "age_at_start", "baseline_<kykyviisari measure>"
    min_events_per_covariate: int = 10
    risk_table_months: tuple = (0, 3, 6, 9, 12, 18, 24)
    benchmark_followup_days: int = 365
    baseline_window_days: int = 60  # a baseline measurement is taken at most this long after start

    def __post_init__(self):
        for name in ("event_reasons", "competing_reasons", "censoring_reasons", "covariates",
                     "risk_table_months"):
            object.__setattr__(self, name, _tuple(getattr(self, name), name))
        if not self.event_reasons:
            raise ValueError("event_reasons must name at least one end reason (e.g. employed)")
        lists = {"event_reasons": self.event_reasons, "competing_reasons": self.competing_reasons,
                 "censoring_reasons": self.censoring_reasons}
        seen: dict[str, str] = {}
        for name, reasons in lists.items():
            for reason in reasons:
                if reason in seen:
                    raise ValueError(f"end reason '{reason}' is in both {seen[reason]} and {name}")
                seen[reason] = name
        if WAGE_SUBSIDY in seen or CENSORED in seen:
            raise ValueError(f"'{WAGE_SUBSIDY}' and '{CENSORED}' are reserved outcome names")
        if not isinstance(self.wage_subsidy_as_event, bool):
            raise ValueError("wage_subsidy_as_event must be true or false")
        for name in ("min_events_per_covariate", "benchmark_followup_days", "baseline_window_days"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive whole number, got {value!r}")
        months = self.risk_table_months
        if not months or any(not isinstance(m, int) or m < 0 for m in months) or list(months) != sorted(set(months)):
            raise ValueError("risk_table_months must be increasing whole numbers of months, e.g. [0, 3, 6, 12]")


def month_days(months) -> np.ndarray:
    """Months → days (365/12 days a month, rounded down): 6 → 182, 12 → 365."""
    return np.floor(np.asarray(months, dtype=float) * DAYS_PER_MONTH + 1e-9).astype(int)


# -- time to event -----------------------------------------------------------------------------
def time_to_event(clients: pd.DataFrame, cutoff_date, options: Options = Options(),
                  employment_after_end_days: int = 90) -> pd.DataFrame:
    """One row per client (same index): ``time_days`` (days from start), ``outcome`` (``employed``,
    ``wage_subsidy``, a competing end reason, or ``censored``), ``event`` (True = employment, the
    Kaplan–Meier event) and ``rule`` (which censoring rule applied; see the module docstring)."""
    cutoff = pd.Timestamp(cutoff_date)
    start, job, reason = clients["start_date"], clients["first_employment_date"], clients["end_reason"]
    end = clients["end_date"].where(clients["end_date"] <= cutoff)  # an end after the cut-off is unseen
    ongoing = end.isna()
    is_event_reason = reason.isin(options.event_reasons) & ~ongoing
    grace = pd.Timedelta(days=employment_after_end_days)
    job = job.where(job <= cutoff)
    job_in_service = job.notna() & (ongoing | (job <= end))
    job_after_end = job.notna() & ~job_in_service & is_event_reason & (job <= end + grace)
    counted_job = job_in_service | job_after_end
    competing = ~counted_job & ~ongoing & reason.isin(options.competing_reasons)
    event_at_end = ~counted_job & is_event_reason
    conditions = [job_in_service, job_after_end, ~counted_job & ongoing, competing, event_at_end]
    rule = np.select(conditions, ["job", "job_after_end", "ongoing_at_cutoff", "competing",
                                 "event_reason_at_end"], "censored_at_end")
    when = end.where(~ongoing, cutoff).where(~counted_job, job)
    employed = counted_job | event_at_end
    subsidised = counted_job & clients["wage_subsidy"].fillna(False).astype(bool)
    outcome = pd.Series(np.where(employed, EMPLOYED, CENSORED), index=clients.index, dtype=object)
    outcome[competing] = reason[competing]
    if not options.wage_subsidy_as_event:
        outcome[subsidised] = WAGE_SUBSIDY
    return pd.DataFrame({"time_days": (when - start).dt.days.astype(float), "outcome": outcome,
                         "event": outcome.eq(EMPLOYED), "rule": rule}, index=clients.index)


# -- Kaplan–Meier ------------------------------------------------------------------------------
def _loglog_limits(surv, var_log, z):
    """Pointwise limits for S on the log(−log S) scale; var_log = Greenwood Σ d/(n(n−d))."""
    with np.errstate(divide="ignore", invalid="ignore"):
        half = z * np.sqrt(var_log) / np.log(surv)
        low, high = surv ** np.exp(-half), surv ** np.exp(half)
    no_events = var_log == 0  # before the first event S = 1 exactly
    return np.where(no_events, 1.0, low), np.where(no_events, 1.0, high)


def kaplan_meier(time, event, alpha: float = 0.05) -> pd.DataFrame:
    """The Kaplan–Meier step function at day 0 and every event time: ``time_days, n_at_risk,
    n_events, survival, greenwood`` (Greenwood variance of log S, Σ d/(n(n−d))), ``se``
    (statsmodels' Greenwood SE of S), ``cumulative_incidence`` (1 − S) and its ``ci_low,
    ci_high`` (log(−log) scale)."""
    time, event = np.asarray(time, dtype=float), np.asarray(event, dtype=float)
    fit = SurvfuncRight(time, event)
    frame = pd.DataFrame({"time_days": fit.surv_times, "n_at_risk": fit.n_risk.astype(int),
                          "n_events": fit.n_events.astype(int), "survival": fit.surv_prob,
                          "se": fit.surv_prob_se})
    if frame.empty or frame["time_days"].iloc[0] > 0:
        start = {"time_days": 0.0, "n_at_risk": len(time), "n_events": 0, "survival": 1.0, "se": 0.0}
        frame = pd.concat([pd.DataFrame([start]), frame], ignore_index=True)
    n, d = frame["n_at_risk"].to_numpy(float), frame["n_events"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["greenwood"] = np.cumsum(np.where(n > d, d / (n * (n - d)), np.nan))
    low, high = _loglog_limits(frame["survival"].to_numpy(), frame["greenwood"].to_numpy(),
                               norm.ppf(1 - alpha / 2))
    frame["cumulative_incidence"] = 1 - frame["survival"]
    frame["ci_low"], frame["ci_high"] = 1 - high, 1 - low
    return frame


def r_quantile(curve: pd.DataFrame, column: str, last_time: float, p: float = 0.5,
               tol: float = np.sqrt(np.finfo(float).eps)) -> float:
    """The time at which the cumulative incidence ``curve[column]`` (a step function over
    ``curve["time_days"]``, from 0 at day 0) first reaches ``p``, by R survival's rule
    (``quantile.survfit``, its ``findq``): where the curve sits at exactly ``p`` (within ``tol``)
    over a flat stretch, the midpoint of that stretch, and of the stretch up to ``last_time`` (the
    last follow-up time) when the flat runs to the end of the curve; NaN when ``p`` is not reached."""
    x = np.r_[0.0, curve["time_days"].to_numpy(float)]
    y = np.r_[0.0, curve[column].to_numpy(float)]
    ends_defined = bool(np.isfinite(y[-1]))  # a limit is undefined (NaN) where S = 0
    x, y = x[np.isfinite(y)], y[np.isfinite(y)]
    if not y.max() >= p - tol:
        return np.nan
    keep = np.r_[True, np.diff(y) != 0]  # a level repeated (censoring, day 0): keep its first time
    x, y = x[keep], y[keep]
    first = np.flatnonzero(y + tol >= p)[0]  # R: approx(y + tol, 1:n, p, "constant", f = 1)
    second = np.flatnonzero(y - tol >= p)
    if abs(y[first] - p) >= tol:  # the curve jumps over p at ``first``
        return float(x[first])
    if second.size:  # flat at p from x[first] to the next jump
        return float((x[first] + x[second[0]]) / 2)
    return float((x[first] + last_time) / 2) if ends_defined else np.nan  # flat at p to the end


def median_time(time, event, alpha: float = 0.05) -> tuple[float, float, float]:
    """Median time to employment (days) with its CI, as R's ``survfit`` with ``conf.type =
    "log-log"`` reports it: the time the Kaplan–Meier cumulative incidence reaches 0.5 and the
    times its pointwise log(−log) limits reach 0.5 (:func:`r_quantile`; Brookmeyer & Crowley 1982).
    NaN = not reached; an upper limit of inf = not reached."""
    time = np.asarray(time, dtype=float)
    if not len(time):
        return np.nan, np.nan, np.inf
    curve, last = kaplan_meier(time, event, alpha), float(time.max())
    median, low, high = (r_quantile(curve, column, last) for column in
                         ("cumulative_incidence", "ci_high", "ci_low"))
    return median, low, (np.inf if np.isnan(high) else high)


def at_times(curve: pd.DataFrame, days) -> pd.DataFrame:
    """The step function ``curve`` (from :func:`kaplan_meier`) read at ``days``: the estimate at
    each day, ``n_at_risk`` just before it and ``n_events`` in (previous day, day]."""
    days = np.asarray(days, dtype=float)
    idx = np.searchsorted(curve["time_days"].to_numpy(), days, side="right") - 1
    rows = curve.iloc[np.maximum(idx, 0)].reset_index(drop=True)
    events = np.r_[0, np.cumsum(curve["n_events"].to_numpy())][idx + 1]
    return pd.DataFrame({"time_days": days, "n_events": np.diff(np.r_[0, events]).astype(int),
                         "cumulative_incidence": rows["cumulative_incidence"].to_numpy(),
                         "ci_low": rows["ci_low"].to_numpy(), "ci_high": rows["ci_high"].to_numpy()})


def grid(rows: pd.DataFrame, days) -> pd.DataFrame:
    """Kaplan–Meier of ``rows`` (``time_days``, ``event``) read at ``days`` with ``n_at_risk`` = the
    number followed at least that long; the estimate is missing where nobody is (beyond the data)."""
    at = at_times(kaplan_meier(rows["time_days"], rows["event"]), days)
    at["n_at_risk"] = [int((rows["time_days"] >= d).sum()) for d in at["time_days"]]
    beyond = at["n_at_risk"].eq(0)
    at.loc[beyond, ["cumulative_incidence", "ci_low", "ci_high"]] = np.nan
    return at


def _groups(tte: pd.DataFrame, group: pd.Series | None, min_cell: int):
    """("all", rows) then each group code with at least ``min_cell`` clients, sorted."""
    yield "all", tte
    if group is not None:
        for code, rows in tte.groupby(group.astype(str), sort=True):
            if len(rows) >= min_cell:
                yield code, rows


def km_tables(tte: pd.DataFrame, group: pd.Series | None, options: Options, min_cell: int):
    """``(curves, grid)``: the Kaplan–Meier cumulative incidence of employment for all clients and
    every group with ≥ ``min_cell`` clients, at every event time (``curves``) and at the risk-table
    months (``grid``); both with the ``survival_km.csv`` columns. In ``grid`` ``n_at_risk`` is the
    number followed at least that long and ``n_events`` the jobs since the previous time point."""
    days = month_days(options.risk_table_months)
    curves, grids = [], []
    for code, rows in _groups(tte, group, min_cell):
        curves.append(kaplan_meier(rows["time_days"], rows["event"]).assign(group=code)[KM_COLUMNS])
        grids.append(grid(rows, days).assign(group=code)[KM_COLUMNS])
    return pd.concat(curves, ignore_index=True), pd.concat(grids, ignore_index=True)


def summary_table(tte: pd.DataFrame, group: pd.Series | None, min_cell: int) -> pd.DataFrame:
    """``survival_summary.csv``: per group n, events, median days with CI (NaN = not reached;
    an upper limit of inf = not reached) and the cumulative incidence at 182 and 365 days.
    Groups below ``min_cell`` get counts only."""
    rows = []
    codes = ["all"] + (sorted(group.astype(str).unique()) if group is not None else [])
    for code in codes:
        part = tte if code == "all" else tte[group.astype(str).eq(code)]
        row = {"group": code, "n": len(part), "n_events": int(part["event"].sum())}
        if len(part) >= min_cell:
            row["median_days"], row["median_ci_low"], row["median_ci_high"] = median_time(
                part["time_days"], part["event"])
            at = grid(part, [182, 365])
            row["cumulative_incidence_182d"], row["cumulative_incidence_365d"] = at["cumulative_incidence"]
        rows.append(row)
    return pd.DataFrame(rows).reindex(columns=SUMMARY_COLUMNS)


def logrank(tte: pd.DataFrame, group: pd.Series, min_cell: int) -> dict | None:
    """Log-rank test (statsmodels ``survdiff``) between the groups with ≥ ``min_cell`` clients:
    ``{"chisq", "df", "p", "groups"}``, or None when fewer than two such groups."""
    codes = [code for code, _ in _groups(tte, group, min_cell)][1:]
    if len(codes) < 2:
        return None
    keep = group.astype(str).isin(codes)
    if not tte.loc[keep, "event"].any():  # no event in any group: nothing to compare
        return None
    chisq, p = survdiff(tte.loc[keep, "time_days"].to_numpy(float), tte.loc[keep, "event"].to_numpy(float),
                        group[keep].astype(str).to_numpy())
    return {"chisq": float(chisq), "df": len(codes) - 1, "p": float(p), "groups": codes}


# -- competing risks ---------------------------------------------------------------------------
def competing_risks(tte: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """``competing_risks.csv``: Aalen–Johansen cumulative incidence (statsmodels
    ``CumIncidenceRight``) of employment and each competing outcome at every event time, with a
    pointwise CI on the log(−log) scale from the delta-method SE."""
    outcomes = [EMPLOYED] + sorted(set(tte["outcome"]) - {EMPLOYED, CENSORED})
    status = tte["outcome"].map({o: k + 1 for k, o in enumerate(outcomes)}).fillna(0).to_numpy()
    if not status.any():  # nobody employed and no competing outcome: every curve is 0
        return pd.DataFrame(columns=CIF_COLUMNS).astype({"time_days": float, "cif": float,
                                                        "ci_low": float, "ci_high": float})
    with np.errstate(divide="ignore", invalid="ignore"):  # SE is undefined where all at risk fail
        fit = CumIncidenceRight(tte["time_days"].to_numpy(float), status)
    z = norm.ppf(1 - alpha / 2)
    frames = []
    for k, outcome in enumerate(outcomes):
        cif, se = np.asarray(fit.cinc[k]), np.asarray(fit.cinc_se[k])
        with np.errstate(divide="ignore", invalid="ignore"):
            half = z * se / (cif * np.log(cif))
            low, high = cif ** np.exp(-half), cif ** np.exp(half)
        positive = cif > 0
        frames.append(pd.DataFrame({"outcome": outcome, "time_days": fit.times, "cif": cif,
                                    "ci_low": np.where(positive, np.minimum(low, high), 0.0),
                                    "ci_high": np.where(positive, np.maximum(low, high), 0.0)}))
    return pd.concat(frames, ignore_index=True)[CIF_COLUMNS]


# -- Cox model ---------------------------------------------------------------------------------
#: the derived covariate "age at the start of service" (years, start year − birth year)
AGE_AT_START = "age_at_start"
BASELINE_PREFIX = "baseline_"


def covariates(clients: pd.DataFrame, kykyviisari: pd.DataFrame | None, names, options: Options,
               measurement_tolerance_days: int = 30) -> pd.DataFrame:
    """Cox covariates, one row per client (NaN where unknown). A name is, in this order: a column of
    ``clients`` (the user's own column always wins; a numeric column enters as a number, a text or
    boolean column as indicators ``column[code]`` against its most frequent code), ``age_at_start``
    (years: start year − birth year) or ``baseline_<measure>`` (the first Kykyviisari measurement
    from ``measurement_tolerance_days`` before to ``baseline_window_days`` after the start)."""
    parts = []
    for name in names:
        if name in clients:
            column = clients[name]
            if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
                parts.append(column.astype(float))
            else:
                codes = column.astype("string")
                reference = codes.value_counts().sort_index().idxmax()
                for code in sorted(set(codes.dropna()) - {reference}):
                    parts.append(codes.eq(code).astype(float).where(codes.notna()).rename(f"{name}[{code}]"))
        elif name == AGE_AT_START:
            parts.append((clients["start_date"].dt.year - clients["birth_year"]).astype(float).rename(name))
        elif name.startswith(BASELINE_PREFIX):
            measure = name.removeprefix(BASELINE_PREFIX)
            if kykyviisari is None or measure not in kykyviisari:
                raise ValueError(f"covariate '{name}': no Kykyviisari measure '{measure}' in the data")
            parts.append(_baseline(clients, kykyviisari, measure, options.baseline_window_days,
                                   measurement_tolerance_days).rename(name))
        else:
            raise ValueError(f"covariate '{name}' is neither a clients column, '{AGE_AT_START}' nor "
                             f"'{BASELINE_PREFIX}<measure>'")
    return pd.concat(parts, axis=1) if parts else pd.DataFrame(index=clients.index)


def _baseline(clients, kykyviisari, measure, window_days, tolerance_days) -> pd.Series:
    data = kykyviisari[["client_id", "measured_on", measure]].dropna()
    data = data.merge(clients[["client_id", "start_date"]].reset_index(), on="client_id")
    offset = (data["measured_on"] - data["start_date"]).dt.days
    data = data[offset.between(-tolerance_days, window_days)].sort_values(["index", "measured_on"])
    first = data.drop_duplicates("index").set_index("index")[measure]
    return first.reindex(clients.index).astype(float)


@dataclass
class CoxResult:
    """``table`` (``survival_cox.csv``) and ``ph`` (proportional-hazards score test, R survival ≥ 3.0
    ``cox.zph``; None when the test is undefined) or, when the model is skipped, ``skipped`` = a
    reason code with ``n_events`` and ``n_terms`` for the sentence."""

    n: int
    n_events: int
    n_terms: int
    table: pd.DataFrame | None = None
    ph: pd.DataFrame | None = None
    skipped: str | None = None
    missing: tuple = ()  # covariates whose data the project lacks (skipped = "missing_covariates")


def cox_model(tte: pd.DataFrame, exog: pd.DataFrame, options: Options, alpha: float = 0.05) -> CoxResult:
    """Cox proportional hazards model of employment (statsmodels ``PHReg``, Efron ties) on the
    clients with every covariate known: hazard ratios with Wald CIs and p-values, and the score test
    of R survival ≥ 3.0 ``cox.zph`` (``ph`` None when undefined, e.g. every job on one day).
    ``skipped`` says why there is no model: ``no_covariates``; ``too_few_events`` (below
    ``min_events_per_covariate`` per term); ``tied_events`` (every job on one day and nobody else at
    risk then: the exact partial likelihood does not depend on the coefficients, Efron's would give
    a spurious hazard ratio of 1); ``singular`` (a covariate constant or collinear among these clients)."""
    data = pd.concat([tte[["time_days", "event"]], exog], axis=1).dropna()
    n_events, n_terms = int(data["event"].sum()), exog.shape[1]
    result = CoxResult(n=len(data), n_events=n_events, n_terms=n_terms)
    time, status, x = data["time_days"].to_numpy(float), data["event"].to_numpy(int), data[exog.columns]
    jobs = time[status == 1]
    if n_terms == 0:
        result.skipped = "no_covariates"
    elif n_events < options.min_events_per_covariate * n_terms:
        result.skipped = "too_few_events"
    elif jobs.min() == jobs.max() and int((time >= jobs.max()).sum()) == n_events:
        result.skipped = "tied_events"
    if result.skipped:
        return result
    try:
        fit = PHReg(time, x.to_numpy(float), status, ties="efron").fit()
    except np.linalg.LinAlgError:
        result.skipped = "singular"
        return result
    ci = fit.conf_int(alpha=alpha)
    result.table = pd.DataFrame({"term": list(exog.columns), "coef": fit.params, "se": fit.bse,
                                 "hr": np.exp(fit.params), "hr_ci_low": np.exp(ci[:, 0]),
                                 "hr_ci_high": np.exp(ci[:, 1]), "p": fit.pvalues})[COX_COLUMNS]
    try:
        result.ph = ph_test(time, status, x.to_numpy(float), fit.params, names=list(exog.columns))
    except np.linalg.LinAlgError:
        result.ph = None  # no spread of job times among clients whose covariates differ
    return result


# -- IPS benchmark -----------------------------------------------------------------------------
def benchmark(clients: pd.DataFrame, tte: pd.DataFrame, cutoff_date, options: Options,
              alpha: float = 0.05) -> dict:
    """Share employed within ``benchmark_followup_days`` among the clients who started at least
    that long before the cut-off (everybody could be followed that long; leavers without a job
    count as not employed), with a Wilson CI and the IPS band: ``{"n", "employed", "share",
    "ci_low", "ci_high", "band"}`` (band ``below_minimal``, ``minimal``, ``average``,
    ``excellent``)."""
    days = options.benchmark_followup_days
    cohort = clients["start_date"] <= pd.Timestamp(cutoff_date) - pd.Timedelta(days=days)
    n = int(cohort.sum())
    employed = int((tte["event"] & (tte["time_days"] <= days))[cohort].sum())
    return {"n": n, "employed": employed, **benchmark_share(employed, n, alpha)}


def benchmark_share(employed: int, n: int, alpha: float = 0.05) -> dict:
    """``employed`` of ``n`` as a share (0–1) with its Wilson CI (statsmodels ``proportion_confint``)
    and its IPS band (:data:`IPS_BENCHMARKS`): ``{"share", "ci_low", "ci_high", "band"}``; NaN and
    no band when ``n`` is 0."""
    if not n:
        return {"share": np.nan, "ci_low": np.nan, "ci_high": np.nan, "band": None}
    low, high = proportion_confint(employed, n, alpha=alpha, method="wilson")
    share = employed / n
    band = "below_minimal"
    for name, limit in IPS_BENCHMARKS.items():
        if share >= limit:
            band = name
    return {"share": share, "ci_low": float(low), "ci_high": float(high), "band": band}

"""The projects' published values side by side, programme totals and pooled estimates (pure
functions: tidy frames in, tidy frames out; no files, no language).

Inputs are published tables of several projects stacked with a ``project`` column
(:meth:`~tyokyky_eval.programme.published.PublishedAppendix.table`): numbers, NaN (not estimable
or not reported) and :class:`~tyokyky_eval.programme.published.Hidden` cells. The programme's own
disclosure rule, which makes everything here a function of what the projects published:

- a value is copied as the project published it; a hidden count stays hidden, with its status;
- a statistic computed from a hidden value is withheld (``Hidden("withheld")``);
- a programme total is given only when every count in it is published: a total that would
  include a hidden count is withheld, so that subtracting the published parts gives nothing back;
- pooling uses published values only: a project value that is hidden is listed as withheld and
  counted in ``k_withheld``, never pooled, and no project or service is ever dropped silently.

Services are never pooled across kinds (:data:`tyokyky_eval.inputs.services.KINDS`): a work-ability
service and IPS job coaching are different things.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from tyokyky_eval.inputs.services import KINDS
from tyokyky_eval.programme.published import Hidden
from tyokyky_eval.publication import WITHHELD
from tyokyky_eval.stats import meta_analysis as ma
from tyokyky_eval.stats.survival import benchmark_share

WITHHELD_CELL = Hidden(WITHHELD)
#: the Kykyviisari comparison compared and pooled across projects (start → about 6 months)
COMPARISON = "baseline_followup"
#: the fewest studies (projects' services) pooled (DOMAIN: no pooling of fewer than three)
MIN_STUDIES = 3
SERVICE_KEY = ["project", "service"]


def hidden(value) -> bool:
    return isinstance(value, Hidden)


def known(value) -> bool:
    """True for a published finite number (not a boolean, symbol or NaN)."""
    return (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
            and bool(np.isfinite(value)))


def total(values) -> object:
    """The sum of published counts; withheld when any of them is hidden, NaN when one is missing."""
    values = list(values)
    if any(hidden(v) for v in values):
        return WITHHELD_CELL
    if not values or not all(known(v) for v in values):
        return np.nan
    return int(sum(values))


def _kind_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows by kind (in :data:`KINDS` order), keeping the given order within a kind."""
    rank = frame["kind"].map({k: i for i, k in enumerate(KINDS)}).fillna(len(KINDS))
    return frame.assign(_rank=rank).sort_values("_rank", kind="stable").drop(columns="_rank").reset_index(drop=True)


def _values(frame: pd.DataFrame | None, column: str, where: dict, name: str) -> pd.DataFrame:
    """``project, service, <name>``: the ``column`` of the rows of ``frame`` matching ``where``."""
    if frame is None or column not in frame:
        return pd.DataFrame(columns=[*SERVICE_KEY, name])
    mask = np.ones(len(frame), dtype=bool)
    for key, wanted in where.items():
        mask &= frame[key].to_numpy() == wanted
    return frame.loc[mask, [*SERVICE_KEY, column]].rename(columns={column: name})


def services_table(services: pd.DataFrame, flow: pd.DataFrame | None) -> pd.DataFrame:
    """Every service of every project: ``project, service, kind, clients, employed`` (clients and
    those who ended employed, from the projects' ``client_flow``; NaN where a project has none)."""
    out = services[[*SERVICE_KEY, "kind"]].merge(_values(flow, "n", {"end_reason": "total"}, "clients"),
                                                 on=SERVICE_KEY, how="left")
    out = out.merge(_values(flow, "n", {"end_reason": "employed"}, "employed"), on=SERVICE_KEY, how="left")
    return _kind_order(out.astype(object))


def totals_table(services: pd.DataFrame) -> pd.DataFrame:
    """Per kind: ``kind, n_projects, n_services, clients, employed``; a count is the sum over the
    kind's services only when every one of them is published (:func:`total`)."""
    rows = [{"kind": kind, "n_projects": int(part["project"].nunique()), "n_services": len(part),
             "clients": total(part["clients"]), "employed": total(part["employed"])}
            for kind, part in services.groupby("kind", sort=False)]
    return pd.DataFrame(rows, columns=["kind", "n_projects", "n_services", "clients", "employed"]).astype(
        {"clients": object, "employed": object})


def benchmark_table(services: pd.DataFrame, benchmark: pd.DataFrame | None) -> pd.DataFrame:
    """Every IPS service: ``project, service, followup_days, n, n_employed`` as published
    (``survival_benchmark``), and the share employed with its Wilson CI and IPS band
    (:func:`tyokyky_eval.stats.survival.benchmark_share`) from those counts; withheld when a count is
    hidden, NaN when the project reports none."""
    ips = services.loc[services["kind"].eq("ips"), SERVICE_KEY]
    columns = ["followup_days", "n", "n_employed"]
    source = (benchmark[[*SERVICE_KEY, *columns]] if benchmark is not None
              else pd.DataFrame(columns=[*SERVICE_KEY, *columns]))
    out = ips.merge(source, on=SERVICE_KEY, how="left").astype(object)
    shares = []
    for n, employed in zip(out["n"], out["n_employed"]):
        if known(n) and known(employed):
            shares.append(benchmark_share(int(employed), int(n)))
        else:
            value = WITHHELD_CELL if hidden(n) or hidden(employed) else np.nan
            shares.append({"share": value, "ci_low": value, "ci_high": value, "band": value})
    return pd.concat([out.reset_index(drop=True), pd.DataFrame(shares, columns=["share", "ci_low", "ci_high", "band"],
                                                                dtype=object)], axis=1)


def fidelity_table(scores: pd.DataFrame | None) -> pd.DataFrame:
    """The latest consensus fidelity review of every site: ``project, site_id, review_date,
    n_reviews, n_items_rated, prorated_total, mean_item_score, band, band_is_indicative``
    (``n_reviews``: the site's consensus reviews published)."""
    columns = ["project", "site_id", "review_date", "n_reviews", "n_items_rated", "prorated_total",
               "mean_item_score", "band", "band_is_indicative"]
    if scores is None:
        return pd.DataFrame(columns=columns)
    consensus = scores[scores["rater"].eq("consensus")].copy()
    consensus["review_date"] = pd.to_datetime(consensus["review_date"])
    consensus["n_reviews"] = consensus.groupby(["project", "site_id"])["review_date"].transform("nunique")
    latest = consensus.sort_values("review_date").groupby(["project", "site_id"], sort=False).tail(1)
    order = latest["project"].map({p: i for i, p in enumerate(scores["project"].unique())})
    return latest.assign(_order=order).sort_values(["_order", "site_id"])[columns].reset_index(drop=True)


def kykyviisari_table(services: pd.DataFrame, summary: pd.DataFrame | None,
                      comparison: str = COMPARISON) -> pd.DataFrame:
    """Kykyviisari change of ``comparison`` per service and measure, as published
    (``prepost_summary``): ``project, service, kind, measure, n_pairs, mean_change,
    change_ci_low, change_ci_high``."""
    columns = ["n_pairs", "mean_change", "change_ci_low", "change_ci_high"]
    if summary is None:
        return pd.DataFrame(columns=[*SERVICE_KEY, "kind", "measure", *columns])
    rows = summary[summary["comparison"].eq(comparison)][[*SERVICE_KEY, "measure", *columns]]
    out = services[[*SERVICE_KEY, "kind"]].merge(rows, on=SERVICE_KEY, how="inner")
    return _kind_order(out.astype(object))


# -- pooling ------------------------------------------------------------------------------------
POOLED_COLUMNS = ["outcome", "kind", "measure", "k", "k_withheld", "estimate", "ci_low", "ci_high", "pi_low",
                  "pi_high", "tau2", "i2", "q", "q_p", "status"]
STUDY_COLUMNS = ["outcome", "kind", "measure", "project", "service", "n", "estimate", "ci_low", "ci_high", "effect",
                 "se", "weight_pct"]


def _pooled_row(outcome: str, kind: str, measure, k: int, k_withheld: int, result, shown: dict | None) -> dict:
    """One row of the pooled table: ``shown`` holds the estimate and intervals on the display
    scale; τ², I², Q are on the scale of the analysis."""
    row = {"outcome": outcome, "kind": kind, "measure": measure, "k": k, "k_withheld": k_withheld,
           "status": "pooled" if shown else "too_few"}
    for column in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high"):
        row[column] = shown[column] if shown else np.nan
    for column in ("tau2", "i2", "q", "q_p"):
        row[column] = getattr(result, column) if shown else np.nan
    return row


def _withheld_studies(rows: pd.DataFrame, outcome: str, kind: str, measure) -> pd.DataFrame:
    return pd.DataFrame({"outcome": outcome, "kind": kind, "measure": measure, "project": rows["project"],
                         "service": rows["service"], "n": np.nan, "estimate": [WITHHELD_CELL] * len(rows)})


def pool_employment(benchmark: pd.DataFrame, minimum: int = MIN_STUDIES) -> tuple[dict, pd.DataFrame]:
    """IPS services' share employed within the benchmark follow-up pooled on the logit scale
    (metafor ``escalc("PLO")`` + ``rma(method = "REML", test = "knha")``, :mod:`tyokyky_eval.stats.meta_analysis`),
    back-transformed to a share (0–1) with its Knapp–Hartung CI and prediction interval; pooled
    only with at least ``minimum`` published services. Returns the pooled row and the studies
    (share with its Wilson CI; ``effect``, ``se`` in log odds; ``weight_pct``)."""
    usable = benchmark[benchmark["n"].map(known) & benchmark["n_employed"].map(known)]
    usable = usable[usable["n"].astype(float) > 0]
    withheld = benchmark[benchmark["share"].map(hidden)]
    studies = pd.DataFrame(columns=STUDY_COLUMNS)
    result = shown = None
    if ma.can_pool(len(usable), minimum):
        effects = ma.logit_proportion(usable.assign(study=usable["project"] + "/" + usable["service"]),
                                      events="n_employed", n="n")
        result = ma.pool(effects)
        shown = ma.pooled_proportion(result).rename(columns={"proportion": "estimate"}).iloc[0].to_dict()
        studies = pd.DataFrame({"outcome": "ips_employment", "kind": "ips", "measure": np.nan,
                                "project": usable["project"].to_numpy(), "service": usable["service"].to_numpy(),
                                "n": usable["n"].astype(int).to_numpy(),
                                "estimate": usable["share"].astype(float).to_numpy(),
                                "ci_low": usable["ci_low"].astype(float).to_numpy(),
                                "ci_high": usable["ci_high"].astype(float).to_numpy(),
                                "effect": effects["estimate"].to_numpy(),
                                "se": np.sqrt(effects["variance"].to_numpy()),
                                "weight_pct": result.studies["weight_pct"].to_numpy()})
        studies = pd.concat([studies, _withheld_studies(withheld, "ips_employment", "ips", np.nan)], ignore_index=True)
    row = _pooled_row("ips_employment", "ips", np.nan, len(usable), len(withheld), result, shown)
    return row, studies


def change_effects(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean change with its sampling variance from the published n and 95 % CI: the SD of the
    changes is sqrt(n)·(high − low)/(2·t₀.₉₇₅,ₙ₋₁) (Cochrane Handbook 6.5.2.2; the projects' CI is
    a paired t interval), then :func:`tyokyky_eval.stats.meta_analysis.mean_change` (variance sd²/n,
    points²). Returns ``study, n, estimate, variance``."""
    n = rows["n_pairs"].astype(float).to_numpy()
    width = rows["change_ci_high"].astype(float).to_numpy() - rows["change_ci_low"].astype(float).to_numpy()
    sd = np.sqrt(n) * width / (2 * stats.t.ppf(0.975, n - 1))
    frame = pd.DataFrame({"study": (rows["project"] + "/" + rows["service"]).to_numpy(), "n": n,
                          "mean_change": rows["mean_change"].astype(float).to_numpy(), "sd": sd})
    return ma.mean_change(frame, sd_change="sd")


def pool_changes(kykyviisari: pd.DataFrame, minimum: int = MIN_STUDIES) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Kykyviisari mean change pooled per service kind and measure (REML, Knapp–Hartung CI,
    prediction interval; points on the measure's scale) where at least ``minimum`` services
    publish n, mean change and CI; every kind and measure with a published or withheld value
    gets a row (``status`` ``pooled`` or ``too_few``). Returns the pooled rows and the studies."""
    rows, studies = [], []
    value_columns = ["n_pairs", "mean_change", "change_ci_low", "change_ci_high"]
    for (kind, measure), part in kykyviisari.groupby(["kind", "measure"], sort=False):
        ok = part[value_columns].apply(lambda c: c.map(known)).all(axis=1) & part["n_pairs"].map(
            lambda v: known(v) and v >= 2)
        usable, withheld = part[ok], part[~ok & part[value_columns].apply(lambda c: c.map(hidden)).any(axis=1)]
        result = shown = None
        if ma.can_pool(len(usable), minimum):
            effects = change_effects(usable)
            result = ma.pool(effects)
            shown = {c: getattr(result, c) for c in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")}
            studies.append(pd.DataFrame({
                "outcome": "kykyviisari_change", "kind": kind, "measure": measure,
                "project": usable["project"].to_numpy(), "service": usable["service"].to_numpy(),
                "n": usable["n_pairs"].astype(int).to_numpy(), "estimate": effects["estimate"].to_numpy(),
                "ci_low": usable["change_ci_low"].astype(float).to_numpy(),
                "ci_high": usable["change_ci_high"].astype(float).to_numpy(),
                "effect": effects["estimate"].to_numpy(), "se": np.sqrt(effects["variance"].to_numpy()),
                "weight_pct": result.studies["weight_pct"].to_numpy()}))
            studies.append(_withheld_studies(withheld, "kykyviisari_change", kind, measure))
        if len(usable) or len(withheld):
            rows.append(_pooled_row("kykyviisari_change", kind, measure, len(usable), len(withheld), result, shown))
    pooled = pd.DataFrame(rows, columns=POOLED_COLUMNS)
    return pooled, (pd.concat(studies, ignore_index=True)[STUDY_COLUMNS] if studies else
                    pd.DataFrame(columns=STUDY_COLUMNS))


def pooled_tables(benchmark: pd.DataFrame, kykyviisari: pd.DataFrame,
                  minimum: int = MIN_STUDIES) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every pooled estimate (:func:`pool_employment`, :func:`pool_changes`) and its studies."""
    employment, employment_studies = pool_employment(benchmark, minimum)
    changes, change_studies = pool_changes(kykyviisari, minimum)
    pooled = pd.concat([pd.DataFrame([employment], columns=POOLED_COLUMNS), changes], ignore_index=True)
    parts = [f for f in (employment_studies, change_studies) if len(f)]
    studies = pd.concat(parts, ignore_index=True)[STUDY_COLUMNS] if parts else pd.DataFrame(columns=STUDY_COLUMNS)
    studies["n"] = studies["n"].map(lambda v: int(v) if known(v) else v).astype(object)
    return pooled.astype({"k": int, "k_withheld": int}), studies.astype({"estimate": object})


#: published reference figures for IPS employment (DOMAIN.md): ``reference, measure, value,
#: comparison_value, n_trials, population``; values are shares (0–1) or a risk ratio
REFERENCES = pd.DataFrame([
    ("ips_benchmark_minimal", "employment_rate", 0.31, np.nan, np.nan, "ips_programmes"),
    ("ips_benchmark_average", "employment_rate", 0.41, np.nan, np.nan, "ips_programmes"),
    ("ips_benchmark_excellent", "employment_rate", 0.50, np.nan, np.nan, "ips_programmes"),
    ("bond_drake_becker_2008", "competitive_employment", 0.61, 0.23, 11, "severe_mental_illness_rct"),
    ("brinchmann_2020", "risk_ratio", 2.07, np.nan, 27, "severe_mental_illness_rct"),
    ("frederick_vanderweele_2019", "risk_ratio", 1.63, np.nan, np.nan, "severe_mental_illness_rct"),
], columns=["reference", "measure", "value", "comparison_value", "n_trials", "population"])


def coverage_table(projects: pd.DataFrame, services: pd.DataFrame, benchmark: pd.DataFrame,
                   kykyviisari: pd.DataFrame, fidelity: pd.DataFrame) -> pd.DataFrame:
    """What each project publishes for the comparison: ``project, cutoff_date, n_services,
    ips_benchmark, kykyviisari, fidelity`` with codes ``published`` (some value published),
    ``withheld`` (reported, every value hidden), ``not_reported`` or ``not_applicable`` (no IPS
    service): no project is left out without a word."""
    def status(part: pd.DataFrame, column: str) -> str:
        if part.empty:
            return "not_reported"
        values = part[column]
        if values.map(known).any():
            return "published"
        return "withheld" if values.map(hidden).any() else "not_reported"

    rows = []
    for project, cutoff in zip(projects["project"], projects["cutoff_date"]):
        ips = benchmark[benchmark["project"].eq(project)]
        rows.append({"project": project, "cutoff_date": pd.Timestamp(cutoff),
                     "n_services": int(services["project"].eq(project).sum()),
                     "ips_benchmark": status(ips, "share") if len(ips) else "not_applicable",
                     "kykyviisari": status(kykyviisari[kykyviisari["project"].eq(project)], "mean_change"),
                     "fidelity": "published" if fidelity["project"].eq(project).any() else "not_reported"})
    return pd.DataFrame(rows, columns=["project", "cutoff_date", "n_services", "ips_benchmark", "kykyviisari",
                                       "fidelity"])

"""Overview section: the project, its data, the data-quality summary and the flow of clients.

Every function returns aggregates only (counts by table, kind or end reason), never rows or ids.
"""
from __future__ import annotations

import re

import pandas as pd

from tyokyky_eval.disclosure import count_text, suppress_counts
from tyokyky_eval.errors import Problem
from tyokyky_eval.i18n import fmt_date, has_text, t
from tyokyky_eval.project import Project
from tyokyky_eval.publication import escape_markdown

_DATE_COLUMN = {"clients": "start_date", "kykyviisari": "measured_on", "fidelity": "review_date"}
_UNIT_COLUMN = {"clients": "client_id", "kykyviisari": "client_id", "fidelity": "site_id",
                "feedback": "survey_id"}
#: order of the client-flow table (canonical end reasons, then still in service)
FLOW_ORDER = ("employed", "work_trial", "rehabilitative_work", "education", "pension", "other_service",
              "dropped_out", "other", "in_service")


def data_summary(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per input table: ``table, n_rows, n_units, first_date, last_date`` (units = clients,
    sites or surveys; dates from the table's main date column)."""
    rows = []
    for name in sorted(tables):
        frame = tables[name]
        dates = frame[_DATE_COLUMN[name]] if name in _DATE_COLUMN else pd.Series(dtype="datetime64[ns]")
        rows.append({"table": name, "n_rows": len(frame), "n_units": frame[_UNIT_COLUMN[name]].nunique(),
                     "first_date": dates.min(), "last_date": dates.max()})
    return pd.DataFrame(rows)


def project_text(project: Project) -> str:
    """One paragraph: title, description, evaluation period and data cut-off date."""
    p, lang = project.params, project.language
    parts = [t("overview.project", lang, title=escape_markdown(p.title))]
    if p.description:
        parts.append(escape_markdown(p.description))
    if p.evaluation_period:
        parts.append(t("overview.period", lang, start=fmt_date(p.evaluation_period[0], lang),
                       end=fmt_date(p.evaluation_period[1], lang)))
    parts.append(t("overview.cutoff", lang, cutoff=fmt_date(p.cutoff_date, lang)))
    return " ".join(parts)


def data_text(project: Project) -> str:
    """What the data hold: clients, measurements, reviews and responses (small counts as '<5')."""
    lang, min_cell = project.language, project.params.disclosure.min_cell
    parts = []
    clients = project.table("clients")
    if clients is not None:
        parts.append(t("overview.n_clients", lang, n=count_text(clients["client_id"].nunique(), min_cell)))
    kyky = project.table("kykyviisari")
    if kyky is not None:
        parts.append(t("overview.n_measurements", lang, n=count_text(len(kyky), min_cell),
                       n_clients=count_text(kyky["client_id"].nunique(), min_cell)))
    fidelity = project.table("fidelity")
    if fidelity is not None:
        reviews = fidelity[["site_id", "review_date"]].drop_duplicates()
        parts.append(t("overview.n_reviews", lang, n=len(reviews), n_sites=reviews["site_id"].nunique()))
    feedback = project.table("feedback")
    if feedback is not None:
        parts.append(t("overview.n_responses", lang, n=len(feedback), n_surveys=feedback["survey_id"].nunique()))
    listing = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} {t('overview.and', lang)} {parts[-1]}"
    return t("overview.data_holds", lang, listing=listing)


def quality_summary(warnings: list[Problem]) -> pd.DataFrame:
    """Validation warnings counted by ``file, column, kind`` (the message's locale key), column
    ``n``; no rows, values or ids."""
    frame = pd.DataFrame([(w.file, w.column or "", w.key or w.message) for w in warnings],
                         columns=["file", "column", "kind"])
    counts = frame.value_counts().rename("n").reset_index()
    return counts.sort_values(["file", "column", "kind"], kind="stable").reset_index(drop=True)


def kind_text(kind: str, language: str) -> str:
    """The warning's message with its row-specific values left out ('… days before …')."""
    key = f"validation.{kind}"
    if not has_text(key, language):
        return kind
    return re.sub(r"\{[^}]*\}", "…", t(key, language))


def quality_published(summary: pd.DataFrame, min_cell: int, language: str) -> pd.DataFrame:
    """Publishable quality summary: kinds described in words, small counts suppressed. The user's
    file names are not published (they may name people): counts are summed over files."""
    summary = summary.groupby(["column", "kind"], sort=True)["n"].sum().reset_index()
    out = suppress_counts(summary, ["n"], min_cell)
    out["kind"] = summary["kind"].map(lambda k: kind_text(k, language))
    return out


def quality_text(project: Project) -> str:
    """One sentence: the data passed validation, with how many warnings."""
    return t("overview.quality", project.language, n_tables=len(project.tables),
             n_rows=sum(len(f) for f in project.tables.values()), n_warnings=len(project.warnings))


def client_flow(clients: pd.DataFrame) -> pd.DataFrame:
    """Clients by end reason (``in_service`` = no end reason yet) with a ``total`` row:
    ``end_reason, n, share`` (share in per cent of all clients, 0–100)."""
    reasons = clients["end_reason"].fillna("in_service").replace("", "in_service")
    counts = reasons.value_counts()
    order = [r for r in FLOW_ORDER if r in counts.index] + sorted(set(counts.index) - set(FLOW_ORDER))
    flow = pd.DataFrame({"end_reason": order, "n": [int(counts[r]) for r in order]})
    total = int(flow["n"].sum())
    flow = pd.concat([flow, pd.DataFrame({"end_reason": ["total"], "n": [total]})], ignore_index=True)
    flow["share"] = 100 * flow["n"] / total
    return flow


def client_flow_published(flow: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Small counts and their shares hidden; the total is published, so a single hidden count is
    protected by hiding the next smallest one (secondary suppression)."""
    total_row = flow.index[flow["end_reason"].eq("total")][0]
    return suppress_counts(flow, ["n"], min_cell, dependent={"n": ["share"]}, margins="columns",
                           total_row=total_row)

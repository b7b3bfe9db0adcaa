"""The key findings ("Keskeiset tulokset"), the appendix's first section: per service its clients,
employed clients, the share employed within the IPS benchmark's follow-up with its CI and band,
and the Kykyviisari change on the instrument's first measure; then each site's latest consensus
fidelity band and each goal's status. Every value is a cell of a published table of the protected
appendix, shown as that table shows it (a withheld one as its symbol) and linked to the table.
"""
from __future__ import annotations

import dataclasses

import pandas as pd

from tyokyky_eval.i18n import t
from tyokyky_eval.inputs import services as service_codes
from tyokyky_eval.publication import is_symbol
from tyokyky_eval.render.cells import Cell, typed_columns
from tyokyky_eval.render.document import Heading, Part, Prose, TableBlock

KEY = "key_findings"


class _Published:
    """The published tables of an appendix, read as the appendix shows them."""

    def __init__(self, appendix, language: str):
        self.frames = appendix.frames()
        self.specs = {spec.name: spec for specs in appendix.specs.values() for spec in specs}
        self.language = language

    def row(self, table: str, **where) -> pd.DataFrame | None:
        """The first row of ``table`` whose columns equal ``where`` (codes), or None."""
        frame = self.frames.get(table)
        if frame is None or frame.empty or not set(where) <= set(frame.columns):
            return None
        mask = pd.Series(True, index=frame.index)
        for column, value in where.items():
            mask &= frame[column].astype(str).eq(str(value))
        return frame[mask].head(1) if mask.any() else None

    def cells(self, table: str, row: pd.DataFrame, columns) -> list[Cell]:
        """The cells of ``columns`` of ``row`` as the table shows them, each linked to the table."""
        spec = self.specs[table]
        shown = row[list(columns)].copy()
        for column, labels in spec.labels.items():
            if column in shown:
                shown[column] = shown[column].map(lambda v, m=labels: m[v][self.language] if v in m else v)
        typed = typed_columns(shown, self.language, spec.decimals, spec.code_columns, spec.namespace)
        return [dataclasses.replace(cells[0], link=f"table-{table}") for _, cells in typed]


def _interval(low: Cell, high: Cell) -> Cell:
    return Cell(f"{low.text}–{high.text}", link=low.link) if low.text not in ("", "–") else Cell("–")


def key_findings(appendix, project, language: str, shown=None) -> Part | None:
    """The key findings of the protected ``appendix`` of ``project``, or None when it has none;
    with ``shown`` (the names of the tables the appendix shows), only those whose table is shown."""
    published = _Published(appendix, language)

    def say(key, **values):
        return t(f"findings.{key}", language, **values)

    rows = []
    for service in service_codes.of_project(project).values():
        name = service.name(language)
        summary = published.row("survival_summary", service=service.code, group="all")
        if summary is not None:
            clients, employed = published.cells("survival_summary", summary, ["n", "n_events"])
        elif (summary := published.row("employment_clients", service=service.code)) is not None:
            clients, employed = published.cells("employment_clients", summary, ["n_clients", "n_employed"])
        else:
            clients = employed = None
        if clients is not None:
            rows += [(name, say("clients"), clients, Cell("")), (name, say("employed"), employed, Cell(""))]
        benchmark = published.row("survival_benchmark", service=service.code)
        if benchmark is not None:
            days, share, low, high, band = published.cells(
                "survival_benchmark", benchmark, ["followup_days", "share", "ci_low", "ci_high", "band"])
            rows += [(name, say("employed_share", days=days.text), share, _interval(low, high)),
                     (name, say("benchmark_band"), band, Cell(""))]
        change = published.row("prepost_summary", service=service.code)
        if change is not None:
            measure, comparison, pairs, mean, low, high = published.cells(
                "prepost_summary", change, ["measure", "comparison", "n_pairs", "mean_change", "change_ci_low",
                                            "change_ci_high"])
            rows += [(name, say("change", measure=measure.text, comparison=comparison.text), mean,
                      _interval(low, high)),
                     (name, say("pairs", measure=measure.text, comparison=comparison.text), pairs, Cell(""))]
    rows += _fidelity(published, say) + _goals(published, say)
    if shown is not None:
        rows = [row for row in rows if row[2].link.removeprefix("table-") in shown]
    if not rows:
        return None
    rules = appendix.rules
    withheld = any(is_symbol(c.text, rules) for *_, value, ci in rows for c in (value, ci))
    note = rules.legend(language) if withheld else ""
    table = TableBlock(say("caption"), (say("service"), say("finding"), say("value"), say("interval")),
                       tuple((Cell(a), Cell(b), value, ci) for a, b, value, ci in rows), note, KEY)
    return Part(KEY, (Heading(1, say("title")), Prose(say("intro")), table))


def _fidelity(published: _Published, say) -> list[tuple]:
    """Each site's latest consensus review: its band and prorated total."""
    frame = published.frames.get("fidelity_scores")
    if frame is None or frame.empty:
        return []
    rows = []
    consensus = frame[frame["rater"].astype(str).eq("consensus")]
    for site in consensus["site_id"].drop_duplicates():
        latest = consensus[consensus["site_id"].eq(site)].tail(1)
        site_cell, date, total, band = published.cells("fidelity_scores", latest,
                                                       ["site_id", "review_date", "prorated_total", "band"])
        rows += [(say("programme"), say("fidelity_total", site=site_cell.text, date=date.text), total, Cell("")),
                 (say("programme"), say("fidelity_band", site=site_cell.text, date=date.text), band, Cell(""))]
    return rows


def _goals(published: _Published, say) -> list[tuple]:
    """Each goal's status."""
    frame = published.frames.get("goals")
    if frame is None or frame.empty:
        return []
    rows = []
    for position in range(len(frame)):
        goal, status = published.cells("goals", frame.iloc[[position]], ["goal", "status"])
        rows.append((say("programme"), say("goal", goal=goal.text), status, Cell("")))
    return rows

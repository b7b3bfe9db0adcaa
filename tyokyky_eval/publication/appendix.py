"""The protected appendix: every section of a project built once and protected as one appendix.

:func:`protect_appendix` builds each section that the project has data for, once, in the
registry's order, and decides what the whole appendix publishes:

1. each section protects its own tables (``Section.protected``: primary suppression, secondary
   suppression by least cost (:func:`tyokyky_eval.publication.cost`), derived statistics, the
   follow-up rule) and hands its release to the sections built after it;
2. the appendix's relations are gathered in one list (:func:`relations`): every table's lines,
   every section's links and audit relations, and the counts that two sections publish as the same
   number (:data:`FACTS`: a service's clients, its employed clients);
3. one integer-programming audit over every published count and every relation
   (:func:`tyokyky_eval.publication.audit`) hides, cheapest first, whatever would let a hidden count
   be worked out, and withholds the statistics derived from what it hides;
4. every section's ``published()`` then reads the appendix's release (``project.release``), so
   prose, figures and ``tables/`` show one protection.

:func:`checker_report` is the disclosure report for the output checker (FIONA, Kapseli, a
hospital district's secure environment): every published table, the cells each rule withheld, the
audit with each hidden count's feasible interval, and what was withheld. :func:`write_disclosure`
writes it with the relations in a tool-neutral JSON form, and :func:`audit_folder` re-runs the audit
from a published appendix folder alone (``tyokyky-eval audit``). No library offers a joint
protection of linked tables across a whole report with a re-runnable audit; this module is that.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tyokyky_eval import publication
from tyokyky_eval.errors import SectionError, TyokykyEvalError
from tyokyky_eval.publication import PRIMARY, SECONDARY, WITHHELD, is_symbol
from tyokyky_eval.sections import REGISTRY

#: relations file of a published appendix (``disclosure/relations.json``), format version
RELATIONS_FORMAT = "tyokyky-eval-relations/1"
DISCLOSURE = "disclosure"

#: counts that two sections publish as the same number, per service: each entry lists
#: ``(table, column, {column: value})`` cells (the dict selects the row within a service)
FACTS = (
    ("service_clients", (("survival_summary", "n", {"group": "all"}), ("pathways_service_outcomes", "total", {}),
                         ("employment_clients", "n_clients", {}), ("costs_per_client", "n_clients", {}),
                         ("activities_event_doctor_assessment", "n_clients", {}))),
    ("service_employed", (("survival_summary", "n_events", {"group": "all"}), ("employment_clients", "n_employed", {}),
                          ("costs_per_client", "n_employed", {}))),
)

#: counts of the whole project that equal the sum of other tables' rows: ``(whole, parts)``, each
#: ``(table, column, {column: value})``; used where they hold in the data (a relation an attacker
#: may assume is one the audit must know)
TOTALS = (
    (("data_summary", "n_rows", {"table": "kykyviisari"}),
     ("prepost_timepoint_counts", "n_measurements", {"category": "total"})),
    (("data_summary", "n_rows", {"table": "clients"}), ("pathways_service_outcomes", "total", {"service": "total"})),
    (("data_summary", "n_rows", {"table": "clients"}), ("costs_per_client", "n_clients", {"service": "all"})),
    (("data_summary", "n_rows", {"table": "clients"}), ("survival_summary", "n", {"group": "all"})),
    (("data_summary", "n_rows", {"table": "employment"}), ("employment_jobs", "n_jobs", {})),
)


@dataclass
class ProtectedAppendix:
    """One project's appendix as published: ``sections`` (name → built section), ``specs``
    (section → its :class:`~tyokyky_eval.publication.Table` specs), ``release`` (section → table →
    published frame), ``relations`` (the audit's, each ``(terms, low, high)`` with terms
    ``(coefficient, (table, row, column))``), ``audit_added`` / ``audit_shown`` (cells the
    appendix-wide audit hid beyond, or showed against, the sections' own protection)."""

    project_id: str
    rules: publication.Rules
    sections: dict = field(default_factory=dict)
    specs: dict = field(default_factory=dict)
    release: dict = field(default_factory=dict)
    relations: list = field(default_factory=list)
    audit_added: list = field(default_factory=list)
    audit_shown: list = field(default_factory=list)
    #: (section, language) → its blocks as shown (``render.document.section_blocks``)
    blocks: dict = field(default_factory=dict, repr=False)
    #: in a run, its validated folder: the run and its kernel share the making of blocks there
    #: (``render.document.make_blocks_ahead``)
    shared: Path | None = field(default=None, repr=False)
    _internal: dict | None = field(default=None, repr=False)

    def frames(self) -> dict[str, pd.DataFrame]:
        """Every published table by name (table names are unique across sections)."""
        return {name: frame for tables in self.release.values() for name, frame in tables.items()}

    def internal(self) -> dict[str, pd.DataFrame]:
        """The full-precision data behind every published table, by name. Where a section's table
        spec already holds symbols (overview, feedback, pathways protect in their data), the
        section's internal table of the same name and shape gives the true values."""
        if self._internal is None:
            self._internal = {}
            for name, specs in self.specs.items():
                internal = self.sections[name].internal()
                for spec in specs:
                    frame = spec.data.reset_index(drop=True)
                    full = internal.get(spec.name)
                    if full is not None and full.shape == frame.shape and list(full.columns) == list(frame.columns):
                        symbol = frame.map(lambda v: is_symbol(v, self.rules)).to_numpy()
                        frame = frame.astype(object).where(~symbol, full.reset_index(drop=True).astype(object))
                    self._internal[spec.name] = frame
        return self._internal


def status_of(frame: pd.DataFrame, rules: publication.Rules) -> pd.DataFrame:
    """The status of every cell of a published frame, read from its symbols."""
    by_symbol = {rules.symbol(s): s for s in (PRIMARY, SECONDARY, WITHHELD)}
    return frame.map(lambda v: by_symbol.get(v, "") if isinstance(v, str) else "").astype(object)


def protect_appendix(project) -> ProtectedAppendix:
    """Build and protect every section of ``project`` that it has data for (see the module
    docstring), once per project: sets ``project.release`` and ``project.appendix``."""
    if project.appendix is not None:
        return project.appendix
    disclosure = project.params.disclosure
    rules = publication.Rules(disclosure.min_cell, disclosure.min_followup)
    appendix = ProtectedAppendix(project.params.project_id, rules)
    project.release = {}
    for name, entry in REGISTRY.items():
        if entry.missing(project):
            continue
        try:
            section = entry.load()(project)
            appendix.specs[name] = section.tables()
            project.release[name] = {table: frame.copy() for table, frame in section.protected().items()}
        except TyokykyEvalError:
            raise
        except Exception as exc:  # a bug or an unforeseen shape of valid data: name the section, no traceback
            raise SectionError(f"section {name!r} could not be computed for project {project.params.project_id}: "
                               f"{type(exc).__name__}: {exc}") from exc
        appendix.sections[name] = section
    names = [spec.name for specs in appendix.specs.values() for spec in specs]
    if len(names) != len(set(names)):
        raise ValueError(f"table names repeat across sections: {sorted({n for n in names if names.count(n) > 1})}")
    appendix.release = project.release
    appendix.relations = relations(appendix)
    _audit(appendix)
    project.appendix = appendix
    return appendix


# -- relations --------------------------------------------------------------------------------------
def _line_relations(line: publication.Line) -> list:
    """A line with a total as a relation: its cells add up to it. A line without one is a
    protection device of its section (its total published elsewhere, or parts and whole listed
    together) and says nothing exact on its own; the true relations behind it come from
    ``audit_relations`` and :data:`FACTS`."""
    if line.total is None or not line.cells:  # no parts (one group only): no relation
        return []
    return [([(1.0, cell) for cell in line.cells] + [(-1.0, line.total)], 0.0, 0.0)]


def relations(appendix: ProtectedAppendix) -> list:
    """Every relation an attacker knows between the appendix's counts (see the module docstring),
    sorted and without repeats; cells ``(table, row, column)``."""
    internal = appendix.internal()

    def value(cell) -> float:
        frame = internal[cell[0]]
        number = pd.to_numeric(pd.Series([frame.at[cell[1], cell[2]]]), errors="coerce").iloc[0]
        return float(number) if pd.notna(number) else np.nan

    out = []
    for name, section in appendix.sections.items():
        for spec in appendix.specs[name]:
            for line in spec.lines:
                moved = publication.Line(tuple((spec.name, *c) for c in line.cells),
                                         None if line.total is None else (spec.name, *line.total))
                out += _line_relations(moved)
        for line in section.audit_lines():
            out += _line_relations(line)
        out += list(section.audit_relations())
    out += _fact_relations(internal) + _total_relations(internal)
    counts = {(spec.name, column) for specs in appendix.specs.values() for spec in specs for column in spec.counts}
    unique = {}
    for terms, low, high in out:
        if all((cell[0], cell[2]) in counts and np.isfinite(value(cell)) for _, cell in terms):  # true values known
            key = (tuple(sorted((float(k), tuple(c)) for k, c in terms)), float(low), float(high))
            unique[key] = (list(key[0]), key[1], key[2])
    return [(list(terms), low, high) for terms, low, high in sorted(unique.values(), key=repr)]


def _fact_relations(internal: dict[str, pd.DataFrame]) -> list:
    """Equalities between the cells of :data:`FACTS`, per service (first cell against each other)."""
    out = []
    for _, cells in FACTS:
        by_service: dict = {}
        for table, column, where in cells:
            for cell in _select(internal, table, column, where):
                if "service" in internal[table]:
                    by_service.setdefault(internal[table].at[cell[1], "service"], []).append(cell)
        for service_cells in by_service.values():
            first = service_cells[0]
            out += [([(1.0, first), (-1.0, other)], 0.0, 0.0) for other in service_cells[1:]]
    return out


def _select(internal: dict[str, pd.DataFrame], table: str, column: str, where: dict) -> list:
    """The cells ``(table, row, column)`` of the rows matching ``where``."""
    frame = internal.get(table)
    if frame is None or column not in frame or any(key not in frame for key in where):
        return []
    mask = np.ones(len(frame), dtype=bool)
    for key, wanted in where.items():
        mask &= frame[key].to_numpy() == wanted
    return [(table, int(row), column) for row in np.flatnonzero(mask)]


def _total_relations(internal: dict[str, pd.DataFrame]) -> list:
    """The :data:`TOTALS` that hold in the data, as relations ``whole − Σ parts = 0``."""
    out = []
    for whole, parts in TOTALS:
        wholes, cells = _select(internal, *whole), _select(internal, *parts)
        if len(wholes) != 1 or not cells:
            continue
        values = [pd.to_numeric(internal[t].at[r, c], errors="coerce") for t, r, c in [*wholes, *cells]]
        if np.isfinite(values).all() and values[0] == sum(values[1:]):
            out.append(([(1.0, wholes[0])] + [(-1.0, cell) for cell in cells], 0.0, 0.0))
    return out


# -- the appendix-wide audit ------------------------------------------------------------------------
def _audit(appendix: ProtectedAppendix) -> None:
    """One audit over the whole appendix, in place (module docstring, step 3): whatever would give
    a ``<5`` back is hidden, cheapest first; an ``x`` that the relations give back anyway (e.g. a
    count another section publishes) is shown, hiding it protects nothing."""
    rules, frames = appendix.rules, appendix.frames()
    internal = appendix.internal()
    keys = frozenset((spec.name, c) for specs in appendix.specs.values() for spec in specs for c in spec.key)
    specs = {spec.name: spec for specs in appendix.specs.values() for spec in specs}
    status = {name: status_of(frame, rules) for name, frame in frames.items()}
    before = {name: frame.copy() for name, frame in status.items()}
    publication.audit(internal, status, appendix.relations, rules, keys=keys)
    for name, cells in status.items():
        if not cells.ne(before[name]).to_numpy().any():
            continue
        for count, stats in specs[name].derived.items():
            hidden = cells[count].isin([PRIMARY, SECONDARY]) & before[name][count].eq("")
            for column in stats:
                cells.loc[hidden & cells[column].eq(""), column] = WITHHELD
        frame = frames[name]
        for column in frame.columns[cells.ne(before[name]).any().to_numpy()]:
            frame[column] = frame[column].astype(object)
            for row in np.flatnonzero(cells[column].ne(before[name][column]).to_numpy()):
                new = cells.at[row, column]
                frame.at[row, column] = internal[name].at[row, column] if new == "" else rules.symbol(new)
                (appendix.audit_shown if new == "" else appendix.audit_added).append((name, int(row), column))


def intervals(frames: dict[str, pd.DataFrame], relation_list: list, rules: publication.Rules) -> dict:
    """The feasible interval of every hidden count that a relation holds, as an attacker computes
    it from the published ``frames`` alone (:class:`tyokyky_eval.publication.Attack`)."""
    status = {name: status_of(frame, rules) for name, frame in frames.items()}

    def known(cell) -> float:
        try:
            return float(frames[cell[0]].at[cell[1], cell[2]])
        except (TypeError, ValueError):  # a symbol, or no value
            return float("nan")

    return publication.intervals(relation_list, lambda c: status[c[0]].at[c[1], c[2]], known, rules.min_cell)


determined = publication.determined


# -- the checker's report ---------------------------------------------------------------------------
def _jsonable_relations(relation_list: list) -> list:
    return [{"terms": [[k, c[0], int(c[1]), c[2]] for k, c in terms], "low": low, "high": high}
            for terms, low, high in relation_list]


def checker_report(appendix: ProtectedAppendix) -> dict:
    """The disclosure report (module docstring) as a JSON-ready dict."""
    rules, frames = appendix.rules, appendix.frames()
    found = intervals(frames, appendix.relations, rules)
    sections, withheld_cells, all_cells = [], 0, 0
    for name, tables in appendix.release.items():
        entries = []
        for table, frame in tables.items():
            status = status_of(frame, rules)
            counts = {s: int(status.eq(s).to_numpy().sum()) for s in (PRIMARY, SECONDARY, WITHHELD)}
            entries.append({"table": table, "rows": int(frame.shape[0]), "columns": int(frame.shape[1]),
                            "cells": int(frame.size), "withheld": counts})
            withheld_cells += sum(counts.values())
            all_cells += int(frame.size)
        sections.append({"section": name, "tables": entries,
                         "figures": "drawn from the published tables only"})
    return {
        "project_id": appendix.project_id,
        "rules": {"min_cell": rules.min_cell, "min_followup": rules.min_followup,
                  "symbols": {s: rules.symbol(s) for s in (PRIMARY, SECONDARY, WITHHELD)},
                  "applied": ["primary: a count 0 < n < min_cell",
                              "secondary: least-cost suppression so that no relation gives a hidden count back",
                              "derived: statistics computed from a hidden count",
                              "follow-up: summaries of fewer than min_followup clients, with their complement",
                              "audit: appendix-wide integer programme over all relations"]},
        "sections": sections,
        "audit": {"relations": len(appendix.relations), "hidden_counts_in_relations": len(found),
                  "determined": [list(c) for c in determined(found)],
                  "intervals": [[c[0], c[1], c[2], low, None if not np.isfinite(high) else high]
                                for c, (low, high) in sorted(found.items())],
                  "hidden_by_appendix_audit": [list(c) for c in appendix.audit_added],
                  "shown_by_appendix_audit": [list(c) for c in appendix.audit_shown]},
        "cost": {"cells": all_cells, "withheld": withheld_cells,
                 "share": withheld_cells / all_cells if all_cells else 0.0},
    }


def _plain(value):
    """NumPy scalars as Python numbers for JSON."""
    return value.item() if hasattr(value, "item") else str(value)


def write_disclosure(appendix: ProtectedAppendix, folder: str | Path, language: str = "en") -> dict:
    """Write ``disclosure/report.json``, ``disclosure/report.html`` and ``disclosure/relations.json``
    into an appendix folder; returns the report."""
    from tyokyky_eval.publication import escape_html

    out = Path(folder) / DISCLOSURE
    out.mkdir(parents=True, exist_ok=True)
    report = checker_report(appendix)
    rules = appendix.rules
    relations_doc = {"format": RELATIONS_FORMAT, "min_cell": rules.min_cell,
                     "symbols": report["rules"]["symbols"],
                     "cells": "[coefficient, table (tables/<table>.csv), row (0-based data row), column]",
                     "meaning": "low <= sum(coefficient * cell) <= high for every relation",
                     "relations": _jsonable_relations(appendix.relations)}
    (out / "relations.json").write_text(json.dumps(relations_doc, ensure_ascii=False, indent=1, default=_plain), encoding="utf-8")
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1, default=_plain), encoding="utf-8")
    rows = "".join(
        f"<tr><td>{escape_html(s['section'])}</td><td>{escape_html(t['table'])}</td><td>{t['cells']}</td>"
        + "".join(f"<td>{t['withheld'][k]}</td>" for k in (PRIMARY, SECONDARY, WITHHELD)) + "</tr>"
        for s in report["sections"] for t in s["tables"])
    audit = report["audit"]
    verdict = ("No hidden count can be worked out from the published tables and the relations."
               if not audit["determined"] else f"{len(audit['determined'])} hidden counts can be worked out.")
    page = (f"<!DOCTYPE html><html lang=\"{escape_html(language)}\"><head><meta charset=\"utf-8\">"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{publication.CONTENT_SECURITY_POLICY}\">"
            f"<title>Disclosure report: {escape_html(appendix.project_id)}</title></head><body>"
            f"<h1>Disclosure report: {escape_html(appendix.project_id)}</h1>"
            f"<p>min_cell {rules.min_cell}, min_followup {rules.min_followup}. Symbols: "
            + ", ".join(f"{escape_html(v)} = {k}" for k, v in report["rules"]["symbols"].items()) + ".</p>"
            "<h2>Rules applied</h2><ul>" + "".join(f"<li>{escape_html(r)}</li>" for r in report["rules"]["applied"])
            + "</ul><h2>Published tables</h2><table><tr><th>section</th><th>table</th><th>cells</th>"
            "<th>primary</th><th>secondary</th><th>withheld</th></tr>" + rows + "</table>"
            f"<h2>Audit</h2><p>{len(appendix.relations)} relations; {audit['hidden_counts_in_relations']} hidden "
            f"counts held by a relation. {escape_html(verdict)} Re-run: <code>tyokyky-eval audit APPENDIX_DIR</code>"
            f" (reads <code>tables/</code> and <code>disclosure/relations.json</code> only).</p>"
            f"<h2>Cost</h2><p>{report['cost']['withheld']} of {report['cost']['cells']} published cells withheld "
            f"({100 * report['cost']['share']:.1f} %).</p></body></html>")
    (out / "report.html").write_text(page, encoding="utf-8")
    return report


def audit_folder(folder: str | Path) -> dict:
    """Re-run the audit from a published appendix folder alone (``tables/*.csv`` and
    ``disclosure/relations.json``): ``{"relations", "hidden", "determined": [cells]}``."""
    folder = Path(folder)
    document = json.loads((folder / DISCLOSURE / "relations.json").read_text(encoding="utf-8"))
    if document.get("format") != RELATIONS_FORMAT:
        raise ValueError(f"{folder / DISCLOSURE / 'relations.json'}: not a {RELATIONS_FORMAT} file")
    symbols = document["symbols"]
    rules = publication.Rules(int(document["min_cell"]), max(int(document["min_cell"]), 10))
    if symbols != {s: rules.symbol(s) for s in (PRIMARY, SECONDARY, WITHHELD)}:
        raise ValueError("relations.json: unknown symbols")
    relation_list = [([(k, (t, r, c)) for k, t, r, c in item["terms"]], item["low"], item["high"])
                     for item in document["relations"]]
    names = {cell[0] for terms, _, _ in relation_list for _, cell in terms}
    frames = {}
    for name in sorted(names):
        frame = pd.read_csv(folder / "tables" / f"{name}.csv", dtype=str, keep_default_na=False)
        frames[name] = frame.map(lambda v: v if v in symbols.values() else pd.to_numeric(v, errors="coerce"))
    found = intervals(frames, relation_list, rules)
    return {"relations": len(relation_list), "hidden": len(found), "determined": determined(found)}


def load_section(name: str, project):
    """Section ``name`` of ``project`` as the appendix publishes it: the section of the project's
    protected appendix, built once per project (in a run, by the runner, and handed to every
    notebook), so that a section never shows less protection than the appendix and is never
    computed twice. A section the project has no data for is built on its own."""
    entry = REGISTRY[name]
    if project.appendix is not None and name in project.appendix.sections:
        return project.appendix.sections[name]
    if project.release or entry.missing(project):  # being built, or not part of the appendix
        return entry.load()(project)
    return protect_appendix(project).sections[name]

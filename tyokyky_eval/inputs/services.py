"""The services of a project (``services:`` in the parameters) and which analyses apply to each.

A project runs several services that are different things: IPS job coaching (employment outcomes,
the IPS benchmark), a work-ability service in the health centre (volumes, onward referrals),
lifestyle guidance (sessions, measurements), group employment, network consultations (anonymous
cases without a client outcome). Their outcomes are never pooled into one headline: each analysis
runs per service, and only for the services whose kind gives it a meaning (:data:`DEFAULT_ANALYSES`,
overridable per service with ``analyses:``)::

    services:
      ips: {kind: ips, label: {fi: IPS-työhönvalmennus, en: IPS job coaching}}
      work_ability_service: {kind: work_ability_service}
      lifestyle_guidance: {kind: lifestyle_guidance, analyses: [flow]}

A project without a ``services`` block has every service code of its data as kind ``other``:
client flow, pre/post and time to employment per service, never the IPS benchmark.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pandas as pd

from tyokyky_eval import publication
from tyokyky_eval.i18n import Message
from tyokyky_eval.inputs.keys import suggest, unknown_keys

KINDS = ("ips", "work_ability_service", "lifestyle_guidance", "group_employment", "network_consultation",
         "other")
#: analyses a service can take part in: the client flow (overview), Kykyviisari pre/post, time to
#: employment (Kaplan–Meier, competing risks, Cox), the job histories of the employment table, the
#: IPS benchmark (31 / 41 / 50 %)
ANALYSES = ("flow", "prepost", "survival", "employment", "benchmark")
DEFAULT_ANALYSES = {
    "ips": ("flow", "prepost", "survival", "employment", "benchmark"),
    "group_employment": ("flow", "prepost", "survival", "employment"),
    "work_ability_service": ("flow", "prepost"),
    "lifestyle_guidance": ("flow", "prepost"),
    "network_consultation": ("flow",),  # anonymous cases: no client outcome
    "other": ("flow", "prepost", "survival", "employment"),
}
SERVICE_KEYS = ("kind", "label", "analyses")


@dataclass(frozen=True)
class Service:
    """One service: its ``code`` in the data, ``kind`` (:data:`KINDS`), display ``label``
    ({fi, en}; empty = the locale's label of the code) and the ``analyses`` that apply to it."""

    code: str
    kind: str = "other"
    label: tuple = ()  # ((language, text), …): hashable
    analyses: tuple = DEFAULT_ANALYSES["other"]

    def applies(self, analysis: str) -> bool:
        return analysis in self.analyses

    def name(self, language: str) -> str:
        """The service's label in ``language`` (declared, else the locale's, else the code)."""
        from tyokyky_eval.i18n import code_label

        return dict(self.label).get(language) or code_label("service", self.code, language)


def parse(raw, file: str, errors: list[str]) -> dict[str, Service]:
    """``services`` of a parameters file → {code: Service}; problems appended to ``errors``, each
    naming ``file`` and the key, with a did-you-mean where it helps."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not raw:
        errors.append(Message("parameters.services.expected", f"{file}: services"))
        return {}
    out = {}
    for code, spec in raw.items():
        where = f"{file}: services.{code}"
        if isinstance(spec, str):
            spec = {"kind": spec}
        if not isinstance(spec, dict):
            errors.append(Message("parameters.services.expected_service", where))
            continue
        bad = unknown_keys(where, spec, SERVICE_KEYS)
        kind = spec.get("kind")
        if kind not in KINDS:
            bad.append(Message("parameters.services.unknown_kind", f"{where}.kind", kind=kind,
                               hint=suggest(str(kind), KINDS), kinds=", ".join(KINDS)))
        label = spec.get("label") or {}
        if not (isinstance(label, dict) and set(label) <= {"fi", "en"}
                and all(isinstance(v, str) and v.strip() for v in label.values())):
            bad.append(Message("parameters.services.label", f"{where}.label"))
        analyses = spec.get("analyses", DEFAULT_ANALYSES.get(kind, ()))
        if isinstance(analyses, str) or not isinstance(analyses, (list, tuple)):
            bad.append(Message("parameters.services.analyses_list", f"{where}.analyses"))
            analyses = ()
        for name in analyses:
            if name not in ANALYSES:
                bad.append(Message("parameters.services.unknown_analysis", f"{where}.analyses", name=name,
                                   hint=suggest(str(name), ANALYSES), analyses=", ".join(ANALYSES)))
        if "benchmark" in analyses and kind != "ips":
            bad.append(Message("parameters.services.benchmark_kind", f"{where}.analyses", kind=kind))
        if "benchmark" in analyses and "survival" not in analyses:
            bad.append(Message("parameters.services.benchmark_survival", f"{where}.analyses"))
        if bad:
            errors.extend(bad)
            continue
        out[str(code)] = Service(str(code), kind, tuple(sorted(label.items())),
                                 tuple(a for a in ANALYSES if a in analyses))
    return out


def resolve(declared: dict[str, Service], clients: pd.DataFrame | None) -> dict[str, Service]:
    """The services of a project in order: the declared ones, or (no ``services`` block) every
    service code of the clients table as kind ``other``."""
    if declared:
        return dict(declared)
    codes = [] if clients is None else sorted(clients["service"].dropna().astype(str).unique())
    return {code: Service(code) for code in codes}


def of_project(project) -> dict[str, Service]:
    """The services of ``project``: :func:`resolve` on its parameters and clients table."""
    return resolve(project.params.services, project.table("clients"))


def for_analysis(project, analysis: str) -> list[Service]:
    """The project's services to which ``analysis`` applies, in declaration order."""
    return [s for s in of_project(project).values() if s.applies(analysis)]


def check_codes(declared: dict[str, Service], clients: pd.DataFrame) -> list[tuple[str, str, str]]:
    """Mismatches between ``services`` and the clients table: ``(kind, code, hint)`` with kind
    ``undeclared`` (a code in the data that is not declared) or ``no_clients`` (declared, not in
    the data); none without a ``services`` block."""
    if not declared:
        return []
    present = sorted(clients["service"].dropna().astype(str).unique())
    out = [("undeclared", code, suggest(code, declared)) for code in present if code not in declared]
    out += [("no_clients", code, suggest(code, present)) for code in declared if code not in present]
    return out


# -- tables per service ------------------------------------------------------------------------
def stack(parts: dict[str, list[publication.Table]], labels: dict[str, dict]) -> list[publication.Table]:
    """Tables of the same names from several services as one table each, with a ``service`` column
    first (its labels from ``labels``: code → {fi, en}); each part's lines are moved to its rows."""
    names = list(dict.fromkeys(table.name for tables in parts.values() for table in tables))
    out = []
    for name in names:
        pieces = [(code, table) for code, tables in parts.items() for table in tables if table.name == name]
        frames, lines, followup_lines, offset = [], [], [], 0
        for code, table in pieces:
            frames.append(table.data.reset_index(drop=True).assign(service=code))
            lines += [_moved(line, offset) for line in table.lines]
            followup_lines += [tuple(r + offset for r in rows) for rows in table.followup_lines]
            offset += len(table.data)
        first = pieces[0][1]
        data = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
        data = data[["service"] + [c for c in data.columns if c != "service"]]
        columns = None if first.columns is None else ("service", *first.columns)
        out.append(dataclasses.replace(
            first, data=data, lines=tuple(lines), followup_lines=tuple(followup_lines), columns=columns,
            labels={**first.labels, "service": labels}))
    return out


def _moved(line: publication.Line, offset: int) -> publication.Line:
    return publication.Line(tuple((r + offset, c) for r, c in line.cells),
                            None if line.total is None else (line.total[0] + offset, line.total[1]))


def offsets(parts: dict[str, list[publication.Table]]) -> dict[tuple[str, str], int]:
    """(service, table name) → the row where the service's part starts in :func:`stack`'s table."""
    out, seen = {}, {}
    for code, tables in parts.items():
        for table in tables:
            out[(code, table.name)] = seen.get(table.name, 0)
            seen[table.name] = seen.get(table.name, 0) + len(table.data)
    return out


def labels(services) -> dict[str, dict]:
    """code → {fi, en} display labels of ``services``."""
    return {s.code: {language: s.name(language) for language in ("fi", "en")} for s in services}

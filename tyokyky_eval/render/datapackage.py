"""``tables/datapackage.json``: the published tables described as a Frictionless Data Package (v2).

:func:`descriptor` is a pure function of the protected appendix (``specs``, ``release``, ``rules``)
and of the package-level facts :func:`project_metadata` takes from the project. One resource per
``tables/<name>.csv`` with its Table Schema: every column with its type as the CSV holds it
(``integer``, ``number``, ``boolean``, ``date``, ``string``), its unit where known (:data:`UNITS`;
Table Schema has no unit property, so ``unit`` is this package's own, as ``counts`` and ``derived``
are), the codes of its code columns (``categories``) and the suppression symbols as labelled
``missingValues`` (Table Schema v2; a p-value below 0.001 is the field's own missing value
``<0.001``). The package names the project, the data cut-off, the disclosure rule and the services
with their kinds (the ``services:`` block). Values are language-free codes; titles and labels are
in the appendix's language. A programme evaluator reads many appendices together through these
files (``tyokyky-eval synthesis``).

:data:`PROFILE` is the JSON Schema of what this package writes, written from the Data Package
and Table Schema v2 specifications (datapackage.org): the required properties, paths, field types
and labelled missing values. ``tyokyky_eval.programme.published.check_package`` validates a
descriptor with it and every CSV against its schema.
"""
from __future__ import annotations

import datetime as dt
import fnmatch
import json
from pathlib import Path

import numpy as np
import pandas as pd

from tyokyky_eval import __version__
from tyokyky_eval.i18n import t
from tyokyky_eval.publication import PRIMARY, SECONDARY, WITHHELD
from tyokyky_eval.render.cells import header, is_p_column

NAME = "datapackage.json"
PROFILE_URL = "https://datapackage.org/profiles/2.0/datapackage.json"
#: the text of a p-value below 0.001 in ``tables/`` (``cells.shown_value``): a censored number
P_BELOW = "<0.001"
#: Table Schema v2 field types
FIELD_TYPES = ("string", "number", "integer", "boolean", "object", "array", "list", "date", "time", "datetime",
               "year", "yearmonth", "duration", "geopoint", "geojson", "any")

#: units of published columns, first match wins: (table patterns, column patterns, unit, the locale
#: key ``datapackage.scale.<key>`` of its description or None)
UNITS = (
    (("client_flow", "costs_budget", "costs_funding"), ("share",), "percent", "percent"),
    (("*",), ("*_pct",), "percent", "percent"),
    (("survival_*", "competing_risks", "activities_funnel_*", "employment_tenure"),
     ("time_days", "followup_days", "days", "median_days", "median_ci_low", "median_ci_high"), "days", None),
    (("*",), ("share", "share_*", "*_share", "cumulative_incidence*", "cif", "retention*"), "share", "share"),
    (("survival_*", "competing_risks", "activities_*", "employment_*", "feedback_choices"),
     ("ci_low", "ci_high"), "share", "share_ci"),
    (("prepost_*",), ("mean*", "sd*", "median_change", "change_*", "estimate", "se", "ci_low", "ci_high",
                      "completers_change", "completers_ci_*", "s_diff", "rc_threshold"),
     "points", "kykyviisari"),
    (("fidelity_*",), ("total", "prorated_total", "subtotal", "staffing", "organization", "services",
                       "*_prorated_total", "change_prorated_total"), "points", "fidelity_total"),
    (("fidelity_*",), ("mean_item_score", "*_mean_item_score", "score", "score_*", "previous_score", "change",
                       "difference"), "points", "fidelity_item"),
    (("feedback_*",), ("mean*", "sd", "median", "q1", "q3", "ci_low", "ci_high"), "points", "survey_item"),
    (("employment_jobs",), ("hours_*",), "hours per week", None),
)


def unit(table: str, column: str) -> tuple[str, str | None] | None:
    """``(unit, description key)`` of a published column by :data:`UNITS`, or None when unknown."""
    for tables, columns, name, description in UNITS:
        if any(fnmatch.fnmatchcase(table, p) for p in tables) and any(fnmatch.fnmatchcase(column, p) for p in columns):
            return name, description
    return None


def missing_values(rules, language: str) -> list[dict]:
    """The symbols of a published table as labelled missing values: "" (not estimable, shown as
    "–") and the three protection symbols of ``rules``, each with its meaning in ``language``."""
    return [{"value": "", "label": t("datapackage.not_estimable", language)}] + [
        {"value": rules.symbol(status), "label": t(f"datapackage.{status}", language, min_cell=rules.min_cell,
                                                   min_followup=rules.min_followup)}
        for status in (PRIMARY, SECONDARY, WITHHELD)]


def _value_type(value) -> str | None:
    """The Table Schema type of one published value; None for a missing value, a symbol or an
    object of no Table Schema type."""
    if value is None or isinstance(value, str) or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return "boolean"
    if isinstance(value, (int, np.integer)):
        return "integer"
    if isinstance(value, (float, np.floating)):
        return "number"
    if isinstance(value, pd.Timestamp):
        return "date" if value == value.normalize() else "string"  # pandas writes no ISO datetime
    if isinstance(value, dt.date):
        return "date"
    return None  # an object of no Table Schema type (e.g. a hidden cell): says nothing


def field_type(values: pd.Series, internal: pd.Series | None, symbols) -> str:
    """The type of a published column as its CSV holds it: text other than a symbol makes it a
    string; integers only → integer; integers and floats → number; a column of symbols only
    takes the type of the full-precision column behind it (``internal``)."""
    texts = values[values.map(lambda v: isinstance(v, str))]
    if not texts.isin([*symbols, ""]).all():
        return "string"
    kinds = {k for k in values.map(_value_type) if k is not None}
    if not kinds and internal is not None:
        kinds = {k for k in internal.map(_value_type) if k is not None} or {
            "number" if pd.api.types.is_float_dtype(internal) else
            "integer" if pd.api.types.is_integer_dtype(internal) else "string"}
    if not kinds:
        return "string"
    if kinds <= {"integer", "number"}:
        return "number" if "number" in kinds else "integer"
    return next(iter(kinds)) if len(kinds) == 1 else "string"


def _field(table, column: str, values: pd.Series, internal, rules, language: str, code_columns) -> dict:
    symbols = {rules.symbol(s) for s in (PRIMARY, SECONDARY, WITHHELD)}
    kind = field_type(values, internal, symbols)
    out = {"name": column, "type": kind,
           "title": table.headers.get(column, {}).get(language) or header(column, language, table.namespace)}
    found = unit(table.name, column)
    if found and kind in ("number", "integer"):
        out["unit"] = found[0]
        if found[1]:
            out["description"] = t(f"datapackage.scale.{found[1]}", language)
    if column in code_columns and kind == "string":
        codes = sorted({v for v in values if isinstance(v, str) and v not in symbols and v != ""})
        if codes:
            out["categories"] = codes
    if is_p_column(column) and kind == "number":
        out["missingValues"] = missing_values(rules, language) + [
            {"value": P_BELOW, "label": t("datapackage.p_below", language)}]
    return out


def resource(table, shown: pd.DataFrame, rules, section: str, language: str) -> dict:
    """The Data Resource of one published table (``shown``: as its CSV holds it,
    ``render.csv.published_table``), its titles and labels in ``language``."""
    code_columns = set(table.code_columns) | set(table.labels)
    internal = table.data.reset_index(drop=True)
    fields = [_field(table, column, shown[column], internal.get(column), rules,
                     language, code_columns) for column in shown.columns]
    out = {"name": table.name, "path": f"{table.name}.csv", "type": "table", "format": "csv",
           "mediatype": "text/csv", "encoding": "utf-8", "dialect": {"header": True, "delimiter": ","},
           "title": t(table.caption, language, **table.caption_values), "section": section,
           "schema": {"fields": fields, "missingValues": missing_values(rules, language)}}
    counts = [c for c in table.counts if c in shown]
    if counts:
        out["counts"] = counts
    derived = {c: [s for s in stats if s in shown] for c, stats in table.derived.items() if c in shown}
    if derived:
        out["derived"] = derived
    return out


def metadata(params, language: str, services: list[dict]) -> dict:
    """The package-level facts: id, title, language, cut-off date, evaluation period, whether the
    data are synthetic, and ``services`` (each with its ``code`` and ``kind``); ``params`` has the
    attributes of ``tyokyky_eval.inputs.params.Params`` these need."""
    out = {"name": params.project_id, "title": params.title[language], "project_id": params.project_id,
           "language": language, "cutoff_date": params.cutoff_date.isoformat()}
    if params.description.get(language):
        out["description"] = params.description[language]
    if params.evaluation_period:
        start, end = params.evaluation_period
        out["evaluation_period"] = {"start": start.isoformat(), "end": end.isoformat()}
    return {**out, "synthetic": bool(params.synthetic), "services": services}


def project_metadata(project) -> dict:
    """:func:`metadata` of a project appendix, its services (code, kind, analyses, label) as the
    ``services:`` block declares them (undeclared codes are kind ``other``)."""
    from tyokyky_eval.inputs.services import resolve

    services = resolve(project.params.services, project.table("clients")).values()
    return metadata(project.params, project.language, [
        {"code": s.code, "kind": s.kind, "analyses": list(s.analyses),
         "label": {language: s.name(language) for language in ("fi", "en")}} for s in services])


def descriptor(appendix, metadata: dict, published: dict[str, pd.DataFrame]) -> dict:
    """The Data Package of a protected appendix (``specs``, ``rules``): ``metadata``
    (:func:`project_metadata`; titles and labels in its ``language``, values are codes) and one
    resource per table of ``published`` (``render.csv.published_tables`` of the appendix)."""
    rules = appendix.rules
    resources = [resource(spec, published[spec.name], rules, section, metadata["language"])
                 for section, specs in appendix.specs.items() for spec in specs]
    return {"$schema": PROFILE_URL, **metadata,
            "disclosure": {"min_cell": rules.min_cell, "min_followup": rules.min_followup,
                           "symbols": {s: rules.symbol(s) for s in (PRIMARY, SECONDARY, WITHHELD)}},
            "created_with": f"tyokyky-eval {__version__}", "resources": resources}


def write_datapackage(appendix, metadata: dict, folder: Path, published: dict[str, pd.DataFrame]) -> Path:
    """Write ``folder/tables/datapackage.json`` (:func:`descriptor`)."""
    path = Path(folder) / "tables" / NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(descriptor(appendix, metadata, published), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


_LABELLED = {"type": "object", "required": ["value"],
             "properties": {"value": {"type": "string"}, "label": {"type": "string"}}}
_MISSING = {"type": "array", "items": {"oneOf": [{"type": "string"}, _LABELLED]}}

#: JSON Schema (draft 7) of the descriptors written here: Data Package v2 with Data Resources whose
#: ``path`` is a relative POSIX path (no leading ``.``, ``/`` or ``~``, no ``..`` segment, no
#: backslash), Table Schemas with typed fields and labelled missing values, and this package's
#: own ``project_id``, ``services`` and ``disclosure``
PROFILE = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["$schema", "name", "project_id", "services", "disclosure", "resources"],
    "properties": {
        "$schema": {"type": "string", "const": PROFILE_URL},
        "name": {"type": "string", "minLength": 1},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "project_id": {"type": "string", "minLength": 1},
        "cutoff_date": {"type": "string", "format": "date"},
        "services": {"type": "array", "items": {
            "type": "object", "required": ["code", "kind"],
            "properties": {"code": {"type": "string"}, "kind": {"type": "string"},
                           "analyses": {"type": "array", "items": {"type": "string"}}}}},
        "disclosure": {"type": "object", "required": ["min_cell", "symbols"],
                       "properties": {"min_cell": {"type": "integer", "minimum": 1},
                                      "symbols": {"type": "object", "required": [PRIMARY, SECONDARY, WITHHELD],
                                                  "additionalProperties": {"type": "string"}}}},
        "resources": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["name", "path", "schema"],
            "properties": {
                "name": {"type": "string", "pattern": "^[a-z0-9._-]+$"},
                "path": {"type": "string", "pattern": r"^(?![./~])(?!(.*/)?\.\.(/|$))[^\\]+$"},
                "type": {"const": "table"},
                "format": {"const": "csv"},
                "encoding": {"type": "string"},
                "dialect": {"type": "object", "properties": {"header": {"type": "boolean"},
                                                             "delimiter": {"type": "string", "maxLength": 1}}},
                "schema": {"type": "object", "required": ["fields"], "properties": {
                    "missingValues": _MISSING,
                    "fields": {"type": "array", "minItems": 1, "items": {
                        "type": "object", "required": ["name", "type"],
                        "properties": {"name": {"type": "string", "minLength": 1},
                                       "type": {"enum": list(FIELD_TYPES)},
                                       "title": {"type": "string"},
                                       "unit": {"type": "string"},
                                       "missingValues": _MISSING,
                                       "categories": {"type": "array", "minItems": 1,
                                                      "items": {"type": ["string", "integer"]}}}}}}}}}},
    },
}

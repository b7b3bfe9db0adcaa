"""Validation of every input table against the data dictionary.

Type, range, enum, uniqueness and required checks are pandera schemas built from the Frictionless
Table Schemas (``data_dictionary/*.yaml``) and the instrument specs. What no schema library knows —
the cross-table rules (orphan measurements, end before start, job outside the service period, one
consensus score per review and item, …) — is written here. All problems are collected, never only the
first, and located as ``file:row:column`` with the row the user sees in the file (header = row 1).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa

from tyokyky_eval import dictionary, identifiers
from tyokyky_eval.errors import DataError, ParameterError, Problem
from tyokyky_eval.i18n import fmt_date, t
from tyokyky_eval.params import Params, suggest
from tyokyky_eval.readers import normalise_number_text, parse_booleans, parse_dates, read_table

_DTYPES = {"number": "float64", "integer": "Int64", "date": "datetime64[ns]", "boolean": "boolean",
           "string": "object"}


@dataclass
class ValidationResult:
    """Clean tables (canonical columns, typed, index reset) and every problem found."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # table → file name shown to the user

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


class _Collector:
    def __init__(self, label: str, language: str):
        self.label, self.language, self.problems = label, language, []

    def add(self, row, column, key, value=None, severity="error", **values):
        row = None if row is None else int(row)
        value = None if value is None or (np.isscalar(value) and pd.isna(value)) or value is pd.NA \
            else str(value)
        values.setdefault("column", column)
        self.problems.append(
            Problem(self.label, row, column, t(f"validation.{key}", self.language, **values), value, severity,
                    key))

    def add_mask(self, frame, mask, column, key, severity="error", shown=None, **values):
        """One problem per row where ``mask`` is true (vectorised selection)."""
        shown = frame[column] if shown is None else shown
        for row, value in shown[mask].items():
            self.add(row, column, key, value if not isinstance(value, pd.Timestamp)
                     else fmt_date(value, self.language), severity, **values)


def _ranges(table: str, params: Params) -> dict[str, tuple[float, float]]:
    """Per-column (min, max) from the instrument spec; user ranges override (e.g. 1–10 exports)."""
    if table == "kykyviisari":
        spec = dictionary.instrument(params.instrument("kykyviisari"))
        return {m["id"]: (m["min"], m["max"]) for m in spec["measures"]}
    if table == "fidelity":
        spec = dictionary.instrument(params.instrument("fidelity"))
        return {"item": (1, len(spec["items"])),
                "score": (spec["score_range"]["min"], spec["score_range"]["max"])}
    return {}


def _schema(table: str, params: Params, with_checks: bool) -> pa.DataFrameSchema:
    schema = dictionary.table_schema(table)
    ranges = _ranges(table, params)
    columns = {}
    for f in schema["fields"]:
        c = f.get("constraints", {})
        checks = []
        if with_checks:
            lo, hi = ranges.get(f["name"], (c.get("minimum"), c.get("maximum")))
            if lo is not None:
                checks.append(pa.Check.greater_than_or_equal_to(lo, error=f"range:{lo}:{hi}"))
            if hi is not None:
                checks.append(pa.Check.less_than_or_equal_to(hi, error=f"range:{lo}:{hi}"))
            if "enum" in c:
                checks.append(pa.Check.isin(c["enum"], error="enum"))
        columns[f["name"]] = pa.Column(
            _DTYPES[f["type"]], checks=checks, coerce=f["type"] in ("number", "integer"),
            nullable=not (with_checks and c.get("required")),
            unique=bool(with_checks and c.get("unique")), required=False)
    return pa.DataFrameSchema(columns, strict=False)


def _pandera_failures(schema, frame, collect: _Collector, table: str):
    """Run a pandera schema lazily; turn its failure cases into problems. Returns the failure rows."""
    try:
        return schema.validate(frame, lazy=True), []
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    failed = []
    types = {f["name"]: f["type"] for f in dictionary.table_schema(table)["fields"]}
    enums = {f["name"]: f.get("constraints", {}).get("enum") for f in dictionary.table_schema(table)["fields"]}
    for case in cases.itertuples(index=False):
        check, column, row, value = str(case.check), case.column, case.index, case.failure_case
        if check.startswith("dtype("):
            continue
        if check.startswith("coerce_dtype"):
            collect.add(row, column, "not_an_integer" if types[column] == "integer" else "not_a_number", value)
            failed.append((row, column))
        elif check == "not_nullable":
            collect.add(row, column, "required")
        elif check == "field_uniqueness":
            collect.add(row, column, "duplicate", value)
        elif check == "enum":
            collect.add(row, column, "not_in_codes", value, codes=", ".join(enums[column]),
                        hint=suggest(value, enums[column]))
        elif check.startswith("range:"):
            _, lo, hi = check.split(":")
            collect.add(row, column, "out_of_range", value, min=lo, max=hi)
        else:  # a check added to the dictionary that has no message of its own yet
            collect.add(row, column, "failed_check", value, check=check)
    return None, failed


def _prepare(table: str, params: Params, collect: _Collector) -> pd.DataFrame | None:
    """Read, map columns and values, parse dates/booleans; None when the table cannot be used."""
    source = params.data[table]
    try:
        raw = read_table(source.path, source.sheet, collect.label)
    except DataError as exc:
        collect.problems.extend(exc.problems)
        return None
    schema = dictionary.table_schema(table)
    mapping = params.column_map.get(table, {})
    found = ", ".join(raw.columns)
    for user in mapping:
        if user not in raw.columns:
            collect.add(1, user, "mapped_column_missing", found=found, hint=suggest(user, raw.columns))
    frame = raw.rename(columns=mapping)
    duplicated = frame.columns[frame.columns.duplicated()].unique()
    for column in duplicated:
        collect.add(1, column, "duplicate_column")
    canonical = [f["name"] for f in schema["fields"]]
    for f in schema["fields"]:
        if f["name"] not in frame.columns:
            if f.get("constraints", {}).get("required"):
                collect.add(1, f["name"], "missing_column", found=found,
                            hint=suggest(f["name"], [c for c in frame.columns if c not in canonical]))
            frame[f["name"]] = ""
    if duplicated.size or any(p.row == 1 and p.severity == "error" for p in collect.problems):
        return None
    missing_values = set(schema.get("missingValues", [""]))
    for f in schema["fields"]:
        name = f["name"]
        # Parse each distinct value once (dates, scores and codes repeat a lot), then spread back.
        codes, uniques = pd.factorize(frame[name].astype(str), use_na_sentinel=False)
        parsed, bad, text = _parse_values(pd.Series(uniques, dtype=object), f, params, missing_values)
        if bad is not None and bad.any():
            collect.add_mask(frame, pd.Series(bad.to_numpy()[codes], index=frame.index), name,
                             "not_a_date" if f["type"] == "date" else "not_a_boolean",
                             shown=pd.Series(text.to_numpy()[codes], index=frame.index))
        frame[name] = pd.Series(parsed.take(codes).to_numpy(), index=frame.index, dtype=parsed.dtype)
    return frame


def _parse_values(values: pd.Series, field: dict, params: Params, missing_values):
    """Typed values of one column's distinct texts: (parsed, mask of unparseable or None, text)."""
    name, kind = field["name"], field["type"]
    text = values.str.strip()
    text = text.where(~text.isin(missing_values), "")
    if name in params.value_map:
        text = text.replace(params.value_map[name])
    if kind == "date":
        parsed, bad = parse_dates(text)
        return parsed, bad, text
    if kind == "boolean":
        parsed, bad = parse_booleans(text, field.get("trueValues", ["true"]), field.get("falseValues", ["false"]))
        return parsed, bad, text
    if kind in ("number", "integer"):
        number = normalise_number_text(text)
        if kind == "integer":  # '4.0' from a spreadsheet is the whole number 4
            number = number.str.replace(r"^(-?\d+)\.0+$", r"\1", regex=True)
        return number.replace("", np.nan).astype(object), None, text
    return text.replace("", None).astype(object), None, text


def _validate_table(table: str, params: Params, collect: _Collector) -> pd.DataFrame | None:
    frame = _prepare(table, params, collect)
    if frame is None:
        return None
    # Phase 1: types only, so that a value that is not a number does not break the range checks.
    _, failed = _pandera_failures(_schema(table, params, with_checks=False), frame, collect, table)
    for row, column in failed:
        frame.loc[row, column] = np.nan
    validated, _ = _pandera_failures(_schema(table, params, with_checks=True), frame, collect, table)
    if validated is None:  # checks failed: still coerce, so the cross-table rules can run
        validated = _schema(table, params, with_checks=False).validate(frame)
    return validated


def _check_clients(clients: pd.DataFrame, params: Params, c: _Collector):
    start, end = clients["start_date"], clients["end_date"]
    job, reason = clients["first_employment_date"], clients["end_reason"]
    cutoff = pd.Timestamp(params.cutoff_date)
    lang = c.language
    c.add_mask(clients, start > cutoff, "start_date", "start_after_cutoff", cutoff=fmt_date(cutoff, lang))
    c.add_mask(clients, end > cutoff, "end_date", "date_after_cutoff", cutoff=fmt_date(cutoff, lang))
    for row in clients.index[end < start]:
        c.add(row, "end_date", "end_before_start", fmt_date(end[row], lang), start=fmt_date(start[row], lang))
    c.add_mask(clients, end.notna() & reason.isna(), "end_reason", "end_reason_missing")
    c.add_mask(clients, end.isna() & reason.notna(), "end_date", "end_date_missing", shown=reason)
    for row in clients.index[job < start]:
        c.add(row, "first_employment_date", "job_before_start", fmt_date(job[row], lang),
              start=fmt_date(start[row], lang))
    grace = pd.Timedelta(days=params.validation.employment_after_end_days)
    for row in clients.index[job > end + grace]:
        c.add(row, "first_employment_date", "job_after_end", fmt_date(job[row], lang),
              end=fmt_date(end[row], lang), days=params.validation.employment_after_end_days)
    c.add_mask(clients, job > cutoff, "first_employment_date", "date_after_cutoff", cutoff=fmt_date(cutoff, lang))
    c.add_mask(clients, reason.eq("employed") & job.isna(), "first_employment_date", "employed_without_date",
               shown=reason)


def _check_measurements(kyky: pd.DataFrame, clients: pd.DataFrame | None, params: Params, c: _Collector):
    cutoff = pd.Timestamp(params.cutoff_date)
    c.add_mask(kyky, kyky["measured_on"] > cutoff, "measured_on", "date_after_cutoff",
               cutoff=fmt_date(cutoff, c.language))
    dup = kyky.duplicated(["client_id", "measured_on"], keep="first") & kyky["client_id"].notna()
    c.add_mask(kyky, dup, "measured_on", "duplicate_measurement", severity="warning")
    if clients is None:
        return
    starts = clients.dropna(subset=["client_id"]).drop_duplicates("client_id").set_index("client_id")["start_date"]
    orphan = kyky["client_id"].notna() & ~kyky["client_id"].isin(starts.index)
    c.add_mask(kyky, orphan, "client_id", "orphan_client")
    start = kyky["client_id"].map(starts)
    tolerance = pd.Timedelta(days=params.validation.measurement_tolerance_days)
    early = kyky["measured_on"] < start - tolerance
    for row in kyky.index[early]:
        c.add(row, "measured_on", "measured_before_start", fmt_date(kyky.at[row, "measured_on"], c.language),
              start=fmt_date(start[row], c.language), days=params.validation.measurement_tolerance_days)


def _check_fidelity(fid: pd.DataFrame, c: _Collector):
    no_score = fid["score"].isna()
    c.add_mask(fid, no_score & fid["na_reason"].isna(), "score", "score_or_reason")
    c.add_mask(fid, fid["score"].notna() & fid["na_reason"].notna(), "na_reason", "reason_with_score",
               shown=fid["na_reason"])
    keys = ["site_id", "review_date", "rater", "item"]
    dup = fid.duplicated(keys, keep="first") & fid[keys].notna().all(axis=1)
    consensus = fid["rater"].eq("consensus")
    c.add_mask(fid, dup & consensus, "item", "duplicate_consensus")
    c.add_mask(fid, dup & ~consensus, "item", "duplicate_rating")


def _check_feedback(fb: pd.DataFrame, params: Params, c: _Collector):
    """Every survey needs a spec (built-in or ``analyses.feedback.surveys``); responses must be whole
    numbers on their item's scale."""
    from tyokyky_eval import feedback

    options = params.options("feedback")
    specs = {}
    for survey in sorted(fb["survey_id"].dropna().unique()):
        try:
            specs[survey] = feedback.load_survey(options.surveys.get(survey, survey), params.path.parent)
        except ParameterError:
            c.add_mask(fb, fb["survey_id"].eq(survey), "survey_id", "unknown_survey",
                       surveys=", ".join(feedback.builtin_surveys()))
    known = fb[fb["survey_id"].isin(specs)]
    for row in known.index[feedback.out_of_scale(known, specs)]:
        survey, item, value = known.at[row, "survey_id"], known.at[row, "item_id"], known.at[row, "response"]
        try:
            scale = feedback.item_scale(specs[survey], item)
        except KeyError:
            c.add(row, "item_id", "unknown_item", item, survey=survey, item=item)
            continue
        c.add(row, "response", "response_out_of_scale", value, min=scale["min"], max=scale["max"], item=item)


def validate_project(params: Params, language: str | None = None) -> ValidationResult:
    """Read and validate every table named in ``params``; never raises for bad data."""
    language = language or params.language
    result = ValidationResult()
    collectors, frames = {}, {}
    for table, source in sorted(params.data.items()):
        label = source.path.name + (f"[{source.sheet}]" if source.sheet else "")
        result.labels[table] = label
        collectors[table] = _Collector(label, language)
        frames[table] = _validate_table(table, params, collectors[table])
    clients = frames.get("clients")
    if clients is not None:
        _check_clients(clients, params, collectors["clients"])
    if frames.get("kykyviisari") is not None:
        _check_measurements(frames["kykyviisari"], clients, params, collectors["kykyviisari"])
    if frames.get("fidelity") is not None:
        fid = frames["fidelity"]
        fid["rater"] = fid["rater"].where(~fid["rater"].str.lower().eq("consensus"), "consensus")
        _check_fidelity(frames["fidelity"], collectors["fidelity"])
    if frames.get("feedback") is not None:
        _check_feedback(frames["feedback"], params, collectors["feedback"])
    for table, collect in collectors.items():
        identifiers.check(table, frames[table], collect)  # no names or identity codes in code columns
        result.problems.extend(collect.problems)
        if frames[table] is not None:
            result.tables[table] = frames[table].reset_index(drop=True)
    result.problems = sorted(set(result.problems), key=lambda p: (p.file, p.row or 0, p.column or "", p.message))
    return result

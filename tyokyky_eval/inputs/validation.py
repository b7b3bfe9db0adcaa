"""Validation of every input table against the data dictionary.

Type, range, enum, uniqueness and required checks are pandera schemas built from the Frictionless
Table Schemas (``data_dictionary/*.yaml``) and the instrument specs. What no schema library knows —
the cross-table rules (orphan measurements, end before start, job outside the service period, one
consensus score per review and item, …) — is written here. All problems are collected, never only the
first, and located as ``file:row:column`` with the row the user sees in the file (header = row 1).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa

from tyokyky_eval.errors import DataError, Problem
from tyokyky_eval.i18n import Message, fmt_date, t
from tyokyky_eval.inputs import dictionary, identifiers, survey_exports
from tyokyky_eval.inputs import services as service_codes
from tyokyky_eval.inputs.params import Params, suggest
from tyokyky_eval.inputs.readers import (
    BOOLEAN_TEXT,
    normalise_number_text,
    parse_booleans,
    parse_dates,
    read_table,
    shorten,
)

#: cell values that spreadsheets write for a failed formula
EXCEL_ERRORS = {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#SPILL!", "#CALC!",
                "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#UNKNOWN!", "#CONNECT!", "#BUSY!"}
_NOT_NUMBERS = re.compile(r"(?i)^[+-]?(nan|inf|infinity|none|null)$")
#: Cyrillic and Greek letters that look like Latin ones (Unicode confusables, the common subset)
LOOKALIKES = dict(zip(
    "АВЕЅІЈКМНОРСТХУаеорсухіјѕԁԛԝΑΒΕΖΗΙΚΜΝΟΡΤΥΧονϲ",
    "ABESIJKMHOPCTXYaeopcyxijsdqwABEZHIKMNOPTYXovc"))
#: text columns of free text (staff write sentences there): look-alike letters are not checked
FREE_TEXT = {"na_reason", "answer"}
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
    """Problems of one file, in the user's terms: their column header (canonical name after it),
    their row and their value as written (shortened)."""

    def __init__(self, label: str, language: str):
        self.label, self.language, self.problems = label, language, []
        self.headers: dict[str, str] = {}  # canonical column → header in the user's file
        self.raw: pd.DataFrame | None = None  # the file's text, canonical columns, user row numbers
        self.cells: set = set()  # (row, column) with an error already: one message per problem

    def where(self, column):
        user = self.headers.get(column, column)
        return column if column is None or user == column else f"{user} ({column})"

    def add(self, row, column, key, value=None, severity="error", **values):
        row = None if row is None else int(row)
        if severity == "error" and row is not None and column is not None:
            if (row, column) in self.cells and key in ("required", "not_a_number", "not_an_integer",
                                                        "out_of_range", "not_in_codes"):
                return  # already reported for this cell (e.g. an invalid date is not also 'required')
            self.cells.add((row, column))
        value = None if value is None or (np.isscalar(value) and pd.isna(value)) or value is pd.NA \
            else str(value)
        if value is not None and self.raw is not None and row in self.raw.index and column in self.raw.columns \
                and key not in ("lookalike", "invisible_character"):
            written = self.raw.at[row, column]
            value = str(written) if isinstance(written, str) and written.strip() else value
        values.setdefault("column", column)
        self.problems.append(
            Problem(self.label, row, self.where(column), t(f"validation.{key}", self.language, **values),
                    None if value is None else shorten(value), severity, key))

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
    collect.problems.extend(raw.attrs.get("notes", []))
    read_as = raw.attrs.get("read_as", "")
    schema = dictionary.table_schema(table)
    mapping = params.column_map.get(table, {})
    found = shorten(", ".join(raw.columns), 300) + (f" ({read_as})" if read_as else "")
    for header in raw.columns:
        problem = _text_problem(header)
        if problem:
            collect.add(1, header, problem[0], header, **problem[1])
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
    collect.headers = {target: user for user, target in mapping.items()}
    collect.raw = frame
    frame = frame.copy()
    missing_values = set(schema.get("missingValues", [""]))
    declared = params.column_types.get(table, {})
    fields = list(schema["fields"]) + [_extra_field(frame[c], c, declared.get(c), missing_values)
                                       for c in frame.columns if c not in canonical]
    for f in fields:
        name = f["name"]
        # Parse each distinct value once (dates, scores and codes repeat a lot), then spread back.
        codes, uniques = pd.factorize(frame[name].astype(str), use_na_sentinel=False)
        uniques = pd.Series(uniques, dtype=object)
        flagged = _flag_values(uniques, f)
        if flagged is not None:
            for position in np.flatnonzero(np.isin(codes, list(flagged))):
                key, values = flagged[codes[position]]
                collect.add(frame.index[position], name, key, uniques[codes[position]], **values)
            unusable = [i for i, (key, _) in flagged.items() if key != "lookalike"]
            uniques = uniques.copy()
            uniques[unusable] = ""  # reported once; not also 'not a number' or 'required'
        parsed, bad, text = _parse_values(uniques, f, params, missing_values)
        if bad is not None and bad.any():
            key = {"date": "not_a_date", "boolean": "not_a_boolean"}[f["type"]]
            collect.add_mask(frame, pd.Series(bad.to_numpy()[codes], index=frame.index), name, key,
                             shown=pd.Series(text.to_numpy()[codes], index=frame.index))
        frame[name] = pd.Series(parsed.take(codes).to_numpy(), index=frame.index, dtype=parsed.dtype)
        if f.get("extra") and f["type"] in ("number", "integer"):
            frame[name] = _extra_numbers(frame[name], name, f, collect)
    return frame


def _extra_field(values: pd.Series, name: str, declared, missing_values) -> dict:
    """A field description for an extra column: its declared type (``column_types``), else number
    when every non-empty value reads as a number (decimal comma allowed), else text."""
    if declared is not None:
        return {"name": name, "type": declared.type, "extra": True, "unit": declared.unit,
                "trueValues": BOOLEAN_TEXT[0], "falseValues": BOOLEAN_TEXT[1]}
    text = pd.Series(values.astype(str).unique()).str.strip()
    text = text[~text.isin(missing_values)]
    numbers = pd.to_numeric(normalise_number_text(text), errors="coerce")
    numeric = len(text) > 0 and numbers.notna().all() and np.isfinite(numbers.to_numpy(dtype=float)).all()
    return {"name": name, "type": "number" if numeric else "string", "extra": True}


def _extra_numbers(values: pd.Series, name: str, f: dict, collect: _Collector) -> pd.Series:
    """Numbers of an extra column (float64, or Int64 for integer); text that is not one is reported."""
    numbers = pd.to_numeric(values, errors="coerce")
    bad = values.notna() & numbers.isna()
    if f["type"] == "integer":
        bad |= numbers.notna() & numbers.mod(1).ne(0)
    collect.add_mask(pd.DataFrame({name: values}), bad, name,
                     "not_an_integer" if f["type"] == "integer" else "not_a_number")
    numbers = numbers.where(~bad)
    return numbers.astype("Int64") if f["type"] == "integer" else numbers.astype("float64")


def _text_problem(text: str):
    """(key, values) for an invisible character or a look-alike letter in ``text``, else None."""
    for position, char in enumerate(text, 1):
        category = unicodedata.category(char)
        if category in ("Cc", "Cf", "Co", "Cs") and char not in "\t\n\r":
            return "invisible_character", {"char": f"U+{ord(char):04X}",
                                           "name": unicodedata.name(char, "control character"),
                                           "position": position}
    if not text.isascii() and any("LATIN" in unicodedata.name(c, "") for c in text if c.isalpha()):
        for position, char in enumerate(text, 1):
            if char in LOOKALIKES:
                return "lookalike", {"char": char, "code": f"U+{ord(char):04X}", "name": unicodedata.name(char),
                                     "latin": LOOKALIKES[char], "position": position}
    return None


def _flag_values(uniques: pd.Series, f: dict):
    """Distinct values with a problem the type checks cannot see: Excel error values, 'NaN'/'inf'
    as a number, invisible characters, look-alike letters. {position: (key, values)} or None."""
    flagged = {}
    numeric = f["type"] in ("number", "integer")
    for i, value in enumerate(uniques):
        value = str(value)
        if not value or value.isascii() and value.isprintable() and not (numeric or value.startswith("#")):
            continue
        stripped = value.strip()
        if stripped.upper() in EXCEL_ERRORS:
            flagged[i] = ("excel_error", {})
        elif numeric and _NOT_NUMBERS.match(stripped):
            flagged[i] = ("not_a_number", {})
        elif f["type"] == "string" and f["name"] not in FREE_TEXT or not value.isprintable():
            problem = _text_problem(value if f["name"] not in FREE_TEXT else value.replace("\n", " "))
            if problem:
                flagged[i] = problem
    return flagged or None


def _parse_values(values: pd.Series, field: dict, params: Params, missing_values):
    """Typed values of one column's distinct texts: (parsed, mask of unparseable or None, text)."""
    name, kind = field["name"], field["type"]
    text = values.map(lambda v: unicodedata.normalize("NFC", v).strip(), na_action="ignore").astype(object)
    text = text.where(~text.isin(missing_values), "")
    if name in params.value_map:
        mapping = params.value_map[name]
        text = text.map(lambda v: mapping.get(v, v)).astype(object)
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


def _check_employment(jobs: pd.DataFrame, clients: pd.DataFrame | None, params: Params, c: _Collector,
                      c_clients: _Collector | None) -> pd.DataFrame | None:
    """Jobs: end not before start, start not after the cut-off, client in the clients table; then
    the clients table with ``first_employment_date`` and ``wage_subsidy`` derived from the jobs
    (:func:`tyokyky_eval.stats.employment.derive_clients`), a disagreement reported at the clients row."""
    from tyokyky_eval.stats import employment

    cutoff, lang = pd.Timestamp(params.cutoff_date), c.language
    start, end = jobs["job_start"], jobs["job_end"]
    c.add_mask(jobs, start > cutoff, "job_start", "date_after_cutoff", cutoff=fmt_date(cutoff, lang))
    for row in jobs.index[end < start]:
        c.add(row, "job_end", "end_before_start", fmt_date(end[row], lang), start=fmt_date(start[row], lang))
    if clients is None:
        return None
    c.add_mask(jobs, jobs["client_id"].notna() & ~jobs["client_id"].isin(clients["client_id"]), "client_id",
               "orphan_client")
    usable = jobs[start.notna() & ~(end < start) & jobs["client_id"].isin(clients["client_id"])]
    derived, conflicts = employment.derive_clients(clients, usable, params.options("employment"))
    for row, conflict in conflicts.iterrows():
        shown = conflict["derived"]
        if isinstance(shown, pd.Timestamp):
            shown = fmt_date(shown, lang)
        elif pd.isna(shown):
            shown = t("validation.no_job_start", lang)
        else:
            shown = t(f"validation.{'yes' if shown else 'no'}", lang)
        value = conflict["given"]
        c_clients.add(row, conflict["column"], "employment_conflict",
                      fmt_date(value, lang) if isinstance(value, pd.Timestamp) else value,
                      file=c.label, derived=shown, min_hours=params.options("employment").min_hours)
    return derived


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


def _undeclared_sites(values: pd.Series, params: Params) -> list[tuple[str, object, int]]:
    """The site codes in ``values`` that are not declared under ``sites`` (none when the project
    declares no sites): ``(code, index of its first row, number of rows)``."""
    if not params.sites:
        return []
    codes = values.dropna().astype(str)
    unknown = codes[~codes.isin(params.sites)]
    return [(code, rows.index[0], len(rows)) for code, rows in unknown.groupby(unknown, sort=True)]


def _check_sites(frame: pd.DataFrame, column: str, params: Params, c: _Collector):
    """Every site code of ``column`` is declared under ``sites`` (when sites are declared): one
    problem per unknown code, at its first row."""
    if column not in frame:
        return
    declared = list(params.sites)
    for code, first, n in _undeclared_sites(frame[column], params):
        c.add(first, column, "site_undeclared", code, code=code, n=n, hint=suggest(code, declared),
              declared=", ".join(declared))


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


def _survey_specs(surveys, params: Params) -> dict[str, dict]:
    """The specs of ``surveys`` that can be read: named in ``analyses.feedback.surveys`` (checked
    with the parameters; a broken spec stopped there) or built in."""
    from tyokyky_eval.stats import feedback

    options, specs = params.options("feedback"), {}
    for survey in surveys:
        if survey in options.surveys or survey in feedback.builtin_surveys():
            try:
                specs[survey] = feedback.load_survey(options.surveys.get(survey, survey), params.path.parent)
            except Exception:  # noqa: BLE001 — reported by load_params already
                pass
    return specs


def _unknown_surveys(values: pd.Series, specs: dict, params: Params) -> list[str]:
    """Surveys of ``values`` with no spec that ``load_params`` has not reported already."""
    return sorted(set(values.dropna()) - set(specs) - set(params.options("feedback").surveys))


def _check_feedback(fb: pd.DataFrame, params: Params, c: _Collector):
    """Every survey needs a spec (built-in or ``analyses.feedback.surveys``); responses must be whole
    numbers on their item's scale."""
    from tyokyky_eval.stats import feedback

    specs = _survey_specs(sorted(fb["survey_id"].dropna().unique()), params)
    for survey in _unknown_surveys(fb["survey_id"], specs, params):
        rows = fb.index[fb["survey_id"].eq(survey)]
        c.add(rows[0], "survey_id", "unknown_survey_once", survey, survey=survey, n=len(rows),
              surveys=", ".join(feedback.builtin_surveys()), hint=suggest(survey, feedback.builtin_surveys()))
    known = fb[fb["survey_id"].isin(specs)]
    for row in known.index[feedback.out_of_scale(known, specs)]:
        survey, item, value = known.at[row, "survey_id"], known.at[row, "item_id"], known.at[row, "response"]
        try:
            scale = feedback.item_scale(specs[survey], item)
        except KeyError:
            c.add(row, "item_id", "unknown_item", item, survey=survey, item=item)
            continue
        c.add(row, "response", "response_out_of_scale", value, min=scale["min"], max=scale["max"], item=item)


def _join_coding(coding: pd.DataFrame, feedback: pd.DataFrame | None, params: Params,
                 c: _Collector) -> pd.DataFrame | None:
    """``feedback`` with the coding table's theme codes joined to its open answers (by survey,
    item, respondent and, when given, round). Reported at the coding table's row: an unknown
    survey, an item that is no open question, an unknown theme code, an answer not found or found
    in several rounds, an answer coded twice or coded differently in the feedback data. With
    ``feedback`` None (its inputs have errors) the answers are not looked up."""
    from tyokyky_eval.stats import feedback as fb

    specs = _survey_specs(sorted(coding["survey_id"].dropna().unique()), params)
    for survey in _unknown_surveys(coding["survey_id"], specs, params):
        for row in coding.index[coding["survey_id"].eq(survey)]:
            c.add(row, "survey_id", "unknown_survey", survey,
                  surveys=", ".join(fb.builtin_surveys()), hint=suggest(survey, fb.builtin_surveys()))
    open_items = {sid: {i["id"]: i for i in spec["items"] if i.get("type") == fb.TEXT} for sid, spec in specs.items()}
    answers, themes, coded = {}, None, {}
    if feedback is not None:
        themes = feedback["themes"].copy()
        keys = zip(feedback["survey_id"], feedback["item_id"], feedback["respondent_id"])
        for position, (survey, item, respondent) in zip(feedback.index, keys):
            if item in open_items.get(survey, {}):
                answers.setdefault((survey, item, respondent), []).append(position)
    for row, survey, item, respondent, round_, text in coding[
            ["survey_id", "item_id", "respondent_id", "round", "themes"]].itertuples():
        if survey not in specs or pd.isna(item) or pd.isna(respondent):
            continue  # an unknown survey or a missing value, reported already
        if item not in open_items[survey]:
            c.add(row, "item_id", "coding_not_open_item", item, item=item, survey=survey,
                  items=", ".join(open_items[survey]) or "–")
            continue
        codes, known = survey_exports.theme_codes(text or ""), open_items[survey][item].get("themes") or {}
        if set(codes) - set(known):
            c.add(row, "themes", "export_unknown_theme", text, item=item, expected=", ".join(known) or "–")
        if feedback is None:
            continue
        found = pd.Index(answers.get((survey, item, respondent), []))
        if not pd.isna(round_):
            found = found[feedback.loc[found, "round"].eq(round_).fillna(False).to_numpy(bool)]
        if len(found) != 1:
            rounds = ", ".join(str(r) for r in sorted(set(feedback.loc[found, "round"].dropna())))
            c.add(row, "respondent_id", "coding_ambiguous_round" if len(found) else "coding_unknown_answer",
                  item=item, survey=survey, rounds=rounds)
        elif found[0] in coded:
            c.add(row, "respondent_id", "coding_duplicate", first=coded[found[0]])
        else:
            coded[found[0]] = row
            given = survey_exports.theme_codes(themes[found[0]] or "")
            if given and sorted(given) != sorted(codes):
                c.add(row, "themes", "coding_conflict", text, themes=";".join(given))
            themes[found[0]] = ";".join(codes) or None
    return None if feedback is None else feedback.assign(themes=themes)


def _check_activities(activities: pd.DataFrame, clients: pd.DataFrame | None, params: Params, c: _Collector):
    """Kinds are the codes declared under ``activities.kinds`` (when declared); a client event's
    ``client_id`` exists in the clients table; no activity after the cut-off."""
    kinds = list(params.activities.kinds)
    if kinds:
        unknown = activities["kind"].notna() & ~activities["kind"].isin(kinds)
        for row in activities.index[unknown]:
            value = activities.at[row, "kind"]
            c.add(row, "kind", "not_in_codes", value, codes=", ".join(kinds), hint=suggest(value, kinds))
    cutoff = pd.Timestamp(params.cutoff_date)
    c.add_mask(activities, activities["date"] > cutoff, "date", "date_after_cutoff", cutoff=fmt_date(cutoff, c.language))
    if clients is not None:
        orphan = activities["client_id"].notna() & ~activities["client_id"].isin(clients["client_id"])
        c.add_mask(activities, orphan, "client_id", "orphan_client")


def _check_analyses(params: Params, frames: dict, raw_columns: dict, language: str) -> list[Problem]:
    """The options that name columns, covariates or codes of the data: what ``run`` would stumble
    on after minutes is reported here (survival group and covariates, pre/post subgroup, pathways
    services)."""
    clients = frames.get("clients")
    if clients is None:
        return []
    label = params.path.name
    problems = []

    def add(message, severity="error", **values):
        problems.append(Problem(label, None, None, t(f"validation.{message}", language, **values), None, severity,
                                message))

    present = [c for c in clients.columns if c in raw_columns.get("clients", ()) or clients[c].notna().any()]
    columns = ", ".join(present)
    for key, name in (("analyses.survival.group", params.options("survival").group),
                      ("analyses.prepost.subgroup", getattr(params.options("prepost"), "subgroup", None))):
        if name is not None and name not in present:
            add("param_unknown_column", option=key, name=name, hint=suggest(name, present), columns=columns)
    kyky = frames.get("kykyviisari")
    measures = [m["id"] for m in dictionary.instrument(params.instrument("kykyviisari"))["measures"]]
    for name in params.options("survival").covariates:
        key = "analyses.survival.covariates"
        if name in present:
            continue  # a clients column (canonical or the user's own, e.g. their own 'age') wins
        if name == "age_at_start":
            if "birth_year" not in present:
                add("param_covariate_needs", "warning", option=key, name=name, needs="birth_year")
        elif name.startswith("baseline_") and name.removeprefix("baseline_") in measures:
            if kyky is None:
                add("param_covariate_needs", "warning", option=key, name=name, needs="kykyviisari")
        else:
            choices = present + ["age_at_start"] + [f"baseline_{m}" for m in measures]
            prefixed = [c for c in choices if c.startswith(f"{name}_")]
            hint = suggest(name, choices) or (Message("parameters.did_you_mean", word=prefixed[0]) if prefixed else "")
            add("param_unknown_covariate", option=key, name=name, hint=hint, columns=columns,
                measures=", ".join(measures))
    services = sorted(clients["service"].dropna().astype(str).unique())
    for name in getattr(params.options("pathways"), "services", ()):
        if name not in services:
            add("param_unknown_service", name=name, hint=suggest(name, services), services=", ".join(services))
    for kind, code, hint in service_codes.check_codes(params.services, clients):
        add(f"param_service_{kind}", code=code, hint=hint, declared=", ".join(params.services),
            services=", ".join(services))
    return problems


def _feedback_exports(params: Params, language: str, result: ValidationResult) -> pd.DataFrame | None:
    """The survey tools' exports (``data.feedback`` entries with ``layout: wide``) read, reshaped
    into the ``feedback`` table and checked (problems into ``result``); None without exports."""
    if not params.feedback_exports:
        return None
    frames, declared = [], list(params.sites)
    for export in params.feedback_exports:
        frame, problems = survey_exports.read_entry(export, params.options("feedback"), params.path.parent, language,
                                                    params.value_map)
        result.problems += problems + [
            Problem(export.label, None, None, t("validation.site_undeclared", language, code=code, n=n,
                                                hint=suggest(code, declared), declared=", ".join(declared)),
                    code, "error", "site_undeclared")
            for code, _, n in _undeclared_sites(frame["site"], params)]
        result.labels.setdefault("feedback", export.label)
        frames.append(frame)
    return survey_exports.typed(pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True))


def _feedback_table(long: pd.DataFrame | None, exports: pd.DataFrame | None) -> pd.DataFrame | None:
    """The ``feedback`` table: the long table's rows, then the survey exports' (None without either)."""
    if exports is None:
        return long
    return exports if long is None else survey_exports.typed(pd.concat([long.reset_index(drop=True), exports],
                                                                       ignore_index=True))


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
    if frames.get("employment") is not None:
        derived = _check_employment(frames["employment"], clients, params, collectors["employment"],
                                    collectors.get("clients"))
        if derived is not None:
            frames["clients"] = clients = derived
    if frames.get("kykyviisari") is not None:
        _check_measurements(frames["kykyviisari"], clients, params, collectors["kykyviisari"])
    if frames.get("fidelity") is not None:
        fid = frames["fidelity"]
        fid["rater"] = fid["rater"].where(~fid["rater"].str.lower().eq("consensus"), "consensus")
        _check_fidelity(frames["fidelity"], collectors["fidelity"])
        _check_sites(frames["fidelity"], "site_id", params, collectors["fidelity"])
    if frames.get("feedback") is not None:
        _check_feedback(frames["feedback"], params, collectors["feedback"])
        _check_sites(frames["feedback"], "site", params, collectors["feedback"])
    if frames.get("activities") is not None:
        _check_activities(frames["activities"], clients, params, collectors["activities"])
    exports = _feedback_exports(params, language, result)
    feedback_errors = any(p.severity == "error" for p in result.problems)  # the exports' problems so far
    raw_columns = {table: list(c.raw.columns) if c.raw is not None else [] for table, c in collectors.items()}
    result.problems.extend(_check_analyses(params, frames, raw_columns, language))
    for table, collect in collectors.items():
        identifiers.check(table, frames[table], collect)  # no names or identity codes in code columns
    feedback = _feedback_table(frames.get("feedback"), exports)
    coding = frames.pop("feedback_coding", None)
    if coding is not None:  # joined to the open answers, not a table of its own
        failed = feedback_errors or "feedback" in collectors and any(
            p.severity == "error" for p in collectors["feedback"].problems)
        answers = None if failed else feedback if feedback is not None else pd.DataFrame(columns=survey_exports.COLUMNS)
        joined = _join_coding(coding, answers, params, collectors["feedback_coding"])
        if feedback is not None and not failed:
            feedback = joined
    for table, collect in collectors.items():
        result.problems.extend(collect.problems)
        if frames.get(table) is not None:
            result.tables[table] = frames[table].reset_index(drop=True)
    if feedback is not None:
        result.tables["feedback"] = feedback.reset_index(drop=True)
    result.problems = sorted(set(result.problems), key=lambda p: (p.file, p.row or 0, p.column or "", p.message))
    return result

"""Parameters of one evaluated project (``parameters/<project>.yaml``), validated.

Unknown keys are errors with a did-you-mean suggestion, so typos never pass silently. Each analysis
module (``fidelity``, ``prepost``, ``survival``, ``feedback``, ``pathways``) owns a frozen dataclass
``Options``; the mapping under ``analyses.<name>`` is checked against its fields.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tyokyky_eval.dictionary import TABLES, field_names
from tyokyky_eval.errors import ParameterError
from tyokyky_eval.sections import REGISTRY

#: analysis name → module that defines its ``Options`` dataclass (from the section registry)
ANALYSES = {name: entry.options for name, entry in REGISTRY.items() if entry.options}

TOP_LEVEL_KEYS = {
    "project_id", "title", "description", "language", "cutoff_date", "evaluation_period", "data",
    "column_map", "value_map", "instruments", "analyses", "disclosure", "validation", "synthetic",
}
REQUIRED_KEYS = ("project_id", "title", "cutoff_date", "data")


@dataclass(frozen=True)
class DataSource:
    """One input table: resolved path and, for Excel, the sheet (None = first sheet)."""

    table: str
    path: Path
    sheet: str | None = None


@dataclass(frozen=True)
class Disclosure:
    """Disclosure control: counts below ``min_cell`` are suppressed; follow-up summaries need
    ``min_followup`` respondents (Kykyviisari's own rule is 10)."""

    min_cell: int = 5
    min_followup: int = 10


@dataclass(frozen=True)
class ValidationRules:
    """Cross-table tolerances (days)."""

    measurement_tolerance_days: int = 30  # measurements may precede the start by this much
    employment_after_end_days: int = 90  # a first job this long after the end still counts


@dataclass(frozen=True)
class Params:
    path: Path
    project_id: str
    title: str
    language: str
    cutoff_date: dt.date
    data: dict[str, DataSource]
    description: str = ""
    evaluation_period: tuple[dt.date, dt.date] | None = None
    column_map: dict[str, dict[str, str]] = field(default_factory=dict)
    value_map: dict[str, dict[str, str]] = field(default_factory=dict)
    instruments: dict[str, str] = field(default_factory=dict)
    analyses: dict[str, Any] = field(default_factory=dict)
    disclosure: Disclosure = Disclosure()
    validation: ValidationRules = ValidationRules()
    synthetic: dict[str, Any] = field(default_factory=dict)

    def options(self, analysis: str):
        """The validated ``Options`` of ``analysis`` (defaults when the file does not mention it)."""
        if analysis in self.analyses:
            return self.analyses[analysis]
        return _options_class(analysis)()

    def instrument(self, table: str) -> str:
        """Instrument spec id or path used for ``table`` (fidelity → ips25, kykyviisari → kykyviisari)."""
        default = {"fidelity": "ips25", "kykyviisari": "kykyviisari"}[table]
        return self.instruments.get(table, default)


def suggest(word: str, choices) -> str:
    """' (did you mean …?)' for the closest of ``choices``, or ''."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _unknown_keys(where: str, given, allowed) -> list[str]:
    return [
        f"{where}: unknown key '{k}'{suggest(k, allowed)}; allowed keys: {', '.join(sorted(allowed))}"
        for k in given if k not in allowed
    ]


def _date(value, where: str, errors: list[str]) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    m = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", text)
    try:
        if m:
            return dt.date(int(m[3]), int(m[2]), int(m[1]))
        return dt.date.fromisoformat(text)
    except ValueError:
        errors.append(f"{where}: '{value}' is not a date; write 2023-12-31 or 31.12.2023")
        return None


def _options_class(analysis: str):
    return importlib.import_module(ANALYSES[analysis]).Options


def _dataclass_from(cls, values, where: str, errors: list[str]):
    if values is None:
        values = {}
    if not isinstance(values, dict):
        errors.append(f"{where}: expected a mapping of options, got {type(values).__name__}")
        return cls()
    allowed = [f.name for f in dataclasses.fields(cls)]
    bad = _unknown_keys(where, values, allowed)
    if bad:
        errors.extend(bad)
        return cls()
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        errors.append(f"{where}: {exc}")
        return cls()


def _data_sources(raw, base: Path, errors: list[str]) -> dict[str, DataSource]:
    sources = {}
    if not isinstance(raw, dict) or not raw:
        errors.append("data: give at least one input table, e.g. 'clients: data/clients.csv'")
        return sources
    for table, spec in raw.items():
        if table not in TABLES:
            errors.append(f"data: unknown table '{table}'{suggest(table, TABLES)}; tables are {', '.join(TABLES)}")
            continue
        sheet = None
        if isinstance(spec, dict):
            errors.extend(_unknown_keys(f"data.{table}", spec, ("path", "sheet")))
            sheet = spec.get("sheet")
            spec = spec.get("path")
        if not spec:
            errors.append(f"data.{table}: no file path given")
            continue
        path = (base / str(spec)).resolve()
        if not path.is_file():
            errors.append(f"data.{table}: file not found: {path}")
            continue
        sources[table] = DataSource(table, path, None if sheet is None else str(sheet))
    return sources


def _column_map(raw, errors: list[str]) -> dict[str, dict[str, str]]:
    if not raw:
        return {}
    if not isinstance(raw, dict):
        errors.append("column_map: expected 'table: {your column: canonical column}'")
        return {}
    out = {}
    for table, mapping in raw.items():
        if table not in TABLES:
            errors.append(f"column_map: unknown table '{table}'{suggest(table, TABLES)}")
            continue
        if not isinstance(mapping, dict):
            errors.append(f"column_map.{table}: expected 'your column: canonical column'")
            continue
        canonical = field_names(table)
        for user, target in mapping.items():
            if target not in canonical:
                errors.append(
                    f"column_map.{table}: '{user}' is mapped to '{target}', which is not a column of "
                    f"{table}{suggest(target, canonical)}; columns are {', '.join(canonical)}"
                )
        out[table] = {str(k): str(v) for k, v in mapping.items()}
    return out


def load_params(path: str | Path) -> Params:
    """Read and validate a parameters file; raises ``ParameterError`` listing every problem."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"parameters file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ParameterError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ParameterError(f"{path}: expected a mapping of keys such as project_id, title, data")
    errors = _unknown_keys(str(path.name), raw, TOP_LEVEL_KEYS)
    errors += [f"{path.name}: missing required key '{k}'" for k in REQUIRED_KEYS if k not in raw]
    if errors:
        raise ParameterError(errors)

    base = path.parent
    project_id = str(raw["project_id"])
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", project_id):
        errors.append(f"project_id: '{project_id}' may contain only a–z, 0–9, '-' and '_'")
    language = raw.get("language", "fi")
    if language not in ("fi", "en"):
        errors.append(f"language: '{language}' is not supported; use fi or en")
    cutoff = _date(raw["cutoff_date"], "cutoff_date", errors)
    period = None
    if raw.get("evaluation_period") is not None:
        ep = raw["evaluation_period"]
        if not isinstance(ep, dict):
            errors.append("evaluation_period: expected {start: date, end: date}")
        else:
            errors.extend(_unknown_keys("evaluation_period", ep, ("start", "end")))
            start = _date(ep.get("start"), "evaluation_period.start", errors)
            end = _date(ep.get("end"), "evaluation_period.end", errors)
            if start and end and end < start:
                errors.append("evaluation_period: end is before start")
            period = (start, end)
    value_map = raw.get("value_map") or {}
    if not isinstance(value_map, dict) or not all(isinstance(v, dict) for v in value_map.values()):
        errors.append("value_map: expected 'column: {your label: code}'")
        value_map = {}
    all_columns = {c for t in TABLES for c in field_names(t)}
    for column in value_map:
        if column not in all_columns:
            errors.append(f"value_map: '{column}' is not a canonical column{suggest(column, all_columns)}")
    instruments = raw.get("instruments") or {}
    errors.extend(_unknown_keys("instruments", instruments, ("fidelity", "kykyviisari")))
    for table, spec in instruments.items():
        spec = str(spec)
        if spec.endswith((".yaml", ".yml")):
            resolved = (base / spec).resolve()
            if not resolved.is_file():
                errors.append(f"instruments.{table}: file not found: {resolved}")
            instruments[table] = str(resolved)
    analyses_raw = raw.get("analyses") or {}
    analyses = {}
    if not isinstance(analyses_raw, dict):
        errors.append("analyses: expected 'analysis name: {options}'")
    else:
        errors.extend(_unknown_keys("analyses", analyses_raw, ANALYSES))
        for name, values in analyses_raw.items():
            if name in ANALYSES:
                analyses[name] = _dataclass_from(_options_class(name), values, f"analyses.{name}", errors)
    params = Params(
        path=path.resolve(),
        project_id=project_id,
        title=str(raw["title"]),
        description=str(raw.get("description") or ""),
        language=language,
        cutoff_date=cutoff,
        evaluation_period=period,
        data=_data_sources(raw["data"], base, errors),
        column_map=_column_map(raw.get("column_map"), errors),
        value_map={str(k): {str(a): str(b) for a, b in v.items()} for k, v in value_map.items()},
        instruments={str(k): str(v) for k, v in instruments.items()},
        analyses=analyses,
        disclosure=_dataclass_from(Disclosure, raw.get("disclosure"), "disclosure", errors),
        validation=_dataclass_from(ValidationRules, raw.get("validation"), "validation", errors),
        synthetic=dict(raw.get("synthetic") or {}),
    )
    if params.synthetic:
        from tyokyky_eval.demo import spec_from_synthetic

        try:
            spec_from_synthetic(params.synthetic)
        except ParameterError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ParameterError(errors)
    return params

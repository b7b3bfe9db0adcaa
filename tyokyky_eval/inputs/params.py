"""Parameters of one evaluated project (``parameters/<project>.yaml``), validated.

Unknown keys are errors with a did-you-mean suggestion, so typos never pass silently. Each analysis
module (``fidelity``, ``prepost``, ``survival``, ``feedback``, ``pathways``) owns a frozen dataclass
``Options``; the mapping under ``analyses.<name>`` is checked against its fields.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tyokyky_eval.errors import ParameterError
from tyokyky_eval.inputs import identifiers, services
from tyokyky_eval.inputs.dictionary import TABLES, field_names, load_yaml
from tyokyky_eval.inputs.keys import build, short, suggest, unknown_keys
from tyokyky_eval.sections import REGISTRY
from tyokyky_eval.stats import activities, costs, goals

#: analysis name → module that defines its ``Options`` dataclass (from the section registry)
ANALYSES = {name: entry.options for name, entry in REGISTRY.items() if entry.options}

TOP_LEVEL_KEYS = {
    "project_id", "title", "description", "language", "cutoff_date", "evaluation_period", "data",
    "column_map", "value_map", "column_types", "instruments", "analyses", "disclosure", "validation",
    "synthetic", "services", "goals", "activities", "costs",
}
#: types an extra (non-canonical) column may be declared as in ``column_types``
COLUMN_TYPES = ("number", "integer", "boolean", "string")
PROJECT_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
MAX_TITLE = 300
REQUIRED_KEYS = ("project_id", "title", "cutoff_date", "data")


@dataclass(frozen=True)
class DataSource:
    """One input table: resolved path and, for Excel, the sheet (None = first sheet)."""

    table: str
    path: Path
    sheet: str | None = None


#: keys of a ``data.feedback`` entry; ``round``, ``respondent_group`` and ``site`` take a value or
#: ``{column: HEADER}`` (the export's column holding it); ``header_rows: 2`` for a header spanning two rows
EXPORT_KEYS = ("path", "sheet", "layout", "survey", "round", "respondent_group", "site", "respondent_id", "ignore",
               "header_rows")
EXPORT_FIELDS = ("round", "respondent_group", "site", "respondent_id")


@dataclass(frozen=True)
class FeedbackExport:
    """A survey tool's export (``layout: wide``): one row per respondent, one column per question.
    ``values``: field → the value for every row; ``columns``: field → the export's column holding
    it (fields ``round``, ``respondent_group``, ``site``, ``respondent_id``); ``ignore``: headers
    that are not questions (besides the tools' own metadata columns); ``header_rows``: 2 when the
    header spans two rows (question, then option)."""

    path: Path
    survey: str
    sheet: str | None = None
    values: dict = field(default_factory=dict)
    columns: dict = field(default_factory=dict)
    ignore: tuple[str, ...] = ()
    header_rows: int = 1

    @property
    def label(self) -> str:
        return self.path.name + (f"[{self.sheet}]" if self.sheet else "")


@dataclass(frozen=True)
class Disclosure:
    """Disclosure control: counts below ``min_cell`` are suppressed; follow-up summaries need
    ``min_followup`` respondents (Kykyviisari's own rule is 10)."""

    min_cell: int = 5
    min_followup: int = 10

    def __post_init__(self):
        if not _whole(self.min_cell) or self.min_cell < 3:
            raise ValueError(f"min_cell must be a whole number of at least 3 (default 5), got {self.min_cell!r}")
        if not _whole(self.min_followup) or self.min_followup < self.min_cell:
            raise ValueError(f"min_followup must be a whole number of at least min_cell ({self.min_cell}; "
                             f"default 10), got {self.min_followup!r}")


@dataclass(frozen=True)
class ValidationRules:
    """Cross-table tolerances (days)."""

    measurement_tolerance_days: int = 30  # measurements may precede the start by this much
    employment_after_end_days: int = 90  # a first job this long after the end still counts

    def __post_init__(self):
        for name in ("measurement_tolerance_days", "employment_after_end_days"):
            value = getattr(self, name)
            if not _whole(value) or value < 0:
                raise ValueError(f"{name} must be a whole number of days ≥ 0, got {value!r}")


def _whole(value) -> bool:
    """True for an int that is not a bool (YAML 'true' is not a number, '5' and 4.5 are not whole)."""
    return isinstance(value, int) and not isinstance(value, bool)


def nfc(text: str) -> str:
    """Unicode NFC: 'ö' typed as o + combining diaeresis equals the single character 'ö'."""
    return unicodedata.normalize("NFC", text)


@dataclass(frozen=True)
class ColumnType:
    """Declared type (``number``, ``integer``, ``boolean``, ``string``) and unit of an extra column."""

    type: str
    unit: str | None = None


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
    column_types: dict[str, dict[str, ColumnType]] = field(default_factory=dict)
    instruments: dict[str, str] = field(default_factory=dict)
    analyses: dict[str, Any] = field(default_factory=dict)
    disclosure: Disclosure = Disclosure()
    validation: ValidationRules = ValidationRules()
    synthetic: dict[str, Any] = field(default_factory=dict)
    goals: tuple = ()  # tyokyky_eval.stats.goals.Goal
    activities: Any = field(default_factory=activities.Options)  # codes of the activities table
    costs: Any = None  # tyokyky_eval.stats.costs.Costs, None when the project declares no costs
    feedback_exports: tuple[FeedbackExport, ...] = ()  # data.feedback entries with layout: wide
    services: dict[str, Any] = field(default_factory=dict)  # code → services.Service (empty = undeclared)

    def options(self, analysis: str):
        """The validated ``Options`` of ``analysis`` (defaults when the file does not mention it)."""
        if analysis in self.analyses:
            return self.analyses[analysis]
        return _options_class(analysis)()

    def instrument(self, table: str) -> str:
        """Instrument spec id or path used for ``table`` (fidelity → ips25, kykyviisari → kykyviisari)."""
        default = {"fidelity": "ips25", "kykyviisari": "kykyviisari"}[table]
        return self.instruments.get(table, default)


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
    bad = unknown_keys(where, values, allowed)
    if bad:
        errors.extend(bad)
        return cls()
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        errors.append(f"{where}: {exc}")
        return cls()


def _feedback_export(spec: dict, where: str, base: Path, errors: list[str]) -> FeedbackExport | None:
    """A ``layout: wide`` entry of ``data.feedback``, checked."""
    errors.extend(unknown_keys(where, spec, EXPORT_KEYS))
    survey = spec.get("survey")
    if not isinstance(survey, str) or not survey:
        errors.append(f"{where}: a wide export needs 'survey: SURVEY_ID' (the survey spec its columns answer)")
    values, columns = {}, {}
    for name in EXPORT_FIELDS:
        value = spec.get(name)
        if isinstance(value, dict):
            errors.extend(unknown_keys(f"{where}.{name}", value, ("column",)))
            if not isinstance(value.get("column"), str):
                errors.append(f"{where}.{name}: expected {{column: HEADER}} naming the export's column")
            else:
                columns[name] = nfc(value["column"]).strip()
        elif value is not None and name != "respondent_id":
            values[name] = value
        elif value is not None:
            errors.append(f"{where}.respondent_id: expected {{column: HEADER}} naming the export's id column")
    for name in ("round", "respondent_group"):
        if name not in values and name not in columns:
            errors.append(f"{where}: give '{name}: VALUE' or '{name}: {{column: HEADER}}'")
    for name in ("respondent_group", "site"):
        if name in values and (identifiers.looks_like_hetu(str(values[name])) or not identifiers.is_code(values[name])):
            errors.append(f"{where}.{name}: not a code (letters, digits, _, - and ., no spaces, at most "
                          f"{identifiers.MAX_CODE_LENGTH} characters); codes are published in the appendix")
    if "round" in values and not (_whole(values["round"]) and values["round"] >= 1):
        errors.append(f"{where}.round: expected a whole number ≥ 1, got {short(repr(values['round']))}")
    ignore = spec.get("ignore") or []
    if not isinstance(ignore, list) or not all(isinstance(h, str) for h in ignore):
        errors.append(f"{where}.ignore: expected a list of column headers")
        ignore = []
    header_rows = spec.get("header_rows", 1)
    if not (_whole(header_rows) and header_rows in (1, 2)):
        errors.append(f"{where}.header_rows: expected 1 or 2 (a header spanning two rows: question, then "
                      f"option), got {short(repr(header_rows))}")
        header_rows = 1
    path, problem = _input_path(base, str(spec.get("path") or ""))
    if not spec.get("path") or problem:
        errors.append(f"{where}: {problem or 'no file path given'}")
        return None
    sheet = spec.get("sheet")
    return FeedbackExport(path, str(survey), None if sheet is None else str(sheet), values, columns,
                          tuple(nfc(h).strip() for h in ignore), header_rows)


def _feedback_entries(spec, base: Path, errors: list[str]) -> tuple[object, tuple[FeedbackExport, ...]]:
    """``data.feedback`` split into the long table's entry (or None) and the wide exports: one
    entry, or a list of entries (at most one long table)."""
    entries = spec if isinstance(spec, list) else [spec]
    long, exports = [], []
    for i, entry in enumerate(entries, 1):
        where = "data.feedback" + (f"[{i}]" if isinstance(spec, list) else "")
        layout = entry.get("layout", "long") if isinstance(entry, dict) else "long"
        if layout == "wide":
            export = _feedback_export(entry, where, base, errors)
            if export is not None:
                exports.append(export)
        elif layout != "long":
            errors.append(f"{where}.layout: '{short(layout)}' is not a layout; use long (one row per answer) or "
                          "wide (a survey tool's export: one row per respondent)")
        else:
            long.append(entry)
    if len(long) > 1:
        errors.append("data.feedback: at most one long-format table; list survey exports with layout: wide")
    return (long[0] if long else None), tuple(exports)


def _data_sources(raw, base: Path, errors: list[str]) -> dict[str, DataSource]:
    sources = {}
    if not isinstance(raw, dict) or not raw:
        errors.append("data: give at least one input table, e.g. 'clients: data/clients.csv'")
        return sources
    for table, spec in raw.items():
        if table not in TABLES:
            errors.append(f"data: unknown table '{table}'{suggest(table, TABLES)}; tables are {', '.join(TABLES)}")
            continue
        if table == "feedback":
            spec = _feedback_entries(spec, base, errors)[0]
            if spec is None:
                continue
        sheet = None
        if isinstance(spec, dict):
            errors.extend(unknown_keys(f"data.{table}", {k: v for k, v in spec.items() if k != "layout"},
                                        ("path", "sheet")))
            sheet = spec.get("sheet")
            spec = spec.get("path")
        if not spec:
            errors.append(f"data.{table}: no file path given")
            continue
        path, problem = _input_path(base, str(spec))
        if problem:
            errors.append(f"data.{table}: {problem}")
            continue
        sources[table] = DataSource(table, path, None if sheet is None else str(sheet))
    return sources


def _input_path(base: Path, spec: str) -> tuple[Path | None, str]:
    """The resolved path of an input file, or a message saying why it cannot be used."""
    try:
        path = (base / spec).resolve()
    except (RuntimeError, OSError) as exc:  # a symbolic link loop (Python < 3.13 raises RuntimeError)
        return None, f"cannot follow the path {base / spec}: {getattr(exc, 'strerror', None) or exc} " \
                     "(a symbolic link that points to itself?)"
    try:
        if path.is_dir():
            return None, f"{path} is a folder; name a file in it"
        if path.is_file():
            return path, ""
        if path.is_symlink() or (base / spec).is_symlink():
            return None, f"the link {base / spec} points to nothing that can be read"
    except OSError as exc:
        return None, f"cannot read {path}: {exc.strerror or exc}"
    siblings = sorted(p.name for p in path.parent.iterdir()) if path.parent.is_dir() else []
    return None, f"file not found: {path}{suggest(path.name, siblings)}"


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
        out[table] = {nfc(str(k)).strip(): str(v) for k, v in mapping.items()}
    return out


def _column_types(raw, column_map, errors: list[str]) -> dict[str, dict[str, ColumnType]]:
    """``column_types: {table: {column: {type: number, unit: years}}}`` (or ``column: number``) for
    extra columns, named as in the file."""
    if not raw:
        return {}
    if not isinstance(raw, dict):
        errors.append("column_types: expected 'table: {your column: {type: number, unit: years}}'")
        return {}
    out = {}
    for table, columns in raw.items():
        if table not in TABLES:
            errors.append(f"column_types: unknown table '{table}'{suggest(table, TABLES)}")
            continue
        if not isinstance(columns, dict):
            errors.append(f"column_types.{table}: expected 'your column: {{type: number, unit: years}}'")
            continue
        canonical = set(field_names(table)) | set(column_map.get(table, {}))
        out[table] = {}
        for column, spec in columns.items():
            where = f"column_types.{table}.{column}"
            column = nfc(str(column)).strip()
            if column in canonical:
                errors.append(f"{where}: '{column}' is a column of the data dictionary; its type is fixed there")
                continue
            if isinstance(spec, str):
                spec = {"type": spec}
            if not isinstance(spec, dict):
                errors.append(f"{where}: expected {{type: {'|'.join(COLUMN_TYPES)}, unit: …}}")
                continue
            errors.extend(unknown_keys(where, spec, ("type", "unit")))
            kind = spec.get("type")
            if kind not in COLUMN_TYPES:
                errors.append(f"{where}: type '{kind}' is not one of {', '.join(COLUMN_TYPES)}"
                              f"{suggest(str(kind), COLUMN_TYPES)}")
                continue
            unit = spec.get("unit")
            out[table][column] = ColumnType(kind, None if unit is None else str(unit))
    return out


def _check_instruments(instruments: dict, errors: list[str]) -> None:
    """Every named instrument spec can be read and is complete (fidelity: items, sections, bands;
    kykyviisari: measures)."""
    from tyokyky_eval.inputs import dictionary

    for table, spec in instruments.items():
        if table not in ("fidelity", "kykyviisari"):
            continue
        where = f"instruments.{table}"
        try:
            if table == "fidelity":
                from tyokyky_eval.stats.fidelity import load_instrument

                load_instrument(spec)
            else:
                errors.extend(f"{where}: {p}" for p in dictionary.check_measures_spec(dictionary.instrument(spec), spec))
        except KeyError:
            known = dictionary.builtin_instruments()
            errors.append(f"{where}: no built-in instrument '{spec}'{suggest(spec, known)}; built-in instruments "
                          f"are {', '.join(known)}, or name your own .yaml file")
        except ParameterError as exc:
            errors.extend(f"{where}: {m}" for m in exc.messages)
        except Exception as exc:  # noqa: BLE001 — a spec of the wrong shape must not become a traceback
            errors.append(f"{where}: the instrument spec {Path(spec).name} is incomplete or of the wrong shape "
                          f"({type(exc).__name__}: {exc}); compare with data_dictionary/instruments/")


def check_survey_spec(spec: str, base: Path) -> list[str]:
    """Problems of one survey spec (built-in id or YAML path relative to ``base``); [] when usable."""
    from tyokyky_eval.stats import feedback

    if spec.endswith((".yaml", ".yml")):
        path = base / spec
        if not path.is_file():
            return [f"file not found: {path.resolve()}"]
        try:
            data = load_yaml(path, "survey spec")
        except ParameterError as exc:
            return exc.messages
        if not isinstance(data, dict):
            return [f"{path.name}: a survey spec must be a mapping (id, title, scales, items), "
                    f"not a {type(data).__name__}"]
        title = data.get("title")
        if not (isinstance(title, dict) and all(isinstance(title.get(k), str) and title[k].strip()
                                                 for k in ("fi", "en"))):
            return [f"{path.name}: the survey spec needs 'title: {{fi: …, en: …}}' (shown in the appendix)"]
        if not isinstance(data.get("scales"), dict) or not isinstance(data.get("items"), list) or not all(
                isinstance(i, dict) for i in data["items"]):
            return [f"{path.name}: the survey spec needs 'scales' (a mapping) and 'items' (a list of "
                    "{id, scale, text})"]
    elif spec not in feedback.builtin_surveys():
        return [f"no built-in survey spec '{spec}'{suggest(spec, feedback.builtin_surveys())}; built-in specs are "
                f"{', '.join(feedback.builtin_surveys())}, or name your own .yaml file"]
    try:
        feedback.load_survey(spec, base)
    except ParameterError as exc:
        return exc.messages
    except Exception as exc:  # noqa: BLE001 — a spec of the wrong shape must not become a traceback
        return [f"survey spec {spec} is incomplete or of the wrong shape ({type(exc).__name__}: {exc})"]
    return []


def _goals(raw, errors: list[str]) -> tuple:
    """The ``goals:`` list of a parameters file; problems are appended to ``errors``."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        errors.append("goals: expected a list of goals, e.g. '- {id: pilot_clients, title: …, indicator: clients, "
                      "target: 100}'")
        return ()
    parsed, seen = [], set()
    for i, item in enumerate(raw, 1):
        goal = build(goals.Goal, item, f"goals[{i}]", errors)
        if goal is None:
            continue
        if goal.id in seen:
            errors.append(f"goals[{i}]: id {goal.id} is used twice")
        seen.add(goal.id)
        parsed.append(goal)
    return tuple(parsed)


def _plan_blocks(raw: dict, errors: list[str]) -> dict:
    """The project's own plan: ``goals``, ``activities`` (codes of the activities table) and
    ``costs`` (see ``tyokyky_eval.stats.goals``, ``.activities``, ``.costs``)."""
    return {"goals": _goals(raw.get("goals"), errors),
            "activities": build(activities.Options, raw.get("activities") or {}, "activities", errors)
            or activities.Options(),
            "costs": None if raw.get("costs") is None else build(costs.Costs, raw["costs"], "costs", errors)}


def load_params(path: str | Path) -> Params:
    """Read and validate a parameters file; raises ``ParameterError`` listing every problem."""
    path = Path(path)
    try:
        found = path.is_file()
    except OSError:
        found = False
    if not found:
        raise ParameterError(f"parameters file not found: {path}")
    raw = load_yaml(path, "parameters file")
    if not isinstance(raw, dict):
        raise ParameterError(f"{path}: expected a mapping of keys such as project_id, title, data")
    errors = unknown_keys(str(path.name), raw, TOP_LEVEL_KEYS)
    errors += [f"{path.name}: missing required key '{k}'" for k in REQUIRED_KEYS if k not in raw]
    if errors:
        raise ParameterError(errors)

    base = path.parent
    project_id = raw["project_id"]
    if not isinstance(project_id, str):
        written = re.search(r"(?m)^project_id:\s*([^#\n]*?)\s*(?:#.*)?$", path.read_text(encoding="utf-8-sig"))
        written = written[1] if written else str(project_id)
        errors.append(f"project_id: {written} is read as {type(project_id).__name__} {project_id!r}, not as "
                      f"text; write it in quotes: project_id: \"{written}\"")
        project_id = str(project_id)
    elif not PROJECT_ID.fullmatch(project_id):
        errors.append(f"project_id: '{short(project_id)}' may contain only a–z, 0–9, '-' and '_' (at most 64, "
                      "starting with a letter or digit)")
    title = raw["title"]
    if not isinstance(title, str) or not title.strip():
        errors.append(f"title: expected text, got {short(repr(title))}")
        title = str(title)
    elif len(title) > MAX_TITLE:
        errors.append(f"title: {len(title):,} characters; at most {MAX_TITLE} are accepted")
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
            errors.extend(unknown_keys("evaluation_period", ep, ("start", "end")))
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
    if not isinstance(instruments, dict):
        errors.append("instruments: expected 'fidelity: ips25' and/or 'kykyviisari: kykyviisari' (or .yaml files)")
        instruments = {}
    errors.extend(unknown_keys("instruments", instruments, ("fidelity", "kykyviisari")))
    for table, spec in instruments.items():
        spec = str(spec)
        if spec.endswith((".yaml", ".yml")):
            resolved = (base / spec).resolve()
            if not resolved.is_file():
                errors.append(f"instruments.{table}: file not found: {resolved}")
            instruments[table] = str(resolved)
    _check_instruments({k: str(v) for k, v in instruments.items()
                        if not str(v).endswith((".yaml", ".yml")) or Path(str(v)).is_file()}, errors)
    analyses_raw = raw.get("analyses") or {}
    analyses = {}
    if not isinstance(analyses_raw, dict):
        errors.append("analyses: expected 'analysis name: {options}'")
    else:
        errors.extend(unknown_keys("analyses", analyses_raw, ANALYSES))
        for name, values in analyses_raw.items():
            if name in ANALYSES:
                analyses[name] = _dataclass_from(_options_class(name), values, f"analyses.{name}", errors)
    if "feedback" in analyses:
        for survey, spec in analyses["feedback"].surveys.items():
            errors.extend(f"analyses.feedback.surveys.{survey}: {m}" for m in check_survey_spec(spec, base))
    column_map = _column_map(raw.get("column_map"), errors)
    params = Params(
        path=path.resolve(),
        project_id=project_id,
        title=title,
        description=str(raw.get("description") or ""),
        language=language,
        cutoff_date=cutoff,
        evaluation_period=period,
        data=_data_sources(raw["data"], base, errors),
        column_map=column_map,
        value_map={str(k): {nfc(str(a)).strip(): str(b) for a, b in v.items()} for k, v in value_map.items()},
        column_types=_column_types(raw.get("column_types"), column_map, errors),
        instruments={str(k): str(v) for k, v in instruments.items()},
        analyses=analyses,
        disclosure=_dataclass_from(Disclosure, raw.get("disclosure"), "disclosure", errors),
        validation=_dataclass_from(ValidationRules, raw.get("validation"), "validation", errors),
        synthetic=dict(raw.get("synthetic") or {}),
        **_plan_blocks(raw, errors),
        feedback_exports=_feedback_entries(raw["data"]["feedback"], base, [])[1]
        if isinstance(raw["data"], dict) and "feedback" in raw["data"] else (),
        services=services.parse(raw.get("services"), path.name, errors),
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

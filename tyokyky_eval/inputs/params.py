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
from tyokyky_eval.i18n import LANGUAGES, Message, within
from tyokyky_eval.inputs import identifiers, services
from tyokyky_eval.inputs.dictionary import TABLES, field_names, load_yaml
from tyokyky_eval.inputs.keys import (
    bilingual,
    build,
    short,
    suggest,
    type_name,
    unknown_keys,
)
from tyokyky_eval.sections import REGISTRY
from tyokyky_eval.stats import activities, costs, goals

#: analysis name → module that defines its ``Options`` dataclass (from the section registry)
ANALYSES = {name: entry.options for name, entry in REGISTRY.items() if entry.options}

TOP_LEVEL_KEYS = {
    "project_id", "title", "description", "language", "cutoff_date", "evaluation_period", "data",
    "column_map", "value_map", "column_types", "instruments", "analyses", "disclosure", "validation",
    "synthetic", "services", "sites", "goals", "activities", "costs",
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
            raise ValueError(Message("parameters.min_cell", value=repr(self.min_cell)))
        if not _whole(self.min_followup) or self.min_followup < self.min_cell:
            raise ValueError(Message("parameters.min_followup", min_cell=self.min_cell, value=repr(self.min_followup)))


@dataclass(frozen=True)
class ValidationRules:
    """Cross-table tolerances (days)."""

    measurement_tolerance_days: int = 30  # measurements may precede the start by this much
    employment_after_end_days: int = 90  # a first job this long after the end still counts

    def __post_init__(self):
        for name in ("measurement_tolerance_days", "employment_after_end_days"):
            value = getattr(self, name)
            if not _whole(value) or value < 0:
                raise ValueError(Message("parameters.days", name=name, value=repr(value)))


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
    """A parameters file, checked. ``title`` and ``description`` are ``{fi: …, en: …}`` (one text
    given for both languages is the same in both; no description = {})."""

    path: Path
    project_id: str
    title: dict
    language: str
    cutoff_date: dt.date
    data: dict[str, DataSource]
    description: dict = field(default_factory=dict)
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
    sites: dict[str, dict] = field(default_factory=dict)  # site code → {fi, en} (empty = undeclared)

    def options(self, analysis: str):
        """The validated ``Options`` of ``analysis`` (defaults when the file does not mention it)."""
        if analysis in self.analyses:
            return self.analyses[analysis]
        return _options_class(analysis)()

    def site_name(self, code, language: str) -> str:
        """A site's declared label in ``language``, else its code."""
        return self.sites.get(str(code), {}).get(language, str(code))

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
        errors.append(Message("parameters.not_a_date", where, value=value))
        return None


def _options_class(analysis: str):
    return importlib.import_module(ANALYSES[analysis]).Options


def _dataclass_from(cls, values, where: str, errors: list):
    if values is None:
        values = {}
    if not isinstance(values, dict):
        errors.append(Message("parameters.expected_options", where, got=type_name(values)))
        return cls()
    allowed = [f.name for f in dataclasses.fields(cls)]
    bad = unknown_keys(where, values, allowed)
    if bad:
        errors.extend(bad)
        return cls()
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        errors.append(within(where, exc.args[0] if exc.args and isinstance(exc.args[0], Message) else str(exc)))
        return cls()


def _feedback_export(spec: dict, where: str, base: Path, errors: list) -> FeedbackExport | None:
    """A ``layout: wide`` entry of ``data.feedback``, checked."""
    errors.extend(unknown_keys(where, spec, EXPORT_KEYS))
    survey = spec.get("survey")
    if not isinstance(survey, str) or not survey:
        errors.append(Message("parameters.export_survey", where))
    values, columns = {}, {}
    for name in EXPORT_FIELDS:
        value = spec.get(name)
        if isinstance(value, dict):
            errors.extend(unknown_keys(f"{where}.{name}", value, ("column",)))
            if not isinstance(value.get("column"), str):
                errors.append(Message("parameters.export_column", f"{where}.{name}"))
            else:
                columns[name] = nfc(value["column"]).strip()
        elif value is not None and name != "respondent_id":
            values[name] = value
        elif value is not None:
            errors.append(Message("parameters.export_id_column", f"{where}.respondent_id"))
    for name in ("round", "respondent_group"):
        if name not in values and name not in columns:
            errors.append(Message("parameters.export_value_or_column", where, name=name))
    for name in ("respondent_group", "site"):
        if name in values and (identifiers.looks_like_hetu(str(values[name])) or not identifiers.is_code(values[name])):
            errors.append(Message("parameters.not_a_code", f"{where}.{name}", max=identifiers.MAX_CODE_LENGTH))
    if "round" in values and not (_whole(values["round"]) and values["round"] >= 1):
        errors.append(Message("parameters.export_round", f"{where}.round", value=short(repr(values["round"]))))
    ignore = spec.get("ignore") or []
    if not isinstance(ignore, list) or not all(isinstance(h, str) for h in ignore):
        errors.append(Message("parameters.export_ignore", f"{where}.ignore"))
        ignore = []
    header_rows = spec.get("header_rows", 1)
    if not (_whole(header_rows) and header_rows in (1, 2)):
        errors.append(f"{where}.header_rows: expected 1 or 2 (a header spanning two rows: question, then "
                      f"option), got {short(repr(header_rows))}")
        header_rows = 1
    path, problem = _input_path(base, str(spec.get("path") or ""))
    if not spec.get("path") or problem:
        errors.append(within(where, problem or Message("parameters.no_path")))
        return None
    sheet = spec.get("sheet")
    return FeedbackExport(path, str(survey), None if sheet is None else str(sheet), values, columns,
                          tuple(nfc(h).strip() for h in ignore), header_rows)


def _feedback_entries(spec, base: Path, errors: list) -> tuple[object, tuple[FeedbackExport, ...]]:
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
            errors.append(Message("parameters.export_layout", f"{where}.layout", layout=short(layout)))
        else:
            long.append(entry)
    if len(long) > 1:
        errors.append(Message("parameters.one_long_feedback", "data.feedback"))
    return (long[0] if long else None), tuple(exports)


def _data_sources(raw, base: Path, errors: list) -> dict[str, DataSource]:
    sources = {}
    if not isinstance(raw, dict) or not raw:
        errors.append(Message("parameters.no_data", "data"))
        return sources
    for table, spec in raw.items():
        if table not in TABLES:
            errors.append(Message("parameters.unknown_table", "data", table=table, hint=suggest(table, TABLES),
                                  tables=", ".join(TABLES)))
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
            errors.append(Message("parameters.no_path", f"data.{table}"))
            continue
        path, problem = _input_path(base, str(spec))
        if problem:
            errors.append(within(f"data.{table}", problem))
            continue
        sources[table] = DataSource(table, path, None if sheet is None else str(sheet))
    return sources


def _input_path(base: Path, spec: str) -> tuple[Path | None, Message | str]:
    """The resolved path of an input file, or a message saying why it cannot be used."""
    try:
        path = (base / spec).resolve()
    except (RuntimeError, OSError) as exc:  # a symbolic link loop (Python < 3.13 raises RuntimeError)
        return None, Message("parameters.path_loop", path=base / spec, reason=getattr(exc, "strerror", None) or exc)
    try:
        if path.is_dir():
            return None, Message("parameters.path_is_folder", path=path)
        if path.is_file():
            return path, ""
        if path.is_symlink() or (base / spec).is_symlink():
            return None, Message("parameters.dead_link", path=base / spec)
    except OSError as exc:
        return None, Message("parameters.cannot_read", path=path, reason=exc.strerror or exc)
    siblings = sorted(p.name for p in path.parent.iterdir()) if path.parent.is_dir() else []
    return None, Message("parameters.file_not_found", path=path, hint=suggest(path.name, siblings))


def _per_table(raw, key: str, errors: list) -> list[tuple[str, dict]]:
    """The ``(table, mapping)`` pairs of a ``{table: {…}}`` block ``key`` (``column_map``,
    ``column_types``); its problems go to ``errors``: the block or a table's entry not a mapping,
    a table the data dictionary does not know."""
    if not raw:
        return []
    if not isinstance(raw, dict):
        errors.append(Message(f"parameters.{key}", key))
        return []
    pairs = []
    for table, mapping in raw.items():
        if table not in TABLES:
            errors.append(Message("parameters.unknown_table", key, table=table,
                                  hint=suggest(table, TABLES), tables=", ".join(TABLES)))
        elif not isinstance(mapping, dict):
            errors.append(Message(f"parameters.{key}_table", f"{key}.{table}"))
        else:
            pairs.append((table, mapping))
    return pairs


def _column_map(raw, errors: list) -> dict[str, dict[str, str]]:
    out = {}
    for table, mapping in _per_table(raw, "column_map", errors):
        canonical = field_names(table)
        for user, target in mapping.items():
            if target not in canonical:
                errors.append(Message("parameters.mapped_to_unknown", f"column_map.{table}", user=user,
                                      target=target, table=table, hint=suggest(target, canonical),
                                      columns=", ".join(canonical)))
        out[table] = {nfc(str(k)).strip(): str(v) for k, v in mapping.items()}
    return out


def _column_types(raw, column_map, errors: list) -> dict[str, dict[str, ColumnType]]:
    """``column_types: {table: {column: {type: number, unit: years}}}`` (or ``column: number``) for
    extra columns, named as in the file."""
    out = {}
    for table, columns in _per_table(raw, "column_types", errors):
        canonical = set(field_names(table)) | set(column_map.get(table, {}))
        out[table] = {}
        for column, spec in columns.items():
            where = f"column_types.{table}.{column}"
            column = nfc(str(column)).strip()
            if column in canonical:
                errors.append(Message("parameters.type_fixed", where, column=column))
                continue
            if isinstance(spec, str):
                spec = {"type": spec}
            if not isinstance(spec, dict):
                errors.append(Message("parameters.column_type", where, types="|".join(COLUMN_TYPES)))
                continue
            errors.extend(unknown_keys(where, spec, ("type", "unit")))
            kind = spec.get("type")
            if kind not in COLUMN_TYPES:
                errors.append(Message("parameters.unknown_type", where, type=kind, types=", ".join(COLUMN_TYPES),
                                      hint=suggest(str(kind), COLUMN_TYPES)))
                continue
            unit = spec.get("unit")
            out[table][column] = ColumnType(kind, None if unit is None else str(unit))
    return out


def _check_instruments(instruments: dict, errors: list) -> None:
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
            errors.append(Message("parameters.unknown_instrument", where, spec=spec, hint=suggest(spec, known),
                                  known=", ".join(known)))
        except ParameterError as exc:
            errors.extend(within(where, m) for m in exc.items)
        except Exception as exc:  # noqa: BLE001 — a spec of the wrong shape must not become a traceback
            errors.append(Message("parameters.instrument_shape", where, name=Path(spec).name,
                                  error=f"{type(exc).__name__}: {exc}"))


def check_survey_spec(spec: str, base: Path) -> list:
    """Problems of one survey spec (built-in id or YAML path relative to ``base``); [] when usable."""
    from tyokyky_eval.stats import feedback

    if spec.endswith((".yaml", ".yml")):
        path = base / spec
        if not path.is_file():
            return [Message("parameters.file_not_found", path=path.resolve(), hint="")]
        try:
            data = load_yaml(path, "survey_spec")
        except ParameterError as exc:
            return exc.items
        if not isinstance(data, dict):
            return [Message("parameters.survey_mapping", path.name, got=type_name(data))]
        title = data.get("title")
        if not (isinstance(title, dict) and all(isinstance(title.get(k), str) and title[k].strip()
                                                 for k in ("fi", "en"))):
            return [Message("parameters.survey_title", path.name)]
        if not isinstance(data.get("scales"), dict) or not isinstance(data.get("items"), list) or not all(
                isinstance(i, dict) for i in data["items"]):
            return [Message("parameters.survey_items", path.name)]
    elif spec not in feedback.builtin_surveys():
        return [Message("parameters.unknown_survey", spec=spec, hint=suggest(spec, feedback.builtin_surveys()),
                        known=", ".join(feedback.builtin_surveys()))]
    try:
        feedback.load_survey(spec, base)
    except ParameterError as exc:
        return exc.items
    except Exception as exc:  # noqa: BLE001 — a spec of the wrong shape must not become a traceback
        return [Message("parameters.survey_shape", spec=spec, error=f"{type(exc).__name__}: {exc}")]
    return []


def _goals(raw, errors: list) -> tuple:
    """The ``goals:`` list of a parameters file; problems are appended to ``errors``."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        errors.append(Message("parameters.goals_list", "goals"))
        return ()
    parsed, seen = [], set()
    for i, item in enumerate(raw, 1):
        goal = build(goals.Goal, item, f"goals[{i}]", errors)
        if goal is None:
            continue
        if goal.id in seen:
            errors.append(Message("parameters.goal_twice", f"goals[{i}]", id=goal.id))
        seen.add(goal.id)
        parsed.append(goal)
    return tuple(parsed)


def _plan_blocks(raw: dict, errors: list) -> dict:
    """The project's own plan: ``goals``, ``activities`` (codes of the activities table) and
    ``costs`` (see ``tyokyky_eval.stats.goals``, ``.activities``, ``.costs``)."""
    return {"goals": _goals(raw.get("goals"), errors),
            "activities": build(activities.Options, raw.get("activities") or {}, "activities", errors)
            or activities.Options(),
            "costs": None if raw.get("costs") is None else build(costs.Costs, raw["costs"], "costs", errors)}


def _words(value, key: str, errors: list, limit: int | None = None) -> dict:
    """A text of the parameters (``title``, ``description``, a site's label) in both languages:
    one string, or ``{fi: …, en: …}`` (:func:`~tyokyky_eval.inputs.keys.bilingual`); {} when it is
    not given or wrong (the problem appended to ``errors``)."""
    try:
        words = bilingual(value, key)
    except ValueError as exc:
        errors.append(exc.args[0])
        return {}
    longest = max(words.values(), key=len)
    if limit is not None and len(longest) > limit:
        errors.append(Message("parameters.too_long", key, n=f"{len(longest):,}", max=limit))
    return words


def _sites(raw, errors: list) -> dict[str, dict]:
    """``sites: {code: {fi: …, en: …}}``: the labels of the site codes of the fidelity reviews and
    the surveys (``site_id``, ``site``), shown wherever a site is named."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not raw:
        errors.append(Message("parameters.sites", "sites"))
        return {}
    out = {}
    for code, label in raw.items():
        if identifiers.looks_like_hetu(str(code)) or not identifiers.is_code(code):
            errors.append(Message("parameters.not_a_code", f"sites.{short(code)}", max=identifiers.MAX_CODE_LENGTH))
            continue
        words = _words(label, f"sites.{code}", errors, MAX_TITLE)
        if words:
            out[nfc(str(code))] = words
    return out


def file_language(raw) -> str | None:
    """The language a parameters file asks for (``fi`` when it does not say), or None when it
    cannot be told (not a mapping, or a language the package does not have)."""
    language = raw.get("language", "fi") if isinstance(raw, dict) else None
    return language if language in LANGUAGES else None


def load_params(path: str | Path) -> Params:
    """Read and validate a parameters file; raises ``ParameterError`` listing every problem (with
    the file's own language when it could be read, so that the messages can be given in it)."""
    path = Path(path)
    try:
        found = path.is_file()
    except OSError:
        found = False
    if not found:
        raise ParameterError(Message("parameters.params_not_found", path=path))
    raw = load_yaml(path, "parameters_file")
    try:
        return _params(path, raw)
    except ParameterError as exc:
        exc.language = file_language(raw)
        raise


def _params(path: Path, raw) -> Params:
    """The parameters of the parsed file ``raw`` (read from ``path``), checked."""
    if not isinstance(raw, dict):
        raise ParameterError(Message("parameters.not_a_mapping", str(path)))
    errors = unknown_keys(str(path.name), raw, TOP_LEVEL_KEYS)
    errors += [Message("parameters.missing_key", path.name, key=k) for k in REQUIRED_KEYS if k not in raw]
    if errors:
        raise ParameterError(errors)

    base = path.parent
    project_id = raw["project_id"]
    if not isinstance(project_id, str):
        written = re.search(r"(?m)^project_id:\s*([^#\n]*?)\s*(?:#.*)?$", path.read_text(encoding="utf-8-sig"))
        written = written[1] if written else str(project_id)
        errors.append(Message("parameters.project_id_type", "project_id", written=written,
                              type=type_name(project_id), value=repr(project_id)))
        project_id = str(project_id)
    elif not PROJECT_ID.fullmatch(project_id):
        errors.append(Message("parameters.project_id", "project_id", value=short(project_id)))
    title = _words(raw["title"], "title", errors, MAX_TITLE)
    description = _words(raw["description"], "description", errors) if raw.get("description") else {}
    language = raw.get("language", "fi")
    if language not in LANGUAGES:
        errors.append(Message("parameters.language", "language", language=language))
    cutoff = _date(raw["cutoff_date"], "cutoff_date", errors)
    period = None
    if raw.get("evaluation_period") is not None:
        ep = raw["evaluation_period"]
        if not isinstance(ep, dict):
            errors.append(Message("parameters.period", "evaluation_period"))
        else:
            errors.extend(unknown_keys("evaluation_period", ep, ("start", "end")))
            start = _date(ep.get("start"), "evaluation_period.start", errors)
            end = _date(ep.get("end"), "evaluation_period.end", errors)
            if start and end and end < start:
                errors.append(Message("parameters.period_order", "evaluation_period"))
            period = (start, end)
    value_map = raw.get("value_map") or {}
    if not isinstance(value_map, dict) or not all(isinstance(v, dict) for v in value_map.values()):
        errors.append(Message("parameters.value_map", "value_map"))
        value_map = {}
    all_columns = {c for t in TABLES for c in field_names(t)}
    for column in value_map:
        if column not in all_columns:
            errors.append(Message("parameters.not_canonical", "value_map", column=column,
                                  hint=suggest(column, all_columns)))
    instruments = raw.get("instruments") or {}
    if not isinstance(instruments, dict):
        errors.append(Message("parameters.instruments", "instruments"))
        instruments = {}
    errors.extend(unknown_keys("instruments", instruments, ("fidelity", "kykyviisari")))
    for table, spec in instruments.items():
        spec = str(spec)
        if spec.endswith((".yaml", ".yml")):
            resolved = (base / spec).resolve()
            if not resolved.is_file():
                errors.append(Message("parameters.file_not_found", f"instruments.{table}", path=resolved, hint=""))
            instruments[table] = str(resolved)
    _check_instruments({k: str(v) for k, v in instruments.items()
                        if not str(v).endswith((".yaml", ".yml")) or Path(str(v)).is_file()}, errors)
    analyses_raw = raw.get("analyses") or {}
    analyses = {}
    if not isinstance(analyses_raw, dict):
        errors.append(Message("parameters.analyses", "analyses"))
    else:
        errors.extend(unknown_keys("analyses", analyses_raw, ANALYSES))
        for name, values in analyses_raw.items():
            if name in ANALYSES:
                analyses[name] = _dataclass_from(_options_class(name), values, f"analyses.{name}", errors)
    if "feedback" in analyses:
        for survey, spec in analyses["feedback"].surveys.items():
            errors.extend(within(f"analyses.feedback.surveys.{survey}", m) for m in check_survey_spec(spec, base))
    column_map = _column_map(raw.get("column_map"), errors)
    params = Params(
        path=path.resolve(),
        project_id=project_id,
        title=title,
        description=description,
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
        sites=_sites(raw.get("sites"), errors),
    )
    if params.synthetic:
        from tyokyky_eval.demo import spec_from_synthetic

        try:
            spec_from_synthetic(params.synthetic)
        except ParameterError as exc:
            errors.extend(exc.items)
    if errors:
        raise ParameterError(errors)
    return params

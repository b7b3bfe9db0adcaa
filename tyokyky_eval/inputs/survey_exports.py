"""Survey exports as the tools write them: Webropol, Questback, Microsoft Forms, Google Forms, LimeSurvey.

An export has one row per respondent and one column per question, answers as text labels
('Täysin samaa mieltä', 'En osaa sanoa') or numbers, in xlsx or CSV (read with
:func:`tyokyky_eval.inputs.readers.read_table`: encodings, separators, sheets). A ``data.feedback`` entry
``{path, sheet, layout: wide, survey, round, respondent_group, site}`` names the survey spec whose
items the columns answer; :func:`read_export` reshapes it into the canonical long ``feedback``
table (``survey_id, round, respondent_group, respondent_id, item_id, response``) with

- ``site``: the entry's site, or its column;
- ``not_applicable``: true for a "don't know" answer (response empty, counted apart);
- ``option``: for choice items, one row per chosen option (response empty);
- ``answer`` and ``themes``: open answers (never published) with the evaluator's theme codes.

Columns are matched to items by the item's ``column:`` (exactly), else by its text in either
language, both compared after removing numbering prefixes ("1. ", "Q3 ", "3)"), line breaks and
repeated spaces, a trailing required-answer star, and case. A choice item may instead have one
column per option, recognised from the header: the item's column or text, then the option's label
or code as LimeSurvey (``Q3 [Koulutukset]``), Webropol (``Q3: Koulutukset``) or a two-row header
(``Q3 / Koulutukset``, see :func:`two_row_headers`) write it; a cell is a mark (1, x, Y, Kyllä,
Valittu …, or the option's label) or empty (0, N, Ei …). The layout belongs to the export, not to
the survey spec, so one spec reads both. The tools' own metadata columns (start time, e-mail,
name, …) are skipped unread. Problems name the export's own header and row.
"""
from __future__ import annotations

import re
import unicodedata

import pandas as pd

from tyokyky_eval.errors import DataError, Problem
from tyokyky_eval.i18n import t
from tyokyky_eval.inputs import identifiers
from tyokyky_eval.inputs.readers import (
    BOOLEAN_TEXT,
    check_headers,
    normalise_number_text,
    parse_booleans,
    read_table,
    shorten,
)
from tyokyky_eval.stats import feedback as fb

_NUMBERING = re.compile(r"^(?:[A-Za-z]{0,2}\d+(?:[._]\d+)*[a-z]?\s*[.):\-–]?|\(\d+\)|\[\d+\])\s+")
#: headers the tools add besides the questions (compared normalised): never read, never published
METADATA_HEADERS = frozenset({
    "id", "start time", "completion time", "email", "name", "last modified time", "timestamp", "aikaleima",
    "aloitusaika", "valmistumisaika", "sähköposti", "nimi", "viimeksi muokattu", "vastausaika", "vastaaja",
    "vastaajan id", "response id", "respondent id", "submitdate", "lastpage", "startlanguage", "seed",
    "startdate", "datestamp", "ipaddr", "refurl", "token", "vastauspäivä", "lähetetty", "submitted",
    "kesto", "duration", "aloitettu", "valmistunut", "ip-osoite", "ip address",
})
#: the canonical ``feedback`` table's columns (data_dictionary/feedback.yaml)
COLUMNS = ["survey_id", "round", "respondent_group", "respondent_id", "item_id", "response", "site",
           "not_applicable", "option", "answer", "themes"]
_SEPARATORS = re.compile(r"\s*[;\n]\s*")
#: what follows the item in a per-option column's header: ``[option]``, ``: option``, ``/ option``, ``- option``
_OPTION_PART = re.compile(r"\[(.+)\]|[:/\-–]\s*(.+)")
#: cells of a per-option column: chosen, not chosen (besides the option's own label and an empty cell)
MARKS = (BOOLEAN_TEXT[0] + ["valittu", "selected", "checked"], BOOLEAN_TEXT[1] + ["ei valittu", "not selected"])


def normalise_header(text) -> str:
    """A header or label for matching: NFC, whitespace and line breaks collapsed, a numbering
    prefix and a trailing '*' removed, case folded."""
    text = " ".join(unicodedata.normalize("NFC", str(text)).split())
    text = _NUMBERING.sub("", text).rstrip(" *").strip()
    return text.casefold()


def theme_codes(text: str) -> list[str]:
    """The theme codes of a cell (separated by ';', ',' or spaces)."""
    return [code for code in re.split(r"[;,\s]+", text) if code]


def _plain(text) -> str:
    """NFC, whitespace collapsed, case folded (an item's ``column:`` compared as written)."""
    return " ".join(unicodedata.normalize("NFC", str(text)).split()).casefold()


def _labels(*labels) -> dict[str, object]:
    """normalised label (both languages) → value."""
    return {normalise_header(text): value for mapping, value in labels for text in mapping.values()}


def scale_labels(scale: dict) -> tuple[dict[str, float], set[str]]:
    """A scale's answer labels in both languages (normalised → value) and its not-applicable labels."""
    values = _labels(*((label, float(v)) for v, label in (scale.get("labels") or {}).items()))
    na = {normalise_header(text) for label in scale.get("not_applicable") or [] for text in label.values()}
    return values, na


def option_labels(item: dict) -> dict[str, str]:
    """A choice item's options: normalised label (both languages) or code → code."""
    labels = _labels(*((label, code) for code, label in item["options"].items()))
    labels.update({normalise_header(code): code for code in item["options"]})
    return labels


def option_part(header: str, item: dict) -> str | None:
    """The normalised option text of a per-option column of ``item`` (``Q3 [Option]``,
    ``Q3: Option``, ``Q3 / Option``, ``Q3 - Option``, Q3 being the item's ``column`` or text), or
    None when ``header`` is no such column."""
    names = [item["column"]] if item.get("column") else list(item["text"].values())
    for name in names:
        for prepare in (_plain, normalise_header):
            text, prefix = prepare(header), prepare(name)
            match = _OPTION_PART.fullmatch(text[len(prefix):].strip()) if text.startswith(prefix) else None
            if match:
                return normalise_header(match[1] or match[2])
    return None


def match_columns(headers, spec: dict, ignore=()) -> tuple[dict[str, str | dict], dict[str, str], list[str]]:
    """``(item → header, theme item → header, unmatched headers)``: an item's ``column`` (exact or
    normalised), else its text in either language; a choice item without such a column maps to
    ``{option: header}`` of its per-option columns (:func:`option_part`); metadata and ``ignore``
    headers are skipped."""
    by_norm: dict[str, list[str]] = {}
    for header in headers:
        by_norm.setdefault(normalise_header(header), []).append(header)
    used, items, themes = set(), {}, {}

    def find(names) -> str | None:
        for name in names:
            if name in headers and name not in used:
                return name
        for name in names:
            for header in by_norm.get(normalise_header(name), []):
                if header not in used:
                    return header
        return None

    for item in spec["items"]:
        names = [item["column"]] if item.get("column") else list(item["text"].values())
        header = find(names)
        if header is not None:
            items[item["id"]] = header
            used.add(header)
        elif item.get("type") == fb.CHOICE:
            labels, per_option = option_labels(item), {}
            for header in headers:
                code = labels.get(option_part(header, item)) if header not in used else None
                if code is not None:
                    per_option.setdefault(code, header)
            if per_option:
                items[item["id"]] = per_option
                used.update(per_option.values())
        if item.get("themes_column"):
            header = find([item["themes_column"]])
            if header is not None:
                themes[item["id"]] = header
                used.add(header)
    skipped = {normalise_header(h) for h in ignore} | METADATA_HEADERS
    unmatched = [h for h in headers if h not in used and normalise_header(h) not in skipped and h.strip()]
    return items, themes, unmatched


class _Problems:
    """Problems of one export, located as the evaluator sees it: the export's header and row."""

    def __init__(self, label: str, language: str):
        self.label, self.language, self.found = label, language, []

    def add(self, row, header, key, value=None, severity="error", **values):
        self.found.append(Problem(self.label, None if row is None else int(row), header,
                                  t(f"validation.{key}", self.language, **values),
                                  None if value is None else shorten(str(value)), severity, key))


def _scale_answers(text: pd.Series, scale: dict, header: str, problems: _Problems, item: str):
    """(response, not_applicable) of one scale item's column; unknown labels are reported."""
    labels, na = scale_labels(scale)
    norm = text.map(normalise_header)
    numbers = pd.to_numeric(normalise_number_text(text), errors="coerce")
    mapped = norm.map(labels)
    response = mapped.where(mapped.notna(), numbers).astype(float)
    not_applicable = norm.isin(na)
    lo, hi = scale["min"], scale["max"]
    off = response.notna() & (response.lt(lo) | response.gt(hi) | response.mod(1).ne(0))
    unknown = text.ne("") & response.isna() & ~not_applicable
    expected = "; ".join([f"{lo}–{hi}"] + [lab["fi"] for lab in (scale.get("labels") or {}).values()]
                         + [lab["fi"] for lab in scale.get("not_applicable") or []])
    for row in text.index[unknown | off]:
        problems.add(row, header, "export_unknown_label", text[row], item=item, expected=shorten(expected, 200))
    return response.where(~off), not_applicable


def _choice_answers(text: pd.Series, item: dict, header: str, problems: _Problems) -> pd.Series:
    """The chosen option codes of each answering respondent (row → list of codes)."""
    labels = option_labels(item)
    out = {}
    for row, answer in text[text.ne("")].items():
        parts = [p for p in _SEPARATORS.split(answer) if p]
        if item.get("multiple") and len(parts) == 1 and normalise_header(answer) not in labels:
            parts = [p for p in re.split(r"\s*,\s*", answer) if p]  # Google Forms joins with ', '
        codes = [labels.get(normalise_header(p)) for p in parts]
        if None in codes or (not item.get("multiple") and len(codes) > 1):
            problems.add(row, header, "export_unknown_option", answer, item=item["id"],
                         expected=shorten("; ".join(o["fi"] for o in item["options"].values()), 200))
            continue
        out[row] = list(dict.fromkeys(codes))
    return pd.Series(out, dtype=object)


def _option_columns(text: pd.DataFrame, item: dict, columns: dict[str, str], problems: _Problems) -> pd.Series:
    """The chosen option codes of each answering respondent from one column per option (row → list
    of codes, spec order); a respondent with no option marked did not answer."""
    marks = {}
    for code in (c for c in item["options"] if c in columns):
        header = columns[code]
        own = text[header].map(normalise_header).isin({normalise_header(code)} | {
            normalise_header(label) for label in item["options"][code].values()})
        chosen, unknown = parse_booleans(text[header], *MARKS)
        for row in text.index[unknown & ~own]:
            problems.add(row, header, "export_unknown_mark", text.at[row, header], item=item["id"])
        marks[code] = chosen.fillna(False).astype(bool) | own
    marks = pd.DataFrame(marks, index=text.index)
    codes = marks.apply(lambda row: list(marks.columns[row.to_numpy()]), axis=1)
    several = codes.map(len).gt(1) & (not item.get("multiple"))
    for row in codes.index[several]:
        problems.add(row, columns[codes[row][-1]], "export_several_options", item=item["id"],
                     options=", ".join(codes[row]))
    return codes[codes.map(bool) & ~several]


def two_row_headers(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    """An export whose header spans two rows (the question, merged over its options' columns, then
    each option) with one header per column: ``question / option``, the question alone where the
    second row is empty; the second row dropped (rows keep the file's numbering)."""
    second = frame.loc[2] if 2 in frame.index else pd.Series("", index=frame.columns)
    headers, question = [], ""
    for position, (header, option) in enumerate(zip(frame.columns, second.map(lambda v: " ".join(str(v).split())))):
        if header and header != f"Unnamed: {position}":  # pandas' name of an empty (merged) Excel cell
            question = header
        elif not option:
            question = ""
        headers.append(f"{question} / {option}" if question and option else question or option)
    check_headers(headers, label)
    out = frame.drop(index=2, errors="ignore")
    if out.empty:
        raise DataError([Problem(label, 3, None, "the file has a two-row header but no data rows")])
    out.columns = headers
    return out


def _field(frame: pd.DataFrame, export, name: str, problems: _Problems, value_map: dict, default=None) -> pd.Series:
    """A per-row field (round, group, site, respondent id): the entry's value or its column (its
    labels mapped with ``value_map`` as in the long table)."""
    header = export.columns.get(name)
    if header is None:
        value = export.values.get(name, default)
        return pd.Series([value] * len(frame), index=frame.index, dtype=object)
    if header not in frame.columns:
        problems.add(1, header, "export_missing_column", field=name,
                     found=shorten(", ".join(frame.columns), 300))
        return pd.Series([default] * len(frame), index=frame.index, dtype=object)
    mapping = value_map.get(name, {})
    values = frame[header].map(lambda v: unicodedata.normalize("NFC", v).strip()).map(lambda v: mapping.get(v, v))
    if name == "round":
        numbers = pd.to_numeric(values, errors="coerce")
        for row in values.index[numbers.isna() | numbers.lt(1) | numbers.mod(1).ne(0)]:
            problems.add(row, header, "not_an_integer", values[row])
        return numbers.astype("Int64")
    for row in values.index[values.map(identifiers.looks_like_hetu)]:
        problems.add(row, header, "identity_code", max=identifiers.MAX_CODE_LENGTH)
    if name != "respondent_id":
        bad = values.ne("") & ~values.map(identifiers.looks_like_hetu) & ~values.map(identifiers.is_code)
        for row in values.index[bad]:
            problems.add(row, header, "not_a_code", max=identifiers.MAX_CODE_LENGTH)
    return values.replace("", None)


def read_export(export, spec: dict, language: str = "fi", value_map: dict | None = None) -> pd.DataFrame:
    """An export (``params.FeedbackExport``) of ``spec``'s survey reshaped into the ``feedback``
    table (see the module); ``value_map`` (column → {label: code}) maps its site and group labels.
    Raises ``DataError`` with every problem found; warnings (an item not in the export, notes of
    the reader) are in ``frame.attrs["warnings"]``."""
    problems, value_map = _Problems(export.label, language), value_map or {}
    frame = read_table(export.path, export.sheet, export.label)
    warnings = list(frame.attrs.get("notes", []))
    if export.header_rows == 2:
        frame = two_row_headers(frame, export.label)
    items, themes, unmatched = match_columns(list(frame.columns), spec, (*export.ignore, *export.columns.values()))
    choices = [i for i in spec["items"] if i.get("type") == fb.CHOICE]
    for header in unmatched:
        item = next((i for i in choices if option_part(header, i) is not None), None)
        if item is None:
            problems.add(1, header, "export_unmatched_column", survey=spec["id"])
        else:
            problems.add(1, header, "export_unknown_option_column", item=item["id"],
                         expected=shorten("; ".join(o["fi"] for o in item["options"].values()), 200))
    for item in spec["items"]:
        if item["id"] not in items:
            problems.add(None, None, "export_item_missing", severity="warning", item=item["id"],
                         text=item.get("column") or item["text"]["fi"])
    keys = pd.DataFrame({
        "survey_id": spec["id"],
        "round": _field(frame, export, "round", problems, value_map),
        "respondent_group": _field(frame, export, "respondent_group", problems, value_map),
        "site": _field(frame, export, "site", problems, value_map),
        "respondent_id": _field(frame, export, "respondent_id", problems, value_map),
    }, index=frame.index)
    generated = keys["respondent_id"].isna()
    keys.loc[generated, "respondent_id"] = [f"{export.path.stem}-{row}" for row in keys.index[generated]]
    text = frame.map(lambda v: unicodedata.normalize("NFC", str(v)).strip())
    parts = []
    for item in spec["items"]:
        header = items.get(item["id"])
        if header is None:
            continue
        if item.get("type") == fb.CHOICE:
            chosen = (_option_columns(text, item, header, problems) if isinstance(header, dict)
                      else _choice_answers(text[header], item, header, problems)).explode()
            parts.append(keys.loc[chosen.index].assign(item_id=item["id"], option=chosen.to_numpy()))
            continue
        column = text[header]
        if item.get("type") == fb.TEXT:
            theme = text[themes[item["id"]]] if item["id"] in themes else pd.Series("", index=frame.index)
            codes = theme.map(theme_codes)
            known = set(item.get("themes") or {})
            for row in theme.index[codes.map(lambda c: bool(set(c) - known))]:
                problems.add(row, themes[item["id"]], "export_unknown_theme", theme[row], item=item["id"],
                             expected=", ".join(sorted(known)) or "–")
            answered = column.ne("") | codes.map(bool)
            parts.append(keys[answered].assign(item_id=item["id"], answer=column[answered],
                                               themes=codes[answered].map(lambda c: ";".join(c) or None)))
        else:
            response, na = _scale_answers(column, fb.item_scale(spec, item["id"]), header, problems, item["id"])
            parts.append(keys.assign(item_id=item["id"], response=response, not_applicable=na))
    errors = [p for p in problems.found if p.severity == "error"]
    if errors:
        raise DataError(errors)
    out = pd.concat(parts) if parts else pd.DataFrame(columns=COLUMNS)
    out = out.reindex(columns=COLUMNS)
    out.attrs["warnings"] = warnings + [p for p in problems.found if p.severity == "warning"]
    return out


def read_entry(export, options: fb.Options, base, language: str = "fi",
               value_map: dict | None = None) -> tuple[pd.DataFrame, list]:
    """One export of a project read and reshaped into ``feedback`` rows, and the problems found.
    An export whose survey has no spec, or with errors, gives no rows."""
    from tyokyky_eval.errors import ParameterError

    try:
        spec = fb.load_survey(options.surveys.get(export.survey, export.survey), base)
    except ParameterError as exc:
        return typed(pd.DataFrame(columns=COLUMNS)), [Problem(export.label, None, None, m, None, "error",
                                                               "unknown_survey") for m in exc.texts(language)]
    try:
        frame = read_export(export, spec, language, value_map)
    except DataError as exc:
        return typed(pd.DataFrame(columns=COLUMNS)), exc.problems
    warnings = frame.attrs.pop("warnings", [])
    return typed(frame), warnings


def typed(feedback: pd.DataFrame) -> pd.DataFrame:
    """The ``feedback`` table's dtypes (as validation gives them to the long table)."""
    out = feedback.copy()
    out["round"] = pd.to_numeric(out["round"]).astype("Int64")
    out["response"] = pd.to_numeric(out["response"]).astype("float64")
    out["not_applicable"] = out["not_applicable"].astype("boolean").fillna(False).astype(bool)
    for column in ("survey_id", "respondent_group", "respondent_id", "item_id", "site", "option", "answer", "themes"):
        out[column] = out[column].astype(object).where(out[column].notna(), None)
    return out

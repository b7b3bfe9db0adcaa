"""The programme's inputs: what project appendices published, never row-level data.

A programme evaluator receives from each project the folder that ``tyokyky-eval run`` wrote (or
only its ``tables/``). :func:`check_package` checks ``tables/datapackage.json`` against
:data:`tyokyky_eval.render.datapackage.PROFILE` (JSON Schema) and every CSV it describes against
its Table Schema: the header equals the field names, and every value parses as the field's type
or is one of its declared missing values (the suppression symbols). :func:`read_appendix` returns
the checked tables as :class:`PublishedAppendix`; a suppressed cell keeps its status (primary,
secondary, withheld) but not the project's symbol, so that projects with different ``min_cell``
read alike. Problems name the file, row and column, as ``tyokyky-eval validate`` does.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tyokyky_eval.errors import DataError, Problem
from tyokyky_eval.publication import PRIMARY, SECONDARY, WITHHELD
from tyokyky_eval.render.datapackage import NAME, PROFILE

#: how a value of each Table Schema type is written (Table Schema v2 lexical forms, default formats)
LEXICAL = {
    "integer": re.compile(r"[+-]?\d+"),
    "number": re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|NaN|INF|-INF"),
    "boolean": re.compile(r"true|True|TRUE|1|false|False|FALSE|0"),
    "date": re.compile(r"\d{4}-\d{2}-\d{2}"),
}
TRUE = {"true", "True", "TRUE", "1"}


@dataclass(frozen=True)
class Hidden:
    """A suppressed published cell: its ``status`` (primary, secondary or withheld)."""

    status: str


@dataclass
class PublishedAppendix:
    """One project's published tables: ``tables`` (name → frame; numbers as numbers, ``""`` as
    NaN, a suppressed cell as :class:`Hidden`), its ``package`` (the descriptor) and ``sha256``
    (of ``datapackage.json`` and every CSV, in order)."""

    folder: Path
    package: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    sha256: str = ""

    @property
    def project_id(self) -> str:
        return self.package["project_id"]

    @property
    def min_cell(self) -> int:
        return int(self.package["disclosure"]["min_cell"])

    @property
    def min_followup(self) -> int:
        return int(self.package["disclosure"].get("min_followup", self.min_cell))

    def services(self) -> pd.DataFrame:
        """``project, service, kind, analyses`` (analyses joined by ``;``), in declaration order."""
        rows = [{"project": self.project_id, "service": s["code"], "kind": s["kind"],
                 "analyses": ";".join(s.get("analyses", []))} for s in self.package["services"]]
        return pd.DataFrame(rows, columns=["project", "service", "kind", "analyses"])

    def table(self, name: str) -> pd.DataFrame | None:
        """The published table ``name`` with a ``project`` column first, or None when the
        appendix has no such table."""
        frame = self.tables.get(name)
        if frame is None:
            return None
        return pd.concat([pd.Series(self.project_id, index=frame.index, name="project"), frame], axis=1)


def package_path(folder: Path) -> Path:
    """``datapackage.json`` of an appendix folder (``folder/tables/``) or of its ``tables/`` itself."""
    folder = Path(folder)
    inside = folder / "tables" / NAME
    return inside if inside.is_file() or not (folder / NAME).is_file() else folder / NAME


def _fields_missing(schema: dict, field_spec: dict) -> set[str]:
    values = field_spec.get("missingValues", schema.get("missingValues", [""]))
    return {v["value"] if isinstance(v, dict) else v for v in values}


def _check_column(values: pd.Series, field_spec: dict, missing: set[str], file: str) -> list[Problem]:
    """Values of one column that neither parse as the field's type nor are a declared missing value."""
    kind = field_spec["type"]
    present = ~values.isin(missing)
    if kind in LEXICAL:
        bad = present & ~values.str.fullmatch(LEXICAL[kind])
        if kind == "date":
            dates = pd.to_datetime(values.where(present & ~bad), format="%Y-%m-%d", errors="coerce")
            bad |= present & ~bad & dates.isna()
    elif kind == "string" and field_spec.get("categories"):
        bad = present & ~values.isin([str(c) for c in field_spec["categories"]])
    else:
        return []
    expected = (f"one of its categories ({', '.join(map(str, field_spec['categories']))})" if kind == "string"
                else f"a value of type {kind}")
    shown = ", ".join(repr(m) for m in sorted(missing))
    return [Problem(file, int(row) + 2, field_spec["name"],
                    f"expected {expected} or a declared missing value ({shown})", values.iloc[row])
            for row in np.flatnonzero(bad.to_numpy())[:5]]


def check_package(folder: str | Path) -> tuple[dict | None, dict[str, pd.DataFrame], list[Problem]]:
    """Check one appendix's ``datapackage.json`` and its CSV files (module docstring): returns the
    descriptor (None when unreadable), the tables as read (every value as text) and the problems."""
    import jsonschema

    path = package_path(folder)
    file = str(path)
    if not path.is_file():
        return None, {}, [Problem(str(folder), None, None, f"no tables/{NAME}: expected the folder of a project "
                                  "appendix written by `tyokyky-eval run` (it writes tables/datapackage.json)")]
    try:
        package = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, {}, [Problem(file, None, None, f"expected a Data Package descriptor in UTF-8 JSON ({exc})")]
    errors = sorted(jsonschema.Draft7Validator(PROFILE).iter_errors(package), key=lambda e: list(e.absolute_path))
    if errors:
        return None, {}, [Problem(file, None, "/".join(map(str, e.absolute_path)) or None,
                                  f"not a tyokyky-eval Data Package: {e.message}") for e in errors[:10]]
    problems, tables = [], {}
    names = [r["name"] for r in package["resources"]]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(Problem(file, None, None, f"the resource name {name!r} is used more than once"))
    for res in package["resources"]:
        csv_path = path.parent / res["path"]
        where = str(csv_path)
        fields = [f["name"] for f in res["schema"]["fields"]]
        try:
            with open(csv_path, encoding="utf-8", newline="") as handle:
                header = next(csv.reader(handle), [])
            frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False, encoding="utf-8")
        except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            problems.append(Problem(where, None, None, f"expected a UTF-8 CSV file described in {NAME} ({exc})"))
            continue
        if header != fields:
            problems.append(Problem(where, 1, None, f"the header differs from the fields in {NAME}: expected "
                                    f"{', '.join(fields)}", ", ".join(header)))
            continue
        frame.columns = fields
        for field_spec in res["schema"]["fields"]:
            problems += _check_column(frame[field_spec["name"]], field_spec,
                                      _fields_missing(res["schema"], field_spec), where)
        tables[res["name"]] = frame
    return package, tables, problems


def _typed(frame: pd.DataFrame, resource: dict, statuses: dict[str, str]) -> pd.DataFrame:
    """A checked table with numbers as numbers, ``""`` as NaN and suppression symbols as
    :class:`Hidden` (other missing values, such as ``<0.001``, stay text)."""
    out = {}
    for spec in resource["schema"]["fields"]:
        values = frame[spec["name"]]
        hidden = values.map(statuses.get)

        def parse(v, kind=spec["type"]):
            if v == "":
                return np.nan
            if kind == "integer" and LEXICAL["integer"].fullmatch(v):
                return int(v)
            if kind == "number" and LEXICAL["number"].fullmatch(v):
                return float(v.replace("INF", "inf"))
            if kind == "boolean":
                return v in TRUE
            if kind == "date" and LEXICAL["date"].fullmatch(v):
                return dt.date.fromisoformat(v)
            return v

        parsed = values.map(parse).astype(object)
        out[spec["name"]] = parsed.where(hidden.isna(), hidden.map(lambda s: Hidden(s) if s else None))
    return pd.DataFrame(out, index=frame.index)


def read_appendix(folder: str | Path) -> PublishedAppendix:
    """The checked, typed tables of one project appendix; raises ``DataError`` listing every
    problem (:func:`check_package`)."""
    package, raw, problems = check_package(folder)
    if problems:
        raise DataError(problems)
    path = package_path(folder)
    digest = hashlib.sha256(path.read_bytes())
    for res in package["resources"]:
        digest.update((path.parent / res["path"]).read_bytes())
    statuses = {symbol: status for status, symbol in package["disclosure"]["symbols"].items()
                if status in (PRIMARY, SECONDARY, WITHHELD)}
    tables = {res["name"]: _typed(raw[res["name"]], res, statuses) for res in package["resources"]}
    return PublishedAppendix(Path(folder), package, tables, digest.hexdigest())


def read_appendices(folders) -> list[PublishedAppendix]:
    """Every appendix of ``folders`` (order kept), checked all before any is used: one
    ``DataError`` lists the problems of all of them, and a project id given twice is one."""
    appendices, problems = [], []
    for folder in folders:
        try:
            appendices.append(read_appendix(folder))
        except DataError as exc:
            problems += exc.problems
    seen: dict[str, Path] = {}
    for appendix in appendices:
        if appendix.project_id in seen:
            problems.append(Problem(str(appendix.folder), None, None, f"project {appendix.project_id!r} is given "
                                    f"twice (also {seen[appendix.project_id]}); expected one appendix per project"))
        seen.setdefault(appendix.project_id, appendix.folder)
    if not folders:
        problems.append(Problem("synthesis", None, None, "expected at least one appendix folder"))
    if problems:
        raise DataError(problems)
    return appendices

"""The data dictionary: Frictionless Table Schemas of the input tables and instrument specs (YAML).

The YAML files live in the repository's ``data_dictionary/`` folder (installed as the package
``tyokyky_eval.data_dictionary``). ``render_markdown()`` produces ``data_dictionary/README.md``.
"""
from __future__ import annotations

import codecs
from functools import lru_cache
from pathlib import Path

import yaml

from tyokyky_eval.errors import ParameterError
from tyokyky_eval.i18n import Message
from tyokyky_eval.inputs.keys import type_name
from tyokyky_eval.resources import resource_dir

TABLES = ("clients", "kykyviisari", "fidelity", "feedback", "feedback_coding", "employment", "activities")

#: limits of a YAML file written by a user (parameters, instrument and survey specs)
MAX_YAML_BYTES = 1 << 20  # 1 MiB; the largest shipped spec is a few kB
MAX_YAML_ALIASES = 100  # aliases (*name) a file may use
MAX_YAML_NODES = 100_000  # values after expanding aliases: nine nested aliases can make 387 million


class SafeLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader that refuses duplicate keys (instead of keeping the last) and more than
    ``MAX_YAML_ALIASES`` aliases (a few nested aliases can expand to gigabytes)."""

    def __init__(self, stream):
        super().__init__(stream)
        self._aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_YAML_ALIASES:
                event = self.peek_event()
                raise yaml.constructor.ConstructorError(
                    None, None, f"more than {MAX_YAML_ALIASES} aliases (*name); write the values out",
                    event.start_mark)
        return super().compose_node(parent, index)

    def get_single_node(self):
        node = super().get_single_node()
        if node is not None and _expanded_size(node, {}, set()) > MAX_YAML_NODES:
            raise yaml.constructor.ConstructorError(
                None, None, f"the aliases (*name) expand to more than {MAX_YAML_NODES:,} values; write the "
                            "values out", node.start_mark)
        return node

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key = key_node.value
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key '{key}' (first on line {seen[key] + 1}); each key may "
                                    "appear only once", key_node.start_mark)
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


def _expanded_size(node, sizes: dict, active: set) -> float:
    """Number of values ``node`` stands for once every alias is expanded (memoised: linear time)."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in active:  # a recursive structure never ends
        return float("inf")
    active.add(key)
    if isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(child, sizes, active) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, sizes, active) + _expanded_size(v, sizes, active) for k, v in node.value)
    else:
        size = 1
    active.discard(key)
    sizes[key] = size
    return size


def _yaml_text(path: Path, what: Message) -> str:
    """The text of a user's YAML file, or ``ParameterError`` naming the encoding problem."""
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise ParameterError(Message("parameters.yaml_too_large", path.name, what=what, size=f"{size:,}",
                                         max=f"{MAX_YAML_BYTES:,}"))
        raw = path.read_bytes()
    except ParameterError:
        raise
    except (OSError, RuntimeError) as exc:
        raise ParameterError(Message("parameters.yaml_unreadable", path.name, what=what,
                                     reason=getattr(exc, "strerror", None) or exc)) from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (len(raw) > 1 and b"\x00" in raw[:200]):
        raise ParameterError(Message("parameters.yaml_utf16", path.name, what=what))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ParameterError(Message("parameters.yaml_not_utf8", f"{path.name}:{line}", what=what,
                                     byte=f"0x{raw[exc.start]:02x}")) from None


def load_yaml(path: str | Path, what: str = "parameters_file"):
    """A user's YAML file read safely: UTF-8 only, at most ``MAX_YAML_BYTES``, no duplicate keys,
    at most ``MAX_YAML_ALIASES`` aliases. Raises ``ParameterError`` with ``file:line`` otherwise.
    ``what``: ``parameters_file``, ``survey_spec`` or ``instrument_spec`` (named in the messages)."""
    path = Path(path)
    what = Message(f"parameters.file_kind.{what}")
    text = _yaml_text(path, what)
    try:
        return yaml.load(text, Loader=SafeLoader)  # noqa: S506 — SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"{path.name}:{mark.line + 1}" if mark is not None else path.name
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        detail = f"{context}, {problem}" if context and "duplicate key" not in problem else problem
        raise ParameterError(Message("parameters.yaml_invalid", where, what=what, detail=detail)) from None


def _root():
    return resource_dir("data_dictionary")


@lru_cache(maxsize=None)
def table_schema(name: str) -> dict:
    """The Table Schema of input table ``name`` (one of ``TABLES``)."""
    if name not in TABLES:
        raise KeyError(f"unknown table {name!r}; tables are {', '.join(TABLES)}")
    return yaml.safe_load((_root() / f"{name}.yaml").read_text(encoding="utf-8"))


def field_names(name: str) -> list[str]:
    """Canonical column names of table ``name``, in dictionary order."""
    return [f["name"] for f in table_schema(name)["fields"]]


@lru_cache(maxsize=None)
def _instrument_from_path(path: str) -> dict:
    spec = load_yaml(Path(path), "instrument_spec")
    if not isinstance(spec, dict):
        raise ParameterError(Message("parameters.instrument_mapping", Path(path).name, got=type_name(spec)))
    return spec


def instrument(spec: str) -> dict:
    """An instrument spec: a built-in id (``ips25``, ``kykyviisari``) or a path to a YAML file.
    Raises ``ParameterError`` for a file that cannot be read, ``KeyError`` for an unknown id."""
    if spec.endswith((".yaml", ".yml")):
        return _instrument_from_path(str(Path(spec).resolve()))
    builtin = _root() / "instruments" / f"{spec}.yaml"
    if not builtin.is_file():
        known = sorted(e.name[:-5] for e in (_root() / "instruments").iterdir() if e.name.endswith(".yaml"))
        raise KeyError(f"unknown instrument {spec!r}; built-in instruments are {', '.join(known)}")
    return yaml.safe_load(builtin.read_text(encoding="utf-8"))


def check_measures_spec(spec: dict, name: str) -> list[str]:
    """Problems of a measures instrument spec (Kykyviisari-like): ``measures`` with ``id``,
    numeric ``min`` < ``max``, ``direction``, ``reliability`` and ``title: {fi, en}``."""
    measures = spec.get("measures")
    if not isinstance(measures, list) or not measures:
        return [f"instrument {name}: 'measures' must be a list of measures (id, min, max, direction, "
                "reliability, title)"]
    problems = []
    for i, m in enumerate(measures, 1):
        if not isinstance(m, dict):
            problems.append(f"instrument {name}: measure {i} must be a mapping")
            continue
        missing = [k for k in ("id", "min", "max", "direction", "reliability", "title") if k not in m]
        if missing:
            problems.append(f"instrument {name}: measure {m.get('id', i)} lacks {', '.join(missing)}")
            continue
        lo, hi = m["min"], m["max"]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lo, hi)) or lo >= hi:
            problems.append(f"instrument {name}: measure {m['id']}: min and max must be numbers with min < max")
        if not isinstance(m["title"], dict) or not {"fi", "en"} <= set(m["title"]):
            problems.append(f"instrument {name}: measure {m['id']}: title needs fi and en")
    return problems


def builtin_instruments() -> list[str]:
    """Ids of the instrument specs shipped in ``data_dictionary/instruments/``."""
    return sorted(e.name[:-5] for e in (_root() / "instruments").iterdir() if e.name.endswith(".yaml"))


def _constraints_text(field: dict) -> str:
    c = field.get("constraints", {})
    parts = []
    if c.get("required"):
        parts.append("required")
    if c.get("unique"):
        parts.append("unique")
    if "minimum" in c or "maximum" in c:
        parts.append(f"{c.get('minimum', '')}–{c.get('maximum', '')}")
    if "enum" in c:
        parts.append("one of: " + ", ".join(f"`{v}`" for v in c["enum"]))
    return "; ".join(parts)


def render_markdown() -> str:
    """The whole dictionary (tables and instruments) as Markdown, Finnish and English side by side."""
    out = [
        "# Data dictionary / Tietosanasto",
        "",
        "Generated by `tyokyky-eval dictionary` from the YAML files in this folder; do not edit by hand.",
        "Tables are Frictionless Table Schemas; map your own column names with `column_map` and your own",
        "labels with `value_map` in the parameters file.",
        "",
    ]
    for name in TABLES:
        schema = table_schema(name)
        out += [
            f"## `{name}`: {schema['title']} / {schema['fi']['title']}",
            "",
            f"{schema['description']}  ",
            f"{schema['fi']['description']}",
            "",
            "| column | type | constraints | title (en) | otsikko (fi) | description |",
            "|---|---|---|---|---|---|",
        ]
        for f in schema["fields"]:
            out.append(
                f"| `{f['name']}` | {f['type']} | {_constraints_text(f)} | {f['title']} | "
                f"{f['fi']['title']} | {f['description']} / {f['fi']['description']} |"
            )
        out.append("")
    out += [
        "## Extra columns / Lisäsarakkeet",
        "",
        "Columns that are not in the dictionary are kept and can be named as `analyses.survival.group`,",
        "`analyses.survival.covariates` or `analyses.prepost.subgroup`. Declare their type (`number`,",
        "`integer`, `boolean`, `string`) and unit with `column_types` in the parameters file, by the header",
        "in your file:",
        "",
        "```yaml",
        "column_types:",
        "  clients:",
        "    Työttömyyden kesto: {type: number, unit: years}",
        "    Kuntoutustuki: {type: boolean}",
        "```",
        "",
        "An undeclared extra column is a number when every non-empty value reads as one (decimal comma",
        "allowed), else text. Cox covariates are clients columns (canonical or extra; your own column",
        "wins over a derived one of the same name), `age_at_start` (start year − `birth_year`) or",
        "`baseline_<measure>` (the first Kykyviisari measurement of the measure at the start).",
        "",
        "Dictionaryn ulkopuoliset sarakkeet säilyvät, ja niitä voi käyttää ryhmittelyyn ja selittäjinä.",
        "Tyypin (`number`, `integer`, `boolean`, `string`) ja yksikön voi kertoa asetuksella `column_types`;",
        "muuten sarake on numero, kun jokainen arvo on luku (myös desimaalipilkulla), ja muuten tekstiä.",
        "",
    ]
    out += ["# Instruments / Mittarit", ""]
    for spec_id in builtin_instruments():
        spec = instrument(spec_id)
        out += [f"## `{spec_id}`: {spec['title']['en']} / {spec['title']['fi']}", ""]
        out += [f"Reference: {spec['reference']}", ""]
        if "items" in spec:
            lo, hi = spec["score_range"]["min"], spec["score_range"]["max"]
            out += [f"Items scored {lo}–{hi}. Bands of the total:", ""]
            out += [f"- `{b['code']}`: {b['min']}–{b['max']}" for b in spec["bands"]]
            sections = {s["id"]: s["title"] for s in spec["sections"]}
            out += ["", "| item | section | short name (en) | lyhyt nimi (fi) |", "|---|---|---|---|"]
            for item in spec["items"]:
                sec = sections[item["section"]]
                out.append(
                    f"| {item['number']} | {sec['en']} / {sec['fi']} | {item['short_name']['en']} | "
                    f"{item['short_name']['fi']} |"
                )
        if "measures" in spec:
            out += ["| measure | range | direction | reliability (ICC) | title (en) | otsikko (fi) |",
                    "|---|---|---|---|---|---|"]
            for m in spec["measures"]:
                out.append(
                    f"| `{m['id']}` | {m['min']}–{m['max']} | {m['direction']} | {m['reliability']} | "
                    f"{m['title']['en']} | {m['title']['fi']} |"
                )
        out.append("")
    return "\n".join(out)

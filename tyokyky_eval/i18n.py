"""User-facing text in Finnish and English, and locale-aware number and date formatting.

Strings live in ``tyokyky_eval/locales/<language>/*.yaml``; every file is one namespace (the file
stem), so ``t("validation.missing_column", column="x")`` reads ``validation.yaml`` key
``missing_column``. Keys may nest with dots.

A :class:`Message` is a text whose language is chosen later: the problems of a parameters file are
found before anyone knows which language to report them in (the file may not even parse).
"""
from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache
from importlib.resources import files

import yaml

LANGUAGES = ("fi", "en")
#: libyaml's safe loader where PyYAML was built with it (its wheels are): the catalogs parse ten
#: times faster than with the pure-Python one
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=None)
def _catalog(language: str) -> dict:
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, got {language!r}")
    root = files("tyokyky_eval.locales") / language
    catalog: dict = {}
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            catalog[entry.name[:-5]] = yaml.load(entry.read_text(encoding="utf-8"), Loader=_LOADER) or {}
    return catalog


def t(key: str, language: str = "fi", /, **values) -> str:
    """Translate ``namespace.key`` into ``language`` and fill ``{placeholders}`` (a value that is a
    :class:`Message` is written in ``language`` too)."""
    values = {k: v.text(language) if isinstance(v, Message) else v for k, v in values.items()}
    node = _catalog(language)
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"no text for {key!r} in language {language!r}")
        node = node[part]
    if not isinstance(node, str):
        raise KeyError(f"{key!r} in language {language!r} is not a string")
    return node.format(**values) if values else node


class Message:
    """A text in every language, written when the language is known: the locale ``key``, its
    ``values`` (a value may be a Message itself, e.g. a did-you-mean hint) and ``where`` it points
    (the file and the key of the parameters: never translated). ``str()`` gives the English text,
    so a message still reads well in an f-string or an English log."""

    __slots__ = ("key", "values", "where")

    def __init__(self, key: str, where: str = "", /, **values):
        self.key, self.where, self.values = key, where, values

    def text(self, language: str = "en") -> str:
        body = t(self.key, language, **self.values)
        return f"{self.where}: {body}" if self.where else body

    def within(self, where: str) -> Message:
        """The same message located inside ``where`` (``where: self.where: …``)."""
        inner = f"{where}: {self.where}" if self.where else where
        return Message(self.key, inner, **self.values)

    def __str__(self) -> str:
        return self.text("en")

    def __repr__(self) -> str:
        return f"Message({self.key!r}, {self.where!r}, **{self.values!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Message) and (self.key, self.where, self.values) == (other.key, other.where,
                                                                                       other.values)

    __hash__ = None


def in_language(message, language: str) -> str:
    """``message`` (a :class:`Message` or a text written in one language only) in ``language``."""
    return message.text(language) if isinstance(message, Message) else str(message)


def within(where: str, message):
    """``message`` located inside ``where``: a :class:`Message` stays one, a text gets the prefix."""
    return message.within(where) if isinstance(message, Message) else f"{where}: {message}"


def has_text(key: str, language: str = "fi") -> bool:
    """True when ``key`` exists in the catalog of ``language``."""
    try:
        t(key, language)
    except KeyError:
        return False
    return True


def code_label(column: str, code, language: str = "fi", namespace: str | None = None) -> str:
    """Label of a code: ``<namespace>.codes.<column>.<code>``, else the shared
    ``codes.<column>.<code>``, else the code itself."""
    keys = ([f"{namespace}.codes.{column}.{code}"] if namespace else []) + [f"codes.{column}.{code}"]
    return next((t(key, language) for key in keys if has_text(key, language)), str(code))


def fmt_number(value, language: str = "fi", decimals: int = 1) -> str:
    """Format a number: Finnish uses a decimal comma and a narrow no-break space for thousands."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value:,.{decimals}f}"
    if language == "fi":
        text = text.replace(",", "\u202f").replace(".", ",").replace("-", "−")
    return text


def fmt_percent(value, language: str = "fi", decimals: int = 0) -> str:
    """Format a share (0–1) as a percentage: 0.41 → '41 %' (fi) / '41%' (en)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    number = fmt_number(100 * value, language, decimals)
    return f"{number}\u00a0%" if language == "fi" else f"{number}%"


def fmt_date(value, language: str = "fi") -> str:
    """Format a date: 31.12.2022 (fi) or 2022-12-31 (en)."""
    if value is None or value != value:  # None or NaT
        return "–"
    if hasattr(value, "date"):
        value = value.date()
    if not isinstance(value, dt.date):
        value = dt.date.fromisoformat(str(value))
    return f"{value.day}.{value.month}.{value.year}" if language == "fi" else value.isoformat()

"""Reading the blocks of a parameters file: unknown keys with a did-you-mean, texts in one or both
languages, and a dataclass built from a mapping with every problem said. Used by the parameters
(:mod:`tyokyky_eval.inputs.params`) and by the dataclasses the statistics take as options.

Problems are :class:`~tyokyky_eval.i18n.Message` objects (locale namespace ``parameters``), written
in Finnish or English when they are reported; a dataclass's ``__post_init__`` may raise
``ValueError(Message(…))`` and :func:`build` locates it at the block's key.
"""
from __future__ import annotations

import difflib
from dataclasses import fields

from tyokyky_eval.i18n import Message, has_text, within


def suggest(word: str, choices):
    """' (did you mean …?)' for the closest of ``choices`` (a :class:`Message`), or ''."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return Message("parameters.did_you_mean", word=close[0]) if close else ""


def short(text: str, limit: int = 60):
    """``text`` cut to ``limit`` characters, saying how long it was."""
    text = str(text)
    return text if len(text) <= limit else Message("parameters.shortened", start=text[:limit], n=f"{len(text):,}")


def type_name(value):
    """The kind of a YAML value in words (text, list, mapping …)."""
    name = type(value).__name__
    return Message(f"parameters.types.{name}") if has_text(f"parameters.types.{name}", "en") else name


def unknown_keys(where: str, given, allowed) -> list[Message]:
    return [Message("parameters.unknown_key", where, key=short(k), hint=suggest(k, allowed),
                    allowed=", ".join(sorted(map(str, allowed))))
            for k in given if k not in allowed]


def bilingual(value, where: str) -> dict:
    """A text of the parameters: one string for both languages, or ``{fi: …, en: …}``."""
    if isinstance(value, str) and value.strip():
        return {"fi": value.strip(), "en": value.strip()}
    if isinstance(value, dict) and set(value) == {"fi", "en"} and all(isinstance(v, str) and v.strip()
                                                                     for v in value.values()):
        return {k: v.strip() for k, v in value.items()}
    raise ValueError(Message("parameters.text_or_bilingual", where))


def build(cls, values, where: str, errors: list):
    """``cls(**values)`` for a mapping of the parameters, or None with the problems (unknown keys
    with a did-you-mean, missing or wrong values) appended to ``errors``."""
    if not isinstance(values, dict):
        errors.append(Message("parameters.expected_mapping", where, got=type_name(values)))
        return None
    if isinstance(values.get("id"), str):
        where = f"{where} ({values['id']})"
    unknown = unknown_keys(where, values, [f.name for f in fields(cls)])
    if unknown:
        errors.extend(unknown)
        return None
    try:
        return cls(**values)
    except TypeError as exc:
        text = str(exc)
        errors.append(Message("parameters.missing_keys", where, keys=text.split("argument")[-1].strip(": "))
                      if "missing" in text else f"{where}: {text}")
    except ValueError as exc:
        errors.append(within(where, exc.args[0] if exc.args and isinstance(exc.args[0], Message) else str(exc)))
    return None

"""Reading the blocks of a parameters file: unknown keys with a did-you-mean, texts in one or both
languages, and a dataclass built from a mapping with every problem said. Used by the parameters
(:mod:`tyokyky_eval.inputs.params`) and by the dataclasses the statistics take as options."""
from __future__ import annotations

import difflib
from dataclasses import fields


def suggest(word: str, choices) -> str:
    """' (did you mean …?)' for the closest of ``choices``, or ''."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def short(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was."""
    text = str(text)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def unknown_keys(where: str, given, allowed) -> list[str]:
    return [
        f"{where}: unknown key '{short(k)}'{suggest(k, allowed)}; allowed keys: {', '.join(sorted(allowed))}"
        for k in given if k not in allowed
    ]


def bilingual(value, where: str) -> dict:
    """A text of the parameters: one string for both languages, or ``{fi: …, en: …}``."""
    if isinstance(value, str) and value.strip():
        return {"fi": value.strip(), "en": value.strip()}
    if isinstance(value, dict) and set(value) == {"fi", "en"} and all(isinstance(v, str) and v.strip()
                                                                     for v in value.values()):
        return {k: v.strip() for k, v in value.items()}
    raise ValueError(f"{where} must be a text, or {{fi: …, en: …}}")


def build(cls, values, where: str, errors: list[str]):
    """``cls(**values)`` for a mapping of the parameters, or None with the problems (unknown keys
    with a did-you-mean, missing or wrong values) appended to ``errors``."""
    if not isinstance(values, dict):
        errors.append(f"{where}: expected a mapping of keys, got {type(values).__name__}")
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
        errors.append(f"{where}: missing key {text.split('argument')[-1].strip(': ')}" if "missing" in text
                      else f"{where}: {text}")
    except ValueError as exc:
        errors.append(f"{where}: {exc}")
    return None

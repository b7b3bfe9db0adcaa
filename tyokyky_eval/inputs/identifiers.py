"""Identifiers and free text where codes belong: refused at validation.

Code columns (``service``, ``site_id``, ``rater``, …) are shown in the published appendix, so they
must hold short codes, never a person's name or personal identity code. Staff type such things into
any column they can; this check stops the run before anything is written:

- a value that looks like a Finnish personal identity code (henkilötunnus, ``DDMMYYCZZZQ``, century
  sign ``+``, ``-``, ``Y``–``U`` or ``A``–``F``; e.g. ``131052-308T``), anywhere in the value, in a
  code column or an id column (``client_id``, ``respondent_id``: those must be pseudonyms);
- a value in a code column that is not a code: a code starts with a letter or digit and has only
  letters, digits, ``_``, ``-`` and ``.`` (no spaces), at most ``MAX_CODE_LENGTH`` characters.
  A name such as "Matti Meikäläinen" has a space and is refused.

The values refused are not repeated in the message (they may be the very identifiers to keep out of
logs). Free-text columns (``publication.FREE_TEXT_COLUMNS``: ``na_reason``) are not checked here:
they are allowed to hold text and are never published.
"""
from __future__ import annotations

import re

import pandas as pd

#: Columns shown in the appendix as codes, per input table.
CODE_COLUMNS = {
    "clients": ("service", "referral_source", "end_reason", "job_coach_id", "gender"),
    "fidelity": ("site_id", "rater"),
    "feedback": ("survey_id", "round", "respondent_group", "item_id", "site"),
    "feedback_coding": ("survey_id", "item_id"),
    "kykyviisari": (),
    "activities": ("kind", "organisation"),
}
#: Pseudonymous id columns: never published, but must not be personal identity codes either.
ID_COLUMNS = {"clients": ("client_id",), "kykyviisari": ("client_id",), "feedback": ("respondent_id",),
              "feedback_coding": ("respondent_id",), "activities": ("client_id",)}
MAX_CODE_LENGTH = 40
CODE = re.compile(rf"[^\W_][\w.\-]{{0,{MAX_CODE_LENGTH - 1}}}")
#: Henkilötunnus: day, month, year, century sign, individual number, check character.
HETU = re.compile(r"(?<![0-9A-Za-z])(0[1-9]|[12]\d|3[01])(0[1-9]|1[0-2])(\d\d)([-+A-FU-Y])(\d{3})"
                  r"([0-9A-FHJ-NPR-Y])(?![0-9A-Za-z])", re.IGNORECASE)
_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def looks_like_hetu(value) -> bool:
    """True when ``value`` contains something shaped like a henkilötunnus. The check character is
    not required to be right: a mistyped identity code is still an identity code."""
    return isinstance(value, str) and HETU.search(value) is not None


def hetu_is_valid(value: str) -> bool:
    """True when ``value`` is exactly a henkilötunnus with a correct check character."""
    match = HETU.fullmatch(value.strip())
    if not match:
        return False
    day, month, year, _, number, check = match.groups()
    return _CHECK[int(day + month + year + number) % 31] == check.upper()


def is_code(value) -> bool:
    """True when ``value`` is a code (see ``CODE``); numbers (e.g. a round 1, 2) are codes."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return True
    return not isinstance(value, str) or CODE.fullmatch(value) is not None


def problems(table: str, frame: pd.DataFrame) -> list[tuple[object, str, str]]:
    """``(row, column, message key)`` for every identity code or non-code in ``table``'s code and
    id columns; ``row`` is the frame's index (the row the user sees). Message keys are
    ``validation.identity_code`` and ``validation.not_a_code``."""
    found = []
    for column in (*CODE_COLUMNS.get(table, ()), *ID_COLUMNS.get(table, ())):
        if column not in frame.columns:
            continue
        values = frame[column]
        text = values.map(lambda v: isinstance(v, str))
        hetu = values.map(looks_like_hetu)
        found += [(row, column, "identity_code") for row in values.index[hetu]]
        if column in CODE_COLUMNS.get(table, ()):
            bad = text & ~hetu & ~values.map(is_code)
            found += [(row, column, "not_a_code") for row in values.index[bad]]
    return found


def check(table: str, frame: pd.DataFrame | None, collect) -> None:
    """Add the ``problems`` of ``table`` to a validation collector (``collect.add(row, column,
    key, max=…)``); nothing when the table could not be read."""
    if frame is None:
        return
    for row, column, key in problems(table, frame):
        collect.add(row, column, key, max=MAX_CODE_LENGTH)

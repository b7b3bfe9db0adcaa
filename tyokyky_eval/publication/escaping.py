"""Guards wherever a value is published: escaping for Markdown and HTML, safe Markdown → HTML,
no spreadsheet formulas, no free text, the page's Content-Security-Policy."""
from __future__ import annotations

import functools
import html
import re

import mistune
import pandas as pd

from tyokyky_eval.i18n import t

FREE_TEXT_COLUMNS = frozenset({"na_reason", "answer"})

#: The appendix page's Content-Security-Policy: nothing runs, nothing is fetched; inline styles and
#: ``data:`` images (the embedded figures) only.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'none'; object-src 'none'; frame-src 'none'; "
                           "connect-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
                           "media-src 'none'; base-uri 'none'; form-action 'none'")

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")
_MARKDOWN_SPECIAL = re.compile(r"""([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])""")


def escape_html(text) -> str:
    """``text`` as HTML text: ``& < > " '`` become entities (safe in element text and attributes)."""
    return html.escape("" if text is None else str(text), quote=True)


def escape_markdown(text) -> str:
    """``text`` for insertion into Markdown prose: every ASCII punctuation character is
    backslash-escaped (CommonMark allows this for all of them), so the value renders as itself: no
    emphasis, heading, list, link, image, code, math or raw HTML (``<`` becomes ``\\<`` and is shown
    as ``&lt;``). Line breaks become spaces."""
    text = "" if text is None else " ".join(str(text).split())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def escape_mathtext(text) -> str:
    """A code or label for a matplotlib text: ``$`` escaped (no mathtext from data)."""
    return str(text).replace("$", r"\$")


def neutralise_formula(value):
    """One cell: a text starting with ``= + - @``, tab or carriage return gets a leading ``'`` so a
    spreadsheet shows it as text instead of running it as a formula (OWASP "CSV injection").
    Numbers, and texts that are plain numbers such as ``-2`` or ``+0,5``, are left as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and column names) cannot be run as spreadsheet formulas
    (see ``neutralise_formula``); numeric, date and boolean columns are untouched."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise_formula)
    out.columns = [neutralise_formula(c) for c in out.columns]
    return out


def drop_free_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without its free-text columns (``FREE_TEXT_COLUMNS``): what may be published."""
    return frame.drop(columns=[c for c in frame.columns if c in FREE_TEXT_COLUMNS])


def safe_markdown_html(text: str) -> str:
    """Markdown → HTML for the appendix (mistune, with tables). Raw HTML in the text is escaped
    (shown as text), and links, autolinks and images are rendered as their text only: no ``href``
    or ``src`` reaches the page."""
    return _markdown()(text)


@functools.cache
def _markdown():
    class Renderer(mistune.HTMLRenderer):
        def link(self, text, url, title=None):  # noqa: ARG002 — the address is dropped on purpose
            return text

        def image(self, text, url, title=None):  # noqa: ARG002
            return escape_html(text)

        def block_html(self, html_text):
            return f"<p>{escape_html(html_text)}</p>\n"

        def inline_html(self, html_text):
            return escape_html(html_text)

    return mistune.create_markdown(renderer=Renderer(escape=True, allow_harmful_protocols=False),
                                   plugins=["table", "strikethrough"])


_UNESCAPED = r"(?<!\\)((?:\\\\)*)"  # an even number of backslashes (none escapes what follows)
_RAW_ANGLE = re.compile(_UNESCAPED + "<")
_LINK_TARGET = re.compile(_UNESCAPED + r"\]\(")


def neutralise_markdown(text: str) -> str:
    """Generated Markdown prose made inert as a whole (a second line of defence behind
    ``escape_markdown`` of each inserted value): an unescaped ``<`` becomes ``\\<`` (no raw HTML, no
    autolink; shown as ``<``, not as ``&lt;``) and an unescaped ``](`` becomes ``]\\(`` (no inline link
    or image). Emphasis, lists and headings written by the package keep working."""
    text = _RAW_ANGLE.sub(r"\1\\<", str(text))
    return _LINK_TARGET.sub(r"\1]\\(", text)


def text(key: str, language: str, **values) -> str:
    """``t(key, language, **values)`` with every string value escaped (:func:`escape_markdown`):
    the one way a section writes prose that contains data-supplied words."""
    return t(key, language, **{k: escape_markdown(v) if isinstance(v, str) else v for k, v in values.items()})


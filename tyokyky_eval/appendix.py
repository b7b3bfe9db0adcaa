"""The appendix as a document: the executed notebooks' outputs assembled into one self-contained
HTML page (title page, contents, numbered tables and figures, provenance; stylesheet
``appendix.css``, a Content-Security-Policy that lets nothing run or load), printed to PDF by
headless Chromium with networking cut off, and written for editing as ``appendix.docx`` and
``tables.xlsx`` (``tyokyky_eval.office``). The runner (``tyokyky_eval.runner``) executes the
notebooks and calls these.
"""
from __future__ import annotations

import datetime as dt
import html
import re
import shutil
import subprocess
import tempfile
from importlib.resources import files
from pathlib import Path

import nbformat

from tyokyky_eval import __version__
from tyokyky_eval.i18n import fmt_date, has_text, t
from tyokyky_eval.project import Project
from tyokyky_eval.publication import CONTENT_SECURITY_POLICY, escape_html, safe_markdown_html


LANGUAGE_TAGS = {"fi", "en"}


CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


#: the appendix's stylesheet (package data ``appendix.css``), inlined so the page is self-contained
STYLE = files("tyokyky_eval").joinpath("appendix.css").read_text(encoding="utf-8")


# -- HTML -------------------------------------------------------------------------------------------
def _markdown(text: str) -> str:
    """Markdown → HTML with raw HTML escaped and links and images shown as text only
    (``publication.safe_markdown_html``): prose cells and generated prose alike."""
    return safe_markdown_html(text)


def _output_html(output) -> str:
    """Rich outputs only (HTML, Markdown, images); streams, errors and plain text reprs are left out
    so that no stray print or warning reaches the published appendix."""
    if output.get("output_type") not in ("display_data", "execute_result"):
        return ""
    data = output.get("data", {})
    if "text/html" in data:
        return "".join(data["text/html"])
    if "text/markdown" in data:
        return _markdown("".join(data["text/markdown"]))
    if "image/png" in data:
        return f'<img alt="" src="data:image/png;base64,{"".join(data["image/png"]).strip()}"/>'
    if "image/svg+xml" in data:
        return "".join(data["image/svg+xml"])
    return ""


def render_cells(nb: nbformat.NotebookNode, language: str) -> str:
    """HTML of one executed notebook: prose of ``language`` and cell outputs, no code."""
    parts = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & LANGUAGE_TAGS and language not in tags:
            continue
        if cell.cell_type == "markdown":
            parts.append(_markdown(cell.source))
        elif cell.cell_type == "code" and not tags & {"parameters", "injected-parameters"}:
            outputs = "".join(_output_html(o) for o in cell.get("outputs", []))
            if outputs:
                parts.append(f'<div class="te-output">{outputs}</div>')
    return "\n".join(parts)


def number_captions(body: str, language: str) -> str:
    """Number the ``te-caption`` markers in document order: 'Taulukko 1.', 'Kuvio 1.' …; each
    caption gets the anchor ``table-N`` / ``figure-N``."""
    counters = {"table": 0, "figure": 0}

    def label(match: re.Match) -> str:
        kind = match.group(1)
        counters[kind] += 1
        n = counters[kind]
        text = t(f"appendix.{kind}_label", language, n=n)
        return (f'<p class="te-caption" data-kind="{kind}" id="{kind}-{n}">'
                f'<span class="te-caption-label">{html.escape(text)}</span>')

    return re.sub(r'<p class="te-caption" data-kind="(table|figure)">', label, body)


_HEADING = re.compile(r"<h([1-6])(?:\s[^>]*)?>(.*?)</h\1>", re.DOTALL)


_ANCHOR_LINK = re.compile(r'<a class="anchor-link"[^>]*>.*?</a>', re.DOTALL)


def anchor_headings(body: str) -> tuple[str, list[tuple[int, str, str]]]:
    """Give every heading a stable id (``s1``, ``s2`` …) and return the contents entries
    ``(level, id, text)`` of the levels 1–2."""
    entries = []

    def replace(match: re.Match) -> str:
        level, inner = int(match.group(1)), _ANCHOR_LINK.sub("", match.group(2)).strip()
        anchor = f"s{len(entries) + 1}"
        entries.append((level, anchor, html.unescape(re.sub(r"<[^>]+>", "", inner)).strip()))
        return f'<h{level} id="{anchor}">{inner}</h{level}>'

    body = _HEADING.sub(replace, body)
    return body, [e for e in entries if e[0] <= 2]


def _toc(entries, language: str) -> str:
    items, open_sub = [], False
    for level, anchor, text in entries:
        link = f'<a href="#{anchor}">{html.escape(text)}</a>'
        if level == 1:
            if open_sub:
                items.append("</ol></li>")
            elif items:
                items.append("</li>")
            items.append(f"<li>{link}")
            open_sub = False
        else:
            if not open_sub:
                items.append("<ol>")
                open_sub = True
            items.append(f"<li>{link}</li>")
    items.append("</ol></li>" if open_sub else ("</li>" if items else ""))
    return (f'<nav class="te-toc"><h2 class="te-toc-title">{html.escape(t("appendix.contents", language))}</h2>'
            f'<ol>{"".join(items)}</ol></nav>')


def _title_page(project: Project) -> str:
    p, lang = project.params, project.language
    rows = []
    if p.evaluation_period:
        start, end = p.evaluation_period
        rows.append((t("appendix.evaluation_period", lang), f"{fmt_date(start, lang)}–{fmt_date(end, lang)}"))
    rows.append((t("appendix.cutoff_date", lang), fmt_date(p.cutoff_date, lang)))
    rows.append((t("appendix.language", lang), t("appendix.language_name", lang)))
    facts = "".join(f"<dt>{escape_html(k)}</dt><dd>{escape_html(v)}</dd>" for k, v in rows)
    synthetic = (f'<p class="te-synthetic">{escape_html(t("appendix.synthetic_note", lang))}</p>'
                 if p.synthetic else "")
    description = f"<p>{escape_html(p.description)}</p>" if p.description else ""
    return (f'<header class="te-title-page"><p class="te-kind">{escape_html(t("appendix.appendix", lang))}</p>'
            f'<h1 class="te-title">{escape_html(p.title)}</h1>{description}<dl>{facts}</dl>{synthetic}'
            f'<p class="te-note">{escape_html(t("appendix.generated_by", lang, version=__version__))}</p>'
            f"</header>")


def provenance_html(record: dict, language: str) -> str:
    """The closing section: software, and the parameters and input tables with their checksums.
    Tables are named by their canonical name, never by the user's file name or path."""
    def tr(key):
        return escape_html(t(f"appendix.{key}", language))

    def table_name(table):
        key = f"codes.table.{table}"
        return escape_html(t(key, language) if has_text(key, language) else table)

    git = record["package"]["git"]
    commit = (f'<code>{escape_html(git["commit"])}</code>{" (+)" if git["dirty"] else ""}' if git
              else tr("not_available"))
    files = "".join(
        f'<tr><td>{table_name(table)}</td><td><code>{escape_html(info["sha256"])}</code></td></tr>'
        for table, info in record["input_files"].items())
    packages = "".join(f"<tr><td>{escape_html(name)}</td><td>{escape_html(v or '–')}</td></tr>"
                       for name, v in record["packages"].items())
    param = record["parameters_file"]
    return (f'<section class="te-section te-provenance"><h1>{tr("provenance")}</h1><p>{tr("provenance_intro")}</p>'
            f'<table><tbody>'
            f'<tr><td>{tr("package_version")}</td><td>{escape_html(record["package"]["version"])}</td></tr>'
            f'<tr><td>{tr("git_commit")}</td><td>{commit}</td></tr>'
            f'<tr><td>{tr("parameters_file")}</td><td><code>{escape_html(param["sha256"])}</code></td></tr>'
            f'<tr><td>{tr("python")}</td><td>{escape_html(record["python"]["version"])}</td></tr>'
            f'<tr><td>{tr("run_started")}</td><td>{escape_html(record["run"]["started"])}</td></tr>'
            f'</tbody></table>'
            f'<h2>{tr("input_files")}</h2><table><thead><tr><th>{tr("table")}</th><th>{tr("sha256")}</th>'
            f'</tr></thead><tbody>{files}</tbody></table>'
            f'<h2>{tr("packages")}</h2><table><thead><tr><th>{tr("package")}</th><th>{tr("version")}</th></tr>'
            f'</thead><tbody>{packages}</tbody></table></section>')


WIDE_TABLE_COLUMNS = 8


_TABLE = re.compile(r"<table\b([^>]*)>(.*?)</table>", re.DOTALL)


def mark_wide_tables(body: str) -> str:
    """Give tables of more than ``WIDE_TABLE_COLUMNS`` columns the class ``te-wide`` (a smaller font
    in print, so that every column fits the page width)."""
    def mark(match: re.Match) -> str:
        attributes, inner = match.group(1), match.group(2)
        first_row = re.search(r"<tr\b.*?</tr>", inner, re.DOTALL)
        columns = len(re.findall(r"<t[hd]\b", first_row.group(0))) if first_row else 0
        if columns <= WIDE_TABLE_COLUMNS:
            return match.group(0)
        if 'class="' in attributes:
            attributes = attributes.replace('class="', 'class="te-wide ', 1)
        else:
            attributes += ' class="te-wide"'
        return f"<table{attributes}>{inner}</table>"

    return _TABLE.sub(mark, body)


def assemble_html(project: Project, sections: list[str], record: dict) -> str:
    """One self-contained HTML page: title page, contents, the sections, provenance."""
    language = project.language
    body = "\n".join(f'<section class="te-section">{s}</section>' for s in sections)
    body += provenance_html(record, language)
    body, entries = anchor_headings(number_captions(mark_wide_tables(body), language))
    return (f'<!DOCTYPE html>\n<html lang="{language}"><head><meta charset="utf-8"/>'
            f'<meta http-equiv="Content-Security-Policy" content="{escape_html(CONTENT_SECURITY_POLICY)}"/>'
            f'<meta name="referrer" content="no-referrer"/>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"/>'
            f'<meta name="generator" content="tyokyky-eval {__version__}"/>'
            f"<title>{escape_html(project.params.title)}</title><style>{STYLE}</style></head>\n"
            f"<body>{_title_page(project)}{_toc(entries, language)}<main>{body}</main></body></html>\n")


# -- Word and Excel --------------------------------------------------------------------------------
def write_office(project: Project, page: str, record_folders: list[Path], work: Path) -> None:
    """``appendix.docx`` (the ``page`` with its tables and figures from the records) and
    ``tables.xlsx`` (the published tables) into ``work``, dated by the cut-off date."""
    from tyokyky_eval import office

    records = office.load_records(record_folders)
    stamp = dt.datetime.combine(project.params.cutoff_date, dt.time())
    title, language = project.params.title, project.language
    office.write_docx(page, records, work / "appendix.docx", language, title, stamp)
    office.write_xlsx(records, work / "tables.xlsx", language, title, stamp)


# -- PDF --------------------------------------------------------------------------------------------
def find_chromium() -> str | None:
    """Path of a headless-capable Chromium, or None."""
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


#: Chromium flags that cut it off the network: every request (loopback included, ``<-loopback>``)
#: goes to a proxy on a closed port, and every host name resolves to nothing. The appendix is one
#: self-contained page, so printing needs no network; its Content-Security-Policy forbids remote
#: loads as well (two independent locks: a payload in the data must get past both).
OFFLINE_FLAGS = ("--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
                 "--host-resolver-rules=MAP * ~NOTFOUND", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-domain-reliability",
                 "--no-pings", "--disable-client-side-phishing-detection", "--dns-prefetch-disable",
                 "--disable-features=NetworkPrediction,OptimizationHints,MediaRouter,DialMediaRouteProvider")


def chromium_command(browser: str, profile: Path, *args: str) -> list[str]:
    """Headless Chromium without network access (``OFFLINE_FLAGS``), no sandbox (containers, root)
    and a throwaway profile folder."""
    return [browser, "--headless", "--no-sandbox", "--disable-gpu", *OFFLINE_FLAGS,
            "--no-first-run", "--disable-dev-shm-usage", f"--user-data-dir={profile}", *args]


def print_pdf(html_path: Path, pdf_path: Path, language: str, timeout: int = 180) -> tuple[bool, str]:
    """Print the HTML to PDF with headless Chromium; returns (printed, message when skipped)."""
    browser = find_chromium()
    if browser is None:
        return False, t("appendix.pdf_skipped_no_chromium", language)
    with tempfile.TemporaryDirectory(prefix="tyokyky-chromium-") as profile:
        command = chromium_command(browser, Path(profile), "--no-pdf-header-footer",
                                   f"--print-to-pdf={pdf_path}", html_path.resolve().as_uri())
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
            reason = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        except (OSError, subprocess.TimeoutExpired) as exc:
            reason = str(exc)
    if pdf_path.is_file() and pdf_path.stat().st_size > 0:
        return True, ""
    return False, t("appendix.pdf_failed", language, reason=reason)

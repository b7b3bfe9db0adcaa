"""HTML of the appendix's blocks: one block as the notebook shows it (:func:`block_html`), and the
whole page (:func:`page`): one self-contained file (title page, contents, numbered tables and
figures, provenance; stylesheet ``appendix.css`` inlined; a Content-Security-Policy that lets
nothing run or load). Every value from data is escaped; prose goes through
``publication.safe_markdown_html``.
"""
from __future__ import annotations

import base64
import html
import re
from importlib.resources import files

from tyokyky_eval import __version__
from tyokyky_eval.i18n import t
from tyokyky_eval.publication import (
    CONTENT_SECURITY_POLICY,
    escape_html,
    safe_markdown_html,
)
from tyokyky_eval.render.document import (
    Block,
    Document,
    FigureBlock,
    Heading,
    Prose,
    Raw,
    TableBlock,
    caption_label,
)
from tyokyky_eval.render.layout import landscape_blocks, table_layout

#: the appendix's stylesheet, inlined so that the page is self-contained
STYLE = files("tyokyky_eval.render").joinpath("appendix.css").read_text(encoding="utf-8")


def _caption(block: TableBlock | FigureBlock, kind: str, language: str | None) -> str:
    """The caption paragraph; numbered (with its anchor) on the page, unnumbered in a notebook."""
    if not block.number or language is None:
        return f'<p class="te-caption" data-kind="{kind}">{escape_html(block.caption)}</p>'
    label = escape_html(caption_label(kind, block.number, language))
    return (f'<p class="te-caption" data-kind="{kind}" id="{block.anchor}">'
            f'<span class="te-caption-label">{label}</span> {escape_html(block.caption)}</p>')


def _cell_text(cell) -> str:
    """A cell's text, escaped; a cell read from another table links to it."""
    text = escape_html(cell.text)
    return f'<a href="#{escape_html(cell.link)}">{text}</a>' if cell.link and text else text


def _table(block: TableBlock) -> str:
    """The table in its box (it scrolls on a screen), with the class of its print font."""
    style = table_layout(block).style.css_class
    wide = f" {style}" if style else ""
    head = "".join(f"<th>{escape_html(h)}</th>" for h in block.columns) if any(block.columns) else ""
    body = "".join("<tr>" + "".join(("<td>" if c.value is None else '<td class="te-num">') + _cell_text(c) + "</td>"
                                    for c in row) + "</tr>" for row in block.rows)
    kind = "te-table" if block.caption else "te-plain"  # a result table, or a list (provenance)
    return (f'<div class="te-table-box"><table class="{kind}{wide}">'
            f'{f"<thead><tr>{head}</tr></thead>" if head else ""}<tbody>{body}</tbody></table></div>')


def block_html(block: Block, language: str | None = None, landscape: bool = False) -> str:
    """One block as HTML; with ``language``, captions carry their number and anchor (the page);
    ``landscape``: printed on landscape pages (class ``te-landscape``)."""
    if isinstance(block, Heading):
        anchor = f' id="{block.anchor}"' if block.anchor else ""
        turned = ' class="te-landscape"' if landscape else ""
        return f"<h{block.level}{anchor}{turned}>{escape_html(block.text)}</h{block.level}>"
    if isinstance(block, Prose):
        inner = safe_markdown_html(block.markdown)
        return f'<div class="te-note">{inner}</div>' if block.style == "note" else inner
    if isinstance(block, TableBlock):
        caption = _caption(block, "table", language) if block.caption else ""
        note = f'<p class="te-note">{escape_html(block.note)}</p>' if block.note else ""
        shown = f"{caption}{_table(block)}{note}"
        return f'<div class="te-landscape">{shown}</div>' if landscape else shown
    if isinstance(block, FigureBlock):
        data = base64.b64encode(block.png).decode("ascii")
        return (f'<figure class="te-figure"><img alt="{escape_html(block.caption)}" width="{block.width}" '
                f'src="data:image/png;base64,{data}"/>'
                f'{_caption(block, "figure", language)}</figure>')
    if isinstance(block, Raw):
        return f'<div class="te-output">{block.html}</div>'
    raise TypeError(f"not a block: {block!r}")


def _title_page(document: Document) -> str:
    page = document.title_page
    facts = "".join(f"<dt>{escape_html(k)}</dt><dd>{escape_html(v)}</dd>" for k, v in page.facts)
    notes = list(page.notes)
    synthetic = f'<p class="te-synthetic">{escape_html(notes.pop(0))}</p>' if page.synthetic else ""
    description = f"<p>{escape_html(page.description)}</p>" if page.description else ""
    return (f'<header class="te-title-page"><p class="te-kind">{escape_html(page.kind)}</p>'
            f'<h1 class="te-title">{escape_html(page.title)}</h1>{description}<dl>{facts}</dl>{synthetic}'
            + "".join(f'<p class="te-note">{escape_html(n)}</p>' for n in notes) + "</header>")


def contents_entries(document: Document) -> list[tuple[int, str, str]]:
    """``(level, anchor, text)`` of the headings of levels 1–2, in order (the contents list)."""
    return [(b.level, b.anchor, b.text) for b in document.blocks() if isinstance(b, Heading) and b.level <= 2]


def _toc(document: Document) -> str:
    items, open_sub = [], False
    for level, anchor, text in contents_entries(document):
        link = f'<a href="#{anchor}">{escape_html(text)}</a>'
        if level == 1:
            items.append("</ol></li>" if open_sub else ("</li>" if items else ""))
            items.append(f"<li>{link}")
            open_sub = False
        else:
            if not open_sub:
                items.append("<ol>")
                open_sub = True
            items.append(f"<li>{link}</li>")
    items.append("</ol></li>" if open_sub else ("</li>" if items else ""))
    title = escape_html(t("appendix.contents", document.language))
    return f'<nav class="te-toc"><h2 class="te-toc-title">{title}</h2><ol>{"".join(items)}</ol></nav>'


def page(document: Document) -> str:
    """The appendix as one self-contained HTML page."""
    language = document.language
    landscape = iter(landscape_blocks(list(document.blocks())))  # in the order of the parts, then provenance
    sections = "\n".join(f'<section class="te-section" id="section-{part.key}">'
                         + "\n".join(block_html(b, language, next(landscape)) for b in part.blocks) + "</section>"
                         for part in document.parts)
    provenance = ("" if document.provenance is None else '<section class="te-section te-provenance">'
                  + "\n".join(block_html(b, language, next(landscape)) for b in document.provenance.blocks)
                  + "</section>")
    return (f'<!DOCTYPE html>\n<html lang="{language}"><head><meta charset="utf-8"/>'
            f'<meta http-equiv="Content-Security-Policy" content="{escape_html(CONTENT_SECURITY_POLICY)}"/>'
            f'<meta name="referrer" content="no-referrer"/>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"/>'
            f'<meta name="generator" content="tyokyky-eval {__version__}"/>'
            f"<title>{escape_html(document.title_page.title)}</title><style>{STYLE}</style></head>\n"
            f"<body>{_title_page(document)}{_toc(document)}<main>{sections}{provenance}</main></body></html>\n")


def text_of(markup: str) -> str:
    """The visible text of an HTML fragment (a researcher's own output, for Word)."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", markup))).strip()

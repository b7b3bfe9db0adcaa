"""The appendix as blocks: headings, prose, captioned tables (cells as shown, with the numbers
behind them) and figures (PNG at screen and print resolution). A notebook shows blocks
(``tyokyky_eval.render.report.Report``); the run reads the same blocks back from the executed notebook
(each shown block carries its data in the output's metadata, ``BLOCK_KEY``) and gives them to the
HTML, Word and Excel renderers, so that every output holds the same objects in the same order.

:func:`assemble` makes the whole document: title page, the sections (numbered captions, stable
anchors from the section's registry name and the table's name), provenance.
"""
from __future__ import annotations

import base64
import dataclasses
import io
import json
import re
from dataclasses import dataclass

import pandas as pd

from tyokyky_eval.i18n import fmt_date, has_text, t
from tyokyky_eval.inputs.project import claim, hand_over, wait_for
from tyokyky_eval.publication import drop_free_text, is_symbol
from tyokyky_eval.render.cells import Cell, typed_columns

#: tags of notebook Markdown cells written in one language (the others' are left out)
LANGUAGE_TAGS = {"fi", "en"}

#: key of a shown block's data in a notebook output's metadata
BLOCK_KEY = "tyokyky_eval_block"

#: resolution of figures (Word and the PDF print); the page and the notebook show them at
#: ``SCREEN_DPI`` size
SCREEN_DPI, PRINT_DPI = 110, 200


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    anchor: str = ""


@dataclass(frozen=True)
class Prose:
    """Markdown written by the package or a notebook (values from data escaped where inserted);
    ``style`` ``note`` for notes in small print."""

    markdown: str
    style: str = ""


@dataclass(frozen=True)
class TableBlock:
    """A table: ``columns`` (headers as shown) and ``rows`` of :class:`Cell`; a captioned table is
    numbered, an uncaptioned one (provenance) is not. ``name``: the table's file name, if any."""

    caption: str | None
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""
    name: str = ""
    anchor: str = ""
    number: int = 0


@dataclass(frozen=True)
class FigureBlock:
    """A figure as PNG at ``PRINT_DPI``; ``width`` in pixels at ``SCREEN_DPI``."""

    caption: str
    png: bytes
    width: int
    name: str = ""
    anchor: str = ""
    number: int = 0


@dataclass(frozen=True)
class Raw:
    """An output of a notebook cell that is not a block (a researcher's own ``display``): HTML for
    the page, its text for Word."""

    html: str


Block = Heading | Prose | TableBlock | FigureBlock | Raw


@dataclass(frozen=True)
class Part:
    """One section of the appendix: ``key`` (registry name or notebook stem), its blocks; a skipped
    section has its heading and the sentence why."""

    key: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class TitlePage:
    kind: str
    title: str
    description: str
    facts: tuple[tuple[str, str], ...]
    notes: tuple[str, ...]  # the synthetic-data note (when synthetic), "produced with"
    synthetic: bool = False


@dataclass(frozen=True)
class Document:
    language: str
    title_page: TitlePage
    parts: tuple[Part, ...]
    provenance: Part | None = None

    def blocks(self):
        """Every block of the sections and the provenance, in order."""
        for part in (*self.parts, *([self.provenance] if self.provenance else [])):
            yield from part.blocks


# -- blocks from frames and figures -----------------------------------------------------------------
def table_block(frame: pd.DataFrame, caption: str | None, language: str, decimals: int | dict = 1,
                code_columns=(), namespace: str | None = None, note: str = "", headers: dict | None = None,
                name: str = "") -> TableBlock:
    """A table as shown in ``language`` (free-text columns never shown: ``drop_free_text``)."""
    columns = typed_columns(drop_free_text(frame), language, decimals, code_columns, namespace, headers)
    rows = tuple(zip(*(cells for _, cells in columns))) if columns else ()
    return TableBlock(caption, tuple(h for h, _ in columns), tuple(tuple(r) for r in rows), note or "", name)


def figure_block(fig, caption: str, name: str = "") -> FigureBlock:
    """A matplotlib figure as PNG (no timestamp in the file); closes it."""
    import matplotlib.pyplot as plt
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=PRINT_DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    width = Image.open(io.BytesIO(buffer.getvalue())).width
    return FigureBlock(caption, buffer.getvalue(), round(width * SCREEN_DPI / PRINT_DPI), name)


def section_blocks(section, language: str) -> dict[str, list[Block]]:
    """``{"tables": section_tables(…), "figures": section_figures(…)}`` of a section, made once per
    language: a section of a protected appendix keeps them there (``ProtectedAppendix.blocks``).
    In a run, the kernel makes the blocks of the sections it shows unless the run has claimed
    them first (:func:`make_blocks_ahead`); then it waits for the run's."""
    appendix = getattr(section.project, "appendix", None)
    ours = appendix is not None and appendix.sections.get(section.name) is section
    cache = appendix.blocks if ours else {}
    key = (section.name, language)
    if key not in cache:
        shared = appendix.shared if ours else None
        if shared is None or claim(shared, _blocks_file(key)):
            cache[key] = _make_blocks(section, language)
        else:
            cache[key] = wait_for(shared, _blocks_file(key))
    return cache[key]


def make_blocks_ahead(appendix, names, language: str) -> list[str]:
    """The run's share of drawing the appendix, while its kernel shows it: the blocks of the
    sections ``names`` (the kernel's last sections first), each claimed and handed to the kernel,
    until the kernel, working from the first section, has claimed the next one. Figures are most
    of the time a section's blocks take, so the two processes draw them side by side. Returns the
    sections made here."""
    made = []
    for name in names:
        key = (name, language)
        if not claim(appendix.shared, _blocks_file(key)):
            break
        appendix.blocks[key] = _make_blocks(appendix.sections[name], language)
        hand_over(appendix.blocks[key], appendix.shared, _blocks_file(key))
        made.append(name)
    return made


def _blocks_file(key: tuple[str, str]) -> str:
    return "blocks-{}-{}.pickle".format(*key)


def _make_blocks(section, language: str) -> dict[str, list[Block]]:
    return {"tables": section_tables(section, language), "figures": section_figures(section, language)}


def section_tables(section, language: str) -> list[Block]:
    """A section's findings, then its published tables with captions, notes and the symbol legend
    (under a "Results" heading when it has any)."""
    blocks: list[Block] = [Prose(p) for p in section.text(language)]
    published = section.published()
    tables = []
    for table in section.tables():
        shown = published[table.name]
        if shown.empty:
            continue
        protected = shown.map(lambda v: is_symbol(v, section.rules)).to_numpy().any()
        notes = [t(table.note, language, **table.note_values) if table.note else None,
                 section.rules.legend(language) if protected else None]
        shown = shown[list(table.columns or shown.columns)].copy()
        for column, labels in table.labels.items():
            if column in shown:
                shown[column] = shown[column].map(lambda v, m=labels: m[v][language] if v in m else v)
        block = table_block(shown, t(table.caption, language, **table.caption_values), language,
                            table.decimals, table.code_columns, table.namespace, " ".join(n for n in notes if n),
                            {c: h[language] for c, h in table.headers.items()}, table.name)
        tables.append(_linked(block, list(drop_free_text(shown).columns), shown, table.anchors))
    if tables:
        blocks += [Heading(2, t("appendix.results", language)), *tables]
    return blocks


def _linked(block: TableBlock, columns: list, frame: pd.DataFrame, anchors) -> TableBlock:
    """``block`` with the cells of the ``anchors`` columns linked to the section their value names
    (its anchor is the section's registry name, see :func:`assemble`)."""
    where = [columns.index(c) for c in anchors if c in columns]
    if not where:
        return block
    rows = tuple(tuple(dataclasses.replace(cell, link=_slug(str(frame[columns[j]].iloc[i])))
                       if j in where and isinstance(frame[columns[j]].iloc[i], str) and cell.text else cell
                       for j, cell in enumerate(row)) for i, row in enumerate(block.rows))
    return dataclasses.replace(block, rows=rows)


def section_figures(section, language: str) -> list[Block]:
    """A section's figures (drawn from published values) under a "Figures" heading; nothing when
    it has none."""
    figures = [figure_block(fig, caption, f"{section.name}-{i}")
               for i, (caption, fig) in enumerate(section.figures(language), 1) if fig is not None]
    return [Heading(2, t("appendix.figures", language)), *figures] if figures else []


_ATX = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def markdown_blocks(text: str) -> list[Block]:
    """A Markdown cell as blocks: ATX headings (outside code fences) become :class:`Heading`, the
    text between them :class:`Prose`."""
    blocks, lines, fenced = [], [], False

    def flush():
        if "".join(lines).strip():
            blocks.append(Prose("\n".join(lines).strip("\n")))
        lines.clear()

    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        heading = None if fenced else _ATX.match(line)
        if heading:
            flush()
            blocks.append(Heading(len(heading.group(1)), heading.group(2)))
        else:
            lines.append(line)
    flush()
    return blocks


# -- blocks through a notebook output ---------------------------------------------------------------
def to_json(block: Block) -> str:
    """A block as one JSON string (bytes as base64), to travel in a notebook output's metadata: a
    string, so that Jupyter's messages and nbformat carry it without walking every cell of a table."""
    data = {"kind": type(block).__name__}
    for item in dataclasses.fields(block):
        value = getattr(block, item.name)
        if isinstance(value, bytes):
            value = base64.b64encode(value).decode("ascii")
        elif item.name == "rows":
            value = [[dataclasses.astuple(c) for c in row] for row in value]
        data[item.name] = value
    return json.dumps(data, ensure_ascii=False)


KINDS = {cls.__name__: cls for cls in (Heading, Prose, TableBlock, FigureBlock, Raw)}


def from_json(text: str) -> Block:
    """The block that :func:`to_json` wrote."""
    data = json.loads(text)
    cls = KINDS[data["kind"]]
    values = {}
    for item in dataclasses.fields(cls):
        value = data[item.name]
        if item.name == "png":
            value = base64.b64decode(value)
        elif item.name == "rows":
            value = tuple(tuple(Cell(*c) for c in row) for row in value)
        elif item.name == "columns":
            value = tuple(value)
        values[item.name] = value
    return cls(**values)


# -- the document -----------------------------------------------------------------------------------
def title_page(project) -> TitlePage:
    p, language = project.params, project.language
    facts = []
    if p.evaluation_period:
        start, end = p.evaluation_period
        facts.append((t("appendix.evaluation_period", language), f"{fmt_date(start, language)}–{fmt_date(end, language)}"))
    facts.append((t("appendix.cutoff_date", language), fmt_date(p.cutoff_date, language)))
    facts.append((t("appendix.language", language), t("appendix.language_name", language)))
    from tyokyky_eval import __version__

    notes = ((t("appendix.synthetic_note", language),) if p.synthetic else ()) + (
        t("appendix.generated_by", language, version=__version__),)
    return TitlePage(t("appendix.appendix", language), p.title[language], p.description.get(language, ""),
                     tuple(facts), notes, bool(p.synthetic))


def provenance_part(record: dict, language: str) -> Part:
    """The closing section: software, and the parameters (when the record has a parameters file)
    and input tables with their checksums. Tables are named by their canonical name, never by the
    user's file name or path."""
    def tr(key):
        return t(f"appendix.{key}", language)

    def table_name(table):
        key = f"codes.table.{table}"
        return t(key, language) if has_text(key, language) else table

    def rows(pairs):
        return tuple((Cell(str(a)), Cell(str(b))) for a, b in pairs)

    git = record["package"]["git"]
    commit = f'{git["commit"]}{" (+)" if git["dirty"] else ""}' if git else tr("not_available")
    parameters = [(tr("parameters_file"), record["parameters_file"]["sha256"])] if "parameters_file" in record else []
    software = rows([(tr("package_version"), record["package"]["version"]), (tr("git_commit"), commit), *parameters,
                     (tr("python"), record["python"]["version"]), (tr("run_started"), record["run"]["started"])])
    files = rows([(table_name(table), info["sha256"]) for table, info in record["input_files"].items()])
    packages = rows([(name, v or "–") for name, v in record["packages"].items()])
    return Part("provenance", (
        Heading(1, tr("provenance"), "provenance"), Prose(tr("provenance_intro")),
        TableBlock(None, ("", ""), software),
        Heading(2, tr("input_files"), "provenance-inputs"), TableBlock(None, (tr("table"), tr("sha256")), files),
        Heading(2, tr("packages"), "provenance-packages"), TableBlock(None, (tr("package"), tr("version")), packages)))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "-", text.lower()).strip("-") or "part"


def assemble(project, parts: list[Part], record: dict | None) -> Document:
    """The whole appendix: title page, ``parts`` with captions numbered in order and stable anchors
    (a section's first heading ``<key>``, further headings ``<key>-2`` …; a table ``table-<name>``;
    a figure ``figure-<name>``; a repeated one gets ``-2``, ``-3`` …), and the provenance of ``record``."""
    counters = {"table": 0, "figure": 0}
    numbered, used = [], set()

    def unique(anchor: str) -> str:
        found = anchor if anchor not in used else next(f"{anchor}-{i}" for i in range(2, len(used) + 3)
                                                     if f"{anchor}-{i}" not in used)
        used.add(found)
        return found

    for part in parts:
        key, blocks, headings = _slug(part.key), [], 0
        for block in part.blocks:
            if isinstance(block, Heading) and not block.anchor:
                headings += 1
                block = dataclasses.replace(block, anchor=unique(key if headings == 1 else f"{key}-{headings}"))
            elif isinstance(block, (TableBlock, FigureBlock)) and block.caption:
                kind = "table" if isinstance(block, TableBlock) else "figure"
                counters[kind] += 1
                name = _slug(block.name) if block.name else f"{key}-{counters[kind]}"
                block = dataclasses.replace(block, number=counters[kind], anchor=unique(f"{kind}-{name}"))
            blocks.append(block)
        numbered.append(Part(part.key, tuple(blocks)))
    return Document(project.language, title_page(project), tuple(numbered),
                    provenance_part(record, project.language) if record else None)


def caption_label(kind: str, number: int, language: str) -> str:
    """'Taulukko 1.' / 'Figure 2.'"""
    return t(f"appendix.{kind}_label", language, n=number)

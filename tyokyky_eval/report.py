"""What notebooks call to show and save results: captioned tables and figures, localised.

A notebook creates one ``Report`` after loading the project::

    project = load_project(params_path, language=language)
    report = Report(project, output_dir=output_dir)
    report.table(scores, "fidelity_scores", report.t("fidelity.caption_scores"), published=safe)
    report.figure(fig, report.t("fidelity.caption_profile"))

``table`` writes ``tables-internal/<name>.csv`` (full precision) and ``tables/<name>.csv``
(publication-safe) when ``output_dir`` is set, and displays the publication-safe version with
localised headers and Finnish or English number formatting. Captions are numbered when the appendix
is assembled (``<p class="te-caption" data-kind="table|figure">``). Every shown table and figure also
leaves a record in ``<output_dir>/.records`` (``RECORDS``) from which the runner writes the Word and
Excel appendix (``tyokyky_eval.office``).
"""
from __future__ import annotations

import base64
import html
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tyokyky_eval.i18n import code_label, fmt_date, fmt_number, has_text, t
from tyokyky_eval.project import Project
from tyokyky_eval.publication import drop_free_text, neutralise_formulas, neutralise_markdown


#: folder under ``output_dir`` where every shown table and figure leaves a record (caption, typed
#: cells; the figure at print resolution) for the Word and Excel appendix; the runner moves it into
#: the run's private folder after each notebook, so it is never published as such
RECORDS = ".records"

#: resolution of the figures in the Word appendix (the HTML page shows them at 110 dpi)
PRINT_DPI = 200

#: spreadsheet formats of dates, as ``fmt_date`` shows them
DATE_FORMATS = {"fi": "d\\.m\\.yyyy", "en": "yyyy-mm-dd"}


def number_format(decimals: int) -> str:
    """Spreadsheet number format with ``decimals`` decimals and a thousands separator; Excel shows
    it with the reader's decimal comma or point."""
    return "#,##0" + ("." + "0" * decimals if decimals > 0 else "")


@dataclass(frozen=True)
class Cell:
    """One table cell: its text as shown; ``value`` the number (or ISO date) behind it, rounded as
    shown, with its spreadsheet ``format``; ``value`` is None for text (labels, symbols, '–')."""

    text: str
    value: int | float | str | None = None
    format: str = ""


def _is_p_column(column: str) -> bool:
    return column == "p" or column.startswith("p_") or column.endswith("_p")


def shown_value(value, digits: int, p_value: bool = False):
    """A number as the appendix shows it: a float rounded to ``digits`` decimals (a p-value to 3,
    below 0.001 the text ``<0.001``); anything else as it is. What ``tables/*.csv`` and
    ``tables.xlsx`` hold, so that they carry the page's numbers (a mean at full precision times
    its n would give an exact sum)."""
    if isinstance(value, (float, np.floating)) and math.isfinite(value):
        if p_value:
            return "<0.001" if value < 0.001 else round(float(value), 3)
        return round(float(value), digits)
    return value


def rounded_as_shown(frame: pd.DataFrame, decimals: int | dict = 1) -> pd.DataFrame:
    """A published table with every number as :func:`shown_value` gives it (``decimals``: one
    number, or per column with 1 as the default). Integers, symbols and text stay."""
    out = frame.copy()
    for column in out.columns:
        digits = decimals.get(column, 1) if isinstance(decimals, dict) else decimals
        p_value = _is_p_column(str(column))
        values = out[column].map(lambda v, d=digits, p=p_value: shown_value(v, d, p))
        out[column] = values.astype(float) if pd.api.types.is_float_dtype(out[column]) and not p_value else values
    return out


def _display(obj) -> None:
    from IPython.display import display

    display(obj)


class Report:
    def __init__(self, project: Project, output_dir: str | Path | None = None):
        self.project = project
        self.language = project.language
        self.output_dir = Path(output_dir) if output_dir else None

    # -- text ---------------------------------------------------------------------------------
    def t(self, key: str, **values) -> str:
        """Localised text for ``key`` (see ``tyokyky_eval/locales``)."""
        return t(key, self.language, **values)

    def number(self, value, decimals: int = 1) -> str:
        return fmt_number(value, self.language, decimals)

    def p_value(self, value) -> str:
        """A p-value with three decimals; below 0.001 shown as '<0,001' / '<0.001'."""
        if value is not None and not pd.isna(value) and value < 0.001:
            return "<" + self.number(0.001, 3)
        return self.number(value, 3)

    def date(self, value) -> str:
        return fmt_date(value, self.language)

    def markdown(self, text: str) -> None:
        """Show generated prose (Markdown). Values from data or parameters must be inserted with
        ``publication.escape_markdown``; as a second line of defence raw HTML and inline links are
        neutralised here (``publication.neutralise_markdown``)."""
        from IPython.display import Markdown

        _display(Markdown(neutralise_markdown(text)))

    def _lookup(self, keys, fallback: str) -> str:
        for key in keys:
            if has_text(key, self.language):
                return self.t(key)
        return fallback

    def header(self, column: str, namespace: str | None = None) -> str:
        """Column header: ``<namespace>.columns.<name>``, else ``columns.<name>``, else the name."""
        keys = ([f"{namespace}.columns.{column}"] if namespace else []) + [f"columns.{column}"]
        return self._lookup(keys, column)

    def code(self, column: str, value, namespace: str | None = None) -> str:
        """Category label: ``<namespace>.codes.<column>.<value>``, else ``codes.<column>.<value>``,
        else the value itself."""
        return code_label(column, value, self.language, namespace)

    # -- tables -------------------------------------------------------------------------------
    def save_table(self, frame: pd.DataFrame, name: str, published: pd.DataFrame | None = None,
                   decimals: int | dict = 1) -> None:
        """Write ``tables-internal/<name>.csv`` and, only for a ``published`` table (one that the
        publication layer released), ``tables/<name>.csv`` (when output_dir is set): a frame that
        did not pass protection never reaches ``tables/``. The published table never holds
        free-text columns (``publication.FREE_TEXT_COLUMNS``)."""
        self._write_csv(frame, "tables-internal", name)
        if published is not None:
            self._write_csv(rounded_as_shown(published, decimals), "tables", name)

    def format_frame(self, frame: pd.DataFrame, decimals: int | dict = 1, code_columns=(),
                     namespace: str | None = None, headers: dict | None = None) -> pd.DataFrame:
        """A display copy: numbers and dates in the report's language, codes and headers translated.

        Columns named ``p``, ``p_*`` or ``*_p`` hold p-values (``p_value``)."""
        out = pd.DataFrame(index=frame.index)
        for header, cells in self.typed_columns(frame, decimals, code_columns, namespace, headers):
            out[header] = pd.Series([cell.text for cell in cells], index=frame.index, dtype=object)
        return out

    def typed_columns(self, frame: pd.DataFrame, decimals: int | dict = 1, code_columns=(),
                      namespace: str | None = None, headers: dict | None = None) -> list[tuple[str, list[Cell]]]:
        """``(header, cells)`` per column: each cell's text as shown and the number or date behind
        it, rounded as shown (what ``format_frame`` shows and the Excel workbook stores)."""
        columns = []
        for column in frame.columns:
            values = frame[column]
            digits = decimals.get(column, 1) if isinstance(decimals, dict) else decimals
            if column in code_columns:
                cells = [Cell("" if pd.isna(v) else self.code(column, v, namespace)) for v in values]
            elif pd.api.types.is_datetime64_any_dtype(values):
                cells = [Cell(self.date(v)) if pd.isna(v) else
                         Cell(self.date(v), v.date().isoformat(), DATE_FORMATS[self.language]) for v in values]
            elif _is_p_column(column):  # also where symbols made the column text
                cells = [self._p_cell(v) if isinstance(v, (float, np.floating)) else self._cell(v, 3) for v in values]
            else:
                cells = [self._cell(v, digits) for v in values]
            header = (headers or {}).get(column) or self.header(column, namespace)
            if header in (h for h, _ in columns):  # two columns under one header would hide one of them
                raise ValueError(f"columns share the header {header!r}; give each its own locale text")
            columns.append((header, cells))
        return columns

    def _cell(self, value, digits: int) -> Cell:
        """A number as shown (``number``; integers as they are) with its value; anything else as text."""
        if value is None or value is pd.NA or (isinstance(value, float) and value != value):
            return Cell("–")
        if isinstance(value, (bool, np.bool_)):
            return Cell(str(value))
        if isinstance(value, (int, np.integer)):
            return Cell(str(value), int(value), "0")
        if isinstance(value, (float, np.floating)) and math.isfinite(value):
            return Cell(self.number(value, digits), shown_value(value, digits), number_format(digits))
        return Cell(self.number(value, digits) if isinstance(value, float) else str(value))

    def _p_cell(self, value) -> Cell:
        """A p-value as ``p_value`` shows it: below 0.001 as text ('<0,001')."""
        if not pd.isna(value) and value < 0.001:
            return Cell(self.p_value(value))
        return self._cell(value, 3)

    def table(self, frame: pd.DataFrame, name: str | None, caption: str, *,
              published: pd.DataFrame | None = None, decimals: int | dict = 1, code_columns=(),
              namespace: str | None = None, note: str | None = None) -> None:
        """Save (when ``name``) and show a captioned table; the shown version is ``published``.

        Headers and code labels are looked up under ``<namespace>.columns`` / ``<namespace>.codes``
        first (one locale file per section), then the shared ``columns`` / ``codes`` files."""
        if name:
            self.save_table(frame, name, published, decimals)
        self._show_table(frame if published is None else published, caption, decimals, code_columns,
                         namespace, note)

    # -- sections (the three steps of a notebook section) -----------------------------------------
    def show_tables(self, section) -> None:
        """Step 2 of a section: its findings, then each published table with its caption, note and
        the symbol legend; writes ``tables-internal/`` (``section.internal()``) and ``tables/``
        (``section.published()``) when ``output_dir`` is set."""
        from tyokyky_eval.publication import is_symbol

        for name, frame in section.internal().items():
            self._write_csv(frame, "tables-internal", name)
        for paragraph in section.text(self.language):
            self.markdown(paragraph)
        published = section.published()
        for table in section.tables():
            shown = published[table.name]
            self._write_csv(rounded_as_shown(shown, table.decimals), "tables", table.name)
            if shown.empty:
                continue
            columns = list(table.columns or shown.columns)
            note = self.t(table.note, **table.note_values) if table.note else None
            protected = shown.map(lambda v: is_symbol(v, section.rules)).to_numpy().any()
            legend = section.rules.legend(self.language) if protected else None
            shown = shown[columns].copy()
            for column, labels in table.labels.items():
                shown[column] = shown[column].map(lambda v, m=labels: m[v][self.language] if v in m else v)
            self._show_table(shown, self.t(table.caption, **table.caption_values), table.decimals,
                             table.code_columns, table.namespace, " ".join(p for p in (note, legend) if p),
                             {c: h[self.language] for c, h in table.headers.items()})

    def show_figures(self, section) -> None:
        """Step 3 of a section: its figures (drawn from published values) with numbered captions."""
        for caption, fig in section.figures(self.language):
            self.figure(fig, caption)

    def _write_csv(self, frame: pd.DataFrame, folder: str, name: str) -> None:
        """One CSV, its text cells neutralised against spreadsheet formulas; ``tables/`` never
        gets a free-text column."""
        if self.output_dir is None:
            return
        if folder == "tables":
            frame = drop_free_text(frame)
        path = self.output_dir / folder / f"{name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        neutralise_formulas(frame).to_csv(path, index=False, lineterminator="\n")

    def _show_table(self, frame, caption, decimals, code_columns, namespace, note, headers=None) -> None:
        columns = self.typed_columns(drop_free_text(frame), decimals, code_columns, namespace, headers)
        shown = pd.DataFrame({h: [c.text for c in cells] for h, cells in columns}, dtype=object)
        body = shown.to_html(index=False, escape=True, border=0, classes="te-table", na_rep="–")
        note_html = f'<p class="te-note">{html.escape(note)}</p>' if note else ""
        self._record("table", {"caption": caption, "note": note or "", "columns": [h for h, _ in columns],
                               "rows": [[vars(c) for c in row] for row in zip(*(cells for _, cells in columns))]})
        self._html(f'<p class="te-caption" data-kind="table">{html.escape(caption)}</p>{body}{note_html}')

    def _record(self, kind: str, record: dict, image: bytes | None = None) -> None:
        """Leave ``record`` (and the figure's PNG) in ``<output_dir>/.records``, numbered in the order
        shown; nothing without ``output_dir``."""
        if self.output_dir is None:
            return
        folder = self.output_dir / RECORDS
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{len(list(folder.glob('*.json'))) + 1:04d}-{kind}"
        if image is not None:
            (folder / f"{stem}.png").write_bytes(image)
            record = {**record, "image": f"{stem}.png"}
        (folder / f"{stem}.json").write_text(json.dumps({"kind": kind, **record}, ensure_ascii=False),
                                             encoding="utf-8")

    # -- figures ------------------------------------------------------------------------------
    def figure(self, fig, caption: str) -> None:
        """Show a matplotlib figure as an embedded PNG with a numbered caption, then close it;
        nothing when ``fig`` is None (a section with nothing that may be drawn)."""
        import matplotlib.pyplot as plt

        if fig is None:
            return

        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
        if self.output_dir is not None:
            printed = io.BytesIO()
            fig.savefig(printed, format="png", dpi=PRINT_DPI, bbox_inches="tight", metadata={"Software": None})
            self._record("figure", {"caption": caption}, printed.getvalue())
        plt.close(fig)
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        self._html(f'<figure class="te-figure"><img alt="{html.escape(caption)}" '
                   f'src="data:image/png;base64,{data}"/>'
                   f'<p class="te-caption" data-kind="figure">{html.escape(caption)}</p></figure>')

    def _html(self, markup: str) -> None:
        from IPython.display import HTML

        _display(HTML(markup))

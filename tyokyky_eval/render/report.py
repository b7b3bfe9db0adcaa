"""What notebooks call to show results: a section's tables and figures, or a researcher's own.

A notebook creates one ``Report`` after loading the project::

    project = load_project(params_path, language=language, validated=validated_dir)
    report = Report(project, output_dir=output_dir)
    section = load_section("fidelity", project)
    report.show_tables(section)   # findings, then the published tables with captions and notes
    report.show_figures(section)  # figures drawn from published values

Everything shown is a block of :mod:`tyokyky_eval.render.document`, displayed as the HTML of
:func:`tyokyky_eval.render.html.block_html`. In a run (``output_dir`` set) each output also carries
its block's data in its metadata, from which the run writes the page, Word and Excel: the executed
notebook and the appendix show the same objects. A researcher's own table
(:meth:`Report.table`) is written to ``tables-internal/`` and, when ``published`` is given,
``tables/`` in a run.
"""
from __future__ import annotations

from pathlib import Path

# A notebook's setup cell imports this module while a run's kernel waits for the appendix: what
# showing it needs is loaded then, not after the appendix has come.
import matplotlib.pyplot  # noqa: F401  (figures; in a kernel, with its inline backend)
import pandas as pd
from IPython.display import HTML, display

from tyokyky_eval.i18n import t
from tyokyky_eval.inputs.project import Project
from tyokyky_eval.render import cells, document
from tyokyky_eval.render.csv import write_csv
from tyokyky_eval.render.html import block_html


def _display(obj, metadata: dict | None = None) -> None:
    display(obj, metadata=metadata)


class Report:
    def __init__(self, project: Project, output_dir: str | Path | None = None):
        self.project = project
        self.language = project.language
        self.output_dir = Path(output_dir) if output_dir else None

    def t(self, key: str, **values) -> str:
        """Localised text for ``key`` (see ``tyokyky_eval/locales``)."""
        return t(key, self.language, **values)

    def format_frame(self, frame: pd.DataFrame, decimals: int | dict = 1, code_columns=(),
                     namespace: str | None = None, headers: dict | None = None) -> pd.DataFrame:
        """A display copy: numbers and dates in the report's language, codes and headers translated
        (``cells.typed_columns``)."""
        columns = self.typed_columns(frame, decimals, code_columns, namespace, headers)
        return pd.DataFrame({h: pd.Series([c.text for c in cs], index=frame.index, dtype=object)
                             for h, cs in columns}, index=frame.index)

    def typed_columns(self, frame: pd.DataFrame, decimals: int | dict = 1, code_columns=(),
                      namespace: str | None = None, headers: dict | None = None):
        """``(header, cells)`` per column, as shown in the report's language."""
        return cells.typed_columns(frame, self.language, decimals, code_columns, namespace, headers)

    # -- showing blocks ---------------------------------------------------------------------------
    def show(self, blocks) -> None:
        """Display ``blocks``; in a run, each output carries its block for the page, Word and Excel."""
        for block in blocks:
            metadata = {document.BLOCK_KEY: document.to_json(block)} if self.output_dir else None
            _display(HTML(block_html(block)), metadata)

    def show_tables(self, section) -> None:
        """Step 2 of a section: its findings, then each published table with its caption, note and
        the symbol legend (``render.document.section_tables``)."""
        self.show(document.section_blocks(section, self.language)["tables"])

    def show_figures(self, section) -> None:
        """Step 3 of a section: its figures (drawn from published values) with captions."""
        self.show(document.section_blocks(section, self.language)["figures"])

    def table(self, frame: pd.DataFrame, name: str | None, caption: str, *,
              published: pd.DataFrame | None = None, decimals: int | dict = 1, code_columns=(),
              namespace: str | None = None, note: str | None = None) -> None:
        """Show a captioned table of a researcher's own analysis; the shown version is
        ``published``. In a run, ``name`` writes ``tables-internal/<name>.csv`` and, only for a
        ``published`` table, ``tables/<name>.csv`` (rounded as shown): a frame that did not pass
        protection never reaches ``tables/``."""
        if name and self.output_dir:
            write_csv(frame, self.output_dir / "tables-internal", name, published=False)
            if published is not None:
                write_csv(cells.rounded_as_shown(published, decimals), self.output_dir / "tables", name,
                          published=True)
        shown = frame if published is None else published
        self.show([document.table_block(shown, caption, self.language, decimals, code_columns, namespace,
                                        note or "", name=name or "")])

    def figure(self, fig, caption: str) -> None:
        """Show a matplotlib figure with a caption, then close it; nothing when ``fig`` is None."""
        if fig is not None:
            self.show([document.figure_block(fig, caption)])

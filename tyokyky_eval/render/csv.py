"""``tables/`` and ``tables-internal/``: one CSV per table of the protected appendix.

``tables-internal/`` holds every section's tables at full precision, unprotected (for the
evaluator's secure environment); ``tables/`` holds what the appendix publishes, every number
rounded as the page shows it (``cells.rounded_as_shown``), never a free-text column, and every
text cell neutralised against spreadsheet formulas.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from tyokyky_eval.publication import drop_free_text, neutralise_formulas
from tyokyky_eval.render.cells import rounded_as_shown


def write_csv(frame: pd.DataFrame, folder: Path, name: str, published: bool) -> Path:
    """``folder/<name>.csv``; a ``published`` table loses its free-text columns."""
    if published:
        frame = drop_free_text(frame)
    path = folder / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    neutralise_formulas(frame).to_csv(path, index=False, lineterminator="\n")
    return path


def published_table(frame: pd.DataFrame, decimals: int | dict) -> pd.DataFrame:
    """What ``tables/<name>.csv`` holds of a published frame: every number rounded as shown, no
    free-text column, no text that a spreadsheet would run as a formula."""
    return neutralise_formulas(drop_free_text(rounded_as_shown(frame, decimals)))


def published_tables(appendix) -> dict[str, pd.DataFrame]:
    """Every published table of the protected ``appendix``, by name, as ``tables/`` holds it."""
    return {spec.name: published_table(appendix.release[section][spec.name], spec.decimals)
            for section, specs in appendix.specs.items() for spec in specs}


def write_tables(appendix, output: Path, published: dict[str, pd.DataFrame]) -> None:
    """Every table of the protected ``appendix``: ``output/tables-internal/`` and ``output/tables/``
    (``published``: :func:`published_tables` of the appendix)."""
    for section in appendix.sections.values():
        for table, frame in section.internal().items():
            write_csv(frame, output / "tables-internal", table, published=False)
    for name, frame in published.items():
        write_csv(frame, output / "tables", name, published=True)

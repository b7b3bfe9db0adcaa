"""Withheld share of published cells per section and project, built in one process.

    python tools/withheld_cells.py parameters/*.yaml

Counts, over every published table of every section, the cells shown as a protection symbol
(``<5``, ``x``, ``..``) among all cells; prints a Markdown table (the README's before/after table).
"""
from __future__ import annotations

import sys
from pathlib import Path

from tyokyky_eval import sections
from tyokyky_eval.project import load_project
from tyokyky_eval.publication import is_symbol
from tyokyky_eval.protection import protect_appendix


def withheld(params_path: str) -> dict[str, tuple[int, int]]:
    """``{section: (symbols, cells)}`` of one project's published tables."""
    appendix = protect_appendix(load_project(params_path))
    out = {}
    for name, tables in appendix.tables.items():
        symbols = cells = 0
        for frame in tables.values():
            cells += frame.size
            symbols += int(frame.map(lambda v: is_symbol(v, appendix.rules)).to_numpy().sum())
        out[name] = (symbols, cells)
    return out


def main(paths: list[str]) -> None:
    results = {Path(p).stem: withheld(p) for p in paths}
    names = [n for n in sections.REGISTRY if any(n in r for r in results.values())]
    print("| section | " + " | ".join(results) + " |")
    print("|---" * (len(results) + 1) + "|")
    for name in names:
        cells = []
        for result in results.values():
            symbols, total = result.get(name, (0, 0))
            cells.append(f"{100 * symbols / total:.0f} % ({symbols}/{total})" if total else "–")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])

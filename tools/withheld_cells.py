"""Withheld share of published cells per section and project, built in one process.

    python tools/withheld_cells.py parameters/*.yaml

Counts, over every published table of every section, the cells shown as a protection symbol
(``<5``, ``x``, ``..``) among all cells, and a floor: the cells that the primary rule, the
follow-up rule and the statistics derived from them withhold whatever the secondary pattern
(``publication.protect`` on the section's table specs without any line or link). No safe pattern
withholds fewer than the floor. Prints a Markdown table (the README's before/after table).
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from tyokyky_eval import publication, sections
from tyokyky_eval.inputs.project import load_project
from tyokyky_eval.publication.appendix import protect_appendix

#: sections whose table specs hold the full-precision data (the floor can be computed for them)
FLOOR_SECTIONS = ("prepost", "survival", "employment")


def withheld(params_path: str) -> dict[str, tuple[int, int, int | None]]:
    """``{section: (symbols, cells, floor)}`` of one project's published tables."""
    appendix = protect_appendix(load_project(params_path))
    rules = appendix.rules
    out = {}
    for name, tables in appendix.release.items():
        symbols = sum(int(frame.map(lambda v: publication.is_symbol(v, rules)).to_numpy().sum())
                      for frame in tables.values())
        cells = sum(frame.size for frame in tables.values())
        floor = None
        if name in FLOOR_SECTIONS:
            specs = [dataclasses.replace(spec, lines=()) for spec in appendix.specs[name]]
            floor = sum(int(status.ne("").to_numpy().sum()) for status in publication.protect(specs, rules).values())
        out[name] = (symbols, cells, floor)
    return out


def main(paths: list[str]) -> None:
    results = {Path(p).stem: withheld(p) for p in paths}
    names = [n for n in sections.REGISTRY if any(n in r for r in results.values())]
    print("| section | " + " | ".join(results) + " |")
    print("|---" * (len(results) + 1) + "|")
    for name in names:
        cells = []
        for result in results.values():
            symbols, total, floor = result.get(name, (0, 0, None))
            text = f"{100 * symbols / total:.0f} %" if total else "–"
            if total and floor is not None:
                text += f" (floor {100 * floor / total:.0f} %)"
            cells.append(text)
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])

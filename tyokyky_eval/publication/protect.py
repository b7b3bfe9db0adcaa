"""Primary and secondary suppression of a section's tables (:func:`protect`) and the published
frame with its symbols (:func:`published`)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from tyokyky_eval.publication.cells import (
    PRIMARY,
    SECONDARY,
    WITHHELD,
    Line,
    Rules,
    Table,
    cost,
    key_columns,
)


def _small(values: pd.Series, min_cell: int) -> pd.Series:
    numeric = pd.to_numeric(values, errors="coerce")
    return numeric.gt(0) & numeric.lt(min_cell)


def protect(tables: list[Table], rules: Rules, links: tuple[Line, ...] = (),
            public: frozenset = frozenset()) -> dict[str, pd.DataFrame]:
    """Status of every cell of every table (``{name: frame of "" or a status}``), decided jointly:
    ``links`` are lines across tables, their cells ``(table name, row position, column)``;
    ``public`` cells (same form) are published by another section, so hiding them here would
    protect nothing: they are never chosen for secondary suppression."""
    data = {table.name: table.data.reset_index(drop=True) for table in tables}
    out = {name: pd.DataFrame("", index=frame.index, columns=frame.columns, dtype=object)
           for name, frame in data.items()}
    values = {}
    keys = key_columns(tables)
    for table in tables:
        for column in table.counts:
            out[table.name].loc[_small(data[table.name][column], rules.min_cell), column] = PRIMARY
            values[(table.name, column)] = pd.to_numeric(data[table.name][column], errors="coerce").to_numpy(float)
    lines = [Line(tuple((table.name, *c) for c in line.cells),
                  None if line.total is None else (table.name, *line.total))
             for table in tables for line in table.lines] + list(links)
    _secondary(out, values, lines, rules.min_cell, public, keys)
    for table in tables:
        frame, cells = data[table.name], out[table.name]
        withheld_rows: set = set()
        for n_column in table.followup:
            below = pd.to_numeric(frame[n_column], errors="coerce").lt(rules.min_followup).to_numpy()
            withheld_rows |= set(np.flatnonzero(below).tolist())
        withheld_rows = _complementary(withheld_rows, table.followup_lines, frame, table.followup)
        rows = sorted(withheld_rows)
        for stats in table.followup.values():
            for column in stats:
                cells.loc[rows, column] = cells.loc[rows, column].where(cells.loc[rows, column].ne(""), WITHHELD)
        for count, stats in table.derived.items():
            hidden = cells[count].isin([PRIMARY, SECONDARY])
            for column in stats:
                cells.loc[hidden & cells[column].eq(""), column] = WITHHELD
    return out


def _secondary(out: dict[str, pd.DataFrame], values: dict, lines, min_cell: int, public=frozenset(),
               keys=frozenset()) -> None:
    """Secondary suppression in place; cells are ``(table, row, column)``. A line needs another
    hidden cell when it has exactly one, or when the bounds an attacker knows (a primary cell lies
    in 1…min_cell − 1, a secondary one is at least 0) together with the line's total pin a hidden
    cell to one value (e.g. two "<3" cells that must add up to 4)."""
    def state(cell):
        return out[cell[0]].at[cell[1], cell[2]]

    def value(cell):
        return values[(cell[0], cell[2])][cell[1]]

    def pinned(line, hidden) -> bool:
        if len(hidden) == 1:
            return True
        cells = [c for c in line.cells if np.isfinite(value(c))]
        total_hidden = line.total is not None and state(line.total) != ""
        if total_hidden:
            return False
        rest = sum(value(c) for c in cells) - sum(value(c) for c in cells if c not in hidden)
        bounds = [(1.0, min_cell - 1.0) if state(c) == PRIMARY else (0.0, np.inf) for c in hidden]
        for k, (low, high) in enumerate(bounds):
            others_low = sum(b[0] for j, b in enumerate(bounds) if j != k)
            others_high = sum(b[1] for j, b in enumerate(bounds) if j != k)
            if max(low, rest - others_high) >= min(high, rest - others_low):
                return True
        return False

    changed = True
    while changed:
        changed = False
        for line in lines:
            hidden = [c for c in line.cells if state(c) in (PRIMARY, SECONDARY)]
            if not hidden and line.total is not None and state(line.total) in (PRIMARY, SECONDARY):
                hidden = [line.total]  # a hidden total whose parts are all shown is their sum
            if not hidden or not pinned(line, hidden):
                continue
            open_cells = [c for c in line.cells if state(c) == "" and np.isfinite(value(c)) and c not in public]
            positive = [c for c in open_cells if value(c) > 0]
            candidates = positive or open_cells
            if candidates:
                target = min(candidates, key=lambda c: cost(c, value(c), keys))
            elif line.total is not None and state(line.total) == "" and line.total not in public:
                target = line.total
            else:
                continue
            out[target[0]].at[target[1], target[2]] = SECONDARY
            changed = True


def _complementary(withheld: set, groups, data: pd.DataFrame, followup: dict) -> set:
    """Follow-up rule across parts of a whole: a group with exactly one withheld part (with data)
    gets its smallest other part withheld too, repeated until stable."""
    n_column = next(iter(followup), None)
    if n_column is None:
        return withheld
    n = pd.to_numeric(data[n_column], errors="coerce").fillna(0).to_numpy()
    changed = True
    while changed:
        changed = False
        for rows in groups:
            hidden = [r for r in rows if r in withheld and n[r] > 0]
            shown = [r for r in rows if r not in withheld and n[r] > 0]
            if len(hidden) == 1 and shown:
                withheld.add(min(shown, key=lambda r: (n[r], r)))
                changed = True
    return withheld


def published(table: Table, rules: Rules, cell_status: pd.DataFrame) -> pd.DataFrame:
    """The table as published: protected cells replaced by their symbol (object columns)."""
    data = table.data.reset_index(drop=True)
    out = data.copy()
    for column in data.columns:
        hidden = cell_status[column].ne("")
        if hidden.any():
            out[column] = out[column].astype(object)
            out.loc[hidden, column] = cell_status.loc[hidden, column].map(rules.symbol)
    return out



"""The publication layer: what an appendix may release, decided for all tables of a section at once.

Every published number passes through :func:`protect`. A section describes each of its tables as a
:class:`Table` (its full-precision internal frame plus which columns are counts, which statistics
are computed from which count, which follow-up summaries need ``min_followup`` respondents, and
which sets of cells have a published total); :func:`protect` returns the status of every cell:

- **primary** (symbol ``<5`` for ``min_cell`` 5): a count ``0 < n < min_cell``;
- **secondary** (symbol ``x``): a count that is itself large enough but is withheld because a
  published total, margin or other table would otherwise give a suppressed cell back by
  subtraction; in every :class:`Line` (cells with a published total, or the parts of a whole such
  as subgroups of an overall result) with exactly one suppressed cell, or whose hidden cells are
  pinned to one value by the total and the bounds an attacker knows (a "<5" lies in 1…4), the
  smallest other non-zero cell is suppressed, repeated until no line is unsafe (the hypercube
  method's single-line rule with an interval audit, as in Statistics Finland's and ONS's output
  checking);
- **withheld** (symbol ``..``): a statistic computed from a suppressed count (share, incidence,
  mean, SD, quantiles, CI …), or a follow-up summary of fewer than ``min_followup`` respondents
  (Kykyviisari's own rule), or the complementary summary withheld so that "overall minus the
  published subgroups" cannot give a withheld one back;
- a missing value that is simply not estimable stays empty (shown as ``–``).

Zeros are never suppressed (they reveal nothing about a person). The rules follow ACRO's threshold
rule (SACRO project) and the FIONA/Kapseli output-checking practice; what none of the libraries
does is the joint handling of a section's linked tables and the follow-up rule, which is here.
Internal tables (``tables-internal/``) are never suppressed.

The small guards used wherever a value is published (``report.py``, ``runner.py``) live here too:
``escape_markdown``/``escape_html`` and :func:`text` (a data- or parameter-supplied string shows as
the text it is), ``safe_markdown_html`` (Markdown → HTML with raw HTML escaped and links and images
rendered as their text only), ``neutralise_markdown`` (a second line of defence for generated
prose), ``neutralise_formulas`` (no spreadsheet formula in a CSV), ``FREE_TEXT_COLUMNS`` /
``drop_free_text`` (free text typed by staff never published) and ``CONTENT_SECURITY_POLICY``.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tyokyky_eval.i18n import t

PRIMARY, SECONDARY, WITHHELD = "primary", "secondary", "withheld"
#: the smallest ``min_cell`` the package accepts (FIONA's training examples use 3)
MIN_CELL_FLOOR = 3


@dataclass(frozen=True)
class Rules:
    """Disclosure thresholds: counts below ``min_cell`` are suppressed; follow-up summaries need
    ``min_followup`` respondents. ``min_cell`` ≥ 3 and ``min_followup`` ≥ ``min_cell``."""

    min_cell: int = 5
    min_followup: int = 10

    def __post_init__(self):
        for name in ("min_cell", "min_followup"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
                raise ValueError(f"{name} must be a whole number, got {value!r}")
        if self.min_cell < MIN_CELL_FLOOR:
            raise ValueError(f"min_cell must be at least {MIN_CELL_FLOOR}, got {self.min_cell}")
        if self.min_followup < self.min_cell:
            raise ValueError(f"min_followup ({self.min_followup}) must be at least min_cell ({self.min_cell})")

    def symbol(self, status: str) -> str:
        """The symbol a protected cell is published as."""
        return {PRIMARY: f"<{self.min_cell}", SECONDARY: "x", WITHHELD: ".."}[status]

    def legend(self, language: str) -> str:
        """One sentence explaining the three symbols."""
        return t("appendix.legend", language, primary=self.symbol(PRIMARY), secondary=self.symbol(SECONDARY),
                 withheld=self.symbol(WITHHELD), min_cell=self.min_cell, min_followup=self.min_followup)

    def count_text(self, n) -> str:
        """A count for published prose: ``<5`` for 0 < n < min_cell, else the number."""
        return self.symbol(PRIMARY) if 0 < n < self.min_cell else str(int(n))


Cell = tuple  # (row position, column name) in a table's own lines; (table, row, column) in links


@dataclass(frozen=True)
class Line:
    """Cells whose total is published (``total`` is a cell of the table, or None when the total is
    published elsewhere, e.g. the number of clients): one suppressed cell in a line would be
    recovered by subtraction. ``kind`` ``count`` lines hold counts; ``followup`` lines hold the row
    positions of subgroup summaries whose weighted combination is the published overall summary."""

    cells: tuple[Cell, ...]
    total: Cell | None = None


@dataclass
class Table:
    """One table of a section, with what the publication layer needs to know about it.

    ``counts``: count columns (primary suppression below ``min_cell``). ``derived``: count column →
    the statistics computed from it, withheld with it. ``followup``: n column → the statistics that
    need ``min_followup`` respondents (withheld below). ``lines``: cells with a published total.
    ``followup_lines``: groups of row positions that are parts of a published whole (subgroups of
    an overall summary): when one is withheld by the follow-up rule, a second one is too.
    ``caption``/``note``: locale keys; ``columns``: the columns shown in the appendix (default all);
    ``decimals``, ``code_columns``, ``namespace``: display (see :class:`tyokyky_eval.report.Report`);
    ``labels`` and ``headers``: display texts per language that come from an instrument or survey
    spec rather than the locale files (item names, section titles)."""

    name: str
    data: pd.DataFrame
    caption: str
    counts: tuple[str, ...] = ()
    derived: dict[str, tuple[str, ...]] = field(default_factory=dict)
    followup: dict[str, tuple[str, ...]] = field(default_factory=dict)
    lines: tuple[Line, ...] = ()
    followup_lines: tuple[tuple[int, ...], ...] = ()
    note: str | None = None
    note_values: dict = field(default_factory=dict)
    caption_values: dict = field(default_factory=dict)
    columns: tuple[str, ...] | None = None
    decimals: int | dict = 1
    code_columns: tuple[str, ...] = ()
    namespace: str | None = None
    labels: dict[str, dict] = field(default_factory=dict)  # column → {code: {fi: …, en: …}} (e.g. item names)
    headers: dict[str, dict] = field(default_factory=dict)  # column → {fi: …, en: …} (e.g. section titles)
    key: tuple[str, ...] = ()  # count columns that carry a row of results: hidden last (:func:`cost`)


def cost(cell, value: float, key_columns=frozenset()) -> tuple:
    """What hiding the count ``cell`` (``(table, row, column)``, holding ``value``) loses, for
    ordering candidates of secondary suppression (smallest first): any count that is not a key
    count (a margin, a non-completer or "not due" count, a category of a breakdown) before any key
    count (``Table.key``: pairs measured, a service's clients, employed clients, respondents,
    whose hiding withholds a row of results), then by size, then by position. This is the
    cost-driven choice of τ-ARGUS's modular method and sdcTable, with a lexicographic cost."""
    return ((cell[0], cell[2]) in key_columns, value, cell)


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


def key_columns(tables) -> frozenset:
    """``(table, column)`` of every key count of ``tables`` (see :func:`cost`)."""
    return frozenset((table.name, column) for table in tables for column in table.key)


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


class Attack:
    """The attacker's integer programme over fixed ``relations`` (each ``(terms, low, high)``,
    terms ``(coefficient, (table, row, column))``: ``low ≤ Σ coefficient × cell ≤ high``): a cell
    whose state is empty is fixed at ``known(cell)``; a ``<5`` (primary) lies in
    1…min_cell − 1; an ``x`` (secondary) or ``..`` (withheld) count is any whole number ≥ 0.
    Each interval is solved with HiGHS (scipy's ``milp``) over the hidden cells connected to the
    cell only. States are passed as a dict ``{cell: status}`` so that trials are cheap."""

    def __init__(self, relations, known, min_cell: int):
        self.min_cell = min_cell
        rows = [([(float(k), tuple(c)) for k, c in terms], float(low), float(high)) for terms, low, high in relations]
        self.cells = sorted({c for terms, _, _ in rows for _, c in terms})
        index = {c: i for i, c in enumerate(self.cells)}
        self.index = index
        self.matrix = np.zeros((len(rows), len(self.cells)))
        for r, (terms, _, _) in enumerate(rows):
            for k, c in terms:
                self.matrix[r, index[c]] += k
        self.low = np.array([low for _, low, _ in rows])
        self.high = np.array([high for _, _, high in rows])
        self.known = np.array([known(c) for c in self.cells], dtype=float)
        self.neighbours = {c: set() for c in self.cells}
        for terms, _, _ in rows:
            members = {c for _, c in terms}
            for c in members:
                self.neighbours[c] |= members - {c}
        self.equal = self._equal_classes(rows)

    def _equal_classes(self, rows) -> dict:
        """Cells that relations say are the same count (``a − b = 0``): ``{cell: class}``."""
        parent = {c: c for c in self.cells}

        def root(c):
            while parent[c] != c:
                parent[c] = parent[parent[c]]
                c = parent[c]
            return c

        for terms, low, high in rows:
            if len(terms) == 2 and low == high == 0 and terms[0][0] == -terms[1][0]:
                parent[root(terms[0][1])] = root(terms[1][1])
        classes: dict = {}
        for c in self.cells:
            classes.setdefault(root(c), []).append(c)
        return {c: tuple(classes[root(c)]) for c in self.cells}

    def intervals(self, state: dict, of=(PRIMARY, SECONDARY), only=None, first_determined: bool = False) -> dict:
        """``{cell: (low, high)}`` of every cell whose state is in ``of`` (or of the cells in
        ``only``); ``high`` = inf when unbounded; with ``first_determined`` it stops at the first
        cell pinned to one value."""
        from scipy.optimize import Bounds, LinearConstraint, milp

        hidden = np.array([state.get(c, "") in (PRIMARY, SECONDARY, WITHHELD) for c in self.cells])
        shown_values = np.where(hidden, 0.0, self.known)
        constant = self.matrix @ np.nan_to_num(shown_values)
        out, done = {}, set()
        targets = [c for c in self.cells if state.get(c, "") in of and (only is None or c in only)]
        for cell in targets:
            component = self._component(cell, hidden)
            columns = np.array([self.index[c] for c in component])
            rows = np.flatnonzero(np.abs(self.matrix[:, columns]).sum(axis=1) > 0)
            sub = self.matrix[np.ix_(rows, columns)]
            primary = [state.get(c) == PRIMARY for c in component]
            bounds = Bounds([1.0 if p else 0.0 for p in primary],
                            [self.min_cell - 1.0 if p else np.inf for p in primary])
            constraints = ([LinearConstraint(sub, self.low[rows] - constant[rows], self.high[rows] - constant[rows])]
                           if len(rows) else [])
            objective = np.zeros(len(component))
            objective[component.index(cell)] = 1.0
            ends = []
            for sign in (1.0, -1.0):
                result = milp(sign * objective, constraints=constraints, bounds=bounds,
                              integrality=np.ones(len(component)))
                ends.append(sign * result.fun if result.success else (np.inf if sign < 0 else np.nan))
            out[cell] = (ends[0], ends[1])
            done.add(cell)
            if first_determined and np.isfinite(ends[1]) and ends[1] - ends[0] < 0.5:
                break
        return out

    def _component(self, cell, hidden) -> list:
        """The hidden cells connected to ``cell`` through relations with hidden cells."""
        is_hidden = dict(zip(self.cells, hidden))
        seen, frontier = {cell}, [cell]
        while frontier:
            nxt = []
            for c in frontier:
                for d in self.neighbours[c]:
                    if d not in seen and is_hidden[d]:
                        seen.add(d)
                        nxt.append(d)
            frontier = nxt
        return sorted(seen)

    def determined(self, state: dict, **options) -> list:
        return determined(self.intervals(state, **options))


def intervals(relations, state, known, min_cell: int, of=(PRIMARY, SECONDARY)) -> dict:
    """The feasible interval of every cell whose ``state(cell)`` is in ``of`` (see :class:`Attack`)."""
    attack = Attack(relations, known, min_cell)
    return attack.intervals({c: state(c) for c in attack.cells}, of=of)


def determined(found: dict) -> list:
    """The cells of an interval dict pinned to a single value."""
    return sorted(cell for cell, (low, high) in found.items() if np.isfinite(high) and high - low < 0.5)


def audit(frames: dict[str, pd.DataFrame], status: dict[str, pd.DataFrame], relations, rules: Rules,
          public: frozenset = frozenset(), keys: frozenset = frozenset()) -> None:
    """Integer-programming audit, in place, of what the published counts, the ``relations`` and
    the symbols (:class:`Attack`) give an attacker. While some ``<5`` count can be worked out
    exactly, it is shown as ``x`` (no range: two ``<3`` cells summing to 4 are both 2, which the
    single-line rule of :func:`protect` does not see); while it is still worked out, another count
    connected to it is hidden with every cell a relation says is the same count (:func:`_partners`,
    cheapest first, checked to help). Then every ``x`` that can be worked out anyway is shown:
    hiding it protects nothing, and a secondary count is not itself sensitive. ``public`` cells
    (published by another section) are never hidden."""
    attack = Attack(relations, lambda c: float(frames[c[0]].at[c[1], c[2]]), rules.min_cell)
    state = {c: status[c[0]].at[c[1], c[2]] for c in attack.cells}
    small = {c for c, s in state.items() if s == PRIMARY}  # the "<5" cells, also once shown as "x"
    while True:
        pinned = attack.determined(state, only=small, first_determined=True)
        if not pinned:
            break
        cell = pinned[0]
        if state[cell] == PRIMARY:  # its range gave it away: show it as "x"
            state[cell] = SECONDARY
            continue
        partners = _partners(cell, attack, state, public, keys)
        if partners is None:
            break
        for c in (d for partner in partners for d in attack.equal[partner]):
            if state[c] in ("", PRIMARY):
                small |= {c} if state[c] == PRIMARY else set()
                state[c] = SECONDARY
    for cell in attack.determined(state, of=(SECONDARY,)):
        if cell not in small:
            state[cell] = ""
    for (table, row, column), value in state.items():
        status[table].at[row, column] = value


def _partners(cell, attack: Attack, state: dict, public=frozenset(), keys=frozenset()):
    """What to hide with ``cell`` (hidden, worked out): the shown counts connected to it through
    the relations, nearest first, are tried cheapest first (:func:`cost`: any other count before a
    key count, a non-zero one before a zero, then the smaller one), each with every cell that a
    relation says is the same count; the first that leaves ``cell`` with more than one value is
    taken. When no single one does, they are added cheapest first until ``cell`` has more than
    one value, and those not needed are dropped again. When even all together do not, the cheapest
    is taken and the audit goes on. None when nothing connected can be hidden."""
    def usable(c) -> bool:
        same = attack.equal[c]
        if state[c] == PRIMARY:  # shown as "x" from now on: costs nothing, both are hidden
            return True
        return (state[c] == "" and np.isfinite(attack.known[attack.index[c]])
                and not any(d in public for d in same))

    def value(c) -> float:
        return attack.known[attack.index[c]]

    seen, frontier, candidates, classes = {cell}, [cell], [], set()
    while frontier and len(candidates) < 400:
        near = {d for c in frontier for d in attack.neighbours[c]} - seen
        level = []
        for c in sorted(near):
            if usable(c) and attack.equal[c] not in classes:
                classes.add(attack.equal[c])
                level.append(c)
        candidates += sorted(level, key=lambda c: (state[c] != PRIMARY,
                                                   any((d[0], d[2]) in keys for d in attack.equal[c]),
                                                   value(c) == 0, value(c), c))
        seen |= near
        frontier = list(near)
    candidates.sort(key=lambda c: (state[c] != PRIMARY,  # stable: "<5" first, key counts last
                                   any((d[0], d[2]) in keys for d in attack.equal[c])))

    def hidden_with(chosen) -> dict:
        trial = dict(state)
        for candidate in chosen:
            for c in attack.equal[candidate]:
                if trial[c] in ("", PRIMARY):
                    trial[c] = SECONDARY
        return trial

    for candidate in candidates[:400]:  # one is enough
        if not attack.determined(hidden_with([candidate]), only={cell}):
            return [candidate]
    chosen = []  # several together: add cheapest first until it helps, then drop what is not needed
    for candidate in candidates[:400]:
        chosen.append(candidate)
        if not attack.determined(hidden_with(chosen), only={cell}):
            for extra in reversed(chosen[:-1]):
                rest = [c for c in chosen if c != extra]
                if not attack.determined(hidden_with(rest), only={cell}):
                    chosen = rest
            return chosen
    return candidates[:1] or None


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


def is_symbol(value, rules: Rules) -> bool:
    """True for a published protection symbol."""
    return isinstance(value, str) and value in {rules.symbol(s) for s in (PRIMARY, SECONDARY, WITHHELD)}


def column_lines(frame: pd.DataFrame, columns, total_row: int | None = None) -> tuple[Line, ...]:
    """One line per column: its body cells sum to the column total (the row ``total_row`` of the
    table, or a total published elsewhere when None)."""
    body = [i for i in range(len(frame)) if i != total_row]
    return tuple(Line(tuple((i, c) for i in body), None if total_row is None else (total_row, c))
                 for c in columns)


def row_lines(frame: pd.DataFrame, columns, total_column: str | None = None) -> tuple[Line, ...]:
    """One line per row: its cells in ``columns`` sum to the row total (``total_column`` of the
    table, or a total published elsewhere when None)."""
    return tuple(Line(tuple((i, c) for c in columns), None if total_column is None else (i, total_column))
                 for i in range(len(frame)))


def partition_lines(frame: pd.DataFrame, part_column: str, whole: str, within=(), counts=()) -> tuple[Line, ...]:
    """Lines for tables with a whole and its parts as rows (``part_column`` = ``whole`` for the
    whole, e.g. group ``all`` and the groups): for each combination of ``within`` columns and each
    count column, the parts sum to the whole."""
    lines = []
    index = pd.Series(range(len(frame)))
    grouped = index.groupby([frame[c].to_numpy() for c in within]) if within else [((), index)]
    for _, positions in grouped:
        rows = list(positions)
        whole_rows = [r for r in rows if frame[part_column].iloc[r] == whole]
        parts = [r for r in rows if frame[part_column].iloc[r] != whole]
        for column in counts:
            lines.append(Line(tuple((r, column) for r in parts),
                              (whole_rows[0], column) if whole_rows else None))
    return tuple(lines)


def collapse_small_groups(codes: pd.Series, min_cell: int, other: str = "other_groups",
                          events: pd.Series | None = None) -> pd.Series:
    """Group codes recoded so that every group has at least ``min_cell`` members (and, with
    ``events`` (a boolean per member), 0 or at least ``min_cell`` events): groups below it are
    combined into ``other``; while that combination is itself too small, the smallest remaining
    group joins it (so "all minus the groups shown" never isolates a small group). Missing codes
    stay missing."""
    codes = codes.astype("string")
    flags = pd.Series(False, index=codes.index) if events is None else events.astype(bool)

    def too_small(code) -> bool:
        members = codes.eq(code).fillna(False)
        k = int(flags[members].sum())
        return members.sum() < min_cell or 0 < k < min_cell

    while True:
        present = sorted(codes.dropna().unique())
        small = [c for c in present if too_small(c) and c != other]
        if other in present and too_small(other):
            rest = [c for c in present if c != other and c not in small]
            if rest:
                small.append(min(rest, key=lambda c: (int(codes.eq(c).sum()), c)))
        if not small:
            return codes
        codes = codes.where(~codes.isin(small), other)


# -- guards for everything published -------------------------------------------------------------
#: Columns of free text typed by staff: kept in ``tables-internal/`` only, never published.
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
    """Markdown → HTML for the appendix. Raw HTML in the text is escaped (shown as text), and links,
    autolinks and images are rendered as their text only: no ``href`` or ``src`` reaches the page."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    class Renderer(IPythonRenderer):
        def link(self, text, url, title=None):  # noqa: ARG002 — the address is dropped on purpose
            return text

        def image(self, text, url, title=None):  # noqa: ARG002
            return escape_html(text)

        def block_html(self, html_text):
            return f"<p>{escape_html(html_text)}</p>\n"

        def inline_html(self, html_text):
            return escape_html(html_text)

    return MarkdownWithMath(renderer=Renderer(escape=True, allow_harmful_protocols=False)).render(text)


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

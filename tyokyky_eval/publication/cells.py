"""Cell statuses and their symbols (:class:`Rules`), a section's tables as the publication layer
sees them (:class:`Table`, :class:`Line`), the cost of hiding a count, and the
lines (totals, margins, parts of a whole) that tie cells together."""
from __future__ import annotations

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
    ``decimals``, ``code_columns``, ``namespace``: display (see :class:`tyokyky_eval.render.report.Report`);
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
    anchors: tuple[str, ...] = ()  # columns whose value names a section of the appendix: shown as a link to it


def cost(cell, value: float, key_columns=frozenset()) -> tuple:
    """What hiding the count ``cell`` (``(table, row, column)``, holding ``value``) loses, for
    ordering candidates of secondary suppression (smallest first): any count that is not a key
    count (a margin, a non-completer or "not due" count, a category of a breakdown) before any key
    count (``Table.key``: pairs measured, a service's clients, employed clients, respondents,
    whose hiding withholds a row of results), then by size, then by position. This is the
    cost-driven choice of τ-ARGUS's modular method and sdcTable, with a lexicographic cost."""
    return ((cell[0], cell[2]) in key_columns, value, cell)


def key_columns(tables) -> frozenset:
    """``(table, column)`` of every key count of ``tables`` (see :func:`cost`)."""
    return frozenset((table.name, column) for table in tables for column in table.key)


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

"""The attacker: what the published cells and the relations between them give away about every hidden
count (:class:`Attack`, a MILP per connected component), and the audit that hides until nothing
can be worked out (:func:`audit`)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from tyokyky_eval.publication.cells import PRIMARY, SECONDARY, WITHHELD, Rules


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



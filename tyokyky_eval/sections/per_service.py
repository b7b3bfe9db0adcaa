"""Sections computed per service: one cohort object per service to which the section's analysis
(its registry entry's ``analysis``) applies (:mod:`tyokyky_eval.inputs.services`), their tables
stacked with a ``service`` column first and protected together, their texts under a heading per
service. A project whose services all lack the analysis has no such section in its appendix (the
runner's sentence for a section left out); built on its own, the section says so in one sentence
and has no tables (never a misleading pooled result)."""
from __future__ import annotations

import pandas as pd

from tyokyky_eval import publication
from tyokyky_eval.inputs import services
from tyokyky_eval.sections import REGISTRY, Section


class PerServiceSection(Section):
    """Subclasses set ``name`` (registered with its ``analysis``), ``cohort`` (a class built as
    ``cohort(project, rules, service, published)`` offering ``tables()``, ``links()``,
    ``internal()``, ``text(language)``, ``figures(language)``) and ``none_key`` (the locale key of
    the sentence when no service has the analysis)."""

    cohort: type = object
    none_key: str = ""

    def __init__(self, project):
        super().__init__(project)
        self.services = services.for_analysis(project, REGISTRY[self.name].analysis)
        self._cache = None
        self.cohorts = {s.code: self.cohort(project, self.rules, s, self._part) for s in self.services}

    def _parts(self) -> dict[str, list[publication.Table]]:
        return {code: cohort.tables() for code, cohort in self.cohorts.items()}

    def tables(self) -> list[publication.Table]:
        return services.stack(self._parts(), services.labels(self.services))

    def _mover(self):
        where = services.offsets(self._parts())

        def moved(code, cell):
            return None if cell is None else (cell[0], cell[1] + where[(code, cell[0])], cell[2])

        return moved

    def links(self) -> tuple[publication.Line, ...]:
        """Each cohort's lines, moved to its rows of the stacked tables."""
        moved = self._mover()
        return tuple(publication.Line(tuple(moved(code, c) for c in line.cells), moved(code, line.total))
                     for code, cohort in self.cohorts.items() for line in cohort.links())

    def audit_lines(self) -> tuple[publication.Line, ...]:
        """Each cohort's true relations as lines (``audit_lines`` where it has them, else its
        links), moved to its rows of the stacked tables."""
        moved = self._mover()
        return tuple(publication.Line(tuple(moved(code, c) for c in line.cells), moved(code, line.total))
                     for code, cohort in self.cohorts.items()
                     for line in getattr(cohort, "audit_lines", cohort.links)())

    def audit_relations(self) -> list:
        """Each cohort's further audit relations, moved to its rows of the stacked tables."""
        moved = self._mover()
        return [([(k, moved(code, c)) for k, c in terms], low, high)
                for code, cohort in self.cohorts.items()
                for terms, low, high in getattr(cohort, "audit_relations", list)()]

    def internal(self) -> dict[str, pd.DataFrame]:
        frames: dict[str, list[pd.DataFrame]] = {}
        for code, cohort in self.cohorts.items():
            for name, frame in cohort.internal().items():
                frames.setdefault(name, []).append(frame.reset_index(drop=True).assign(service=code))
        return {name: pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
                .pipe(lambda f: f[["service"] + [c for c in f.columns if c != "service"]])
                for name, parts in frames.items()}

    def protected(self) -> dict[str, pd.DataFrame]:
        if self._cache is None:
            self._cache = super().protected()
        return self._cache

    def _part(self, code: str) -> dict[str, pd.DataFrame]:
        """The rows of service ``code`` in the published tables, without the ``service`` column."""
        return {name: frame[frame["service"].eq(code)].drop(columns="service").reset_index(drop=True)
                for name, frame in self.published().items()}

    def text(self, language: str) -> list[str]:
        if not self.cohorts:
            return [publication.text(self.none_key, language)]
        return [paragraph for cohort in self.cohorts.values() for paragraph in cohort.text(language)]

    def figures(self, language: str) -> list[tuple[str, object]]:
        return [figure for cohort in self.cohorts.values() for figure in cohort.figures(language)]


def heading(service, language: str) -> str:
    """The Markdown heading of a service's part of a section: its label and kind."""
    from tyokyky_eval.i18n import t

    return publication.text("overview.service_heading", language, service=service.name(language),
                            kind=t(f"codes.service_kind.{service.kind}", language))


def captioned(service, figures, language: str) -> list[tuple[str, object]]:
    """``figures`` with the service's label in front of each caption."""
    name = service.name(language)
    return [(f"{name}: {caption}", fig) for caption, fig in figures]

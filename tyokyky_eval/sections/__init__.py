"""Appendix sections: one class per section, the same small interface for all, and their registry.

A section is built from a loaded project (``Section(project)`` runs the pure statistics functions
of its analysis module) and offers:

- ``internal()``: its tables at full precision, language-free (``tables-internal/``);
- ``tables()``: the same tables as :class:`tyokyky_eval.publication.Table` with what the
  publication layer needs (counts, derived statistics, follow-up rule, linked cells);
- ``protected()``: its tables protected on their own, the first step of the appendix's protection;
- ``published()``: what the whole appendix releases of it (``tables/``, prose, figures), read from
  the protected appendix (:mod:`tyokyky_eval.publication.appendix`, whose ``load_section`` gives a
  project's section) whenever the section is part of one;
- ``text(language)``: its findings as Markdown paragraphs (data-supplied words escaped);
- ``figures(language)``: ``(caption, Figure)`` pairs drawn from published values only.

``REGISTRY`` lists the sections in appendix order; parameters validation (``analyses.<name>``),
the runner (which notebook needs which tables), the notebooks and the benchmarks use it.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass

import pandas as pd

from tyokyky_eval import publication
from tyokyky_eval.inputs import services


@dataclass(frozen=True)
class Entry:
    """A registered section: ``name`` (also the ``analyses`` key, when ``options`` is set),
    ``module`` (holding the section class ``Section`` there), the tables it ``requires``, the
    parameters block it is ``declared`` in (the section has nothing to show when that is empty) and
    the ``analysis`` of the services it is computed for (:data:`tyokyky_eval.inputs.services.ANALYSES`:
    the section has nothing to show when no service of the project has it)."""

    name: str
    module: str
    requires: tuple[str, ...]
    options: str | None = None  # module whose ``Options`` dataclass holds ``analyses.<name>``
    declared: str | None = None  # a ``Params`` attribute (goals, costs) the section needs
    analysis: str | None = None  # the services' analysis (prepost, survival, employment) it reports

    def load(self):
        return importlib.import_module(self.module).SECTION

    def missing(self, project) -> list[str]:
        """What the section needs that ``project`` lacks: the tables it requires, the parameters
        block it is declared in (``goals``, ``costs``) when the project leaves it empty, and a
        service with its analysis (``services_<analysis>``) when no service has it. The section is
        left out of the appendix, with one sentence naming these, when this is not empty."""
        tables = [name for name in self.requires if project.table(name) is None]
        block = [self.declared] if self.declared and not getattr(project.params, self.declared) else []
        service = ([f"services_{self.analysis}"] if self.analysis and not tables
                   and not services.for_analysis(project, self.analysis) else [])
        return tables + block + service


REGISTRY: dict[str, Entry] = {e.name: e for e in (
    Entry("overview", "tyokyky_eval.sections.overview", ()),
    Entry("goals", "tyokyky_eval.sections.goals", (), declared="goals"),
    Entry("fidelity", "tyokyky_eval.sections.fidelity", ("fidelity",), "tyokyky_eval.stats.fidelity"),
    Entry("prepost", "tyokyky_eval.sections.prepost", ("clients", "kykyviisari"), "tyokyky_eval.stats.prepost",
          analysis="prepost"),
    Entry("survival", "tyokyky_eval.sections.survival", ("clients",), "tyokyky_eval.stats.survival",
          analysis="survival"),
    Entry("employment", "tyokyky_eval.sections.employment", ("clients", "employment"),
          "tyokyky_eval.stats.employment", analysis="employment"),
    Entry("feedback", "tyokyky_eval.sections.feedback", ("feedback",), "tyokyky_eval.stats.feedback"),
    Entry("pathways", "tyokyky_eval.sections.pathways", ("clients",), "tyokyky_eval.stats.pathways"),
    Entry("activities", "tyokyky_eval.sections.activities", ("activities",)),
    Entry("costs", "tyokyky_eval.sections.costs", (), declared="costs"),
)}


class Section:
    """Base class: subclasses set ``name`` and implement ``tables``, ``text`` and ``figures``."""

    name: str = ""

    def __init__(self, project):
        self.project = project
        disclosure = project.params.disclosure
        self.rules = publication.Rules(disclosure.min_cell, disclosure.min_followup)

    def tables(self) -> list[publication.Table]:
        raise NotImplementedError

    def links(self) -> tuple[publication.Line, ...]:
        """Lines across this section's tables (cells ``(table, row, column)``); none by default."""
        return ()

    def audit_lines(self) -> tuple[publication.Line, ...]:
        """Lines across this section's tables that are true relations (what an attacker knows), for
        the appendix's audit: :meth:`links` by default."""
        return self.links()

    def audit_relations(self) -> list:
        """Further relations for the appendix's audit, ``(terms, low, high)`` with terms
        ``(coefficient, (table, row, column))``: none by default."""
        return []

    def internal(self) -> dict[str, pd.DataFrame]:
        return {table.name: table.data for table in self.tables()}

    def published(self) -> dict[str, pd.DataFrame]:
        """What the appendix publishes of this section: the protected appendix's release when the
        section is part of one (:mod:`tyokyky_eval.publication.appendix`), else :meth:`protected`."""
        release = self.project.release.get(self.name)
        return release if release is not None else self.protected()

    def protected(self) -> dict[str, pd.DataFrame]:
        """This section's tables protected on their own (the first step of the appendix's protection)."""
        tables = self.tables()
        statuses = publication.protect(tables, self.rules, self.links())
        return {table.name: publication.published(table, self.rules, statuses[table.name]) for table in tables}

    def text(self, language: str) -> list[str]:
        raise NotImplementedError

    def figures(self, language: str) -> list[tuple[str, object]]:
        raise NotImplementedError

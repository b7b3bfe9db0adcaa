"""Section "Goals against achievements": the goals of the parameters (:mod:`tyokyky_eval.stats.goals`)
as the appendix's goal-attainment table.

What is published, and why:

- **Computed goals** show their target, the indicator's value and the status worked out from them,
  and the section that shows the figure. The value is a count of clients, events or participants:
  below ``min_cell`` it is suppressed like any count, and the status (which would bound it against
  the target) is withheld with it.
- **Assessed goals** show the evaluator's status, justification and source. Titles,
  justifications and sources are the evaluator's prose from the parameters: they are shown as
  table cells (HTML-escaped, never interpreted as Markdown or HTML) in the project's language.
"""
from __future__ import annotations

from tyokyky_eval import publication
from tyokyky_eval.i18n import t
from tyokyky_eval.sections import Section
from tyokyky_eval.stats import goals as gl

GOALS = "goals"
SHOWN = ("goal", "assessment", "target", "achieved", "unit", "status", "section", "justification", "source")


class GoalsSection(Section):
    """The project's goals against what was achieved."""

    name = "goals"

    def __init__(self, project):
        super().__init__(project)
        self.goals = project.params.goals
        self.frame = gl.evaluate(self.goals, project.tables)

    def tables(self) -> list[publication.Table]:
        language = self.project.language
        frame = self.frame.assign(
            goal=[g.title[language] for g in self.goals],
            justification=[g.justification.get(language, "") for g in self.goals],
            status=self.frame["status"].fillna("not_assessable"))
        return [publication.Table(GOALS, frame, "goals.caption", counts=("achieved",),
                                  derived={"achieved": ("status",)}, columns=SHOWN,
                                  code_columns=("assessment", "unit", "status", "section"), namespace="goals",
                                  decimals={"target": 0, "achieved": 0}, anchors=("section",))]

    def text(self, language: str) -> list[str]:
        if not self.goals:
            return [t("goals.no_goals", language)]
        status = self.published()[GOALS]["status"]
        n = {s: int(status.eq(s).sum()) for s in gl.STATUSES}
        out = [t("goals.summary", language, n_goals=len(self.goals), withheld=len(status) - sum(n.values()), **n)]
        if (self.frame["assessment"] == "computed").any():
            out.append(t("goals.computed_note", language, min_cell=self.rules.min_cell))
        return out

    def figures(self, language: str) -> list[tuple[str, object]]:
        return []


SECTION = GoalsSection

"""Section "Costs": the descriptive cost statistics of :mod:`tyokyky_eval.stats.costs`, published safely.

What is published, and why:

- **Budget lines, funding sources and spending** are the project's own figures (amounts of money,
  no people), shown as they are.
- **Cost per client, per client who completed and per employed client**, per service and for all
  clients. The numbers of clients are counts of people: below ``min_cell`` they are suppressed,
  with a second one where the services would give one back from all clients. A cost per client
  is the cost divided by the count, so the cost and the cost per client together give the count
  back (cost ÷ cost per client = count): every cost per … is withheld with its count. With no
  employed client the cost per employed client is not computed, and the text says so.
- The costs are described, not evaluated: the caveat an evaluator would write (or the evaluator's
  own, from the parameters, escaped) stands under the tables.
"""
from __future__ import annotations

import pandas as pd

from tyokyky_eval import publication
from tyokyky_eval.i18n import code_label, fmt_number, fmt_percent, t
from tyokyky_eval.inputs import services
from tyokyky_eval.sections import Section
from tyokyky_eval.stats import costs as co

BUDGET, FUNDING, SPENDING, PER_CLIENT = "costs_budget", "costs_funding", "costs_spending", "costs_per_client"
PER = {"n_clients": ("cost_per_client",), "n_completed": ("cost_per_completed",),
       "n_employed": ("cost_per_employed",)}


class CostsSection(Section):
    """Budget, funding, spending and costs per client (descriptive)."""

    name = "costs"

    def __init__(self, project):
        super().__init__(project)
        self.costs = project.params.costs
        clients = project.table("clients")
        self.per_client = None if clients is None or self.costs is None else co.per_client(self.costs, clients)

    def tables(self) -> list[publication.Table]:
        if self.costs is None:
            return []
        common = {"namespace": "costs", "decimals": {"amount": 0, "cost": 0, "share": 1, "cost_per_client": 0,
                                                      "cost_per_completed": 0, "cost_per_employed": 0},
                  "labels": {"service": services.labels(services.of_project(self.project).values())}}
        values = {"currency": self.costs.currency}
        out = []
        if self.costs.budget:
            out.append(publication.Table(BUDGET, co.budget_table(self.costs), "costs.caption_budget",
                                         code_columns=("line",), caption_values=values, **common))
        if self.costs.funding:
            out.append(publication.Table(FUNDING, co.funding_table(self.costs), "costs.caption_funding",
                                         code_columns=("source",), caption_values=values, **common))
        if self.costs.spending:
            out.append(publication.Table(SPENDING, co.spending_table(self.costs), "costs.caption_spending",
                                         code_columns=("service",), caption_values=values, **common))
        if self.per_client is not None:
            frame = self.per_client
            out.append(publication.Table(
                PER_CLIENT, frame, "costs.caption_per_client", counts=tuple(PER), derived=PER,
                lines=publication.partition_lines(frame, "service", "all", counts=tuple(PER)),
                code_columns=("service",), caption_values=values, **common))
        return out

    def text(self, language: str) -> list[str]:
        if self.costs is None:
            return [t("costs.no_costs", language)]
        costs = self.costs
        out = []
        if costs.budget:
            out.append(t("costs.budget_sentence", language, total=fmt_number(costs.total, language, 0),
                         currency=costs.currency, n_lines=len(costs.budget)))
        if costs.funding:
            shares = ", ".join(f"{publication.escape_markdown(self._label('source', s, language))} "
                               f"{fmt_percent(v, language)}" for s, v in costs.funding.items())
            out.append(t("costs.funding_sentence", language, shares=shares))
        if costs.synthetic:
            out.append(t("costs.synthetic", language))
        if costs.total == 0:
            out.append(t("costs.zero_cost", language))
        if self.per_client is None:
            out.append(t("costs.no_clients", language))
        elif self.per_client["n_employed"].iloc[-1] == 0:
            out.append(t("costs.nobody_employed", language))
        caveat = (publication.escape_markdown(costs.caveat[language]) if costs.caveat
                  else t("costs.caveat", language))
        return out + [caveat]

    def _label(self, column: str, code: str, language: str) -> str:
        return code_label(column, code, language, "costs")

    def figures(self, language: str) -> list[tuple[str, object]]:
        if self.costs is None or not self.costs.budget:
            return []
        return [(t("costs.caption_budget_figure", language, currency=self.costs.currency),
                 self.figure_budget(co.budget_table(self.costs), language))]

    def figure_budget(self, table: pd.DataFrame, language: str, ax=None):
        """The budget lines as horizontal bars (amounts of money: nothing to protect)."""
        import matplotlib.pyplot as plt

        lines = table[table["line"].ne("total")]
        fig, ax = plt.subplots(figsize=(7, 0.6 + 0.45 * len(lines))) if ax is None else (ax.figure, ax)
        ax.barh([self._label("line", c, language) for c in lines["line"]], lines["amount"], color="steelblue")
        ax.invert_yaxis()
        ax.set_xlabel(self.costs.currency)
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        return fig


SECTION = CostsSection

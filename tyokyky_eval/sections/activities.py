"""Section "Activities and process": the statistics of :mod:`tyokyky_eval.stats.activities`, published
safely.

What is published, and why:

- **Counts per kind and period, and per kind and organisation**, each with a ``total`` row per
  kind (the two tables' totals are one line, so neither gives a hidden total back). Participants
  and distinct clients are counts of people: below ``min_cell`` they are suppressed, and a second
  cell where a total would give one back. The number of events is a count of people only for kinds
  recorded with client ids (an event per client); a training or workshop held three times is not
  a person and is shown as it is.
- **Funnels** (chains of steps): clients reaching each step, and those who reached the previous
  step but not this one, are lines (reached + not reached = reached at the previous step), so a
  small drop-out is never given back by subtraction. Shares, CIs and median days are withheld
  with their count; when the number who entered the chain is hidden, every share is withheld.
  The first step's clients are the clients of its kind in the counts table (one line).
- **Clients with an event, per service**: with + without = clients of the service, and the
  services add up to all clients; shares and CIs are withheld with their counts.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from tyokyky_eval import publication
from tyokyky_eval.i18n import t
from tyokyky_eval.inputs import services
from tyokyky_eval.sections import Section
from tyokyky_eval.stats import activities as ac

BY_PERIOD = "activities_by_period"
BY_ORGANISATION = "activities_by_organisation"
COUNTS = ("n_events", "participants", "n_clients")
SHARE = ("share", "ci_low", "ci_high")


def funnel_name(chain: str) -> str:
    return f"activities_funnel_{chain}"


def event_name(kind: str) -> str:
    return f"activities_event_{kind}"


def _total_rows(frame: pd.DataFrame, by: str) -> dict:
    return {kind: i for i, (kind, value) in enumerate(zip(frame["kind"], frame[by])) if value == "total"}


class ActivitiesSection(Section):
    """Activities per kind, period and organisation, funnels of chains, clients with an event."""

    name = "activities"

    def __init__(self, project):
        super().__init__(project)
        self.options = project.params.activities
        self.data = data = project.table("activities")
        self.clients = project.table("clients")
        self.person_kinds = ac.client_kinds(data)
        self.by_period = ac.counts(data, "period", self.options.period)
        self.by_organisation = ac.counts(data, "organisation", self.options.period)
        self.funnels = {name: ac.funnel(data, steps) for name, steps in self.options.chains.items()}
        self.events = ({kind: ac.event_share(data, self.clients, kind) for kind in self.options.client_events}
                       if self.clients is not None else {})

    # -- tables ----------------------------------------------------------------------------------
    def _labels(self) -> dict:
        return {"kind": self.options.kinds} if self.options.kinds else {}

    def tables(self) -> list[publication.Table]:
        if self.data.empty:
            return []
        common = {"namespace": "activities", "labels": self._labels(), "decimals": 0}
        out = []
        for name, frame, by, caption in ((BY_PERIOD, self.by_period, "period", "activities.caption_period"),
                                         (BY_ORGANISATION, self.by_organisation, "organisation",
                                          "activities.caption_organisation")):
            lines = publication.partition_lines(frame, by, "total", within=("kind",), counts=COUNTS[:2])
            out.append(publication.Table(name, frame, caption, counts=COUNTS, lines=lines,
                                         code_columns=(by,), **common))
        for chain, frame in self.funnels.items():
            lines = tuple(publication.Line(((k, "n_reached"), (k, "n_not_reached")), (k - 1, "n_reached"))
                          for k in range(1, len(frame)))
            out.append(publication.Table(
                funnel_name(chain), frame, "activities.caption_funnel", counts=("n_reached", "n_not_reached"),
                derived={"n_reached": (*SHARE, "median_days")}, lines=lines, caption_values={"chain": chain},
                **{**common, "decimals": {"share": 2, "ci_low": 2, "ci_high": 2, "median_days": 0}}))
        for kind, frame in self.events.items():
            counts = ("n_clients", "n_with_event", "n_without_event")
            lines = publication.row_lines(frame, counts[1:], "n_clients") + publication.partition_lines(
                frame, "service", "all", counts=counts)
            out.append(publication.Table(
                event_name(kind), frame, "activities.caption_event", counts=counts,
                derived={"n_with_event": SHARE, "n_clients": SHARE}, lines=lines, code_columns=("service",),
                caption_values={"kind": self._kind(kind, self.project.language)}, namespace="activities",
                decimals={"share": 2, "ci_low": 2, "ci_high": 2},
                labels={"service": services.labels(services.of_project(self.project).values())}))
        return out

    def links(self) -> tuple[publication.Line, ...]:
        """Cells that are the same number: the totals of the two counts tables; a client kind's
        events and distinct clients where they are equal (one event per client); a funnel step's
        clients and the distinct clients of its kind, and the ``all`` row of an event share and the
        distinct clients of its kind, where equal (they usually are)."""
        period, organisation = _total_rows(self.by_period, "period"), _total_rows(self.by_organisation, "organisation")
        out = [publication.Line(((BY_ORGANISATION, organisation[kind], c),), (BY_PERIOD, row, c))
               for kind, row in period.items() for c in COUNTS]
        for name, frame in ((BY_PERIOD, self.by_period), (BY_ORGANISATION, self.by_organisation)):
            same = frame["kind"].isin(self.person_kinds) & frame["n_events"].eq(frame["n_clients"])
            out += [publication.Line(((name, i, "n_events"),), (name, i, "n_clients")) for i in np.flatnonzero(same)]
        clients = {kind: self.by_period.at[row, "n_clients"] for kind, row in period.items()}
        cells = [((funnel_name(chain), k, "n_reached"), kind, frame.at[k, "n_reached"])
                 for chain, frame in self.funnels.items() for k, kind in enumerate(frame["kind"])]
        cells += [((event_name(kind), len(frame) - 1, "n_with_event"), kind, frame["n_with_event"].iloc[-1])
                  for kind, frame in self.events.items()]
        out += [publication.Line((cell,), (BY_PERIOD, period[kind], "n_clients"))
                for cell, kind, n in cells if kind in period and clients[kind] == n]
        return tuple(out)

    def statuses(self) -> dict[str, pd.DataFrame]:
        """The status of every cell: the publication layer's joint protection, with the events of
        kinds without clients left out (they are not people), and every funnel share withheld
        when the number who entered the chain is hidden."""
        specs = []
        for spec in self.tables():
            if spec.name in (BY_PERIOD, BY_ORGANISATION):
                shadow = spec.data.assign(n_events=spec.data["n_events"].where(
                    spec.data["kind"].isin(self.person_kinds)).astype(float))
                spec = replace(spec, data=shadow)
            specs.append(spec)
        status = publication.protect(specs, self.rules, self.links())
        for chain in self.funnels:
            frame = status[funnel_name(chain)]
            if len(frame) and frame.at[0, "n_reached"] in (publication.PRIMARY, publication.SECONDARY):
                for column in SHARE:
                    frame.loc[frame[column].eq(""), column] = publication.WITHHELD
        return status

    def protected(self) -> dict[str, pd.DataFrame]:
        status = self.statuses()
        return {spec.name: publication.published(spec, self.rules, status[spec.name]) for spec in self.tables()}

    # -- text ------------------------------------------------------------------------------------
    def _kind(self, kind: str, language: str) -> str:
        return self.options.kinds[kind][language] if kind in self.options.kinds else kind

    def text(self, language: str) -> list[str]:
        data = self.data
        if data.empty:
            return [t("activities.no_activities", language)]
        out = [publication.text("activities.summary", language, n_rows=len(data), n_kinds=data["kind"].nunique(),
                                n_organisations=data["organisation"].dropna().nunique(),
                                first=self.by_period.loc[self.by_period["period"].ne("total"), "period"].min(),
                                last=self.by_period.loc[self.by_period["period"].ne("total"), "period"].max())]
        if self.options.synthetic:
            out.append(t("activities.synthetic", language))
        out.append(t("activities.protection", language, min_cell=self.rules.min_cell))
        for chain, steps in self.options.chains.items():
            out.append(publication.text("activities.chain", language, chain=chain,
                                        steps=" → ".join(self._kind(s, language) for s in steps)))
        if self.options.client_events and self.clients is None:
            out.append(t("activities.no_clients", language))
        return out

    # -- figures ---------------------------------------------------------------------------------
    def figures(self, language: str) -> list[tuple[str, object]]:
        if self.data.empty:
            return []
        published = self.published()
        out = [(t("activities.caption_trend", language), self.figure_trend(published[BY_PERIOD], language))]
        for chain in self.funnels:
            out.append((t("activities.caption_funnel_figure", language, chain=chain),
                        self.figure_funnel(published[funnel_name(chain)], language)))
        return out

    def _number(self, value) -> float:
        return np.nan if publication.is_symbol(value, self.rules) or pd.isna(value) else float(value)

    def figure_trend(self, table: pd.DataFrame, language: str, ax=None):
        """Events per period and kind from the PUBLISHED table (a hidden count is not drawn)."""
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(8, 3.5)) if ax is None else (ax.figure, ax)
        body = table[table["period"].ne("total")]
        periods = sorted(body["period"].unique())
        for kind, rows in body.groupby("kind", sort=True):
            values = rows.set_index("period")["n_events"].map(self._number).reindex(periods)
            ax.plot(periods, values.to_numpy(float), marker="o", label=self._kind(kind, language))
        ax.set_ylabel(t("activities.axis_events", language))
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=7, loc="upper left", ncols=2)
        ax.spines[["top", "right"]].set_visible(False)
        fig.autofmt_xdate()
        fig.tight_layout()
        return fig

    def figure_funnel(self, table: pd.DataFrame, language: str, ax=None):
        """Share of those who entered reaching each step, from the PUBLISHED table (withheld
        shares are not drawn; the step keeps its symbol as its label)."""
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 0.5 + 0.5 * len(table))) if ax is None else (ax.figure, ax)
        labels = [f"{r.step}. {self._kind(r.kind, language)} ({r.n_reached})" for r in table.itertuples()]
        shares = [self._number(v) for v in table["share"]]
        ax.barh(range(len(table)), np.nan_to_num(shares), color="steelblue")
        ax.set_yticks(range(len(table)), labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel(t("activities.axis_share", language))
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        return fig


SECTION = ActivitiesSection

"""Section "Employment": the job histories of :mod:`tyokyky_eval.stats.employment`, published safely.

Three tables, one row per service whose analyses include ``employment`` (the ``services:`` block
of the parameters; IPS, group employment and services of kind ``other`` by default), each named by
its label there, never pooled across services:

- **clients**: clients, employed (with a job start), not employed, with more than one job start,
  and the wage subsidy of the first job (yes / no / unknown, share of those known with a Wilson
  CI). Lines: employed + not employed = clients; yes + no + unknown = employed.
- **jobs**: job starts, those beyond each client's first, hours a week (median, quartiles) and
  employers by sector. Lines: the sectors add up to the job starts; across the tables, employed
  clients + additional jobs = job starts (so "11 jobs of 10 employed" cannot reveal one client
  with two jobs while the count of additional jobs is suppressed).
- **tenure**: per service and day (``analyses.employment.tenure_days``): job starts followed that
  long, still employed / ended (line: they add up to those followed), the share still employed,
  and the Kaplan–Meier retention. Tenure steps: the share at a later day is withheld when the jobs
  that ended between the two days (``n_ended_between``) are fewer than ``min_cell``, and the
  Kaplan–Meier estimate when the jobs ended since the previous day (``n_ended_interval``) or those
  still employed (= still at risk) are; so no published pair of rows reveals a few job endings.

Counts below ``min_cell`` are suppressed (``<5``), secondary suppression keeps every line safe,
the publication layer's integer-programming audit then checks every hidden count against all these
relations and the symbols' ranges (:meth:`EmploymentSection.relations`), and statistics computed
from a hidden count are withheld (``..``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from tyokyky_eval import publication
from tyokyky_eval.i18n import fmt_percent, t
from tyokyky_eval.inputs import services
from tyokyky_eval.sections import REGISTRY, Section
from tyokyky_eval.stats import employment as em

CLIENTS, JOBS, TENURE = "employment_clients", "employment_jobs", "employment_tenure"
SHARE = ("wage_subsidy_share", "ci_low", "ci_high")
HOURS = ("hours_median", "hours_q1", "hours_q3")
TENURE_SHARE = ("n_still_employed", "n_ended", "share", "ci_low", "ci_high")
RETENTION = ("retention", "retention_ci_low", "retention_ci_high")


class EmploymentSection(Section):
    """Job starts (IPS Grow rule), jobs per client, wage subsidy, hours, sectors and job tenure."""

    name = "employment"

    def __init__(self, project):
        super().__init__(project)
        params = project.params
        self.options = options = params.options("employment")
        clients, jobs = project.table("clients"), project.table("employment")
        if jobs is None:  # the runner leaves the section out; a notebook run by hand says "no jobs"
            jobs = em.no_jobs()
        self.starts = starts = em.job_starts(jobs, clients, options)
        self.services = services.for_analysis(project, REGISTRY[self.name].analysis)
        codes = [service.code for service in self.services]
        self.clients = em.client_table(clients, starts, codes)
        self.jobs = em.job_table(starts, codes)
        self.tenure = em.tenure_table(starts, params.cutoff_date, codes, options.tenure_days)

    # -- tables ----------------------------------------------------------------------------------
    def tables(self) -> list[publication.Table]:
        line = publication.Line
        rows = range(len(self.clients))
        client_lines = tuple(line(((i, "n_employed"), (i, "n_not_employed")), (i, "n_clients")) for i in rows) + tuple(
            line(((i, "n_wage_subsidy"), (i, "n_no_wage_subsidy"), (i, "n_wage_subsidy_unknown")), (i, "n_employed"))
            for i in rows)
        sectors = [f"n_{s}" for s in em.SECTORS] + ["n_sector_unknown"]
        job_lines = publication.row_lines(self.jobs, sectors, "n_jobs")
        tenure_lines = tuple(line(((i, "n_still_employed"), (i, "n_ended")), (i, "n_followed"))
                             for i in range(len(self.tenure)))
        note = {"min_hours": f"{self.options.min_hours:g}"}
        labels = {"service": services.labels(self.services)}
        return [
            publication.Table(
                CLIENTS, self.clients, "employment.caption_clients",
                counts=("n_clients", "n_employed", "n_not_employed", "n_multiple_jobs", "n_wage_subsidy",
                        "n_no_wage_subsidy", "n_wage_subsidy_unknown"),
                derived={"n_wage_subsidy": SHARE, "n_no_wage_subsidy": SHARE}, lines=client_lines,
                note="employment.note_clients", note_values=note, code_columns=("service",),
                namespace="employment", decimals={"wage_subsidy_share": 2, "ci_low": 2, "ci_high": 2},
                key=("n_clients", "n_employed"), labels=labels),
            publication.Table(
                JOBS, self.jobs, "employment.caption_jobs",
                counts=("n_jobs", "n_additional_jobs", "n_with_hours", *sectors),
                derived={"n_with_hours": HOURS}, lines=job_lines, code_columns=("service",),
                namespace="employment", decimals={c: 1 for c in HOURS}, labels=labels),
            publication.Table(
                TENURE, self.tenure, "employment.caption_tenure",
                caption_values={"days": self.days_text(self.project.language)},
                counts=("n_followed", "n_still_employed", "n_ended", "n_ended_between", "n_ended_interval"),
                derived={"n_still_employed": TENURE_SHARE[2:] + RETENTION, "n_ended": TENURE_SHARE[2:],
                         "n_ended_between": TENURE_SHARE, "n_ended_interval": RETENTION},
                lines=tenure_lines, note="employment.note_tenure", code_columns=("service",),
                namespace="employment", decimals={c: 2 for c in ("share", "ci_low", "ci_high", *RETENTION)},
                labels=labels),
        ]

    def days_text(self, language: str) -> str:
        """The tenure days in words: '90 ja 180' / '90 and 180' (one day: '90')."""
        days = [str(d) for d in self.options.tenure_days]
        return days[0] if len(days) == 1 else t("employment.days_and", language, days=", ".join(days[:-1]),
                                                    last=days[-1])

    def statuses(self) -> dict[str, pd.DataFrame]:
        """The publication layer's statuses; then the integer-programming audit
        (:func:`tyokyky_eval.publication.audit`) over :meth:`relations`, which also
        sees the ranges the symbols give (two "<3" sectors of a "<3" total are 1, 1 and 2);
        statistics of a count it hides are withheld; then the tenure steps (:meth:`_steps`)."""
        tables = self.tables()
        public = self.published_elsewhere()
        status = publication.protect(tables, self.rules, self.links(), public)
        publication.audit({table.name: table.data for table in tables}, status, self.relations(), self.rules, public)
        for table in tables:
            cells = status[table.name]
            for count, stats in table.derived.items():
                hidden = cells[count].isin([publication.PRIMARY, publication.SECONDARY])
                for column in stats:
                    cells.loc[hidden & cells[column].eq(""), column] = publication.WITHHELD
        self._steps(status[TENURE])
        return status

    def audit_relations(self) -> list:
        return self.relations()

    def relations(self) -> list:
        """Every linear relation an attacker knows between the counts, as
        ``(((coefficient, (table, row, column)), …), low, high)``: the lines of the tables and
        across them, and clients with more than one job ≤ additional jobs and ≤ employed, jobs
        with hours ≤ jobs, jobs ended between two days ≤ ended, and from one day to a later one,
        fewer jobs followed and still employed."""
        def term(table, i, column, coefficient=1.0):
            return coefficient, (table, i, column)

        out = []
        sectors = [f"n_{s}" for s in em.SECTORS] + ["n_sector_unknown"]
        for i in range(len(self.clients)):
            out += [((term(CLIENTS, i, "n_employed"), term(CLIENTS, i, "n_not_employed"),
                      term(CLIENTS, i, "n_clients", -1.0)), 0.0, 0.0),
                    ((term(CLIENTS, i, "n_wage_subsidy"), term(CLIENTS, i, "n_no_wage_subsidy"),
                      term(CLIENTS, i, "n_wage_subsidy_unknown"), term(CLIENTS, i, "n_employed", -1.0)), 0.0, 0.0),
                    (tuple(term(JOBS, i, c) for c in sectors) + (term(JOBS, i, "n_jobs", -1.0),), 0.0, 0.0),
                    ((term(CLIENTS, i, "n_employed"), term(JOBS, i, "n_additional_jobs"),
                      term(JOBS, i, "n_jobs", -1.0)), 0.0, 0.0),
                    ((term(CLIENTS, i, "n_multiple_jobs"), term(JOBS, i, "n_additional_jobs", -1.0)), -np.inf, 0.0),
                    ((term(CLIENTS, i, "n_multiple_jobs"), term(CLIENTS, i, "n_employed", -1.0)), -np.inf, 0.0),
                    ((term(JOBS, i, "n_with_hours"), term(JOBS, i, "n_jobs", -1.0)), -np.inf, 0.0)]
        for _, rows in self.tenure.groupby("service", sort=False):
            order = list(rows.sort_values("days").index)
            for i in order:
                out += [((term(TENURE, i, "n_still_employed"), term(TENURE, i, "n_ended"),
                          term(TENURE, i, "n_followed", -1.0)), 0.0, 0.0),
                        ((term(TENURE, i, "n_ended_between"), term(TENURE, i, "n_ended", -1.0)), -np.inf, 0.0)]
            for i, j in zip(order, order[1:]):
                for column in ("n_followed", "n_still_employed"):
                    out.append(((term(TENURE, j, column), term(TENURE, i, column, -1.0)), -np.inf, 0.0))
        return out

    def published_elsewhere(self) -> frozenset:
        """Cells of this section's client table that another section of the appendix publishes:
        a service's clients (the service-paths flow's total) and employed clients (the survival
        summary's jobs, or the flow's clients who ended employed), where shown there as the same
        number. They stay shown here: hiding them would protect nothing, while an attacker who
        reads them there and subtracts here (jobs − employed = additional jobs) must be stopped by
        hiding something else."""
        shown: dict[str, list] = {"n_clients": [], "n_employed": []}
        if self.project.table("clients") is not None:
            summary = self._published_by("survival").get("survival_summary")
            if summary is not None and len(summary):
                rows = summary[summary["group"].eq("all")]
                shown["n_employed"].append(dict(zip(rows["service"], rows["n_events"])))
            flow = self._published_by("pathways").get("pathways_service_outcomes")
            if flow is not None and len(flow):
                shown["n_employed"].append(dict(zip(flow["service"], flow["employed"])))
                shown["n_clients"].append(dict(zip(flow["service"], flow["total"])))
        cells = set()
        for column, sources in shown.items():
            for i, (service, count) in enumerate(zip(self.clients["service"], self.clients[column])):
                if any(service in values and not publication.is_symbol(values[service], self.rules)
                       and float(values[service]) == float(count) for values in sources):
                    cells.add((CLIENTS, i, column))
        return frozenset(cells)

    def _published_by(self, name: str) -> dict[str, pd.DataFrame]:
        """What section ``name`` publishes: the protected appendix's release (built before this
        section), else that section built on its own (this section used alone)."""
        from tyokyky_eval.sections import REGISTRY

        release = self.project.release.get(name)
        return release if release is not None else REGISTRY[name].load()(self.project).published()

    def _steps(self, status: pd.DataFrame) -> None:
        """In place, per service and day: an estimate is withheld when the jobs that ended since the
        last published estimate (``n_ended_between`` for the shares, ``n_ended_interval`` for the
        Kaplan–Meier retention) are 1 to ``min_cell`` − 1, as a curve's steps are in the survival
        section; a withheld day's endings count towards the next one."""
        for count, stats in (("n_ended_between", TENURE_SHARE), ("n_ended_interval", RETENTION)):
            for _, rows in self.tenure.groupby("service", sort=False):
                pending = 0
                for i in rows.sort_values("days").index:
                    pending += int(self.tenure.at[i, count])
                    if 0 < pending < self.rules.min_cell:
                        status.loc[i, list(stats)] = status.loc[i, list(stats)].where(
                            status.loc[i, list(stats)].ne(""), publication.WITHHELD)
                    elif status.loc[i, list(stats)].eq("").all():
                        pending = 0

    def protected(self) -> dict[str, pd.DataFrame]:
        status = self.statuses()
        return {table.name: publication.published(table, self.rules, status[table.name]) for table in self.tables()}

    def links(self) -> tuple[publication.Line, ...]:
        """Employed clients + additional jobs = job starts, per service (rows align by service)."""
        return tuple(publication.Line(((CLIENTS, i, "n_employed"), (JOBS, i, "n_additional_jobs")),
                                      (JOBS, i, "n_jobs")) for i in range(len(self.clients)))

    # -- text ------------------------------------------------------------------------------------
    def _shown(self, value) -> bool:
        return not publication.is_symbol(value, self.rules) and not pd.isna(value)

    def _count(self, value) -> str:
        return str(int(value)) if self._shown(value) else str(value)

    def text(self, language: str) -> list[str]:
        published = self.published()
        out = [publication.text("employment.text.rule", language,
                                min_hours=f"{self.options.min_hours:g}")]
        if not self.services:
            return out + [t("employment.text.no_service", language)]
        clients, jobs = published[CLIENTS], published[JOBS]
        for i, service in enumerate(self.services):
            label = service.name(language)
            row, job = clients.iloc[i], jobs.iloc[i]
            out.append(publication.text("employment.text.service", language, service=label,
                                        clients=self._count(row["n_clients"]), employed=self._count(row["n_employed"]),
                                        jobs=self._count(job["n_jobs"]),
                                        multiple=self._count(row["n_multiple_jobs"])))
            share = row["wage_subsidy_share"]
            if self._shown(share):
                out.append(publication.text("employment.text.wage_subsidy", language, service=label,
                                            share=fmt_percent(share, language),
                                            low=fmt_percent(row["ci_low"], language),
                                            high=fmt_percent(row["ci_high"], language)))
            elif row["n_employed"] != 0:
                out.append(publication.text("employment.text.wage_subsidy_withheld", language, service=label,
                                            min_cell=self.rules.min_cell))
        return out

    # -- figures ---------------------------------------------------------------------------------
    def figures(self, language: str) -> list[tuple[str, object]]:
        tenure = self.published()[TENURE]
        if not len(tenure) or not tenure["share"].map(self._shown).any():
            return []
        return [(t("employment.caption_fig_tenure", language, days=self.days_text(language)),
                 self.figure_tenure(tenure, language))]

    def figure_tenure(self, tenure: pd.DataFrame, language: str, ax=None):
        """Share of job starts still employed ``d`` days after the start, with its Wilson 95 % CI,
        per service, from the PUBLISHED tenure table (withheld values are not drawn)."""
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 3.5)) if ax is None else (ax.figure, ax)
        days = list(self.options.tenure_days)
        width = 0.8 / max(len(self.services), 1)
        for k, service in enumerate(self.services):
            rows = tenure[tenure["service"].eq(service.code)].set_index("days")
            shown = [d for d in days if d in rows.index and self._shown(rows.at[d, "share"])]
            x = np.array([days.index(d) for d in shown], dtype=float) + (k - (len(self.services) - 1) / 2) * width
            share = np.array([float(rows.at[d, "share"]) for d in shown])
            low = np.array([float(rows.at[d, "ci_low"]) for d in shown])
            high = np.array([float(rows.at[d, "ci_high"]) for d in shown])
            # a Wilson limit at 0 or 1 can lie a rounding error beyond the share: no negative error bar
            errors = np.clip([share - low, high - share], 0, None)
            ax.bar(x, share, width * 0.9, yerr=errors, capsize=3,
                   label=publication.escape_mathtext(service.name(language)))
        ax.set_xticks(range(len(days)), [t("employment.figure.days", language, days=d) for d in days])
        ax.set_ylim(0, 1)
        ax.set_ylabel(t("employment.figure.share", language))
        ax.legend(fontsize=8)
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        return fig


SECTION = EmploymentSection

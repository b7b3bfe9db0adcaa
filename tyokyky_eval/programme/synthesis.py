"""The programme appendix: several projects' published tables compared and pooled, in parts that
the synthesis notebook shows as a project's notebooks show sections.

:class:`Programme` reads the appendices once (:func:`load_programme`), computes every table once
(:mod:`tyokyky_eval.programme.compare`) and offers its parts (:data:`PARTS`). A :class:`Part`
has the interface of a section (``tables()``, ``published()``, ``text(language)``,
``figures(language)``, ``rules``), so ``Report.show_tables`` and ``Report.show_figures`` show it,
and the programme as a whole has that of a protected appendix (``specs``, ``release``, ``rules``)
for ``tables/`` and its ``datapackage.json``. A hidden project value is published with the
programme's symbol of the same status (``min_cell`` is the largest of the projects', so a ``<3``
of one project reads ``<5`` here: it says less, never more).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tyokyky_eval import publication
from tyokyky_eval.i18n import LANGUAGES, code_label, fmt_number, fmt_percent, t
from tyokyky_eval.inputs.services import KINDS
from tyokyky_eval.programme import compare, figures
from tyokyky_eval.programme.published import Hidden, PublishedAppendix, read_appendices
from tyokyky_eval.stats.survival import IPS_BENCHMARKS

#: the parts of the programme appendix, in order
PARTS = ("projects", "benchmark", "fidelity", "kykyviisari", "pooled", "references")
#: the programme appendix's id (its ``provenance.json`` and ``datapackage.json``)
PROGRAMME_ID = "programme-synthesis"


def labels(prefix: str, codes) -> dict:
    """``{code: {fi, en}}`` of the locale texts ``<prefix>.<code>``."""
    return {code: {language: t(f"{prefix}.{code}", language) for language in LANGUAGES} for code in codes}


def measure_label(code: str, language: str) -> str:
    """A Kykyviisari measure's name (``prepost.codes.measure``), or its code for a measure of an
    instrument spec of the project's own."""
    return code_label("measure", code, language, "prepost")


def kind_label(code: str, language: str) -> str:
    """A kind of service's name (``codes.service_kind``), or its code."""
    return code_label("service_kind", code, language)


def headers(columns) -> dict:
    """``{column: {fi, en}}`` of the locale texts ``synthesis.columns.<column>``."""
    return labels("synthesis.columns", columns)


def symbols(frame: pd.DataFrame, rules: publication.Rules) -> pd.DataFrame:
    """``frame`` with every :class:`Hidden` cell as the programme's symbol of its status."""
    return frame.map(lambda v: rules.symbol(v.status) if isinstance(v, Hidden) else v)


@dataclass(frozen=True)
class ProgrammeParams:
    """What the title page needs (``render.document.title_page``); ``title`` and ``description``
    by language, as a project's parameters have them."""

    project_id: str
    title: dict
    description: dict
    cutoff_date: dt.date
    evaluation_period: tuple[dt.date, dt.date] | None
    synthetic: bool


class Part:
    """One part of the programme appendix: its tables (``publication.Table`` specs on published
    frames), the findings of ``text`` and the ``figures``, drawn from its published tables."""

    def __init__(self, programme: Programme, name: str):
        # ``project``: what a section's blocks are made for (``render.document.section_blocks``)
        self.project, self.name, self.rules = programme, name, programme.rules

    def tables(self) -> list[publication.Table]:
        return self.project.specs[self.name]

    def published(self) -> dict[str, pd.DataFrame]:
        return self.project.release[self.name]

    def text(self, language: str) -> list[str]:
        return getattr(self.project, f"_text_{self.name}")(language)

    def figures(self, language: str) -> list[tuple[str, object]]:
        method = getattr(self.project, f"_figures_{self.name}", None)
        return method(language) if method else []


class Programme:
    """The programme synthesis of ``appendices`` (:class:`PublishedAppendix`) in ``language``."""

    def __init__(self, appendices: list[PublishedAppendix], language: str):
        self.appendices, self.language = appendices, language
        self.rules = publication.Rules(max(a.min_cell for a in appendices),
                                       max(max(a.min_followup, a.min_cell) for a in appendices))
        cutoffs = [dt.date.fromisoformat(a.package["cutoff_date"]) for a in appendices]
        periods = [a.package.get("evaluation_period") for a in appendices]
        period = None
        if all(periods):
            period = (min(dt.date.fromisoformat(p["start"]) for p in periods),
                      max(dt.date.fromisoformat(p["end"]) for p in periods))
        self.params = ProgrammeParams(PROGRAMME_ID, {language: t("synthesis.title", language)},
                                      {language: t("synthesis.description", language, n=len(appendices))},
                                      max(cutoffs),
                                      period, any(a.package.get("synthetic") for a in appendices))
        self.projects = pd.DataFrame({"project": [a.project_id for a in appendices], "cutoff_date": cutoffs})
        self.services = pd.concat([a.services() for a in appendices], ignore_index=True)
        stacked = {name: self._stack(name) for name in
                   ("client_flow", "survival_benchmark", "fidelity_scores", "prepost_summary")}
        self.frames = f = {}
        f["synthesis_services"] = compare.services_table(self.services, stacked["client_flow"])
        f["synthesis_totals"] = compare.totals_table(f["synthesis_services"])
        f["synthesis_ips_benchmark"] = compare.benchmark_table(self.services, stacked["survival_benchmark"])
        f["synthesis_fidelity"] = compare.fidelity_table(stacked["fidelity_scores"])
        f["synthesis_kykyviisari"] = compare.kykyviisari_table(self.services, stacked["prepost_summary"])
        f["synthesis_pooled"], f["synthesis_pooled_studies"] = compare.pooled_tables(
            f["synthesis_ips_benchmark"], f["synthesis_kykyviisari"])
        f["synthesis_coverage"] = compare.coverage_table(self.projects, self.services, f["synthesis_ips_benchmark"],
                                                         f["synthesis_kykyviisari"], f["synthesis_fidelity"])
        f["synthesis_references"] = compare.REFERENCES
        self.specs = self._specs()
        self.release = {part: {spec.name: symbols(spec.data, self.rules) for spec in specs}
                        for part, specs in self.specs.items()}
        self.parts = {name: Part(self, name) for name in PARTS}

    def _stack(self, name: str) -> pd.DataFrame | None:
        frames = [a.table(name) for a in self.appendices if a.table(name) is not None]
        return pd.concat(frames, ignore_index=True) if frames else None

    def part(self, name: str) -> Part:
        """The part ``name`` (:data:`PARTS`), as ``report.show_tables`` and ``show_figures`` take it."""
        return self.parts[name]

    # -- tables -----------------------------------------------------------------------------------
    def _spec(self, name: str, caption: str, **options) -> publication.Table:
        frame = self.frames[name]
        return publication.Table(name, frame, f"synthesis.caption_{caption}", namespace="synthesis",
                                 headers=headers(frame.columns), **options)

    def _specs(self) -> dict[str, list[publication.Table]]:
        kinds = labels("codes.service_kind", KINDS)
        coverage = labels("synthesis.codes.coverage", ("published", "withheld", "not_reported", "not_applicable"))
        measures = {m: {language: measure_label(m, language) for language in LANGUAGES}
                    for m in self.frames["synthesis_kykyviisari"]["measure"].unique()}
        share = {"share": 3, "ci_low": 3, "ci_high": 3, "followup_days": 0}
        benchmark_counts = ("n", "n_employed")
        pooled_decimals = {"estimate": 3, "ci_low": 3, "ci_high": 3, "pi_low": 3, "pi_high": 3, "tau2": 4,
                           "i2": 1, "q": 2, "q_p": 3}
        return {
            "projects": [
                self._spec("synthesis_coverage", "coverage", decimals=0,
                           labels={c: coverage for c in ("ips_benchmark", "kykyviisari", "fidelity")}),
                self._spec("synthesis_services", "services", counts=("clients", "employed"), decimals=0,
                           labels={"kind": kinds}, key=("clients",)),
                self._spec("synthesis_totals", "totals", counts=("clients", "employed"), decimals=0,
                           labels={"kind": kinds}, note="synthesis.note_totals",
                           note_values={"withheld": self.rules.symbol(publication.WITHHELD)}),
            ],
            "benchmark": [self._spec(
                "synthesis_ips_benchmark", "benchmark", counts=benchmark_counts, decimals=share,
                derived={c: ("share", "ci_low", "ci_high", "band") for c in benchmark_counts},
                labels={"band": labels("survival.bands", (*IPS_BENCHMARKS, "below_minimal"))},
                note="synthesis.note_benchmark")],
            "fidelity": [self._spec(
                "synthesis_fidelity", "fidelity", decimals={"prorated_total": 1, "mean_item_score": 2},
                labels={"band": labels("fidelity.codes.band", ("exemplary", "good", "fair", "not_supported")),
                        "band_is_indicative": {value: {language: t(f"fidelity.codes.band_is_indicative.{value}",
                                                                  language) for language in LANGUAGES}
                                               for value in (True, False)}},
                note="synthesis.note_fidelity")],
            "kykyviisari": [self._spec(
                "synthesis_kykyviisari", "kykyviisari", counts=("n_pairs",), decimals=2,
                derived={"n_pairs": ("mean_change", "change_ci_low", "change_ci_high")},
                labels={"kind": kinds, "measure": measures}, note="synthesis.note_kykyviisari")],
            "pooled": [
                self._spec("synthesis_pooled", "pooled", decimals=pooled_decimals, code_columns=("outcome", "status"),
                           labels={"kind": kinds, "measure": measures}, note="synthesis.note_pooled"),
                self._spec("synthesis_pooled_studies", "pooled_studies", code_columns=("outcome",),
                           decimals={"estimate": 3, "ci_low": 3, "ci_high": 3, "effect": 3, "se": 3, "weight_pct": 1},
                           labels={"kind": kinds, "measure": measures}, note="synthesis.note_pooled_studies"),
            ],
            "references": [self._spec(
                "synthesis_references", "references", decimals={"value": 2, "comparison_value": 2, "n_trials": 0},
                labels={"reference": labels("synthesis.codes.reference", compare.REFERENCES["reference"]),
                        "measure": labels("synthesis.codes.reference_measure", compare.REFERENCES["measure"].unique()),
                        "population": labels("synthesis.codes.population", compare.REFERENCES["population"].unique())},
                note="synthesis.note_references")],
        }

    def published(self, name: str) -> pd.DataFrame:
        """The published table ``name`` (symbols for hidden values)."""
        return next(tables[name] for tables in self.release.values() if name in tables)

    # -- texts ------------------------------------------------------------------------------------
    def _t(self, key: str, language: str, **values) -> str:
        return publication.text(f"synthesis.text.{key}", language, **values)

    def _list(self, values) -> str:
        return ", ".join(str(v) for v in values) or "–"

    def _text_projects(self, language: str) -> list[str]:
        coverage = self.frames["synthesis_coverage"]
        out = [self._t("projects", language, n=len(coverage), projects=self._list(coverage["project"]),
                       n_services=len(self.services)),
               self._t("disclosure", language, min_cell=self.rules.min_cell)]
        for topic in ("ips_benchmark", "kykyviisari", "fidelity"):
            missing = coverage.loc[coverage[topic].isin(["withheld", "not_reported"]), "project"]
            if len(missing):
                out.append(self._t(f"missing_{topic}", language, projects=self._list(missing)))
        return out

    def _pooled_row(self, outcome: str, kind: str, measure=None) -> pd.Series | None:
        pooled = self.published("synthesis_pooled")
        mask = pooled["outcome"].eq(outcome) & pooled["kind"].eq(kind)
        if measure is not None:
            mask &= pooled["measure"].eq(measure)
        rows = pooled[mask]
        return rows.iloc[0] if len(rows) else None

    def _text_benchmark(self, language: str) -> list[str]:
        table = self.published("synthesis_ips_benchmark")
        if table.empty:
            return [self._t("no_ips", language)]
        def pct(value) -> str:
            return fmt_percent(value, language)

        shown = table[table["share"].map(compare.known)]
        withheld = int(table["share"].map(lambda v: publication.is_symbol(v, self.rules)).sum())
        bands = {b: int(shown["band"].eq(b).sum()) for b in ("below_minimal", *IPS_BENCHMARKS)}
        out = [self._t("benchmark", language, n=len(table), k=len(shown), withheld=withheld,
                       missing=len(table) - len(shown) - withheld,
                       bands=", ".join(f"{t(f'survival.bands.{b}', language)} {n}" for b, n in bands.items() if n))]
        row = self._pooled_row("ips_employment", "ips")
        if row is not None and row["status"] == "pooled":
            out.append(self._t("benchmark_pooled", language, k=row["k"], estimate=pct(row["estimate"]),
                               low=pct(row["ci_low"]), high=pct(row["ci_high"]), pi_low=pct(row["pi_low"]),
                               pi_high=pct(row["pi_high"]), i2=fmt_number(row["i2"], language, 0),
                               withheld=row["k_withheld"]))
        else:
            out.append(self._t("benchmark_not_pooled", language, k=len(shown), minimum=compare.MIN_STUDIES))
        out.append(self._t("benchmark_caveat", language))
        return out

    def _text_fidelity(self, language: str) -> list[str]:
        table = self.frames["synthesis_fidelity"]
        if table.empty:
            return [self._t("no_fidelity", language)]
        return [self._t("fidelity", language, n_sites=len(table), n_projects=table["project"].nunique(),
                        bands=", ".join(f"{code_label('band', b, language, 'fidelity')} {n}"
                                        for b, n in table["band"].value_counts().items()),
                        indicative=int(table["band_is_indicative"].eq(True).sum()))]

    def _text_kykyviisari(self, language: str) -> list[str]:
        table = self.published("synthesis_kykyviisari")
        if table.empty:
            return [self._t("no_kykyviisari", language)]
        services = table.drop_duplicates(["project", "service"])
        published = table[table["mean_change"].map(compare.known)].drop_duplicates(["project", "service"])
        return [self._t("kykyviisari", language, n=len(services), k=len(published),
                        withheld=len(services) - len(published), min_followup=self.rules.min_followup)]

    def _text_pooled(self, language: str) -> list[str]:
        pooled = self.published("synthesis_pooled")
        done = pooled[pooled["status"].eq("pooled")]
        out = [self._t("pooled", language, n=len(done), too_few=len(pooled) - len(done),
                       minimum=compare.MIN_STUDIES)]
        for kind, part in done[done["outcome"].eq("kykyviisari_change")].groupby("kind", sort=False):
            values = "; ".join(
                t("synthesis.text.pooled_measure", language, measure=measure_label(r.measure, language),
                  estimate=fmt_number(r.estimate, language, 2), low=fmt_number(r.ci_low, language, 2),
                  high=fmt_number(r.ci_high, language, 2), k=r.k)
                for r in part.itertuples())
            out.append(self._t("pooled_kind", language, kind=kind_label(kind, language), values=values))
        return out

    def _text_references(self, language: str) -> list[str]:
        return [self._t("references", language)]

    # -- figures ----------------------------------------------------------------------------------
    def _studies(self, outcome: str, kind: str, measure=None) -> pd.DataFrame:
        studies = self.published("synthesis_pooled_studies")
        mask = studies["outcome"].eq(outcome) & studies["kind"].eq(kind)
        if measure is not None:
            mask &= studies["measure"].eq(measure)
        rows = studies[mask]
        return rows.assign(label=rows["project"] + " / " + rows["service"])

    def _figures_benchmark(self, language: str) -> list[tuple[str, object]]:
        table = self.published("synthesis_ips_benchmark")
        if table.empty:
            return []
        rows = table.assign(label=table["project"] + " / " + table["service"], estimate=table["share"],
                            weight_pct=self._studies("ips_employment", "ips").set_index("label")["weight_pct"].reindex(
                                table["project"] + " / " + table["service"]).to_numpy())
        pooled = self._pooled_row("ips_employment", "ips")
        pooled = pooled if pooled is not None and pooled["status"] == "pooled" else None
        bond = compare.REFERENCES.set_index("reference").loc["bond_drake_becker_2008"]
        benchmarks = t("synthesis.figure.benchmarks", language,
                       limits=" / ".join(fmt_percent(v, language) for v in IPS_BENCHMARKS.values()))
        lines = [(limit, benchmarks if i == 0 else "", ":") for i, limit in enumerate(IPS_BENCHMARKS.values())]
        lines += [(bond["value"], t("synthesis.figure.bond", language, ips=fmt_percent(bond["value"], language),
                                    control=fmt_percent(bond["comparison_value"], language)), "--"),
                  (bond["comparison_value"], "", "--")]
        fig = figures.forest(rows, pooled, language, t("synthesis.figure.share_employed", language), lines,
                             percent=True, xlim=(0, 1))
        out = [(t("synthesis.caption_fig_benchmark", language), fig)]
        if pooled is not None:
            studies = self._studies("ips_employment", "ips")
            fig = figures.funnel(studies[studies["effect"].map(compare.known)],
                                 float(np.log(pooled["estimate"] / (1 - pooled["estimate"]))), language,
                                 t("synthesis.figure.log_odds", language))
            out.append((t("synthesis.caption_fig_funnel", language), fig))
        return out

    def _figures_pooled(self, language: str) -> list[tuple[str, object]]:
        """Per kind with a pooled Kykyviisari change: the forest plot of work ability (the single
        item) and the pooled change of every measure."""
        pooled = self.published("synthesis_pooled")
        done = pooled[pooled["outcome"].eq("kykyviisari_change") & pooled["status"].eq("pooled")]
        out = []
        for kind, part in done.groupby("kind", sort=False):
            kind_name = kind_label(kind, language)
            for row in part[part["measure"].eq("work_ability")].itertuples(index=False):
                measure = measure_label(row.measure, language)
                fig = figures.forest(self._studies("kykyviisari_change", kind, row.measure), pd.Series(row._asdict()),
                                     language, t("synthesis.figure.mean_change", language, measure=measure),
                                     [(0, "", "-")])
                out.append((t("synthesis.caption_fig_change", language, measure=measure, kind=kind_name), fig))
            rows = part.assign(label=part["measure"].map(lambda m: measure_label(m, language)))
            fig = figures.forest(rows, None, language, t("synthesis.figure.measures", language), [(0, "", "-")])
            out.append((t("synthesis.caption_fig_measures", language, kind=kind_name), fig))
        return out


def load_programme(appendix_dirs, language: str = "fi", prepared: str | Path | None = None) -> Programme:
    """The programme synthesis of the published appendices in ``appendix_dirs`` (every input
    checked first: ``DataError`` lists all problems). ``prepared``: a programme that
    ``tyokyky-eval synthesis`` built once and saved (:func:`save_programme`); read instead."""
    if prepared is not None:
        return pd.read_pickle(prepared)
    return Programme(read_appendices([Path(d) for d in appendix_dirs]), language)


def save_programme(programme: Programme, path: Path) -> Path:
    """Save ``programme`` for the synthesis notebook's kernel (a private temporary folder)."""
    pd.to_pickle(programme, path)
    return path

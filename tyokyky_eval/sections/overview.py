"""Section "Overview": the project, its data, the data-quality remarks, the flow of clients and the
disclosure rules of the appendix (the rule sentence and the legend of symbols).

What is published, and why:

- **Data by table**: rows and units (clients, sites, surveys) per input table, and the first and
  last month of its main date column (months, not days: the first start date is one client's).
  Counts of clients (and of their measurements) below ``min_cell`` are suppressed; the number of
  clients is the service-paths section's published grand total, with its symbol.
- **Data-quality remarks** by file, column and kind, with a total row (the total is also in the
  text): counts below ``min_cell`` suppressed, and a second one where the total would give a
  suppressed one back. A kind without a locale text is shown as "other remark", never as the raw
  message (messages may quote values).
- **Flow of clients by service and end reason**: exactly the rows of the service-paths section's
  service × end reason table (:func:`tyokyky_eval.sections.pathways.client_statuses`) for each
  service whose analyses include ``flow``, and all services together, symbols included, so that
  the two sections cannot be combined; a share (of the service's clients) is withheld with its
  count or with the service's total.

The publication layer protects one section's tables at a time; the flow's statuses come from the
service-paths protection, so :meth:`OverviewSection.tables` hands the report already protected
values (their symbols in place, the legend as the note); :meth:`OverviewSection.internal` holds the
full-precision tables.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import PurePath

import pandas as pd

from tyokyky_eval import publication
from tyokyky_eval.i18n import fmt_date, has_text, t
from tyokyky_eval.inputs import services
from tyokyky_eval.sections import Section
from tyokyky_eval.sections.pathways import BY_SERVICE, client_statuses
from tyokyky_eval.stats import overview as ov

DATA = "data_summary"
QUALITY = "data_quality"
CLIENT_FLOW = "client_flow"


def kind_text(kind: str, language: str) -> str:
    """A remark's kind in words: its locale message with the row-specific values left out
    ('… days before …'); a kind without a locale text is 'other remark' (never the raw message)."""
    import re

    key = f"validation.{kind}"
    if not kind or not has_text(key, language):
        return t("overview.codes.kind.other_remark", language)
    return re.sub(r"\{[^}]*\}", "…", t(key, language))


def _month(value) -> str | None:
    return None if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m")


class OverviewSection(Section):
    """The project, its data and their quality, the flow of clients, the disclosure rules."""

    name = "overview"

    def __init__(self, project):
        super().__init__(project)
        params = project.params
        self.summary = ov.data_summary(project.tables)
        self.quality = ov.quality_summary(project.warnings)
        clients = project.table("clients")
        self.services = list(services.resolve(getattr(params, "services", {}), clients).values())
        self.client_tables = self.client_status = None
        if clients is not None:
            self.client_tables, self.client_status = client_statuses(clients, params.options("pathways"),
                                                                      params.cutoff_date, self.rules,
                                                                      [s.code for s in self.services])

    # -- tables ----------------------------------------------------------------------------------
    def _data_frame(self) -> pd.DataFrame:
        summary = self.summary
        return pd.DataFrame({"table": summary["table"], "n_rows": summary["n_rows"], "n_units": summary["n_units"],
                             "first_month": summary["first_date"].map(_month),
                             "last_month": summary["last_date"].map(_month)})

    def _quality_frame(self) -> pd.DataFrame:
        quality = self.quality
        tables = {label: table for table, label in self.project.labels.items()}  # file names are not published
        frame = pd.DataFrame({"file": quality["file"].map(lambda f: tables.get(PurePath(str(f)).name, "parameters")),
                              "column": quality["column"], "kind": quality["kind"], "n": quality["n"]})
        total = pd.DataFrame([{"file": "total", "column": "", "kind": "", "n": int(quality["n"].sum())}])
        return pd.concat([frame, total], ignore_index=True)

    def _flow_frame(self) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
        """The flow of clients per service (``service, end_reason, n, share``; share of the
        service's clients) from the service-paths service × end reason table: each service whose
        analyses include ``flow``, then all services (``total``); the status of each ``n`` and of
        the row's total."""
        table, status = self.client_tables[BY_SERVICE].data, self.client_status[BY_SERVICE]
        shown = {s.code for s in self.services if s.applies("flow")} | {"total"}
        columns = [c for c in table.columns if c != "service"]
        frames, statuses, totals = [], [], []
        for row in range(len(table)):
            code = table.at[row, "service"]
            if code not in shown:
                continue
            n = table.loc[row, columns].astype("int64").to_numpy()
            frames.append(pd.DataFrame({"service": code, "end_reason": columns, "n": n,
                                        "share": 100 * n / max(int(n[-1]), 1)}))
            statuses += list(status.loc[row, columns])
            totals += [status.at[row, "total"]] * len(columns)
        frame = pd.concat(frames, ignore_index=True)
        return frame, pd.Series(statuses, index=frame.index), pd.Series(totals, index=frame.index)

    def _internal_frames(self) -> dict[str, pd.DataFrame]:
        out = {DATA: self._data_frame()}
        if len(self.quality):
            out[QUALITY] = self._quality_frame()
        if self.client_tables is not None:
            out[CLIENT_FLOW] = self._flow_frame()[0]
        return out

    def internal(self) -> dict[str, pd.DataFrame]:
        return self._internal_frames()

    def statuses(self) -> dict[str, pd.DataFrame]:
        """The status of every cell (as :func:`tyokyky_eval.publication.protect` gives them)."""
        frames = self._internal_frames()
        out = {name: pd.DataFrame("", index=frame.index, columns=frame.columns, dtype=object)
               for name, frame in frames.items()}
        data = frames[DATA]
        grand = self._grand_status()
        for i, table in enumerate(data["table"]):
            if table == "clients" and grand is not None:
                out[DATA].loc[i, ["n_rows", "n_units"]] = grand
            elif table in ov.CLIENT_TABLES:
                for column in ("n_rows", "n_units"):
                    if 0 < data.at[i, column] < self.rules.min_cell:
                        out[DATA].at[i, column] = publication.PRIMARY
        if QUALITY in frames:
            quality = frames[QUALITY]
            spec = publication.Table(QUALITY, quality, "", counts=("n",),
                                     lines=(publication.Line(tuple((i, "n") for i in range(len(quality)))),))
            out[QUALITY] = publication.protect([spec], self.rules)[QUALITY]
            last = len(quality) - 1
            parts = tuple((1.0, (QUALITY, i, "n")) for i in range(last))
            relation = (parts + ((-1.0, (QUALITY, last, "n")),), 0.0, 0.0)
            publication.audit({QUALITY: quality}, out, [relation], self.rules)
        if CLIENT_FLOW in frames:
            _, status, total = self._flow_frame()
            out[CLIENT_FLOW]["n"] = status.to_numpy()
            hidden = (status.isin([publication.PRIMARY, publication.SECONDARY])
                      | total.isin([publication.PRIMARY, publication.SECONDARY])).to_numpy()
            out[CLIENT_FLOW].loc[hidden, "share"] = publication.WITHHELD
        return out

    def _grand_status(self) -> str | None:
        if self.client_status is None:
            return None
        status = self.client_status[BY_SERVICE]
        return status.iat[len(status) - 1, status.columns.get_loc("total")]

    def protected(self) -> dict[str, pd.DataFrame]:
        frames, statuses = self._internal_frames(), self.statuses()
        out = {}
        for name, frame in frames.items():
            shown = frame.copy()
            for column in frame.columns:
                hidden = statuses[name][column].ne("")
                if hidden.any():
                    shown[column] = shown[column].astype(object)
                    shown.loc[hidden, column] = statuses[name].loc[hidden, column].map(self.rules.symbol)
            out[name] = shown
        return out

    def tables(self) -> list[publication.Table]:
        """The tables as the report shows them: values already protected (symbols in place; the
        statuses of the flow come from the service-paths protection), the legend as the note."""
        published, statuses = self.published(), self.statuses()
        legend = {"primary": self.rules.symbol(publication.PRIMARY),
                  "secondary": self.rules.symbol(publication.SECONDARY),
                  "withheld": self.rules.symbol(publication.WITHHELD),
                  "min_cell": self.rules.min_cell, "min_followup": self.rules.min_followup}
        specs = {
            DATA: publication.Table(DATA, published[DATA], "overview.caption_data", code_columns=("table",),
                                    namespace="overview", decimals=0, counts=("n_rows", "n_units")),
            QUALITY: publication.Table(QUALITY, published.get(QUALITY, pd.DataFrame()), "overview.caption_quality",
                                       code_columns=("file",), namespace="overview", decimals=0),
            CLIENT_FLOW: publication.Table(CLIENT_FLOW, published.get(CLIENT_FLOW, pd.DataFrame()),
                                           "overview.caption_flow", code_columns=("service", "end_reason"),
                                           namespace="overview", decimals={"n": 0, "share": 0},
                                           labels={"service": services.labels(self.services)}),
        }
        out = []
        for name in published:
            spec = specs[name]
            if name == QUALITY:
                spec = replace(spec, data=self._quality_shown(published[QUALITY]))
            if statuses[name].ne("").any().any():
                spec = replace(spec, note="appendix.legend", note_values=legend)
            out.append(spec)
        return out

    def _quality_shown(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The kinds in words, in the project's language (:func:`kind_text`)."""
        language = self.project.language
        return frame.assign(kind=frame["kind"].map(lambda k: k and kind_text(k, language)))

    # -- text ------------------------------------------------------------------------------------
    def _t(self, key: str, language: str, **values) -> str:
        return publication.text(f"overview.{key}", language, **values)

    def text(self, language: str) -> list[str]:
        out = [self.project_text(language), self.data_text(language), self.quality_text(language)]
        if self.client_tables is None:
            out.append(self._t("no_clients", language))
        return out + [self.rule_sentence(language), self.rules.legend(language)]

    def project_text(self, language: str) -> str:
        """Title, description, evaluation period and data cut-off date (words from the parameters
        escaped)."""
        p = self.project.params
        parts = [self._t("project", language, title=p.title[language])]
        if p.description:
            parts.append(publication.escape_markdown(p.description[language]))
        if p.evaluation_period:
            parts.append(self._t("period", language, start=fmt_date(p.evaluation_period[0], language),
                                 end=fmt_date(p.evaluation_period[1], language)))
        parts.append(self._t("cutoff", language, cutoff=fmt_date(p.cutoff_date, language)))
        return " ".join(parts)

    def _count(self, name: str, column: str) -> str:
        shown = self.published()[DATA].set_index("table")
        return str(shown.at[name, column])

    def data_text(self, language: str) -> str:
        """What the data hold: clients, measurements, reviews and responses, as published in the
        data table (small counts of clients as ``<5``)."""
        tables = set(self.summary["table"])
        parts = []
        if "clients" in tables:
            parts.append(self._t("n_clients", language, n=self._count("clients", "n_units")))
        if "kykyviisari" in tables:
            parts.append(self._t("n_measurements", language, n=self._count("kykyviisari", "n_rows"),
                                 n_clients=self._count("kykyviisari", "n_units")))
        fidelity = self.project.table("fidelity")
        if fidelity is not None:
            reviews = fidelity[["site_id", "review_date"]].drop_duplicates()
            parts.append(self._t("n_reviews", language, n=len(reviews), n_sites=reviews["site_id"].nunique()))
        feedback = self.project.table("feedback")
        if feedback is not None:
            parts.append(self._t("n_responses", language, n=len(feedback),
                                 n_surveys=feedback["survey_id"].nunique()))
        if not parts:
            return self._t("no_data", language)
        listing = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} {t('overview.and', language)} {parts[-1]}"
        return t("overview.data_holds", language, listing=listing)

    def quality_text(self, language: str) -> str:
        """The data passed validation, with the published number of remarks."""
        published = self.published()
        n_warnings = published[QUALITY]["n"].iloc[-1] if QUALITY in published else 0
        return self._t("quality", language, n_tables=len(self.project.tables),
                       n_rows=sum(len(f) for f in self.project.tables.values()), n_warnings=n_warnings)

    def rule_sentence(self, language: str) -> str:
        """The disclosure rules of the appendix in words."""
        return self._t("disclosure_rule", language, min_cell=self.rules.min_cell, below=self.rules.min_cell - 1,
                       secondary=self.rules.symbol(publication.SECONDARY),
                       withheld=self.rules.symbol(publication.WITHHELD), min_followup=self.rules.min_followup)

    def figures(self, language: str) -> list[tuple[str, object]]:
        return []


SECTION = OverviewSection

"""Section "Fidelity" (IPS laatukriteerit): the statistics of :mod:`tyokyky_eval.stats.fidelity`, published.

What is published, and why:

- Fidelity reviews rate organisations (sites), not clients: the tables hold item scores, totals,
  bands and counts of *items* (rated, compared, improved …), never a number of clients, so the
  publication layer has no count to suppress here (no table declares ``counts``). ``site_id`` and
  ``rater`` are site and reviewer codes.
- **Free text never leaves the internal tables.** ``na_reason`` is typed by staff and may contain a
  client's name; the published table of unrated items carries a ``reason`` code instead: the reason
  itself when it is a short code (``[a-z0-9_]{1,40}``), else ``recorded_not_published``. The
  verbatim reasons are only in :meth:`FidelitySection.internal` (``tables-internal/``).
- **Internal tables are language-free**: item numbers, section ids, codes and dates. The localised
  item short names and section titles come from the instrument spec (declared labels, not data) and
  are added for display as one column per language (``short_name_fi``/``short_name_en``,
  ``section_title_fi``/``section_title_en``); the appendix shows the columns of its language, and
  band, status, direction and interpretation codes are translated only in display.
- Prose is written with :func:`tyokyky_eval.publication.text` (site codes and the instrument title
  escaped); figures are drawn from the published tables.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from tyokyky_eval import publication
from tyokyky_eval.i18n import LANGUAGES, code_label, fmt_date, fmt_number, t
from tyokyky_eval.publication import escape_mathtext
from tyokyky_eval.sections import Section
from tyokyky_eval.stats import fidelity as fd

#: a ``na_reason`` that may be published as it is (a short code, not free text)
REASON_CODE = re.compile(r"[a-z0-9_]{1,40}")
#: the published reason of a free-text ``na_reason``
NOT_PUBLISHED = "recorded_not_published"
NS = "fidelity"


def reason_code(value, declared=None) -> str | None:
    """The publishable code of a ``na_reason``: the value when it is a declared reason code (the
    instrument's ``na_reasons`` and ``analyses.fidelity.na_reasons``; case and surrounding spaces
    ignored) or, without declared codes, a short code (``[a-z0-9_]{1,40}``);
    ``recorded_not_published`` for any other text; None when empty."""
    if value is None or (not isinstance(value, str) and pd.isna(value)) or str(value).strip() == "":
        return None
    text = str(value).strip()
    if declared:
        return {str(c).lower(): str(c) for c in declared}.get(text.lower(), NOT_PUBLISHED)
    return text if REASON_CODE.fullmatch(text) else NOT_PUBLISHED


def _numbers(values) -> np.ndarray:
    """Published values as floats (protection symbols and empty cells as NaN)."""
    return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(float)


class FidelitySection(Section):
    """IPS fidelity reviews of the project's sites (see :mod:`tyokyky_eval.stats.fidelity`)."""

    name = "fidelity"

    def __init__(self, project):
        super().__init__(project)
        params = project.params
        self.language = project.language
        self.instrument = instrument = fd.load_instrument(params.instrument("fidelity"))
        self.options = options = params.options("fidelity")
        self.items = items = fd.item_table(project.table("fidelity"), instrument)
        self.scores = fd.scores(items, instrument, options)
        official = fd.review_ratings(items)[fd.RATING].drop_duplicates()
        self.official_scores = self.scores.merge(official, on=fd.RATING).reset_index(drop=True)
        sections = fd.section_scores(items, instrument)
        self.sections = sections.merge(official, on=fd.RATING).reset_index(drop=True)
        # unrated_items adds a short name in a language: dropped, names are display labels here
        self.unrated = fd.unrated_items(items, instrument, LANGUAGES[0]).drop(columns="short_name")
        self.item_matrix = fd.item_matrix(items, instrument)
        self.reviews = [(fd.review_key(s, d), s, pd.Timestamp(d))
                        for s, d in official[fd.REVIEW].drop_duplicates().sort_values(fd.REVIEW).itertuples(
                            index=False)]
        self.agreement = fd.agreement(items, instrument)
        self.disagreements = fd.disagreements(items, options)
        self.change = fd.change(items, self.scores)
        self.changed_items = fd.changed_items(items)
        self.development = fd.development_areas(items, options)

    @property
    def limit(self) -> int:
        """The largest number of unrated items that still allows a band."""
        given = self.options.max_unrated_items
        return self.instrument.max_unrated_items if given is None else given

    # -- tables ----------------------------------------------------------------------------------
    def internal(self) -> dict[str, pd.DataFrame]:
        """Full precision and language-free; the unrated items keep the reviewers' own reasons."""
        return {"fidelity_items": self.items, "fidelity_scores": self.scores,
                "fidelity_sections": self.sections, "fidelity_unrated": self.unrated,
                "fidelity_item_matrix": self.item_matrix, "fidelity_change": self.change,
                "fidelity_changed_items": self.changed_items, "fidelity_agreement": self.agreement,
                "fidelity_disagreements": self.disagreements, "fidelity_development": self.development}

    def _names(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with the item short names of every language after ``item``."""
        out = frame.copy()
        at = list(out.columns).index("item") + 1
        for k, language in enumerate(LANGUAGES):
            names = self.instrument.short_names(language)
            out.insert(at + k, f"short_name_{language}", out["item"].map(names).astype(object))
        return out

    def _titles(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with the section titles of every language after ``section``."""
        out = frame.copy()
        at = list(out.columns).index("section") + 1
        for k, language in enumerate(LANGUAGES):
            titles = {s: self.instrument.section_title(s, language) for s in self.instrument.section_ids}
            out.insert(at + k, f"section_title_{language}", out["section"].map(titles).astype(object))
        return out

    def unrated_published(self) -> pd.DataFrame:
        """The unrated items with a ``reason`` code in place of the typed ``na_reason``."""
        out = self.unrated.copy()
        declared = self.instrument.reason_labels(self.options.na_reasons)
        out.insert(list(out.columns).index("na_reason"), "reason",
                   out["na_reason"].map(lambda v: reason_code(v, declared)))
        return self._names(out.drop(columns="na_reason"))

    def _shown(self, columns) -> tuple[str, ...]:
        """Display columns: the label columns of the section's language only."""
        other = {f"{kind}_{lang}" for kind in ("short_name", "section_title") for lang in LANGUAGES
                 if lang != self.language}
        return tuple(c for c in columns if c not in other)

    def tables(self) -> list[publication.Table]:
        threshold = self.threshold_text(self.language)
        sections = self._titles(self.sections.rename(columns={"n_items": "n_section_items"}))
        unrated, matrix = self.unrated_published(), self._names(self.item_matrix)
        changed, development = self._names(self.changed_items), self._titles(self._names(self.development))
        disagreements = self._names(self.disagreements)
        sites = {"site_id": self.project.params.sites}

        def table(name, frame, caption, labels=None, **spec):
            return publication.Table(name, frame, caption, labels={**sites, **(labels or {})}, **spec)

        return [
            table("fidelity_scores", self.scores, "fidelity.caption_scores", note="fidelity.note_scores",
                  columns=tuple(fd.SCORE_COLUMNS), code_columns=("band", "band_is_indicative"),
                  decimals={"prorated_total": 1, "mean_item_score": 2}, namespace=NS),
            table("fidelity_sections", sections, "fidelity.caption_section_scores",
                  note="fidelity.note_section_scores",
                  columns=self._shown(["site_id", "review_date", "rater", "section_title_fi", "section_title_en",
                                       "n_section_items", "n_items_rated", "subtotal", "mean_item_score"]),
                  decimals={"subtotal": 0, "mean_item_score": 2}, namespace=NS),
            table("fidelity_unrated", unrated, "fidelity.caption_unrated", note="fidelity.note_unrated",
                  columns=self._shown(unrated.columns), code_columns=("status", "reason"), namespace=NS,
                  labels={"reason": self.instrument.reason_labels(self.options.na_reasons)}),
            table("fidelity_item_matrix", matrix, "fidelity.caption_items", note="fidelity.note_items",
                  columns=self._shown([c for c in matrix.columns if c != "section"]), namespace=NS,
                  headers=self.review_headers()),
            table("fidelity_change", self.change, "fidelity.caption_change", note="fidelity.note_change",
                  decimals={c: 2 if "mean" in c else 1 for c in self.change.columns}, namespace=NS),
            table("fidelity_changed_items", changed, "fidelity.caption_changed_items",
                  columns=self._shown(changed.columns), code_columns=("direction",), namespace=NS),
            table("fidelity_agreement", self.agreement, "fidelity.caption_agreement",
                  note="fidelity.note_agreement", code_columns=("interpretation",),
                  decimals={"exact_agreement_pct": 0, "within_one_pct": 0, "kappa_quadratic": 2}, namespace=NS),
            table("fidelity_disagreements", disagreements, "fidelity.caption_disagreements",
                  caption_values={"points": self.options.disagreement_points},
                  columns=self._shown(disagreements.columns), namespace=NS),
            table("fidelity_development", development, "fidelity.caption_development",
                  caption_values={"threshold": threshold},
                  columns=self._shown([c for c in development.columns if c != "section"]), namespace=NS),
        ]

    def review_headers(self) -> dict[str, dict]:
        """The item matrix's review columns as shown: the site's label and the review date."""
        params = self.project.params
        return {key: {language: f"{params.site_name(site, language)} {fmt_date(date, language)}"
                      for language in LANGUAGES} for key, site, date in self.reviews}

    # -- text ------------------------------------------------------------------------------------
    def _t(self, key: str, language: str, **values) -> str:
        return publication.text(f"fidelity.{key}", language, **values)

    def band_label(self, code: str, language: str) -> str:
        """Localised band label; a custom instrument's own band codes are shown as they are."""
        return code_label("band", code, language, NS)

    def threshold_text(self, language: str) -> str:
        """The development threshold as shown in text (4 → '4', 3.5 → '3,5' in Finnish)."""
        value = self.options.development_threshold
        return fmt_number(value, language, 0 if float(value).is_integer() else 1)

    def text(self, language: str) -> list[str]:
        paragraphs = [self.method_text(language), self.summary(language)]
        points, threshold = self.options.disagreement_points, self.threshold_text(language)
        if self.unrated.empty:
            paragraphs.append(self._t("none_unrated", language))
        if self.change.empty:
            paragraphs.append(self._t("no_change", language))
        if self.agreement.empty:
            paragraphs.append(self._t("no_agreement", language))
        elif self.disagreements.empty:
            paragraphs.append(self._t("none_disagreements", language, points=points))
        if self.development.empty:
            paragraphs.append(self._t("none_development", language, threshold=threshold))
        return [p for p in paragraphs if p]

    def method_text(self, language: str) -> str:
        """One paragraph on the instrument: items, score range, bands and the rules for unrated items."""
        instrument = self.instrument
        bands = ", ".join(f"{self.band_label(b.code, language)} {fmt_number(b.min, language, 0)}–"
                          f"{fmt_number(b.max, language, 0)}" for b in reversed(instrument.bands))
        return self._t("method", language, title=instrument.title[language], n=instrument.n_items,
                       min=instrument.score_min, max=instrument.score_max, bands=bands, limit=self.limit,
                       threshold=self.threshold_text(language))

    def summary(self, language: str) -> str:
        """Markdown bullets: each site's latest official review with mean item score, total and band,
        saying when the total is prorated, the band indicative, or no band can be given."""
        shown = self.published()["fidelity_scores"]
        rows = shown.merge(self.official_scores[fd.RATING], on=fd.RATING)
        rows = rows[rows["review_date"].eq(rows.groupby("site_id")["review_date"].transform("max"))]
        n_items = self.instrument.n_items
        lines = []
        for row in rows.itertuples():
            unrated = n_items - int(row.n_items_rated)
            band = (self.band_label(row.band, language) if isinstance(row.band, str) and row.band
                    else t("fidelity.no_band", language))
            line = self._t("summary_line", language, site=self.project.params.site_name(row.site_id, language),
                           date=fmt_date(row.review_date, language),
                           mean=fmt_number(row.mean_item_score, language, 2),
                           total=fmt_number(row.prorated_total, language, 0 if unrated == 0 else 1),
                           max=n_items * self.instrument.score_max, band=band)
            if unrated and isinstance(row.band, str) and row.band:
                line += " " + self._t("summary_indicative", language, n=unrated, items=n_items)
            elif unrated:
                line += " " + self._t("summary_no_band", language, n=unrated, items=n_items, limit=self.limit)
            lines.append(f"- {line}")
        return "\n".join(lines)

    # -- figures ---------------------------------------------------------------------------------
    def _site(self, code, language: str) -> str:
        """A site's label (declared under ``sites``, else its code) for a figure."""
        return escape_mathtext(self.project.params.site_name(code, language))

    def figures(self, language: str) -> list[tuple[str, object]]:
        shown = self.published()
        if not self.reviews:
            return []
        return [(t("fidelity.caption_profile", language), self.figure_item_profile(shown["fidelity_item_matrix"],
                                                                                     language)),
                (t("fidelity.caption_sections", language), self.figure_sections(shown["fidelity_sections"],
                                                                                  language)),
                (t("fidelity.caption_totals", language), self.figure_totals(shown["fidelity_scores"], language))]

    def _axes(self, n: int, ax, size):
        """One axes per panel: ``ax`` (an Axes, or a sequence of one per panel) or a new figure."""
        from matplotlib.figure import Figure

        if ax is None:
            fig = Figure(figsize=size)
            return fig, list(fig.subplots(1, n, sharey=True, squeeze=False)[0])
        axes = list(np.atleast_1d(ax))
        if len(axes) != n:
            raise ValueError(f"this figure needs {n} axes (one per site), got {len(axes)}")
        return axes[0].figure, axes

    def figure_item_profile(self, matrix: pd.DataFrame, language: str, ax=None):
        """Item scores of each site's latest official review against the previous one (dots; an item
        not rated is left empty), from the published item matrix. One panel per site."""
        instrument, n = self.instrument, self.instrument.n_items
        sites = sorted({site for _, site, _ in self.reviews})
        fig, axes = self._axes(len(sites), ax, (3.2 + 2.6 * len(sites), 1.2 + 0.28 * n))
        names = instrument.short_names(language)
        position = dict(zip(_numbers(matrix["item"]).astype(int), range(len(matrix))))
        for panel, site in zip(axes, sites):
            reviews = [(key, date) for key, s, date in self.reviews if s == site][-2:]
            styles = ({"marker": "o", "mfc": "white", "color": "0.55"}, {"marker": "o", "color": "C0"})
            for (key, date), style in zip(reviews, styles[2 - len(reviews):]):
                scores = _numbers(matrix[key])
                y = np.array([scores[position[i]] if i in position else np.nan for i in range(1, n + 1)])
                panel.plot(y, np.arange(1, n + 1), ls="", ms=6, label=fmt_date(date, language), **style)
            panel.set_title(self._site(site, language))
            panel.set_xlim(instrument.score_min - 0.5, instrument.score_max + 0.5)
            panel.set_xticks(range(instrument.score_min, instrument.score_max + 1))
            panel.set_xlabel(t("fidelity.figure.item_score", language))
            panel.grid(axis="x", color="0.9")
            panel.legend(loc="upper center", bbox_to_anchor=(0.5, -0.07 * 25 / (n + 8)), ncol=2, fontsize=8,
                         title=t("fidelity.figure.review", language), title_fontsize=8)
        axes[0].set_yticks(range(1, n + 1), [escape_mathtext(f"{i} {names[i]}") for i in range(1, n + 1)], fontsize=8)
        axes[0].set_ylim(n + 0.7, 0.3)
        fig.tight_layout()
        return fig

    def figure_sections(self, sections: pd.DataFrame, language: str, ax=None):
        """Mean item score per section in each official review (bars grouped by section, one panel
        per site), from the published section table; the mean is over rated items, so sections of
        different sizes compare."""
        ids = self.instrument.section_ids
        sites = sorted(sections["site_id"].unique())
        fig, axes = self._axes(len(sites), ax, (2.5 + 3.2 * len(sites), 3.6))
        x = np.arange(len(ids))
        for panel, site in zip(axes, sites):
            rows = sections[sections["site_id"].eq(site)]
            dates = sorted(rows["review_date"].unique())
            width = 0.8 / len(dates)
            for k, date in enumerate(dates):
                review = rows[rows["review_date"].eq(date)]
                means = pd.Series(_numbers(review["mean_item_score"]), index=review["section"].to_numpy())
                panel.bar(x - 0.4 + width * (k + 0.5), means.reindex(ids).to_numpy(), width,
                          label=fmt_date(date, language), color=f"C{k}")
            panel.set_xticks(x, [escape_mathtext(self.instrument.section_title(s, language)) for s in ids],
                             rotation=20, ha="right")
            panel.set_ylim(0, self.instrument.score_max)
            panel.set_title(self._site(site, language))
            panel.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.08), ncol=len(dates), frameon=False)
        axes[0].set_ylabel(t("fidelity.figure.mean_item_score", language))
        fig.tight_layout()
        return fig

    def figure_totals(self, scores: pd.DataFrame, language: str, ax=None):
        """Prorated total of each site's official reviews over time, with the band thresholds drawn;
        hollow markers are prorated totals (indicative band). From the published scores."""
        instrument = self.instrument
        rows = scores.merge(self.official_scores[fd.RATING], on=fd.RATING).sort_values(fd.REVIEW)
        fig, (ax,) = self._axes(1, ax, (7, 4))
        low, high = instrument.n_items * instrument.score_min, instrument.n_items * instrument.score_max
        for band in instrument.bands:
            if band.min > low:
                ax.axhline(band.min, color="0.6", lw=0.8, ls="--")
            ax.text(1.01, (max(band.min, low) + min(band.max, high)) / 2, escape_mathtext(self.band_label(band.code, language)),
                    transform=ax.get_yaxis_transform(), va="center", fontsize=8, color="0.35")
        for k, (site, site_rows) in enumerate(rows.groupby("site_id", sort=True)):
            total = _numbers(site_rows["prorated_total"])
            dates = site_rows["review_date"].to_numpy()
            prorated = _numbers(site_rows["n_items_rated"]) < instrument.n_items
            ax.plot(dates, total, color=f"C{k}", label=self._site(site, language))
            ax.plot(dates[~prorated], total[~prorated], "o", color=f"C{k}")
            ax.plot(dates[prorated], total[prorated], "o", color=f"C{k}", mfc="white")
        ax.set_ylim(low, high)
        ax.set_ylabel(t("fidelity.figure.total", language))
        ax.set_xlabel(t("fidelity.figure.review_date", language))
        dates = sorted(rows["review_date"].unique())
        ax.set_xticks(dates, [fmt_date(d, language) for d in dates], rotation=30, ha="right")
        ax.legend(fontsize=8, loc="lower right")
        fig.tight_layout()
        return fig


SECTION = FidelitySection

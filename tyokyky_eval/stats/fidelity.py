"""Fidelity scoring (laatukriteerit), driven by an instrument spec in ``data_dictionary/instruments/``.

The IPS Supported Employment Fidelity Scale (IPS-25; Becker, Swanson, Reese, Bond & McLeman 2019,
4th ed.) has 25 items scored 1–5, total 25–125, bands 115–125 exemplary, 100–114 good, 74–99 fair and
≤ 73 not supported employment. Nothing of that is written here: items, sections, score range, bands
and the largest number of unrated items that still allows a band are read from the YAML spec, so the
older 15-item scale or a Finnish adapted criteria set is scored by the same code.

Rules (per site, review and rater):

- ``total`` is the sum of the rated items; ``mean_item_score`` their mean (how Kuntoutussäätiö
  reports fidelity); ``prorated_total`` = mean item score × number of items of the scale, so a review
  with not-applicable items is put on the scale of the full total.
- Items rated not applicable (score empty, reason given) and items with no row at all are *unrated*;
  both are listed with their reason (``unrated_items``), never dropped silently.
- The band is read from the prorated total as thresholds: the highest band whose minimum the total
  reaches (prorated totals are not rounded, so 114.6 is *good*, not *exemplary*). A band resting on
  a prorated total is marked indicative; with more than ``max_unrated_items`` unrated items no band
  is given.
- The review score of a site and date (used for change and development areas) is the ``consensus``
  rating, or the only rater's rating when a review has a single rater and no consensus.
- Two-rater agreement uses the independent ratings (all raters other than ``consensus``): exact and
  within-one agreement and Cohen's (1968) quadratic weighted kappa, interpreted by Landis & Koch
  (1977).

These are pure functions of tidy frames (no language, no ``min_cell``, no project); the appendix
section, its texts, display labels and figures are in :mod:`tyokyky_eval.sections.fidelity`.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tyokyky_eval.errors import ParameterError
from tyokyky_eval.inputs import dictionary

CONSENSUS = "consensus"
REVIEW = ["site_id", "review_date"]
RATING = ["site_id", "review_date", "rater"]
SCORE_COLUMNS = ["site_id", "review_date", "rater", "n_items_rated", "total", "prorated_total",
                 "mean_item_score", "band", "band_is_indicative"]
ITEM_COLUMNS = ["site_id", "review_date", "rater", "item", "section", "score", "status", "na_reason"]
#: Landis & Koch (1977) upper limits of each agreement label (kappa ≤ limit), from the lowest.
LANDIS_KOCH = [(0.0, "poor"), (0.20, "slight"), (0.40, "fair"), (0.60, "moderate"),
               (0.80, "substantial"), (1.0, "almost_perfect")]


@dataclass(frozen=True)
class Options:
    """Options of the fidelity section (``analyses.fidelity`` in the parameters file).

    ``development_threshold``: items of the latest review scoring below this are development areas
    (item score units, IPS-25 default 4). ``max_unrated_items``: no band when more items than this
    are unrated (None = the instrument's own rule, IPS-25: 5 of 25). ``disagreement_points``: list
    the items where two raters differ by at least this many points (default 2).
    """

    development_threshold: float = 4
    max_unrated_items: int | None = None
    disagreement_points: int = 2
    na_reasons: dict | None = None  # {code: {fi, en}} reason codes added to the instrument's own

    def __post_init__(self):
        if isinstance(self.development_threshold, bool) or not isinstance(self.development_threshold,
                                                                          (int, float)):
            raise ValueError(f"development_threshold must be a number (an item score), "
                             f"got {self.development_threshold!r}")
        if self.max_unrated_items is not None and (
                isinstance(self.max_unrated_items, bool) or not isinstance(self.max_unrated_items, int)
                or self.max_unrated_items < 0):
            raise ValueError(f"max_unrated_items must be a whole number ≥ 0 (or empty for the "
                             f"instrument's own rule), got {self.max_unrated_items!r}")
        if isinstance(self.disagreement_points, bool) or not isinstance(self.disagreement_points, int) \
                or self.disagreement_points < 1:
            raise ValueError(f"disagreement_points must be a whole number ≥ 1, got {self.disagreement_points!r}")
        if self.na_reasons is not None:
            problems = _reason_problems(self.na_reasons)
            if problems:
                raise ValueError("na_reasons: " + "; ".join(problems))


def _reason_problems(reasons) -> list[str]:
    """What is wrong with a ``{code: {fi: label, en: label}}`` mapping of reason codes."""
    from tyokyky_eval.inputs.identifiers import CODE

    if not isinstance(reasons, dict):
        return [f"expected a mapping code → {{fi: label, en: label}}, got {type(reasons).__name__}"]
    problems = []
    for code, labels in reasons.items():
        if not isinstance(code, str) or not CODE.fullmatch(code):
            problems.append(f"'{code}' is not a code (letters, digits, _, - and . without spaces)")
        if not isinstance(labels, dict) or not all(isinstance(labels.get(lang), str) and labels[lang].strip()
                                                   for lang in ("fi", "en")):
            problems.append(f"'{code}' needs labels fi and en")
    return problems


# -- instrument --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Band:
    """A band of the total (scale points, both ends included)."""

    code: str
    min: float
    max: float


@dataclass(frozen=True)
class Instrument:
    """A fidelity scale read from its YAML spec (see ``data_dictionary/instruments/ips25.yaml``)."""

    id: str
    title: dict
    score_min: int
    score_max: int
    bands: tuple[Band, ...]
    max_unrated_items: int
    sections: tuple[tuple[str, dict], ...]  # (id, {fi, en} title), in spec order
    items: pd.DataFrame  # item, section, short_name_fi, short_name_en
    na_reasons: tuple[tuple[str, dict], ...] = ()  # (code, {fi, en} label) of not-applicable reasons

    def reason_labels(self, extra: dict | None = None) -> dict[str, dict]:
        """Declared reason code → {fi, en} label: the spec's ``na_reasons``, then ``extra``
        (``Options.na_reasons``) on top."""
        return {**dict(self.na_reasons), **(extra or {})}

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def section_ids(self) -> list[str]:
        return [s for s, _ in self.sections]

    def section_title(self, section: str, language: str) -> str:
        return dict(self.sections)[section][language]

    def short_names(self, language: str) -> pd.Series:
        """Short item names in ``language``, indexed by item number."""
        return self.items.set_index("item")[f"short_name_{language}"]

    def band(self, total: float) -> str | None:
        """Band code of a (possibly prorated) total: the highest band whose minimum it reaches."""
        if total is None or pd.isna(total):
            return None
        for band in sorted(self.bands, key=lambda b: b.min, reverse=True):
            if total >= band.min:
                return band.code
        return None


def load_instrument(spec: str | Path | dict) -> Instrument:
    """An ``Instrument`` from a built-in id (``ips25``), a YAML path or an already loaded mapping;
    raises ``ParameterError`` listing every problem of the spec."""
    raw = spec if isinstance(spec, dict) else dictionary.instrument(str(spec))
    if not isinstance(raw, dict):
        raise ParameterError(f"instrument {spec}: expected a mapping with items, sections and bands")
    name = raw.get("id", str(spec))
    errors = []
    need = ("id", "title", "score_range", "bands", "max_unrated_items", "sections", "items")
    errors += [f"instrument {name}: missing key '{k}'" for k in need if k not in raw]
    if errors:
        raise ParameterError(errors)
    lo, hi = raw["score_range"].get("min"), raw["score_range"].get("max")
    if not (isinstance(lo, int) and isinstance(hi, int) and lo < hi):
        errors.append(f"instrument {name}: score_range needs whole numbers min < max, got {lo}–{hi}")
    sections = tuple((str(s["id"]), dict(s["title"])) for s in raw["sections"])
    section_ids = [s for s, _ in sections]
    clash = set(section_ids) & set(SCORE_COLUMNS)
    if clash or len(set(section_ids)) != len(section_ids):
        errors.append(f"instrument {name}: section ids must be unique and not one of "
                      f"{', '.join(SCORE_COLUMNS)}")
    items = pd.DataFrame([{"item": i.get("number"), "section": i.get("section"),
                           "short_name_fi": i.get("short_name", {}).get("fi"),
                           "short_name_en": i.get("short_name", {}).get("en")} for i in raw["items"]])
    if items.empty or items["item"].tolist() != list(range(1, len(items) + 1)):
        errors.append(f"instrument {name}: items must be numbered 1, 2, 3, … in order")
    else:
        for row in items.itertuples():
            if row.section not in section_ids:
                errors.append(f"instrument {name}: item {row.item} is in unknown section '{row.section}'")
            if not row.short_name_fi or not row.short_name_en:
                errors.append(f"instrument {name}: item {row.item} needs short_name fi and en")
    bands = tuple(sorted((Band(str(b["code"]), b["min"], b["max"]) for b in raw["bands"]), key=lambda b: b.min))
    for lower, upper in itertools.pairwise(bands):
        if upper.min != lower.max + 1:
            errors.append(f"instrument {name}: bands must follow each other without gaps or overlaps "
                          f"({lower.code} ends at {lower.max}, {upper.code} starts at {upper.min})")
    if any(b.max < b.min for b in bands):
        errors.append(f"instrument {name}: a band's max is below its min")
    unrated = raw["max_unrated_items"]
    if not isinstance(unrated, int) or unrated < 0:
        errors.append(f"instrument {name}: max_unrated_items must be a whole number ≥ 0")
    reasons = raw.get("na_reasons") or {}
    errors += [f"instrument {name}: na_reasons: {p}" for p in _reason_problems(reasons)]
    if errors:
        raise ParameterError(errors)
    return Instrument(str(raw["id"]), dict(raw["title"]), lo, hi, bands, unrated, sections,
                      items.astype({"item": "int64"}),
                      tuple((str(code), dict(labels)) for code, labels in reasons.items()))


# -- scoring -----------------------------------------------------------------------------------
def _sort_raters(frame: pd.DataFrame, extra=()) -> pd.DataFrame:
    """Sort by site, date, rater (independent raters first, consensus last) and ``extra``."""
    key = frame["rater"].eq(CONSENSUS).astype(int)
    return (frame.assign(_c=key).sort_values(["site_id", "review_date", "_c", "rater", *extra], kind="stable")
            .drop(columns="_c").reset_index(drop=True))


def item_table(fidelity: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Every item of every rating (site, review, rater) with ``status`` rated / not_applicable /
    missing (no row in the data); columns ``ITEM_COLUMNS`` (``fidelity_items.csv``)."""
    if fidelity.duplicated([*RATING, "item"]).any():
        raise ValueError("fidelity data have more than one score for the same site, review, rater and item")
    ratings = fidelity[RATING].drop_duplicates()
    grid = ratings.merge(instrument.items[["item", "section"]], how="cross")
    out = grid.merge(fidelity[[*RATING, "item", "score", "na_reason"]], on=[*RATING, "item"], how="left",
                     indicator=True)
    out["score"] = out["score"].astype("Int64")
    out["status"] = np.where(out["score"].notna(), "rated",
                             np.where(out["_merge"].eq("both"), "not_applicable", "missing"))
    return _sort_raters(out[ITEM_COLUMNS], extra=["item"])


def scores(items: pd.DataFrame, instrument: Instrument, options: Options = Options()) -> pd.DataFrame:
    """One row per site, review and rater: ``SCORE_COLUMNS`` plus one subtotal column per section
    (sum of the section's rated items). Totals are in scale points (IPS-25: 25–125)."""
    rated = items.assign(value=items["score"].astype("float64"))
    grouped = rated.groupby(RATING, sort=False)["value"]
    out = pd.DataFrame({"n_items_rated": grouped.count(), "total": grouped.sum(min_count=1),
                        "mean_item_score": grouped.mean()}).reset_index()
    # total × items / rated (not mean × items): exact when nothing is prorated, so 115 stays 115
    out["prorated_total"] = out["total"] * instrument.n_items / out["n_items_rated"].where(out["n_items_rated"] > 0)
    out["total"] = out["total"].round().astype("Int64")
    limit = instrument.max_unrated_items if options.max_unrated_items is None else options.max_unrated_items
    unrated = instrument.n_items - out["n_items_rated"]
    bands = out["prorated_total"].map(instrument.band)
    out["band"] = bands.where(unrated.le(limit), None).astype(object)
    out["band_is_indicative"] = out["band"].notna() & unrated.gt(0)
    sections = (rated.pivot_table(index=RATING, columns="section", values="value", aggfunc="sum",
                                  dropna=False, observed=True)
                .reindex(columns=instrument.section_ids))
    counts = rated.pivot_table(index=RATING, columns="section", values="value", aggfunc="count",
                               dropna=False, observed=True).reindex(columns=instrument.section_ids)
    sections = sections.where(counts.gt(0)).round().astype("Int64").reset_index()
    sections.columns.name = None
    out = out.merge(sections, on=RATING, how="left")
    return _sort_raters(out[SCORE_COLUMNS + instrument.section_ids])


def section_scores(items: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Long table per rating and section: ``n_items``, ``n_items_rated``, ``subtotal`` and
    ``mean_item_score`` (item score units; comparable between sections of different sizes)."""
    rated = items.assign(value=items["score"].astype("float64"))
    out = (rated.groupby([*RATING, "section"], sort=False)["value"]
           .agg(n_items="size", n_items_rated="count", subtotal="sum", mean_item_score="mean").reset_index())
    out["subtotal"] = out["subtotal"].where(out["n_items_rated"].gt(0))  # nothing rated: no subtotal
    out["section"] = pd.Categorical(out["section"], instrument.section_ids, ordered=True)
    out = _sort_raters(out, extra=["section"])
    out["section"] = out["section"].astype(str)
    return out


def review_ratings(items: pd.DataFrame) -> pd.DataFrame:
    """The items of each review's official rating: ``consensus``, or the only rater of a review
    that has one rater and no consensus."""
    raters = items.groupby(REVIEW)["rater"].agg(lambda r: set(r))
    official = {key: CONSENSUS if CONSENSUS in r else next(iter(r)) for key, r in raters.items()
                if CONSENSUS in r or len(r) == 1}
    chosen = pd.Series(official, dtype=object).rename("chosen")
    if chosen.empty:
        return items.iloc[0:0]
    chosen.index.names = REVIEW
    keep = items.join(chosen, on=REVIEW)
    return keep[keep["rater"].eq(keep["chosen"])].drop(columns="chosen").reset_index(drop=True)


def unrated_items(items: pd.DataFrame, instrument: Instrument, language: str) -> pd.DataFrame:
    """Items left out of the scores, with reasons: ``site_id, review_date, item, short_name, status,
    na_reason, raters`` (raters who left the item unrated, consensus last)."""
    left = items[items["status"].ne("rated")]
    key = [*REVIEW, "item", "status", "na_reason"]
    out = (left.fillna({"na_reason": ""}).groupby(key, sort=False)["rater"]
           .agg(", ".join).rename("raters").reset_index())
    out["na_reason"] = out["na_reason"].replace("", None)
    out.insert(3, "short_name", out["item"].map(instrument.short_names(language)))
    return out.sort_values([*REVIEW, "item"], kind="stable").reset_index(drop=True)


def review_key(site_id, review_date) -> str:
    """Column key of a review in :func:`item_matrix`: ``<site> <YYYY-MM-DD>`` (language-free)."""
    return f"{site_id} {pd.Timestamp(review_date):%Y-%m-%d}"


def item_matrix(items: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Official item scores: one row per item (``item``, ``section`` id), one column per site and
    review (:func:`review_key`, in site and date order); empty where the item was not rated."""
    official = review_ratings(items).sort_values(REVIEW, kind="stable")
    official = official.assign(review=[review_key(s, d) for s, d in zip(official["site_id"],
                                                                         official["review_date"])])
    order = official.drop_duplicates("review")["review"].tolist()
    wide = official.pivot(index="item", columns="review", values="score").reindex(columns=order)
    wide.columns.name = None
    out = instrument.items[["item", "section"]].reset_index(drop=True)
    return out.merge(wide, left_on="item", right_index=True, how="left")


# -- agreement ---------------------------------------------------------------------------------
def weighted_kappa(a, b, categories) -> float:
    """Cohen's (1968) weighted kappa with quadratic weights w_ij = (i − j)² over ``categories``
    (the full score range, so the weights are true score distances): 1 − Σ w·O / Σ w·E, O the
    observed and E the chance-expected (product of marginals) proportions. NaN when undefined."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    categories = np.asarray(categories, dtype=float)
    index = {v: i for i, v in enumerate(categories)}
    if len(a) == 0 or len(a) != len(b) or not set(a) | set(b) <= set(index):
        raise ValueError("weighted_kappa needs two equally long ratings within the categories")
    k = len(categories)
    observed = np.zeros((k, k))
    np.add.at(observed, ([index[v] for v in a], [index[v] for v in b]), 1)
    observed /= observed.sum()
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    weights = np.subtract.outer(categories, categories) ** 2
    chance = (weights * expected).sum()
    return float("nan") if chance == 0 else float(1 - (weights * observed).sum() / chance)


def landis_koch(kappa: float) -> str | None:
    """Landis & Koch (1977) label: poor (< 0), slight (≤ .20), fair (≤ .40), moderate (≤ .60),
    substantial (≤ .80), almost_perfect; None when kappa is missing."""
    if kappa is None or pd.isna(kappa):
        return None
    if kappa < 0:
        return "poor"
    return next(label for limit, label in LANDIS_KOCH[1:] if kappa <= limit + 1e-12)


def _rater_pairs(items: pd.DataFrame) -> pd.DataFrame:
    """Item scores of every pair of independent raters of a review, items rated by both."""
    own = items[items["rater"].ne(CONSENSUS) & items["status"].eq("rated")]
    pairs = []
    for (site, date), review in own.groupby(REVIEW, sort=True):
        for rater_a, rater_b in itertools.combinations(sorted(review["rater"].unique()), 2):
            a = review[review["rater"].eq(rater_a)].set_index("item")["score"]
            b = review[review["rater"].eq(rater_b)].set_index("item")["score"]
            both = pd.concat({"score_a": a, "score_b": b}, axis=1, join="inner").reset_index()
            pairs.append(both.assign(site_id=site, review_date=date, rater_a=rater_a, rater_b=rater_b))
    columns = [*REVIEW, "rater_a", "rater_b", "item", "score_a", "score_b"]
    return pd.concat(pairs, ignore_index=True)[columns] if pairs else pd.DataFrame(columns=columns)


def agreement(items: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Agreement of the independent ratings before consensus, per review and pair of raters:
    ``n_items`` (rated by both), ``exact_agreement_pct``, ``within_one_pct`` (percent of items),
    ``kappa_quadratic`` and its Landis–Koch ``interpretation``."""
    pairs = _rater_pairs(items)
    categories = range(instrument.score_min, instrument.score_max + 1)
    rows = []
    for key, pair in pairs.groupby([*REVIEW, "rater_a", "rater_b"], sort=True):
        diff = (pair["score_a"] - pair["score_b"]).abs().astype(int)
        kappa = weighted_kappa(pair["score_a"], pair["score_b"], categories)
        rows.append((*key, len(pair), 100 * diff.eq(0).mean(), 100 * diff.le(1).mean(), kappa,
                     landis_koch(kappa)))
    return pd.DataFrame(rows, columns=[*REVIEW, "rater_a", "rater_b", "n_items", "exact_agreement_pct",
                                       "within_one_pct", "kappa_quadratic", "interpretation"])


def disagreements(items: pd.DataFrame, options: Options = Options()) -> pd.DataFrame:
    """Items where two independent raters differ by at least ``options.disagreement_points``:
    ``site_id, review_date, rater_a, rater_b, item, score_a, score_b, difference``."""
    pairs = _rater_pairs(items)
    pairs["difference"] = (pairs["score_a"] - pairs["score_b"]).abs().astype("Int64")
    return pairs[pairs["difference"].ge(options.disagreement_points)].reset_index(drop=True)


# -- change and development --------------------------------------------------------------------
def _consecutive(official: pd.DataFrame) -> pd.DataFrame:
    """Item scores of consecutive official reviews of a site side by side (items rated both times)."""
    dates = official[REVIEW].drop_duplicates().sort_values(REVIEW)
    dates["previous_date"] = dates.groupby("site_id")["review_date"].shift()
    dates = dates.dropna(subset=["previous_date"])
    now = official[official["status"].eq("rated")][[*REVIEW, "item", "score"]]
    before = now.rename(columns={"review_date": "previous_date", "score": "previous_score"})
    out = dates.merge(now, on=REVIEW).merge(before, on=["site_id", "previous_date", "item"])
    out["change"] = (out["score"] - out["previous_score"]).astype("Int64")
    return out[["site_id", "previous_date", "review_date", "item", "previous_score", "score", "change"]]


def change(items: pd.DataFrame, review_scores: pd.DataFrame) -> pd.DataFrame:
    """Change between consecutive official reviews of each site: prorated totals and mean item
    scores before and after, and the number of items (rated both times) that improved, declined or
    stayed the same."""
    official = review_ratings(items)
    pairs = _consecutive(official)
    counts = (pairs.assign(improved=pairs["change"].gt(0), declined=pairs["change"].lt(0),
                           unchanged=pairs["change"].eq(0))
              .groupby(["site_id", "previous_date", "review_date"])
              .agg(n_items_compared=("item", "size"), n_improved=("improved", "sum"),
                   n_declined=("declined", "sum"), n_unchanged=("unchanged", "sum")).reset_index())
    totals = review_scores.merge(official[RATING].drop_duplicates(), on=RATING)[
        [*REVIEW, "prorated_total", "mean_item_score"]]
    before = totals.rename(columns={"review_date": "previous_date", "prorated_total": "previous_prorated_total",
                                    "mean_item_score": "previous_mean_item_score"})
    out = counts.merge(before, on=["site_id", "previous_date"]).merge(totals, on=REVIEW)
    out["change_prorated_total"] = out["prorated_total"] - out["previous_prorated_total"]
    out["change_mean_item_score"] = out["mean_item_score"] - out["previous_mean_item_score"]
    columns = ["site_id", "previous_date", "review_date", "previous_prorated_total", "prorated_total",
               "change_prorated_total", "previous_mean_item_score", "mean_item_score",
               "change_mean_item_score", "n_items_compared", "n_improved", "n_declined", "n_unchanged"]
    return out[columns].sort_values(["site_id", "review_date"]).reset_index(drop=True)


def changed_items(items: pd.DataFrame) -> pd.DataFrame:
    """Items whose official score improved or declined between consecutive reviews of a site
    (``direction`` improved / declined), by site, date, largest change first."""
    pairs = _consecutive(review_ratings(items))
    out = pairs[pairs["change"].ne(0)].copy()
    out["direction"] = np.where(out["change"].gt(0), "improved", "declined")
    out = out.assign(_abs=out["change"].abs())
    return (out.sort_values(["site_id", "review_date", "direction", "_abs", "item"],
                            ascending=[True, True, False, False, True], kind="stable")
            .drop(columns="_abs").reset_index(drop=True))


def development_areas(items: pd.DataFrame, options: Options = Options()) -> pd.DataFrame:
    """Items below ``options.development_threshold`` in each site's latest official review, lowest
    score first: ``site_id, review_date, item, section, score`` (``section`` is the section id)."""
    official = review_ratings(items)
    latest = official.groupby("site_id")["review_date"].transform("max")
    last = official[official["review_date"].eq(latest) & official["status"].eq("rated")]
    out = last[last["score"].astype(float).lt(options.development_threshold)]
    out = out.sort_values(["site_id", "score", "item"], kind="stable")[[*REVIEW, "item", "section", "score"]]
    return out.reset_index(drop=True)

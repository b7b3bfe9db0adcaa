"""Feedback surveys: item statistics, rounds compared, respondent groups side by side.

Responses come from the canonical ``feedback`` table (one row per survey, round, respondent and
item). Each survey's response scales are data: a survey spec (``data_dictionary/surveys/<id>.yaml``
or a YAML file named in ``analyses.feedback.surveys``) with

- ``id``, ``title: {fi, en}``, ``reference``;
- ``scales``: named scales, each ``type`` (``agreement`` = labelled ordinal such as 1–5
  disagree–agree, ``rating`` = numeric ordinal such as 0–10, ``yes_no`` = 0 no / 1 yes, ``count`` =
  a number of times), whole-number ``min`` and ``max``, optional ``neutral`` (the category the
  diverging chart is centred on) and optional ``labels: {value: {fi, en}}``;
- ``items``: ``id``, ``scale``, ``text: {fi, en}``.

Methods: the mean's confidence interval is the t interval (mean ± t(1−α/2, n−1)·sd/√n, sd with
n−1); median and quartiles use linear interpolation (Hyndman–Fan type 7, NumPy's default). Rounds
are compared first vs last round: the Wilcoxon signed-rank test (pairs with a zero difference
dropped, Wilcoxon's method) with the matched-pairs rank-biserial correlation when ``respondent_id``
links the rounds, else the Mann–Whitney U test with the rank-biserial correlation (= Cliff's delta);
with three or more rounds also the Friedman test with Kendall's W (linked) or the Kruskal–Wallis test
with ε² = H/(n−1) (Tomczak & Tomczak 2014). Positive effect sizes mean higher responses in the later
round; the exact, permutation and normal-approximation rules of each test are in
``tyokyky_eval.rank_tests``. Disclosure: an item's categories are merged into below-neutral / neutral / above-neutral bands
when any category has fewer than ``min_cell`` respondents, then small bands are suppressed (with
secondary suppression, since the item's n is published); item statistics with n < ``min_cell`` are
withheld.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from tyokyky_eval.disclosure import suppression_mask, withhold_rows
from tyokyky_eval.errors import ParameterError
from tyokyky_eval.i18n import code_label, t
from tyokyky_eval.publication import escape_markdown
from tyokyky_eval.rank_tests import signed_rank_test
from tyokyky_eval.resources import resource_dir

SCALE_TYPES = ("agreement", "rating", "yes_no", "count")
KEYS = ["survey_id", "round", "respondent_group", "item_id"]
SUMMARY_STATS = ["mean", "ci_low", "ci_high", "sd", "median", "q1", "q3"]
CODE_COLUMNS = ("respondent_group", "test", "effect_measure", "paired", "rounds")  # translated in the appendix


@dataclass(frozen=True)
class Options:
    """``surveys``: survey_id → built-in spec id or YAML path (relative to the parameters file);
    a survey not named uses the built-in spec of the same id. ``confidence``: level of the
    mean's confidence interval."""

    surveys: dict = field(default_factory=dict)
    confidence: float = 0.95

    def __post_init__(self):
        if not isinstance(self.surveys, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in self.surveys.items()):
            raise ValueError("surveys must map a survey_id to a spec id or a .yaml path")
        if not 0 < self.confidence < 1:
            raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95), got {self.confidence}")


# -- survey specs ------------------------------------------------------------------------------
def builtin_surveys() -> list[str]:
    """Ids of the survey specs shipped in ``data_dictionary/surveys/``."""
    return sorted(e.name[:-5] for e in resource_dir("data_dictionary").joinpath("surveys").iterdir()
                  if e.name.endswith(".yaml"))


def load_survey(spec: str, base: Path | None = None) -> dict:
    """A checked survey spec: a built-in id or a YAML path (relative to ``base``)."""
    if spec.endswith((".yaml", ".yml")):
        path = Path(base or ".") / spec
        if not path.is_file():
            raise ParameterError(f"analyses.feedback.surveys: file not found: {path.resolve()}")
        text = path.read_text(encoding="utf-8")
    else:
        if spec not in builtin_surveys():
            raise ParameterError(f"no survey spec '{spec}': built-in specs are {', '.join(builtin_surveys())}; "
                                 "name your own YAML file in analyses.feedback.surveys")
        text = resource_dir("data_dictionary").joinpath("surveys", f"{spec}.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    problems = []
    for name, scale in data.get("scales", {}).items():
        if scale.get("type") not in SCALE_TYPES:
            problems.append(f"scale {name}: type must be one of {', '.join(SCALE_TYPES)}")
        lo, hi, neutral = scale.get("min"), scale.get("max"), scale.get("neutral")
        if not (isinstance(lo, int) and isinstance(hi, int) and lo < hi):
            problems.append(f"scale {name}: min and max must be whole numbers with min < max")
        elif neutral is not None and not lo <= neutral <= hi:
            problems.append(f"scale {name}: neutral {neutral} is outside {lo}–{hi}")
    for item in data.get("items") or []:
        if item.get("scale") not in data.get("scales", {}):
            problems.append(f"item {item.get('id')}: unknown scale '{item.get('scale')}'")
    if not data.get("items"):
        problems.append("no items")
    if problems:
        raise ParameterError([f"survey spec {spec}: {p}" for p in problems])
    return data


def survey_specs(feedback: pd.DataFrame, options: Options, base: Path | None = None) -> dict[str, dict]:
    """The spec of every survey in ``feedback`` (survey_id → spec)."""
    return {sid: load_survey(options.surveys.get(sid, sid), base)
            for sid in sorted(feedback["survey_id"].unique())}


def item_scale(spec: dict, item_id: str) -> dict:
    """The scale of ``item_id`` in ``spec`` (``type``, ``min``, ``max``, optional ``neutral``)."""
    for item in spec["items"]:
        if item["id"] == item_id:
            return spec["scales"][item["scale"]]
    raise KeyError(f"item '{item_id}' is not in survey spec '{spec['id']}'")


def _centre(scale: dict) -> float:
    """The diverging chart's centre: the neutral category, else the middle of the scale."""
    return float(scale["neutral"]) if scale.get("neutral") is not None else (scale["min"] + scale["max"]) / 2


def out_of_scale(feedback: pd.DataFrame, specs: dict[str, dict]) -> pd.Series:
    """True for responses outside their item's scale, not whole numbers, or of an unknown item."""
    bad = pd.Series(False, index=feedback.index)
    for (sid, item), rows in feedback.groupby(["survey_id", "item_id"]).groups.items():
        try:
            scale = item_scale(specs[sid], item)
        except KeyError:
            bad[rows] = True
            continue
        r = feedback.loc[rows, "response"]
        bad[rows] = r.notna() & (r.lt(scale["min"]) | r.gt(scale["max"]) | r.mod(1).ne(0))
    return bad


# -- item statistics ---------------------------------------------------------------------------
def item_summary(feedback: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per survey, round, group and item: ``n, mean, ci_low, ci_high, sd, median, q1, q3``."""
    answered = feedback.dropna(subset=["response"])
    grouped = answered.groupby(KEYS, sort=True)["response"]
    out = grouped.agg(n="count", mean="mean", sd="std", median="median").reset_index()
    out["q1"] = grouped.quantile(0.25).to_numpy(dtype=float)
    out["q3"] = grouped.quantile(0.75).to_numpy(dtype=float)
    n = out["n"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = stats.t.ppf(0.5 + confidence / 2, n - 1) * out["sd"].to_numpy() / np.sqrt(n)
    out["ci_low"] = out["mean"] - half
    out["ci_high"] = out["mean"] + half
    return out[KEYS + ["n"] + SUMMARY_STATS]


def publish_summary(summary: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """``item_summary`` with every statistic withheld where n < ``min_cell``."""
    return withhold_rows(summary, "n", min_cell, SUMMARY_STATS)


def _label(scale: dict, value: int, language: str) -> str:
    labels = scale.get("labels") or {}
    entry = labels.get(value, labels.get(str(value)))
    return entry[language] if entry else str(value)


def category_counts(feedback: pd.DataFrame, specs: dict[str, dict], language: str = "fi") -> pd.DataFrame:
    """Counts and shares of every category of every item (zeros included): ``survey_id, round,
    respondent_group, item_id, category, category_low, category_high, label, n, share``
    (share = n / respondents answering the item)."""
    answered = feedback.dropna(subset=["response"])
    counts = answered.groupby(KEYS + ["response"]).size()
    frames = []
    for keys, group in answered.groupby(KEYS, sort=True):
        scale = item_scale(specs[keys[0]], keys[3])
        values = np.arange(scale["min"], scale["max"] + 1)
        n = counts.loc[keys].reindex(values.astype(float), fill_value=0).to_numpy()
        frames.append(pd.DataFrame({
            **dict(zip(KEYS, keys)), "category": values.astype(str), "category_low": values,
            "category_high": values, "label": [_label(scale, v, language) for v in values],
            "n": n, "share": n / n.sum()}))
    columns = KEYS + ["category", "category_low", "category_high", "label", "n", "share"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def publish_categories(counts: pd.DataFrame, specs: dict[str, dict], min_cell: int,
                       language: str = "fi") -> pd.DataFrame:
    """Publication-safe category table: items with a category of 0 < n < ``min_cell`` have their
    categories merged into below-centre / centre / above-centre bands; bands still small are
    suppressed ("<min_cell", share blanked), with secondary suppression within the item (its total
    n is published in the summary)."""
    frames = []
    for keys, group in counts.groupby(KEYS, sort=True):
        scale = item_scale(specs[keys[0]], keys[3])
        if group["n"].between(1, min_cell - 1).any():
            centre = _centre(scale)
            band = np.sign(group["category_low"].to_numpy() - centre)
            group = group.assign(band=band).groupby("band", sort=True).agg(
                category_low=("category_low", "min"), category_high=("category_high", "max"),
                n=("n", "sum")).reset_index(drop=True)
            for k, v in zip(KEYS, keys):
                group[k] = v
            group["category"] = [str(lo) if lo == hi else f"{lo}–{hi}"
                                 for lo, hi in zip(group["category_low"], group["category_high"])]
            group["label"] = [_label(scale, lo, language) if lo == hi else
                              f"{_label(scale, lo, language)} – {_label(scale, hi, language)}"
                              for lo, hi in zip(group["category_low"], group["category_high"])]
            group["share"] = group["n"] / group["n"].sum()
        group = group[counts.columns].reset_index(drop=True)
        mask = suppression_mask(group[["n"]], min_cell, margins="columns")["n"]
        published = group.astype({"n": object, "share": object})
        published.loc[mask, "n"] = f"<{min_cell}"
        published.loc[mask, "share"] = None
        frames.append(published)
    return pd.concat(frames, ignore_index=True) if frames else counts.copy()


# -- rounds compared ---------------------------------------------------------------------------
def _rank_biserial_paired(d: np.ndarray) -> float:
    """Matched-pairs rank-biserial correlation (T+ − T−)/(T+ + T−) over non-zero differences."""
    d = d[d != 0]
    if d.size == 0:
        return 0.0
    ranks = stats.rankdata(np.abs(d))
    return float((ranks[d > 0].sum() - ranks[d < 0].sum()) / ranks.sum())


def _first_last(values: pd.DataFrame, paired: bool, first, last) -> dict:
    if paired:
        wide = values.pivot_table(index="respondent_id", columns="round", values="response", aggfunc="first")
        pairs = wide[[first, last]].dropna()
        d = (pairs[last] - pairs[first]).to_numpy()
        row = {"test": "wilcoxon", "n_first": len(pairs), "n_last": len(pairs),
               "mean_first": pairs[first].mean(), "mean_last": pairs[last].mean(),
               "effect_measure": "rank_biserial", "effect_size": _rank_biserial_paired(d)}
        statistic, p = signed_rank_test(d, 0) if len(d) >= 2 else (np.nan, np.nan)
        row.update(statistic=statistic, p=p)
        return row
    x = values.loc[values["round"].eq(last), "response"].to_numpy()
    y = values.loc[values["round"].eq(first), "response"].to_numpy()
    row = {"test": "mann_whitney", "n_first": len(y), "n_last": len(x), "mean_first": y.mean(),
           "mean_last": x.mean(), "effect_measure": "rank_biserial", "statistic": np.nan, "p": np.nan,
           "effect_size": np.nan}
    if len(x) >= 1 and len(y) >= 1:
        res = stats.mannwhitneyu(x, y, alternative="two-sided")
        row.update(statistic=float(res.statistic), p=float(res.pvalue),
                   effect_size=2 * float(res.statistic) / (len(x) * len(y)) - 1)
    return row


def _omnibus(values: pd.DataFrame, paired: bool, rounds) -> dict:
    if paired:
        wide = values.pivot_table(index="respondent_id", columns="round", values="response",
                                  aggfunc="first")[list(rounds)].dropna()
        n, k = wide.shape
        row = {"test": "friedman", "n_first": n, "n_last": n, "effect_measure": "kendall_w",
               "statistic": np.nan, "p": np.nan, "effect_size": np.nan}
        if n >= 2 and wide.to_numpy().std() > 0:
            res = stats.friedmanchisquare(*[wide[r].to_numpy() for r in rounds])
            row.update(statistic=float(res.statistic), p=float(res.pvalue),
                       effect_size=float(res.statistic) / (n * (k - 1)))
        row.update(mean_first=wide[rounds[0]].mean(), mean_last=wide[rounds[-1]].mean())
        return row
    samples = [values.loc[values["round"].eq(r), "response"].to_numpy() for r in rounds]
    n = sum(len(s) for s in samples)
    row = {"test": "kruskal", "n_first": len(samples[0]), "n_last": len(samples[-1]),
           "mean_first": samples[0].mean(), "mean_last": samples[-1].mean(),
           "effect_measure": "epsilon_squared", "statistic": np.nan, "p": np.nan, "effect_size": np.nan}
    if np.concatenate(samples).std() > 0:
        res = stats.kruskal(*samples)
        row.update(statistic=float(res.statistic), p=float(res.pvalue), effect_size=float(res.statistic) / (n - 1))
    return row


def compare_rounds(feedback: pd.DataFrame) -> pd.DataFrame:
    """Rounds of each survey, group and item compared: ``survey_id, respondent_group, item_id,
    rounds, paired, test, n_first, n_last, mean_first, mean_last, statistic, p, effect_size,
    effect_measure`` (first vs last round; with ≥ 3 rounds an omnibus row ``rounds = "all"``).
    ``paired`` is true when ``respondent_id`` links respondents across rounds."""
    answered = feedback.dropna(subset=["response"])
    rows = []
    for (sid, group, item), values in answered.groupby(["survey_id", "respondent_group", "item_id"], sort=True):
        rounds = sorted(values["round"].unique())
        if len(rounds) < 2:
            continue
        ids = values["respondent_id"]
        paired = bool(ids.notna().all() and ids.groupby(ids).transform("size").gt(1).any())
        base = {"survey_id": sid, "respondent_group": group, "item_id": item, "paired": paired}
        rows.append({**base, "rounds": f"{rounds[0]}–{rounds[-1]}",
                     **_first_last(values, paired, rounds[0], rounds[-1])})
        if len(rounds) >= 3:
            rows.append({**base, "rounds": "all", **_omnibus(values, paired, rounds)})
    columns = ["survey_id", "respondent_group", "item_id", "rounds", "paired", "test", "n_first", "n_last",
               "mean_first", "mean_last", "statistic", "p", "effect_size", "effect_measure"]
    return pd.DataFrame(rows, columns=columns)


def publish_rounds(comparison: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Comparisons with a round of fewer than ``min_cell`` respondents withheld."""
    smaller = comparison.assign(n_min=comparison[["n_first", "n_last"]].min(axis=1))
    out = withhold_rows(smaller, "n_min", min_cell, ["mean_first", "mean_last", "statistic", "p", "effect_size"])
    return out.drop(columns="n_min")


# -- text and figures --------------------------------------------------------------------------
def _group_label(group: str, language: str) -> str:
    return code_label("respondent_group", group, language, "feedback")


def item_text(spec: dict, item_id: str, language: str) -> str:
    return next(i["text"][language] for i in spec["items"] if i["id"] == item_id)


def survey_sentence(feedback: pd.DataFrame, spec: dict, min_cell: int, language: str) -> str:
    """One sentence: respondents per group and round (small counts as "<min_cell")."""
    data = feedback[feedback["survey_id"].eq(spec["id"])]
    per = data.groupby(["respondent_group", "round"])["respondent_id"].nunique()
    # without respondent ids, a round's respondents are the answers to its most answered item
    answers = data.dropna(subset=["response"]).groupby(["respondent_group", "round", "item_id"]).size()
    per = per.where(per.gt(0), answers.groupby(level=[0, 1]).max())
    parts = []
    for group, by_round in per.groupby(level=0):
        counts = ", ".join(f"<{min_cell}" if 0 < n < min_cell else str(int(n)) for n in by_round)
        parts.append(f"{_group_label(group, language)} {counts}")
    return t("feedback.survey_sentence", language, title=spec["title"][language],
             rounds=data["round"].nunique(), groups="; ".join(parts))


def for_display(frame: pd.DataFrame, spec: dict, language: str) -> pd.DataFrame:
    """Rows of one survey with the item text in place of ``survey_id`` and ``item_id``."""
    rows = frame[frame["survey_id"].eq(spec["id"])].drop(columns="survey_id")
    text = {i["id"]: i["text"][language] for i in spec["items"]}
    return rows.assign(item_id=rows["item_id"].map(text)).rename(columns={"item_id": "item"})


def _colour(position: float, span: float):
    """Diverging colours: red below the centre, grey at it, blue above (BrBG-like, colour-blind safe)."""
    import matplotlib as mpl

    cmap = mpl.colormaps["RdBu"]
    return cmap(0.5 + 0.45 * position / span) if position else (0.82, 0.82, 0.82, 1.0)


def plot_diverging(published: pd.DataFrame, spec: dict, language: str, round_=None):
    """Diverging stacked bars of the published category shares, centred on the neutral category
    (half of it each side; Robbins & Heiberger 2011), one bar per item and respondent group, for
    ``round_`` (default: the latest). Bars with a suppressed category are not drawn; None when no
    bar can be drawn."""
    import matplotlib.pyplot as plt

    data = published[published["survey_id"].eq(spec["id"])]
    round_ = data["round"].max() if round_ is None else round_
    data = data[data["round"].eq(round_)]
    items = [i["id"] for i in spec["items"] if i["id"] in set(data["item_id"])
             and spec["scales"][i["scale"]]["type"] != "count"]
    bars = [(item, group, rows) for item in items
            for group, rows in data[data["item_id"].eq(item)].groupby("respondent_group", sort=True)
            if rows["share"].notna().all()]
    if not bars:
        return None
    fig, ax = plt.subplots(figsize=(8, 0.5 * max(len(bars), 1) + 1.2))
    for y, (item, group, rows) in enumerate(bars):
        scale = item_scale(spec, item)
        centre, span = _centre(scale), (scale["max"] - scale["min"]) / 2
        lo, hi = rows["category_low"].to_numpy(), rows["category_high"].to_numpy()
        share = rows["share"].astype(float).to_numpy()
        mid = (lo + hi) / 2 - centre
        neutral = share[(lo <= centre) & (hi >= centre)].sum()
        left = -neutral / 2 - share[hi < centre].sum()
        for s, m, a, b in zip(share, mid, lo, hi):
            ax.barh(y, s, left=left, color=_colour(m, span), edgecolor="white", height=0.7)
            if s >= 0.08:
                ax.text(left + s / 2, y, f"{100 * s:.0f}", ha="center", va="center", fontsize=7)
            left += s
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(bars)))
    ax.set_yticklabels([f"{item_text(spec, i, language)} ({_group_label(g, language)})" for i, g, _ in bars],
                       fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(-1, 1)
    ax.set_xticks([-1, -0.5, 0, 0.5, 1])
    ax.set_xticklabels(["100", "50", "0", "50", "100"])
    ax.set_xlabel(t("feedback.axis_share", language))
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def plot_rounds(published_summary: pd.DataFrame, spec: dict, language: str):
    """Mean (95 % CI) over rounds, one panel per item, one line per respondent group (the mood
    meter / repeated workshop surveys). Withheld means are gaps."""
    import matplotlib.pyplot as plt

    data = published_summary[published_summary["survey_id"].eq(spec["id"])]
    items = [i["id"] for i in spec["items"] if i["id"] in set(data["item_id"])]
    cols = min(len(items), 3)
    rows = math.ceil(len(items) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.8 * rows), squeeze=False, sharey=True)
    for ax, item in zip(axes.flat, items):
        scale = item_scale(spec, item)
        for group, g in data[data["item_id"].eq(item)].groupby("respondent_group", sort=True):
            mean = pd.to_numeric(g["mean"], errors="coerce")
            err = np.vstack([mean - pd.to_numeric(g["ci_low"], errors="coerce"),
                             pd.to_numeric(g["ci_high"], errors="coerce") - mean])
            ax.errorbar(g["round"], mean, yerr=err, marker="o", capsize=3, label=_group_label(group, language))
        ax.set_title(item_text(spec, item, language), fontsize=8, wrap=True)
        ax.set_ylim(scale["min"] - 0.2, scale["max"] + 0.2)
        ax.set_xticks(sorted(data["round"].unique()))
        ax.set_xlabel(t("feedback.axis_round", language))
        ax.spines[["top", "right"]].set_visible(False)
    for ax in list(axes.flat)[len(items):]:
        ax.set_visible(False)
    axes[0][0].set_ylabel(t("feedback.axis_mean", language))
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    return fig


# -- the whole analysis ------------------------------------------------------------------------
@dataclass
class SurveyView:
    """One survey's tables (display-ready: item texts in place of ids) and figures."""

    spec: dict
    result: "FeedbackResult"

    @property
    def title(self) -> str:
        return self.spec["title"][self.result.language]

    def sentence(self) -> str:
        r = self.result
        return survey_sentence(r.responses, self.spec, r.min_cell, r.language)

    def _display(self, frame: pd.DataFrame) -> pd.DataFrame:
        return for_display(frame, self.spec, self.result.language)

    def summary(self, published: bool = True) -> pd.DataFrame:
        return self._display(self.result.published_summary if published else self.result.summary)

    @property
    def latest_round(self):
        counts = self.result.published_counts
        return counts.loc[counts["survey_id"].eq(self.spec["id"]), "round"].max()

    def categories(self) -> pd.DataFrame:
        """Published category counts and shares of the latest round."""
        counts = self.result.published_counts
        latest = counts[counts["survey_id"].eq(self.spec["id"]) & counts["round"].eq(self.latest_round)]
        return self._display(latest).drop(columns=["category_low", "category_high"])

    def has_rounds(self) -> bool:
        return self.result.comparison["survey_id"].eq(self.spec["id"]).any()

    def rounds(self, published: bool = True) -> pd.DataFrame:
        r = self.result
        return self._display(r.published_comparison if published else r.comparison)

    def figure_diverging(self):
        """Diverging stacked bars of the latest round, or None when disclosure control leaves none."""
        return plot_diverging(self.result.published_counts, self.spec, self.result.language)

    def figure_rounds(self):
        return plot_rounds(self.result.published_summary, self.spec, self.result.language)


@dataclass
class FeedbackResult:
    """Every survey of a project: internal tables, their publication-safe versions and one
    ``SurveyView`` per survey (``surveys()``)."""

    responses: pd.DataFrame
    specs: dict[str, dict]
    language: str
    min_cell: int
    summary: pd.DataFrame
    counts: pd.DataFrame
    comparison: pd.DataFrame
    published_summary: pd.DataFrame
    published_counts: pd.DataFrame
    published_comparison: pd.DataFrame

    def surveys(self) -> list[SurveyView]:
        return [SurveyView(spec, self) for _, spec in sorted(self.specs.items())]

    def tables(self) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
        """Result table name → (internal, published), for ``tables-internal/`` and ``tables/``."""
        return {"feedback_items": (self.summary, self.published_summary),
                "feedback_categories": (self.counts, self.published_counts),
                "feedback_rounds": (self.comparison, self.published_comparison)}


DISPLAY_DECIMALS = {"n": 0, "n_first": 0, "n_last": 0, "share": 2, "p": 3, "effect_size": 2, "statistic": 1,
                    "mean": 2, "ci_low": 2, "ci_high": 2, "sd": 2, "mean_first": 2, "mean_last": 2}


def show_survey(report, survey: SurveyView) -> None:
    """Show one survey in the appendix through ``report`` (a ``tyokyky_eval.report.Report``): the
    sentence, item statistics, latest round's categories with the diverging chart, and rounds
    compared when there is more than one round."""
    r, title = survey.result, survey.title
    shown = dict(decimals=DISPLAY_DECIMALS, code_columns=CODE_COLUMNS, namespace="feedback")
    note = report.t("feedback.disclosure_note", min_cell=r.min_cell)
    report.markdown(f"## {escape_markdown(title)}\n\n{survey.sentence()}")
    report.table(survey.summary(published=False), None, report.t("feedback.caption_summary", title=title),
                 published=survey.summary(), note=note, **shown)
    report.table(survey.categories(), None, report.t("feedback.caption_categories", title=title), **shown)
    figure = survey.figure_diverging()
    if figure is None:
        report.markdown(report.t("feedback.no_bars", min_cell=r.min_cell))
    else:
        report.figure(figure, report.t("feedback.caption_diverging", title=title, round=survey.latest_round))
    if not survey.has_rounds():
        report.markdown(report.t("feedback.single_round"))
        return
    report.figure(survey.figure_rounds(), report.t("feedback.caption_line", title=title))
    report.table(survey.rounds(published=False), None, report.t("feedback.caption_rounds", title=title),
                 published=survey.rounds(), note=note, **shown)


def analyse(project) -> FeedbackResult:
    """All survey statistics of a loaded project (options from ``analyses.feedback``)."""
    options = project.params.options("feedback")
    responses = project.table("feedback")
    language, min_cell = project.language, project.params.disclosure.min_cell
    specs = survey_specs(responses, options, base=project.params.path.parent)
    summary = item_summary(responses, options.confidence)
    counts = category_counts(responses, specs, language)
    comparison = compare_rounds(responses)
    return FeedbackResult(
        responses=responses, specs=specs, language=language, min_cell=min_cell, summary=summary,
        counts=counts, comparison=comparison, published_summary=publish_summary(summary, min_cell),
        published_counts=publish_categories(counts, specs, min_cell, language),
        published_comparison=publish_rounds(comparison, min_cell))

"""Feedback surveys: item statistics, rounds compared, respondent groups side by side.

Responses come from the canonical ``feedback`` table (one row per survey, round, respondent and
item). Each survey's response scales are data: a survey spec (``data_dictionary/surveys/<id>.yaml``
or a YAML file named in ``analyses.feedback.surveys``) with

- ``id``, ``title: {fi, en}``, ``reference``;
- ``scales``: named scales, each ``type`` (``agreement`` = labelled ordinal such as 1–5
  disagree–agree, ``rating`` = numeric ordinal such as 0–10, ``yes_no`` = 0 no / 1 yes, ``count`` =
  a number of times), whole-number ``min`` and ``max``, optional ``neutral`` (the category the
  diverging chart is centred on) and optional ``labels: {value: {fi, en}}``;
- ``items``: ``id``, ``scale``, ``text: {fi, en}``; optional ``column`` (the header of the item's
  column in a survey tool's export, when it differs from the item text).

Survey tools' exports (``tyokyky_eval.inputs.survey_exports``) also need: ``not_applicable`` on a scale
(labels ``{fi, en}`` of "don't know" answers: counted, kept out of the statistics); items of
``type: text`` (open answers, never published; optional ``themes: {code: {fi, en}}`` and
``themes_column``, the export's column holding the evaluator's theme codes, unless they come in
the coding table ``feedback_coding``) and items of
``type: choice`` with ``options: {code: {fi, en}}`` and ``multiple: true`` when several may be
chosen.

Methods: the mean's confidence interval is the t interval (mean ± t(1−α/2, n−1)·sd/√n, sd with
n−1); median and quartiles use linear interpolation (Hyndman–Fan type 7, NumPy's default). Rounds
are compared first vs last round: the Wilcoxon signed-rank test (pairs with a zero difference
dropped, Wilcoxon's method) with the matched-pairs rank-biserial correlation when ``respondent_id``
links the rounds, else the Mann–Whitney U test with the rank-biserial correlation (= Cliff's delta);
with three or more rounds also the Friedman test with Kendall's W (linked) or the Kruskal–Wallis test
with ε² = H/(n−1) (Tomczak & Tomczak 2014). Positive effect sizes mean higher responses in the later
round; the exact, permutation and normal-approximation rules of each test are in
``tyokyky_eval.stats.rank_tests``.

These are pure statistics (tidy frames and :class:`Options` in, frames out; no language, no
``min_cell``); what an appendix publishes (merged categories, suppression, texts, figures) is
decided in :mod:`tyokyky_eval.sections.feedback`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from tyokyky_eval.errors import ParameterError
from tyokyky_eval.inputs.dictionary import load_yaml
from tyokyky_eval.resources import resource_dir
from tyokyky_eval.stats.rank_tests import signed_rank_test

SCALE_TYPES = ("agreement", "rating", "yes_no", "count")
#: item types without a numeric scale: open answers and multiple-choice questions
TEXT, CHOICE = "text", "choice"
#: a survey's results are per site (``all`` when the data have no sites), round, group and item
KEYS = ["survey_id", "site", "round", "respondent_group", "item_id"]
ALL_SITES = "all"
SUMMARY_STATS = ["mean", "ci_low", "ci_high", "sd", "median", "q1", "q3"]
CATEGORY_COLUMNS = KEYS + ["category", "category_low", "category_high", "n", "share"]
CHOICE_COLUMNS = KEYS + ["option", "n", "n_not_chosen", "n_respondents", "share", "ci_low", "ci_high"]
THEME_COLUMNS = KEYS + ["theme", "n", "n_not_coded", "n_answers", "share", "ci_low", "ci_high"]
ROUND_COLUMNS = ["survey_id", "site", "respondent_group", "item_id", "rounds", "paired", "test", "n_first", "n_last",
                 "mean_first", "mean_last", "statistic", "p", "effect_size", "effect_measure"]


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
        data = load_yaml(path, "survey_spec")
    else:
        if spec not in builtin_surveys():
            raise ParameterError(f"no survey spec '{spec}': built-in specs are {', '.join(builtin_surveys())}; "
                                 "name your own YAML file in analyses.feedback.surveys")
        text = resource_dir("data_dictionary").joinpath("surveys", f"{spec}.yaml").read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ParameterError(f"survey spec {spec}: expected a mapping (id, title, scales, items)")
    problems = []
    title = data.get("title")
    if not (isinstance(title, dict) and title.get("fi") and title.get("en")):
        problems.append("title needs fi and en")
    for name, scale in data.get("scales", {}).items():
        if scale.get("type") not in SCALE_TYPES:
            problems.append(f"scale {name}: type must be one of {', '.join(SCALE_TYPES)}")
        lo, hi, neutral = scale.get("min"), scale.get("max"), scale.get("neutral")
        if not (isinstance(lo, int) and isinstance(hi, int) and lo < hi):
            problems.append(f"scale {name}: min and max must be whole numbers with min < max")
        elif neutral is not None and not lo <= neutral <= hi:
            problems.append(f"scale {name}: neutral {neutral} is outside {lo}–{hi}")
    for name, scale in data.get("scales", {}).items():
        if not all(_bilingual(label) for label in scale.get("not_applicable") or []):
            problems.append(f"scale {name}: not_applicable must be a list of labels {{fi, en}}")
    for item in data.get("items") or []:
        kind = item.get("type")
        if kind == CHOICE:
            options = item.get("options")
            if not isinstance(options, dict) or not options or not all(map(_bilingual, options.values())):
                problems.append(f"item {item.get('id')}: a choice item needs options: {{code: {{fi, en}}}}")
        elif kind == TEXT:
            if not all(map(_bilingual, (item.get("themes") or {}).values())):
                problems.append(f"item {item.get('id')}: themes must map a theme code to {{fi, en}}")
        elif kind is not None:
            problems.append(f"item {item.get('id')}: type must be {TEXT} or {CHOICE} (or left out for a scale item)")
        elif item.get("scale") not in data.get("scales", {}):
            problems.append(f"item {item.get('id')}: unknown scale '{item.get('scale')}'")
    if not data.get("items"):
        problems.append("no items")
    if problems:
        raise ParameterError([f"survey spec {spec}: {p}" for p in problems])
    return data


def _bilingual(label) -> bool:
    return isinstance(label, dict) and bool(label.get("fi")) and bool(label.get("en"))


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


def centre(scale: dict) -> float:
    """The diverging chart's centre: the neutral category, else the middle of the scale."""
    return float(scale["neutral"]) if scale.get("neutral") is not None else (scale["min"] + scale["max"]) / 2


def out_of_scale(feedback: pd.DataFrame, specs: dict[str, dict]) -> pd.Series:
    """True for responses outside their item's scale, not whole numbers, or of an unknown item."""
    bad = pd.Series(False, index=feedback.index)
    for (sid, item), rows in feedback.groupby(["survey_id", "item_id"]).groups.items():
        kind = next((i.get("type") for i in specs[sid]["items"] if i["id"] == item), None)
        if kind in (TEXT, CHOICE):
            continue
        try:
            scale = item_scale(specs[sid], item)
        except KeyError:
            bad[rows] = True
            continue
        r = feedback.loc[rows, "response"]
        bad[rows] = r.notna() & (r.lt(scale["min"]) | r.gt(scale["max"]) | r.mod(1).ne(0))
    return bad


def with_site(feedback: pd.DataFrame) -> pd.DataFrame:
    """``feedback`` with a ``site`` on every row (``all`` where none is given)."""
    site = feedback["site"] if "site" in feedback else pd.Series(None, index=feedback.index, dtype=object)
    return feedback.assign(site=site.astype(object).where(site.notna() & site.astype(str).ne(""), ALL_SITES))


# -- item statistics ---------------------------------------------------------------------------
def item_summary(feedback: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per survey, round, group and item: ``n, mean, ci_low, ci_high, sd, median, q1, q3``."""
    answered = with_site(feedback).dropna(subset=["response"])
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


def category_counts(feedback: pd.DataFrame, specs: dict[str, dict], language: str | None = None) -> pd.DataFrame:
    """Counts and shares of every category of every item (zeros included): ``survey_id, round,
    respondent_group, item_id, category, category_low, category_high, n, share`` (share = n /
    respondents answering the item). ``language`` is ignored (labels are the section's)."""
    answered = with_site(feedback).dropna(subset=["response"])
    counts = answered.groupby(KEYS + ["response"]).size()
    frames = []
    for keys, _ in answered.groupby(KEYS, sort=True):
        scale = item_scale(specs[keys[0]], keys[-1])
        values = np.arange(scale["min"], scale["max"] + 1)
        n = counts.loc[keys].reindex(values.astype(float), fill_value=0).to_numpy()
        frames.append(pd.DataFrame({
            **dict(zip(KEYS, keys)), "category": values.astype(str), "category_low": values,
            "category_high": values, "n": n, "share": n / n.sum()}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=CATEGORY_COLUMNS)


def merge_bands(counts: pd.DataFrame, centre: float) -> pd.DataFrame:
    """One item's categories (rows of :func:`category_counts`) merged into below-centre / centre /
    above-centre bands (``category`` ``"lo–hi"`` for a band of several values)."""
    band = np.sign(counts["category_low"].to_numpy(float) - centre)
    merged = counts.assign(band=band).groupby("band", sort=True).agg(
        category_low=("category_low", "min"), category_high=("category_high", "max"),
        n=("n", "sum")).reset_index(drop=True)
    for key in KEYS:
        merged[key] = counts[key].iloc[0]
    merged["category"] = [str(lo) if lo == hi else f"{lo}–{hi}"
                          for lo, hi in zip(merged["category_low"], merged["category_high"])]
    total = merged["n"].sum()
    merged["share"] = merged["n"] / total if total else np.nan
    return merged[CATEGORY_COLUMNS]


def answers(feedback: pd.DataFrame) -> pd.Series:
    """True for the rows that are an answer: a response, a 'don't know', a chosen option or an open
    answer (with or without theme codes)."""
    found = feedback["response"].notna()
    for column in ("option", "answer", "themes"):
        if column in feedback:
            found |= feedback[column].notna() & feedback[column].astype(str).ne("")
    if "not_applicable" in feedback:
        found |= feedback["not_applicable"].fillna(False).astype(bool)
    return found


def respondent_counts(feedback: pd.DataFrame) -> pd.DataFrame:
    """Respondents per survey, site, round and group (``survey_id, site, round, respondent_group, n``): distinct
    ``respondent_id`` with at least one answer (:func:`answers`); without ids, the answers to the
    round's most answered item."""
    answered = with_site(feedback[answers(feedback)])
    keys = KEYS[:-1]
    if answered.empty:
        return pd.DataFrame(columns=keys + ["n"]).astype({"n": int})
    ids = answered["respondent_id"] if "respondent_id" in answered else pd.Series(pd.NA, index=answered.index)
    per_id = answered.assign(respondent_id=ids).groupby(keys)["respondent_id"].nunique()
    per_item = answered.groupby(keys + ["item_id"]).size().groupby(level=list(range(len(keys)))).max()
    n = per_id.where(per_id.gt(0), per_item).reindex(per_item.index).fillna(per_item)
    return n.astype(int).rename("n").reset_index()


def not_applicable_counts(feedback: pd.DataFrame) -> pd.DataFrame:
    """'Don't know' answers (``not_applicable``) per survey, round, group and item: ``n_not_applicable``
    (items without any such answer are left out)."""
    if "not_applicable" not in feedback:
        return pd.DataFrame(columns=KEYS + ["n_not_applicable"])
    flagged = with_site(feedback[feedback["not_applicable"].fillna(False).astype(bool)])
    return flagged.groupby(KEYS, sort=True).size().rename("n_not_applicable").reset_index()


def _rows_of(feedback: pd.DataFrame, specs: dict[str, dict], kind: str) -> pd.DataFrame:
    """The rows of ``feedback`` answering items of type ``kind`` (``choice`` or ``text``)."""
    items = {(sid, i["id"]) for sid, spec in specs.items() for i in spec["items"] if i.get("type") == kind}
    if not items or feedback.empty:
        return feedback.iloc[:0]
    keys = pd.Series(list(zip(feedback["survey_id"], feedback["item_id"])), index=feedback.index)
    return with_site(feedback[keys.isin(items)])


def _item(specs: dict[str, dict], survey_id: str, item_id: str) -> dict:
    return next(i for i in specs[survey_id]["items"] if i["id"] == item_id)


def choice_shares(feedback: pd.DataFrame, specs: dict[str, dict], confidence: float = 0.95) -> pd.DataFrame:
    """Choice items (rows with an ``option``): per survey, round, group, item and option (spec
    order, zeros included) ``n`` (respondents who chose it), ``n_not_chosen``, ``n_respondents``
    (who answered the item), ``share`` = n / n_respondents with the Wilson score interval
    (statsmodels ``proportion_confint``). With ``multiple: true`` an item's shares add up to more
    than 1."""
    choices = _rows_of(feedback, specs, CHOICE)
    rows = []
    for keys, data in choices.groupby(KEYS, sort=True):
        chosen = data.groupby("option")["respondent_id"].nunique()
        n_respondents = data["respondent_id"].nunique()
        rows += [(*keys, option, int(chosen.get(option, 0)), n_respondents)
                 for option in _item(specs, keys[0], keys[-1])["options"]]
    out = pd.DataFrame(rows, columns=KEYS + ["option", "n", "n_respondents"])
    out["n_not_chosen"] = out["n_respondents"] - out["n"]
    return _wilson(out, "n_respondents", confidence)[CHOICE_COLUMNS]


def _wilson(counts: pd.DataFrame, total: str, confidence: float) -> pd.DataFrame:
    """``counts`` with ``share`` = n / ``total`` and its Wilson score interval (statsmodels
    ``proportion_confint``)."""
    from statsmodels.stats.proportion import proportion_confint

    out = counts.assign(share=counts["n"] / counts[total])
    if len(out):
        low, high = proportion_confint(out["n"], out[total], alpha=1 - confidence, method="wilson")
        out["ci_low"], out["ci_high"] = np.asarray(low, float), np.asarray(high, float)
    else:
        out["ci_low"] = out["ci_high"] = pd.Series(dtype=float)
    return out


def theme_counts(feedback: pd.DataFrame, specs: dict[str, dict], confidence: float = 0.95) -> pd.DataFrame:
    """Open answers coded into themes: per survey, round, group, item and theme (spec order, zeros
    included) ``n`` (answers coded with the theme; an answer may have several), ``n_not_coded``,
    ``n_answers`` (answers to the item) and ``share`` = n / n_answers with the Wilson score
    interval. The answers themselves are not in the result."""
    texts = _rows_of(feedback, specs, TEXT)
    rows = []
    for keys, data in texts.groupby(KEYS, sort=True):
        codes = data["themes"].fillna("").astype(str).str.split(";")
        rows += [(*keys, theme, int(codes.map(lambda c, theme=theme: theme in c).sum()), len(data))
                 for theme in _item(specs, keys[0], keys[-1]).get("themes") or {}]
    out = pd.DataFrame(rows, columns=KEYS + ["theme", "n", "n_answers"])
    out["n_not_coded"] = out["n_answers"] - out["n"]
    return _wilson(out, "n_answers", confidence)[THEME_COLUMNS]


def open_answers(feedback: pd.DataFrame, specs: dict[str, dict]) -> pd.DataFrame:
    """The open answers verbatim with their theme codes (for ``tables-internal/`` only):
    ``survey_id, round, respondent_group, item_id, answer, themes``."""
    texts = _rows_of(feedback, specs, TEXT)
    return texts[KEYS + ["answer", "themes"]].sort_values(KEYS, kind="stable").reset_index(drop=True)


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
    """Rounds of each survey, site, group and item compared: ``survey_id, site, respondent_group, item_id,
    rounds, paired, test, n_first, n_last, mean_first, mean_last, statistic, p, effect_size,
    effect_measure`` (first vs last round; with ≥ 3 rounds an omnibus row ``rounds = "all"``).
    ``paired`` is true when ``respondent_id`` links respondents across rounds."""
    answered = with_site(feedback).dropna(subset=["response"])
    rows = []
    for (sid, site, group, item), values in answered.groupby(["survey_id", "site", "respondent_group", "item_id"],
                                                             sort=True):
        rounds = sorted(values["round"].unique())
        if len(rounds) < 2:
            continue
        ids = values["respondent_id"]
        paired = bool(ids.notna().all() and ids.groupby(ids).transform("size").gt(1).any())
        base = {"survey_id": sid, "site": site, "respondent_group": group, "item_id": item, "paired": paired}
        rows.append({**base, "rounds": f"{rounds[0]}–{rounds[-1]}",
                     **_first_last(values, paired, rounds[0], rounds[-1])})
        if len(rounds) >= 3:
            rows.append({**base, "rounds": "all", **_omnibus(values, paired, rounds)})
    return pd.DataFrame(rows, columns=ROUND_COLUMNS)

"""The feedback section as an attacker sees it: only its published tables and figures."""
from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
from attacker import attack, equation

from tyokyky_eval import load_section, publication
from tyokyky_eval.inputs.project import load_project
from tyokyky_eval.sections.feedback import ALL, OTHER_GROUPS, collapse_groups
from tyokyky_eval.stats import feedback as fb

matplotlib.use("Agg")
MIN_CELLS = (3, 5, 10)
ITEMS = ("goals_clear", "progress_as_planned", "cooperation_works")
KEYS = fb.KEYS


def responses(seed: int) -> pd.DataFrame:
    """Process-evaluation survey, three rounds, linked respondents, groups of 2 … 30 respondents,
    skewed answers (small categories everywhere), some drop-outs and empty answers."""
    rng = np.random.default_rng(seed)
    sizes = {"project_workers": 30, "stakeholders": 20, "staff": 6, "professionals": 2}
    rows = []
    for group, size in sizes.items():
        for i in range(size):
            for round_ in (1, 2, 3):
                if round_ > 1 and rng.random() < 0.15:
                    continue
                for item in ITEMS:
                    value = int(np.clip(np.round(rng.normal(3.6 + 0.2 * round_, 0.9)), 1, 5))
                    rows.append({"survey_id": "process_evaluation", "round": round_, "respondent_group": group,
                                 "respondent_id": f"{group[:3]}-{i}", "item_id": item,
                                 "response": value if rng.random() > 0.05 else None})
    return pd.DataFrame(rows)


def project(project_files, min_cell: int, seed: int = 1, data: pd.DataFrame | None = None):
    data = responses(seed) if data is None else data
    project_files.tables["feedback"] = data
    project_files.write("feedback", data)
    project_files.params["disclosure"] = {"min_cell": min_cell, "min_followup": max(10, min_cell)}
    return load_project(project_files.save_params(), "en")



def item_relations(section, shown: dict, keys: tuple, use_internal_mean: bool = False):
    """What an attacker knows about one item from the published tables: the counts c_v of its
    values v (unknowns), their bands' published counts (or bounds for suppressed bands), n, and
    (when published) Σ v·c_v = n·mean and Σ v²·c_v = (n−1)·sd² + n·mean²."""
    rules = section.rules
    spec = section.specs[keys[0]]
    scale = fb.item_scale(spec, keys[-1])
    values = list(range(scale["min"], scale["max"] + 1))
    names = [f"c{v}" for v in values]
    bounds = {name: (0, None) for name in names}
    equations = []
    items, categories = shown["feedback_items"], shown["feedback_categories"]
    item = items[np.logical_and.reduce([items[k].eq(v) for k, v in zip(KEYS, keys)])].iloc[0]
    bands = categories[np.logical_and.reduce([categories[k].eq(v) for k, v in zip(KEYS, keys)])]
    for band in bands.itertuples(index=False):
        inside = {f"c{v}": 1.0 for v in values if band.category_low <= v <= band.category_high}
        if isinstance(band.n, str):
            name = f"band{band.category_low}"
            names.append(name)
            low, high = ((1, rules.min_cell - 1) if band.n == rules.symbol(publication.PRIMARY) else (0, None))
            bounds[name] = (low, high)
            equations.append(({**inside, name: -1.0}, 0.0))
        else:
            equations.append((inside, float(band.n)))
    all_values = {f"c{v}": 1.0 for v in values}
    if isinstance(item["n"], str):
        names.append("n")
        bounds["n"] = (1, rules.min_cell - 1)
        equations.append(({**all_values, "n": -1.0}, 0.0))
        return names, equations, bounds
    n = float(item["n"])
    equations.append((all_values, n))
    mean, sd = item["mean"], item["sd"]
    if use_internal_mean:
        row = section.summary.set_index(KEYS).loc[keys]
        mean, sd = row["mean"], row["sd"]
    if not isinstance(mean, str) and not pd.isna(mean):
        equations.append(({f"c{v}": float(v) for v in values}, n * float(mean)))
    if not isinstance(sd, str) and not pd.isna(sd):
        equations.append(({f"c{v}": float(v * v) for v in values}, (n - 1) * float(sd) ** 2 + n * float(mean) ** 2))
    return names, equations, bounds


def hidden_counts(section, keys: tuple) -> dict:
    """The true counts of an item's values that are small (0 < c < min_cell), i.e. that must not
    be recoverable."""
    counts = section.counts
    rows = counts[np.logical_and.reduce([counts[k].eq(v) for k, v in zip(KEYS, keys)])]
    return {f"c{int(v)}": int(c) for v, c in zip(rows["category_low"], rows["n"]) if 0 < c < section.rules.min_cell}


@pytest.mark.parametrize("min_cell", MIN_CELLS)
@pytest.mark.parametrize("seed", [1, 2])
def test_no_small_answer_count_is_recoverable_from_the_published_tables(project_files, min_cell, seed):
    section = load_section("feedback", project(project_files, min_cell, seed))
    shown = section.published()
    checked = 0
    for keys in section.summary[KEYS].itertuples(index=False):
        keys = tuple(keys)
        small = hidden_counts(section, keys)
        if not small:
            continue
        names, equations, bounds = item_relations(section, shown, keys)
        ranges = attack(names, equations, bounds)
        for name, true in small.items():
            low, high = ranges[name]
            assert low <= true <= high
            assert high - low >= 1 - 1e-9, f"{keys} {name}={true} recovered from the published tables"
            checked += 1
        for name, (low, high) in ranges.items():  # suppressed bands are not determined either
            if name.startswith("band") or name == "n":
                assert high - low >= 1 - 1e-9, f"{keys} {name} recovered"
    assert checked > 0


def test_the_mean_next_to_merged_bands_would_give_a_small_count_back(project_files):
    """Why item statistics go with the whole distribution: the bands 1–2 (with one answer 1) plus
    n, mean and SD determine the count of 1s, which the section therefore withholds."""
    values = [1, 2, 2, 2, 2, 2] + [3] * 6 + [4] * 6 + [5] * 6
    data = pd.DataFrame({"survey_id": "process_evaluation", "round": 1, "respondent_group": "staff",
                         "respondent_id": [f"s{i}" for i in range(len(values))], "item_id": "goals_clear",
                         "response": values})
    section = load_section("feedback", project(project_files, 5, data=data))
    shown = section.published()
    keys = ("process_evaluation", "all", 1, "staff", "goals_clear")
    assert shown["feedback_categories"]["category"].tolist() == ["1–2", "3", "4–5"]
    assert shown["feedback_items"].iloc[0]["n"] == 24 and shown["feedback_items"].iloc[0]["mean"] == ".."
    names, equations, bounds = item_relations(section, shown, keys, use_internal_mean=True)
    assert attack(names, equations, bounds)["c1"] == pytest.approx((1, 1))  # the old publication's leak
    names, equations, bounds = item_relations(section, shown, keys)
    low, high = attack(names, equations, bounds)["c1"]
    assert high - low >= 1


@pytest.mark.parametrize("min_cell", MIN_CELLS)
def test_groups_rounds_and_statistics_as_published(project_files, min_cell):
    section = load_section("feedback", project(project_files, min_cell))
    shown, internal = section.published(), section.internal()
    rules = section.rules
    # every published respondent group has 0 or ≥ min_cell respondents in every round
    respondents = shown["feedback_respondents"]
    counts = respondents["n"][respondents["n"].map(lambda v: not isinstance(v, str))].astype(int)
    assert ((counts == 0) | (counts >= min_cell)).all()
    assert "professionals" not in set(respondents["respondent_group"])  # 2 respondents: combined
    # statistics are published exactly when the whole distribution is, and then equal the internal ones
    items = shown["feedback_items"]
    categories = shown["feedback_categories"]
    for i, row in items.iterrows():
        keys = tuple(row[KEYS])
        bands = categories[np.logical_and.reduce([categories[k].eq(v) for k, v in zip(KEYS, keys)])]
        whole = (bands["category_low"].eq(bands["category_high"]).all()
                 and not bands["n"].map(lambda v: isinstance(v, str)).any())
        assert whole == (not publication.is_symbol(row["mean"], rules)), keys
        if whole:
            for column in fb.SUMMARY_STATS:
                assert row[column] == pytest.approx(internal["feedback_items"].iloc[i][column], nan_ok=True)
    # rounds compared only between published distributions; paired pairs differ by 0 or ≥ min_cell
    n_item = section.summary.set_index(KEYS)["n"]
    for row in shown["feedback_rounds"].itertuples(index=False):
        if publication.is_symbol(row.p, rules):
            continue
        rounds = [1, 3] if row.rounds != "all" else [1, 2, 3]
        for r in rounds:
            key = (row.survey_id, row.site, r, row.respondent_group, row.item_id)
            assert key in section.full
            if row.paired:
                gap = n_item[key] - row.n_first
                assert gap == 0 or gap >= min_cell
    # the category shares drawn in the figure are published shares only
    for _, rows in section._bars(categories, "process_evaluation"):
        assert not rows["share"].map(lambda v: isinstance(v, str)).any()
    figures = section.figures("en")
    for _, fig in figures:
        for ax in fig.axes:
            labels = [t.get_text() for t in ax.texts]
            assert all(not label.startswith("(") for label in labels)


def test_published_counts_equal_internal_where_not_protected(project_files):
    section = load_section("feedback", project(project_files, 5))
    shown = section.published()
    respondents = section.internal()["feedback_respondents"]
    for published, true in zip(shown["feedback_respondents"]["n"], respondents["n"]):
        assert published == true or isinstance(published, str)
    for published, true in zip(shown["feedback_items"]["n"], section.summary["n"]):
        assert published == true or (isinstance(published, str) and 0 < true < 5)


def test_collapse_groups_combines_small_groups_and_their_complement():
    counts = pd.DataFrame({"survey_id": "s", "round": [1, 1, 1, 2, 2, 2], "respondent_group": ["a", "b", "c"] * 2,
                           "n": [20, 7, 2, 18, 3, 0]})
    codes = collapse_groups(counts, 5)
    # c is small; b is small in round 2; together 3 in round 2 → a joins: everything combined
    assert codes[("s", "a")] == codes[("s", "b")] == codes[("s", "c")] == ALL
    counts.loc[4, "n"] = 8
    codes = collapse_groups(counts, 5)
    assert codes[("s", "c")] == OTHER_GROUPS and codes[("s", "b")] == OTHER_GROUPS  # 2 alone is small → b joins
    assert codes[("s", "a")] == "a"


def test_labels_and_titles_are_escaped(project_files):
    section = load_section("feedback", project(project_files, 5))
    section.specs["process_evaluation"] = {**section.specs["process_evaluation"],
                                           "title": {"en": "[click](http://x) <b>", "fi": "x"}}
    text = "\n".join(section.text("en"))
    assert "[click](http" not in text and "<b>" not in text


def test_all_answers_empty_gives_a_complete_section(project_files):
    data = responses(1).assign(response=None)
    section = load_section("feedback", project(project_files, 5, data=data))
    assert all(frame.empty for frame in section.published().values())
    assert section.text("en") and section.figures("en") == []


def _rounds_data(first, last, linked):
    rows = []
    for round_, values in ((1, first), (2, last)):
        for i, v in enumerate(values):
            rows.append({"survey_id": "process_evaluation", "round": round_, "respondent_group": "staff",
                         "respondent_id": f"s{i}" if linked else f"s{round_}-{i}", "item_id": "goals_clear",
                         "response": v})
    return pd.DataFrame(rows)


def test_rounds_published_between_whole_distributions_and_equal_internal(project_files):
    first = [1] * 5 + [2] * 5 + [3] * 6 + [4] * 5 + [5] * 5
    last = [2] * 5 + [3] * 5 + [4] * 7 + [5] * 8
    section = load_section("feedback", project(project_files, 5, data=_rounds_data(first, last, linked=False)))
    shown, internal = section.published()["feedback_rounds"].iloc[0], section.internal()["feedback_rounds"].iloc[0]
    for column in ("n_first", "n_last", "mean_first", "mean_last", "statistic", "p", "effect_size"):
        assert shown[column] == pytest.approx(internal[column])


def test_paired_rounds_withheld_when_round_minus_pairs_is_small(project_files):
    # 26 answer round 1, 24 of them round 2: "round 1 minus the pairs" would be 2 people
    first = [1] * 5 + [2] * 5 + [3] * 6 + [4] * 5 + [5] * 5
    last = [2] * 5 + [3] * 5 + [4] * 7 + [5] * 7
    section = load_section("feedback", project(project_files, 5, data=_rounds_data(first, last, linked=True)))
    assert section.comparison.iloc[0]["paired"]
    shown = section.published()["feedback_rounds"].iloc[0]
    for column in ("n_first", "n_last", "mean_first", "mean_last", "statistic", "p", "effect_size"):
        assert publication.is_symbol(shown[column], section.rules), column


# -- choices, themes and sites from survey exports ---------------------------------------------------
def export_project(project_files, min_cell: int, seed: int):
    """Two exports with small sites and groups: a multiple-choice item and coded open answers
    (process evaluation, Webropol) and a single-choice item (lifestyle guidance, Google Forms)."""
    from tyokyky_eval import demo

    entries = []
    for i, (tool, survey, groups, sites) in enumerate((
            ("webropol", "process_evaluation", {"staff": [14, 9], "stakeholders": [6, 3]}, {"a": 6, "b": 3, "c": 1}),
            ("google_forms", "lifestyle_guidance", {"clients": [23, 17]}, {"mikkeli": 8, "kangasniemi": 2}))):
        settings = {"file": f"e{i}.{demo.TOOLS[tool]['kind']}", "tool": tool, "survey_id": survey, "rounds": [1, 2],
                    "groups": groups, "sites": sites}
        frame = demo.survey_export(np.random.default_rng([seed, i]), settings)
        demo.write_export(frame, project_files.root / "data" / settings["file"], tool)
        entries.append({"path": f"data/{settings['file']}", "layout": "wide", "survey": survey,
                        "round": {"column": "Kierros"}, "site": {"column": "Alue"},
                        **({"respondent_group": {"column": "Vastaajaryhmä"}} if len(groups) > 1
                           else {"respondent_group": next(iter(groups))})})
    project_files.params["data"]["feedback"] = entries
    project_files.params["disclosure"] = {"min_cell": min_cell, "min_followup": max(10, min_cell)}
    return load_project(project_files.save_params(), "en")


def part_unknowns(section, name: str, shown: pd.DataFrame):
    """The attacker's LP for one table of parts (choices or themes): per row chosen + not chosen =
    the item's respondents (known to the attacker even where hidden), and for a single choice the
    options add up to them; published counts are fixed, "<m" is 1 … m − 1, "x" anything."""
    internal = section.internal()[name]
    total, parts = ("n_respondents", ("n", "n_not_chosen")) if name == "feedback_choices" else \
        ("n_answers", ("n", "n_not_coded"))
    m = section.rules.min_cell
    bounds, equations, names = {}, [], set()

    def term(i, column):
        value = shown.at[i, column]
        if publication.is_symbol(value, section.rules):
            unknown = f"{i}:{column}"
            names.add(unknown)
            bounds[unknown] = (1, m - 1) if value == f"<{m}" else (0, float(internal.at[i, total]))
            return {unknown: 1.0}, 0.0
        return {}, float(value)

    for i in range(len(shown)):
        equations.append(equation(({}, float(internal.at[i, total])), [term(i, c) for c in parts]))
    if name == "feedback_choices":
        for keys, rows in internal.groupby(KEYS).groups.items():
            item = next(it for it in section.specs[keys[0]]["items"] if it["id"] == keys[-1])
            if not item.get("multiple"):
                equations.append(equation(({}, float(internal.at[rows[0], total])), [term(i, "n") for i in rows]))
    return names, equations, bounds


@pytest.mark.parametrize("min_cell", MIN_CELLS)
@pytest.mark.parametrize("seed", [1, 2])
def test_no_hidden_choice_or_theme_count_is_recoverable(project_files, min_cell, seed):
    section = load_section("feedback", export_project(project_files, min_cell, seed))
    shown = section.published()
    assert not shown["feedback_choices"].empty and not shown["feedback_themes"].empty
    for name in ("feedback_choices", "feedback_themes"):
        names, equations, bounds = part_unknowns(section, name, shown[name])
        if names:
            for unknown, (low, high) in attack(names, equations, bounds).items():
                assert high - low >= 1 - 1e-9, f"{name} {unknown} recovered: {low}"
        published = shown[name]
        hidden = published["n"].map(lambda v: publication.is_symbol(v, section.rules))
        small = section.internal()[name]["n"].between(1, min_cell - 1)
        assert hidden[small].all()
        if name == "feedback_choices":  # shares and CIs go with a hidden count
            assert published.loc[hidden, ["share", "ci_low", "ci_high"]].eq("..").all().all()
            shares = published.loc[~hidden, "share"].astype(float)
            assert np.allclose(shares, section.choices.loc[~hidden, "share"])


@pytest.mark.parametrize("min_cell", MIN_CELLS)
def test_small_sites_are_combined_and_every_published_site_group_is_large(project_files, min_cell):
    section = load_section("feedback", export_project(project_files, min_cell, 1))
    respondents = section.published()["feedback_respondents"]
    assert respondents["n"].map(lambda n: n == 0 or n >= min_cell).all()
    raw = fb.respondent_counts(fb.with_site(section.project.table("feedback")))
    by_site = raw.groupby(["survey_id", "site", "round"])["n"].sum()
    small = {site for (_, site, _), n in by_site.items() if 0 < n < min_cell}
    assert small and not small & set(respondents["site"])  # "c" (1 respondent) always, others by min_cell
    # no published total over the sites: "all minus the sites shown" cannot be formed
    for survey, rows in respondents.groupby("survey_id"):
        sites = set(rows["site"])
        assert sites == {"all"} or "all" not in sites
    verbatim = section.internal()["feedback_open_answers"]
    assert verbatim["answer"].str.len().gt(0).any()
    assert all("answer" not in frame.columns for frame in section.published().values())


def test_choice_and_theme_figures_draw_published_shares_only(project_files):
    section = load_section("feedback", export_project(project_files, 5, 1))
    shown = section.published()
    captions = [caption for caption, _ in section.figures("en")]

    def latest_published(table, survey):
        """The published shares of the latest round with one above zero (what the figure draws)."""
        withheld = table["share"].map(lambda v: publication.is_symbol(v, section.rules))
        rows = table[table["survey_id"].eq(survey) & ~withheld]
        above_zero = rows[rows["share"].astype(float).gt(0)]
        return rows[rows["round"].eq(above_zero["round"].max())]

    def widths(fig):
        return sorted(round(p.get_width(), 9) for ax in fig.axes for p in ax.patches)

    drawn = []
    for name, axis in (("feedback_choices", "Share of the item's respondents"),
                       ("feedback_themes", "Share of the item's answers")):
        for survey in sorted(section.specs):
            table = shown[name].copy()
            latest = latest_published(table, survey)
            if latest.empty:
                continue
            drawn.append((name, survey, int(latest["round"].iloc[0])))
            fig = section.figure_shares(table, survey, "en")
            assert widths(fig) == sorted(round(float(v), 9) for v in latest["share"])
            assert fig.axes[-1].get_xlabel() == axis
            # a share withheld in the published table is not drawn
            table.loc[latest.index[latest["share"].astype(float).gt(0)][0], "share"] = \
                section.rules.symbol(publication.WITHHELD)
            latest = latest_published(table, survey)
            if len(latest):
                assert widths(section.figure_shares(table, survey, "en")) == \
                    sorted(round(float(v), 9) for v in latest["share"])
    # round 2 of the process evaluation publishes no share above zero, so round 1 is drawn
    assert drawn == [("feedback_choices", "lifestyle_guidance", 2), ("feedback_choices", "process_evaluation", 1),
                     ("feedback_themes", "lifestyle_guidance", 1), ("feedback_themes", "process_evaluation", 1)]
    assert sum("round 2: share of the item's respondents who chose each option" in c for c in captions) == 1
    assert sum("coded with each theme" in c for c in captions) == 2

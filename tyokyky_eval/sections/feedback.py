"""Section "Feedback surveys": the statistics of :mod:`tyokyky_eval.stats.feedback`, published safely.

One section object covers every survey of a project; its tables have ``survey_id`` and ``site``
columns (``feedback_respondents``, ``feedback_items``, ``feedback_categories``, ``feedback_choices``,
``feedback_themes``, ``feedback_rounds``).
What is published, and why:

- **Respondent groups** of a survey with fewer than ``min_cell`` respondents in any round are
  combined into ``other_groups`` (and, while that combination is still small, the smallest group
  joins it; when every group is combined it is ``all``), so every group shown has 0 or at least
  ``min_cell`` respondents in every round and "all minus the groups shown" isolates nobody. A
  survey round whose respondents are fewer than ``min_cell`` altogether is suppressed.
- **Categories.** An item's categories are published as they are when every category has 0 or at
  least ``min_cell`` answers; otherwise they are merged into below-centre / centre / above-centre
  bands, and bands still small are suppressed, with secondary suppression because the item's n is
  published (the bands add up to it).
- **Item statistics** (mean, CI, SD, median, quartiles) are published only when the item's whole
  distribution is published unmerged: with merged or suppressed categories, n, the bands and the
  mean and SD pin the hidden counts down (two equations for two unknowns), so they are withheld.
- **Rounds compared**: a comparison is published only when every round it uses has its item
  statistics published; a paired comparison also needs its pairs to be 0 or at least ``min_cell``
  fewer than each round's respondents (else "round minus pairs" is a small group whose answers the
  means give back), and its pair count is withheld with it.
- **Sites** (``site``, e.g. Pohde's uniform indicators in Ii, Oulu and Ylivieska): every table is
  per site; sites with fewer than ``min_cell`` respondents in a round are combined into
  ``other_sites`` by the same rule as groups (and groups then within each site). No total over the
  sites is published, so "all minus the sites shown" cannot be formed.
- **Choices and themes** (``feedback_choices``, ``feedback_themes``): chosen + not chosen (coded +
  not coded) add up to the item's respondents (answers), and a single choice's options too; both
  parts are counts under primary and secondary suppression, then an integer-programming audit
  (:func:`tyokyky_eval.publication.audit`) that assumes the attacker knows the total hides
  more until no hidden count is determined. Shares and Wilson CIs go with their count. Open
  answers themselves are in ``tables-internal/feedback_open_answers.csv`` only.
- **'Don't know'** counts are shown only when they and the answers left empty are each 0 or at
  least ``min_cell`` (respondents − n gives their sum), else "x".
- **Figures** are drawn from the published tables only: diverging bars for items whose published
  categories have no suppressed band, means by round where published, and the published shares
  (Wilson CIs) of the options chosen and the themes coded in the latest round with a share above
  zero, a withheld share left out.
Internal tables (``tables-internal/``) hold the unmerged categories and every statistic.

Not protected, on purpose: the number of respondents of a round who left an item empty
(respondents − the item's n) is published by subtraction; it is non-response, not an answer. A
published paired comparison (Wilcoxon / Friedman) says something about how the same people's
answers changed beyond the two published distributions (its statistic is a function of the paired
differences); it is published only with ≥ ``min_cell`` pairs and both distributions published.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from tyokyky_eval import publication
from tyokyky_eval.i18n import code_label, t
from tyokyky_eval.sections import Section
from tyokyky_eval.stats import feedback as fb

OTHER_GROUPS, ALL, OTHER_SITES = "other_groups", "all", "other_sites"
ITEM_STATS = tuple(fb.SUMMARY_STATS)
ROUND_STATS = ("mean_first", "mean_last", "statistic", "p", "effect_size")
RESPONDENT_COLUMNS = fb.KEYS[:-1] + ["n"]
ITEM_COLUMNS = fb.KEYS + ["n", "n_not_applicable"] + fb.SUMMARY_STATS
#: count columns of the choice and theme tables: the parts (chosen / not chosen) and their total
PARTS = {"feedback_choices": (("n", "n_not_chosen"), "n_respondents", ("share", "ci_low", "ci_high")),
         "feedback_themes": (("n", "n_not_coded"), "n_answers", ("share", "ci_low", "ci_high"))}
DECIMALS = {"n": 0, "n_first": 0, "n_last": 0, "share": 2, "p": 3, "effect_size": 2, "statistic": 1, "round": 0,
            "mean": 2, "ci_low": 2, "ci_high": 2, "sd": 2, "median": 1, "q1": 1, "q3": 1, "mean_first": 2,
            "mean_last": 2, "category_low": 0, "category_high": 0, "n_not_applicable": 0, "n_not_chosen": 0,
            "n_respondents": 0, "n_not_coded": 0, "n_answers": 0}
CODES = ("site", "respondent_group", "test", "effect_measure", "paired", "rounds")


def collapse_groups(respondents: pd.DataFrame, min_cell: int, column: str = "respondent_group",
                    within=("survey_id",), other: str = OTHER_GROUPS) -> dict[tuple, str]:
    """``(*within, code) → published code`` of ``column`` (respondent groups, or sites): within each
    ``within`` combination, codes with 0 < n < ``min_cell`` respondents in any round are combined
    into ``other``; while that combination is small in a round, the smallest remaining code joins
    it; when every code is combined it is ``all``."""
    out = {}
    for key, rows in respondents.groupby(list(within), sort=True):
        sizes = rows.pivot_table(index=column, columns="round", values="n", aggfunc="sum", fill_value=0)
        code = {g: g for g in sizes.index}

        def small(groups) -> bool:
            n = sizes.loc[list(groups)].sum()
            return bool(((n > 0) & (n < min_cell)).any())

        while True:
            merged = [g for g in sizes.index if code[g] == other]
            kept = [g for g in sizes.index if code[g] != other]
            below = [g for g in kept if small([g])]
            if not below and merged and small(merged) and kept:
                below = [min(kept, key=lambda g: (int(sizes.loc[g].sum()), g))]
            if not below:
                break
            for g in below:
                code[g] = other
        if set(code.values()) == {other}:
            code = {g: ALL for g in code}
        out.update({(*key, g): c for g, c in code.items()})
    return out


class FeedbackSection(Section):
    """Feedback surveys (see :mod:`tyokyky_eval.stats.feedback`): every survey of the project."""

    name = "feedback"

    def __init__(self, project):
        super().__init__(project)
        min_cell = self.rules.min_cell
        self.options = options = project.params.options("feedback")
        raw = fb.with_site(project.table("feedback"))
        self.specs = fb.survey_specs(raw, options, base=project.params.path.parent)
        sites = collapse_groups(fb.respondent_counts(raw), min_cell, "site", other=OTHER_SITES)
        raw["site"] = pd.Series([sites.get(k, k[-1]) for k in zip(raw["survey_id"], raw["site"])], index=raw.index, dtype=object)
        self.group_codes = collapse_groups(fb.respondent_counts(raw), min_cell, within=("survey_id", "site"))
        groups = [self.group_codes.get(k, k[-1]) for k in zip(raw["survey_id"], raw["site"], raw["respondent_group"])]
        self.responses = responses = raw.assign(respondent_group=pd.Series(groups, index=raw.index, dtype=object))
        self.respondents = fb.respondent_counts(responses)[RESPONDENT_COLUMNS]
        self.summary = self._summary(responses)
        self.counts = fb.category_counts(responses, self.specs)
        self.choices = fb.choice_shares(responses, self.specs, options.confidence)
        self.themes = fb.theme_counts(responses, self.specs, options.confidence)
        self.comparison = fb.compare_rounds(responses)
        self.categories, self.full = self._categories()
        self._tables, self._answered_rounds = None, None

    def _summary(self, responses: pd.DataFrame) -> pd.DataFrame:
        """Item statistics with the 'don't know' answers counted (items answered only so included)."""
        summary = fb.item_summary(responses, self.options.confidence)
        na = fb.not_applicable_counts(responses)
        out = summary.merge(na, on=fb.KEYS, how="outer").sort_values(fb.KEYS, kind="stable")
        out[["n", "n_not_applicable"]] = out[["n", "n_not_applicable"]].fillna(0).astype(int)
        return out.reset_index(drop=True)[ITEM_COLUMNS]

    # -- what may be published -------------------------------------------------------------------
    def _categories(self) -> tuple[pd.DataFrame, set]:
        """The categories as published (an item's categories merged into bands when one is small)
        and the keys of the items whose whole distribution is published unmerged."""
        min_cell, frames, full = self.rules.min_cell, [], set()
        for keys, rows in self.counts.groupby(fb.KEYS, sort=True):
            rows = rows.reset_index(drop=True)
            if rows["n"].between(1, min_cell - 1).any():
                rows = fb.merge_bands(rows, fb.centre(fb.item_scale(self.specs[keys[0]], keys[-1])))
            else:
                full.add(keys)
            frames.append(rows)
        frame = (pd.concat(frames, ignore_index=True) if frames
                 else pd.DataFrame(columns=fb.CATEGORY_COLUMNS))
        return frame[fb.CATEGORY_COLUMNS], full

    def _items_table(self) -> pd.DataFrame:
        """Item statistics with those of items not published whole withheld (symbol in place)."""
        data = self.summary.copy()
        keep = np.array([tuple(k) in self.full for k in data[fb.KEYS].itertuples(index=False)], dtype=bool)
        return self._withhold(data, ~keep, ITEM_STATS)

    def _rounds_table(self) -> pd.DataFrame:
        """Comparisons with those using a round not published whole, or pairs that differ from a
        round's respondents by 1 … min_cell − 1, withheld (the pair counts with them)."""
        data = self.comparison.copy()
        if data.empty:
            return data
        min_cell = self.rules.min_cell
        n_item = self.summary.set_index(fb.KEYS)["n"]
        stats_hidden, counts_hidden = [], []
        for row in data.itertuples(index=False):
            rounds = self._rounds_of(row)
            keys = [(row.survey_id, row.site, r, row.respondent_group, row.item_id) for r in rounds]
            whole = all(k in self.full for k in keys)
            pairs_ok = True
            if row.paired:
                gaps = [int(n_item.get(k, 0)) - int(row.n_first) for k in keys]
                pairs_ok = all(g == 0 or g >= min_cell for g in gaps)
            stats_hidden.append(not (whole and pairs_ok))
            counts_hidden.append(bool(row.paired) and not pairs_ok)
        data = self._withhold(data, np.array(stats_hidden), ROUND_STATS)
        return self._withhold(data, np.array(counts_hidden), ("n_first", "n_last"))

    def _rounds_of(self, row) -> list:
        """The rounds a comparison row uses (first and last, or all for ``rounds = "all"``)."""
        if self._answered_rounds is None:
            answered = self.responses.dropna(subset=["response"])
            self._answered_rounds = {k: sorted(v.unique()) for k, v in answered.groupby(
                ["survey_id", "site", "respondent_group", "item_id"])["round"]}
        rounds = self._answered_rounds[(row.survey_id, row.site, row.respondent_group, row.item_id)]
        return rounds if row.rounds == "all" else [rounds[0], rounds[-1]]

    def _withhold(self, data: pd.DataFrame, rows: np.ndarray, columns) -> pd.DataFrame:
        """``columns`` of ``rows`` withheld by this section's own rules: the withheld symbol in place
        (the publication layer has no per-cell "withheld by the section" input yet)."""
        if rows.any():
            symbol = self.rules.symbol(publication.WITHHELD)
            for column in columns:
                data[column] = data[column].astype(object)
                data.loc[rows, column] = symbol
        return data

    # -- tables ----------------------------------------------------------------------------------
    def internal(self) -> dict[str, pd.DataFrame]:
        """Full precision: every statistic, the unmerged categories, groups as published."""
        return {"feedback_respondents": self.respondents, "feedback_items": self.summary,
                "feedback_categories": self.counts, "feedback_rounds": self.comparison,
                "feedback_choices": self.choices, "feedback_themes": self.themes,
                "feedback_open_answers": fb.open_answers(self.responses, self.specs)}

    def tables(self) -> list[publication.Table]:
        """The tables with every protection applied in their data (symbols in place): the
        publication layer's joint protection, then :meth:`_audit` (see there)."""
        if self._tables is None:
            tables = self._provisional_tables()
            statuses = publication.protect(tables, self.rules, self.links())
            self._audit(statuses)
            for name in PARTS:
                self._audit_parts(name, statuses[name])
            self._audit_not_applicable(statuses["feedback_items"])
            self._tables = [dataclasses.replace(table, data=publication.published(table, self.rules,
                                                                                   statuses[table.name]))
                            for table in tables]
        return self._tables

    def _audit(self, statuses: dict[str, pd.DataFrame]) -> None:
        """Interval protection of each item's categories, in place. The single-line rule leaves
        lines whose suppressed cells are pinned by their bounds (two bands ``<3`` adding up to 4
        are 2 and 2): for every suppressed band the attacker's range is [max(lo, S − Σ others' hi),
        min(hi, S − Σ others' lo)] with S = n − the bands shown, lo/hi = 1/min_cell − 1 for a
        primary and 0/∞ for a secondary cell; while one range is a single value, the smallest
        shown non-zero band is suppressed too (or, with none left, the item's n). An item n
        suppressed here also hides the same n in the rounds compared (and the pair counts of paired
        comparisons using that round), and the statistics."""
        m = self.rules.min_cell
        cats, items = statuses["feedback_categories"], statuses["feedback_items"]
        values = pd.to_numeric(self.categories["n"], errors="coerce").to_numpy(float)
        n_item = pd.to_numeric(self.summary["n"], errors="coerce").to_numpy(float)
        hidden = (publication.PRIMARY, publication.SECONDARY)
        for line in self.links():
            rows = [cell[1] for cell in line.cells]
            total = line.total[1] if line.total else None
            while total is not None and items.at[total, "n"] not in hidden:
                secret = [r for r in rows if cats.at[r, "n"] in hidden]
                if not secret:
                    break
                rest = n_item[total] - sum(values[r] for r in rows if r not in secret)
                bounds = {r: (1.0, m - 1.0) if cats.at[r, "n"] == publication.PRIMARY else (0.0, np.inf)
                          for r in secret}
                pinned = False
                for r in secret:
                    lo = max(bounds[r][0], rest - sum(bounds[o][1] for o in secret if o != r))
                    hi = min(bounds[r][1], rest - sum(bounds[o][0] for o in secret if o != r))
                    pinned |= lo >= hi
                if not pinned:
                    break
                shown = [r for r in rows if r not in secret and values[r] > 0]
                if shown:
                    cats.at[min(shown, key=lambda r: (values[r], r)), "n"] = publication.SECONDARY
                else:
                    items.at[total, "n"] = publication.SECONDARY
        cats.loc[cats["n"].isin(hidden) & cats["share"].eq(""), "share"] = publication.WITHHELD
        withheld = items["n"].isin(hidden)
        for column in ITEM_STATS:
            items.loc[withheld & items[column].eq(""), column] = publication.WITHHELD
        rounds = statuses["feedback_rounds"]
        if rounds.empty:
            return
        secret = {tuple(k) for k, h in zip(self.summary[fb.KEYS].itertuples(index=False), withheld) if h}
        for i, row in enumerate(self.comparison.itertuples(index=False)):
            rounds_used = self._rounds_of(row)
            # unpaired: n_first / n_last are the rounds' item n; paired: the pairs, equal to a
            # round's n when everybody answered twice
            pairs = zip(("n_first", "n_last"), (rounds_used[0], rounds_used[-1])) if not row.paired else \
                [(column, r) for column in ("n_first", "n_last") for r in rounds_used]
            for column, round_ in pairs:
                if (row.survey_id, row.site, round_, row.respondent_group, row.item_id) in secret \
                        and rounds.at[i, column] == "":
                    rounds.at[i, column] = publication.SECONDARY

    def _audit_parts(self, name: str, cells: pd.DataFrame) -> None:
        """Choices and themes, in place: an item's parts (chosen + not chosen, and the options of a
        single choice) add up to its respondents, which an attacker may know from the respondents
        table even where hidden here. The integer-programming audit
        (:func:`tyokyky_eval.publication.audit`) hides more until no hidden part is worked
        out; a hidden total is hidden in every row of its item, and the statistics of a hidden
        part are withheld."""

        (parts, total, derived), data = PARTS[name], self.choices if name == "feedback_choices" else self.themes
        values = data.reset_index(drop=True)
        hidden = (publication.PRIMARY, publication.SECONDARY)
        relations, items = [], []
        for _keys, rows in pd.Series(range(len(values))).groupby([values[k].to_numpy() for k in fb.KEYS]) \
                if len(values) else []:
            rows = [int(r) for r in rows]
            items.append(rows)
            n = float(values.at[rows[0], total])
            relations += [(tuple((1.0, (name, r, c)) for c in parts), n, n) for r in rows]
            if name == "feedback_choices" and not self._multiple(values.iloc[rows[0]]):
                relations.append((tuple((1.0, (name, r, "n")) for r in rows), n, n))
        publication.audit({name: values}, {name: cells}, relations, self.rules)
        for rows in items:
            if any(cells.at[r, total] in hidden for r in rows):
                for r in rows:
                    cells.at[r, total] = cells.at[r, total] or publication.SECONDARY
            for r in rows:
                if any(cells.at[r, c] in hidden for c in parts):
                    for column in derived:
                        cells.at[r, column] = cells.at[r, column] or publication.WITHHELD

    def _audit_not_applicable(self, cells: pd.DataFrame) -> None:
        """'Don't know' counts, in place: with the respondents and the item's n published, 'don't
        know' + left empty is known, so a 'don't know' count is shown only when it is 0, or it and
        the empty answers are each 0 or at least ``min_cell``; otherwise "x" (any value in 0 … their
        sum; a "<5" would pin 1 of a sum of 1)."""
        m = self.rules.min_cell
        respondents = self.respondents.set_index(fb.KEYS[:-1])["n"]
        for i, row in enumerate(self.summary.itertuples(index=False)):
            na = int(row.n_not_applicable)
            key = (row.survey_id, row.site, row.round, row.respondent_group)
            empty = int(respondents.get(key, 0)) - int(row.n) - na
            if na and not (na >= m and (empty == 0 or empty >= m)):
                cells.at[i, "n_not_applicable"] = publication.SECONDARY

    def _multiple(self, row) -> bool:
        item = next(i for i in self.specs[row["survey_id"]]["items"] if i["id"] == row["item_id"])
        return bool(item.get("multiple"))

    def _labels(self) -> dict[str, dict]:
        """Display texts from the survey specs (survey titles, item texts, options and themes per
        language) and the sites' declared labels (``sites`` of the parameters)."""
        titles = {sid: spec["title"] for sid, spec in self.specs.items()}
        items: dict = {}
        for spec in self.specs.values():
            for item in spec["items"]:
                items.setdefault(item["id"], item["text"])
        options: dict = {}
        for spec in self.specs.values():
            for item in spec["items"]:
                for code, label in {**(item.get("options") or {}), **(item.get("themes") or {})}.items():
                    options.setdefault(code, label)
        return {"survey_id": titles, "item_id": items, "option": options, "theme": options,
                "site": self.project.params.sites}

    def _provisional_tables(self) -> list[publication.Table]:
        rules = self.rules
        note = {"min_cell": rules.min_cell, "primary": rules.symbol(publication.PRIMARY),
                "secondary": rules.symbol(publication.SECONDARY), "withheld": rules.symbol(publication.WITHHELD)}
        every = self._labels()
        labels = {k: every[k] for k in ("survey_id", "item_id", "site")}
        shown = dict(decimals=DECIMALS, code_columns=CODES, namespace="feedback", note_values=note)
        return [
            publication.Table("feedback_respondents", self.respondents, "feedback.caption_respondents",
                              counts=("n",), note="feedback.note_respondents", columns=self._columns(self.respondents),
                              labels={k: labels[k] for k in ("survey_id", "site")}, **shown),
            publication.Table("feedback_items", self._items_table(), "feedback.caption_items",
                              counts=("n",), derived={"n": ITEM_STATS}, note="feedback.note_items",
                              columns=self._columns(self.summary), labels=labels, **shown),
            publication.Table("feedback_categories", self.categories, "feedback.caption_categories",
                              counts=("n",), derived={"n": ("share",)}, note="feedback.note_categories",
                              columns=tuple(c for c in self._columns(self.counts)
                                            if c not in ("category_low", "category_high")),
                              labels=labels, **shown),
            publication.Table("feedback_choices", self.choices, "feedback.caption_choices",
                              counts=PARTS["feedback_choices"][0] + ("n_respondents",),
                              derived={c: PARTS["feedback_choices"][2] for c in PARTS["feedback_choices"][0]},
                              lines=self._part_lines(self.choices, "n_respondents"), note="feedback.note_choices",
                              columns=self._columns(self.choices),
                              labels={**labels, "option": every["option"]}, **shown),
            publication.Table("feedback_themes", self.themes, "feedback.caption_themes",
                              counts=PARTS["feedback_themes"][0] + ("n_answers",),
                              derived={c: PARTS["feedback_themes"][2] for c in PARTS["feedback_themes"][0]},
                              lines=self._part_lines(self.themes, "n_answers"), note="feedback.note_themes",
                              columns=self._columns(self.themes),
                              labels={**labels, "theme": every["theme"]}, **shown),
            publication.Table("feedback_rounds", self._rounds_table(), "feedback.caption_rounds",
                              counts=("n_first", "n_last"), derived={"n_first": ROUND_STATS, "n_last": ROUND_STATS},
                              note="feedback.note_rounds", columns=self._columns(self.comparison), labels=labels,
                              **shown),
        ]

    def _columns(self, frame: pd.DataFrame) -> tuple[str, ...]:
        """The columns shown in the appendix: ``site`` only when the project's surveys have sites,
        the 'don't know' count only when some scale declares such answers and one was given."""
        sites = set(self.responses["site"]) != {fb.ALL_SITES}
        na = bool(self.summary["n_not_applicable"].gt(0).any())
        return tuple(c for c in frame.columns if (c != "site" or sites) and (c != "n_not_applicable" or na))

    def _part_lines(self, data: pd.DataFrame, total: str) -> tuple[publication.Line, ...]:
        """Chosen + not chosen (coded + not coded) = the item's respondents, per row; the options of
        a single-choice item add up to its respondents."""
        parts = ("n", "n_not_chosen") if total == "n_respondents" else ("n", "n_not_coded")
        lines = [publication.Line(tuple((i, c) for c in parts), (i, total)) for i in range(len(data))]
        if total == "n_respondents":
            for _keys, rows in pd.Series(range(len(data))).groupby([data[k].to_numpy() for k in fb.KEYS]) \
                    if len(data) else []:
                if not self._multiple(data.iloc[rows.iloc[0]]):
                    lines.append(publication.Line(tuple((int(r), "n") for r in rows), (int(rows.iloc[0]), total)))
        return tuple(lines)

    def links(self) -> tuple[publication.Line, ...]:
        """The categories of an item add up to its n in ``feedback_items`` (already applied in the
        data :meth:`tables` returns, so a second :func:`publication.protect` changes nothing)."""
        item_row = {tuple(k): i for i, k in enumerate(self.summary[fb.KEYS].itertuples(index=False))}
        lines = []
        positions = pd.Series(range(len(self.categories)))
        for keys, rows in positions.groupby([self.categories[k].to_numpy() for k in fb.KEYS]) if len(positions) else []:
            total = item_row.get(tuple(keys))
            lines.append(publication.Line(tuple(("feedback_categories", int(r), "n") for r in rows),
                                          None if total is None else ("feedback_items", total, "n")))
        return tuple(lines)

    # -- text ------------------------------------------------------------------------------------
    def label(self, group, language: str) -> str:
        """A respondent group's label; for ``(site, group)`` with a site, "site: group"."""
        site, group = group if isinstance(group, tuple) else (fb.ALL_SITES, group)
        text = code_label("respondent_group", group, language, "feedback")
        if site == fb.ALL_SITES:
            return text
        sites = self.project.params.sites
        name = sites[site][language] if site in sites else code_label("site", site, language, "feedback")
        return f"{name}: {text}"

    def title(self, survey_id: str, language: str) -> str:
        spec = self.specs.get(survey_id)
        return spec["title"][language] if spec else survey_id

    def item_text(self, survey_id: str, item_id: str, language: str) -> str:
        return next((i["text"][language] for i in self.specs[survey_id]["items"] if i["id"] == item_id), item_id)

    def _shown(self, value) -> bool:
        return not publication.is_symbol(value, self.rules) and not pd.isna(value)

    def text(self, language: str) -> list[str]:
        published = self.published()
        respondents = published["feedback_respondents"]
        paragraphs = []
        if not self.specs:
            return [t("feedback.no_surveys", language)]
        for sid in sorted(self.specs):
            rows = respondents[respondents["survey_id"].eq(sid)]
            title = self.title(sid, language)
            if rows.empty:
                paragraphs.append(publication.text("feedback.no_answers", language, title=title))
                continue
            parts = []
            for group, by_round in rows.groupby(["site", "respondent_group"], sort=True):
                counts = ", ".join(str(v) for v in by_round.sort_values("round")["n"])
                parts.append(f"{self.label(group, language)} {counts}")
            paragraphs.append(publication.text("feedback.survey_sentence", language, title=title, survey_id=sid,
                                               rounds=int(rows["round"].nunique()), groups="; ".join(parts)))
            if not self._bars(published["feedback_categories"], sid):
                paragraphs.append(t("feedback.no_bars", language, min_cell=self.rules.min_cell))
            if rows["round"].nunique() < 2:
                paragraphs.append(t("feedback.single_round", language))
        paragraphs.append(t("feedback.disclosure", language, min_cell=self.rules.min_cell))
        return paragraphs

    # -- figures ---------------------------------------------------------------------------------
    def figures(self, language: str) -> list[tuple[str, object]]:
        published = self.published()
        out = []
        for sid in sorted(self.specs):
            title = self.title(sid, language)
            bars = self._bars(published["feedback_categories"], sid)
            if bars:
                latest = bars[0][1]["round"].iloc[0]
                out.append((publication.text("feedback.caption_diverging", language, title=title, round=latest),
                            self.figure_diverging(published["feedback_categories"], sid, language)))
            items = published["feedback_items"]
            mine = items[items["survey_id"].eq(sid)]
            if mine["round"].nunique() > 1 and mine["mean"].map(self._shown).any():
                out.append((publication.text("feedback.caption_line", language, title=title),
                            self.figure_rounds(items, sid, language)))
            for name in PARTS:
                shares = self._shares(published[name], sid)
                if len(shares):
                    out.append((publication.text(f"feedback.caption_fig_{name.removeprefix('feedback_')}", language,
                                                 title=title, round=shares["round"].iloc[0]),
                                self.figure_shares(published[name], sid, language)))
        return out

    def _shares(self, table: pd.DataFrame, survey_id: str) -> pd.DataFrame:
        """The rows of a published choice or theme table of ``survey_id`` whose share and CI are
        published, in the latest round with a published share above zero (none: empty)."""
        data = table[table["survey_id"].eq(survey_id)]
        data = data[data[["share", "ci_low", "ci_high"]].map(self._shown).all(axis=1)]
        above_zero = data.loc[data["share"].astype(float).gt(0), "round"]
        return data[data["round"].eq(above_zero.max())]

    def figure_shares(self, table: pd.DataFrame, survey_id: str, language: str):
        """Published shares (95 % Wilson CI) of the options chosen (``feedback_choices``) or the
        themes coded (``feedback_themes``) in the latest round with one above zero (:meth:`_shares`):
        one panel per item, one bar per option and respondent group; a withheld share is not drawn
        (its option keeps its place)."""
        import matplotlib.pyplot as plt
        from matplotlib.ticker import PercentFormatter

        column, codes_key = ("option", "options") if "option" in table else ("theme", "themes")
        data = self._shares(table, survey_id)
        items = [i for i in self.specs[survey_id]["items"] if i["id"] in set(data["item_id"])]
        groups = sorted(set(zip(data["site"], data["respondent_group"])))
        heights = [len(i[codes_key]) * (0.25 * len(groups) + 0.1) + 0.8 for i in items]
        fig, axes = plt.subplots(len(items), 1, figsize=(7, sum(heights) + 0.4), squeeze=False,
                                 gridspec_kw={"height_ratios": heights})
        width = 0.8 / len(groups)
        for ax, item in zip(axes[:, 0], items):
            codes = list(item[codes_key])
            rows = data[data["item_id"].eq(item["id"])]
            for k, group in enumerate(groups):
                bars = rows[rows["site"].eq(group[0]) & rows["respondent_group"].eq(group[1])]
                share, low, high = (bars[c].astype(float).to_numpy() for c in ("share", "ci_low", "ci_high"))
                y = np.array([codes.index(code) for code in bars[column]]) + (k - (len(groups) - 1) / 2) * width
                error = np.clip([share - low, high - share], 0, None)  # a Wilson bound may be off by 1e-16
                ax.barh(y, share, width * 0.9, xerr=error, capsize=2,
                        label=self.label(group, language))
            ax.set_yticks(range(len(codes)), [item[codes_key][code][language] for code in codes], fontsize=8)
            ax.invert_yaxis()
            ax.set_xlim(0, 1)
            ax.xaxis.set_major_formatter(PercentFormatter(1.0))
            ax.set_title(self.item_text(survey_id, item["id"], language), fontsize=9, loc="left", wrap=True)
            ax.spines[["top", "right"]].set_visible(False)
        axes[-1, 0].set_xlabel(t(f"feedback.axis_share_{column}", language))
        if len(groups) > 1:
            axes[0, 0].legend(fontsize=7)
        fig.tight_layout()
        return fig

    def _bars(self, categories: pd.DataFrame, survey_id: str) -> list:
        """``((item, group), rows)`` of the latest round of ``survey_id`` whose published categories
        have no protected share (count scales are not drawn)."""
        data = categories[categories["survey_id"].eq(survey_id)]
        if data.empty:
            return []
        data = data[data["round"].eq(data["round"].max())]
        spec = self.specs[survey_id]
        items = [i["id"] for i in spec["items"] if "scale" in i and spec["scales"][i["scale"]]["type"] != "count"]
        return [((item, group), rows) for item in items
                for group, rows in data[data["item_id"].eq(item)].groupby(["site", "respondent_group"], sort=True)
                if rows["share"].map(self._shown).all() and rows["n"].map(self._shown).all()]

    def figure_diverging(self, categories: pd.DataFrame, survey_id: str, language: str, ax=None):
        """Diverging stacked bars of the published category shares of the latest round, centred on
        the neutral category (half of it each side; Robbins & Heiberger 2011), one bar per item and
        respondent group; items with a protected category are not drawn."""
        import matplotlib as mpl
        import matplotlib.pyplot as plt

        bars = self._bars(categories, survey_id)
        if ax is None:
            fig, ax = plt.subplots(figsize=(8, 0.5 * max(len(bars), 1) + 1.2))
        else:
            fig = ax.figure
        cmap = mpl.colormaps["RdBu"]
        spec = self.specs[survey_id]
        for y, ((item, _group), rows) in enumerate(bars):
            scale = fb.item_scale(spec, item)
            centre, span = fb.centre(scale), (scale["max"] - scale["min"]) / 2
            lo, hi = rows["category_low"].to_numpy(float), rows["category_high"].to_numpy(float)
            share = rows["share"].astype(float).to_numpy()
            mid = (lo + hi) / 2 - centre
            left = -share[(lo <= centre) & (hi >= centre)].sum() / 2 - share[hi < centre].sum()
            for s, m in zip(share, mid):
                colour = cmap(0.5 + 0.45 * m / span) if m else (0.82, 0.82, 0.82, 1.0)
                ax.barh(y, s, left=left, color=colour, edgecolor="white", height=0.7)
                if s >= 0.08:
                    ax.text(left + s / 2, y, f"{100 * s:.0f}", ha="center", va="center", fontsize=7)
                left += s
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_yticks(range(len(bars)))
        ax.set_yticklabels([f"{self.item_text(survey_id, i, language)} ({self.label(g, language)})"
                            for (i, g), _ in bars], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(-1, 1)
        ax.set_xticks([-1, -0.5, 0, 0.5, 1])
        ax.set_xticklabels(["100", "50", "0", "50", "100"])
        ax.set_xlabel(t("feedback.axis_share", language))
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        return fig

    def figure_rounds(self, items: pd.DataFrame, survey_id: str, language: str, ax=None):
        """Published mean (95 % CI) over rounds, one panel per item (all in ``ax`` when given), one
        line per respondent group; withheld means are gaps."""
        import matplotlib.pyplot as plt

        data = items[items["survey_id"].eq(survey_id)]
        spec = self.specs[survey_id]
        ids = [i["id"] for i in spec["items"] if i["id"] in set(data["item_id"])]
        if ax is None:
            cols = max(min(len(ids), 3), 1)
            rows = max(math.ceil(len(ids) / cols), 1)
            fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.8 * rows), squeeze=False, sharey=True)
            panels = list(axes.flat)
            for extra in panels[len(ids):]:
                extra.set_visible(False)
        else:
            fig, panels = ax.figure, [ax] * len(ids)

        def number(values: pd.Series) -> pd.Series:
            return pd.to_numeric(values.map(lambda v: v if self._shown(v) else np.nan), errors="coerce")

        for panel, item in zip(panels, ids):
            for group, g in data[data["item_id"].eq(item)].groupby(["site", "respondent_group"], sort=True):
                mean = number(g["mean"])
                err = np.vstack([mean - number(g["ci_low"]), number(g["ci_high"]) - mean])
                label = self.label(group, language) if ax is None else \
                    f"{self.item_text(survey_id, item, language)} ({self.label(group, language)})"
                panel.errorbar(g["round"].astype(float), mean, yerr=err, marker="o", capsize=3, label=label)
            if ax is None:
                scale = fb.item_scale(spec, item)
                panel.set_title(self.item_text(survey_id, item, language), fontsize=8, wrap=True)
                panel.set_ylim(scale["min"] - 0.2, scale["max"] + 0.2)
            panel.set_xticks(sorted(data["round"].unique()))
            panel.set_xlabel(t("feedback.axis_round", language))
            panel.spines[["top", "right"]].set_visible(False)
        if panels:
            panels[0].set_ylabel(t("feedback.axis_mean", language))
            panels[0].legend(fontsize=7)
        fig.tight_layout()
        return fig


SECTION = FeedbackSection

"""Write the small input data sets of the R reference tests (tests/reference/data/*.csv).

Run once from the repository root: ``python tests/reference/make_data.py``. The CSV files are
committed; the R scripts (tests/reference/R/) and tests/test_reference.py read the same files, so the
package and R see identical numbers. Everything here is deterministic (hand-made values, fixed seeds,
the package's own demo generator and pipeline functions).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tyokyky_eval import demo
from tyokyky_eval.stats import fidelity, prepost, survival

OUT = Path(__file__).resolve().parent / "data"
DEMO = demo.DemoSpec(seed=3, clients=80)
CUTOFF = DEMO.cutoff_date


def write(frame: pd.DataFrame, name: str) -> None:
    frame.to_csv(OUT / f"{name}.csv", index=False)
    print(f"{name}.csv: {len(frame)} rows")


# -- survival ----------------------------------------------------------------------------------
def survival_hand() -> pd.DataFrame:
    """30 clients in two groups: tied event times, events tied with censorings and with the
    competing outcome (pension), an event at day 0, two covariates (x1 continuous, x2 binary)."""
    rows = [  # (group, time, outcome)
        ("a", 0, "employed"), ("a", 5, "employed"), ("a", 5, "employed"), ("a", 5, "censored"),
        ("a", 12, "employed"), ("a", 20, "censored"), ("a", 20, "employed"), ("a", 33, "employed"),
        ("a", 33, "employed"), ("a", 33, "employed"), ("a", 40, "pension"), ("a", 55, "employed"),
        ("a", 70, "censored"), ("a", 90, "employed"), ("a", 120, "censored"),
        ("b", 3, "employed"), ("b", 5, "employed"), ("b", 10, "censored"), ("b", 12, "employed"),
        ("b", 12, "employed"), ("b", 25, "employed"), ("b", 33, "employed"), ("b", 33, "pension"),
        ("b", 48, "pension"), ("b", 60, "employed"), ("b", 60, "pension"), ("b", 75, "censored"),
        ("b", 100, "employed"), ("b", 110, "censored"), ("b", 150, "censored"),
    ]
    frame = pd.DataFrame(rows, columns=["group", "time", "outcome"])
    rng = np.random.default_rng(11)
    frame.insert(0, "id", [f"H{i:02d}" for i in range(1, len(frame) + 1)])
    frame["status"] = frame["outcome"].eq("employed").astype(int)
    frame["x1"] = np.round(rng.normal(40, 10, len(frame)), 1)
    frame["x2"] = (rng.random(len(frame)) < 0.5).astype(int)
    return frame


def survival_flat() -> pd.DataFrame:
    """Kaplan–Meier curves that sit exactly at 0.5 over a flat stretch. ``flat_mid``: 10 clients,
    events on days 1–5 (S = 0.5), censored on 6 and 7, next event on 9 → R's median is the midpoint
    7. ``flat_end``: S = 0.5 from day 2 to the last (censored) time 4."""
    rows = [("flat_mid", t, 1) for t in (1, 2, 3, 4, 5)] + [("flat_mid", 6, 0), ("flat_mid", 7, 0),
                                                            ("flat_mid", 9, 1), ("flat_mid", 12, 0),
                                                            ("flat_mid", 15, 0)]
    rows += [("flat_end", 1, 1), ("flat_end", 2, 1), ("flat_end", 3, 0), ("flat_end", 4, 0)]
    return pd.DataFrame(rows, columns=["group", "time", "status"])


def survival_demo() -> pd.DataFrame:
    """The demo cohort (seed 3, 80 clients) through the package's own pipeline: time_to_event with
    the default options (``time, status``), the outcome with a subsidised job as its own competing
    outcome (``outcome_ws``), the coach as group, and the Cox covariates age at start and baseline
    work ability (survival.covariates)."""
    tables = demo.generate(DEMO)
    clients, kyky = tables["clients"], tables["kykyviisari"]
    tte = survival.time_to_event(clients, CUTOFF, survival.Options())
    tte_ws = survival.time_to_event(clients, CUTOFF, survival.Options(wage_subsidy_as_event=False))
    age = survival.AGE_AT_START  # the derived covariate start year − birth year
    options = survival.Options(covariates=(age, "baseline_work_ability"))
    cov = survival.covariates(clients, kyky, options.covariates, options)
    return pd.DataFrame({
        "id": clients["client_id"], "start_date": clients["start_date"].dt.strftime("%Y-%m-%d"),
        "time": tte["time_days"], "status": tte["event"].astype(int),
        "outcome": tte["outcome"], "outcome_ws": tte_ws["outcome"], "group": clients["job_coach_id"],
        "age": cov[age], "baseline_work_ability": cov["baseline_work_ability"]})


# -- pre/post ----------------------------------------------------------------------------------
def prepost_demo() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pairs and all used measurements of the demo cohort (assign_timepoints → paired_changes)."""
    tables = demo.generate(DEMO)
    options = prepost.Options()
    from tyokyky_eval.inputs.dictionary import instrument
    measures = prepost.measure_table(instrument("kykyviisari"), options)
    assigned = prepost.assign_timepoints(tables["kykyviisari"], tables["clients"], options)
    changes = prepost.paired_changes(assigned, measures, options)
    pairs = changes[["measure", "comparison", "client_id", "pre", "post"]]
    used = assigned[assigned["status"].eq("used")]
    long = used.melt(id_vars=["client_id", "timepoint"], value_vars=list(measures.index),
                     var_name="measure", value_name="score").dropna(subset=["score"])
    long = long.sort_values(["measure", "client_id", "timepoint"], kind="stable")
    return pairs.reset_index(drop=True), long[["measure", "client_id", "timepoint", "score"]]


def _variants(change: float, rising: bool) -> list[float]:
    """Pre-scores whose one-decimal post-score (pre + change) gives each distinct floating-point value
    of post − pre (e.g. 1.1999999999999997, 1.2, 1.2000000000000002), so that equal changes are
    ties only after rounding to the instrument's precision."""
    pres = [round(k / 10, 1) for k in range(0, 101)]
    pres = pres if rising else pres[::-1]
    seen: dict[float, float] = {}
    for pre in pres:
        post = round(pre + change, 1)
        if 0 <= post <= 10 and post - pre not in seen:
            seen[post - pre] = pre
    return list(seen.values())


def prepost_hand() -> pd.DataFrame:
    """Small paired cases that steer scipy/R to each branch of the signed-rank test:
    ``exact`` n = 10, no ties or zeros (exact distribution); ``float_ties`` n = 10, no zeros, |changes|
    that tie only after rounding to 0.1 (unrounded, scipy sees no ties and takes the exact test);
    ``ties_zeros`` n = 12 (exhaustive permutation); ``approx`` n = 24 with ties and zeros (normal
    approximation); ``exact50`` n = 50 distinct changes (exact); ``large`` n = 60 distinct (normal)."""
    cases = {
        "exact": [0.3, -0.5, 1.2, 0.8, 2.1, -0.1, 1.7, 0.6, 1.4, 0.9],
        "float_ties": [1.2, -1.2, 0.7, 0.7, 2.3, -0.5, 0.9, 1.5, -0.3, 1.1],
        "ties_zeros": [0.0, 1.2, 1.2, -0.4, 0.7, 0.0, 0.7, 1.9, -1.1, 1.2, 0.4, 2.0],
        "approx": [0.0, 1.2, 1.2, -0.4, 0.7, 0.0, 0.7, 1.9, -1.1, 1.2, 0.4, 2.0,
                   0.3, 0.3, -0.3, 0.0, 1.5, 0.8, -0.7, 1.1, 2.5, 0.6, 0.9, -0.2],
        "exact50": [(k / 10) * (1 if k % 4 else -1) for k in range(1, 51)],
        "large": [(k / 10) * (1 if k % 3 else -1) for k in range(1, 61)],
    }
    rows = []
    for case, changes in cases.items():
        seen: dict[float, int] = {}
        for i, change in enumerate(changes):
            change = round(change, 1)
            options = _variants(change, rising=change >= 0)
            k = seen.get(change, 0)
            seen[change] = k + 1
            pre = options[(k * 7 + i) % len(options)] if change == 0 else options[k % len(options)]
            if change != 0 and k >= len(options):  # more ties than float variants: any pre-score
                pre = options[(k * 5) % len(options)]
            rows.append((case, "baseline_followup", f"{case}-{i + 1:02d}", pre, round(pre + change, 1)))
    frame = pd.DataFrame(rows, columns=["measure", "comparison", "client_id", "pre", "post"])
    d = frame["post"] - frame["pre"]
    ft = d[frame["measure"].eq("float_ties")]
    assert ft.abs().round(1).duplicated().any() and not ft.abs().duplicated().any(), \
        "float_ties must tie only after rounding"
    assert frame[["pre", "post"]].stack().between(0, 10).all()
    return frame


def lmm_hand() -> pd.DataFrame:
    """Random-intercept boundary case: every client's mean is 5, so the REML between-client variance
    is 0 (lme4: singular fit); two clients measured at baseline only, one at follow-up only."""
    rows = []
    for i, (b, f) in enumerate([(4.0, 6.0), (5.0, 5.0), (6.0, 4.0), (4.5, 5.5), (5.5, 4.5), (3.0, 7.0)]):
        rows += [("boundary", f"B{i}", "baseline", b), ("boundary", f"B{i}", "followup", f + 0.4)]
    rows += [("boundary", "B6", "baseline", 5.2), ("boundary", "B7", "baseline", 4.9),
             ("boundary", "B8", "followup", 5.3)]
    return pd.DataFrame(rows, columns=["measure", "client_id", "timepoint", "score"])


# -- fidelity ------------------------------------------------------------------------------------
def kappa_pairs() -> pd.DataFrame:
    """Independent ratings (R1, R2) of the demo fidelity reviews, items rated by both, plus two
    hand-made pairs: ``hand_unused`` (categories 1 and 5 never used) and ``hand_negative``."""
    instrument = fidelity.load_instrument("ips25")
    items = fidelity.item_table(demo.generate(DEMO)["fidelity"], instrument)
    rated = items[items["status"].eq("rated") & items["rater"].isin(["R1", "R2"])]
    wide = rated.pivot_table(index=["site_id", "review_date", "item"], columns="rater", values="score",
                             aggfunc="first").dropna().reset_index()
    frame = pd.DataFrame({"set": wide["site_id"] + "/" + wide["review_date"].astype(str), "item": wide["item"],
                          "score_a": wide["R1"].astype(int), "score_b": wide["R2"].astype(int)})
    hand = {"hand_unused": ([2, 3, 3, 4, 2, 3, 4, 4, 3, 2], [2, 3, 4, 4, 3, 3, 4, 3, 3, 2]),
            "hand_negative": ([1, 2, 3, 4, 5, 1, 2, 5], [5, 4, 3, 2, 1, 4, 5, 2])}
    for name, (a, b) in hand.items():
        frame = pd.concat([frame, pd.DataFrame({"set": name, "item": range(1, len(a) + 1),
                                                "score_a": a, "score_b": b})], ignore_index=True)
    return frame


# -- feedback ------------------------------------------------------------------------------------
def feedback_rounds() -> pd.DataFrame:
    """A canonical feedback table with several rounds: linked respondents (Wilcoxon / Friedman)
    and unlinked ones (Mann–Whitney / Kruskal–Wallis), Likert ties, zero differences, a small
    tie-free pair of samples (exact Mann–Whitney) and larger tie-free ones (normal approximation)."""
    rng = np.random.default_rng(5)
    rows = []

    def add(item, group, rnd, ids, responses):
        for rid, value in zip(ids, responses):
            rows.append(("reference", rnd, group, rid, item, value))

    # linked, 3 rounds, 15 respondents, 1–5 agreement: Friedman + Wilcoxon (ties, n > 13: normal)
    ids = [f"P{i:02d}" for i in range(1, 16)]
    base = rng.integers(1, 6, 15)
    for rnd, shift in ((1, 0), (2, 0.4), (3, 0.8)):
        add("linked_likert", "clients", rnd, ids, np.clip(np.round(base + shift + rng.normal(0, 0.8, 15)), 1, 5))
    # linked, 2 rounds, 9 respondents with zero and tied differences: Wilcoxon by permutation (n ≤ 13)
    ids = [f"Q{i:02d}" for i in range(1, 10)]
    add("linked_small", "clients", 1, ids, [3, 2, 4, 3, 1, 2, 3, 4, 2])
    add("linked_small", "clients", 2, ids, [4, 2, 5, 4, 3, 2, 5, 3, 4])
    # linked, 2 rounds, 8 respondents, no ties or zeros among the differences: exact Wilcoxon
    ids = [f"R{i:02d}" for i in range(1, 9)]
    add("linked_exact", "staff", 1, ids, [10, 20, 30, 40, 50, 60, 70, 80])
    add("linked_exact", "staff", 2, ids, [11, 22, 27, 44, 55, 66, 63, 88])
    # unlinked, 3 rounds of 12, 15, 10 answers, 0–10 rating: Kruskal–Wallis + Mann–Whitney (ties)
    for rnd, n, mean in ((1, 12, 5.5), (2, 15, 6.2), (3, 10, 7.0)):
        add("unlinked_rating", "partners", rnd, [None] * n, np.clip(np.round(rng.normal(mean, 1.8, n)), 0, 10))
    # unlinked, 2 rounds of 6 and 7 distinct counts: exact Mann–Whitney
    add("unlinked_exact", "partners", 1, [None] * 6, [3, 7, 12, 15, 21, 30])
    add("unlinked_exact", "partners", 2, [None] * 7, [5, 9, 17, 24, 33, 41, 52])
    # unlinked, 2 rounds of 11 and 12 distinct counts: normal approximation with continuity correction
    add("unlinked_large", "partners", 1, [None] * 11, [2, 4, 6, 8, 10, 13, 16, 19, 22, 25, 29])
    add("unlinked_large", "partners", 2, [None] * 12, [5, 7, 9, 11, 14, 17, 20, 23, 27, 31, 35, 40])
    frame = pd.DataFrame(rows, columns=["survey_id", "round", "respondent_group", "respondent_id",
                                        "item_id", "response"])
    frame["response"] = frame["response"].astype(int)
    return frame


def main() -> None:
    OUT.mkdir(exist_ok=True)
    write(survival_hand(), "survival_hand")
    write(survival_flat(), "survival_flat")
    write(survival_demo(), "survival_demo")
    pairs, long = prepost_demo()
    write(pd.concat([pairs.assign(dataset="demo"), prepost_hand().assign(dataset="hand")],
                    ignore_index=True), "prepost_pairs")
    write(pd.concat([long.assign(dataset="demo"), lmm_hand().assign(dataset="hand")], ignore_index=True),
          "lmm_long")
    write(kappa_pairs(), "kappa_pairs")
    write(feedback_rounds(), "feedback_rounds")


if __name__ == "__main__":
    main()

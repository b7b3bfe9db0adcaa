"""The survival disclosure rule ("hold each step until at least ``min_cell`` clients have left the
risk set", :mod:`tyokyky_eval.sections.survival`) attacked on synthetic cohorts: its invariants are
checked on the published tables, recomputed from the data, for several sizes, thresholds and
degenerate shapes (no jobs, all jobs, one client, ties at the risk-table days, a group of one)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tyokyky_eval import demo, load_section
from tyokyky_eval.inputs.project import load_project
from tyokyky_eval.sections.survival import OTHER_OUTCOMES, left_counts, rule_days
from tyokyky_eval.stats import survival as sv

CUTOFF = pd.Timestamp("2022-12-31")
MIN_CELLS = (3, 5, 10)
COMPETING = ("pension", "other")  # "other" is made a competing reason so that small outcomes combine


def synthetic_clients(n: int, seed: int, shape: str = "mixed") -> pd.DataFrame:
    """``n`` clients of one IPS service with random starts, exits and outcomes (numpy Generator
    with a fixed seed); ``shape`` makes degenerate cohorts."""
    rng = np.random.default_rng(seed)
    base = demo.generate(demo.DemoSpec(seed=seed, clients=n))["clients"].copy()
    start = CUTOFF - pd.to_timedelta(rng.integers(0, 900, n), unit="D")
    length = rng.exponential(220, n).astype(int)
    if shape == "ties":  # every exit on a risk-table day (or day 0)
        length = rng.choice(sv.month_days([0, 3, 6, 9, 12]), n)
    kind = rng.choice(["employed", "pension", "other", "dropped_out", "education"], n,
                      p=[0.4, 0.05, 0.05, 0.3, 0.2])
    if shape == "no_jobs":
        kind = np.where(kind == "employed", "dropped_out", kind)
    if shape == "all_jobs":
        kind = np.full(n, "employed")
        start = CUTOFF - pd.to_timedelta(length + rng.integers(0, 30, n), unit="D")
    end = start + pd.to_timedelta(length, unit="D")
    ongoing = end > CUTOFF
    base["service"] = "ips"
    base["start_date"] = start
    base["end_date"] = pd.Series(end, index=base.index).where(~ongoing)
    base["end_reason"] = pd.Series(kind, index=base.index, dtype=object).where(~ongoing)
    job = kind == "employed"
    base["first_employment_date"] = pd.Series(end, index=base.index).where(job & ~ongoing)
    base["wage_subsidy"] = pd.Series(rng.random(n) < 0.3, index=base.index).astype("boolean").where(
        job & ~ongoing)
    groups = rng.choice(["kuntakokeilu", "social_work", "te_services"], n, p=[0.5, 0.35, 0.15]).astype(object)
    if n > 3:
        groups[0] = "self"  # a group of one member
        missing = (0, 2, n // 5)[seed % 3]  # clients without a group code: the complement "all minus
        groups[1:1 + missing] = None  # the groups shown" is empty, tiny or large
    base["referral_source"] = groups
    return base.reset_index(drop=True)


def project(files, clients: pd.DataFrame, min_cell: int):
    files.tables["clients"] = clients
    files.write("clients", clients)
    files.params["data"].pop("kykyviisari", None)  # no Kykyviisari: the survival section needs none
    files.params["cutoff_date"] = str(CUTOFF.date())
    files.params["disclosure"] = {"min_cell": min_cell, "min_followup": max(10, min_cell)}
    files.params["analyses"] = {"survival": {"group": "referral_source", "competing_reasons": list(COMPETING)}}
    return load_project(files.save_params(), "en")


def small(k: int, min_cell: int) -> bool:
    return 0 < k < min_cell


def check_curve(time, event, published: pd.DataFrame, min_cell: int) -> None:
    """The rule's invariants on one published curve, recomputed from the clients' times."""
    days = published["time_days"].astype(float).tolist()
    assert days == sorted(days) and len(set(days)) == len(days)
    assert published["n_left"].astype(int).tolist() == left_counts(time, days)
    for day, at_risk, left in zip(days, published["n_at_risk"], published["n_left"]):
        assert int(at_risk) == int((time >= day).sum()) >= min_cell  # (a)
        assert day == 0 or int(left) >= min_cell  # (b)
        assert not small(int((event & (time <= day)).sum()), min_cell)  # (c)


def check_all_curve_is_greedy(time, event, days, candidates, min_cell: int) -> None:
    """No point is withheld without reason: every risk-table point up to the first with fewer than
    ``min_cell`` at risk is published exactly when (b) and (c) hold since the last published one."""
    low = -np.inf
    for day in candidates:
        if (time >= day).sum() < min_cell:
            assert all(d < day for d in days)
            return
        left = int(((time > low) & (time <= day)).sum())
        ok = (day == 0 or left >= min_cell) and not small(int((event & (time <= day)).sum()), min_cell)
        assert (day in days) == ok, day
        if ok:
            low = day


def check_section(section, min_cell: int) -> None:
    cohort = section.cohorts["ips"]
    shown = {name: frame for name, frame in section.published().items()}
    km = shown["survival_km"].query("service == 'ips'").drop(columns="service")
    assert "n_events" not in km.columns and "n_left" in km.columns
    tte = cohort.tte
    time, event = tte["time_days"].to_numpy(float), tte["event"].to_numpy(bool)
    candidates = [float(d) for d in sv.month_days(cohort.options.risk_table_months)]

    everyone = km[km["group"].eq("all")]
    check_curve(time, event, everyone, min_cell)
    all_days = everyone["time_days"].astype(float).tolist()
    check_all_curve_is_greedy(time, event, all_days, candidates, min_cell)

    # groups: one common set of points; every group and "all minus the groups shown" meet the rule
    groups = [g for g in dict.fromkeys(km["group"]) if g != "all"]
    if groups:
        codes = cohort.group.astype("string")
        group_days = None
        for code in groups:
            rows = km[km["group"].eq(code)]
            mask = codes.eq(code).fillna(False).to_numpy()
            check_curve(time[mask], event[mask], rows, min_cell)
            days = rows["time_days"].astype(float).tolist()
            assert group_days in (None, days)
            group_days = days
        assert len(group_days) >= 2
        rest = ~codes.isin(groups).fillna(False).to_numpy()
        if rest.any():
            t_rest, e_rest = time[rest], event[rest]
            lefts = left_counts(t_rest, group_days)
            for day, left in zip(group_days, lefts):
                assert (t_rest >= day).sum() >= min_cell
                assert day == 0 or left >= min_cell
                assert not small(int((e_rest & (t_rest <= day)).sum()), min_cell)

    # competing outcomes: no outcome shown with 1 … min_cell − 1 events by a day shown
    competing = shown["competing_risks"].query("service == 'ips'")
    outcome = tte["outcome"]
    counts = outcome.value_counts()
    tiny = [o for o, n in counts.items() if o not in (sv.EMPLOYED, sv.CENSORED) and n < min_cell]
    assert set(competing["time_days"].astype(float)) <= set(all_days)
    for code, rows in competing.groupby("outcome"):
        members = outcome.isin(tiny) if code == OTHER_OUTCOMES else outcome.eq(code)
        assert code == OTHER_OUTCOMES or code not in tiny
        assert int(members.sum()) >= min_cell or code == sv.EMPLOYED
        for day in rows["time_days"].astype(float):
            assert not small(int((members.to_numpy() & (time <= day)).sum()), min_cell), (code, day)
    # … and nothing more is left out: each outcome of ≥ min_cell events (the small ones combined)
    # is shown at every published day by which it has 0 or ≥ min_cell events
    expected = {o: outcome.eq(o) for o, k in counts.items() if o != sv.CENSORED and k >= min_cell}
    expected[sv.EMPLOYED] = outcome.eq(sv.EMPLOYED)
    if int(outcome.isin(tiny).sum()) >= min_cell:
        expected[OTHER_OUTCOMES] = outcome.isin(tiny)
    for code, members in expected.items():
        visible = [d for d in all_days if not small(int((members.to_numpy() & (time <= d)).sum()), min_cell)]
        assert competing.loc[competing["outcome"].eq(code), "time_days"].astype(float).tolist() == visible, code

    # the statistics are unchanged: the published values are the internal curve read at each day
    internal = section.internal()["survival_km"].query("service == 'ips'")
    for _, row in km.iterrows():
        curve = internal[internal["group"].eq(row["group"]) & internal["time_days"].le(row["time_days"])]
        for column in ("cumulative_incidence", "ci_low", "ci_high"):
            assert float(row[column]) == pytest.approx(float(curve[column].iloc[-1]), abs=1e-12, nan_ok=True)


CASES = [(n, seed, "mixed") for n, seed in ((8, 1), (20, 2), (45, 3), (90, 4), (200, 5), (200, 6), (300, 8),
                                            (400, 12))] + [
    (40, 6, "no_jobs"), (40, 7, "all_jobs"), (1, 8, "mixed"), (60, 9, "ties"), (25, 10, "ties"),
    (120, 11, "all_jobs"), (150, 14, "ties")]


@pytest.mark.parametrize("min_cell", MIN_CELLS)
@pytest.mark.parametrize("n, seed, shape", CASES)
def test_published_tables_keep_the_rule(project_files, min_cell, n, seed, shape):
    section = load_section("survival", project(project_files, synthetic_clients(n, seed, shape), min_cell))
    check_section(section, min_cell)
    " ".join(section.text("en") + section.text("fi"))  # every sentence formats


@pytest.mark.parametrize("min_cell", MIN_CELLS)
def test_rule_days_on_many_random_cohorts(min_cell):
    """rule_days itself, many cohorts without the project machinery: every kept day meets (a)–(c)
    for every curve, and a curve failing (a) at a candidate ends the list."""
    rng = np.random.default_rng(2024)
    candidates = [float(d) for d in sv.month_days([0, 3, 6, 9, 12, 18, 24])]
    for _ in range(300):
        n = int(rng.integers(1, 150))
        time = np.where(rng.random(n) < 0.3, rng.choice(candidates, n), rng.integers(0, 800, n)).astype(float)
        event = rng.random(n) < rng.random()
        tte = pd.DataFrame({"time_days": time, "event": event})
        labels = rng.integers(0, 3, n)
        masks = [labels == k for k in range(3) if (labels == k).any()]
        for curves in ([np.ones(n, dtype=bool)], masks):
            days = rule_days(tte, curves, candidates, min_cell)
            for mask in curves:
                for day, left in zip(days, left_counts(time[mask], days)):
                    assert (mask & (time >= day)).sum() >= min_cell
                    assert day == 0 or left >= min_cell
                    assert not small(int((mask & event & (time <= day)).sum()), min_cell)
            ends = [d for d in candidates if any((m & (time >= d)).sum() < min_cell for m in curves)]
            assert all(d < ends[0] for d in days) if ends else True


def test_rule_on_a_known_cohort():
    """Ten clients, min_cell 3: 0 is published; at 91 days only two have left (skipped); at 182
    days five have left since 0 but only two jobs by then (skipped); at 273 days jobs = 3."""
    time = np.array([10, 50, 100, 120, 150, 200, 250, 300, 400, 500], dtype=float)
    event = np.array([0, 0, 1, 1, 0, 1, 0, 0, 0, 0], dtype=bool)
    tte = pd.DataFrame({"time_days": time, "event": event})
    days = rule_days(tte, [np.ones(10, dtype=bool)], sv.month_days([0, 3, 6, 9, 12, 18]), 3)
    assert days == [0.0, 273.0]  # 365: at risk 2 < 3 ends the curve
    assert left_counts(time, days) == [0, 7]

"""Service paths statistics: cross-table counts, volumes and caseloads by hand (publishing: test_section_pathways)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tyokyky_eval.stats import pathways as pw

T = pd.Timestamp


def clients():
    rows = [  # referral, end reason, start, end, coach, service
        ("kuntakokeilu", "employed", "2021-01-10", "2021-06-30", "C1", "ips"),
        ("kuntakokeilu", "employed", "2021-02-01", "2021-12-31", "C1", "ips"),
        ("kuntakokeilu", "dropped_out", "2021-03-01", "2021-03-31", "C2", "ips"),
        ("social_work", None, "2021-11-15", None, "C2", "ips"),
        ("social_work", "employed", "2022-01-05", "2022-05-01", "C1", "ips"),
        (None, "pension", "2021-05-01", "2022-02-01", None, "work_ability_service"),
    ]
    frame = pd.DataFrame(rows, columns=["referral_source", "end_reason", "start_date", "end_date",
                                        "job_coach_id", "service"])
    for c in ("start_date", "end_date"):
        frame[c] = pd.to_datetime(frame[c])
    return frame


def test_referral_by_end_reason_counts_by_hand():
    table = pw.referral_outcomes(clients()).set_index("referral_source")
    assert list(table.index) == ["kuntakokeilu", "social_work", "unknown"]
    assert list(table.columns) == ["employed", "pension", "dropped_out", "ongoing", "total"]
    assert table.loc["kuntakokeilu"].tolist() == [2, 0, 1, 0, 3]
    assert table.loc["social_work"].tolist() == [1, 0, 0, 1, 2]
    assert table.loc["unknown"].tolist() == [0, 1, 0, 0, 1]


def test_flow_table_has_other_services_and_total_rows():
    table = pw.flow_table(clients(), pw.Options(services=("ips",))).set_index("referral_source")
    assert list(table.index) == ["kuntakokeilu", "social_work", "other_services", "total"]
    assert table.loc["other_services"].tolist() == [0, 1, 0, 0, 1]  # the pension of the other service
    assert table.loc["total"].tolist() == [3, 1, 1, 1, 6]
    everyone = pw.flow_table(clients(), pw.Options()).set_index("referral_source")
    assert list(everyone.index) == ["kuntakokeilu", "social_work", "unknown", "total"]


def test_service_volume_by_hand():
    volume = pw.service_volume(clients(), "2022-12-31").set_index(["service", "year"])
    assert volume.loc[("ips", 2021)].tolist() == [4, 4]  # started in 2021; all four in service in 2021
    assert volume.loc[("ips", 2022)].tolist() == [1, 2]  # one started; the ongoing one and the new one
    assert volume.loc[("work_ability_service", 2022)].tolist() == [0, 1]


def test_caseload_monthly_maximum_by_hand():
    load = pw.caseload(clients(), "2022-12-31").set_index(["job_coach", "month"])["max_active"]
    # coach C1: 10.1.–30.6.2021, 1.2.–31.12.2021, 5.1.–1.5.2022
    assert load[("C1", T("2021-01-01"))] == 1
    assert load[("C1", T("2021-02-01"))] == 2
    assert load[("C1", T("2021-07-01"))] == 1
    assert load[("C1", T("2022-01-01"))] == 1  # 31.12.2021 ended the day before the 5.1. start
    assert load[("C1", T("2022-06-01"))] == 0
    # coach C2: March 2021 and the ongoing client from 15.11.2021 to the cut-off
    assert load[("C2", T("2021-03-01"))] == 1 and load[("C2", T("2021-04-01"))] == 0
    assert load[("C2", T("2022-12-01"))] == 1
    summary = pw.caseload_summary(pw.caseload(clients(), "2022-12-31"), pw.Options(caseload_target=1))
    assert summary.set_index("job_coach").loc["C1", "months_over_target"] == 5  # Feb–Jun 2021
    assert "months_over_target" not in pw.caseload_summary(pw.caseload(clients(), "2022-12-31"), pw.Options())
    overview = pw.caseload_overview(summary).iloc[0]
    # coach 1 peaks at 2 clients, coach 2 at 1: median of the maxima 1.5; only coach 1 exceeds target 1
    assert (overview["n_coaches"], overview["median_max_active"], overview["max_active"]) == (2, 1.5, 2)
    assert (overview["coaches_over_limit"], overview["coaches_over_target"]) == (0, 1)


def test_options_are_checked():
    with pytest.raises(ValueError, match="caseload_limit"):
        pw.Options(caseload_limit=0)
    with pytest.raises(ValueError, match="services"):
        pw.Options(services="ips")
    assert pw.Options(services=["ips"]).services == ("ips",)
    assert len(pw.select_services(clients(), pw.Options(services=("ips",)))) == 5


def test_caseload_whole_table_by_hand():
    """Every row of a small example: coach ids (as text) sort as text (B-10 before B-9), the first month starts
    mid-month, a one-day client counts, and the cut-off month is partial."""
    frame = pd.DataFrame({
        "job_coach_id": ["B-9", "B-10", "B-10", "B-10", "B-9", None],
        "start_date": pd.to_datetime(["2022-01-20", "2022-01-31", "2022-02-01", "2022-03-15", "2022-03-15",
                                      "2022-01-01"]),
        "end_date": pd.to_datetime(["2022-02-28", "2022-01-31", None, "2022-03-15", "2022-03-15", None])})
    load = pw.caseload(frame, "2022-03-20")
    months = [T("2022-01-01"), T("2022-02-01"), T("2022-03-01")]
    expected = pd.DataFrame({"month": months * 2, "job_coach": ["B-10"] * 3 + ["B-9"] * 3,
                             # B-10: 31.1. alone; from 1.2. one ongoing, 15.3. two
                             # B-9: 20.1.–28.2., then the one-day client on 15.3.
                             "max_active": [1, 1, 2, 1, 1, 1]})
    pd.testing.assert_frame_equal(load, expected)


def brute_force_caseload(frame: pd.DataFrame, cutoff: str) -> pd.DataFrame:
    """Reference: for every coach, day and client, is the client in service that day; then the
    maximum per calendar month."""
    cutoff = T(cutoff)
    data = frame.dropna(subset=["job_coach_id"])
    days = pd.date_range(data["start_date"].min(), cutoff)
    rows = []
    for coach in sorted(data["job_coach_id"].unique()):
        mine = data[data["job_coach_id"] == coach]
        per_month: dict = {}
        for day in days:
            n = sum(1 for s, e in zip(mine["start_date"], mine["end_date"])
                    if s <= day <= (cutoff if pd.isna(e) else e))
            month = T(day.year, day.month, 1)
            per_month[month] = max(per_month.get(month, 0), n)
        rows += [{"month": m, "job_coach": coach, "max_active": n} for m, n in per_month.items()]
    return pd.DataFrame(rows).sort_values(["job_coach", "month"]).reset_index(drop=True)


def test_caseload_equals_brute_force_on_random_clients():
    rng = np.random.default_rng(8)
    n = 150
    start = T("2021-03-17") + pd.to_timedelta(rng.integers(0, 400, n), unit="D")
    end = pd.Series(start + pd.to_timedelta(rng.integers(0, 200, n), unit="D"))
    end[rng.random(n) < 0.3] = pd.NaT  # ongoing
    cutoff = "2022-06-10"
    end[end > T(cutoff)] = pd.NaT
    frame = pd.DataFrame({"job_coach_id": rng.choice([f"C{k}" for k in range(12)] + [None], n),
                          "start_date": start, "end_date": end})
    load = pw.caseload(frame, cutoff)
    pd.testing.assert_frame_equal(load, brute_force_caseload(frame, cutoff), check_dtype=False)
    assert load["max_active"].max() > 3 and load["job_coach"].nunique() == 12

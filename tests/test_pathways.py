"""Service paths: cross-table counts, volumes and caseloads by hand; disclosure of the cross-table."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tyokyky_eval import pathways as pw

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


def test_published_cross_table_suppresses_small_cells_and_their_complements():
    big = pd.DataFrame({"referral_source": ["kuntakokeilu"] * 14 + ["social_work"] * 8,
                        "end_reason": ["employed"] * 7 + ["dropped_out"] * 5 + ["pension"] * 2
                        + ["employed"] * 5 + [None] * 3})
    published = pw.publish_referral_outcomes(pw.referral_outcomes(big), 5).set_index("referral_source")
    # Primary: pension 2 (kuntakokeilu) and ongoing 3 (social work). Secondary, since column totals
    # are published elsewhere: each of those columns has a single hidden cell whose only partner is
    # a zero, so that zero is hidden too; then every row and column has two hidden cells.
    assert published.loc["kuntakokeilu"].tolist() == [7, "<5", 5, "<5", 14]
    assert published.loc["social_work"].tolist() == [5, "<5", 0, "<5", 8]


def test_service_volume_by_hand():
    volume = pw.service_volume(clients(), "2022-12-31").set_index(["service", "year"])
    assert volume.loc[("ips", 2021)].tolist() == [4, 4]  # started in 2021; all four in service in 2021
    assert volume.loc[("ips", 2022)].tolist() == [1, 2]  # one started; the ongoing one and the new one
    assert volume.loc[("work_ability_service", 2022)].tolist() == [0, 1]


def test_caseload_monthly_maximum_by_hand():
    load = pw.caseload(clients(), "2022-12-31").set_index(["job_coach", "month"])["max_active"]
    # coach C1 (label 1): 10.1.–30.6.2021, 1.2.–31.12.2021, 5.1.–1.5.2022
    assert load[("1", T("2021-01-01"))] == 1
    assert load[("1", T("2021-02-01"))] == 2
    assert load[("1", T("2021-07-01"))] == 1
    assert load[("1", T("2022-01-01"))] == 1  # 31.12.2021 ended the day before the 5.1. start
    assert load[("1", T("2022-06-01"))] == 0
    # coach C2 (label 2): March 2021 and the ongoing client from 15.11.2021 to the cut-off
    assert load[("2", T("2021-03-01"))] == 1 and load[("2", T("2021-04-01"))] == 0
    assert load[("2", T("2022-12-01"))] == 1
    summary = pw.caseload_summary(pw.caseload(clients(), "2022-12-31"), pw.Options(caseload_target=1))
    assert summary.set_index("job_coach").loc["1", "months_over_target"] == 5  # Feb–Jun 2021
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
    """Every row of a small example: coach ids sort as text (B-10 before B-9), the first month starts
    mid-month, a one-day client counts, and the cut-off month is partial."""
    frame = pd.DataFrame({
        "job_coach_id": ["B-9", "B-10", "B-10", "B-10", "B-9", None],
        "start_date": pd.to_datetime(["2022-01-20", "2022-01-31", "2022-02-01", "2022-03-15", "2022-03-15",
                                      "2022-01-01"]),
        "end_date": pd.to_datetime(["2022-02-28", "2022-01-31", None, "2022-03-15", "2022-03-15", None])})
    load = pw.caseload(frame, "2022-03-20")
    months = [T("2022-01-01"), T("2022-02-01"), T("2022-03-01")]
    expected = pd.DataFrame({"month": months * 2, "job_coach": ["1"] * 3 + ["2"] * 3,
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
    for label, coach in enumerate(sorted(data["job_coach_id"].unique()), start=1):
        mine = data[data["job_coach_id"] == coach]
        per_month: dict = {}
        for day in days:
            n = sum(1 for s, e in zip(mine["start_date"], mine["end_date"])
                    if s <= day <= (cutoff if pd.isna(e) else e))
            month = T(day.year, day.month, 1)
            per_month[month] = max(per_month.get(month, 0), n)
        rows += [{"month": m, "job_coach": str(label), "max_active": n} for m, n in per_month.items()]
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


def test_caseload_figure_summarises_many_coaches():
    """Up to MAX_COACH_LINES coaches one line each; beyond that the largest and the median of the
    coaches' monthly maxima."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    months = pd.date_range("2022-01-01", periods=3, freq="MS")
    n = pw.MAX_COACH_LINES + 1
    load = pd.DataFrame({"month": list(months) * n, "job_coach": np.repeat([str(k) for k in range(1, n + 1)], 3),
                         "max_active": np.tile([1, 2, 3], n) * np.repeat(np.arange(1, n + 1), 3)})
    fig = pw.plot_caseload(load, pw.Options(), "en")
    lines = {line.get_label(): line.get_ydata() for line in fig.axes[0].get_lines()}
    assert list(lines[f"Largest caseload of the {n} job coaches"]) == [n, 2 * n, 3 * n]
    median = np.median(np.arange(1, n + 1))
    assert list(lines[f"Median caseload of the {n} job coaches"]) == [median, 2 * median, 3 * median]
    plt.close(fig)
    fig = pw.plot_caseload(load[load["job_coach"].astype(int) <= 2], pw.Options(), "en")
    assert [line.get_label() for line in fig.axes[0].get_lines()][:2] == ["Job coach 1", "Job coach 2"]
    plt.close(fig)

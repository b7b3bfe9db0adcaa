"""Service paths: cross-table counts, volumes and caseloads by hand; disclosure of the cross-table."""
from __future__ import annotations

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


def test_options_are_checked():
    with pytest.raises(ValueError, match="caseload_limit"):
        pw.Options(caseload_limit=0)
    with pytest.raises(ValueError, match="services"):
        pw.Options(services="ips")
    assert pw.Options(services=["ips"]).services == ("ips",)
    assert len(pw.select_services(clients(), pw.Options(services=("ips",)))) == 5

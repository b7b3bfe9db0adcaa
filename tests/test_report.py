"""Finnish and English formatting in the report, caption numbering and heading anchors."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pandas as pd

from tyokyky_eval.i18n import fmt_date, fmt_number, fmt_percent
from tyokyky_eval.report import Report
from tyokyky_eval.appendix import anchor_headings, number_captions

NNBSP = "\u202f"


def test_finnish_numbers_dates_and_percentages():
    assert fmt_number(1234567.891, "fi", 2) == f"1{NNBSP}234{NNBSP}567,89"
    assert fmt_number(-0.25, "fi", 2) == "−0,25"
    assert fmt_number(1234.5, "en", 1) == "1,234.5"
    assert fmt_percent(0.405, "fi") == "40\u00a0%" and fmt_percent(0.415, "en", 1) == "41.5%"
    assert fmt_date(dt.date(2022, 12, 31), "fi") == "31.12.2022"
    assert fmt_date(pd.Timestamp("2022-01-05"), "fi") == "5.1.2022"
    assert fmt_date(pd.Timestamp("2022-01-05"), "en") == "2022-01-05"


def test_format_frame_in_finnish_and_english():
    frame = pd.DataFrame({"n_rows": pd.array([12, None], dtype="Int64"), "mean": [6.25, 1234.5],
                          "first_date": pd.to_datetime(["2021-02-01", "2022-12-31"]),
                          "end_reason": ["employed", "in_service"]})
    fi = Report(SimpleNamespace(language="fi")).format_frame(frame, decimals={"mean": 2},
                                                             code_columns=("end_reason",), namespace="overview")
    assert list(fi.columns) == ["Rivejä", "mean", "Ensimmäinen päivä", "Tilanne poimintapäivänä"]
    assert fi.iloc[:, 0].tolist() == ["12", "–"]
    assert fi["mean"].tolist() == ["6,25", f"1{NNBSP}234,50"]
    assert fi.iloc[:, 2].tolist() == ["1.2.2021", "31.12.2022"]
    assert fi.iloc[:, 3].tolist() == ["Työllistyi avoimille työmarkkinoille", "Palvelussa edelleen"]
    en = Report(SimpleNamespace(language="en")).format_frame(frame, decimals={"mean": 2})
    assert en["mean"].tolist() == ["6.25", "1,234.50"]


def test_captions_are_numbered_in_order_per_kind():
    body = ('<p class="te-caption" data-kind="table">A</p><p class="te-caption" data-kind="figure">B</p>'
            '<p class="te-caption" data-kind="table">C</p>')
    fi = number_captions(body, "fi")
    assert fi.index("Taulukko 1.") < fi.index("Kuvio 1.") < fi.index("Taulukko 2.")
    assert 'id="table-2"' in fi and 'id="figure-1"' in fi
    assert "Table 2." in number_captions(body, "en") and "Figure 1." in number_captions(body, "en")


def test_headings_get_unique_anchors_and_contents_entries():
    body = ('<h1 id="Data">Data<a class="anchor-link" href="#Data">¶</a></h1><h2>Quality &amp; flow</h2>'
            '<h3>Detail</h3><h1 id="Data">Data</h1>')
    out, entries = anchor_headings(body)
    assert entries == [(1, "s1", "Data"), (2, "s2", "Quality & flow"), (1, "s4", "Data")]
    assert "anchor-link" not in out and out.count('id="s') == 4


def test_p_values_are_shown_with_a_floor():
    frame = pd.DataFrame({"t_p": [0.0004, 0.0123, float("nan")], "coef": [0.0004, 1.5, 2.0]})
    shown = Report(SimpleNamespace(language="fi")).format_frame(frame, decimals=2)
    assert shown.iloc[:, 0].tolist() == ["<0,001", "0,012", "–"]
    assert shown.iloc[:, 1].tolist() == ["0,00", "1,50", "2,00"]

"""Finnish and English formatting in the report; the document: caption numbering, stable anchors,
blocks through a notebook output and back, the page."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pandas as pd
import pytest

from tyokyky_eval.i18n import fmt_date, fmt_number, fmt_percent
from tyokyky_eval.render import document as doc
from tyokyky_eval.render.cells import Cell
from tyokyky_eval.render.html import page
from tyokyky_eval.render.report import Report

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


def _project(language):
    params = SimpleNamespace(title={"fi": "Hanke <b>", "en": "Hanke <b>"}, description={}, evaluation_period=None, synthetic=False,
                             cutoff_date=dt.date(2022, 12, 31))
    return SimpleNamespace(language=language, params=params)


def _parts():
    table = doc.TableBlock("A", ("n",), ((Cell("3", 3, "0"),),), name="fidelity_scores")
    figure = doc.FigureBlock("B", b"png", 10)
    return [doc.Part("fidelity", (doc.Heading(1, "Laatu"), table, doc.Heading(2, "Alaosa"), figure,
                                  doc.TableBlock("C", ("n",), ()))),
            doc.Part("prepost", (doc.Heading(1, "Laatu"), doc.Prose("*x*")))]


def test_captions_are_numbered_in_order_per_kind_with_stable_anchors():
    document = doc.assemble(_project("fi"), _parts(), None)
    blocks = list(document.blocks())
    assert [(b.number, b.anchor) for b in blocks if isinstance(b, (doc.TableBlock, doc.FigureBlock))] == [
        (1, "table-fidelity_scores"), (1, "figure-fidelity-1"), (2, "table-fidelity-2")]
    assert [b.anchor for b in blocks if isinstance(b, doc.Heading)] == ["fidelity", "fidelity-2", "prepost"]
    html = page(document)
    assert html.index("Taulukko 1.") < html.index("Kuvio 1.") < html.index("Taulukko 2.")
    assert 'id="table-fidelity_scores"' in html and 'href="#fidelity-2"' in html and "Hanke &lt;b&gt;" in html
    assert "Table 2." in page(doc.assemble(_project("en"), _parts(), None))


def test_blocks_travel_through_a_notebook_output_unchanged():
    for block in [b for part in _parts() for b in part.blocks] + [doc.Raw("<p>x</p>")]:
        assert doc.from_json(doc.to_json(block)) == block


def test_markdown_headings_become_heading_blocks_outside_code_fences():
    blocks = doc.markdown_blocks("# Title\n\nText **b**.\n\n```\n# not a heading\n```\n## Sub ##\nMore")
    assert blocks == [doc.Heading(1, "Title"), doc.Prose("Text **b**.\n\n```\n# not a heading\n```"),
                      doc.Heading(2, "Sub"), doc.Prose("More")]


def test_p_values_are_shown_with_a_floor():
    frame = pd.DataFrame({"t_p": [0.0004, 0.0123, float("nan")], "coef": [0.0004, 1.5, 2.0]})
    shown = Report(SimpleNamespace(language="fi")).format_frame(frame, decimals=2)
    assert shown.iloc[:, 0].tolist() == ["<0,001", "0,012", "–"]
    assert shown.iloc[:, 1].tolist() == ["0,00", "1,50", "2,00"]


# -- the run and its kernel share the drawing --------------------------------------------------------
def _shared_appendix(tmp_path):
    """The demo's protected appendix as a run hands it over (``shared`` set), and the copy its
    kernel reads."""
    from test_runner import demo_project

    from tyokyky_eval.inputs.project import (
        APPENDIX,
        load_project,
        save_appendix,
        wait_for,
    )
    from tyokyky_eval.publication.appendix import protect_appendix

    appendix = protect_appendix(load_project(demo_project(tmp_path)))
    appendix.shared = tmp_path / "validated"
    appendix.shared.mkdir()
    save_appendix(appendix, appendix.shared)
    return appendix, wait_for(appendix.shared, APPENDIX)


def test_the_run_and_its_kernel_draw_each_section_once(tmp_path, monkeypatch):
    appendix, kernel = _shared_appendix(tmp_path)
    names = list(appendix.sections)
    first = doc.section_blocks(kernel.sections[names[0]], "fi")  # the kernel starts with the first section
    made = doc.make_blocks_ahead(appendix, reversed(names), "fi")
    assert made == names[:0:-1]  # the run: every other section, the last first
    assert doc.make_blocks_ahead(appendix, ["overview"], "en") == ["overview"]  # claims are per language
    monkeypatch.setattr(doc, "_make_blocks", lambda *a: pytest.fail("a section drawn twice"))
    for name in names[1:]:  # the kernel shows the run's blocks
        assert doc.section_blocks(kernel.sections[name], "fi") == appendix.blocks[(name, "fi")]
    assert first["tables"] and (names[0], "fi") not in appendix.blocks


def test_a_failed_run_ends_its_kernels_wait_for_blocks(tmp_path):
    from tyokyky_eval.errors import OutputError
    from tyokyky_eval.inputs.project import appendix_failed, claim

    appendix, kernel = _shared_appendix(tmp_path)
    assert claim(appendix.shared, "blocks-costs-fi.pickle")  # the run claims costs, then fails
    appendix_failed(appendix.shared)
    with pytest.raises(OutputError, match="stopped"):
        doc.section_blocks(kernel.sections["costs"], "fi")

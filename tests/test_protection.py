"""The protected appendix: one protection over every section, its audit, its report and the
checker's re-run (``tyokyky-eval audit``), attacked with every published count and relation."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from test_seeds import generated_projects
from test_services import PROJECTS, two_services

from tyokyky_eval import publication
from tyokyky_eval.publication.appendix import (
    FACTS,
    audit_folder,
    checker_report,
    determined,
    intervals,
    protect_appendix,
    write_disclosure,
)
from tyokyky_eval.render.cells import rounded_as_shown
from tyokyky_eval.stats.overview import CLIENT_TABLES


@pytest.fixture(scope="module")
def appendices(tmp_path_factory):
    """The protected appendix of every seed project (and the demo)."""
    projects = generated_projects(tmp_path_factory.mktemp("projects"), PROJECTS, "en")
    return {name: protect_appendix(project) for name, project in projects.items()}


def test_no_hidden_count_of_a_seed_appendix_can_be_worked_out(appendices):
    """The attacker: every published count of the whole appendix fixed, ``<5`` in 1…4, ``x`` any
    count, every relation (tables, links, the counts two sections share) holding: each hidden count
    keeps at least two values."""
    for name, appendix in appendices.items():
        found = intervals(appendix.frames(), appendix.relations, appendix.rules)
        assert found, name
        assert determined(found) == [], name


def test_the_relations_are_true(appendices):
    """Every relation holds for the full-precision counts (the attacker's knowledge is correct),
    the counts two sections share among them."""
    facts = 0
    for appendix in appendices.values():
        internal = appendix.internal()
        for terms, low, high in appendix.relations:
            total = sum(k * float(internal[c[0]].at[c[1], c[2]]) for k, c in terms)
            assert low - 1e-9 <= total <= high + 1e-9, terms
            facts += len(terms) == 2 and terms[0][1][0] != terms[1][1][0]
    assert facts > 0 and len(FACTS) == 2


def test_sections_read_the_appendix_release(appendices):
    """Prose, figures and tables/ read ``published()``, which is the appendix's release."""
    for appendix in appendices.values():
        for name, section in appendix.sections.items():
            assert section.published() is appendix.release[name]


def test_a_count_another_section_publishes_is_shown_everywhere(appendices):
    """Essote IPS employed (10): survival publishes it, so the costs table shows it too (was ``x``)."""
    release = appendices["essote-tyokykya-ja-kumppanuutta"].release
    costs = release["costs"]["costs_per_client"].set_index("service")
    summary = release["survival"]["survival_summary"]
    jobs = summary[summary["service"].eq("ips") & summary["group"].eq("all")]["n_events"].iloc[0]
    assert jobs == 10 and costs.at["ips", "n_employed"] == 10


def test_essote_pairs_carry_their_results(appendices):
    """Essote IPS baseline → follow-up: 11 pairs published with mean change, its CI and d_z; the
    margins (measurements per timepoint) are hidden instead."""
    summary = appendices["essote-tyokykya-ja-kumppanuutta"].release["prepost"]["prepost_summary"]
    rows = summary[summary["comparison"].eq("baseline_followup")]
    assert len(rows) == 7 and rows["n_pairs"].eq(11).all()
    for column in ("mean_change", "change_ci_low", "change_ci_high", "dz"):
        assert rows[column].map(lambda v: isinstance(v, (float, np.floating))).all(), column
    work = rows[rows["measure"].eq("work_ability")].iloc[0]
    assert work["mean_change"] == pytest.approx(0.909, abs=1e-3)  # 10 / 11, from the stored data


@pytest.mark.parametrize("min_cell", [3, 5, 10])
def test_synthetic_appendices_are_safe(project_files, min_cell):
    """Synthetic projects of an IPS service and a group service at min_cell 3, 5 and 10."""
    project = two_services(project_files, {"ips": 40, "group": 13}, seed=min_cell, min_cell=min_cell)
    appendix = protect_appendix(project)
    found = intervals(appendix.frames(), appendix.relations, appendix.rules)
    assert determined(found) == [], min_cell
    shown_small = []
    for name, spec in ((s.name, s) for specs in appendix.specs.values() for s in specs):
        frame = appendix.frames()[name]
        for column in spec.counts:  # no count below min_cell shown as a number
            numbers = pd.to_numeric(frame[column], errors="coerce")
            small = (numbers > 0) & (numbers < min_cell)
            if name == "data_summary":  # reviews, sites and surveys are not people
                small &= frame["table"].isin(CLIENT_TABLES)
            shown_small += [(name, column, frame.loc[small, column].tolist())] if small.any() else []
    assert shown_small == []


def test_report_and_audit_rerun_from_the_folder(appendices, tmp_path):
    """The checker's report lists every table with its withheld cells; ``audit_folder`` reproduces
    the audit from tables/*.csv (as written: rounded, symbols) and relations.json alone."""
    appendix = appendices["demo"]
    for tables in appendix.release.values():
        for name, frame in tables.items():
            (tmp_path / "tables").mkdir(exist_ok=True)
            rounded_as_shown(frame).to_csv(tmp_path / "tables" / f"{name}.csv", index=False)
    report = write_disclosure(appendix, tmp_path)
    assert report == checker_report(appendix)
    assert report["audit"]["determined"] == [] and report["cost"]["withheld"] > 0
    assert {t["table"] for s in report["sections"] for t in s["tables"]} == set(appendix.frames())
    again = audit_folder(tmp_path)
    assert again["determined"] == [] and again["relations"] == len(appendix.relations) > 0
    assert again["hidden"] == report["audit"]["hidden_counts_in_relations"]


def test_audit_finds_a_planted_leak(appendices):
    """Publishing the ``x`` that protects a ``<5`` in an equality makes the audit fail."""
    appendix = appendices["essote-tyokykya-ja-kumppanuutta"]
    rules, internal = appendix.rules, appendix.internal()
    frames = {name: frame.copy() for name, frame in appendix.frames().items()}
    symbol = {rules.symbol(publication.PRIMARY): "p", rules.symbol(publication.SECONDARY): "s"}
    for terms, low, high in appendix.relations:
        hidden = [(symbol.get(frames[c[0]].at[c[1], c[2]]), c) for _, c in terms
                  if frames[c[0]].at[c[1], c[2]] in symbol]
        if low == high and sorted(k for k, _ in hidden) == ["p", "s"]:
            cell = next(c for k, c in hidden if k == "s")
            frames[cell[0]][cell[2]] = frames[cell[0]][cell[2]].astype(object)
            frames[cell[0]].at[cell[1], cell[2]] = internal[cell[0]].at[cell[1], cell[2]]
            assert determined(intervals(frames, appendix.relations, rules))
            return
    pytest.fail("no equality holds exactly one <5 and one x")


def test_csv_numbers_are_rounded_as_shown():
    frame = pd.DataFrame({"mean": [0.37777777777777777, np.nan], "p": [0.0004, 0.23456], "n": [3, "<5"],
                          "d": ["..", 2.489143092177172]})
    out = rounded_as_shown(frame, {"d": 2})
    assert out["mean"].iloc[0] == 0.4 and np.isnan(out["mean"].iloc[1])
    assert list(out["p"]) == ["<0.001", 0.235]
    assert list(out["d"]) == ["..", 2.49] and list(out["n"]) == [3, "<5"]


def test_rules_are_validated():
    with pytest.raises(ValueError):
        dataclasses.replace(publication.Rules(), min_cell=2)


def test_a_planted_hidden_count_is_found_nowhere(project_files):
    """A service of 37 clients under min_cell 40 (a count no other part of the project equals):
    37 is hidden, and no published count cell, prose paragraph or figure caption of the whole
    appendix holds it, in either language."""
    project = two_services(project_files, {"ips": 80, "grp": 37}, seed=11, min_cell=40)
    appendix = protect_appendix(project)
    planted = 37
    for name, spec in ((s.name, s) for specs in appendix.specs.values() for s in specs):
        frame = appendix.frames()[name]
        if "service" not in frame:
            continue
        rows = frame["service"].eq("grp")
        for column in spec.counts:
            assert not pd.to_numeric(frame.loc[rows, column], errors="coerce").eq(planted).any(), (name, column)
    import re

    import matplotlib.pyplot as plt
    for language in ("fi", "en"):
        for section in appendix.sections.values():
            words = " ".join(section.text(language)) + " ".join(caption for caption, _ in section.figures(language))
            plt.close("all")
            assert not re.search(rf"(?<![\d,.]){planted}(?![\d,.])", words), (section.name, language)


def test_csv_numbers_equal_the_workbook_and_page(appendices):
    """Every number of ``tables/*.csv`` equals the number behind the cell the page shows and
    ``tables.xlsx`` stores (``Cell.value``), for every published table of the demo."""
    from tyokyky_eval.render.report import Report

    appendix = appendices["demo"]
    report = Report(next(iter(appendix.sections.values())).project)
    compared = 0
    for specs in appendix.specs.values():
        for spec in specs:
            frame = appendix.frames()[spec.name]
            csv = rounded_as_shown(frame, spec.decimals)
            for (_, cells), column in zip(report.typed_columns(frame, spec.decimals), frame.columns):
                for cell, value in zip(cells, csv[column]):
                    if isinstance(cell.value, float):
                        assert value == cell.value, (spec.name, column)
                        compared += 1
    assert compared > 500


def test_only_a_released_table_reaches_tables(appendices, tmp_path):
    """``Report.table`` without ``published=`` writes the internal table only."""
    from tyokyky_eval.render.report import Report

    report = Report(next(iter(appendices["demo"].sections.values())).project, output_dir=tmp_path)
    report.show = lambda blocks: None  # no display here
    report.table(pd.DataFrame({"n": [3, 40]}), "raw", "Raw")
    report.table(pd.DataFrame({"n": [3, 40]}), "released", "Released", published=pd.DataFrame({"n": ["<5", 40]}))
    assert (tmp_path / "tables-internal" / "raw.csv").is_file() and not (tmp_path / "tables" / "raw.csv").exists()
    assert (tmp_path / "tables" / "released.csv").read_text() == "n\n<5\n40\n"


def test_key_findings_equal_the_published_cells_they_link_to(appendices):
    """Every value of the key findings is the text of a cell of the published table it links to
    (a withheld one its symbol), in both languages; each seed appendix has key findings."""
    from tyokyky_eval.render.document import TableBlock, section_blocks
    from tyokyky_eval.render.findings import key_findings

    for name, appendix in appendices.items():
        project = next(iter(appendix.sections.values())).project
        for language in ("fi", "en"):
            tables = {b.name: b for s in appendix.sections.values()
                      for b in section_blocks(s, language)["tables"] if isinstance(b, TableBlock)}
            (findings,) = [b for b in key_findings(appendix, project, language).blocks if isinstance(b, TableBlock)]
            checked = 0
            for row in findings.rows:
                for cell in row[2:]:
                    if cell.link:
                        shown = {c.text for r in tables[cell.link.removeprefix("table-")].rows for c in r}
                        assert set(cell.text.split("–")) <= shown, (name, language, row[1].text, cell.text)
                        checked += 1
            assert checked >= 3, (name, language)

"""The fidelity section as an attacker and a reader see it: only its published tables, text and figures.

Fidelity reviews rate sites, not clients: the section publishes no client count, so nothing needs
suppressing; these tests hold it to that (no table declares counts, no protection symbol appears,
and the linear-programming attack of the other sections finds no unknown to pin down), and check
that the reviewers' free-text reasons never reach a published output.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from attacker import attack, equation

from tyokyky_eval import load_section, publication
from tyokyky_eval.inputs.project import load_project
from tyokyky_eval.sections.fidelity import NOT_PUBLISHED, reason_code
from tyokyky_eval.stats import fidelity

MIN_CELLS = (3, 5, 10)
NAME = "Matti Meikäläinen 010180-123A"  # what staff type into a reason field
FREE_TEXT = f"asiakas {NAME} ei halunnut"


def rows() -> str:
    """Two sites: ``a`` reviewed twice by R1, R2 and consensus (an item not applicable with a
    free-text reason, one with a coded reason, one with no row at all); ``b`` once by one rater."""
    out = []
    for date, shift in (("2021-03-01", 0), ("2022-03-01", 1)):
        for rater, offset in (("R1", 0), ("R2", 1), ("consensus", 0)):
            for item in range(1, 26):
                if item == 20 and date == "2022-03-01":
                    continue  # no row: missing
                if item == 4:
                    out.append(f"a,{date},{rater},{item},,\"{FREE_TEXT}\"")
                elif item == 8:
                    out.append(f"a,{date},{rater},{item},,no_team_leader")
                else:
                    score = min(5, 1 + (item * 7 + offset * (item % 3) + shift * (item % 2)) % 5)
                    out.append(f"a,{date},{rater},{item},{score},")
    out += [f"b,2022-06-01,R9,{item},{1 + item % 5}," for item in range(1, 26)]
    return "\n".join(out) + "\n"


def project(tmp_path, min_cell: int = 5, language: str = "en"):
    (tmp_path / "fidelity.csv").write_text("site_id,review_date,rater,item,score,na_reason\n" + rows(),
                                           encoding="utf-8")
    params = tmp_path / "params.yaml"
    params.write_text("project_id: t\ntitle: T\ncutoff_date: 2022-12-31\ndata:\n  fidelity: fidelity.csv\n"
                      f"disclosure:\n  min_cell: {min_cell}\n  min_followup: {max(10, min_cell)}\n"
                      "analyses:\n  fidelity:\n    na_reasons:\n"
                      "      no_team_leader: {fi: Ei tiiminvetäjää, en: No team leader}\n",
                      encoding="utf-8")
    return load_project(str(params), language)



def relations(section) -> tuple[list, list, dict]:
    """What a reader knows: items compared = improved + declined + unchanged; a rating's items
    rated = the sum over its sections; a section's items rated ≤ its items."""
    rules, shown = section.rules, section.published()
    unknowns, bounds, equations = [], {}, []

    def term(table, row, column):
        value = shown[table].at[row, column]
        if publication.is_symbol(value, rules):
            name = f"{table}:{row}:{column}"
            unknowns.append(name)
            bounds[name] = (1, rules.min_cell - 1) if value == rules.symbol(publication.PRIMARY) else (0, None)
            return {name: 1.0}, 0.0
        return {}, float(value)

    change = shown["fidelity_change"]
    for i in range(len(change)):
        equations.append(equation(term("fidelity_change", i, "n_items_compared"),
                                  [term("fidelity_change", i, c) for c in ("n_improved", "n_declined",
                                                                           "n_unchanged")]))
    scores, parts = shown["fidelity_scores"], shown["fidelity_sections"]
    for i, row in scores.iterrows():
        mine = parts.index[(parts["site_id"] == row["site_id"]) & (parts["review_date"] == row["review_date"])
                           & (parts["rater"] == row["rater"])]
        if len(mine):
            equations.append(equation(term("fidelity_scores", i, "n_items_rated"),
                                      [term("fidelity_sections", j, "n_items_rated") for j in mine]))
    return unknowns, equations, bounds


@pytest.mark.parametrize("min_cell", MIN_CELLS)
def test_no_count_is_suppressed_so_none_can_be_recovered(tmp_path, min_cell):
    section = load_section("fidelity", project(tmp_path, min_cell))
    tables = section.tables()
    assert not any(table.counts for table in tables), "fidelity tables hold no client counts"
    unknowns, equations, bounds = relations(section)
    assert equations  # the relations are there: the attack would see a suppressed count
    for name, (low, high) in attack(unknowns, equations, bounds).items():
        assert high - low >= 1 - 1e-9, f"{name} recovered: {low}…{high}"
    assert not unknowns
    for name, frame in section.published().items():
        assert not frame.map(lambda v: publication.is_symbol(v, section.rules)).any().any(), name


@pytest.mark.parametrize("min_cell", MIN_CELLS)
def test_published_values_equal_the_internal_ones(tmp_path, min_cell):
    section = load_section("fidelity", project(tmp_path, min_cell))
    shown, internal = section.published(), section.internal()
    for name in ("fidelity_scores", "fidelity_change", "fidelity_agreement"):
        pd.testing.assert_frame_equal(shown[name], internal[name], check_dtype=False)
    labels = [c for c in shown["fidelity_item_matrix"] if c.startswith("short_name_")]
    pd.testing.assert_frame_equal(shown["fidelity_item_matrix"].drop(columns=labels), internal["fidelity_item_matrix"])
    for name in ("fidelity_changed_items", "fidelity_disagreements", "fidelity_development"):
        extra = [c for c in shown[name] if c.startswith(("short_name_", "section_title_"))]
        pd.testing.assert_frame_equal(shown[name].drop(columns=extra), internal[name])
    sections_shown = shown["fidelity_sections"].rename(columns={"n_section_items": "n_items"})
    pd.testing.assert_frame_equal(sections_shown.drop(columns=["section_title_fi", "section_title_en"]),
                                  internal["fidelity_sections"])
    unrated = shown["fidelity_unrated"]
    kept = [c for c in unrated if c not in ("reason", "short_name_fi", "short_name_en")]
    pd.testing.assert_frame_equal(unrated[kept], internal["fidelity_unrated"][kept])


def test_free_text_reasons_never_reach_a_published_output(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    section = load_section("fidelity", project(tmp_path))
    internal = section.internal()
    assert FREE_TEXT in internal["fidelity_unrated"]["na_reason"].tolist()  # kept for the secure environment
    shown = section.published()
    unrated = shown["fidelity_unrated"]
    assert "na_reason" not in unrated
    assert unrated.set_index(["review_date", "item"])["reason"].to_dict() == {
        (pd.Timestamp("2021-03-01"), 4): NOT_PUBLISHED, (pd.Timestamp("2021-03-01"), 8): "no_team_leader",
        (pd.Timestamp("2022-03-01"), 4): NOT_PUBLISHED, (pd.Timestamp("2022-03-01"), 8): "no_team_leader",
        (pd.Timestamp("2022-03-01"), 20): None}
    words = ("Matti", "Meikäläinen", "010180", "halunnut")
    for name, frame in shown.items():
        csv = frame.to_csv(index=False)
        assert not any(w in csv for w in words), name
    for language in ("fi", "en"):
        prose = "\n".join(section.text(language))
        assert not any(w in prose for w in words)
        for _, fig in section.figures(language):
            texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
            assert not any(w in text for text in texts for w in words)


def test_report_shows_localised_labels_and_no_free_text(tmp_path, monkeypatch):
    from IPython.display import HTML, Markdown

    from tyokyky_eval.render.csv import published_tables, write_tables
    from tyokyky_eval.render.report import Report

    for language, name, title in (("fi", "Asiakasmäärä", "Henkilöstö"), ("en", "Caseload size", "Staffing")):
        shown: list[str] = []
        monkeypatch.setattr("tyokyky_eval.render.report._display",
                            lambda obj, metadata=None: shown.append(obj.data if isinstance(obj, (HTML, Markdown)) else ""))
        proj = project(tmp_path, 5, language)
        report = Report(proj, output_dir=tmp_path / f"out-{language}")
        section = load_section("fidelity", proj)
        report.show_tables(section)
        write_tables(proj.appendix, tmp_path / f"out-{language}", published_tables(proj.appendix))
        page = "\n".join(shown)
        assert name in page and title in page
        other = "Caseload size" if language == "fi" else "Asiakasmäärä"
        assert other not in page
        assert "Matti" not in page and "010180" not in page
        out = tmp_path / f"out-{language}"
        published = "".join(p.read_text(encoding="utf-8") for p in (out / "tables").glob("*"))
        assert "Matti" not in published and "no_team_leader" in published
        assert "Matti" in (out / "tables-internal" / "fidelity_unrated.csv").read_text(encoding="utf-8")


def test_internal_tables_do_not_depend_on_the_language(tmp_path):
    fi = load_section("fidelity", project(tmp_path, 5, "fi")).internal()
    en = load_section("fidelity", project(tmp_path, 5, "en")).internal()
    assert fi.keys() == en.keys()
    for name in fi:
        pd.testing.assert_frame_equal(fi[name], en[name])
        assert not [c for c in fi[name] if c.startswith(("short_name", "section_title"))], name
    assert fi["fidelity_development"]["section"].isin(["staffing", "organization", "services"]).all()
    assert [c for c in fi["fidelity_item_matrix"] if c not in ("item", "section")] == \
        ["a 2021-03-01", "a 2022-03-01", "b 2022-06-01"]


def test_display_columns_follow_the_language(tmp_path):
    for language in ("fi", "en"):
        tables = {t.name: t for t in load_section("fidelity", project(tmp_path, 5, language)).tables()}
        other = "en" if language == "fi" else "fi"
        for table in tables.values():
            columns = table.columns or tuple(table.data.columns)
            assert not [c for c in columns if c.endswith(f"_{other}")], table.name
        assert f"short_name_{language}" in tables["fidelity_item_matrix"].columns
        assert f"section_title_{language}" in tables["fidelity_sections"].columns


@pytest.mark.parametrize("value, code", [("no_team_leader", "no_team_leader"), ("n_a", "n_a"),
                                         ("No team leader", NOT_PUBLISHED), ("a" * 41, NOT_PUBLISHED),
                                         ("a" * 40, "a" * 40), ("co de", NOT_PUBLISHED), ("ä", NOT_PUBLISHED),
                                         (FREE_TEXT, NOT_PUBLISHED), (None, None), ("", None), (np.nan, None)])
def test_reason_codes(value, code):
    """Without declared codes a short code is published as it is; anything else is not."""
    assert reason_code(value) == code


def test_figures_are_drawn_from_published_values(tmp_path):
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    section = load_section("fidelity", project(tmp_path))
    shown = section.published()
    assert len(section.figures("en")) == 3
    fig = section.figure_totals(shown["fidelity_scores"], "en")
    official = shown["fidelity_scores"][shown["fidelity_scores"]["rater"].isin(["consensus", "R9"])]
    site_a = official[official["site_id"].eq("a")]["prorated_total"].astype(float).tolist()
    assert list(fig.axes[0].lines[-6].get_ydata()) == pytest.approx(site_a)
    fig = section.figure_item_profile(shown["fidelity_item_matrix"], "en")
    latest = shown["fidelity_item_matrix"]["a 2022-03-01"].astype(float)
    np.testing.assert_allclose(fig.axes[0].lines[1].get_xdata(), latest.to_numpy())
    _, axes = plt.subplots(1, 2)  # ax= accepted: one axes per site
    assert section.figure_sections(shown["fidelity_sections"], "en", ax=axes) is axes[0].figure
    plt.close("all")


def test_single_rater_review_says_agreement_cannot_be_assessed(tmp_path):
    section = load_section("fidelity", project(tmp_path))
    single = fidelity.item_table(section.project.table("fidelity"), section.instrument)
    assert set(fidelity.review_ratings(single)["rater"]) == {"consensus", "R9"}
    (tmp_path / "only").mkdir()
    site_b = [line for line in rows().splitlines() if line.startswith("b,")]
    (tmp_path / "only" / "fidelity.csv").write_text(
        "site_id,review_date,rater,item,score,na_reason\n" + "\n".join(site_b) + "\n", encoding="utf-8")
    (tmp_path / "only" / "params.yaml").write_text(
        "project_id: t\ntitle: T\ncutoff_date: 2022-12-31\ndata:\n  fidelity: fidelity.csv\n", encoding="utf-8")
    one = load_section("fidelity", load_project(str(tmp_path / "only" / "params.yaml"), "en"))
    text = "\n".join(one.text("en"))
    assert "agreement between raters cannot be assessed" in text
    assert "change cannot be assessed yet" in text
    assert len(one.figures("en")) == 3

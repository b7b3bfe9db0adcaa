"""Survey exports as the tools write them: matching headers, labels, don't-know answers, choices,
open answers and sites; every tool's synthetic export read back; errors in the export's own terms."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from tyokyky_eval import demo, load_section
from tyokyky_eval.cli import main
from tyokyky_eval.errors import DataError
from tyokyky_eval.inputs.params import FeedbackExport
from tyokyky_eval.inputs.project import load_project
from tyokyky_eval.inputs.survey_exports import (
    match_columns,
    normalise_header,
    read_export,
)
from tyokyky_eval.stats import feedback as fb

PROCESS = fb.load_survey("process_evaluation")


@pytest.mark.parametrize("header", [
    "1. Hankkeen tavoitteet ovat selkeät", "Q3 Hankkeen tavoitteet ovat selkeät", "3) Hankkeen tavoitteet ovat selkeät",
    "Hankkeen tavoitteet\novat  selkeät", "HANKKEEN TAVOITTEET OVAT SELKEÄT *", "The project's goals are clear",
    "12.3 Hankkeen tavoitteet ovat selkeät"])
def test_headers_match_items_whatever_the_numbering_breaks_and_case(header):
    items, _, unmatched = match_columns([header, "Vastausaika", "Email"], PROCESS)
    assert items == {"goals_clear": header} and unmatched == []


def test_an_item_column_may_be_named_exactly_and_unknown_columns_are_reported():
    spec = {**PROCESS, "items": [{**PROCESS["items"][0], "column": "K1"}, *PROCESS["items"][1:]]}
    items, _, unmatched = match_columns(["K1", "Hanke etenee suunnitelman mukaisesti", "Muuta?"], spec)
    assert items == {"goals_clear": "K1", "progress_as_planned": "Hanke etenee suunnitelman mukaisesti"}
    assert unmatched == ["Muuta?"]
    assert normalise_header("  2.1  Kysymys\r\n jatkuu ") == "kysymys jatkuu"


def export(tmp_path, frame: pd.DataFrame, name="export.csv", survey="process_evaluation", **fields):
    path = tmp_path / name
    if name.endswith(".xlsx"):
        frame.to_excel(path, index=False)
    else:
        frame.to_csv(path, sep=";", index=False, encoding="utf-8-sig")
    values = {k: v for k, v in fields.items() if not isinstance(v, dict)}
    columns = {k: v["column"] for k, v in fields.items() if isinstance(v, dict)}
    values.setdefault("round", 1)
    values.setdefault("respondent_group", "staff")
    return FeedbackExport(path, survey, None, values, columns)


def test_labels_in_both_languages_numbers_and_dont_know(tmp_path):
    frame = pd.DataFrame({"1. Hankkeen tavoitteet ovat selkeät": ["Täysin samaa mieltä", "Strongly disagree", "3",
                                                                  "En osaa sanoa", "", "jokseenkin  SAMAA mieltä"],
                          "Hanke etenee suunnitelman mukaisesti": ["4"] * 6})
    out = read_export(export(tmp_path, frame), PROCESS)
    out = out[out["item_id"].eq("goals_clear")]
    assert out["response"].tolist()[:3] == [5.0, 1.0, 3.0] and out["response"].iloc[5] == 4.0
    assert out["not_applicable"].tolist() == [False, False, False, True, False, False]
    assert np.isnan(out["response"].iloc[3]) and np.isnan(out["response"].iloc[4])
    assert out["site"].isna().all() and out["respondent_id"].nunique() == 6


def test_an_unknown_label_is_reported_with_the_exports_header_and_row(tmp_path):
    header = "2) Hanke etenee\nsuunnitelman mukaisesti"
    frame = pd.DataFrame({header: ["Täysin samaa mieltä", "Ehkä", "7"], "Mielipide": ["", "", ""]})
    with pytest.raises(DataError) as caught:
        read_export(export(tmp_path, frame, "webropol.xlsx"), PROCESS)
    found = {(p.row, p.column, p.key) for p in caught.value.problems}
    assert found == {(3, header, "export_unknown_label"), (4, header, "export_unknown_label"),
                     (1, "Mielipide", "export_unmatched_column")}
    message = next(str(p) for p in caught.value.problems if p.row == 3)
    assert message.startswith("webropol.xlsx:3:2) Hanke etenee") and "Ehkä" in message


def test_choices_single_and_multiple_and_open_answers_with_themes(tmp_path):
    frame = pd.DataFrame({
        "Mitkä hankkeen toimintamuodot ovat olleet työsi kannalta hyödyllisimpiä?":
            ["Koulutukset;Konsultaatiot;", "Verkostotapaamiset, Koulutukset", "", "Trainings"],
        "Mikä hankkeessa on onnistunut parhaiten?": ["Yhteistyö", "", "", "Kaikki"],
        "Teemat (arvioija)": ["cooperation", "", "client_work", "other;competence"]})
    out = read_export(export(tmp_path, frame), PROCESS)
    chosen = out[out["option"].notna()].groupby("respondent_id")["option"].apply(sorted).tolist()
    assert chosen == [["consultation", "trainings"], ["network_meetings", "trainings"], ["trainings"]]
    texts = out[out["item_id"].eq("successes")]
    assert texts["answer"].tolist() == ["Yhteistyö", "", "Kaikki"]  # a coded empty answer still counts
    assert texts["themes"].tolist() == ["cooperation", "client_work", "other;competence"]
    frame.iloc[0, 2] = "unknown_theme"
    frame.iloc[1, 0] = "Koulutukset; Kahvi"
    with pytest.raises(DataError) as caught:
        read_export(export(tmp_path, frame), PROCESS)
    assert {(p.row, p.key) for p in caught.value.problems} == {(2, "export_unknown_theme"),
                                                               (3, "export_unknown_option")}


def test_a_single_choice_with_two_options_is_an_error(tmp_path):
    spec = fb.load_survey("lifestyle_guidance")
    frame = pd.DataFrame({"Oletko pystynyt ylläpitämään tekemiäsi elintapamuutoksia?": ["Osittain", "Osittain; En"]})
    with pytest.raises(DataError) as caught:
        read_export(export(tmp_path, frame, survey="lifestyle_guidance"), spec)
    assert [(p.row, p.key) for p in caught.value.problems] == [(3, "export_unknown_option")]


@pytest.mark.parametrize("tool", sorted(demo.TOOLS))
def test_every_tools_synthetic_export_reads_back(tmp_path, tool):
    spec_id = "lifestyle_guidance" if tool in ("google_forms", "forms") else "process_evaluation"
    settings = {"file": f"x.{demo.TOOLS[tool]['kind']}", "tool": tool, "survey_id": spec_id, "rounds": [1, 2],
                "groups": {"staff": [7, 9]}, "sites": {"a": 2, "b": 1}, "language": "en" if tool == "forms" else "fi"}
    frame = demo.survey_export(np.random.default_rng(3), settings)
    path = demo.write_export(frame, tmp_path / settings["file"], tool)
    entry = FeedbackExport(path, spec_id, None, {"respondent_group": "staff"},
                           {"round": "Kierros", "site": "Alue"})
    out = read_export(entry, fb.load_survey(spec_id))
    spec = fb.load_survey(spec_id)
    scale_items = [i["id"] for i in spec["items"] if "scale" in i]
    answers = out[out["item_id"].isin(scale_items)]
    assert len(answers) == 16 * len(scale_items)
    assert (answers["response"].notna() | answers["not_applicable"]).all()  # every label understood
    assert sorted(out["site"].unique()) == ["a", "b"] and sorted(out["round"].unique()) == [1, 2]
    choice = next(i for i in spec["items"] if i.get("type") == "choice")
    assert out.loc[out["item_id"].eq(choice["id"]), "respondent_id"].nunique() == 16
    assert set(out["option"].dropna()) <= set(choice["options"])


def test_wilson_intervals_equal_the_formula_and_statsmodels():
    data = pd.DataFrame({"survey_id": "process_evaluation", "round": 1, "respondent_group": "staff",
                         "respondent_id": [f"r{i}" for i in range(13)] * 2, "item_id": "useful_activities",
                         "response": np.nan, "option": ["trainings"] * 13 + ["workshops"] * 4 + [None] * 9})
    data = data.dropna(subset=["option"])
    shares = fb.choice_shares(data, {"process_evaluation": PROCESS}).set_index("option")
    assert shares.loc["trainings", "n"] == 13 and shares.loc["workshops", "n"] == 4
    assert shares.loc["materials", "n"] == 0 and (shares["n_respondents"] == 13).all()
    z = 1.959963984540054
    for option, row in shares.iterrows():
        n, k = 13, row["n"]
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        assert row["ci_low"] == pytest.approx(centre - half, abs=1e-12)
        assert row["ci_high"] == pytest.approx(centre + half, abs=1e-12)
        low, high = proportion_confint(k, n, method="wilson")
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high), abs=1e-12)


def wide_project(project_files, frame: pd.DataFrame, min_cell: int = 5, **entry):
    path = project_files.root / "data" / "webropol.xlsx"
    frame.to_excel(path, index=False)
    project_files.params["data"]["feedback"] = [
        "data/feedback.csv", {"path": "data/webropol.xlsx", "layout": "wide", "survey": "process_evaluation",
                              "round": 1, "respondent_group": "staff", **entry}]
    project_files.params["disclosure"] = {"min_cell": min_cell, "min_followup": max(10, min_cell)}
    return project_files.save_params()


def test_validate_reports_export_problems_in_the_users_terms(project_files, capsys):
    frame = pd.DataFrame({"1. Hankkeen tavoitteet ovat selkeät": ["Täysin samaa mieltä", "Ei hajuakaan"],
                          "Alue": ["oulu", "Matti Meikäläinen"]})
    params = wide_project(project_files, frame, site={"column": "Alue"})
    assert main(["validate", str(params), "--language", "en"]) == 2
    out = capsys.readouterr().err
    assert "Traceback" not in out
    assert "webropol.xlsx:3:1. Hankkeen tavoitteet ovat selkeät: not an answer on the scale" in out
    assert "webropol.xlsx:3:Alue: not a code" in out and "Meikäläinen" not in out


@pytest.mark.parametrize("case", ["one_respondent", "all_dont_know", "empty_open_question", "one_site"])
def test_degenerate_exports_give_a_complete_section(project_files, case):
    n = 1 if case == "one_respondent" else 8
    frame = pd.DataFrame({
        "1. Hankkeen tavoitteet ovat selkeät": ["En osaa sanoa" if case == "all_dont_know" else "4"] * n,
        "Mikä hankkeessa on onnistunut parhaiten?": [""] * n,
        "Mitkä hankkeen toimintamuodot ovat olleet työsi kannalta hyödyllisimpiä?": ["Koulutukset"] * n,
        "Alue": ["oulu"] * n})
    section = load_section("feedback", load_project(wide_project(project_files, frame, site={"column": "Alue"}),
                                                     "en"))
    shown = section.published()
    items = shown["feedback_items"][shown["feedback_items"]["survey_id"].eq("process_evaluation")]
    assert items["site"].tolist() == ["all" if n == 1 else "oulu"]  # a site of one respondent is combined
    if case == "all_dont_know":
        assert items["n"].tolist() == [0] and items["n_not_applicable"].tolist() == [8]
    if case == "one_respondent":
        assert items["n"].tolist() == ["<5"]
        assert shown["feedback_choices"]["n"].isin(["<5", "x", 0]).all()
    assert shown["feedback_themes"].empty  # no open answer, nothing coded
    assert section.text("fi") and isinstance(section.figures("en"), list)


def test_data_feedback_entries_are_checked_with_the_parameters(project_files):
    from tyokyky_eval.errors import ParameterError
    from tyokyky_eval.inputs.params import load_params

    project_files.params["data"]["feedback"] = [
        {"path": "data/feedback.csv", "layout": "wide", "survey": "process_evaluation", "round": 0,
         "respondent_group": "Matti Meikäläinen", "site": {"colum": "Alue"}},
        {"path": "data/feedback.csv", "layout": "sideways"}, "data/feedback.csv", "data/feedback.csv"]
    with pytest.raises(ParameterError) as caught:
        load_params(project_files.save_params())
    text = "\n".join(caught.value.messages)
    for expected in ("data.feedback[1].round: expected a whole number", "data.feedback[1].respondent_group: not a code",
                     "data.feedback[1].site: unknown key 'colum' (did you mean 'column'?)",
                     "data.feedback[2].layout: 'sideways' is not a layout", "at most one long-format table"):
        assert expected in text


def test_provenance_hashes_every_export_without_its_file_name():
    import hashlib

    from tyokyky_eval.inputs.params import load_params
    from tyokyky_eval.run.provenance import input_files

    root = Path(__file__).resolve().parent.parent
    params = load_params(root / "parameters" / "pohde-palo2.yaml")
    files = input_files(params)
    exports = [files[f"feedback_export_{n}"]["sha256"] for n in (1, 2)]
    assert exports == [hashlib.sha256(e.path.read_bytes()).hexdigest() for e in params.feedback_exports]
    assert not any("forms" in key or "limesurvey" in key for key in files)

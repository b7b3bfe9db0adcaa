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


# -- one column per option, two-row headers, the coding table (issue 25) ---------------------------------
QUESTION = "Mitkä hankkeen toimintamuodot ovat olleet työsi kannalta hyödyllisimpiä?"
OPEN = "Mikä hankkeessa on onnistunut parhaiten?"
OPTIONS = PROCESS["items"][3]["options"]
#: twelve staff respondents of one round: a scale answer (None = "En osaa sanoa"), the options they chose,
#: their open answer and its theme codes
ANSWERS = [(5, ["trainings", "consultation"], "Yhteistyö toimii.", "cooperation"),
           (4, ["trainings"], "Asiakastyö sujuu.", "client_work"),
           (4, ["network_meetings", "trainings"], "Koulutukset.", "competence;cooperation"),
           (3, [], "", ""), (5, ["materials"], "Aikataulu piti.", "resources"), (4, ["trainings", "workshops"], "", ""),
           (2, ["trainings"], "Kaikki.", ""), (4, ["network_meetings"], "", ""),
           (5, ["trainings", "materials"], "", ""), (4, ["consultation"], "", ""), (3, ["trainings"], "", ""),
           (None, [], "", "")]


def scale_label(value) -> str:
    return "En osaa sanoa" if value is None else PROCESS["scales"]["agree5"]["labels"][value]["fi"]


def long_table(themes: bool = True) -> pd.DataFrame:
    """ANSWERS as the canonical long feedback table (respondents S01 … S12)."""
    rows = []
    for i, (value, chosen, answer, codes) in enumerate(ANSWERS, 1):
        base = {"survey_id": "process_evaluation", "round": 1, "respondent_group": "staff",
                "respondent_id": f"S{i:02d}"}
        rows.append({**base, "item_id": "goals_clear", "response": value, "not_applicable": value is None})
        rows += [{**base, "item_id": "useful_activities", "option": code} for code in chosen]
        if answer:
            rows.append({**base, "item_id": "successes", "answer": answer, "themes": codes if themes else ""})
    return pd.DataFrame(rows)


def limesurvey(path: Path, chosen: str = "Y", not_chosen: str = "") -> Path:
    """ANSWERS as LimeSurvey's CSV export writes a multiple-choice question: one column per option,
    headed 'question [option]', Y for a chosen option (answer texts, question texts as headings)."""
    frame = pd.DataFrame({"id": range(1, 13), "submitdate": "2023-05-02 10:00:00", "lastpage": 3,
                          "startlanguage": "fi", "seed": 1234,
                          "1) Hankkeen tavoitteet ovat selkeät": [scale_label(a[0]) for a in ANSWERS]})
    for code, label in OPTIONS.items():
        frame[f"2) {QUESTION} [{label['fi']}]"] = [chosen if code in a[1] else not_chosen for a in ANSWERS]
    frame[f"3) {OPEN}"] = [a[2] for a in ANSWERS]
    frame["Teemat (arvioija)"] = [a[3] for a in ANSWERS]
    frame.to_csv(path, index=False, encoding="utf-8-sig")
    return path


def webropol_two_rows(path: Path, themes: bool = True) -> Path:
    """ANSWERS as Webropol's Excel report writes them: a two-row header (the question merged over its
    options, then each option), 1/0 for the options, labels for the scale."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Vastaukset"
    n = len(OPTIONS)
    sheet.append(["Vastaaja", "Vastausaika", "1. Hankkeen tavoitteet ovat selkeät", f"2. {QUESTION}",
                  *[None] * (n - 1), f"3. {OPEN}", *(["Teemat (arvioija)"] if themes else [])])
    sheet.append([None, None, None, *(label["fi"] for label in OPTIONS.values()), None, None])
    sheet.merge_cells(start_row=1, start_column=4, end_row=1, end_column=3 + n)
    for i, (value, chosen, answer, codes) in enumerate(ANSWERS, 1):
        sheet.append([i, "02.05.2023 10:00", scale_label(value), *(int(code in chosen) for code in OPTIONS),
                      answer or None, *([codes or None] if themes else [])])
    book.save(path)
    return path


def section_internal(project_files, feedback, **data) -> dict[str, pd.DataFrame]:
    """The feedback section's internal tables of a project whose only data are ``feedback`` (and ``data``)."""
    from tyokyky_eval.sections.feedback import FeedbackSection

    project_files.params["data"] = {"feedback": feedback, **data}
    return FeedbackSection(load_project(project_files.save_params(), "en")).internal()


def entry(path: str, **fields) -> dict:
    return {"path": path, "layout": "wide", "survey": "process_evaluation", "round": 1, "respondent_group": "staff",
            **fields}


@pytest.mark.parametrize("shape", ["limesurvey", "webropol_two_rows", "coding_table", "long_coding_table"])
def test_new_export_shapes_give_the_results_of_the_long_table(project_files, shape):
    data = project_files.root / "data"
    project_files.write("feedback", long_table())
    expected = section_internal(project_files, "data/feedback.csv")
    coding = pd.DataFrame({"Kysely": "process_evaluation", "Kysymys": "successes",
                           "Vastaaja": [i for i, a in enumerate(ANSWERS, 1) if a[2]],
                           "Teemat": [a[3] for a in ANSWERS if a[2]]})
    project_files.params["column_map"] = {"feedback_coding": {"Kysely": "survey_id", "Kysymys": "item_id",
                                                              "Vastaaja": "respondent_id", "Teemat": "themes"}}
    if shape == "limesurvey":
        limesurvey(data / "lime.csv")
        got = section_internal(project_files, [entry("data/lime.csv")])
    elif shape == "webropol_two_rows":
        webropol_two_rows(data / "webropol.xlsx")
        got = section_internal(project_files, [entry("data/webropol.xlsx", sheet="Vastaukset", header_rows=2)])
    elif shape == "coding_table":  # the export has no themes column; the coders' table names the export's ids
        webropol_two_rows(data / "webropol.xlsx", themes=False)
        coding.to_csv(data / "koodaus.csv", sep=";", index=False, encoding="cp1252")
        got = section_internal(project_files, [entry("data/webropol.xlsx", header_rows=2,
                                                     respondent_id={"column": "Vastaaja"})],
                               feedback_coding="data/koodaus.csv")
    else:  # the long table without themes, coded in the coding table by its respondent ids
        project_files.write("feedback", long_table(themes=False))
        coding.assign(Vastaaja=coding["Vastaaja"].map(lambda i: f"S{i:02d}")).to_csv(data / "koodaus.csv", index=False)
        got = section_internal(project_files, "data/feedback.csv", feedback_coding="data/koodaus.csv")
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(got[name], frame, check_dtype=False, obj=name)
    choices = got["feedback_choices"].set_index("option")
    assert choices["n"].to_dict() == {"network_meetings": 2, "trainings": 7, "workshops": 1, "consultation": 2,
                                      "materials": 2}
    assert (choices["n_respondents"] == 10).all()  # respondents 4 and 12 chose nothing
    themes = got["feedback_themes"].set_index("theme")
    assert themes["n"].to_dict() == {"cooperation": 2, "client_work": 1, "competence": 1, "resources": 1, "other": 0}
    assert (themes["n_answers"] == 5).all() and themes.at["cooperation", "share"] == pytest.approx(0.4)
    low, high = proportion_confint(2, 5, method="wilson")
    assert (themes.at["cooperation", "ci_low"], themes.at["cooperation", "ci_high"]) == pytest.approx((low, high))
    items = got["feedback_items"].set_index("item_id")
    assert items.at["goals_clear", "n"] == 11 and items.at["goals_clear", "n_not_applicable"] == 1


@pytest.mark.parametrize("header", [
    f"{QUESTION} [Koulutukset]", f"4) {QUESTION} [Trainings]", f"Q4 {QUESTION}: Koulutukset",
    f"{QUESTION} / koulutukset", f"{QUESTION} - trainings", "Which of the project's activities have been most "
    "useful for your work? [Trainings]"])
def test_an_option_column_is_recognised_from_its_header(header):
    items, _, unmatched = match_columns([header, f"{QUESTION} [Konsultaatiot]", "Hankkeen tavoitteet ovat selkeät"],
                                        PROCESS)
    assert items["useful_activities"] == {"trainings": header, "consultation": f"{QUESTION} [Konsultaatiot]"}
    assert unmatched == []


def test_an_items_column_names_its_option_columns_as_limesurvey_codes_them():
    spec = {**PROCESS, "items": [{**item, "column": "Q2"} if item["id"] == "useful_activities" else item
                                 for item in PROCESS["items"]]}
    items, _, unmatched = match_columns(["Q2 [Koulutukset]", "Q2[materials]", "Q20 [Koulutukset]"], spec)
    assert items == {"useful_activities": {"trainings": "Q2 [Koulutukset]", "materials": "Q2[materials]"}}
    assert unmatched == ["Q20 [Koulutukset]"]


def test_option_columns_errors_name_the_exports_header_and_row(tmp_path):
    path = limesurvey(tmp_path / "lime.csv", chosen="Kyllä", not_chosen="Ei valittu")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    trainings = f"2) {QUESTION} [Koulutukset]"
    frame.loc[1, trainings] = "ehkä"
    frame[f"2) {QUESTION} [Kahvi]"] = ""
    frame.to_csv(path, index=False)
    export_entry = FeedbackExport(path, "process_evaluation", None, {"round": 1, "respondent_group": "staff"})
    with pytest.raises(DataError) as caught:
        read_export(export_entry, PROCESS, "en")
    found = {(p.row, p.column, p.key) for p in caught.value.problems}
    assert found == {(3, trainings, "export_unknown_mark"),
                     (1, f"2) {QUESTION} [Kahvi]", "export_unknown_option_column")}
    message = next(str(p) for p in caught.value.problems if p.row == 3)
    assert message.startswith(f"lime.csv:3:{trainings}: not a mark") and "ehkä" in message
    frame = frame.drop(columns=f"2) {QUESTION} [Kahvi]")
    frame.loc[1, trainings] = "Kyllä"
    frame.to_csv(path, index=False)
    out = read_export(export_entry, PROCESS)
    assert sorted(out.loc[out["respondent_id"].eq("lime-3"), "option"].dropna()) == ["trainings"]


def test_a_single_choice_marked_twice_in_its_option_columns_is_an_error(tmp_path):
    spec = fb.load_survey("lifestyle_guidance")
    question = spec["items"][3]["text"]["fi"]
    frame = pd.DataFrame({f"{question} [Kyllä, kaikkia]": ["1", "0", "1"], f"{question} [Osittain]": ["0", "1", "1"],
                          f"{question} [En]": ["0", "0", "0"]})
    with pytest.raises(DataError) as caught:
        read_export(export(tmp_path, frame, survey="lifestyle_guidance"), spec, "en")
    [problem] = caught.value.problems
    assert (problem.row, problem.column, problem.key) == (4, f"{question} [Osittain]", "export_several_options")
    assert "fully, partly" in problem.message


def test_a_two_row_header_names_question_and_option_in_its_messages(tmp_path):
    path = webropol_two_rows(tmp_path / "webropol.xlsx")
    import openpyxl

    book = openpyxl.load_workbook(path)
    book.active["C4"] = "Ehkä"  # the second respondent: row 4 under a two-row header
    book.active["F2"] = "Kahvi"  # an option that is not in the spec
    book.save(path)
    entry_ = FeedbackExport(path, "process_evaluation", "Vastaukset", {"round": 1, "respondent_group": "staff"},
                            header_rows=2)
    with pytest.raises(DataError) as caught:
        read_export(entry_, PROCESS, "en")
    found = {(p.row, p.column, p.key) for p in caught.value.problems}
    assert found == {(4, "1. Hankkeen tavoitteet ovat selkeät", "export_unknown_label"),
                     (1, f"2. {QUESTION} / Kahvi", "export_unknown_option_column")}
    one_row = FeedbackExport(path, "process_evaluation", "Vastaukset", {"round": 1, "respondent_group": "staff"})
    with pytest.raises(DataError) as caught:  # without header_rows: 2 the options are columns of their own
        read_export(one_row, PROCESS, "en")
    assert (1, "Unnamed: 4", "export_unmatched_column") in {(p.row, p.column, p.key) for p in caught.value.problems}


def coding_project(project_files, coding: pd.DataFrame):
    """The Webropol export (no themes column) as rounds 1 and 2, ids in its 'Vastaaja' column, and ``coding``."""
    data = project_files.root / "data"
    webropol_two_rows(data / "webropol.xlsx", themes=False)
    coding.to_csv(data / "koodaus.csv", sep=";", index=False)
    ids = {"header_rows": 2, "respondent_id": {"column": "Vastaaja"}}
    project_files.params["data"] = {
        "feedback": [entry("data/webropol.xlsx", **ids), entry("data/webropol.xlsx", round=2, **ids)],
        "feedback_coding": "data/koodaus.csv"}
    project_files.params["column_map"] = {"feedback_coding": {"Vastaaja": "respondent_id", "Teemat": "themes"}}
    return project_files.save_params()


def test_coding_table_problems_name_its_file_row_and_header(project_files, capsys):
    coding = pd.DataFrame({"survey_id": "process_evaluation",
                           "item_id": ["successes"] * 6 + ["goals_clear", "successes"],
                           "Vastaaja": [1, 2, 2, 4, 99, 1, 1, 3], "round": [1, 1, 1, 1, 1, None, 1, 2],
                           "Teemat": ["cooperation", "client_work", "client_work", "competence", "other",
                                      "cooperation", "other", "kahvi;competence"]})
    params = coding_project(project_files, coding)
    assert main(["validate", str(params), "--language", "en"]) == 2
    out = capsys.readouterr().err
    assert "Traceback" not in out
    for line in ("koodaus.csv:4:Vastaaja (respondent_id): this answer is coded already on row 3",
                 "koodaus.csv:5:Vastaaja (respondent_id): no open answer to item 'successes' of survey "
                 "'process_evaluation' has this respondent id",  # respondent 4 left it empty
                 "koodaus.csv:6:Vastaaja (respondent_id): no open answer",  # 99: no such respondent
                 "koodaus.csv:7:Vastaaja (respondent_id): this respondent answered item 'successes' in rounds 1, 2",
                 "koodaus.csv:8:item_id: 'goals_clear' is not an open question (type: text) of survey "
                 "'process_evaluation'; its open questions: successes",
                 "koodaus.csv:9:Teemat (themes): unknown theme code for item 'successes'"):
        assert line in out, line
    assert "koodaus.csv:2:" not in out and "koodaus.csv:3:" not in out
    assert out.count("koodaus.csv") == 6


def test_coded_twice_differently_is_an_error_and_an_unknown_survey_is_named(project_files):
    from tyokyky_eval.inputs.params import load_params
    from tyokyky_eval.inputs.validation import validate_project

    project_files.write("feedback", long_table())
    project_files.params["data"] = {"feedback": "data/feedback.csv", "feedback_coding": "data/koodaus.csv"}
    pd.DataFrame({"survey_id": ["process_evaluation", "prosessi", "process_evaluation"],
                  "item_id": "successes", "respondent_id": ["S01", "S01", "S02"],
                  "themes": ["competence", "cooperation", "client_work"]}).to_csv(
        project_files.root / "data" / "koodaus.csv", index=False)
    result = validate_project(load_params(project_files.save_params()), "en")
    found = {(p.row, p.column, p.key) for p in result.errors}
    assert found == {(2, "themes", "coding_conflict"), (3, "survey_id", "unknown_survey")}
    assert "(cooperation)" in next(p.message for p in result.errors if p.key == "coding_conflict")


def test_site_codes_of_the_long_table_are_checked_and_mapped(project_files):
    from tyokyky_eval.inputs.params import load_params
    from tyokyky_eval.inputs.validation import validate_project

    frame = long_table()
    frame["site"] = ["Oulun seutu"] * 3 + ["ii"] * (len(frame) - 3)
    project_files.write("feedback", frame)
    params = project_files.save_params()
    errors = validate_project(load_params(params), "en").errors
    assert {(p.row, p.column, p.key) for p in errors} == {(r, "site", "not_a_code") for r in (2, 3, 4)}
    project_files.params["value_map"] = {"site": {"Oulun seutu": "oulu"}}
    result = validate_project(load_params(project_files.save_params()), "en")
    assert not result.errors and sorted(result.tables["feedback"]["site"].unique()) == ["ii", "oulu"]


def test_export_sites_and_groups_are_mapped_with_value_map(tmp_path):
    frame = pd.DataFrame({"Hankkeen tavoitteet ovat selkeät": ["4", "5"], "Alue": ["Oulun seutu", "Ii"]})
    entry_ = export(tmp_path, frame, site={"column": "Alue"})
    out = read_export(entry_, PROCESS, "en", {"site": {"Oulun seutu": "oulu", "Ii": "ii"}})
    assert out["site"].tolist() == ["oulu", "ii"]


def test_header_rows_is_checked_with_the_parameters(project_files):
    from tyokyky_eval.errors import ParameterError
    from tyokyky_eval.inputs.params import load_params

    project_files.params["data"]["feedback"] = [entry("data/feedback.csv", header_rows=3)]
    with pytest.raises(ParameterError) as caught:
        load_params(project_files.save_params())
    assert "data.feedback[1].header_rows: expected 1 or 2" in "\n".join(caught.value.messages)

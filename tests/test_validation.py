"""Reading and validating input: good exports are read, every kind of bad input is reported as
``file:row:column`` with exit code 2, and nothing is written."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tyokyky_eval.cli import main
from tyokyky_eval.inputs.project import load_project

pytestmark = pytest.mark.filterwarnings("error::FutureWarning")  # validation prints no pandas warnings


def run_validate(capsys, params_path, *extra):
    code = main(["validate", str(params_path), *extra])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


# -- input that must be read correctly ---------------------------------------------------------------

def test_valid_project_passes(project_files, capsys):
    code, text = run_validate(capsys, project_files.save_params())
    assert code == 0, text
    assert "4 tables valid" in text


def test_semicolon_decimal_comma_cp1252_finnish_dates(project_files):
    kyky = project_files.tables["kykyviisari"].copy()
    kyky["measured_on"] = kyky["measured_on"].map(lambda d: f"{d.day}.{d.month}.{d.year}")
    kyky.to_csv(project_files.path("kykyviisari"), sep=";", decimal=",", index=False, encoding="cp1252")
    clients = project_files.tables["clients"].copy()
    clients["service"] = "työkykypalvelu"  # ö must survive cp1252
    project_files.write("clients", clients, sep=";", encoding="cp1252")
    project = load_project(project_files.save_params())
    read = project.tables["kykyviisari"]
    expected = project_files.tables["kykyviisari"]
    np.testing.assert_allclose(read["functioning"].to_numpy(), expected["functioning"].to_numpy())
    assert (read["measured_on"].to_numpy() == expected["measured_on"].to_numpy()).all()
    assert set(project.tables["clients"]["service"]) == {"työkykypalvelu"}


def test_utf8_bom_and_column_and_value_maps(project_files):
    clients = project_files.tables["clients"].rename(columns={"client_id": "Asiakas", "end_reason": "Syy"})
    clients["Syy"] = clients["Syy"].map({"employed": "Työllistyi"}).fillna(clients["Syy"])
    project_files.write("clients", clients, encoding="utf-8-sig")
    project_files.params["column_map"] = {"clients": {"Asiakas": "client_id", "Syy": "end_reason"}}
    project_files.params["value_map"] = {"end_reason": {"Työllistyi": "employed"}}
    project = load_project(project_files.save_params())
    counts = project.tables["clients"]["end_reason"].value_counts()
    assert counts["employed"] == (project_files.tables["clients"]["end_reason"] == "employed").sum()


def test_xlsx_named_sheet(project_files):
    path = project_files.root / "data" / "clients.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"note": ["cover sheet"]}).to_excel(writer, sheet_name="Ohje", index=False)
        project_files.tables["clients"].to_excel(writer, sheet_name="Asiakkaat", index=False)
    project_files.params["data"]["clients"] = {"path": "data/clients.xlsx", "sheet": "Asiakkaat"}
    project = load_project(project_files.save_params())
    got = project.tables["clients"]
    assert len(got) == 20
    assert got["start_date"].tolist() == project_files.tables["clients"]["start_date"].tolist()


def test_parquet_input(project_files):
    path = project_files.root / "data" / "kykyviisari.parquet"
    project_files.tables["kykyviisari"].to_parquet(path)
    project_files.params["data"]["kykyviisari"] = "data/kykyviisari.parquet"
    project = load_project(project_files.save_params())
    assert len(project.tables["kykyviisari"]) == len(project_files.tables["kykyviisari"])


# -- broken input: every case names file, row and column, exits 2 and writes nothing ----------------

def _set(table, row_index, column, value):
    """Set one cell; ``row_index`` is an index or a function of the project files that finds one."""
    def mutate(pf):
        row = row_index(pf) if callable(row_index) else row_index
        frame = pf.tables[table].copy()
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value
        pf.write(table, frame)
    return mutate


def _drop_column(table, column):
    return lambda pf: pf.write(table, pf.tables[table].drop(columns=column))


def _append_copy(table, row_index, **changes):
    def mutate(pf):
        frame = pf.tables[table]
        extra = frame.loc[[row_index]].assign(**changes)
        pf.write(table, pd.concat([frame, extra], ignore_index=True))
    return mutate


def _first(pf, table, condition):
    return int(pf.tables[table].index[condition(pf.tables[table])][0])


def _employed_row(pf):
    return _first(pf, "clients", lambda c: c["end_reason"].eq("employed"))


def _comma_decimal_in_comma_file(pf):
    text = pf.path("kykyviisari").read_text().splitlines()
    fields = text[2].split(",")
    fields[3] = "6,5"  # unquoted decimal comma in a comma-separated file shifts the columns
    text[2] = ",".join(fields)
    pf.path("kykyviisari").write_text("\n".join(text) + "\n")


def _empty_file(pf):
    pf.path("feedback").write_text("")


def _header_only(pf):
    pf.path("clients").write_text(",".join(pf.tables["clients"].columns) + "\n")


def _wrong_sheet(pf):
    path = pf.root / "data" / "clients.xlsx"
    pf.tables["clients"].to_excel(path, sheet_name="Taul1", index=False)
    pf.params["data"]["clients"] = {"path": "data/clients.xlsx", "sheet": "Asiakkaat"}


def _late_job(pf):
    frame = pf.tables["clients"].copy()
    row = frame.index[frame["end_reason"].eq("employed")][0]
    frame.loc[row, "first_employment_date"] = frame.loc[row, "end_date"] + pd.Timedelta(days=200)
    frame.loc[row, "end_date"] = frame.loc[row, "end_date"] - pd.Timedelta(days=200)
    pf.write("clients", frame)
    return row


BROKEN = {
    # id: (mutation, expected 'file:row:column' (row None = derive in test), extra text expected)
    "missing_required_column": (_drop_column("clients", "start_date"), "clients.csv:1:start_date", "missing"),
    "mapped_column_not_in_file": (lambda pf: pf.params.update(column_map={"clients": {"Asiakas": "client_id"}}),
                                  "clients.csv:1:Asiakas", "no such column"),
    "duplicate_client_id": (_set("clients", 3, "client_id", "DEMO-01"), "clients.csv:5:client_id", "duplicate"),
    "score_out_of_range": (_set("kykyviisari", 2, "work_ability", 11), "kykyviisari.csv:4:work_ability", "0–10"),
    "text_in_number_column": (_set("kykyviisari", 0, "mind", "hyvä"), "kykyviisari.csv:2:mind", "number"),
    "impossible_date": (_set("clients", 1, "start_date", "31.2.2022"), "clients.csv:3:start_date", "not a date"),
    "required_value_empty": (_set("clients", 4, "start_date", ""), "clients.csv:6:start_date", "required"),
    "unknown_end_reason_label": (_set("clients", _employed_row, "end_reason", "Työllistyi"), None, "value_map"),
    "end_before_start": (_set("clients", 0, "end_date", "2020-01-01"), "clients.csv:2:end_date", "before the start"),
    "job_before_start": (_set("clients", _employed_row, "first_employment_date", "2020-01-01"), None,
                         "before the service start"),
    "job_long_after_end": (_late_job, None, "after the service end"),
    "employed_without_job_date": (_set("clients", _employed_row, "first_employment_date", ""), None, "employed"),
    "date_after_cutoff": (_set("kykyviisari", 1, "measured_on", "2023-06-01"), "kykyviisari.csv:3:measured_on",
                          "cut-off"),
    "orphan_measurement": (_set("kykyviisari", 0, "client_id", "NOBODY"), "kykyviisari.csv:2:client_id",
                           "does not exist"),
    "measured_long_before_start": (_set("kykyviisari", 0, "measured_on", "2019-01-01"),
                                   "kykyviisari.csv:2:measured_on", "before the service start"),
    "not_a_boolean": (_set("clients", 0, "wage_subsidy", "maybe"), "clients.csv:2:wage_subsidy", "yes or no"),
    "not_an_integer": (_set("clients", 0, "birth_year", "1980.5"), "clients.csv:2:birth_year", "whole number"),
    "fidelity_score_out_of_range": (_set("fidelity", 0, "score", 7), "fidelity.csv:2:score", "1–5"),
    "fidelity_item_out_of_range": (_set("fidelity", 1, "item", 26), "fidelity.csv:3:item", "1–25"),
    "fidelity_score_without_reason": (_set("fidelity", 2, "score", ""), "fidelity.csv:4:score", "na_reason"),
    "fidelity_duplicate_consensus": (_append_copy("fidelity", 60), "fidelity.csv:302:item", "consensus"),
    "unquoted_decimal_comma_in_comma_file": (_comma_decimal_in_comma_file, "kykyviisari.csv:3", "cannot read"),
    "empty_file": (_empty_file, "feedback.csv", "empty"),
    "header_without_rows": (_header_only, "clients.csv:2", "no data rows"),
    "xlsx_wrong_sheet": (_wrong_sheet, "clients.xlsx[Asiakkaat]", "Taul1"),
    "feedback_round_zero": (_set("feedback", 0, "round", 0), "feedback.csv:2:round", "1–"),
    "feedback_response_off_scale": (_set("feedback", 12, "response", 9), "feedback.csv:14:response", "1–5"),
    "feedback_unknown_survey": (_set("feedback", 0, "survey_id", "kysely"), "feedback.csv:2:survey_id",
                                "no survey spec"),
    "feedback_unknown_item": (_set("feedback", 0, "item_id", "q99"), "feedback.csv:2:item_id", "q99"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_input_is_reported_and_nothing_written(case, project_files, capsys, tmp_path):
    mutate, where, text = BROKEN[case]
    if where is None:  # the broken row depends on the generated data: find it first
        row = _employed_row(project_files)
        column = {"unknown_end_reason_label": "end_reason", "job_before_start": "first_employment_date",
                  "job_long_after_end": "first_employment_date",
                  "employed_without_job_date": "first_employment_date"}[case]
        where = f"clients.csv:{row + 2}:{column}"
    mutate(project_files)
    params = project_files.save_params()
    code, output = run_validate(capsys, params)
    assert code == 2, output
    assert where in output, output
    assert text in output, output
    assert "Traceback" not in output
    out_dir = tmp_path / "out"
    assert main(["run", str(params), "--output", str(out_dir)]) == 2
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_all_problems_are_collected_not_only_the_first(project_files, capsys):
    _set("clients", 0, "birth_year", "x")(project_files)
    _set("kykyviisari", 0, "work_ability", 12)(project_files)
    _set("fidelity", 0, "score", 9)(project_files)
    code, text = run_validate(capsys, project_files.save_params())
    assert code == 2
    for where in ("clients.csv:2:birth_year", "kykyviisari.csv:2:work_ability", "fidelity.csv:2:score"):
        assert where in text


def test_messages_in_finnish(project_files, capsys):
    _set("clients", 0, "end_date", "2020-01-01")(project_files)
    code, text = run_validate(capsys, project_files.save_params(), "--language", "fi")
    assert code == 2
    assert "clients.csv:2:end_date: päättymispäivä on ennen aloituspäivää" in text


def test_duplicate_measurement_is_a_warning(project_files, capsys):
    _append_copy("kykyviisari", 0)(project_files)
    code, text = run_validate(capsys, project_files.save_params())
    assert code == 0
    rows = len(project_files.tables["kykyviisari"]) + 2
    assert f"kykyviisari.csv:{rows}:measured_on" in text


def test_employment_grace_is_a_parameter(project_files):
    _late_job(project_files)
    project_files.params["validation"] = {"employment_after_end_days": 400}
    project = load_project(project_files.save_params())
    assert len(project.tables["clients"]) == 20


# -- parameters ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("change, expected", [
    ({"cutof_date": "2022-12-31"}, "unknown key 'cutof_date' (did you mean 'cutoff_date'?)"),
    ({"cutoff_date": "31.13.2022"}, "cutoff_date: '31.13.2022' is not a date"),
    ({"language": "sv"}, "language: 'sv' is not supported"),
    ({"data": {"clients": "data/nothere.csv"}}, "data.clients: file not found"),
    ({"data": {"client": "data/clients.csv"}}, "unknown table 'client' (did you mean 'clients'?)"),
    ({"column_map": {"clients": {"Asiakas": "clientid"}}}, "(did you mean 'client_id'?)"),
    ({"disclosure": {"min_cel": 3}}, "disclosure: unknown key 'min_cel' (did you mean 'min_cell'?)"),
    ({"analyses": {"fidelty": {}}}, "analyses: unknown key 'fidelty' (did you mean 'fidelity'?)"),
    ({"value_map": {"endreason": {"x": "y"}}}, "(did you mean 'end_reason'?)"),
    ({"project_id": "Bad Id!"}, "project_id: 'Bad Id!' may contain only"),
    ({"synthetic": {"seeed": 1}}, "synthetic: unknown key 'seeed' (did you mean 'seed'?)"),
])
def test_bad_parameters(project_files, capsys, change, expected):
    project_files.params.update(change)
    code, text = run_validate(capsys, project_files.save_params())
    assert code == 2
    assert expected in text, text
    assert "Traceback" not in text


def test_missing_parameters_file(capsys, tmp_path):
    code, text = run_validate(capsys, tmp_path / "nope.yaml")
    assert code == 2 and "parameters file not found" in text


def test_cutoff_accepts_finnish_date(project_files):
    project_files.params["cutoff_date"] = "31.12.2022"
    assert load_project(project_files.save_params()).params.cutoff_date == dt.date(2022, 12, 31)


def test_parquet_tables_with_types_and_missing_values_equal_the_csv_route(project_files):
    """All four tables as typed Parquet (dates, nullable integers and booleans, floats) with missing
    values in every kind of column validate to the same tables as the same data in CSV files."""
    tables = {name: frame.copy() for name, frame in project_files.tables.items()}
    clients, kyky, fidelity, feedback = (tables[n] for n in ("clients", "kykyviisari", "fidelity", "feedback"))
    clients["birth_year"] = clients["birth_year"].astype("Int64")
    clients.loc[[2, 5], "birth_year"] = pd.NA
    clients.loc[4, "gender"] = None
    clients.loc[6, "job_coach_id"] = None
    kyky.loc[[1, 3], "mind"] = np.nan
    fidelity["review_date"] = pd.to_datetime(fidelity["review_date"])
    feedback["round"] = feedback["round"].astype("Int64")
    feedback["response"] = feedback["response"].astype("Int64")
    feedback.loc[0, "response"] = pd.NA
    feedback.loc[[1, 2], "respondent_id"] = None
    missing = {(n, c) for n, f in tables.items() for c in f.columns if f[c].isna().any()}
    assert {("clients", "end_date"), ("clients", "wage_subsidy"), ("clients", "birth_year"), ("kykyviisari", "mind"),
            ("fidelity", "score"), ("fidelity", "na_reason"), ("feedback", "response")} <= missing
    for name, frame in tables.items():
        project_files.write(name, frame)
    csv_project = load_project(project_files.save_params())
    for name, frame in tables.items():
        frame.to_parquet(project_files.root / "data" / f"{name}.parquet", index=False)
        project_files.params["data"][name] = f"data/{name}.parquet"
    parquet_project = load_project(project_files.save_params())
    assert sorted(parquet_project.tables) == ["clients", "feedback", "fidelity", "kykyviisari"]
    for name, frame in csv_project.tables.items():
        pd.testing.assert_frame_equal(parquet_project.tables[name], frame, obj=name)

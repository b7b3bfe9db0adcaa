"""A corpus of bad and edge-case inputs as a new user makes them (issue 16), one generated case per
kind: each asserts the exit code, the message (file:row:column where there is one) and that
nothing was written. No binary blobs: every file is generated here."""
from __future__ import annotations

import errno
import os
import unicodedata
from pathlib import Path

import pytest
import yaml
from test_degenerate import change_clients, everybody_employed_on_day_50

from tyokyky_eval.cli import main
from tyokyky_eval.i18n import t
from tyokyky_eval.inputs.project import load_project
from tyokyky_eval.run import runner

pytestmark = pytest.mark.filterwarnings("error::FutureWarning")  # validation prints no pandas warnings


def cli(capsys, *args):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def check(capsys, pf, expected_code, *expected, run=True):
    """validate exits ``expected_code`` and prints every ``expected``; run exits the same (for an
    error) and writes nothing."""
    params = pf.save_params()
    code, text = cli(capsys, "validate", params)
    assert code == expected_code, text
    for part in expected:
        assert part in text, text
    assert "Traceback" not in text
    if run and expected_code == 2:
        out = pf.root / "out"
        code, run_text = cli(capsys, "run", params, "--output", out, "--quiet", "--no-pdf")
        assert code == 2, run_text
        assert "Traceback" not in run_text
        assert not out.exists()
    return text


def write_yaml(path: Path, data) -> str:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path.name


def set_cell(pf, table, row, column, value, **to_csv):
    frame = pf.tables[table].copy()
    frame[column] = frame[column].astype(object)
    frame.loc[row, column] = value
    pf.write(table, frame, **to_csv)


# -- parameters files ---------------------------------------------------------------------------------

def test_parameters_in_latin1(project_files, capsys):
    params = project_files.save_params()
    params.write_bytes(params.read_text(encoding="utf-8").replace("Test project", "Työkyky").encode("latin-1"))
    code, text = cli(capsys, "validate", params)
    assert code == 2 and "params.yaml:" in text and "is not UTF-8" in text and "save it as UTF-8" in text


def test_parameters_in_utf16(project_files, capsys):
    params = project_files.save_params()
    params.write_bytes(params.read_text(encoding="utf-8").encode("utf-16"))
    code, text = cli(capsys, "validate", params)
    assert code == 2 and "saved as UTF-16; save it as UTF-8" in text


def test_duplicate_yaml_key(project_files, capsys):
    params = project_files.save_params()
    params.write_text(params.read_text(encoding="utf-8") + "title: Second title\n", encoding="utf-8")
    code, text = cli(capsys, "validate", params)
    assert code == 2 and "duplicate key 'title' (first on line" in text


def test_yaml_alias_bomb_is_refused_quickly(project_files, capsys):
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    params = project_files.save_params()
    text = params.read_text(encoding="utf-8").replace("title: Test project\n", "")
    params.write_text("\n".join(lines) + "\ntitle: *a9\n" + text, encoding="utf-8")
    code, out = cli(capsys, "validate", params)
    assert code == 2 and "params.yaml:1: the parameters file is not valid YAML: the aliases (*name) expand to more " \
                         "than 100,000 values" in out


def test_huge_parameters_file(project_files, capsys):
    params = project_files.save_params()
    params.write_text(params.read_text(encoding="utf-8") + "description: '" + "x" * (2 << 20) + "'\n")
    code, text = cli(capsys, "validate", params)
    assert code == 2 and "at most 1,048,576 are accepted" in text and len(text) < 2000


def test_project_id_read_as_octal_number(project_files, capsys):
    params = project_files.save_params()
    params.write_text(params.read_text(encoding="utf-8").replace("project_id: broken-test", "project_id: 0123"))
    code, text = cli(capsys, "validate", params)
    assert code == 2 and "project_id: 0123 is read as a whole number 83" in text and 'project_id: "0123"' in text


@pytest.mark.parametrize("value", [0, -3, True, "5", 4.5, "five", 2])
def test_min_cell_must_be_a_whole_number_of_at_least_3(project_files, capsys, value):
    project_files.params["disclosure"] = {"min_cell": value}
    check(capsys, project_files, 2, "disclosure: min_cell must be a whole number of at least 3", run=False)


def test_min_followup_below_min_cell(project_files, capsys):
    project_files.params["disclosure"] = {"min_cell": 6, "min_followup": 5}
    check(capsys, project_files, 2, "min_followup must be a whole number of at least min_cell (6", run=False)


def test_unknown_instrument(project_files, capsys):
    project_files.params["instruments"] = {"fidelity": "ips26"}
    check(capsys, project_files, 2, "instruments.fidelity: no built-in instrument 'ips26' (did you mean 'ips25'?)")


def test_broken_instrument_spec(project_files, capsys):
    (project_files.root / "my-ips.yaml").write_text("title: {fi: Oma, en: Own}\nitems: 3\n", encoding="utf-8")
    project_files.params["instruments"] = {"fidelity": "my-ips.yaml"}
    check(capsys, project_files, 2, "instruments.fidelity: instrument ", "my-ips.yaml: missing key 'bands'")


def test_instrument_spec_that_is_not_yaml(project_files, capsys):
    (project_files.root / "kv.yaml").write_text("measures: [unclosed\n", encoding="utf-8")
    project_files.params["instruments"] = {"kykyviisari": "kv.yaml"}
    check(capsys, project_files, 2, "instruments.kykyviisari: kv.yaml:", "not valid YAML")


def _survey_spec(pf, text):
    (pf.root / "survey.yaml").write_text(text, encoding="utf-8")
    pf.params["analyses"] = {"feedback": {"surveys": {"client_experience": "survey.yaml"}}}


def test_survey_spec_is_a_list(project_files, capsys):
    _survey_spec(project_files, "- id: q1\n- id: q2\n")
    check(capsys, project_files, 2, "analyses.feedback.surveys.client_experience: survey.yaml: a survey spec must be a "
                                    "mapping")


def test_survey_spec_invalid_yaml(project_files, capsys):
    _survey_spec(project_files, "title: {fi: a, en: b\nitems: [\n")
    check(capsys, project_files, 2, "analyses.feedback.surveys.client_experience: survey.yaml:", "not valid YAML")


def test_survey_spec_without_title(project_files, capsys):
    _survey_spec(project_files, "id: x\nscales: {s: {type: agreement, min: 1, max: 5}}\n"
                                "items: [{id: q1, scale: s, text: {fi: a, en: b}}]\n")
    check(capsys, project_files, 2, "survey.yaml: the survey spec needs 'title: {fi: …, en: …}'")


def test_missing_custom_survey_spec_reported_once(project_files, capsys):
    project_files.params["analyses"] = {"feedback": {"surveys": {"client_experience": "nothere.yaml"}}}
    text = check(capsys, project_files, 2, "analyses.feedback.surveys.client_experience: file not found")
    assert text.count("nothere.yaml") == 1


def test_unknown_survey_in_data_reported_once(project_files, capsys):
    frame = project_files.tables["feedback"].copy()
    frame["survey_id"] = "kysely"
    project_files.write("feedback", frame)
    text = check(capsys, project_files, 2, "feedback.csv:2:survey_id: no survey spec for survey_id 'kysely'")
    assert text.count("no survey spec") == 1


@pytest.mark.parametrize("key, value, expected", [
    ("group", "referal_source", "analyses.survival.group: 'referal_source' is not a column of the clients table "
                                "(did you mean 'referral_source'?)"),
    ("covariates", ["age"], "analyses.survival.covariates: 'age' is not a covariate (did you mean 'age_at_start'?)"),
    ("covariates", ["baseline_work_abilty"], "(did you mean 'baseline_work_ability'?)"),
])
def test_unknown_survival_group_or_covariate(project_files, capsys, key, value, expected):
    project_files.params["analyses"] = {"survival": {key: value}}
    check(capsys, project_files, 2, expected)


def test_unknown_prepost_subgroup(project_files, capsys):
    project_files.params["analyses"] = {"prepost": {"subgroup": "gendr"}}
    # prepost.Options itself still refuses anything but a canonical column (see the report of issue 16)
    check(capsys, project_files, 2, "analyses.prepost", "subgroup: 'gendr' is not a", "gender")


def test_pathways_service_no_client_has(project_files, capsys):
    service = project_files.tables["clients"]["service"].iloc[0]
    project_files.params["analyses"] = {"pathways": {"services": [service + "x"]}}
    check(capsys, project_files, 2, f"no client has the service '{service}x' (did you mean '{service}'?)")


def test_data_path_is_a_symlink_loop(project_files, capsys):
    loop = project_files.root / "data" / "loop.csv"
    os.symlink(loop, loop)
    project_files.params["data"]["clients"] = "data/loop.csv"
    check(capsys, project_files, 2, "data.clients: cannot follow the path")


def test_data_path_is_a_folder(project_files, capsys):
    project_files.params["data"]["clients"] = "data"
    check(capsys, project_files, 2, "is a folder; name a file in it")


# -- input files --------------------------------------------------------------------------------------

def test_corrupt_parquet(project_files, capsys):
    path = project_files.root / "data" / "clients.parquet"
    project_files.tables["clients"].to_parquet(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    project_files.params["data"]["clients"] = "data/clients.parquet"
    check(capsys, project_files, 2, "clients.parquet: cannot read the Parquet file")


def test_csv_named_parquet_is_read_as_text_with_a_warning(project_files, capsys):
    (project_files.root / "data" / "clients.parquet").write_bytes(project_files.path("clients").read_bytes())
    project_files.params["data"]["clients"] = "data/clients.parquet"
    check(capsys, project_files, 0, "clients.parquet: the file is named 'clients.parquet' but is a text (CSV) file")


def test_xlsx_named_csv_is_read_as_excel_with_a_warning(project_files, capsys):
    path = project_files.root / "data" / "clients.xlsx"
    project_files.tables["clients"].to_excel(path, index=False)
    path.rename(project_files.path("clients"))
    check(capsys, project_files, 0, "clients.csv: the file is named 'clients.csv' but is an Excel workbook")


def test_utf16_csv_is_read(project_files, capsys):
    project_files.write("clients", project_files.tables["clients"], encoding="utf-16", sep="\t")
    check(capsys, project_files, 0, "4 tables valid")


def test_classic_mac_csv_is_read_with_its_rows(project_files, capsys):
    """Excel for Mac's "CSV (Macintosh)": CR alone ends each line, the text is Mac Roman."""
    frame = project_files.tables["kykyviisari"].rename(columns={"work_ability": "Työkyky"})
    frame["Työkyky"] = frame["Työkyky"].astype(object)
    frame.loc[1, "Työkyky"] = "11"
    project_files.write("kykyviisari", frame, sep=";", lineterminator="\r", encoding="mac_roman")
    assert b"\n" not in project_files.path("kykyviisari").read_bytes()
    project_files.params["column_map"] = {"kykyviisari": {"Työkyky": "work_ability"}}
    text = check(capsys, project_files, 2, "kykyviisari.csv:3:Työkyky (work_ability): outside the allowed range "
                                           "0–10 ['11']", "1 problems in the input data")
    assert text.count("kykyviisari.csv") == 1


@pytest.mark.parametrize("suffix, content, expected", [
    (".xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "Excel 97–2003 (.xls) workbook; open it in Excel "
                                                               "and save it as .xlsx"),
    (".xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100 + "EncryptedPackage".encode("utf-16-le"),
     "the workbook is password-protected"),
    (".json", b'[{"client_id": "A-1"}]', "a JSON file; export the table as CSV or .xlsx"),
])
def test_formats_that_cannot_be_read(project_files, capsys, suffix, content, expected):
    (project_files.root / "data" / f"clients{suffix}").write_bytes(content)
    project_files.params["data"]["clients"] = f"data/clients{suffix}"
    check(capsys, project_files, 2, f"clients{suffix}: the ", expected)


def test_huge_sparse_file(project_files, capsys):
    path = project_files.root / "data" / "huge.csv"
    with path.open("wb") as handle:
        handle.truncate(5 << 30)  # sparse: no disk space used
    project_files.params["data"]["clients"] = "data/huge.csv"
    check(capsys, project_files, 2, "huge.csv: the file is 5.0 GiB; at most 4 GiB can be read")


def test_binary_file_of_nul_bytes(project_files, capsys):
    path = project_files.path("clients")
    with path.open("wb") as handle:
        handle.truncate(1 << 20)
    check(capsys, project_files, 2, "clients.csv: the file is binary data, not text")


def _xlsx(pf, edit):
    import openpyxl

    path = pf.root / "data" / "clients.xlsx"
    pf.tables["clients"].to_excel(path, index=False, sheet_name="Asiakkaat")
    book = openpyxl.load_workbook(path)
    edit(book["Asiakkaat"])
    book.save(path)
    pf.params["data"]["clients"] = {"path": "data/clients.xlsx", "sheet": "Asiakkaat"}


def test_xlsx_formulas_without_saved_values(project_files, capsys):
    def formulas(sheet):
        column = [c.value for c in sheet[1]].index("birth_year") + 1
        for row in range(2, sheet.max_row + 1):
            sheet.cell(row, column).value = f"=1900+{row}"
    _xlsx(project_files, formulas)
    check(capsys, project_files, 2, "clients.xlsx[Asiakkaat]:2:birth_year: a formula without a saved result "
                                    "(and 19 more rows below)")


def test_xlsx_merged_cells(project_files, capsys):
    def merge(sheet):
        column = [c.value for c in sheet[1]].index("referral_source") + 1
        letter = sheet.cell(1, column).column_letter
        sheet.merge_cells(f"{letter}3:{letter}6")
    _xlsx(project_files, merge)
    check(capsys, project_files, 2, "clients.xlsx[Asiakkaat]:3:referral_source: merged cells")


def test_xlsx_formula_error_values(project_files, capsys):
    errors = ["#DIV/0!", "#N/A", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!"]

    def fill(sheet):
        column = [c.value for c in sheet[1]].index("birth_year") + 1
        sheet.cell(1, column).value = "Syntymävuosi"
        for row, error in enumerate(errors, 2):
            sheet.cell(row, column).value = error  # an error cell (data_type 'e'), as Excel saves a failed formula
    _xlsx(project_files, fill)
    project_files.params["column_map"] = {"clients": {"Syntymävuosi": "birth_year"}}
    check(capsys, project_files, 2, *(f"clients.xlsx[Asiakkaat]:{row}:Syntymävuosi (birth_year): the spreadsheet shows "
                                      f"a formula error here instead of a value; correct the formula or type the value "
                                      f"['{error}']" for row, error in enumerate(errors, 2)), "7 problems in the input data")


def test_duplicate_header(project_files, capsys):
    text = project_files.path("clients").read_text(encoding="utf-8").splitlines()
    text[0] = text[0].replace("gender", "service")
    project_files.path("clients").write_text("\n".join(text) + "\n", encoding="utf-8")
    check(capsys, project_files, 2, "clients.csv:1:service: the column header appears twice (columns 2 and 11)")


def test_mixed_separators(project_files, capsys):
    lines = project_files.path("kykyviisari").read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",", ";")
    project_files.path("kykyviisari").write_text("\n".join(lines) + "\n", encoding="utf-8")
    check(capsys, project_files, 2, "kykyviisari.csv:4: this row is separated by ';', the header by ','")


def test_excel_error_value(project_files, capsys):
    set_cell(project_files, "kykyviisari", 2, "mind", "#DIV/0!")
    text = check(capsys, project_files, 2, "kykyviisari.csv:4:mind: the spreadsheet shows a formula error")
    assert text.count("kykyviisari.csv:4:mind") == 1


def test_nan_as_a_score(project_files, capsys):
    set_cell(project_files, "kykyviisari", 1, "work_ability", "NaN")
    check(capsys, project_files, 2, "kykyviisari.csv:3:work_ability: expected a number ['NaN']")


def test_cyrillic_lookalike_in_client_id(project_files, capsys):
    set_cell(project_files, "clients", 1, "client_id", "D\u0415MO-01")
    check(capsys, project_files, 2, "clients.csv:3:client_id: the letter 'Е' at position 2 is U+0415 CYRILLIC "
                                    "CAPITAL LETTER IE, which looks like the Latin 'E'")


def test_invisible_bom_in_a_code(project_files, capsys):
    service = project_files.tables["clients"]["service"].iloc[0]
    set_cell(project_files, "clients", 0, "service", "\ufeff" + service)
    check(capsys, project_files, 2, "clients.csv:2:service: contains the invisible character U+FEFF")


def test_nul_byte_in_a_code(project_files, capsys):
    set_cell(project_files, "clients", 0, "client_id", "DEMO\x00-01")
    check(capsys, project_files, 2, "clients.csv:2: the file contains NUL bytes")


def test_decomposed_unicode_matches_value_map(project_files, capsys):
    frame = project_files.tables["clients"].copy()
    employed = frame["end_reason"].eq("employed")
    frame.loc[employed, "end_reason"] = unicodedata.normalize("NFD", "Työllistyi")
    project_files.write("clients", frame)
    project_files.params["value_map"] = {"end_reason": {"Työllistyi": "employed"}}
    check(capsys, project_files, 0, "4 tables valid")


def test_nested_parquet_column(project_files, capsys):
    frame = project_files.tables["clients"].copy()
    frame["service"] = [[s] for s in frame["service"]]
    frame.to_parquet(project_files.root / "data" / "clients.parquet")
    project_files.params["data"]["clients"] = "data/clients.parquet"
    check(capsys, project_files, 2, "clients.parquet:1:service: the column holds nested values")


def test_long_value_is_shortened(project_files, capsys):
    set_cell(project_files, "kykyviisari", 0, "mind", "x" * 5_000_000)
    text = check(capsys, project_files, 2, "(5,000,000 characters)", run=False)
    assert len(text) < 5000


def test_invalid_date_reported_once(project_files, capsys):
    set_cell(project_files, "clients", 1, "start_date", "31.2.2022")
    text = check(capsys, project_files, 2, "clients.csv:3:start_date: not a date")
    assert text.count("clients.csv:3:start_date") == 1


def test_message_names_the_users_header_and_value_as_written(project_files, capsys):
    frame = project_files.tables["kykyviisari"].rename(columns={"work_ability": "Työkyky"})
    frame["Työkyky"] = frame["Työkyky"].astype(object)
    frame.loc[1, "Työkyky"] = "11"
    project_files.write("kykyviisari", frame, sep=";")
    project_files.params["column_map"] = {"kykyviisari": {"Työkyky": "work_ability"}}
    check(capsys, project_files, 2, "kykyviisari.csv:3:Työkyky (work_ability): outside the allowed range 0–10 ['11']")


def test_missing_column_names_the_separator_read(project_files, capsys):
    frame = project_files.tables["clients"]
    project_files.path("clients").write_text(frame.to_csv(index=False, sep="|"), encoding="utf-8")
    check(capsys, project_files, 2, "clients.csv:1:client_id: required column 'client_id' is missing",
          "(read as UTF-8, separator")


# -- extra client columns as typed covariates (issue 11) ----------------------------------------------

def test_extra_numeric_column_is_numeric_and_a_covariate(project_files, capsys):
    frame = project_files.tables["clients"].copy()
    frame["age"] = [f"{40 + i % 20},5" for i in range(len(frame))]  # decimal comma
    frame["paid"] = ["kyllä" if i % 2 else "ei" for i in range(len(frame))]
    frame["notes_code"] = ["A1" if i % 2 else "B" for i in range(len(frame))]
    project_files.write("clients", frame, sep=";")
    project_files.params["column_types"] = {"clients": {"paid": {"type": "boolean"}}}
    project_files.params["analyses"] = {"survival": {"covariates": ["age", "paid"]}}
    check(capsys, project_files, 0, "4 tables valid")
    clients = load_project(project_files.save_params()).tables["clients"]
    assert clients["age"].dtype == "float64" and clients["age"].iloc[0] == 40.5
    assert str(clients["paid"].dtype) == "boolean" and clients["notes_code"].dtype == object


def test_declared_number_column_with_text_is_an_error(project_files, capsys):
    frame = project_files.tables["clients"].copy()
    frame["years_unemployed"] = ["3"] * (len(frame) - 1) + ["many"]
    project_files.write("clients", frame)
    project_files.params["column_types"] = {"clients": {"years_unemployed": {"type": "integer", "unit": "years"}}}
    check(capsys, project_files, 2, f"clients.csv:{len(frame) + 1}:years_unemployed: expected a whole number ['many']")


def test_column_types_with_unknown_type(project_files, capsys):
    project_files.params["column_types"] = {"clients": {"x": {"type": "numbr"}}}
    check(capsys, project_files, 2, "column_types.clients.x: type 'numbr' is not one of number, integer, boolean, "
                                    "string (did you mean 'number'?)", run=False)


# -- valid data on which a model is undefined ------------------------------------------------------------

@pytest.mark.slow
def test_everybody_employed_on_the_same_day_runs(project_files, capsys):
    """Every job on day 50: no Cox model, PH test, log-rank test or median CI can be estimated; the
    run finishes and says why (the section's tables and texts: test_degenerate.py)."""
    change_clients(project_files, everybody_employed_on_day_50)
    project_files.params["analyses"] = {"survival": {"group": "referral_source", "covariates": ["age_at_start"]}}
    check(capsys, project_files, 0, "4 tables valid")
    out = project_files.root / "out"
    code, text = cli(capsys, "run", project_files.save_params(), "--output", out, "--quiet", "--no-pdf",
                     "--language", "en")
    assert code == 0 and "Traceback" not in text, text
    html = (out / "broken-test" / "appendix.html").read_text(encoding="utf-8")
    assert t("survival.text.cox_tied_events", "en", covariates="age_at_start") in html
    assert t("survival.text.median_no_ci", "en", days="50") in html


# -- the output folder --------------------------------------------------------------------------------

def test_output_path_is_a_file(project_files, capsys):
    target = project_files.root / "out.txt"
    target.write_text("not a folder")
    code, text = cli(capsys, "run", project_files.save_params(), "--output", target, "--quiet", "--no-pdf")
    assert code == 1 and "is a file, not a folder" in text and "Traceback" not in text
    assert target.read_text() == "not a folder"


def test_existing_folder_that_is_not_an_appendix_is_kept(project_files, capsys):
    out = project_files.root / "out"
    (out / "broken-test").mkdir(parents=True)
    (out / "broken-test" / "notes.txt").write_text("my notes")
    code, text = cli(capsys, "run", project_files.save_params(), "--output", out, "--quiet", "--no-pdf")
    assert code == 1 and "is not an appendix that tyokyky-eval wrote for project broken-test" in text
    assert sorted(p.name for p in out.rglob("*")) == ["broken-test", "notes.txt"]


def test_output_folder_holding_the_input_data_is_kept(project_files, capsys):
    project_files.params["project_id"] = "data"
    code, text = cli(capsys, "run", project_files.save_params(), "--output", project_files.root, "--quiet", "--no-pdf")
    assert code == 1 and "holds the input file" in text
    assert project_files.path("clients").is_file()


def test_appendix_folder_with_a_foreign_file_is_kept(project_files, capsys):
    out = project_files.root / "out" / "broken-test"
    out.mkdir(parents=True)
    (out / "provenance.json").write_text('{"project_id": "broken-test", "package": {"name": "tyokyky-eval"}}')
    (out / "notes.txt").write_text("my notes")
    code, text = cli(capsys, "run", project_files.save_params(), "--output", out.parent, "--quiet", "--no-pdf")
    assert code == 1 and "holds files that a run did not write (notes.txt)" in text
    assert (out / "notes.txt").read_text() == "my notes"


@pytest.mark.parametrize("number, expected", [(errno.ENOSPC, "free some disk space"),
                                              (errno.EROFS, "the folder is read-only")])
def test_disk_full_or_read_only(project_files, capsys, monkeypatch, number, expected):
    def fail(*args, **kwargs):
        raise OSError(number, os.strerror(number), str(project_files.root / "out" / "x"))

    monkeypatch.setattr(runner, "_write_appendix", fail)
    out = project_files.root / "out"
    code, text = cli(capsys, "run", project_files.save_params(), "--output", out, "--quiet", "--no-pdf")
    assert code == 1 and expected in text and os.strerror(number) in text and "Traceback" not in text
    assert list(out.iterdir()) == []


def test_stale_work_folders_are_swept(tmp_path):
    output = tmp_path / "out"
    stale = output / ".demo-abcd1234"
    stale.mkdir(parents=True)
    (stale / "clients.parquet").write_bytes(b"PAR1")
    other = output / ".other-abcd1234"
    other.mkdir()
    removed = runner.sweep_stale(output, "demo")
    assert stale in removed and not stale.exists() and other.exists()


def test_runs_of_one_project_are_serialised(tmp_path):
    import threading
    import time

    order = []

    def hold(name):
        with runner.project_lock(tmp_path, "demo"):
            order.append(f"{name} in")
            time.sleep(0.3)
            order.append(f"{name} out")

    threads = [threading.Thread(target=hold, args=(n,)) for n in "ab"]
    for thread in threads:
        thread.start()
        time.sleep(0.05)
    for thread in threads:
        thread.join()
    assert order in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])
    assert list(tmp_path.iterdir()) == []  # the lock file is not among the outputs


def test_bad_timeout_value(project_files, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", str(project_files.save_params()), "--timeout", "soon"])
    assert exit_.value.code == 2
    assert "expected a number of seconds > 0, got 'soon'" in capsys.readouterr().err


def test_baseline_covariate_without_kykyviisari_is_a_warning(project_files, capsys):
    del project_files.params["data"]["kykyviisari"]
    project_files.params["analyses"] = {"survival": {"covariates": ["baseline_work_ability"]}}
    check(capsys, project_files, 0, "params.yaml: analyses.survival.covariates: 'baseline_work_ability' needs "
                                    "kykyviisari, which the project does not have; the Cox model will be left out")

"""Attacks on a published appendix (issue 12), as someone who has only the published outputs.

- Identifiers where codes belong (a name, a personal identity code) are refused at validation.
- Free text in ``na_reason`` (a name and a henkilötunnus) is found in no published file (HTML, PDF
  text, ``tables/``, ``executed/``, ``provenance.json``), only in ``tables-internal/``; the data file's
  name and the user's paths are found in no published file either.
- Injection payloads in the title, description and a survey title neither run nor load anything
  (checked in Chromium's DOM, with and without the page's Content-Security-Policy, and with a
  loopback HTTP server that counts requests while the PDF is printed).
- No text cell of a CSV starts a spreadsheet formula.

Every check must find nothing. The end-to-end run takes a minute or two (``slow``); browser parts are
skipped without Chromium, PDF text without ``pdftotext`` (poppler-utils).
"""
from __future__ import annotations

import csv
import http.server
import re
import shutil
import subprocess
import threading
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import yaml
from test_runner import demo_project

from tyokyky_eval import publication
from tyokyky_eval.cli import main
from tyokyky_eval.inputs.identifiers import hetu_is_valid, is_code, looks_like_hetu
from tyokyky_eval.inputs.params import load_params
from tyokyky_eval.inputs.validation import validate_project
from tyokyky_eval.publication import (
    escape_markdown,
    neutralise_formulas,
    safe_markdown_html,
)
from tyokyky_eval.render.pdf import chromium_command, find_chromium
from tyokyky_eval.resources import resource_dir

NAME, HETU = "Matti Meikäläinen", "131052-308T"
FREE_TEXT = f"{NAME} {HETU} ei halunnut psykiatrista hoitoa"
FILE_NAME = "asiakkaat_matti_meikalainen.csv"
WARNED_FILE = "mittaukset_maija_mehilainen.csv"  # a file with a validation warning (data-quality table)
FORMULA_PREFIX = ("=", "+", "-", "@", "\t", "\r")


# -- validation refuses identifiers in code columns ----------------------------------------------
@pytest.mark.parametrize("table, column, value", [
    ("fidelity", "site_id", NAME), ("fidelity", "rater", HETU), ("fidelity", "site_id", "131052A308T"),
    ("clients", "service", NAME), ("clients", "job_coach_id", "Maija Mehiläinen"),
    ("clients", "client_id", "010199Y1234"), ("feedback", "respondent_group", NAME),
    ("feedback", "item_id", "=HYPERLINK(\"http://x\")"), ("feedback", "survey_id", "x" * 41),
])
def test_validation_refuses_names_and_identity_codes_in_code_columns(project_files, table, column, value):
    frame = project_files.tables[table].copy()
    frame[column] = frame[column].astype(object)
    frame.loc[frame.index[3], column] = value
    project_files.write(table, frame)
    problems = validate_project(load_params(project_files.save_params())).errors
    located = [p for p in problems if p.file == f"{table}.csv" and p.row == 5 and p.column == column]
    assert located, [str(p) for p in problems]
    kind = "identity_code" if looks_like_hetu(value) else "not_a_code"
    assert {p.key for p in located} >= {kind}
    text = " ".join(str(p) for p in problems)
    assert NAME not in text and HETU not in text  # the identifier is not echoed back
    assert str(located[0]).startswith(f"{table}.csv:5:{column}: ")


def test_validation_messages_in_finnish(project_files):
    frame = project_files.tables["fidelity"].copy()
    frame.loc[frame.index[0], "site_id"] = NAME
    project_files.write("fidelity", frame)
    problems = validate_project(load_params(project_files.save_params()), "fi").errors
    assert any("ei ole koodi" in p.message for p in problems)


def test_value_map_label_with_markup_is_refused(project_files):
    project_files.params["value_map"] = {"service": {"ips": "<img src=x onerror=alert(1)>"}}
    problems = validate_project(load_params(project_files.save_params())).errors
    assert problems and all(p.column == "service" and p.key == "not_a_code" for p in problems)


def test_free_text_reason_passes_validation(project_files):
    frame = project_files.tables["fidelity"].copy()
    frame.loc[frame["score"].isna(), "na_reason"] = FREE_TEXT
    project_files.write("fidelity", frame)
    assert validate_project(load_params(project_files.save_params())).errors == []


def test_identity_code_shapes():
    for code in ("131052-308T", "131052A308T", "010101Y123N", "311299+1234", "010120B987X"):
        assert looks_like_hetu(code) and looks_like_hetu(f"nimi {code}.")
    assert hetu_is_valid("131052-308T") and not hetu_is_valid("131052-308A")
    for fine in ("COACH-1", "site_2", "2022-05-01", "ips", "20221231", "Ylivieska"):
        assert not looks_like_hetu(fine) and is_code(fine)
    assert not is_code(NAME) and not is_code("-2+3+cmd|' /C calc'!A0") and is_code(3)


# -- units of the publication layer -------------------------------------------------------------
def test_formulas_are_neutralised_numbers_stay_numbers():
    frame = pd.DataFrame({"text": ["=HYPERLINK(\"http://x\",\"y\")", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)",
                                   "+1+1", "\tx", "\rx", "-2", "<5", "ok", None],
                          "n": [1, -2, 3, 4, 5, 6, 7, 8, 9, 10], "x": [-1.5] * 10})
    out = neutralise_formulas(frame)
    assert out["text"].tolist()[:6] == ["'" + v for v in frame["text"][:6]]
    assert out["text"].tolist()[6:9] == ["-2", "<5", "ok"] and out["text"].iloc[9] is None
    assert out["n"].tolist() == frame["n"].tolist() and out["x"].dtype == float


@pytest.mark.parametrize("payload", ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
                                     "[x](javascript:alert(1))", "![i](http://127.0.0.1:1/x.png)",
                                     "<iframe src=http://127.0.0.1:1/></iframe>", "<http://127.0.0.1:1/>"])
def test_escaped_markdown_renders_as_text(payload):
    for text in (escape_markdown(payload), publication.neutralise_markdown(payload)):
        rendered = safe_markdown_html(f"- Projekti {text}")
        assert not re.search(r"<(script|img|iframe|a)\b", rendered) and "href" not in rendered
    assert "&lt;script&gt;" in safe_markdown_html(escape_markdown("<script>"))


# -- the attacked run ---------------------------------------------------------------------------
class Counter(http.server.BaseHTTPRequestHandler):
    hits: list = []

    def do_GET(self):  # noqa: N802
        Counter.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"x")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def loopback():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def payloads(port: int) -> list[str]:
    return ['<script>document.body.appendChild(Object.assign(document.createElement("div"), {id: "pwned"}))</script>',
            '<img src=x onerror="document.body.setAttribute(\'data-pwned\', 1)">',
            f'<img src="http://127.0.0.1:{port}/img">', "[klikkaa](javascript:alert(1))",
            f'<iframe src="http://127.0.0.1:{port}/frame"></iframe>', f"![kuva](http://127.0.0.1:{port}/md.png)",
            f'<link rel="stylesheet" href="http://127.0.0.1:{port}/css">']


@pytest.fixture(scope="module")
def attacked(tmp_path_factory, loopback) -> Path:
    root = tmp_path_factory.mktemp("attacked")
    params = demo_project(root)
    data = root / "demo-data"
    fidelity = pd.read_csv(data / "fidelity.csv", dtype=str, keep_default_na=False)
    unrated = fidelity.index[fidelity["score"].eq("")]
    fidelity.loc[unrated[0], "na_reason"] = FREE_TEXT
    fidelity.loc[unrated[1], "na_reason"] = f'=HYPERLINK("http://127.0.0.1:{loopback}/xl","{NAME}")'
    fidelity.to_csv(data / FILE_NAME, index=False)
    lines = (data / "kykyviisari.csv").read_text(encoding="utf-8-sig").splitlines(keepends=True)
    (data / WARNED_FILE).write_text("".join([*lines, lines[1]]), encoding="utf-8-sig")  # a duplicate: warning
    survey = yaml.safe_load((Path(str(resource_dir("data_dictionary"))) / "surveys" / "development_group.yaml")
                            .read_text(encoding="utf-8"))
    attack = " ".join(payloads(loopback))
    survey["title"] = {"fi": f"Kysely {attack}", "en": f"Survey {attack}"}
    (root / "parameters" / "own_survey.yaml").write_text(yaml.safe_dump(survey, allow_unicode=True), encoding="utf-8")
    raw = yaml.safe_load(params.read_text(encoding="utf-8"))
    raw["title"] = "Hanke " + " ".join(payloads(loopback)[:3])  # a title has at most 300 characters
    raw["description"] = f"Kuvaus {attack} **lihava**"
    # a goal title and a site label reach the key findings, the goals table and the fidelity figures
    raw["goals"][0]["title"] = "=Tavoite " + payloads(loopback)[0]
    raw["sites"]["mikkeli"] = {"fi": "=SUM(1) " + payloads(loopback)[1], "en": "Mikkeli $x^2$"}
    raw["data"]["fidelity"] = f"../demo-data/{FILE_NAME}"
    raw["data"]["kykyviisari"] = f"../demo-data/{WARNED_FILE}"
    raw["analyses"]["feedback"] = {"surveys": {"development_group": "own_survey.yaml"}}
    params.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    Counter.hits.clear()
    assert main(["run", str(params), "--output", str(root / "out"), "--quiet"]) == 0
    return root / "out" / "demo"


def published_files(folder: Path) -> list[Path]:
    files = [folder / "appendix.html", folder / "provenance.json", *sorted((folder / "tables").glob("*.csv")),
             folder / "tables" / "datapackage.json", *sorted((folder / "executed").glob("*.ipynb"))]
    assert all(f.is_file() for f in files) and len(files) > 10
    return files


def pdf_text(folder: Path) -> str:
    pdf = folder / "appendix.pdf"
    if not pdf.is_file() or shutil.which("pdftotext") is None:
        return ""
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


@pytest.mark.slow
def test_free_text_and_file_names_reach_no_published_file(attacked):
    secrets = [NAME, HETU, "ei halunnut", "HYPERLINK", FILE_NAME, "matti_meikalainen", "maija_mehilainen",
               str(attacked.parent.parent), "demo-data", "own_survey"]
    for path in published_files(attacked):
        text = path.read_text(encoding="utf-8")
        found = [s for s in secrets if s in text]
        assert not found, f"{path.name} publishes {found}"
    internal = (attacked / "tables-internal" / "fidelity_items.csv").read_text(encoding="utf-8")
    assert FREE_TEXT in internal and "'=HYPERLINK(" in internal
    html = (attacked / "appendix.html").read_text(encoding="utf-8")
    assert "syy kirjattu (ei julkaista)" in html  # the free text is replaced by its declared label
    findings = html[html.index('id="key_findings"'):html.index('id="overview"')]  # the evaluator's texts as text
    assert "=Tavoite &lt;script&gt;" in findings and "=SUM(1) &lt;img src=x" in findings
    assert (attacked / "tables" / "data_quality.csv").is_file()  # the warning is published, its file name not


@pytest.mark.slow
def test_pdf_text_holds_no_free_text(attacked):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    if not (attacked / "appendix.pdf").is_file():
        pytest.skip("no PDF printed (chromium not installed)")
    text = pdf_text(attacked)
    assert "Hanke" in text and "syy kirjattu" in text
    assert NAME not in text and HETU not in text and FILE_NAME not in text


@pytest.mark.slow
def test_executed_notebooks_hold_no_paths_and_only_published_outputs(attacked):
    for path in sorted((attacked / "executed").glob("*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        assert nb.metadata["papermill"]["parameters"]["params_path"] == "<withheld>"
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                assert output["output_type"] in ("display_data", "execute_result")
                assert set(output["data"]) <= {"text/html", "text/markdown", "image/png", "image/svg+xml",
                                               "text/plain"}


@pytest.mark.slow
def test_no_published_csv_cell_starts_a_formula(attacked):
    for folder in ("tables", "tables-internal"):
        for path in sorted((attacked / folder).glob("*.csv")):
            with path.open(encoding="utf-8", newline="") as handle:
                for row in csv.reader(handle):
                    for cell in row:
                        if cell.startswith(FORMULA_PREFIX):
                            float(cell.replace(",", "."))  # only a plain negative or signed number


class Markup(HTMLParser):
    """Every element and attribute of a page, as a browser's parser sees them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


@pytest.mark.slow
def test_nothing_data_supplied_is_markup_in_the_html(attacked):
    html = (attacked / "appendix.html").read_text(encoding="utf-8")
    parser = Markup()
    parser.feed(html)
    policy = [a["content"] for tag, a in parser.tags if tag == "meta" and a.get("http-equiv") ==
              "Content-Security-Policy"]
    assert policy == [publication.CONTENT_SECURITY_POLICY] and "default-src 'none'" in policy[0]
    assert not {tag for tag, _ in parser.tags} & {"script", "iframe", "frame", "link", "object", "embed", "base",
                                                   "form", "svg", "math"}
    assert not [a for _, attrs in parser.tags for a in attrs if a.startswith("on")]  # no event handlers
    assert all(a["src"].startswith("data:image/") for tag, a in parser.tags if tag == "img")
    assert all(a.get("href", "#").startswith("#") for tag, a in parser.tags if tag == "a")
    assert "&lt;script&gt;" in html and "Hanke" in html and "**lihava**" in html


def dump_dom(page: Path, tmp: Path) -> str:
    command = chromium_command(find_chromium(), tmp / "profile", "--virtual-time-budget=5000", "--dump-dom",
                               page.as_uri())
    return subprocess.run(command, capture_output=True, text=True, timeout=120).stdout


@pytest.mark.slow
@pytest.mark.skipif(find_chromium() is None, reason="chromium not installed")
@pytest.mark.parametrize("policy", ["with", "without"])
def test_no_payload_runs_in_chromium(attacked, tmp_path, policy):
    """The escaping alone holds (``without`` the Content-Security-Policy), and so does the policy."""
    page = tmp_path / "page.html"
    html = (attacked / "appendix.html").read_text(encoding="utf-8")
    if policy == "without":
        html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    page.write_text(html, encoding="utf-8")
    dom = dump_dom(page, tmp_path)
    assert "Hanke" in dom
    parser = Markup()
    parser.feed(dom)
    assert not [a for _, a in parser.tags if a.get("id") == "pwned" or "data-pwned" in a]  # nothing ran
    assert not [a for tag, a in parser.tags if tag == "a" and not a.get("href", "#").startswith("#")]
    assert not {tag for tag, _ in parser.tags} & {"script", "iframe", "link", "object", "embed"}


@pytest.mark.slow
@pytest.mark.skipif(find_chromium() is None, reason="chromium not installed")
def test_loopback_server_got_no_request(attacked, loopback, tmp_path):
    assert (attacked / "appendix.pdf").is_file()  # printed while the server was listening
    html = (attacked / "appendix.html").read_text(encoding="utf-8")
    page = tmp_path / "page.html"  # and again without the policy: the offline flags alone hold
    page.write_text(re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
                    .replace("</body>", f'<img src="http://127.0.0.1:{loopback}/planted"></body>'), encoding="utf-8")
    command = chromium_command(find_chromium(), tmp_path / "profile", "--no-pdf-header-footer",
                               f"--print-to-pdf={tmp_path / 'out.pdf'}", page.as_uri())
    subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert (tmp_path / "out.pdf").is_file()
    assert Counter.hits == []


def office_xml(path: Path) -> str:
    """Every XML part of a Word or Excel file, decompressed."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return "\n".join(archive.read(n).decode("utf-8") for n in archive.namelist()
                         if n.endswith((".xml", ".rels")))


@pytest.mark.slow
def test_word_and_excel_files_hold_no_free_text_formula_or_link(attacked):
    import openpyxl

    secrets = [NAME, HETU, "ei halunnut", "HYPERLINK", FILE_NAME, "matti_meikalainen", "maija_mehilainen",
               str(attacked.parent.parent), "demo-data", "own_survey"]
    for name in ("appendix.docx", "tables.xlsx"):
        xml = office_xml(attacked / name)
        assert not [s for s in secrets if s in xml], name
        assert 'TargetMode="External"' not in xml and "<f>" not in xml and "<f " not in xml, name
    docx_xml = office_xml(attacked / "appendix.docx")
    assert "Hanke &lt;script&gt;" in docx_xml  # the title's payload as text
    assert "syy kirjattu (ei julkaista)" in docx_xml  # the free text replaced by its declared label
    workbook = openpyxl.load_workbook(attacked / "tables.xlsx")
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate)


def test_generated_prose_shows_the_symbols_as_themselves():
    """The legend's "<5" is made inert once: shown as "<5" in the appendix, never as "&lt;5"."""
    html = safe_markdown_html(publication.neutralise_markdown("Merkinnät: <5 = lukumäärä 1–4; <script>"))
    assert "&lt;5" in html and "&lt;script&gt;" in html and "&amp;" not in html
@pytest.mark.slow
def test_open_answers_of_a_survey_export_reach_no_published_file(tmp_path):
    """Issue 15: a name and a henkilötunnus typed into an open answer of a Webropol export are kept
    in ``tables-internal/`` only; the published outputs show theme counts."""
    from tyokyky_eval import demo

    params = demo_project(tmp_path, drop=("clients", "kykyviisari", "fidelity"))
    settings = {"file": "vastaukset_matti_meikalainen.xlsx", "tool": "webropol", "survey_id": "process_evaluation",
                "groups": {"project_workers": 12}}
    frame = demo.survey_export(np.random.default_rng(5), settings)
    question = next(c for c in frame.columns if "onnistunut parhaiten" in c)
    frame.loc[frame.index[:6], question] = FREE_TEXT
    frame.loc[frame.index[:6], "Teemat (arvioija)"] = "cooperation"
    demo.write_export(frame, tmp_path / "demo-data" / settings["file"], "webropol")
    raw = yaml.safe_load(params.read_text(encoding="utf-8"))
    raw["data"]["feedback"] = [raw["data"]["feedback"], {
        "path": f"../demo-data/{settings['file']}", "layout": "wide", "survey": "process_evaluation",
        "round": 1, "respondent_group": "project_workers"}]
    params.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert main(["run", str(params), "--output", str(tmp_path / "out"), "--quiet", "--no-pdf"]) == 0
    out = tmp_path / "out" / "demo"
    for path in published_files(out):
        text = path.read_text(encoding="utf-8")
        found = [s for s in (NAME, HETU, "ei halunnut", "matti_meikalainen") if s in text]
        assert not found, f"{path.name} publishes {found}"
    themes = pd.read_csv(out / "tables" / "feedback_themes.csv")
    assert themes["theme"].eq("cooperation").any() and "answer" not in themes.columns
    internal = (out / "tables-internal" / "feedback_open_answers.csv").read_text(encoding="utf-8")
    assert FREE_TEXT in internal

"""Words, not keys, in the appendix's language: the appendix says what was done with the values (no
parameter key), the parameters' own texts (title, description, site labels) in the appendix's
language, and the problems of a parameters file in Finnish or English."""
from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path

import docx
import openpyxl
import pytest
import yaml
from test_runner import demo_project

from tyokyky_eval import load_section
from tyokyky_eval.cli import main
from tyokyky_eval.errors import ParameterError
from tyokyky_eval.inputs.params import load_params
from tyokyky_eval.inputs.project import load_project
from tyokyky_eval.publication.appendix import protect_appendix
from tyokyky_eval.render import document as doc
from tyokyky_eval.render.findings import key_findings
from tyokyky_eval.run import provenance, runner
from tyokyky_eval.sections.overview import OverviewSection

#: what a parameter key looks like in prose
KEY = re.compile(r"\b(analyses|validation|disclosure|services|sites)\.[a-z_]+|`[a-z_]+\.[a-z_.]+`|tables-internal")


# -- the problems of a parameters file, in both languages ------------------------------------------
def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def validate(capsys, *args) -> tuple[int, str]:
    code = main(["validate", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


BROKEN = """project_id: words
titel: Hanke
language: {language}
cutoff_date: 2022-12-31
disclosure: [5, 10]
data: {{clients: nothere.csv}}
"""


def test_unknown_and_missing_keys_in_the_files_language_or_the_one_asked_for(tmp_path, capsys):
    path = write(tmp_path, BROKEN.format(language="fi"))
    with pytest.raises(ParameterError) as caught:
        load_params(path)
    assert caught.value.language == "fi"
    code, text = validate(capsys, path)
    assert code == 2 and "Traceback" not in text
    assert "params.yaml: tuntematon avain 'titel' (tarkoititko 'title'?); sallitut avaimet: activities," in text
    assert "params.yaml: pakollinen avain 'title' puuttuu" in text
    code, text = validate(capsys, path, "--language", "en")
    assert "params.yaml: unknown key 'titel' (did you mean 'title'?); allowed keys: activities," in text
    assert "params.yaml: missing required key 'title'" in text and "tuntematon" not in text


def test_wrong_type_and_file_not_found_in_both_languages(tmp_path, capsys):
    path = write(tmp_path, BROKEN.format(language="en").replace("titel", "title"))
    (tmp_path / "nothere.cvs").write_text("x\n", encoding="utf-8")
    code, text = validate(capsys, path)
    assert code == 2
    assert "disclosure: expected a mapping of options, got a list" in text
    assert f"data.clients: file not found: {tmp_path / 'nothere.csv'} (did you mean 'nothere.cvs'?)" in text
    code, text = validate(capsys, path, "--language", "fi")
    assert "disclosure: odotettiin asetuksia muodossa avain: arvo, mutta annettiin luettelo" in text
    assert f"data.clients: tiedostoa ei löydy: {tmp_path / 'nothere.csv'} (tarkoititko 'nothere.cvs'?)" in text


def test_a_file_without_a_language_to_go_by_is_reported_in_english(tmp_path, capsys):
    code, text = validate(capsys, tmp_path / "nope.yaml")
    assert code == 2 and "parameters file not found" in text
    code, text = validate(capsys, tmp_path / "nope.yaml", "--language", "fi")
    assert "parametritiedostoa ei löydy" in text
    path = write(tmp_path, "project_id: [words\n")
    code, text = validate(capsys, path)
    assert "params.yaml:2: the parameters file is not valid YAML" in text
    code, text = validate(capsys, path, "--language", "fi")
    assert "params.yaml:2: parametritiedosto ei ole kelvollista YAMLia" in text
    code, text = validate(capsys, write(tmp_path, BROKEN.format(language="sv").replace("titel", "title")))
    assert "language: 'sv' is not supported; use fi or en" in text  # a language the package lacks
    assert "disclosure: expected a mapping of options, got a list" in text


def test_a_title_in_both_languages_or_one_text(tmp_path, project_files):
    project_files.params["title"] = {"fi": "Hanke"}
    with pytest.raises(ParameterError) as caught:
        load_params(project_files.save_params())
    assert caught.value.texts("en") == ["title: expected a text, or {fi: …, en: …}"]
    assert caught.value.texts("fi") == ["title: odotettiin tekstiä tai {fi: …, en: …}"]
    project_files.params["title"] = "Sama molemmilla kielillä"
    assert load_params(project_files.save_params()).title == {"fi": "Sama molemmilla kielillä",
                                                              "en": "Sama molemmilla kielillä"}


def test_title_and_description_in_the_appendix_language(project_files):
    project_files.params.update(title={"fi": "Suomeksi", "en": "In English"},
                                description={"fi": "Kuvaus suomeksi.", "en": "Described in English."})
    for language, title, description, other in (("fi", "Suomeksi", "Kuvaus suomeksi.", "English"),
                                                ("en", "In English", "Described in English.", "suomeksi")):
        project = load_project(project_files.save_params(), language)
        page = doc.title_page(project)
        assert (page.title, page.description) == (title, description)
        words = OverviewSection(project).project_text(language)
        assert title in words and description.rstrip(".") in words.replace("\\", "") and other not in words
        record = provenance.collect(project.params, language, {}, dt.datetime.now(dt.UTC))
        assert record["title"] == title


# -- sites ------------------------------------------------------------------------------------------
SITES = {"mikkeli": {"fi": "Mikkelin tiimi", "en": "Mikkeli team"}, "mantyharju": "Mäntyharju"}


def test_site_labels_in_fidelity_tables_figures_and_key_findings(project_files):
    project_files.params["sites"] = SITES
    for language, mikkeli in (("fi", "Mikkelin tiimi"), ("en", "Mikkeli team")):
        project = load_project(project_files.save_params(), language)
        section = load_section("fidelity", project)
        tables = [b for b in doc.section_tables(section, language) if isinstance(b, doc.TableBlock)]
        shown = {cell.text for table in tables for row in table.rows for cell in row}
        assert {mikkeli, "Mäntyharju"} <= shown and not {"mikkeli", "mantyharju"} & shown
        matrix = next(t for t in tables if t.name == "fidelity_item_matrix")
        assert any(h.startswith(f"{mikkeli} ") for h in matrix.columns)
        assert not any(h.startswith("mikkeli") for t in tables for h in t.columns)
        titles = {ax.get_title() for _, fig in section.figures(language) for ax in fig.axes} | {
            text.get_text() for _, fig in section.figures(language) for ax in fig.axes
            if ax.get_legend() for text in ax.get_legend().get_texts()}
        assert mikkeli in titles and "mikkeli" not in titles
        assert any(line.startswith(f"- **{mikkeli}**,") for line in section.text(language)[1].splitlines())
        findings = key_findings(protect_appendix(project), project, language)
        rows = next(b for b in findings.blocks if isinstance(b, doc.TableBlock)).rows
        assert any(mikkeli in row[1].text for row in rows) and not any("mikkeli" in row[1].text for row in rows)


def test_an_undeclared_site_is_a_clear_validation_error(project_files, capsys):
    project_files.params["sites"] = {"mikkeli": "Mikkeli", "mantyharju_x": "Mäntyharju"}
    code, text = validate(capsys, project_files.save_params())
    assert code == 2
    assert ("fidelity.csv:152:site_id: the site 'mantyharju' (150 rows) is not declared under sites (did you "
            "mean 'mantyharju_x'?); declared sites: mantyharju_x, mikkeli (add it there with its label: "
            "{fi: …, en: …}) ['mantyharju']") in text
    code, text = validate(capsys, project_files.save_params(), "--language", "fi")
    assert "toimipistettä tai aluetta 'mantyharju' (150 riviä) ei ole määritelty kohdassa sites (tarkoititko" in text


# -- the demo appendix in both languages --------------------------------------------------------------
def page_text(folder: Path) -> str:
    """The appendix page's words: no style, no images, no tags, entities resolved."""
    text = (folder / "appendix.html").read_text(encoding="utf-8")
    text = re.sub(r"<style.*?</style>|<img[^>]*>", "", text, flags=re.DOTALL)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


@pytest.fixture(scope="module")
def demo_appendices(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("words")
    params = demo_project(root)
    for language in ("fi", "en"):
        runner.run_project(params, root / language, language, progress=False, pdf=False)
    return {language: root / language / "demo" for language in ("fi", "en")}


@pytest.mark.slow
@pytest.mark.parametrize("language", ["fi", "en"])
def test_the_demo_appendix_says_in_words_what_was_done(demo_appendices, language):
    words = page_text(demo_appendices[language])
    assert not KEY.search(words), KEY.search(words)
    expected = {"fi": ["vähintään 4 palkallista tuntia viikossa", "enintään 90 päivää päättymisen jälkeen",
                       "Palkkatuettu työ lasketaan työllistymiseksi.",
                       "Työsuhteen kesto: työssä yhä 90 ja 180 päivää aloituksen jälkeen"],
                "en": ["at least 4 paid hours a week", "at most 90 days after the end",
                       "Wage-subsidised jobs count as employment.",
                       "Job tenure: still employed 90 and 180 days after the job start"]}[language]
    assert all(text in words for text in expected), [text for text in expected if text not in words]


@pytest.mark.slow
def test_the_demo_appendix_shows_the_parameters_words_in_its_language(demo_appendices):
    params = yaml.safe_load((Path(__file__).parents[1] / "parameters" / "demo.yaml").read_text(encoding="utf-8"))
    for language, other in (("fi", "en"), ("en", "fi")):
        folder = demo_appendices[language]
        words = page_text(folder)
        title, description = params["title"][language], params["description"][language]
        assert title in words and description in words
        assert params["description"][other] not in words and params["title"][other] not in words
        assert {"fi": "Mikkelin IPS-tiimi", "en": "Mikkeli IPS team"}[language] in words
        assert docx.Document(str(folder / "appendix.docx")).core_properties.title == title
        assert openpyxl.load_workbook(folder / "tables.xlsx").properties.title == title
        assert json.loads((folder / "provenance.json").read_text(encoding="utf-8"))["title"] == title

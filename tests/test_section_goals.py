"""The goals section: a small achieved count is suppressed with its status, and the evaluator's
prose from the parameters is inert in the appendix and the CSV files."""
from __future__ import annotations

from types import SimpleNamespace

import nbformat
import pandas as pd

from tyokyky_eval.i18n import t
from tyokyky_eval.inputs.params import Disclosure
from tyokyky_eval.inputs.project import Project
from tyokyky_eval.render.cells import rounded_as_shown
from tyokyky_eval.render.csv import write_csv
from tyokyky_eval.render.report import Report
from tyokyky_eval.run.runner import missing_tables
from tyokyky_eval.sections.goals import GOALS, GoalsSection
from tyokyky_eval.stats import goals as gl

PAYLOAD = '<script>alert(1)</script><img src=x onerror=alert(2)> [link](http://evil.example) **bold**'


def make_project(goals, clients=None, min_cell=5, language="fi"):
    params = SimpleNamespace(disclosure=Disclosure(min_cell, 10), goals=tuple(goals), costs=None)
    tables = {} if clients is None else {"clients": clients}
    return Project(params, language, tables)


def clients(n_ips: int, n_was: int) -> pd.DataFrame:
    return pd.DataFrame({"client_id": [f"C{i}" for i in range(n_ips + n_was)],
                         "service": ["ips"] * n_ips + ["was"] * n_was,
                         "start_date": pd.Timestamp("2022-01-01"), "end_date": pd.NaT,
                         "first_employment_date": pd.NaT})


def test_small_achieved_count_is_suppressed_with_its_status():
    goals = [gl.Goal(id="ips", title="IPS", indicator="clients", service="ips", target=10),
             gl.Goal(id="was", title="WAS", indicator="clients", service="was", target=10)]
    section = GoalsSection(make_project(goals, clients(3, 40)))
    table = section.published()[GOALS].set_index("goal_id")
    assert table.at["ips", "achieved"] == "<5" and table.at["ips", "status"] == ".."
    assert table.at["was", "achieved"] == 40 and table.at["was", "status"] == "achieved"
    assert "tila ei julkaistavissa 1" in section.text("fi")[0]
    assert section.internal()[GOALS].set_index("goal_id").at["ips", "achieved"] == 3


def test_evaluators_prose_is_inert_in_html_and_csv(tmp_path, monkeypatch):
    goals = [gl.Goal(id="g1", title=PAYLOAD, status="partly", justification="=HYPERLINK(\"http://x\")" + PAYLOAD,
                     source=PAYLOAD)]
    project = make_project(goals)
    shown = []
    monkeypatch.setattr("tyokyky_eval.render.report._display", lambda obj, metadata=None: shown.append(getattr(obj, "data", str(obj))))
    report = Report(project, output_dir=tmp_path)
    report.show_tables(GoalsSection(project))
    html = "".join(shown)
    assert "<script" not in html and "<img" not in html and "href" not in html and "<strong>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    section = GoalsSection(project)
    write_csv(rounded_as_shown(section.published()["goals"]), tmp_path / "tables", "goals", published=True)
    csv = (tmp_path / "tables" / "goals.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in csv


def test_computed_goal_names_the_section_showing_the_figure():
    goals = [gl.Goal(id="emp", title="E", indicator="clients_employed", target=1)]
    table = GoalsSection(make_project(goals, clients(6, 0), language="en")).published()[GOALS]
    assert table.at[0, "section"] == "survival"
    assert table.at[0, "status"] == "not_achieved"


def test_runner_skips_the_notebook_when_no_goals_are_declared():
    nb = nbformat.v4.new_notebook()
    nb.metadata["tyokyky_eval"] = {"section": "goals"}
    assert missing_tables(nb, make_project([])) == ["goals"]
    declared = [gl.Goal(id="g", title="T", status="achieved", justification="J")]
    assert missing_tables(nb, make_project(declared)) == []
    nb.metadata["tyokyky_eval"] = {"section": "costs"}
    assert missing_tables(nb, make_project(declared)) == ["costs"]
    assert GoalsSection(make_project([])).text("en") == [t("goals.no_goals", "en")]


def test_computed_goal_links_to_the_section_of_its_indicator():
    from tyokyky_eval.render.document import TableBlock, section_tables

    project = make_project([gl.Goal(id="emp", title="E", indicator="clients_employed", target=1),
                            gl.Goal(id="a", title="A", status="achieved", justification="J")])
    (table,) = [b for b in section_tables(GoalsSection(project), "fi") if isinstance(b, TableBlock)]
    assert [[c.link for c in row if c.link] for row in table.rows] == [["survival"], []]

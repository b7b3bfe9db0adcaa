"""Every appendix notebook has the shape `tyokyky-eval lab` relies on (tools/notebook_shape.py), and
every "your own analysis" snippet runs on the demo project and ends with a statsmodels summary."""
from __future__ import annotations

import ast
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
import yaml
from test_runner import demo_project

from tyokyky_eval import load_project, load_section

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import notebook_shape  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_has_the_shared_shape(path):
    assert notebook_shape.problems(path) == []


def test_no_snippet_without_its_notebook():
    snippets = {p.stem for p in (ROOT / "notebooks" / "own_analysis").glob("*.yaml")}
    assert snippets == {p.stem for p in NOTEBOOKS}


@pytest.fixture(scope="module")
def project():
    with tempfile.TemporaryDirectory(prefix="tyokyky-shape-") as root:  # no row-level data left behind
        yield load_project(demo_project(Path(root)), language="en")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_own_analysis_runs_on_the_demo_project(path, project):
    name = nbformat.read(str(path), as_version=4).metadata["tyokyky_eval"]["section"]
    code = yaml.safe_load(notebook_shape.snippet_path(path).read_text(encoding="utf-8"))["code"]
    tree = ast.parse(code)
    last = tree.body.pop()
    assert isinstance(last, ast.Expr), "the cell ends with the result it shows"
    namespace = {"project": project, "section": load_section(name, project)}
    exec(compile(tree, path.name, "exec"), namespace)
    result = eval(compile(ast.Expression(last.value), path.name, "eval"), namespace)
    assert type(result).__module__.startswith("statsmodels") and "<table" in result.as_html()

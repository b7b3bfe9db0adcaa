"""The runner end to end: languages, skipped sections, failures, run-all, provenance, no id leaks.

Most tests run small notebooks written here (a few seconds each); the ``slow`` ones run the real
appendix notebooks on demo data with recognisable ids.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
import zipfile
from pathlib import Path

import docx
import nbformat
import openpyxl
import pandas as pd
import pytest

from tyokyky_eval import demo
from tyokyky_eval.cli import main
from tyokyky_eval.i18n import t
from tyokyky_eval.render.pdf import find_chromium
from tyokyky_eval.resources import resource_dir
from tyokyky_eval.run import runner

ROOT = Path(__file__).resolve().parent.parent
SETUP = ("from tyokyky_eval import load_project\nfrom tyokyky_eval.render.report import Report\n"
         "project = load_project(params_path, language=language, validated=validated_dir)\n"
         "report = Report(project, output_dir=output_dir)")
TABLE = ("import pandas as pd\n"
         "report.table(pd.DataFrame({'mean': [1234.5, 6.25]}), 'tiny', 'Tiny table', decimals=2)")
FIGURE = ("import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
          "fig, ax = plt.subplots(figsize=(2, 2))\nax.plot([0, 1], [0, 1])\nreport.figure(fig, 'Tiny figure')")


def write_notebook(path: Path, cells, requires=(), title=None) -> Path:
    """A section notebook like tools/make_notebook.py writes: parameters cell first, then ``cells``
    (``("fi"|"en", markdown)`` or ``("code", source)``)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["tyokyky_eval"] = {"requires": list(requires), "title": title or {}}
    nb.metadata["kernelspec"] = {"name": "tyokyky-eval", "display_name": "Python (tyokyky-eval)",
                                 "language": "python"}
    parameters = nbformat.v4.new_code_cell('params_path = ""\nlanguage = "fi"\noutput_dir = None\nvalidated_dir = None')
    parameters.metadata["tags"] = ["parameters"]
    nb.cells.append(parameters)
    for kind, source in cells:
        cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
        if kind != "code":
            cell.metadata["tags"] = [kind]
        nb.cells.append(cell)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"
    nbformat.write(nb, str(path))
    return path


def demo_project(root: Path, clients: int = 35, drop: tuple = (), project_id: str = "demo") -> Path:
    """Demo data (ids DEMO-01 …) in ``root/demo-data`` and ``root/parameters/<id>.yaml`` made from the
    committed demo parameters, without the tables in ``drop``."""
    data = root / "demo-data"
    text = (ROOT / "parameters" / "demo.yaml").read_text(encoding="utf-8")
    if not data.is_dir():  # the data demo.yaml describes (demo-data --params), with ``clients`` clients
        import yaml

        raw = yaml.safe_load(text)
        spec = demo.spec_from_synthetic({**raw["synthetic"], "cutoff_date": raw["cutoff_date"],
                                         "tables": tuple(raw["data"]), "clients": clients})
        demo.write(demo.generate(spec), data)
    text = text.replace("project_id: demo", f"project_id: {project_id}")
    for table in drop:
        text = text.replace(f"  {table}: ../demo-data/{table}.csv\n", "")
    (root / "parameters").mkdir(exist_ok=True)
    path = root / "parameters" / f"{project_id}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def small_notebooks(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("notebooks")
    write_notebook(folder / "00_tiny.ipynb", [
        ("code", SETUP), ("fi", "# Pieni osa\n\nSuomeksi."), ("en", "# Small section\n\nIn English."),
        ("fi", "## Alaosa"), ("en", "## Subsection"), ("code", TABLE), ("code", FIGURE)])
    write_notebook(folder / "10_needs_fidelity.ipynb", [
        ("code", SETUP), ("fi", "# Laatukriteerit"), ("en", "# Fidelity"), ("code", TABLE)],
        requires=["fidelity"], title={"fi": "Laatukriteerit", "en": "Fidelity"})
    return folder


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("project")
    demo_project(root)
    return root


def appendix_text(output: Path, project: str = "demo") -> str:
    return (output / project / "appendix.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_finnish_run_numbers_captions_and_keeps_only_finnish_prose(workspace, small_notebooks, tmp_path, capsys):
    assert main(["run", str(workspace / "parameters" / "demo.yaml"), "--output", str(tmp_path), "--quiet",
                 "--notebooks", str(small_notebooks)]) == 0
    html = appendix_text(tmp_path)
    assert "Suomeksi." in html and "In English." not in html
    assert "Taulukko 1." in html and "Taulukko 2." in html and "Kuvio 1." in html
    assert "1\u202f234,50" in html and "6,25" in html  # Finnish decimal comma in the shown table
    assert "31.12.2022" in html and "<script" not in html and "http://" not in html
    folder = tmp_path / "demo"
    assert sorted(p.name for p in (folder / "executed").iterdir()) == ["appendix.ipynb"]  # one kernel
    origins = {c.metadata["tyokyky_eval"]["notebook"] for c in nbformat.read(str(folder / "executed" / "appendix.ipynb"),
                                                                               as_version=4).cells if "tyokyky_eval" in c.metadata}
    assert origins == {"00_tiny.ipynb", "10_needs_fidelity.ipynb"}
    assert (folder / "tables-internal" / "tiny.csv").read_text() == "mean\n1234.5\n6.25\n"
    assert {p.name for p in folder.iterdir()} <= runner.APPENDIX_ENTRIES  # no table or figure records
    sheet = openpyxl.load_workbook(folder / "tables.xlsx")["Taulukko 1"]
    assert (sheet["A1"].value, sheet["A4"].value, sheet["A4"].number_format) == ("Taulukko 1. Tiny table", 1234.5, "#,##0.00")
    assert "Taulukko 2. Tiny table" in [p.text for p in docx.Document(str(folder / "appendix.docx")).paragraphs]
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]  # no temporary folder left behind
    out = capsys.readouterr().out
    assert "Appendix:" in out
    assert ("PDF:" in out) if find_chromium() else (t("appendix.pdf_skipped_no_chromium", "fi") in out)


@pytest.mark.slow
def test_english_override_and_skipped_section(workspace, small_notebooks, tmp_path):
    params = demo_project(workspace, drop=("fidelity",), project_id="nofidelity")
    assert main(["run", str(params), "--output", str(tmp_path), "--quiet", "--no-pdf", "--language", "en",
                 "--notebooks", str(small_notebooks)]) == 0
    html = appendix_text(tmp_path, "nofidelity")
    assert "In English." in html and "Suomeksi." not in html and 'lang="en"' in html
    assert "Table 1." in html and "Table 2." not in html and "Figure 1." in html and "1,234.50" in html
    assert '<h1 id="not_produced">Sections not produced</h1>' in html and '<h1 id="10_needs_fidelity">' not in html
    assert ("<li><strong>Fidelity</strong>: This section was not produced because the project's data do not include: "
            "fidelity reviews.</li>") in html
    record = json.loads((tmp_path / "nofidelity" / "provenance.json").read_text())
    assert record["notebooks"] == {"00_tiny.ipynb": "executed", "10_needs_fidelity.ipynb": "skipped"}
    executed = nbformat.read(str(tmp_path / "nofidelity" / "executed" / "appendix.ipynb"), as_version=4)
    assert all(c.metadata["tyokyky_eval"]["notebook"] == "00_tiny.ipynb" for c in executed.cells if "tyokyky_eval" in c.metadata)


@pytest.mark.slow
def test_provenance_hashes_match_the_inputs(workspace, small_notebooks, tmp_path):
    params = workspace / "parameters" / "demo.yaml"
    assert main(["run", str(params), "--output", str(tmp_path), "--quiet", "--no-pdf",
                 "--notebooks", str(small_notebooks)]) == 0
    record = json.loads((tmp_path / "demo" / "provenance.json").read_text())

    def sha(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()

    assert record["parameters_file"] == {"sha256": sha(params)}  # no file names or paths: published
    assert set(record["input_files"]) == {"clients", "kykyviisari", "fidelity", "feedback", "activities",
                                               "employment"}
    for table, info in record["input_files"].items():
        assert info == {"sha256": sha(workspace / "demo-data" / f"{table}.csv")}
    assert record["package"]["version"] and record["python"]["version"].count(".") == 2
    assert record["packages"]["pandas"] and record["run"]["seconds"] >= 0
    assert sha(params) in appendix_text(tmp_path)  # the provenance section of the HTML


@pytest.mark.slow
def test_failing_notebook_exits_1_names_the_cell_and_keeps_the_previous_appendix(
        workspace, small_notebooks, tmp_path, capsys):
    params = str(workspace / "parameters" / "demo.yaml")
    assert main(["run", params, "--output", str(tmp_path), "--quiet", "--no-pdf",
                 "--notebooks", str(small_notebooks)]) == 0
    before = {p: p.read_bytes() for p in (tmp_path / "demo").rglob("*") if p.is_file()}
    broken = tmp_path / "broken-notebooks"
    broken.mkdir()
    write_notebook(broken / "00_ok.ipynb", [("code", SETUP), ("code", TABLE)])
    write_notebook(broken / "20_broken.ipynb", [("code", SETUP), ("code", "ratio = 1 / 0  # divide")])
    capsys.readouterr()
    assert main(["run", params, "--output", str(tmp_path), "--quiet", "--notebooks", str(broken)]) == 1
    err = capsys.readouterr().err
    assert "20_broken.ipynb failed in cell 3 (id cell-02" in err  # parameters, setup, broken
    assert "ratio = 1 / 0" in err and "ZeroDivisionError" in err
    after = {p: p.read_bytes() for p in (tmp_path / "demo").rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken-notebooks", "demo"]


def test_invalid_data_exit_2_and_nothing_written(workspace, tmp_path, capsys):
    params = demo_project(workspace, project_id="invalid")
    bad = workspace / "bad-data"
    bad.mkdir(exist_ok=True)
    clients = (workspace / "demo-data" / "clients.csv").read_text(encoding="utf-8-sig")
    (bad / "clients.csv").write_text(clients.replace(";1990;", ";19x0;", 1), encoding="utf-8-sig")
    params.write_text(params.read_text(encoding="utf-8").replace("../demo-data/clients.csv", "../bad-data/clients.csv"),
                      encoding="utf-8")
    output = tmp_path / "out"
    assert main(["run", str(params), "--output", str(output), "--quiet"]) == 2
    assert "clients.csv" in capsys.readouterr().err
    assert not output.exists()


@pytest.mark.slow
def test_run_all_one_broken_project(workspace, small_notebooks, tmp_path, capsys):
    folder = tmp_path / "parameters"
    folder.mkdir()
    for project_id in ("alpha", "beta"):
        text = (workspace / "parameters" / "demo.yaml").read_text(encoding="utf-8")
        text = text.replace("project_id: demo", f"project_id: {project_id}").replace(
            "../demo-data/", f"{(workspace / 'demo-data').as_posix()}/")
        (folder / f"{project_id}.yaml").write_text(text, encoding="utf-8")
    (folder / "broken.yaml").write_text((folder / "alpha.yaml").read_text().replace(
        "project_id: alpha", "project_id: broken").replace("clients.csv", "missing.csv"), encoding="utf-8")
    output = tmp_path / "out"
    code = main(["run-all", str(folder), "--output", str(output), "--jobs", "2", "--notebooks", str(small_notebooks)])
    out = capsys.readouterr().out
    assert code == 1
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:4]}
    assert rows["alpha"][1] == "ok" and rows["beta"][1] == "ok" and rows["broken"][1] == "failed"
    assert rows["alpha"][3] == str(output / "alpha" / "appendix.html")
    assert "missing.csv" in out and "2 of 3 projects ok" in out
    assert sorted(p.name for p in output.iterdir()) == ["alpha", "beta"]


ID_PATTERN = re.compile(r"\b(?:DEMO|DG|CE)-\d+\b")


@pytest.fixture(scope="module")
def real_appendix(tmp_path_factory) -> Path:
    """The packaged notebooks run on demo data (35 clients, English); returns the output folder."""
    root = tmp_path_factory.mktemp("real")
    params = demo_project(root)
    assert main(["run", str(params), "--output", str(root / "out"), "--quiet", "--language", "en", "--no-pdf"]) == 0
    return root / "out"


@pytest.mark.slow
def test_real_appendix_leaks_no_ids(real_appendix):
    """The packaged notebooks on demo data: no client or respondent id in any published file."""
    tables = demo.generate(demo.DemoSpec(clients=35))
    ids = set(tables["clients"]["client_id"]) | set(tables["feedback"]["respondent_id"].dropna())
    assert all(ID_PATTERN.fullmatch(i) for i in ids)  # the search below would find every one of them
    folder = real_appendix / "demo"
    assert [p.name for p in real_appendix.iterdir()] == ["demo"]  # no work folder left behind
    assert sorted(p.name for p in folder.iterdir()) == ["appendix.docx", "appendix.html", "disclosure", "executed",
                                                         "provenance.json", "tables", "tables-internal",
                                                         "tables.xlsx"]  # no cache, no records
    assert not list(folder.rglob("*.parquet"))
    published = [*folder.glob("appendix.*"), *(folder / "tables").rglob("*"), *(folder / "executed").rglob("*"),
                 *(folder / "disclosure").rglob("*")]
    executed = nbformat.read(str(folder / "executed" / "appendix.ipynb"), as_version=4)
    assert sorted({c.metadata["tyokyky_eval"]["notebook"] for c in executed.cells if "tyokyky_eval" in c.metadata}) \
        == sorted(p.name for p in Path(str(resource_dir("notebooks"))).glob("*.ipynb"))
    for path in (p for p in published if p.is_file()):
        if path.suffix in (".docx", ".xlsx"):  # zip containers: their XML parts
            with zipfile.ZipFile(path) as archive:
                text = "".join(archive.read(n).decode("utf-8") for n in archive.namelist() if n.endswith(".xml"))
        else:
            text = path.read_bytes().decode("utf-8", errors="ignore")
        assert not ID_PATTERN.search(text), f"{path.name} contains an id: {ID_PATTERN.search(text).group()}"
    assert "DEMO-01" in (real_appendix.parent / "demo-data" / "clients.csv").read_text(encoding="utf-8-sig")


@pytest.mark.slow
def test_validated_cache_changes_no_table(real_appendix, tmp_path, monkeypatch):
    """The kernel loads the run's validated Parquet tables and protected appendix
    (``validated_dir``); without them (the kernel reading, validating and protecting the input
    files itself) every table it shows is the same (the workbook is made from what it shows)."""
    executed = nbformat.read(str(real_appendix / "demo" / "executed" / "appendix.ipynb"), as_version=4)
    injected = next(c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert "validated_dir = " in injected.source and "validated_dir = None" not in injected.source

    def without_cache(source, target, parameters, kernel, progress, deadline=None, on_cell_executed=None):
        execute(source, target, {k: v for k, v in parameters.items() if k != "validated_dir"}, kernel, progress,
                deadline, on_cell_executed)

    execute = runner.execute_notebook
    monkeypatch.setattr(runner, "execute_notebook", without_cache)
    runner.run_project(real_appendix.parent / "parameters" / "demo.yaml", tmp_path, "en", progress=False, pdf=False)
    for kind in ("tables", "tables-internal"):
        cached = {p.name: p.read_bytes() for p in (real_appendix / "demo" / kind).iterdir()}
        uncached = {p.name: p.read_bytes() for p in (tmp_path / "demo" / kind).iterdir()}
        assert len(cached) > 10 and cached == uncached
    # two runs of the same inputs: the same workbook, byte for byte
    assert (real_appendix / "demo" / "tables.xlsx").read_bytes() == (tmp_path / "demo" / "tables.xlsx").read_bytes()
    executed = nbformat.read(str(tmp_path / "demo" / "executed" / "appendix.ipynb"), as_version=4)
    assert "validated_dir" not in next(c for c in executed.cells
                                       if "injected-parameters" in c.metadata.get("tags", [])).source


def test_kernel_shutdown_sends_no_interrupt(monkeypatch):
    """The runner's kernel manager does not SIGINT an idle kernel before shutting it down (the
    signal raced the shutdown request and made ipykernel log a KeyboardInterrupt), but an
    interrupt outside shutdown is still a SIGINT."""
    import asyncio
    import signal

    from tyokyky_eval.run.kernel import ensure_kernel

    sent = []

    async def record(self, signum):
        sent.append(signum)

    manager = runner._kernel_manager_class()(kernel_name=ensure_kernel())
    monkeypatch.setattr(type(manager), "_async_signal_kernel", record)

    async def lifecycle():
        await manager.start_kernel()
        await manager.interrupt_kernel()
        interrupts = list(sent)
        await manager.shutdown_kernel()
        return interrupts

    assert asyncio.run(lifecycle()) == [signal.SIGINT]
    assert sent == [signal.SIGINT]  # nothing more at shutdown


def test_validated_tables_round_trip(tmp_path):
    """``save_validated`` + ``load_project(validated=...)`` give back the same typed tables, warnings
    and file labels without reading the input files again."""
    from tyokyky_eval.errors import Problem
    from tyokyky_eval.inputs.project import load_project, save_validated

    params = demo_project(tmp_path, project_id="cached")
    project = load_project(params, "fi")
    project.warnings.append(Problem("clients.csv", 7, "birth_year", "epätavallinen", "1901", "warning", "odd"))
    folder = save_validated(project, tmp_path / "validated")
    (tmp_path / "demo-data" / "clients.csv").write_text("not;the;clients\n", encoding="utf-8")  # not read again
    cached = load_project(params, "fi", validated=folder)
    assert sorted(cached.tables) == sorted(project.tables) == ["activities", "clients", "employment", "feedback",
                                                               "fidelity", "kykyviisari"]
    for name, frame in project.tables.items():
        pd.testing.assert_frame_equal(cached.tables[name], frame, obj=name)
    assert cached.warnings == project.warnings and cached.labels == project.labels
    assert cached.language == "fi" and cached.params.project_id == "cached"


def _leftovers(output: Path, project_id: str = "demo") -> list[Path]:
    """Temporary folders of a run: work folders in ``output`` and private ones in the temp folder."""
    import tempfile

    private = list(Path(tempfile.gettempdir()).glob(runner.private_prefix(project_id, output.resolve()) + "*"))
    work = [p for p in output.iterdir() if p.name.startswith(f".{project_id}")] if output.is_dir() else []
    return work + private


SLEEP = "import time\ntime.sleep(120)"


@pytest.mark.slow
def test_timeout_stops_the_project_and_leaves_nothing(workspace, tmp_path, capsys):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    write_notebook(notebooks / "00_stuck.ipynb", [("code", SETUP), ("code", SLEEP)])
    output = tmp_path / "out"
    started = time.monotonic()
    code = main(["run", str(workspace / "parameters" / "demo.yaml"), "--output", str(output), "--quiet", "--no-pdf",
                 "--notebooks", str(notebooks), "--timeout", "20"])
    assert code == 1 and time.monotonic() - started < 60
    err = capsys.readouterr().err
    assert "did not finish within its time limit (--timeout)" in err, err
    assert list(output.iterdir()) == [] and _leftovers(output) == []


@pytest.mark.slow
def test_killed_run_cleans_up_on_sigterm_and_stale_folders_are_swept(workspace, tmp_path):
    import signal
    import subprocess
    import sys

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    write_notebook(notebooks / "00_stuck.ipynb", [("code", SETUP), ("code", SLEEP)])
    output = tmp_path / "out"
    command = [sys.executable, "-m", "tyokyky_eval.cli", "run", str(workspace / "parameters" / "demo.yaml"),
               "--output", str(output), "--quiet", "--no-pdf", "--notebooks", str(notebooks)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any((p / "appendix" / "executed").is_dir() for p in _leftovers(output)):
        time.sleep(0.2)
    assert _leftovers(output), "the run did not start"
    time.sleep(1)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    assert process.returncode != 0
    assert _leftovers(output) == []
    # SIGKILL cannot be caught: the next run of the project sweeps what it left
    stale = output / ".demo-k1ll3d00"
    (stale / "validated").mkdir(parents=True)
    (stale / "validated" / "clients.parquet").write_bytes(b"PAR1")
    quick = tmp_path / "quick"
    quick.mkdir()
    write_notebook(quick / "00_ok.ipynb", [("code", SETUP), ("code", TABLE)])
    assert main(["run", str(workspace / "parameters" / "demo.yaml"), "--output", str(output), "--quiet", "--no-pdf",
                 "--notebooks", str(quick)]) == 0
    assert not stale.exists() and sorted(p.name for p in output.iterdir()) == ["demo"]

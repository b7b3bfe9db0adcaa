"""run-all on a Dask distributed cluster: one task per project, a failing project does not stop the others."""
from __future__ import annotations

import sys

import pytest
from conftest import ProjectFiles

from tyokyky_eval.errors import TyokykyEvalError
from tyokyky_eval.run.cluster import dask_executor
from tyokyky_eval.run.many import run_all

distributed = pytest.importorskip("distributed")


def _project(root, folder, project_id):
    """A ProjectFiles project in ``root`` whose parameters are saved as ``folder/<project_id>.yaml``
    (run-all's layout), with absolute data paths."""
    files = ProjectFiles(root)
    files.params["project_id"] = project_id
    files.params["data"] = {name: str(files.path(name)) for name in files.tables}
    folder.mkdir(exist_ok=True)
    return files, files.save_params().rename(folder / f"{project_id}.yaml")


def _one_section(folder):
    """A one-section notebook folder: loads the project and shows its client count (one kernel
    start, so the test stays fast whatever sections the package has)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "tyokyky-eval", "display_name": "Python (tyokyky-eval)",
                                 "language": "python"}
    parameters = nbformat.v4.new_code_cell('params_path = ""\nlanguage = "en"\noutput_dir = None\n'
                                           'validated_dir = None')
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [parameters, nbformat.v4.new_markdown_cell("# Clients"),
                nbformat.v4.new_code_cell("from tyokyky_eval.inputs.project import load_project\n"
                                          "project = load_project(params_path, validated=validated_dir)\n"
                                          "from IPython.display import Markdown, display\n"
                                          "display(Markdown(f\"clients: {len(project.tables['clients'])}\"))")]
    folder.mkdir()
    nbformat.write(nb, str(folder / "00_clients.ipynb"))
    return folder


@pytest.mark.slow
def test_run_all_on_local_cluster(tmp_path):
    folder = tmp_path / "parameters"
    _project(tmp_path / "good", folder, "good-project")
    bad_files, _ = _project(tmp_path / "bad", folder, "bad-project")
    clients = bad_files.tables["clients"].astype({"start_date": object})
    clients.loc[3, "start_date"] = "31.02.2022"  # no such day
    bad_files.write("clients", clients)
    output = tmp_path / "out"

    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        outcomes = run_all(folder, output, language="en", notebooks_dir=_one_section(tmp_path / "notebooks"),
                           scheduler=cluster.scheduler_address)

    failed, ok = outcomes  # in file-name order
    assert (failed.project, failed.status, failed.appendix) == ("bad-project", "failed", "")
    assert "clients.csv:5:start_date" in failed.message  # header is row 1, so index 3 is row 5
    assert (ok.project, ok.status) == ("good-project", "ok"), ok.message
    assert ok.appendix == str(output.resolve() / "good-project" / "appendix.html")
    assert (output / "good-project" / "appendix.html").stat().st_size > 0
    executed = (output / "good-project" / "executed" / "appendix.ipynb").read_text(encoding="utf-8")
    assert "clients: 20" in executed  # the section ran on the worker against the project's data
    assert not (output / "good-project" / "validated").exists()  # the run's Parquet cache is not published
    assert not (output / "bad-project").exists()


def test_executor_is_a_concurrent_futures_executor():
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        with dask_executor(cluster.scheduler_address) as pool:
            futures = [pool.submit(pow, 2, k) for k in range(4)]
            assert [f.result() for f in futures] == [1, 2, 4, 8]


def test_missing_dask_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "distributed", None)  # makes `import distributed` fail
    (tmp_path / "p.yaml").write_text("project_id: p\n", encoding="utf-8")
    with pytest.raises(TyokykyEvalError, match=r"tyokyky-eval\[dask\]"):
        run_all(tmp_path, tmp_path / "out", scheduler="tcp://127.0.0.1:1")

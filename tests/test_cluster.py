"""run-all on a Dask distributed cluster: one task per project, a failing project does not stop the others."""
from __future__ import annotations

import sys

import pytest
from conftest import ProjectFiles

from tyokyky_eval.cluster import dask_executor, run_all_on_dask
from tyokyky_eval.errors import TyokykyEvalError

distributed = pytest.importorskip("distributed")


def _project(root, name, project_id):
    """A ProjectFiles project whose parameters are saved as ``root/<name>.yaml`` (run-all's layout)."""
    files = ProjectFiles(root)
    files.params["project_id"] = project_id
    return files, files.save_params().rename(root / f"{name}.yaml")


def _one_section(folder):
    """A one-section notebook folder: loads the project and prints its client count (one kernel
    start, so the test stays fast whatever sections the package has)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "tyokyky-eval", "display_name": "Python (tyokyky-eval)",
                                 "language": "python"}
    parameters = nbformat.v4.new_code_cell('params_path = ""\nlanguage = "en"\noutput_dir = None')
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [parameters, nbformat.v4.new_markdown_cell("# Clients"),
                nbformat.v4.new_code_cell("from tyokyky_eval.project import load_project\n"
                                          "print('clients:', len(load_project(params_path).tables['clients']))")]
    folder.mkdir()
    nbformat.write(nb, str(folder / "00_clients.ipynb"))
    return folder


@pytest.mark.slow
def test_run_all_on_local_cluster(tmp_path):
    _, good = _project(tmp_path / "good", "good", "good-project")
    bad_files, bad = _project(tmp_path / "bad", "bad", "bad-project")
    clients = bad_files.tables["clients"].astype({"start_date": object})
    clients.loc[3, "start_date"] = "31.02.2022"  # no such day
    bad_files.write("clients", clients)
    output = tmp_path / "out"

    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        outcomes = run_all_on_dask([bad, good], cluster.scheduler_address, output, language="en",
                                   notebooks_dir=_one_section(tmp_path / "notebooks"))

    failed, ok = outcomes  # in the order of the parameter files
    assert (failed.project, failed.status, failed.appendix) == ("bad-project", "failed", "")
    assert "clients.csv:5:start_date" in failed.message  # header is row 1, so index 3 is row 5
    assert (ok.project, ok.status) == ("good-project", "ok"), ok.message
    assert ok.appendix == str(output.resolve() / "good-project" / "appendix.html")
    assert (output / "good-project" / "appendix.html").stat().st_size > 0
    executed = (output / "good-project" / "executed" / "00_clients.ipynb").read_text(encoding="utf-8")
    assert "clients: 20" in executed  # the section ran on the worker against the project's data
    assert not (output / "bad-project").exists()


def test_executor_is_a_concurrent_futures_executor():
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        with dask_executor(cluster.scheduler_address) as pool:
            futures = [pool.submit(pow, 2, k) for k in range(4)]
            assert [f.result() for f in futures] == [1, 2, 4, 8]


def test_missing_dask_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "distributed", None)  # makes `import distributed` fail
    with pytest.raises(TyokykyEvalError, match=r"tyokyky-eval\[dask\]"):
        run_all_on_dask([tmp_path / "p.yaml"], "tcp://127.0.0.1:1", tmp_path)

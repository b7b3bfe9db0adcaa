"""Run many projects on an existing Dask distributed cluster (``tyokyky-eval run-all DIR --scheduler``).

One task per project, each the same per-project job the local process pool runs
(``runner._run_one``), so the outcome rows are the same; a failing project never stops the others.
The workers need this package installed (same version) and must see the parameter files, the data
they point at and the output folder under the same absolute paths (a shared file system).
Needs the optional extra: ``pip install "tyokyky-eval[dask]"``.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from tyokyky_eval.errors import TyokykyEvalError

DASK_MISSING = ("running on a Dask cluster needs the optional dask extra: "
                "pip install \"tyokyky-eval[dask]\" (or leave out --scheduler to use local processes)")


@contextmanager
def dask_executor(scheduler_address: str):
    """A ``concurrent.futures.Executor`` whose tasks run on the cluster at ``scheduler_address``
    (e.g. ``tcp://10.0.0.5:8786``); a drop-in for ``ProcessPoolExecutor``. Tasks are never cached:
    running the same project again is new work."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise TyokykyEvalError(DASK_MISSING) from exc
    with Client(scheduler_address) as client, client.get_executor(pure=False) as executor:
        yield executor


def run_all_on_dask(param_files, scheduler_address: str, output: str | Path = "output",
                    language: str | None = None, notebooks_dir: str | Path | None = None) -> list:
    """Run every parameters file on the cluster; one ``runner.ProjectOutcome`` per file, in the
    order given. Paths are made absolute here, on the submitting machine."""
    from tyokyky_eval.runner import _run_one

    paths = [str(Path(p).resolve()) for p in param_files]
    output = str(Path(output).resolve())
    folder = None if notebooks_dir is None else str(Path(notebooks_dir).resolve())
    with dask_executor(scheduler_address) as pool:
        futures = [pool.submit(_run_one, path, output, language, folder) for path in paths]
        return [future.result() for future in futures]

"""Run many projects on an existing Dask distributed cluster (``tyokyky-eval run-all DIR --scheduler``).

``many.run_all(..., scheduler=address)`` submits one task per project through ``dask_executor``,
each the same per-project job the local process pool runs (``many._run_one``), so the outcome rows
are the same; a failing project never stops the others.
The workers need this package installed (same version) and must see the parameter files, the data
they point at and the output folder under the same absolute paths (a shared file system).
Needs the optional extra: ``pip install "tyokyky-eval[dask]"``.
"""
from __future__ import annotations

from contextlib import contextmanager

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

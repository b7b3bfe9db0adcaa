"""Many projects: every parameters file of a folder in parallel processes or on a Dask cluster
(:mod:`tyokyky_eval.run.cluster`), one project's run each (:func:`tyokyky_eval.run.runner.run_project`),
then, when asked, the programme appendix of those that succeeded (:mod:`tyokyky_eval.programme.run`)."""
from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tyokyky_eval.errors import ParameterError, TyokykyEvalError
from tyokyky_eval.programme.run import FOLDER, synthesis_outcome
from tyokyky_eval.run.cluster import dask_executor
from tyokyky_eval.run.kernel import ensure_kernel
from tyokyky_eval.run.runner import ProjectOutcome, run_project


def _project_name(params_path: Path) -> str:
    """The project id of a parameters file, or the file's stem when it cannot be read."""
    from tyokyky_eval.inputs.params import load_params

    try:
        return load_params(params_path).project_id
    except TyokykyEvalError:
        return params_path.stem


def _run_one(params_path: str, output: str, language: str | None, notebooks_dir: str | None,
             timeout: float | None = None, pdf: bool = True) -> ProjectOutcome:
    started = time.perf_counter()
    name = _project_name(Path(params_path))
    try:
        result = run_project(params_path, output, language, progress=False, notebooks_dir=notebooks_dir,
                             timeout=timeout, pdf=pdf)
    except Exception as exc:  # noqa: BLE001 — one broken project must not stop the others
        message = ("\n".join(exc.texts(language)) if isinstance(exc, ParameterError)
                   else str(exc) if isinstance(exc, TyokykyEvalError) else f"{type(exc).__name__}: {exc}")
        return ProjectOutcome(name, "failed", round(time.perf_counter() - started, 1), message=message)
    return ProjectOutcome(name, "ok", round(time.perf_counter() - started, 1), str(result.appendix),
                          " ".join(result.messages))


def run_all(directory: str | Path, output: str | Path = "output", jobs: int = 2, language: str | None = None,
            notebooks_dir: str | Path | None = None, scheduler: str | None = None,
            timeout: float | None = None, synthesis: bool = False, pdf: bool = True) -> list[ProjectOutcome]:
    """Run every ``*.yaml`` of ``directory`` in parallel processes (``jobs`` at a time) or, with
    ``scheduler`` (e.g. ``tcp://10.0.0.5:8786``), as one task per project on that Dask cluster (the
    cluster decides how many run at a time; see ``tyokyky_eval.run.cluster``). One failure stops no
    other. Outcomes are in file-name order. Two files with the same ``project_id`` would write the
    same folder, so only the first of them runs. Paths are made absolute here, so that workers in
    other folders or on other machines (with a shared file system) find the same files.
    ``timeout``: seconds each project may take; a project over its limit fails, the others go on.
    ``pdf``: False writes no ``appendix.pdf``.
    ``synthesis``: then the programme appendix of the appendices that succeeded, as one more task
    on the same processes or cluster, into ``<output>/synthesis`` (its row is the last outcome)."""
    paths = sorted(Path(directory).glob("*.yaml")) + sorted(Path(directory).glob("*.yml"))
    if not paths:
        raise TyokykyEvalError(f"no parameters files (*.yaml) in {directory}")
    ensure_kernel()  # once, before the workers start, so they never race to install it
    output = str(Path(output).resolve())
    folder = None if notebooks_dir is None else str(Path(notebooks_dir).resolve())
    names = [_project_name(p) for p in paths]
    executor = dask_executor(scheduler) if scheduler else ProcessPoolExecutor(max_workers=max(1, jobs))
    with executor as pool:
        futures = [None if name in names[:i] else
                   pool.submit(_run_one, str(p.resolve()), output, language, folder, timeout, pdf)
                   for i, (p, name) in enumerate(zip(paths, names))]
        outcomes = [f.result() if f is not None else
                    ProjectOutcome(name, "failed", 0.0, message=f"{p.name}: project_id '{name}' is used by "
                                   f"{paths[names.index(name)].name} too")
                    for p, name, f in zip(paths, names, futures)]
        if synthesis:
            folders = [str(Path(o.appendix).parent) for o in outcomes if o.status == "ok" and o.project != FOLDER]
            outcomes.append(pool.submit(synthesis_outcome, folders, str(Path(output) / FOLDER), language,
                                        timeout, pdf).result())
        return outcomes

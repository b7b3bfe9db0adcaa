"""A loaded project: validated parameters plus validated, canonical input tables.

This is what notebooks start from::

    project = load_project("parameters/demo.yaml", language="fi")
    project.tables["clients"]      # tidy DataFrame, canonical columns

A run validates once and hands its notebooks the result: ``save_validated`` writes the tables as
Parquet plus the warnings and file labels as JSON into the run's temporary work folder, and
``load_project(..., validated=folder)`` reads them back instead of re-reading the raw files.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from tyokyky_eval.errors import DataError, OutputError, Problem
from tyokyky_eval.inputs.params import Params, load_params
from tyokyky_eval.inputs.validation import validate_project


@dataclass
class Project:
    params: Params
    language: str
    tables: dict[str, pd.DataFrame]
    warnings: list[Problem] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    #: section → {table: published frame}: what the protected appendix releases (set by
    #: :func:`tyokyky_eval.publication.appendix.protect_appendix`)
    release: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)
    #: the :class:`tyokyky_eval.publication.appendix.ProtectedAppendix` once built (a run builds it once and
    #: hands it, with its sections, to every notebook through the validated folder)
    appendix: object = field(default=None, repr=False, compare=False)

    def table(self, name: str) -> pd.DataFrame | None:
        """The validated table ``name``, or None when the project has no such data."""
        return self.tables.get(name)


def load_project(params_path: str | Path, language: str | None = None,
                 validated: str | Path | None = None) -> Project:
    """Load parameters and every input table; raises ``ParameterError`` or ``DataError``.

    ``validated``: a folder written by ``save_validated`` for these parameters (the runner passes
    one to every notebook); its tables, warnings and labels are used and the input files are not
    read again. None (default) reads and validates the input files."""
    if validated is not None:  # a run's validated folder does not change: read it once per process
        key = (str(Path(params_path).resolve()), language, str(Path(validated).resolve()))
        if key not in _VALIDATED:
            params = load_params(params_path)
            _VALIDATED[key] = _read_validated(params, language or params.language, Path(validated))
        return _VALIDATED[key]
    params = load_params(params_path)
    language = language or params.language
    result = validate_project(params, language)
    if result.errors:
        raise DataError(result.errors)
    return Project(params, language, result.tables, result.warnings, result.labels)


#: projects read from validated folders in this process (one kernel shows every section of a run)
_VALIDATED: dict[tuple, Project] = {}
VALIDATED_INDEX = "validated.json"
APPENDIX = "appendix.pickle"
APPENDIX_FAILED = "appendix.failed"


def save_validated(project: Project, folder: str | Path, appendix_follows: bool = False) -> Path:
    """Write ``project``'s validated tables (``<name>.parquet``; dtypes are kept through the pandas
    metadata Parquet carries) and its warnings and labels (``validated.json``) into ``folder``, and
    its protected appendix when it has one. ``appendix_follows``: the run writes the appendix later
    (:func:`save_appendix`), and a reader waits for it, so that a kernel can start meanwhile."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in project.tables.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    index = {"tables": sorted(project.tables), "labels": project.labels,
             "warnings": [asdict(w) for w in project.warnings], "appendix_follows": appendix_follows}
    (folder / VALIDATED_INDEX).write_text(json.dumps(index, ensure_ascii=False), encoding="utf-8")
    if project.appendix is not None:  # the protected appendix, built once by the run (private, like the tables)
        save_appendix(project.appendix, folder)
    return folder


def hand_over(obj, folder: Path, name: str) -> None:
    """``obj`` pickled into ``folder/name`` for the run's kernel, whole or not at all (the kernel
    may be waiting for it: :func:`wait_for`)."""
    partial = folder / f".{name}"
    pd.to_pickle(obj, partial)
    os.replace(partial, folder / name)


def save_appendix(appendix, folder: Path) -> None:
    """The protected appendix into the validated ``folder`` (:func:`hand_over`)."""
    hand_over(appendix, folder, APPENDIX)


def appendix_failed(folder: Path) -> None:
    """Tell a reader waiting in ``folder`` that nothing more will come (the run failed)."""
    (folder / APPENDIX_FAILED).touch()


def claim(folder: Path, name: str) -> bool:
    """True for the first of the run and its kernel to claim the work ``name`` in the validated
    ``folder`` (an exclusive file creation), False for every later claim."""
    try:
        os.close(os.open(folder / f"{name}.claimed", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        return False
    return True


def wait_for(folder: Path, name: str):
    """What the run hands over as ``folder/name`` (:func:`hand_over`), once it is there; the run's
    failure (or its folder removed) ends the wait."""
    while not (folder / name).is_file():
        if (folder / APPENDIX_FAILED).exists() or not folder.is_dir():
            raise OutputError(f"the run stopped before it handed over {name}")
        time.sleep(0.01)
    return pd.read_pickle(folder / name)


def _read_validated(params: Params, language: str, folder: Path) -> Project:
    index = json.loads((folder / VALIDATED_INDEX).read_text(encoding="utf-8"))
    tables = {name: pd.read_parquet(folder / f"{name}.parquet") for name in index["tables"]}
    project = Project(params, language, tables, [Problem(**w) for w in index["warnings"]], index["labels"])
    if index.get("appendix_follows") or (folder / APPENDIX).is_file():
        project.appendix = wait_for(folder, APPENDIX)
        project.release = project.appendix.release
    return project

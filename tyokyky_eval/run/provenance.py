"""Provenance of an appendix: what produced it, from which files, with which software.

``provenance.json`` records the package version, the git commit of the package source (when it is a
git checkout), the parameters file and every input file with its SHA-256 checksum, the versions of
Python and the key packages, the notebooks run and the run time. The record is published with the
appendix, so it names the input tables (``clients``, ``fidelity``, …) and their checksums but never
a file name, sheet name or path: those are the user's own words and may name people or places.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from tyokyky_eval import __version__
from tyokyky_eval.inputs.params import Params

KEY_PACKAGES = ("pandas", "numpy", "scipy", "statsmodels", "matplotlib", "pandera",
                "papermill", "nbconvert", "nbformat", "ipykernel", "pyyaml", "openpyxl", "tqdm")


def input_files(params) -> dict:
    """SHA-256 of every input file, by table; survey exports as ``feedback_export_<n>`` in the order
    of ``data.feedback`` (no file names: the record is published)."""
    files = {table: {"sha256": sha256_file(src.path)} for table, src in sorted(params.data.items())}
    for number, export in enumerate(params.feedback_exports, 1):
        files[f"feedback_export_{number}"] = {"sha256": sha256_file(export.path)}
    return files


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def git_commit(folder: str | Path | None = None) -> dict | None:
    """``{"commit": sha, "dirty": bool}`` of the git checkout holding ``folder`` (default: this
    package's source), or None when it is not a git checkout or git is missing."""
    folder = Path(folder or Path(__file__).resolve().parent)
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=folder,
                                capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": sha, "dirty": bool(status.strip())}


def package_versions(names=KEY_PACKAGES) -> dict[str, str | None]:
    """Installed version of each distribution (None when not installed)."""
    out = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def collect(params: Params, language: str, notebooks: dict[str, str], started: dt.datetime,
            finished: dt.datetime | None = None) -> dict:
    """The provenance record of one run. ``notebooks`` maps notebook file → ``"executed"`` or
    ``"skipped"``; times are timezone-aware."""
    record = {
        "project_id": params.project_id,
        "title": params.title[language],
        "language": language,
        "cutoff_date": params.cutoff_date.isoformat(),
        "synthetic": bool(params.synthetic),
        "package": {"name": "tyokyky-eval", "version": __version__, "git": git_commit()},
        "parameters_file": {"sha256": sha256_file(params.path)},
        "input_files": input_files(params),
        "python": {"version": platform.python_version(), "implementation": platform.python_implementation()},
        "packages": package_versions(),
        "notebooks": dict(notebooks),
        "run": {"started": started.isoformat(timespec="seconds")},
    }
    if finished is not None:
        record["run"]["finished"] = finished.isoformat(timespec="seconds")
        record["run"]["seconds"] = round((finished - started).total_seconds(), 1)
    return record


def write(record: dict, path: str | Path) -> None:
    Path(path).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

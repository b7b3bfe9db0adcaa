"""A researcher's working copy of the appendix notebooks for one project, opened in JupyterLab.

``prepare`` validates the project first (the gate of ``tyokyky-eval validate``: bad parameters or
data raise ``ParameterError`` / ``DataError`` before anything is written) and writes
``<directory>/<project_id>/``: every notebook the project has data for, with the project's
parameters injected by papermill's prepare-only route (nothing is executed) and one comment per
parameter, only the chosen language's prose, no outputs, the ``tyokyky-eval`` kernel, a first cell
saying that this is a working copy and not the published appendix, and a closing "your own
analysis" cell from ``notebooks/own_analysis/<notebook>.yaml`` (never part of the published
appendix, whose outputs are disclosure-controlled).

The copy is never written inside a folder that holds the project's input files. Preparing again
replaces an unchanged copy with a fresh one but keeps a copy the researcher has changed (a notebook
edited or saved, a file added) as it is, unless ``force``.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml

from tyokyky_eval import __version__
from tyokyky_eval.errors import OutputError
from tyokyky_eval.i18n import t
from tyokyky_eval.inputs.project import Project, load_project
from tyokyky_eval.render.document import LANGUAGE_TAGS
from tyokyky_eval.run.kernel import ensure_kernel
from tyokyky_eval.run.runner import missing_tables, missing_text, notebook_paths

MANIFEST = ".tyokyky-lab.json"
OWN_ANALYSIS_TAG = "own-analysis"


@dataclass
class WorkingCopy:
    """A prepared (or kept) working copy: its folder, language, notebooks and left-out sections."""

    folder: Path
    language: str
    notebooks: list[str]
    skipped: list[str] = field(default_factory=list)
    kept: bool = False  # an existing copy with the researcher's changes, left as it was


def prepare(params_path: str | Path, language: str | None = None, directory: str | Path = "tyokyky-lab",
            force: bool = False) -> WorkingCopy:
    """Write (or keep) the working copy ``<directory>/<project_id>/`` of the project's notebooks."""
    params_path = Path(params_path).resolve()
    project = load_project(params_path, language)  # raises before anything is written
    language, project_id = project.language, project.params.project_id
    folder = Path(directory).absolute() / project_id
    _check_outside_data(folder, project)
    existing = _read_manifest(folder, language)
    kernel = ensure_kernel()
    if existing and not force and _changed(folder, existing):
        if existing["language"] != language:
            raise OutputError(t("lab.other_language", language, path=folder, other=existing["language"]))
        return WorkingCopy(folder, language, sorted(existing["notebooks"]), kept=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{project_id}-", dir=folder.parent))
    try:
        copy = WorkingCopy(folder, language, [])
        for source in notebook_paths():
            nb = nbformat.read(str(source), as_version=4)
            missing = missing_tables(nb, project)
            if missing:
                copy.skipped.append(t("lab.skipped", language, notebook=source.name,
                                      missing=missing_text(missing, language)))
                continue
            nbformat.write(working_notebook(nb, source, project, params_path, kernel), str(staging / source.name))
            copy.notebooks.append(source.name)
        manifest = {"project_id": project_id, "language": language, "params_path": str(params_path),
                    "tyokyky_eval": __version__,
                    "notebooks": {name: _sha256(staging / name) for name in copy.notebooks}}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)  # an unchanged working copy, an empty folder, or force
        os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return copy


def working_notebook(nb: nbformat.NotebookNode, source: Path, project: Project, params_path: Path,
                     kernel: str) -> nbformat.NotebookNode:
    """The notebook ``nb`` (read from ``source``) as a working copy for ``project`` (see the module
    docstring)."""
    import papermill

    language = project.language
    documented = papermill.inspect_notebook(nb)  # parameter name → default and help comment
    nb = papermill.execute_notebook(nb, None, parameters={"params_path": str(params_path), "language": language},
                                    prepare_only=True, kernel_name=kernel, progress_bar=False)
    injected = next(c.source for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    values = dict(re.findall(r"^(\w+) = (.*)$", injected, re.M))
    notice = nbformat.v4.new_markdown_cell(t("lab.notice", language, project_id=project.params.project_id,
                                             params=params_path.name))
    notice["id"] = "working-copy"
    cells = [notice]
    for cell in nb.cells:
        tags = set(cell.metadata.get("tags", []))
        if "injected-parameters" in tags or (tags & LANGUAGE_TAGS and language not in tags):
            continue
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if "parameters" in tags:
            cell.source = "\n".join(
                f"{name} = {values.get(name, info['default'])}" + (f"  # {info['help']}" if info["help"] else "")
                for name, info in documented.items())
        cells.append(cell)
    nb.cells = cells + own_analysis_cells(source, language)
    nb.metadata.pop("papermill", None)
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": "Python (tyokyky-eval)", "language": "python"}
    return nb


def own_analysis_cells(source: Path, language: str) -> list:
    """The "your own analysis" markdown and code cells of notebook ``source`` (none without a snippet)."""
    path = Path(source).parent / "own_analysis" / f"{Path(source).stem}.yaml"
    if not path.is_file():
        return []
    snippet = yaml.safe_load(path.read_text(encoding="utf-8"))
    text, code = nbformat.v4.new_markdown_cell(snippet[language]), nbformat.v4.new_code_cell(snippet["code"].rstrip())
    text.metadata["tags"], code.metadata["tags"] = [language, OWN_ANALYSIS_TAG], [OWN_ANALYSIS_TAG]
    text["id"], code["id"] = f"{OWN_ANALYSIS_TAG}-text", f"{OWN_ANALYSIS_TAG}-code"
    return [text, code]


def _check_outside_data(folder: Path, project: Project) -> None:
    target = folder.resolve()
    for source in project.params.data.values():
        data_folder = source.path.resolve().parent
        if target == data_folder or data_folder in target.parents:
            raise OutputError(t("lab.inside_data", project.language, path=folder, folder=data_folder,
                                file=source.path.name))


def _read_manifest(folder: Path, language: str) -> dict | None:
    """The manifest of the working copy in ``folder``; None when there is no folder or an empty one.
    Anything else without a manifest is not ours to replace (``OutputError``)."""
    if not folder.exists() and not folder.is_symlink():
        return None
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        if folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir()):
            return None
        raise OutputError(t("lab.not_working_copy", language, path=folder, manifest=MANIFEST)) from None


def _changed(folder: Path, manifest: dict) -> bool:
    """Whether the researcher changed the copy: a notebook differs from the one prepared, or a file
    was added (hidden files and folders such as Jupyter's checkpoints do not count)."""
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*")
             if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)}
    prepared = manifest.get("notebooks", {})
    return files != set(prepared) or any(_sha256(folder / name) != digest for name, digest in prepared.items())


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- JupyterLab -----------------------------------------------------------------------------------
def has_jupyterlab() -> bool:
    """Whether JupyterLab is installed in this environment."""
    return importlib.util.find_spec("jupyterlab") is not None


def jupyter_lab_command(folder: Path, browser: bool = True) -> list[str]:
    """The command that starts this environment's JupyterLab on ``folder`` (as root too, which
    JupyterLab otherwise refuses: containers often run as root)."""
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={folder}"]
    if getattr(os, "geteuid", lambda: 1)() == 0:
        command.append("--allow-root")
    return command if browser else [*command, "--no-browser"]


def command_text(command: list[str]) -> str:
    """``command`` as it would be typed in this system's shell."""
    return subprocess.list2cmdline(command) if os.name == "nt" else shlex.join(command)


def start_jupyter_lab(command: list[str]) -> int:
    """Run JupyterLab until it stops and return its exit code. Ctrl-C is left to JupyterLab, which
    asks before it shuts down and stops its kernels; SIGTERM is passed on to it."""
    process = subprocess.Popen(command)
    previous = {signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN),
                signal.SIGTERM: signal.signal(signal.SIGTERM, lambda signum, frame: process.terminate())}
    try:
        return process.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

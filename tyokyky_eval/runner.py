"""Execute the notebooks of one project with papermill and assemble the appendix.

The run writes into a temporary folder next to the destination and moves it into place only when
everything succeeded, so a failure never replaces a previous good appendix.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import nbformat

from tyokyky_eval.errors import NotebookError
from tyokyky_eval.kernel import ensure_kernel
from tyokyky_eval.project import load_project
from tyokyky_eval.resources import resource_dir

LANGUAGE_TAGS = {"fi", "en"}


def notebook_paths() -> list[Path]:
    """The appendix notebooks, in order (file names start with their position: 00_, 10_, …)."""
    return sorted(Path(str(p)) for p in resource_dir("notebooks").iterdir() if p.name.endswith(".ipynb"))


def execute_notebook(source: Path, target: Path, parameters: dict, kernel: str, progress: bool) -> None:
    """Run one notebook with papermill; a failing cell becomes ``NotebookError`` naming it."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    try:
        papermill.execute_notebook(str(source), str(target), parameters=parameters, kernel_name=kernel,
                                   progress_bar=progress, cwd=str(target.parent))
    except PapermillExecutionError as exc:
        raise NotebookError(
            f"notebook {source.name} failed in cell {exc.cell_index} (execution count {exc.exec_count}): "
            f"{exc.ename}: {exc.evalue}") from None


def merge_notebooks(paths: list[Path], language: str) -> nbformat.NotebookNode:
    """One notebook of all executed notebooks: prose cells of the other language and the injected
    parameter cells are dropped."""
    merged = nbformat.v4.new_notebook()
    for path in paths:
        nb = nbformat.read(str(path), as_version=4)
        for cell in nb.cells:
            tags = set(cell.get("metadata", {}).get("tags", []))
            if tags & LANGUAGE_TAGS and language not in tags:
                continue
            if tags & {"parameters", "injected-parameters"}:
                continue
            merged.cells.append(cell)
        merged.metadata = merged.metadata or nb.metadata
    return merged


def export_html(nb: nbformat.NotebookNode, title: str) -> str:
    """Self-contained HTML with the code hidden."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    nb.metadata["title"] = title
    body, _ = exporter.from_notebook_node(nb)
    return body


def run_project(params_path: str | Path, output: str | Path = "output", language: str | None = None,
                progress: bool = True) -> Path:
    """Validate, execute every notebook and write ``<output>/<project_id>/``; returns that folder."""
    params_path = Path(params_path).resolve()
    project = load_project(params_path, language)  # raises before anything is written
    language = project.language
    kernel = ensure_kernel()
    output = Path(output).resolve()
    output.mkdir(parents=True, exist_ok=True)
    final = output / project.params.project_id
    work = Path(tempfile.mkdtemp(prefix=f".{project.params.project_id}-", dir=output))
    try:
        executed = []
        (work / "executed").mkdir()
        for source in notebook_paths():
            target = work / "executed" / source.name
            execute_notebook(source, target, {"params_path": str(params_path), "language": language,
                                              "output_dir": str(work)}, kernel, progress)
            executed.append(target)
        html = export_html(merge_notebooks(executed, language), project.params.title)
        (work / "appendix.html").write_text(html, encoding="utf-8")
        _replace(work, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final


def _replace(new: Path, final: Path) -> None:
    """Move ``new`` to ``final``, replacing a previous result only after the move can succeed."""
    old = final.with_name(f".{final.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    new.rename(final)
    shutil.rmtree(old, ignore_errors=True)

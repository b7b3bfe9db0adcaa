"""``tyokyky-eval synthesis``: the programme appendix, written as a project's appendix is.

:func:`run_synthesis` reads and checks every project appendix first (nothing is written when one
is invalid), builds the :class:`~tyokyky_eval.programme.synthesis.Programme` once and hands it to
one kernel, which executes the synthesis notebook (``notebooks/programme/synthesis.ipynb``) with
papermill. The page, Word and Excel files are written from the blocks the notebook showed (as
``runner.notebook_blocks`` reads them), ``tables/`` and its ``datapackage.json`` from the
programme's published tables, ``appendix.pdf`` by headless Chromium where it is installed. The run
uses the project runner's safety: a private temporary folder, a lock per output folder, and
replacing the output folder only when it is an earlier synthesis (never a project appendix).
"""
from __future__ import annotations

import datetime as dt
import json
import platform
import shutil
import tempfile
import time
from pathlib import Path

import nbformat

from tyokyky_eval import __version__
from tyokyky_eval.errors import OutputError, TyokykyEvalError
from tyokyky_eval.i18n import t
from tyokyky_eval.programme.published import read_appendices
from tyokyky_eval.programme.synthesis import PROGRAMME_ID, Programme, save_programme
from tyokyky_eval.render import document as doc
from tyokyky_eval.render.csv import published_tables, write_csv
from tyokyky_eval.render.datapackage import metadata, write_datapackage
from tyokyky_eval.render.docx import write_docx
from tyokyky_eval.render.html import page
from tyokyky_eval.render.pdf import print_pdf
from tyokyky_eval.render.xlsx import write_xlsx
from tyokyky_eval.resources import resource_dir
from tyokyky_eval.run import provenance, runner
from tyokyky_eval.run.kernel import ensure_kernel

NOTEBOOK = "synthesis.ipynb"
#: the synthesis's folder under ``run-all --synthesis``'s output folder
FOLDER = "synthesis"
PARAMETERS = 'appendix_dirs = []\nlanguage = "fi"\noutput_dir = None\nprepared = None'
#: what a synthesis writes into its folder (anything else there stops the run)
ENTRIES = {"appendix.html", "appendix.pdf", "appendix.docx", "tables.xlsx", "executed", "tables", "provenance.json"}


def notebook_path() -> Path:
    return Path(str(resource_dir("notebooks"))) / "programme" / NOTEBOOK


def programme_metadata(programme: Programme) -> dict:
    """The package-level facts of the synthesis's ``datapackage.json`` (``datapackage.metadata``):
    the programme, its language and cut-off, every project's services with their kinds, and
    ``sources``: each project appendix read, with the SHA-256 of its published tables."""
    services = [{"code": f"{s['project']}/{s['service']}", "kind": s["kind"], "project": s["project"],
                 "analyses": [a for a in s["analyses"].split(";") if a]} for s in programme.services.to_dict("records")]
    return {**metadata(programme.params, programme.language, services),
            "sources": [{"title": a.project_id, "sha256": a.sha256} for a in programme.appendices]}


def record(programme: Programme, started: dt.datetime, finished: dt.datetime | None = None) -> dict:
    """The provenance of a synthesis: software, and each project appendix read (its published
    tables' SHA-256, under ``input_files`` as the appendix's provenance section shows them)."""
    p = programme.params
    out = {"project_id": PROGRAMME_ID, "title": p.title[programme.language], "language": programme.language,
           "cutoff_date": p.cutoff_date.isoformat(), "synthetic": p.synthetic,
           "package": {"name": "tyokyky-eval", "version": __version__, "git": provenance.git_commit()},
           "input_files": {a.project_id: {"sha256": a.sha256} for a in programme.appendices},
           "python": {"version": platform.python_version(), "implementation": platform.python_implementation()},
           "packages": provenance.package_versions(), "notebooks": {NOTEBOOK: "executed"},
           "run": {"started": started.isoformat(timespec="seconds")}}
    if finished is not None:
        out["run"].update(finished=finished.isoformat(timespec="seconds"),
                          seconds=round((finished - started).total_seconds(), 1))
    return out


def check_destination(final: Path, inputs: list[Path], language: str) -> None:
    """Raise ``OutputError`` unless ``final`` is absent or an earlier synthesis (its
    ``provenance.json`` written by tyokyky-eval for the programme, nothing else in it), and holds
    none of the appendices read (a synthesis replaces its whole folder)."""
    if not final.exists() and not final.is_symlink():
        return
    if final.is_symlink() or not final.is_dir():
        raise OutputError(t("appendix.output_not_folder", language, path=final))
    resolved = final.resolve()
    inside = [p for p in inputs if p.resolve() == resolved or resolved in p.resolve().parents]
    if inside:
        raise OutputError(t("appendix.output_holds_inputs", language, path=final, file=inside[0].name))
    try:
        previous = json.loads((final / "provenance.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        previous = None
    if not isinstance(previous, dict) or previous.get("project_id") != PROGRAMME_ID or \
            (previous.get("package") or {}).get("name") != "tyokyky-eval":
        raise OutputError(t("appendix.output_not_appendix", language, path=final, project=PROGRAMME_ID))
    extra = sorted(p.name for p in final.iterdir() if p.name not in ENTRIES)
    if extra:
        raise OutputError(t("appendix.output_foreign_files", language, path=final, files=", ".join(extra[:5])))


def run_synthesis(appendix_dirs, output: str | Path = "output/synthesis", language: str | None = None,
                  pdf: bool = True, progress: bool = True, timeout: float | None = None) -> runner.RunResult:
    """Write the programme appendix of the project appendices in ``appendix_dirs`` into the
    folder ``output`` (module docstring). ``language``: default the projects' own when they all
    share one, else Finnish. Raises ``DataError`` (exit 2) for an invalid input before anything is
    written, ``NotebookError`` and ``OutputError`` as ``run_project`` does."""
    started = dt.datetime.now(dt.timezone.utc).astimezone()
    deadline = None if timeout is None else time.monotonic() + timeout
    inputs = [Path(d).absolute() for d in appendix_dirs]
    appendices = read_appendices(inputs)  # raises before anything is written
    languages = {a.package.get("language") for a in appendices}
    language = language or (languages.pop() if len(languages) == 1 and None not in languages else "fi")
    programme = Programme(appendices, language)
    final = Path(output).absolute()
    parent, name = final.parent, final.name
    try:
        parent.mkdir(parents=True, exist_ok=True)
        check_destination(final, inputs, language)
    except OSError as exc:
        raise runner.os_error(exc, parent, language) from None
    with runner.project_lock(parent, name), runner.cleanup_on_signals():
        runner.sweep_stale(parent, name)
        check_destination(final, inputs, language)
        kernel = ensure_kernel()
        staging = private = None
        try:
            private = Path(tempfile.mkdtemp(prefix=runner.private_prefix(name, parent)))
            work = private / "appendix"
            (work / "executed").mkdir(parents=True)
            result = _write(programme, inputs, work, private, final, kernel, progress, pdf, started, deadline)
            staging = Path(tempfile.mkdtemp(prefix=runner.work_prefix(name), dir=parent))
            runner.move_into(work, staging)
            runner.replace_folder(staging, final)
        except OSError as exc:
            raise runner.os_error(exc, parent, language) from None
        finally:
            for folder in (staging, private):
                if folder is not None:
                    shutil.rmtree(folder, ignore_errors=True)
    return result


def _write(programme: Programme, inputs: list[Path], work: Path, private: Path, final: Path, kernel: str,
           progress: bool, pdf: bool, started, deadline) -> runner.RunResult:
    """Everything of one synthesis into ``work``: the notebook executed on the programme built once,
    the page, Word and Excel from its blocks, ``tables/`` from the programme, the PDF, provenance."""
    language, result = programme.language, runner.RunResult(final)
    source = notebook_path()
    combined = private / NOTEBOOK
    nbformat.write(runner.appendix_notebook([(source, nbformat.read(str(source), as_version=4))], PARAMETERS),
                   str(combined))
    target = work / "executed" / NOTEBOOK
    parameters = {"appendix_dirs": [str(p) for p in inputs], "language": language, "output_dir": str(work),
                  "prepared": str(save_programme(programme, private / "programme.pickle"))}
    runner.time_left(deadline, PROGRAMME_ID)
    runner.execute_notebook(combined, target, parameters, kernel, progress, deadline)
    shown = runner.notebook_blocks(nbformat.read(str(target), as_version=4), language).get(NOTEBOOK, [])
    runner.sanitise_executed(target, combined, parameters)
    tables = published_tables(programme)
    for name, frame in tables.items():
        write_csv(frame, work / "tables", name, published=True)
    write_datapackage(programme, programme_metadata(programme), work, tables)
    document = doc.assemble(programme, [doc.Part("synthesis", tuple(shown))], record(programme, started))
    (work / "appendix.html").write_text(page(document), encoding="utf-8")
    stamp = dt.datetime.combine(programme.params.cutoff_date, dt.time())
    write_docx(document, work / "appendix.docx", stamp)
    write_xlsx(document, work / "tables.xlsx", stamp)
    if pdf:
        left = runner.time_left(deadline, PROGRAMME_ID)
        printed, message = print_pdf(work / "appendix.html", work / "appendix.pdf", language,
                                     timeout=180 if left is None else max(1, min(180, int(left))))
        result.pdf = final / "appendix.pdf" if printed else None
        if message:
            result.messages.append(message)
    provenance.write(record(programme, started, dt.datetime.now(dt.timezone.utc).astimezone()),
                     work / "provenance.json")
    return result


def synthesis_outcome(folders: list[str], output: str, language: str | None, timeout: float | None = None,
                      pdf: bool = True) -> runner.ProjectOutcome:
    """``run-all --synthesis``'s last row: the synthesis of ``folders`` into ``output``, never raising."""
    started = time.perf_counter()
    try:
        result = run_synthesis(folders, output, language, pdf=pdf, progress=False, timeout=timeout)
    except Exception as exc:  # noqa: BLE001 — reported in the summary like a failed project
        message = str(exc) if isinstance(exc, TyokykyEvalError) else f"{type(exc).__name__}: {exc}"
        return runner.ProjectOutcome(FOLDER, "failed", round(time.perf_counter() - started, 1), message=message)
    return runner.ProjectOutcome(FOLDER, "ok", round(time.perf_counter() - started, 1), str(result.appendix),
                                 " ".join(result.messages))

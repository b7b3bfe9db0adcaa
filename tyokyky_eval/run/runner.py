"""Run one project: validate, protect, execute its appendix notebook with papermill, render.

``run_project`` validates the project (nothing is written when the data are invalid) and builds
its protected appendix once (``protection.protect_appendix``). The section notebooks the project
has data for are joined into one appendix notebook (``appendix_notebook``), which one kernel
executes: it shows every section's part of the protected appendix as blocks
(``render.document``), and the run and the kernel draw those blocks side by side
(``render.document.make_blocks_ahead``). From the blocks the kernel showed the run writes
``appendix.html`` (one self-contained page), ``appendix.docx`` and ``tables.xlsx``, as soon as the
last cell has run (``FinishedNotebook``); ``appendix.pdf`` is headless Chromium's print of the
page; ``tables/``, ``tables-internal/`` and ``disclosure/`` come from the protected appendix;
``executed/appendix.ipynb`` is the executed notebook, and ``provenance.json`` the record of the
run. Everything is written into a private temporary folder (outside the output folder), staged
next to the destination and moved into place only when all of it succeeded, so a failure never
replaces a previous good appendix, and only a folder recognised as an earlier appendix of the
same project is ever replaced (``check_destination``). The validated tables and the protected
appendix go (Parquet, pickle) to a private temporary folder, from which the kernel loads them
(parameter ``validated_dir``). Runs of one project into one output folder are serialised
(``project_lock``); SIGTERM, SIGHUP, Ctrl-C and ``timeout`` (checked before the notebook and the
PDF, and as nbclient's time limit of every cell) remove the run's temporary folders, and
``sweep_stale`` removes those of runs that were killed outright. ``run_all`` runs every
parameters file of a folder (:mod:`tyokyky_eval.run.many`).
"""
from __future__ import annotations

import contextlib
import copy
import datetime as dt
import errno
import gc
import hashlib
import json
import math
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from tyokyky_eval.errors import (
    NotebookError,
    OutputError,
)
from tyokyky_eval.i18n import has_text, t
from tyokyky_eval.inputs.project import (
    Project,
    appendix_failed,
    load_project,
    save_appendix,
    save_validated,
)
from tyokyky_eval.publication import escape_markdown
from tyokyky_eval.publication.appendix import protect_appendix, write_disclosure
from tyokyky_eval.render import document as doc
from tyokyky_eval.render.csv import published_tables, write_tables
from tyokyky_eval.render.datapackage import project_metadata, write_datapackage
from tyokyky_eval.render.docx import write_docx
from tyokyky_eval.render.findings import key_findings
from tyokyky_eval.render.html import page
from tyokyky_eval.render.pdf import print_pdf
from tyokyky_eval.render.xlsx import write_xlsx
from tyokyky_eval.resources import resource_dir
from tyokyky_eval.run import provenance
from tyokyky_eval.run.kernel import ensure_kernel
from tyokyky_eval.sections import REGISTRY


@dataclass
class RunResult:
    """What one run produced: the project folder, the PDF (None when skipped) and messages."""

    folder: Path
    pdf: Path | None = None
    messages: list[str] = field(default_factory=list)

    @property
    def appendix(self) -> Path:
        return self.folder / "appendix.html"


# -- notebooks ------------------------------------------------------------------------------------
def notebook_paths(notebooks_dir: str | Path | None = None) -> list[Path]:
    """The appendix notebooks, in order (file names start with their position: 00_, 10_, …)."""
    folder = resource_dir("notebooks") if notebooks_dir is None else Path(notebooks_dir)
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".ipynb"))


def section_metadata(nb: nbformat.NotebookNode) -> dict:
    """The notebook's ``tyokyky_eval`` metadata: the tables it ``requires`` (those of its registered
    ``section``, see ``tyokyky_eval.sections.REGISTRY``, or a notebook's own list) and ``title``."""
    meta = nb.metadata.get("tyokyky_eval", {})
    section = REGISTRY.get(_section_name(nb))
    requires = section.requires if section else meta.get("requires", [])
    return {"requires": list(requires), "title": dict(meta.get("title", {}))}


def _section_name(nb: nbformat.NotebookNode) -> str:
    """The registry name of the section a notebook shows ("" for a researcher's own notebook)."""
    return nb.metadata.get("tyokyky_eval", {}).get("section", "")


def missing_tables(nb: nbformat.NotebookNode, project: Project) -> list[str]:
    """Tables the notebook requires that the project does not have, and the parameters block its
    section is declared in (``goals``, ``costs``) when the project leaves it empty."""
    section = REGISTRY.get(_section_name(nb))
    if section is not None:
        return section.missing(project)
    return [name for name in section_metadata(nb)["requires"] if project.table(name) is None]


def _kernel_manager_class():
    """jupyter_client's ``AsyncKernelManager`` without the interrupt (SIGINT) it sends a kernel just
    before asking it to shut down. Our kernels are idle by then (no cell time-out), so the interrupt
    stops nothing; it only races the shutdown request, and when it lands while ipykernel is handling
    a message, the kernel logs "[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel." to our
    stderr (about one notebook in ten). Interrupts outside shutdown work as before."""
    from jupyter_client.manager import AsyncKernelManager

    class KernelManager(AsyncKernelManager):
        async def _async_interrupt_kernel(self) -> None:
            if not self.shutting_down:
                await super()._async_interrupt_kernel()

    return KernelManager


def execute_notebook(source: Path, target: Path, parameters: dict, kernel: str, progress: bool,
                     deadline: float | None = None, on_cell_executed=None) -> None:
    """Run one notebook with papermill; a failing cell becomes ``NotebookError`` naming it (in the
    section notebook it came from, see :func:`appendix_notebook`). ``deadline``
    (``time.monotonic()`` value): each cell may run only until then (nbclient stops it and the run
    ends with ``RunTimeout``). ``on_cell_executed``: nbclient's hook, e.g. :class:`FinishedNotebook`."""
    import papermill
    from papermill.exceptions import PapermillExecutionError
    from traitlets.config import Config

    bar = {"desc": source.stem, "position": 1, "leave": False} if progress else False
    # Unix sockets instead of TCP ports where available: parallel runs cannot race for a port.
    config = Config({"KernelManager": {"transport": "ipc" if os.name == "posix" else "tcp"}})
    extra = {} if deadline is None else {
        "timeout_func": lambda cell: max(1, math.ceil(deadline - time.monotonic()))}
    if on_cell_executed is not None:
        extra["on_cell_executed"] = on_cell_executed
    try:
        papermill.execute_notebook(str(source), str(target), parameters=parameters, kernel_name=kernel,
                                   progress_bar=bar, cwd=str(target.parent), config=config, request_save_on_cell_execute=False,
                                   kernel_manager_class=_kernel_manager_class(), shutdown_kernel="immediate", **extra)
    except TimeoutError as exc:  # nbclient's CellTimeoutError is a TimeoutError
        raise RunTimeout(f"{_where(source, target, None)} was stopped {_failed_cell_of(exc)}: the project did not "
                         "finish within its time limit (--timeout)") from None
    except PapermillExecutionError as exc:
        raise NotebookError(f"{_where(source, target, exc.cell_index)}: {exc.ename}: {exc.evalue}") from None


def _failed_cell_of(exc: Exception) -> str:
    """'in the cell starting: …' from nbclient's timeout message, when it names the cell."""
    first = next((line.strip() for line in str(exc).splitlines()[1:] if line.strip() and "---" not in line), "")
    return f"in the cell starting {first!r}" if first else "in a cell"


def _where(source: Path, executed: Path, index: int | None) -> str:
    """'notebook N failed in cell K (id …, first line: …)': the section notebook and the cell's
    number there, counted from 1 as the user sees it (papermill's index counts its own injected
    and error-marker cells); without ``index``, the notebook that was running."""
    try:
        cells = [c for c in nbformat.read(str(executed), as_version=4).cells
                 if "papermill-error-cell-tag" not in c.get("metadata", {}).get("tags", [])]
    except (OSError, ValueError):
        cells = []
    if index is None:
        running = [c for c in cells if c.get("metadata", {}).get("papermill", {}).get("status") == "running"]
        origin = running[0].get("metadata", {}).get("tyokyky_eval", {}) if running else {}
        return f"notebook {origin.get('notebook', source.name)}"
    if index >= len(cells):
        return f"notebook {source.name} failed in cell {index}"
    cell = cells[index]
    origin = cell.get("metadata", {}).get("tyokyky_eval", {})
    first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
    return (f"notebook {origin.get('notebook', source.name)} failed in cell {origin.get('cell', index)} "
            f"(id {origin.get('id', cell.get('id', '?'))}, first line: {first!r})")


class FinishedNotebook:
    """nbclient's ``on_cell_executed`` hook for a notebook: it keeps each code cell as the kernel
    finished it and tells the run when the last one has run without an error, so that the run
    writes the page, Word and Excel while papermill stops the kernel and saves the notebook."""

    def __init__(self, nb: nbformat.NotebookNode):
        self.nb = copy.deepcopy(nb)
        self._index = {cell.get("id"): i for i, cell in enumerate(self.nb.cells)}
        self._last = next((cell.get("id") for cell in reversed(nb.cells) if cell.cell_type == "code"), None)
        self._done = threading.Event()

    def __call__(self, cell, cell_index, execute_reply) -> None:  # noqa: ARG002 — nbclient's signature
        if cell.get("id") in self._index:
            self.nb.cells[self._index[cell.get("id")]] = copy.deepcopy(cell)
        if cell.get("id") == self._last and execute_reply.get("content", {}).get("status") == "ok":
            self._done.set()

    def wait(self, executing, target: Path) -> nbformat.NotebookNode:
        """The executed notebook once its last cell has run; when papermill ends first, its outcome
        (``NotebookError`` for a failed cell) and the notebook it saved at ``target``."""
        while not self._done.wait(0.01) and not executing.done():
            pass
        if self._done.is_set():
            return self.nb
        executing.result()
        return nbformat.read(str(target), as_version=4)


#: the one notebook a run executes: the sections' notebooks in order (``appendix_notebook``)
APPENDIX_NOTEBOOK = "appendix.ipynb"
PARAMETERS = 'params_path = ""\nlanguage = "fi"\noutput_dir = None\nvalidated_dir = None'


def appendix_notebook(notebooks: list[tuple[Path, nbformat.NotebookNode]],
                      parameters_source: str = PARAMETERS) -> nbformat.NotebookNode:
    """One notebook of the section notebooks, so that a run executes one kernel: a parameters cell
    (``parameters_source``), then every cell of every notebook in order but their own parameters
    cells. Each cell keeps in its ``tyokyky_eval`` metadata the notebook, the cell's number (from 1)
    and its id there; ids are prefixed with the notebook's stem, so that they stay unique."""
    combined = nbformat.v4.new_notebook()
    if notebooks:
        combined.metadata = copy.deepcopy({k: v for k, v in notebooks[0][1].metadata.items() if k != "tyokyky_eval"})
    parameters = nbformat.v4.new_code_cell(parameters_source, id="parameters")
    parameters.metadata["tags"] = ["parameters"]
    combined.cells.append(parameters)
    for source, nb in notebooks:
        for number, cell in enumerate(nb.cells, 1):
            if "parameters" in cell.get("metadata", {}).get("tags", []):
                continue
            cell = copy.deepcopy(cell)
            original = cell.get("id") or f"cell-{number}"
            cell["id"] = re.sub(r"[^A-Za-z0-9_-]", "-", f"{source.stem}-{original}")[:64]
            cell.metadata["tyokyky_eval"] = {"notebook": source.name, "cell": number, "id": original}
            combined.cells.append(cell)
    return combined


def notebook_blocks(nb: nbformat.NotebookNode, language: str) -> dict[str, list]:
    """The blocks an executed appendix notebook shows, per section notebook (in order): prose of
    ``language`` from its Markdown cells, and every output, as the block it carries
    (``render.document.BLOCK_KEY``) or, for a researcher's own output, as it is."""
    parts: dict[str, list] = {}
    for cell in nb.cells:
        origin = cell.get("metadata", {}).get("tyokyky_eval")
        tags = set(cell.get("metadata", {}).get("tags", []))
        if not origin or (tags & doc.LANGUAGE_TAGS and language not in tags):
            continue
        blocks = parts.setdefault(origin["notebook"], [])
        if cell.cell_type == "markdown":
            blocks.extend(doc.markdown_blocks(cell.source))
            continue
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") not in ("display_data", "execute_result"):
                continue
            data, carried = output.get("data", {}), output.get("metadata", {}).get(doc.BLOCK_KEY)
            if carried:
                blocks.append(doc.from_json(carried))
            elif "text/html" in data:
                blocks.append(doc.Raw("".join(data["text/html"])))
            elif "text/markdown" in data:
                blocks.append(doc.Prose("".join(data["text/markdown"])))
            elif "image/png" in data:
                blocks.append(doc.Raw(f'<img alt="" src="data:image/png;base64,{"".join(data["image/png"]).strip()}"/>'))
    return parts


#: Output types kept in an executed notebook: what the appendix shows, nothing else.
PUBLISHED_MIME = ("text/html", "text/markdown", "image/png", "image/svg+xml")
WITHHELD = "<withheld>"


def sanitise_executed(path: Path, source: Path, parameters: dict | None = None) -> None:
    """Make an executed notebook publishable, in place. papermill writes the run's parameters (the
    user's file paths) into an ``injected-parameters`` cell and the notebook metadata: their values
    are replaced by ``"<withheld>"`` (``language`` is kept). Outputs are kept only when they are what
    the appendix shows (``PUBLISHED_MIME``); printed text, warnings, errors and plain reprs (which
    could show row-level data or paths) are removed. The parameters withheld are those papermill
    recorded as injected (else ``parameters``)."""
    nb = nbformat.read(str(path), as_version=4)
    injected = nb.metadata.get("papermill", {}).get("parameters") or parameters or {}
    shown = {k: (v if k == "language" else WITHHELD) for k, v in injected.items()}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell.source = "# Parameters\n" + "".join(f"{k} = {v!r}\n" for k, v in shown.items())
            cell.outputs = []
            continue
        kept = []
        for output in cell.get("outputs", []):
            if output.get("output_type") not in ("display_data", "execute_result"):
                continue
            data = {k: v for k, v in output.get("data", {}).items() if k in PUBLISHED_MIME}
            output.get("metadata", {}).pop(doc.BLOCK_KEY, None)  # the page has it; the notebook shows it
            if data:
                output["data"] = {**data, "text/plain": output["data"].get("text/plain", "")} \
                    if "text/plain" in output["data"] else data
                kept.append(output)
        cell.outputs = kept
    meta = nb.metadata.get("papermill")
    if meta is not None:
        meta["parameters"] = shown
        meta["input_path"] = source.name
        meta["output_path"] = f"executed/{path.name}"
        meta.pop("environment_variables", None)
    nbformat.write(nb, str(path))


def _section_title(nb: nbformat.NotebookNode, source: Path, language: str) -> str:
    titles = section_metadata(nb)["title"]
    return titles.get(language) or next(iter(titles.values()), source.stem)


def _part_key(nb: nbformat.NotebookNode, source: Path) -> str:
    """A section's key (its anchors): the registry name, else the notebook's stem."""
    return nb.metadata.get("tyokyky_eval", {}).get("section") or source.stem


def missing_text(missing: list[str], language: str) -> str:
    """What a section left out lacks (:func:`missing_tables`), in words: 'fidelity reviews, …'."""
    return ", ".join(t(f"codes.table.{m}", language) if has_text(f"codes.table.{m}", language) else m
                     for m in missing)


def _skipped_line(nb, source: Path, missing: list[str], language: str) -> str:
    """A section left out (no data, or no service it applies to), as one Markdown list item: its
    title and why."""
    title = escape_markdown(_section_title(nb, source, language))
    return f"- **{title}**: {t('appendix.section_skipped', language, missing=missing_text(missing, language))}"


def _not_produced(lines: list[str], language: str) -> list[doc.Part]:
    """The sections left out, listed after the others under one heading (none: no part)."""
    if not lines:
        return []
    return [doc.Part("not_produced", (doc.Heading(1, t("appendix.not_produced", language)),
                                      doc.Prose("\n".join(lines))))]


# -- one project ------------------------------------------------------------------------------------
#: what a run writes into ``<output>/<project_id>/``; a folder holding anything else is not replaced
APPENDIX_ENTRIES = {"appendix.html", "appendix.pdf", "appendix.docx", "tables.xlsx", "executed", "tables",
                    "tables-internal", "disclosure", "provenance.json"}


class RunTimeout(OutputError):
    """The project did not finish within its time limit (``--timeout``)."""


def work_prefix(project_id: str) -> str:
    return f".{project_id}-"


def private_prefix(project_id: str, output: Path) -> str:
    """Prefix of the run's private temporary folder (row-level data) in the system temp folder;
    it names the output folder by a hash, so stale ones can be found and removed."""
    key = hashlib.sha256(str(output).encode("utf-8")).hexdigest()[:12]
    return f"tyokyky-eval-{project_id}-{key}-"


@contextlib.contextmanager
def project_lock(output: Path, project_id: str):
    """Serialise runs of one project into one output folder (a second run waits for the first).
    The lock file lives in the system temp folder, never among the outputs."""
    folder = Path(tempfile.gettempdir()) / "tyokyky-eval-locks"
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / f"{private_prefix(project_id, output)}lock"
    with open(path, "a+b") as handle:
        if os.name == "posix":
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        else:  # pragma: no cover - Windows
            import msvcrt

            while True:
                try:
                    msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
                    break
                except OSError:
                    time.sleep(0.5)
        try:
            yield
        finally:
            if os.name == "posix":
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def sweep_stale(output: Path, project_id: str) -> list[Path]:
    """Remove what killed runs of this project left behind: ``<output>/.<project_id>-xxxxxxxx``
    work folders, ``<output>/.<project_id>.old`` and private temporary folders. Call it holding
    ``project_lock``: then no other run of the project is using them."""
    removed = []
    pattern = re.compile(re.escape(work_prefix(project_id)) + r"[a-z0-9_]{8}")
    candidates = [p for p in output.iterdir() if pattern.fullmatch(p.name)] if output.is_dir() else []
    candidates += [output / f".{project_id}.old"]
    candidates += list(Path(tempfile.gettempdir()).glob(private_prefix(project_id, output) + "*"))
    for path in candidates:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def check_destination(final: Path, project) -> None:
    """Raise ``OutputError`` unless ``final`` is absent or an earlier appendix of the same project
    (its ``provenance.json`` written by tyokyky-eval for this project_id, and nothing else in it)."""
    params = project.params
    inputs = [params.path, *(s.path for s in params.data.values())]
    if not final.exists() and not final.is_symlink():
        return
    if final.is_symlink() or not final.is_dir():
        raise OutputError(t("appendix.output_not_folder", project.language, path=final))
    resolved = final.resolve()
    inside = [p for p in inputs if resolved in p.resolve().parents]
    if inside:
        raise OutputError(t("appendix.output_holds_inputs", project.language, path=final, file=inside[0].name))
    try:
        record = json.loads((final / "provenance.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = None
    if not isinstance(record, dict) or record.get("project_id") != params.project_id or \
            (record.get("package") or {}).get("name") != "tyokyky-eval":
        raise OutputError(t("appendix.output_not_appendix", project.language, path=final,
                            project=params.project_id))
    extra = sorted(p.name for p in final.iterdir() if p.name not in APPENDIX_ENTRIES)
    if extra:
        shown = ", ".join(extra[:5]) + (f" (+{len(extra) - 5})" if len(extra) > 5 else "")
        raise OutputError(t("appendix.output_foreign_files", project.language, path=final, files=shown))


def os_error(exc: OSError, output: Path, language: str) -> OutputError:
    """A clear message for a file-system failure while writing the appendix."""
    where = exc.filename or output
    if exc.errno == errno.ENOSPC or exc.errno == getattr(errno, "EDQUOT", -1):
        key = "output_no_space"
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        key = "output_read_only"
    elif exc.errno in (errno.EEXIST, errno.ENOTDIR):
        key = "output_not_folder"
    else:
        key = "output_failed"
    return OutputError(t(f"appendix.{key}", language, path=where, reason=exc.strerror or str(exc)))


@contextlib.contextmanager
def cleanup_on_signals():
    """While a run works, SIGTERM and SIGHUP end it like Ctrl-C, so that ``finally`` removes its
    temporary folders. Only in the main thread (signal handlers cannot be set elsewhere)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    names = [n for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]
    previous = {n: signal.signal(getattr(signal, n), stop) for n in names}
    try:
        yield
    finally:
        for name, handler in previous.items():
            signal.signal(getattr(signal, name), handler)


def run_project(params_path: str | Path, output: str | Path = "output", language: str | None = None,
                progress: bool = True, notebooks_dir: str | Path | None = None, pdf: bool = True,
                timeout: float | None = None) -> RunResult:
    """Validate, execute every notebook and write ``<output>/<project_id>/``.

    Raises ``ParameterError`` / ``DataError`` before anything is written, ``NotebookError`` when a
    notebook fails and ``OutputError`` when the appendix cannot be written or ``timeout`` seconds
    pass; in every failure the previous result folder is left as it was and the run's temporary
    folders are removed. Only a folder that ``check_destination`` recognises as an earlier
    appendix of the same project is replaced. Runs of one project into one output folder are
    serialised (``project_lock``); what killed runs left behind is swept first."""
    started = dt.datetime.now(dt.timezone.utc).astimezone()
    deadline = None if timeout is None else time.monotonic() + timeout
    params_path = Path(params_path).resolve()
    project = load_project(params_path, language)  # raises before anything is written
    language = project.language
    project_id = project.params.project_id
    output = Path(output).absolute()
    final = output / project_id
    try:
        if output.exists() and not output.is_dir():
            raise OutputError(t("appendix.output_not_folder", language, path=output))
        output.mkdir(parents=True, exist_ok=True)
        output = output.resolve()
        final = output / project_id
        check_destination(final, project)
    except OSError as exc:
        raise os_error(exc, output, language) from None
    with project_lock(output, project_id), cleanup_on_signals():
        sweep_stale(output, project_id)
        check_destination(final, project)  # again: another run may have finished meanwhile
        kernel = ensure_kernel()
        staging = private = None
        try:
            # Everything is written in a private folder (mode 0700) outside the output folder; only
            # the finished appendix is staged next to the destination and swapped into place.
            private = Path(tempfile.mkdtemp(prefix=private_prefix(project_id, output)))
            work = private / "appendix"
            work.mkdir()
            try:
                result = _write_appendix(project, params_path, work, private, final, kernel, progress,
                                         notebooks_dir, pdf, started, deadline)
            finally:
                gc.unfreeze()
            staging = Path(tempfile.mkdtemp(prefix=work_prefix(project_id), dir=output))
            move_into(work, staging)
            replace_folder(staging, final)
        except OSError as exc:
            raise os_error(exc, output, language) from None
        finally:
            for folder in (staging, private):
                if folder is not None:
                    shutil.rmtree(folder, ignore_errors=True)
    return result


def move_into(source: Path, empty: Path) -> None:
    """Move the folder ``source`` onto the empty folder ``empty`` (a rename on one file system,
    else a copy)."""
    try:
        os.replace(source, empty)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.ENOTEMPTY, errno.EEXIST, errno.EPERM, errno.EACCES):
            raise
        shutil.copytree(source, empty, dirs_exist_ok=True)


def time_left(deadline: float | None, project_id: str) -> float | None:
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise RunTimeout(f"project {project_id} did not finish within its time limit (--timeout)")
    return left


def _write_appendix(project: Project, params_path: Path, work: Path, private: Path, final: Path, kernel: str,
                    progress: bool, notebooks_dir, pdf: bool, started, deadline) -> RunResult:
    """Everything of one run into ``work`` (row-level validated tables into ``private``): the
    protected appendix is built once, here; one kernel executes the appendix notebook, which shows
    it section by section; the page, Word and Excel are written from the blocks it showed, the
    CSV tables and the checker's report from the protected appendix."""
    language, project_id = project.language, project.params.project_id
    result = RunResult(final)
    (work / "executed").mkdir()
    validated = save_validated(project, private / "validated", appendix_follows=True)
    included, order, skipped, status = [], [], {}, {}
    for source in notebook_paths(notebooks_dir):
        nb = nbformat.read(str(source), as_version=4)
        missing = missing_tables(nb, project)
        order.append(source.name)
        status[source.name] = "skipped" if missing else "executed"
        if missing:
            skipped[source.name] = _skipped_line(nb, source, missing, language)
        else:
            included.append((source, nb))
    source = private / APPENDIX_NOTEBOOK
    combined = appendix_notebook(included)
    nbformat.write(combined, str(source))
    finished = FinishedNotebook(combined)
    target = work / "executed" / APPENDIX_NOTEBOOK
    parameters = {"params_path": str(params_path), "language": language, "output_dir": str(work),
                  "validated_dir": str(validated)}
    time_left(deadline, project_id)
    # The kernel starts while the appendix is protected here; it waits for the appendix, then
    # shows it section by section, drawing from the first section while the run draws from the
    # last (make_blocks_ahead), then writes what the notebook does not show.
    with ThreadPoolExecutor(max_workers=1) as pool:
        executing = pool.submit(execute_notebook, source, target, parameters, kernel, progress, deadline,
                                finished) if included else None
        try:
            appendix = protect_appendix(project)  # every section built and protected once
            # The project and its appendix live until the run ends: Python's cyclic garbage collector
            # leaves them out of its full passes from here on (each took 0.15 s on the demo).
            gc.freeze()
            appendix.shared = validated if included else None
            save_appendix(appendix, validated)
            if included:
                shown_sections = [name for _, nb in included if (name := _section_name(nb)) in appendix.sections]
                doc.make_blocks_ahead(appendix, reversed(shown_sections), language)
            tables = published_tables(appendix)
            write_tables(appendix, work, tables)
            write_datapackage(appendix, project_metadata(project), work, tables)
            write_disclosure(appendix, work, language)
        except BaseException:
            appendix_failed(validated)  # the kernel stops waiting
            raise
        shown = notebook_blocks(finished.wait(executing, target), language) if included else {}
        keys = {source.name: _part_key(nb, source) for source, nb in included}
        parts = [doc.Part(keys[name], tuple(shown.get(name, ()))) for name in order if name not in skipped]
        findings = key_findings(appendix, project, language, {b.name for part in parts for b in part.blocks
                                                               if isinstance(b, doc.TableBlock)})
        parts = ([findings] if findings else []) + parts + _not_produced(
            [skipped[n] for n in order if n in skipped], language)
        record = provenance.collect(project.params, language, status, started)
        document = doc.assemble(project, parts, record)
        (work / "appendix.html").write_text(page(document), encoding="utf-8")
        stamp = dt.datetime.combine(project.params.cutoff_date, dt.time())
        write_docx(document, work / "appendix.docx", stamp)
        write_xlsx(document, work / "tables.xlsx", stamp, tables)
        if executing is not None:  # papermill has stopped the kernel and saved the notebook
            executing.result()
            sanitise_executed(target, source, parameters)
    if pdf:
        left = time_left(deadline, project_id)
        printed, message = print_pdf(work / "appendix.html", work / "appendix.pdf", language,
                                     timeout=180 if left is None else max(1, min(180, int(left))))
        result.pdf = final / "appendix.pdf" if printed else None
        if message:
            result.messages.append(message)
    record = provenance.collect(project.params, language, status, started,
                                dt.datetime.now(dt.timezone.utc).astimezone())
    provenance.write(record, work / "provenance.json")
    return result


def replace_folder(new: Path, final: Path) -> None:
    """Move ``new`` to ``final``, replacing a previous result only after the move can succeed."""
    old = final.with_name(f".{final.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    try:
        new.rename(final)
    except OSError:
        if old.exists() and not final.exists():
            old.rename(final)  # put the previous appendix back
        raise
    shutil.rmtree(old, ignore_errors=True)


# -- many projects ----------------------------------------------------------------------------------
@dataclass
class ProjectOutcome:
    """One row of the ``run-all`` summary."""

    project: str
    status: str  # "ok" or "failed"
    seconds: float
    appendix: str = ""
    message: str = ""

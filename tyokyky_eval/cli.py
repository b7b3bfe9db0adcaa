"""The ``tyokyky-eval`` command line. Exit codes: 0 ok, 2 invalid parameters or data, 1 other errors."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tyokyky_eval.errors import DataError, ParameterError, TyokykyEvalError
from tyokyky_eval.i18n import t


def _validate(args) -> int:
    from tyokyky_eval.inputs.params import load_params
    from tyokyky_eval.inputs.validation import validate_project

    params = load_params(args.params)
    language = args.language or params.language
    result = validate_project(params, language)
    for problem in result.problems:
        print(problem, file=sys.stderr if problem.severity == "error" else sys.stdout)
    if result.errors:
        print(t("validation.summary_failed", language, n_errors=len(result.errors)), file=sys.stderr)
        return 2
    print(t("validation.summary_ok", language, n_tables=len(result.tables),
            n_rows=sum(len(f) for f in result.tables.values()), n_warnings=len(result.warnings)))
    return 0


def _run(args) -> int:
    from tyokyky_eval.run.runner import run_project

    result = run_project(args.params, args.output, args.language, progress=not args.quiet,
                         notebooks_dir=args.notebooks, pdf=not args.no_pdf, timeout=args.timeout)
    return _print_result(result, "Appendix")


def _run_all(args) -> int:
    from tyokyky_eval.run.many import run_all

    outcomes = run_all(args.directory, args.output, args.jobs, args.language, notebooks_dir=args.notebooks,
                       scheduler=args.scheduler, timeout=args.timeout, synthesis=args.synthesis, pdf=not args.no_pdf)
    width = max(len("project"), *(len(o.project) for o in outcomes))
    print(f"{'project':<{width}}  {'status':<6}  {'seconds':>7}  appendix")
    for o in outcomes:
        lines = (o.appendix or o.message).splitlines() or [""]
        more = f" (+{len(lines) - 1} more lines)" if len(lines) > 1 else ""
        print(f"{o.project:<{width}}  {o.status:<6}  {o.seconds:>7.1f}  {lines[0]}{more}")
    projects = [o for o in outcomes if not (args.synthesis and o is outcomes[-1])]
    failed = sum(o.status != "ok" for o in outcomes)
    print(f"{sum(o.status == 'ok' for o in projects)} of {len(projects)} projects ok"
          + (f"; synthesis {outcomes[-1].status}" if args.synthesis else ""))
    return 1 if failed else 0


def _synthesis(args) -> int:
    from tyokyky_eval.programme.run import run_synthesis

    result = run_synthesis(args.appendix_dirs, args.output, args.language, pdf=not args.no_pdf,
                           progress=not args.quiet, timeout=args.timeout)
    return _print_result(result, "Programme appendix")


def _print_result(result, label: str) -> int:
    """A run's messages, where its appendix (and PDF) is; exit code 0."""
    for message in result.messages:
        print(message)
    print(f"{label}: {result.appendix}")
    if result.pdf:
        print(f"PDF: {result.pdf}")
    return 0


def _demo_data(args) -> int:
    from tyokyky_eval import demo

    if args.params:
        written = [demo.write_for_params(path) for path in args.params]
    elif args.out:
        spec = demo.DemoSpec(seed=args.seed, clients=args.clients, tables=(*demo.DemoSpec.tables, "employment"))
        written = [demo.write(demo.generate(spec), Path(args.out))]
    else:
        raise ParameterError("demo-data: give --out DIR or --params FILE [FILE ...]")
    for paths in written:
        for path in paths.values():
            print(path)
    print(demo.SYNTHETIC_NOTICE)
    return 0


def _audit(args) -> int:
    """Re-run the disclosure audit of a published appendix folder (``tables/`` and
    ``disclosure/relations.json``); exit 0 when no hidden count can be worked out, 1 otherwise."""
    import json

    from tyokyky_eval.publication.appendix import DISCLOSURE, audit_folder

    folder = Path(args.appendix_dir)
    if not (folder / DISCLOSURE / "relations.json").is_file():
        raise ParameterError(f"{folder}: no {DISCLOSURE}/relations.json (give the folder of one appendix, "
                             "as written by `tyokyky-eval run`)")
    try:
        result = audit_folder(folder)
    except json.JSONDecodeError as exc:
        raise ParameterError(f"{folder / DISCLOSURE / 'relations.json'}: not valid JSON ({exc})")
    except (OSError, ValueError, KeyError) as exc:
        raise ParameterError(f"{folder}: the published tables do not match {DISCLOSURE}/relations.json ({exc})")
    print(f"{result['relations']} relations, {result['hidden']} hidden counts held by a relation")
    for table, row, column in result["determined"]:
        print(f"DETERMINED: tables/{table}.csv row {row + 2} column {column}")
    print("audit passed: no hidden count can be worked out" if not result["determined"]
          else f"audit FAILED: {len(result['determined'])} hidden counts can be worked out")
    return 1 if result["determined"] else 0


def _dictionary(args) -> int:
    from tyokyky_eval.inputs.dictionary import render_markdown

    sys.stdout.write(render_markdown() + "\n")
    return 0


def _kernel(args) -> int:
    from tyokyky_eval.run.kernel import ensure_kernel

    print(f"Jupyter kernel '{ensure_kernel()}' → {sys.executable}")
    return 0


def _lab(args) -> int:
    from tyokyky_eval.run import lab

    copy = lab.prepare(args.params, args.language, args.dir, force=args.force)
    for message in copy.skipped:
        print(message)
    if copy.kept:
        print(f"Working copy with your changes, kept as it was (--force prepares a fresh one): {copy.folder}")
    else:
        print(f"Working copy of {len(copy.notebooks)} notebooks, not the published appendix: {copy.folder}")
    command = lab.jupyter_lab_command(copy.folder, browser=not args.no_browser)
    shown = lab.command_text(command)
    if not lab.has_jupyterlab():
        print("JupyterLab is not installed in this environment. Install it with "
              f"{lab.command_text([sys.executable, '-m', 'pip', 'install', 'jupyterlab'])}, then start it with: {shown}")
    elif args.prepare_only:
        print(f"Start JupyterLab on it with: {shown}")
    else:
        print(f"Starting JupyterLab (Ctrl-C stops it; it prints the address to open): {shown}", flush=True)
        return lab.start_jupyter_lab(command)
    return 0


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tyokyky-eval", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("validate", help="check the parameters and every input table")
    p.add_argument("params")
    p.add_argument("--language", choices=("fi", "en"))
    p.set_defaults(func=_validate)
    p = sub.add_parser("run", help="validate, execute the notebooks and write the appendix")
    p.add_argument("params")
    p.add_argument("--output", default="output")
    p.add_argument("--language", choices=("fi", "en"))
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--notebooks", help="folder of notebooks to run instead of the packaged ones")
    p.add_argument("--no-pdf", action="store_true", help="write the HTML appendix only")
    p.add_argument("--timeout", type=_seconds, metavar="SECONDS",
                   help="stop the project when it has not finished in this many seconds (exit 1)")
    p.set_defaults(func=_run)
    p = sub.add_parser("run-all", help="run every parameters file of a folder, in parallel")
    p.add_argument("directory")
    p.add_argument("--output", default="output")
    p.add_argument("--jobs", type=int, default=2, help="projects run at the same time (default 2)")
    p.add_argument("--language", choices=("fi", "en"))
    p.add_argument("--notebooks", help="folder of notebooks to run instead of the packaged ones")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on this Dask cluster (e.g. tcp://10.0.0.5:8786) instead of local processes; "
                        "--jobs is then ignored; needs the dask extra and a shared file system")
    p.add_argument("--timeout", type=_seconds, metavar="SECONDS",
                   help="time limit of each project; a project over it fails and the others go on")
    p.add_argument("--no-pdf", action="store_true", help="write the HTML appendices only")
    p.add_argument("--synthesis", action="store_true",
                   help="then write the programme appendix of the appendices that succeeded into OUTPUT/synthesis")
    p.set_defaults(func=_run_all)
    p = sub.add_parser("synthesis", help="compare and pool the published tables of several appendices into one "
                                         "programme appendix")
    p.add_argument("appendix_dirs", nargs="+", metavar="DIR",
                   help="folders of project appendices written by `tyokyky-eval run` (or their tables/)")
    p.add_argument("--output", default="output/synthesis", help="folder of the programme appendix "
                                                                "(default output/synthesis)")
    p.add_argument("--language", choices=("fi", "en"))
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--no-pdf", action="store_true", help="write the HTML appendix only")
    p.add_argument("--timeout", type=_seconds, metavar="SECONDS",
                   help="stop when it has not finished in this many seconds (exit 1)")
    p.set_defaults(func=_synthesis)
    p = sub.add_parser("lab", help="prepare a working copy of the notebooks for a project and open it in JupyterLab")
    p.add_argument("params")
    p.add_argument("--language", choices=("fi", "en"))
    p.add_argument("--dir", default="tyokyky-lab",
                   help="folder for working copies (default ./tyokyky-lab); the copy goes to DIR/<project_id>")
    p.add_argument("--force", action="store_true",
                   help="replace a working copy you have changed with a fresh one (your changes are lost)")
    p.add_argument("--prepare-only", action="store_true", help="prepare the copy and print how to start JupyterLab")
    p.add_argument("--no-browser", action="store_true", help="start JupyterLab without opening a browser")
    p.set_defaults(func=_lab)
    p = sub.add_parser("demo-data", help="write deterministic synthetic demo data")
    p.add_argument("--out", help="folder for the demo project's data (clients, kykyviisari, fidelity, feedback, "
                                 "employment)")
    p.add_argument("--params", nargs="+", metavar="FILE",
                   help="parameters files whose 'synthetic' key describes the data to write to their 'data' paths")
    p.add_argument("--seed", type=int, default=2023)
    p.add_argument("--clients", type=int, default=35)
    p.set_defaults(func=_demo_data)
    p = sub.add_parser("audit", help="re-run the disclosure audit of a published appendix folder")
    p.add_argument("appendix_dir", metavar="APPENDIX_DIR", help="the folder of one appendix (output/<project_id>)")
    p.set_defaults(func=_audit)
    p = sub.add_parser("dictionary", help="print the data dictionary as Markdown")
    p.set_defaults(func=_dictionary)
    p = sub.add_parser("kernel", help="register this environment's Jupyter kernel 'tyokyky-eval'")
    p.set_defaults(func=_kernel)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except DataError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return exc.exit_code
    except ParameterError as exc:  # in --language, else the parameters file's own language, else English
        where = str(getattr(args, "params", "") or "")
        for message in exc.texts(getattr(args, "language", None)):
            named = not where or message.startswith((where, Path(where).name))
            print(message if named else f"{where}: {message}", file=sys.stderr)
        return exc.exit_code
    except TyokykyEvalError as exc:
        print(exc, file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted; temporary files were removed and nothing was replaced", file=sys.stderr)
        return 130
    except OSError as exc:  # a file-system fault outside a run's own handling (e.g. writing the listing)
        print(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

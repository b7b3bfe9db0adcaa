"""The ``tyokyky-eval`` command line. Exit codes: 0 ok, 2 invalid parameters or data, 1 other errors."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tyokyky_eval.errors import DataError, ParameterError, TyokykyEvalError
from tyokyky_eval.i18n import t


def _validate(args) -> int:
    from tyokyky_eval.params import load_params
    from tyokyky_eval.validation import validate_project

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
    from tyokyky_eval.runner import run_project

    folder = run_project(args.params, args.output, args.language, progress=not args.quiet)
    print(f"Appendix: {(folder / 'appendix.html').resolve()}")
    return 0


def _demo_data(args) -> int:
    from tyokyky_eval import demo

    spec = demo.DemoSpec(seed=args.seed, clients=args.clients)
    paths = demo.write(demo.generate(spec), Path(args.out))
    for path in paths.values():
        print(path)
    print(demo.SYNTHETIC_NOTICE)
    return 0


def _dictionary(args) -> int:
    from tyokyky_eval.dictionary import render_markdown

    sys.stdout.write(render_markdown() + "\n")
    return 0


def _kernel(args) -> int:
    from tyokyky_eval.kernel import ensure_kernel

    print(f"Jupyter kernel '{ensure_kernel()}' → {sys.executable}")
    return 0


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
    p.set_defaults(func=_run)
    p = sub.add_parser("demo-data", help="write deterministic synthetic demo data")
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=2023)
    p.add_argument("--clients", type=int, default=35)
    p.set_defaults(func=_demo_data)
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
    except ParameterError as exc:
        for message in exc.messages:
            print(f"{args.params if hasattr(args, 'params') else ''}: {message}", file=sys.stderr)
        return exc.exit_code
    except TyokykyEvalError as exc:
        print(exc, file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())

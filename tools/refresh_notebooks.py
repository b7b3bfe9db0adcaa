"""Re-execute every notebook in notebooks/ in place with the demo parameters (committed outputs
are what nbval compares). Run after changing the library: `make notebooks`."""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import papermill

from tyokyky_eval.run.kernel import ensure_kernel

ROOT = Path(__file__).resolve().parent.parent


def main(names: list[str]) -> None:
    kernel = ensure_kernel()
    paths = sorted((ROOT / "notebooks").glob("*.ipynb"))
    for path in paths:
        if names and path.name not in names:
            continue
        print(f"executing {path.name}")
        papermill.execute_notebook(str(path), str(path), kernel_name=kernel, cwd=str(path.parent),
                                   progress_bar=False)
        strip_run_metadata(path)


def strip_run_metadata(path: Path) -> None:
    """Drop papermill's timestamps and durations so that re-running changes no committed byte."""
    nb = nbformat.read(str(path), as_version=4)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nbformat.write(nb, str(path))


if __name__ == "__main__":
    main(sys.argv[1:])

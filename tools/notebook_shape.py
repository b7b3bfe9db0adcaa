"""Check, and with ``--fix`` complete, the shape every appendix notebook shares (what ``tyokyky-eval
lab`` relies on when it prepares a researcher's working copy).

The shape:
- a papermill ``parameters`` cell whose every parameter has a help comment on its line
  (``name = value  # help``, what ``papermill --help-notebook`` shows and the working copy keeps);
- prose in both languages: markdown cells tagged ``fi`` and ``en``, as many of each;
- the three visible steps of a section, in order: ``load_section`` (analyse), ``report.show_tables``,
  ``report.show_figures``;
- a "your own analysis" snippet ``notebooks/own_analysis/<notebook>.yaml`` (keys ``fi``, ``en``:
  markdown; ``code``: Python) that the working copy appends. It never runs in the published appendix,
  whose outputs are disclosure-controlled.

Usage (after adding or changing a notebook)::

    python tools/notebook_shape.py                 # list problems; exit 1 when there are any
    python tools/notebook_shape.py --fix [NAME …]  # add the standard comment to uncommented parameters
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import papermill
import yaml

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
PARAMETER_HELP = {
    "params_path": "the project's parameters file; its data paths are relative to it",
    "language": '"fi" or "en": the language of texts, tables and figures',
    "output_dir": "set by `tyokyky-eval run`; None: write no files",
    "validated_dir": "set by `tyokyky-eval run`; None: read and validate the data files",
}
STEPS = ("load_section(", "report.show_tables(", "report.show_figures(")
SNIPPET_KEYS = {"fi", "en", "code"}


def snippet_path(notebook: Path) -> Path:
    """The notebook's "your own analysis" snippet."""
    return notebook.parent / "own_analysis" / f"{notebook.stem}.yaml"


def problems(path: Path) -> list[str]:
    """What keeps the notebook at ``path`` from having the shared shape (empty when it has it)."""
    nb = nbformat.read(str(path), as_version=4)
    found = []
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code or "parameters" not in code[0].metadata.get("tags", []):
        found.append("the first code cell is not tagged 'parameters'")
    found += [f"parameter '{name}' has no help comment ('{name} = …  # what it is')"
              for name, info in papermill.inspect_notebook(str(path)).items() if not info["help"].strip()]
    tags = [tuple(c.metadata.get("tags", [])) for c in nb.cells if c.cell_type == "markdown"]
    if not tags.count(("fi",)) or tags.count(("fi",)) != tags.count(("en",)):
        found.append(f"prose cells: {tags.count(('fi',))} tagged fi, {tags.count(('en',))} tagged en")
    calls = [step for cell in code for line in cell.source.splitlines() for step in STEPS if step in line]
    if calls != list(STEPS):
        found.append(f"steps in the code cells are {calls}, expected {list(STEPS)} once each")
    snippet = snippet_path(path)
    if not snippet.is_file():
        found.append(f"no own-analysis snippet {snippet.relative_to(path.parent.parent)}")
    else:
        data = yaml.safe_load(snippet.read_text(encoding="utf-8")) or {}
        if set(data) != SNIPPET_KEYS or not all(isinstance(v, str) and v.strip() for v in data.values()):
            found.append(f"{snippet.name}: expected the texts {sorted(SNIPPET_KEYS)}")
    return found


def add_parameter_help(path: Path) -> bool:
    """Append the standard help comment to each uncommented parameter in ``PARAMETER_HELP``;
    returns whether the notebook changed."""
    nb = nbformat.read(str(path), as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    lines = []
    for line in cell.source.splitlines():
        name = re.match(r"(\w+)\s*=", line)
        if name and "#" not in line and name.group(1) in PARAMETER_HELP:
            line = f"{line}  # {PARAMETER_HELP[name.group(1)]}"
        lines.append(line)
    if "\n".join(lines) == cell.source:
        return False
    cell.source = "\n".join(lines)
    nbformat.write(nb, str(path))
    return True


def main(argv: list[str]) -> int:
    fix = "--fix" in argv
    names = [a for a in argv if a != "--fix"]
    paths = [p for p in sorted(NOTEBOOKS.glob("*.ipynb")) if not names or p.name in names]
    failed = 0
    for path in paths:
        if fix and add_parameter_help(path):
            print(f"{path.name}: parameter comments added")
        for problem in problems(path):
            print(f"{path.name}: {problem}")
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

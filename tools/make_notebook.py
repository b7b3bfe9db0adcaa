"""Write a thin appendix notebook from a compact cell list (used by contributors, not at run time).

Usage inside Python::

    make_notebook(path, [("md", "fi", "text"), ("md", "en", "text"), ("code", "x = 1")],
                  section="fidelity", title={"fi": "Laatukriteerit", "en": "Fidelity"})

The first code cell is always the papermill ``parameters`` cell. ``section`` names the registered
section (``tyokyky_eval.sections.REGISTRY``), whose input tables the runner requires; a notebook of
your own may list ``requires`` instead. The runner leaves the section out (with one sentence) when a
project lacks them. Add the section's "your own analysis" snippet
``notebooks/own_analysis/<notebook>.yaml`` and check the result with ``python tools/notebook_shape.py``.
"""
from __future__ import annotations

import nbformat
from notebook_shape import (
    PARAMETER_HELP,  # tools/ is on the path wherever make_notebook is
)

PARAMETERS = "\n".join(f"{name} = {value}  # {PARAMETER_HELP[name]}" for name, value in (
    ("params_path", '"../parameters/demo.yaml"'), ("language", '"fi"'), ("output_dir", "None"), ("validated_dir", "None")))


def make_notebook(path, cells, section=None, requires=(), title=None) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["tyokyky_eval"] = ({"section": section} if section else {"requires": list(requires)}) | \
        {"title": title or {}}
    nb.metadata["kernelspec"] = {"name": "tyokyky-eval", "display_name": "Python (tyokyky-eval)",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    param = nbformat.v4.new_code_cell(PARAMETERS)
    param.metadata["tags"] = ["parameters"]
    nb.cells.append(param)
    for cell in cells:
        if cell[0] == "md":
            new = nbformat.v4.new_markdown_cell(cell[2])
            new.metadata["tags"] = [cell[1]] if cell[1] else []
        else:
            new = nbformat.v4.new_code_cell(cell[1])
        nb.cells.append(new)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"
    nbformat.write(nb, str(path))

"""Where the data dictionary and the notebooks are.

In a source checkout (including editable installs) they are the repository's ``data_dictionary/``
and ``notebooks/`` folders; in a wheel they are installed as the packages
``tyokyky_eval.data_dictionary`` and ``tyokyky_eval.notebooks`` (see pyproject.toml).
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

_SOURCE_TREE = Path(__file__).resolve().parent.parent


def resource_dir(name: str):
    """The folder ``name`` (``data_dictionary`` or ``notebooks``) as a path-like Traversable."""
    local = _SOURCE_TREE / name
    if local.is_dir():
        return local
    return files(f"tyokyky_eval.{name}")

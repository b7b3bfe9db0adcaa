"""A loaded project: validated parameters plus validated, canonical input tables.

This is what notebooks start from::

    project = load_project("parameters/demo.yaml", language="fi")
    project.tables["clients"]      # tidy DataFrame, canonical columns
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tyokyky_eval.errors import DataError, Problem
from tyokyky_eval.params import Params, load_params
from tyokyky_eval.validation import validate_project


@dataclass
class Project:
    params: Params
    language: str
    tables: dict[str, pd.DataFrame]
    warnings: list[Problem] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame | None:
        """The validated table ``name``, or None when the project has no such data."""
        return self.tables.get(name)


def load_project(params_path: str | Path, language: str | None = None) -> Project:
    """Load parameters and every input table; raises ``ParameterError`` or ``DataError``."""
    params = load_params(params_path)
    language = language or params.language
    result = validate_project(params, language)
    if result.errors:
        raise DataError(result.errors)
    return Project(params, language, result.tables, result.warnings, result.labels)

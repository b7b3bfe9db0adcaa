"""Shared fixtures: a small valid project written to a temporary folder, ready to be broken."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from tyokyky_eval import demo


class ProjectFiles:
    """A valid project (canonical CSV files + parameters) in ``root``; tests mutate and re-validate."""

    def __init__(self, root: Path, clients: int = 20, seed: int = 7):
        self.root = root
        self.tables = demo.generate(demo.DemoSpec(seed=seed, clients=clients))
        self.params = {
            "project_id": "broken-test",
            "title": "Test project",
            "language": "en",
            "cutoff_date": "2022-12-31",
            "data": {name: f"data/{name}.csv" for name in self.tables},
        }
        (root / "data").mkdir(parents=True, exist_ok=True)
        for name, frame in self.tables.items():
            self.write(name, frame)
        self.save_params()

    def path(self, table: str) -> Path:
        return self.root / "data" / f"{table}.csv"

    def write(self, table: str, frame: pd.DataFrame, **to_csv) -> Path:
        out = frame.copy()
        for column in out.columns:
            if pd.api.types.is_datetime64_any_dtype(out[column]):
                out[column] = out[column].dt.strftime("%Y-%m-%d")
        path = self.path(table)
        to_csv.setdefault("index", False)
        out.to_csv(path, **to_csv)
        return path

    def save_params(self) -> Path:
        path = self.root / "params.yaml"
        path.write_text(yaml.safe_dump(self.params, allow_unicode=True), encoding="utf-8")
        return path


@pytest.fixture
def project_files(tmp_path) -> ProjectFiles:
    return ProjectFiles(tmp_path)

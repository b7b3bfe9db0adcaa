"""environment.yml mirrors pyproject.toml; the package has no shell or make dependency."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!\[ ]", requirement, maxsplit=1)[0].lower()


def test_environment_yml_matches_pyproject():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    runtime = {_name(r): r for r in pyproject["project"]["dependencies"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = {_name(d): d for d in env["dependencies"] if isinstance(d, str)}
    conda.pop("python"), conda.pop("pip")
    assert set(conda) == set(runtime)
    for name, requirement in runtime.items():  # same version floors
        assert conda[name].replace(" ", "") == requirement.replace(" ", ""), name
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip == ["-e ."]


def test_package_runs_no_shell_commands():
    for path in (ROOT / "tyokyky_eval").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "shell=True" not in text and "os.system(" not in text, path


def test_test_only_libraries_stay_out_of_the_runtime():
    for path in (ROOT / "tyokyky_eval").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for library in ("lifelines", "pingouin", "sklearn", "hypothesis"):
            assert not re.search(rf"^\s*(import|from) {library}\b", text, re.M), (path, library)

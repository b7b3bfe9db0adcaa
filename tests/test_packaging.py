"""environment.yml mirrors pyproject.toml; the package has no shell or make dependency; every
subpackage is installed; no import cycle (imports inside functions included); the README's module
map names every module."""
from __future__ import annotations

import ast
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


PACKAGE = ROOT / "tyokyky_eval"


def _modules() -> dict[str, Path]:
    """Dotted module name → file, for every module of the package (packages by their __init__)."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def test_every_subpackage_is_installed():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(pyproject["tool"]["setuptools"]["packages"])
    found = {name for name, path in _modules().items() if path.name == "__init__.py"}
    assert found <= listed


def test_no_import_cycle():
    """Module A imports B (anywhere in A, functions included; importing a submodule imports its
    package's ``__init__`` too) and B imports A, directly or through others: no such cycle."""
    modules = _modules()
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tyokyky_eval"):
                targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                           for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.startswith("tyokyky_eval")]
            else:
                continue
            for target in targets:
                parts = target.split(".")
                graph[name] |= {".".join(parts[:i]) for i in range(2, len(parts) + 1)
                                if ".".join(parts[:i]) in modules and not name.startswith(".".join(parts[:i]))}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name, path):
        state[name] = 1
        for other in sorted(graph[name]):
            assert state.get(other) != 1, f"import cycle: {' → '.join([*path, other])}"
            if other not in state:
                visit(other, [*path, other])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def test_readme_module_map_names_every_module():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text[text.index("The package at a glance"):text.index("A new section is")]
    for name, path in _modules().items():
        if name == "tyokyky_eval":
            continue
        stem = path.parent.name if path.name == "__init__.py" else path.stem
        assert re.search(rf"\b{stem}\b", block), f"{name} is missing from the README's module map"

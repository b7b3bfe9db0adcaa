"""Benchmark: the test suite's wall-clock time against its floor with the same workers.

Run on purpose (it runs the whole suite, about 9 minutes on 2 cores)::

    .venv/bin/python benchmarks/suite.py                      # make test; appends to RESULTS.md
    .venv/bin/python benchmarks/suite.py --workers 4 --no-write

Runs ``make test`` (the README's test command; ``--command`` times another one) with a JUnit XML
report added through ``PYTEST_ADDOPTS``, and times it. pytest-xdist (``--dist loadscope``) gives a
worker a whole module at a time (a whole notebook for nbval), so with W workers the suite cannot
end before its longest module, nor before the sum of every test's time (setup and teardown
included) divided by W: the larger of the two is the floor, and wall / floor is what scheduling,
worker start-up and collection cost. Lists the slowest modules. The result is appended to
``benchmarks/RESULTS.md`` below the hand-written notes marker, as ``cox.py`` and ``programme.py``
do; exits with the suite's exit code.
"""
from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import ROOT, append_to_notes, machine  # noqa: E402


def module_seconds(junit: Path) -> dict[str, float]:
    """Seconds per test module (``file`` of each test case; setup, call and teardown) from a JUnit
    XML report written with ``junit_family=xunit1``."""
    seconds: dict[str, float] = defaultdict(float)
    for case in ET.parse(junit).getroot().iter("testcase"):
        seconds[case.get("file") or case.get("classname", "?")] += float(case.get("time") or 0)
    return dict(seconds)


def summary(wall: float, modules: dict[str, float], workers: int, command: str, code: int, info: dict,
            load: tuple[float, float], started: str, top: int = 8) -> str:
    """The Markdown section appended to the results: wall time, floor, ratio, slowest modules."""
    total = sum(modules.values())
    longest = max(modules.values(), default=0.0)
    floor = max(longest, total / workers)
    busy = load[0] > 0.5 * info["usable_cpus"]  # at the end the suite's own load shows
    lines = ["", f"## The test suite ({started}, commit {info['commit']})", "",
             f"`benchmarks/suite.py`: `{command}` with {workers} workers; wall-clock seconds. The floor is the "
             "larger of the longest module and the sum of every test's time over the workers.", "",
             "| wall | sum of test times | longest module | floor | wall / floor | exit code |",
             "|---:|---:|---:|---:|---:|---:|",
             f"| {wall:.0f} | {total:.0f} | {longest:.0f} | {floor:.0f} | "
             f"{f'{wall / floor:.2f}' if floor else '–'} | {code} |",
             "", "| slowest modules | seconds |", "|---|---:|",
             *(f"| {name} | {seconds:.1f} |" for name, seconds in
               sorted(modules.items(), key=lambda item: (-item[1], item[0]))[:top]),
             "",
             f"- Machine: {info['cpu']}; {info['usable_cpus']} usable CPUs; Python {info['python']}.",
             f"- Load average (1 min) at start {load[0]:.2f} (at end {load[1]:.2f}, the suite's own): "
             + ("**the machine was shared with other work; times are pessimistic**" if busy
                else "the machine was otherwise idle") + "."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("TEST_WORKERS", "2")),
                        help="pytest-xdist workers (make test's TEST_WORKERS; default 2)")
    parser.add_argument("--command", help="what to time instead of `make test TEST_WORKERS=<workers>`")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "RESULTS.md"), help="file the result is appended to")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    command = shlex.split(args.command) if args.command else ["make", "test", f"TEST_WORKERS={args.workers}"]
    with tempfile.TemporaryDirectory(prefix="suite-bench-") as folder:
        junit = Path(folder) / "junit.xml"
        env = {**os.environ, "PYTEST_ADDOPTS": " ".join(
            filter(None, [os.environ.get("PYTEST_ADDOPTS", ""), f"--junitxml={junit}", "-o junit_family=xunit1"]))}
        started, load_start = time.strftime("%Y-%m-%d %H:%M %Z"), os.getloadavg()[0]
        clock = time.perf_counter()
        code = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
        wall = time.perf_counter() - clock
        modules = module_seconds(junit) if junit.is_file() else {}
    text = summary(wall, modules, args.workers, " ".join(command), code, machine(),
                   (load_start, os.getloadavg()[0]), started)
    print(text)
    if not args.no_write:
        append_to_notes(Path(args.out), text)
    return code


if __name__ == "__main__":
    sys.exit(main())

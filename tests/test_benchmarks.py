"""The benchmarks keep running: every kind of step on 60 clients, the run against its floor included."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: every kind of step: the kernel, reading and loading both formats, one section on its own, the
#: mixed models of pre/post, the whole appendix in one process (the run's floor) and the run
STEPS = ("kernel", "generate", "read_csv", "read_parquet", "load_csv", "load_parquet", "prepost", "prepost_mixedlm",
         "floor", "run")


def test_benchmark_steps_finish_and_the_report_has_the_run_against_its_floor(tmp_path):
    out = tmp_path / "RESULTS.md"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--sizes", "60", "--steps",
                           ",".join(STEPS), "--out", str(out), "--timeout", "120"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    text = out.read_text(encoding="utf-8")
    assert "Failed or stopped" not in text
    seconds = text.split("## Wall-clock seconds")[1].split("##")[0]
    _header, *rows = re.findall(r"^\| (\w+) \| ([^|]*) \|$", seconds, re.MULTILINE)
    assert [step for step, _ in rows] == list(STEPS)
    assert all(re.fullmatch(r"\d+\.\d\d", value.strip()) for _, value in rows), rows
    floor = text.split("## The run against its floor")[1]
    assert re.search(r"^\| 60 \| \d+\.\d\d \| \d+\.\d\d \| \d+\.\d\d \|$", floor, re.MULTILINE)


def test_suite_benchmark_reports_the_wall_time_against_its_floor(tmp_path):
    """``benchmarks/suite.py`` on one small test module instead of the whole ``make test``."""
    out = tmp_path / "RESULTS.md"
    command = f"{sys.executable} -m pytest -q -p no:cacheprovider tests/test_rank_tests.py"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "suite.py"), "--command", command,
                           "--workers", "1", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    text = out.read_text(encoding="utf-8")
    row = re.search(r"^\| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+\.\d\d) \| 0 \|$", text, re.MULTILINE)
    assert row, text
    assert re.search(r"^\| tests/test_rank_tests\.py \| \d+\.\d \|$", text, re.MULTILINE), text

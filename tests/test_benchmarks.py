"""The benchmarks keep running: every step but the whole run (too slow for the suite) on a tiny cohort."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_benchmark_step_finishes_and_the_report_has_the_floor(tmp_path):
    out = tmp_path / "RESULTS.md"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--sizes", "60", "--skip-run",
                           "--out", str(out), "--timeout", "120"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    text = out.read_text(encoding="utf-8")
    assert "Failed or stopped" not in text
    seconds = text.split("## Wall-clock seconds")[1].split("##")[0]
    _header, *rows = re.findall(r"^\| (\w+) \| ([^|]*) \|$", seconds, re.M)
    steps = dict(rows)
    assert {"kernel", "generate", "load_csv", "load_parquet", "prepost", "employment", "activities",
            "prepost_mixedlm", "floor"} <= set(steps)
    assert all(re.fullmatch(r"\d+\.\d\d", value.strip()) for value in steps.values()), steps
    assert re.search(r"^\| 60 \| \d+\.\d\d \| not measured \| \|$", text.split("## The run against its floor")[1], re.M)

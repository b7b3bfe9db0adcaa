"""Benchmark: a programme of synthetic projects, every appendix and then the programme synthesis.

Run on purpose, never in the test suite::

    .venv/bin/python benchmarks/programme.py                  # 30 projects, appends to RESULTS.md
    .venv/bin/python benchmarks/programme.py --projects 6 --no-pdf --no-write

Generates ``--projects`` parameters files from the demo project's (``parameters/demo.yaml``: its
column and value maps, analyses, goals and costs) with their own seed and cohorts: an IPS service
of 20–120 clients whose share employed varies between projects, in every third project a
work-ability service (flow and Kykyviisari) and in every fifth a group-employment service. Their
synthetic data are written with ``demo.write_for_params`` (timed as "generate"), then
``many.run_all(..., synthesis=True)`` builds every appendix in ``--jobs`` processes and the
programme appendix after them, as ``tyokyky-eval run-all DIR --synthesis`` does. Reports the
wall-clock seconds of the whole run, of each project (median, slowest) and of the synthesis,
which pools the IPS services' employment and the Kykyviisari change from the published tables.
The result is appended to ``benchmarks/RESULTS.md`` below the hand-written notes marker, as
``cox.py`` does.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import ROOT, append_to_notes, machine  # noqa: E402

OUTCOMES = ("work_trial", "rehabilitative_work", "other_service", "dropped_out", "")


def project_params(number: int, folder: Path) -> Path:
    """Parameters of synthetic project ``number`` (its data in ``folder/<project_id>/``)."""
    params = yaml.safe_load((ROOT / "parameters" / "demo.yaml").read_text(encoding="utf-8"))
    rng = np.random.default_rng(number)
    project_id = f"programme-{number:02d}"
    ips = int(rng.integers(20, 121))
    employed = round(ips * rng.uniform(0.15, 0.55))
    rest = dict(zip(OUTCOMES, rng.multinomial(ips - employed, [0.2, 0.05, 0.1, 0.3, 0.35]).tolist()))
    cohorts = [{"service": "ips", "clients": ips, "outcome_mix": {"employed": employed, **rest}}]
    services = {"ips": {"kind": "ips"}}
    if number % 3 == 0:
        cohorts.append({"service": "work_ability_service", "clients": int(rng.integers(100, 401)),
                        "clients_per_coach": 0,
                        "outcome_mix": {"other_service": 50, "work_trial": 10, "dropped_out": 10, "": 30}})
        services["work_ability_service"] = {"kind": "work_ability_service", "analyses": ["flow", "prepost"]}
    if number % 5 == 0:
        cohorts.append({"service": "group_employment", "clients": int(rng.integers(15, 41)), "clients_per_coach": 0,
                        "outcome_mix": {"employed": 4, "work_trial": 6, "dropped_out": 5, "": 10}})
        services["group_employment"] = {"kind": "group_employment"}
    params.update(project_id=project_id, title=f"Synthetic project {number} of the programme benchmark",
                  services=services,
                  data={name: str(folder / project_id / f"{name}.csv") for name in params["data"]},
                  synthetic={**params["synthetic"], "seed": 5000 + number, "cohorts": cohorts,
                             "clients_per_coach": 15})
    path = folder / "parameters" / f"{project_id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def measure(projects: int, jobs: int, pdf: bool, workdir: Path) -> dict:
    from tyokyky_eval import demo
    from tyokyky_eval.run.many import run_all

    paths = [project_params(k, workdir) for k in range(1, projects + 1)]
    started = time.perf_counter()
    for path in paths:
        demo.write_for_params(path)
    generate = time.perf_counter() - started
    started = time.perf_counter()
    outcomes = run_all(workdir / "parameters", workdir / "output", jobs=jobs, synthesis=True, pdf=pdf)
    total = time.perf_counter() - started
    *runs, synthesis = outcomes
    pooled = (workdir / "output" / "synthesis" / "tables" / "synthesis_pooled.csv")
    return {"projects": projects, "jobs": jobs, "pdf": pdf, "generate": generate, "total": total,
            "project_seconds": [o.seconds for o in runs if o.status == "ok"],
            "failed": [f"{o.project}: {o.message}" for o in outcomes if o.status != "ok"],
            "synthesis": synthesis.seconds if synthesis.status == "ok" else None,
            "pooled": pooled.read_text(encoding="utf-8") if pooled.is_file() else ""}


def report(r: dict, info: dict, load: tuple, started: str) -> str:
    busy = max(load) > 0.5 * info["usable_cpus"]
    seconds = r["project_seconds"]
    pooled = [line.split(",") for line in r["pooled"].splitlines()[1:]]
    n_pooled = sum(row[-1] == "pooled" for row in pooled)
    lines = [
        "", f"## A programme of {r['projects']} projects and its synthesis ({started}, commit {info['commit']})", "",
        f"`benchmarks/programme.py --projects {r['projects']} --jobs {r['jobs']}{'' if r['pdf'] else ' --no-pdf'}`: "
        "every appendix (`run-all`) and then the programme appendix (`--synthesis`); wall-clock seconds.", "",
        "| what | seconds |", "|---|---:|",
        f"| generate the synthetic data ({r['projects']} projects) | {r['generate']:.1f} |",
        f"| `run-all --synthesis`, in all | {r['total']:.1f} |",
        f"| one project, median (slowest) | {statistics.median(seconds) if seconds else float('nan'):.1f} "
        f"({max(seconds, default=float('nan')):.1f}) |",
        ("| the synthesis (reading and checking every appendix, the notebook, HTML, Word, Excel"
         + (", PDF" if r["pdf"] else "") + f") | {r['synthesis'] if r['synthesis'] is not None else float('nan'):.1f} |"),
        "",
        (f"- {len(seconds)} of {r['projects']} projects ok; synthesis "
         f"{'ok' if r['synthesis'] is not None else 'failed'}; {n_pooled} pooled estimates."
         + "".join(f"\n- failed: {f}" for f in r["failed"])),
        f"- Machine: {info['cpu']}; {info['usable_cpus']} usable CPUs; Python {info['python']}.",
        f"- Load average (1 min) at start {load[0]:.2f}, at end {load[1]:.2f}: "
        + ("**the machine was shared with other work; times are pessimistic**" if busy
           else "the machine was otherwise idle") + ".",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2, help="projects run at the same time (default 2)")
    parser.add_argument("--no-pdf", action="store_true", help="write no PDF appendices")
    parser.add_argument("--workdir", help="where the projects are written (default: a temporary folder, removed)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "RESULTS.md"), help="file the result is appended to")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="tyokyky-programme-"))
    started, load_start = time.strftime("%Y-%m-%d %H:%M %Z"), os.getloadavg()[0]
    try:
        result = measure(args.projects, args.jobs, not args.no_pdf, workdir)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    text = report(result, machine(), (load_start, os.getloadavg()[0]), started)
    print(text)
    if not args.no_write:
        append_to_notes(Path(args.out), text)
        print(f"appended to {args.out}")
    return 0 if not result["failed"] else 1


if __name__ == "__main__":
    sys.exit(main())

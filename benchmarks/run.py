"""Benchmarks: time and peak memory of every stage for synthetic cohorts of growing size.

Run on purpose, never in the test suite::

    .venv/bin/python benchmarks/run.py                       # 1 000 … 1 000 000 clients
    .venv/bin/python benchmarks/run.py --sizes 1000,10000 --skip-run --out /tmp/RESULTS.md

Every step runs in its own child process, so a step's memory is measured alone: peak RSS is the
larger of the child's ``ru_maxrss`` (from ``os.wait4``, the largest single process of its tree) and
the sampled sum of RSS over the child and its descendants (Jupyter kernels, Chromium), every 0.1 s.
For the analysis steps the data are loaded first (untimed); the step's own extra peak is reported
as well. Wall-clock seconds with ``time.perf_counter``. Writes a Markdown report (default
``benchmarks/RESULTS.md``) with the machine it ran on, the log-log scaling exponent per step and the
ratio of the whole run to its in-process floor; exits 1 when a step failed or was stopped.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import math
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from importlib import metadata
from pathlib import Path

from tyokyky_eval import load_section, sections
from tyokyky_eval.inputs.dictionary import instrument

ROOT = Path(__file__).resolve().parents[1]
DEMO_PARAMS = ROOT / "parameters" / "demo.yaml"
DEFAULT_SIZES = (1_000, 10_000, 100_000, 1_000_000)
ANALYSES = tuple(name for name in sections.REGISTRY if name != "overview")
STEPS = ("kernel", "generate", "read_csv", "read_parquet", "load_csv", "load_parquet", *ANALYSES, "prepost_mixedlm",
         "floor", "run")
PACKAGES = ("tyokyky-eval", "pandas", "numpy", "scipy", "statsmodels", "pyarrow", "pandera", "papermill",
            "nbconvert", "matplotlib", "dask", "distributed")
TARGET_SECONDS, TARGET_MIB = 120, 4096  # full appendix for 100 000 clients on 2 cores
NOTES_MARKER = "<!-- notes: everything from this line on is written by hand and kept when run.py rewrites the file -->"


def append_to_notes(out: Path, text: str) -> None:
    """Append ``text`` to the hand-written part of the report ``out`` (after ``NOTES_MARKER``, which
    ``run.py`` keeps when it rewrites the file), starting that part when the file has none."""
    old = out.read_text(encoding="utf-8") if out.is_file() else ""
    if NOTES_MARKER not in old:
        old = old.rstrip("\n") + ("\n\n" if old else "") + NOTES_MARKER + "\n"
    out.write_text(old.rstrip("\n") + "\n" + text, encoding="utf-8")


# -- child side: one step, timed --------------------------------------------------------------------
def _demo_params() -> dict:
    import yaml

    return yaml.safe_load(DEMO_PARAMS.read_text(encoding="utf-8"))


def _spec(size: int):
    """The synthetic data the demo project describes (``demo-data --params``: every table its
    ``data`` names, its activities), for ``size`` clients."""
    from tyokyky_eval import demo

    params = _demo_params()
    return demo.spec_from_synthetic({**params["synthetic"], "cutoff_date": params["cutoff_date"],
                                     "tables": tuple(params["data"]), "clients": size})


def _params(folder: Path, size: int, fmt: str) -> Path:
    """Parameters for the cohort in ``folder``: the demo project's own file (its column and value
    maps, analyses options) with the data paths pointing at the CSV files, or canonical Parquet."""
    import yaml

    params = _demo_params()
    params["project_id"] = f"bench-{size}-{fmt}"
    params["synthetic"] = {**params.get("synthetic", {}), "clients": size}  # describes the data, as in the demo
    params["data"] = {name: str(folder / f"{name}.{fmt}") for name in params["data"]}
    if fmt == "parquet":  # canonical names and codes already
        params.pop("column_map", None)
        params.pop("value_map", None)
    path = folder / f"params-{fmt}.yaml"
    path.write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _show(section, language: str) -> None:
    """What a notebook shows of ``section``: its published tables, its text and its figures."""
    import matplotlib.pyplot as plt

    section.published()
    section.text(language)
    for _, figure in section.figures(language):
        plt.close(figure)


def _recipe(name: str, project):
    """(what is timed, a description) for section ``name`` built on its own from the project
    (``load_section`` would build and audit the whole appendix: that is the ``floor`` step)."""
    entry = sections.REGISTRY[name]
    note = f"the {name} section on its own: built, published(), text(), figures()"
    return (lambda: _show(entry.load()(project), project.language)), note


def _mixed_recipe(project):
    """Only the mixed-model part of pre/post (the known risk): ``prepost.mixed_model`` per measure on the
    measurements ``assign_timepoints`` uses, as ``prepost.mixed_models`` fits them (profiled REML)."""
    prepost = importlib.import_module("tyokyky_eval.stats.prepost")
    options = project.params.options("prepost")
    measures = prepost.measure_table(instrument(project.params.instrument("kykyviisari")), options)
    assigned = prepost.assign_timepoints(project.table("kykyviisari"), project.table("clients"), options)
    used = assigned[assigned["status"] == "used"]
    longs = [used[["client_id", "timepoint"]].assign(score=used[m].astype(float)) for m in measures.index if m in used]
    note = f"prepost.mixed_model: {len(longs)} profiled-REML fits on {_n(len(used))} rows each"
    return (lambda: [prepost.mixed_model(long) for long in longs]), note


def _empty_notebook(path: Path) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("pass")]
    nbformat.write(nb, str(path))
    return path


def _notebook_time(path: Path) -> str:
    """'30_prepost 12.3 s (slowest cell 9.1 s: first line)' from papermill's cell durations."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    cells = [(c.metadata.get("papermill", {}).get("duration") or 0.0, (c.source.splitlines() or [""])[0][:60])
             for c in nb.cells if c.cell_type == "code"]
    slowest, line = max(cells, default=(0.0, ""))
    total = nb.metadata.get("papermill", {}).get("duration") or 0.0
    return f"{path.stem} {total:.1f} s (slowest cell {slowest:.1f} s: `{line}`)"


def child(step: str, size: int, workdir: Path) -> dict:
    """Run ``step`` for the cohort of ``size`` clients in ``workdir/<size>``; returns seconds and notes."""
    import psutil

    folder = workdir / str(size)
    note = ""
    if step == "generate":
        from tyokyky_eval import demo

        spec = _spec(size)
        started = time.perf_counter()
        tables = demo.generate(spec)
        seconds = time.perf_counter() - started
        demo.write(tables, folder)
        for name, frame in tables.items():
            frame.to_parquet(folder / f"{name}.parquet", index=False)
        for fmt in ("csv", "parquet"):
            _params(folder, size, fmt)
        note = ", ".join(f"{name} {_n(len(frame))} rows" for name, frame in tables.items())
        return {"seconds": seconds, "note": note}
    if step in ("read_csv", "read_parquet"):
        from tyokyky_eval.inputs.readers import read_table

        fmt = step.removeprefix("read_")
        started = time.perf_counter()
        rows = sum(len(read_table(p)) for p in sorted(folder.glob(f"*.{fmt}")))
        return {"seconds": time.perf_counter() - started, "note": f"{_n(rows)} rows"}
    if step in ("load_csv", "load_parquet"):
        from tyokyky_eval.inputs.project import load_project

        started = time.perf_counter()
        load_project(folder / f"params-{step.removeprefix('load_')}.yaml")
        return {"seconds": time.perf_counter() - started}
    if step == "kernel":
        import papermill

        from tyokyky_eval.run.kernel import ensure_kernel

        source, kernel = _empty_notebook(workdir / "empty.ipynb"), ensure_kernel()
        started = time.perf_counter()
        papermill.execute_notebook(str(source), str(workdir / "empty-out.ipynb"), kernel_name=kernel,
                                   progress_bar=False)
        return {"seconds": time.perf_counter() - started}
    if step == "floor":
        from tyokyky_eval.inputs.project import load_project

        started = time.perf_counter()
        project = load_project(folder / "params-csv.yaml")
        shown = [name for name, entry in sections.REGISTRY.items() if not entry.missing(project)]
        for name in shown:
            _show(load_section(name, project), project.language)
        return {"seconds": time.perf_counter() - started, "note": f"{len(shown)} sections: {', '.join(shown)}"}
    if step == "run":
        from tyokyky_eval.run.runner import run_project

        started = time.perf_counter()
        result = run_project(folder / "params-csv.yaml", folder / "out", progress=False, pdf=False)
        seconds = time.perf_counter() - started
        parts = [_notebook_time(path) for path in sorted((result.folder / "executed").glob("*.ipynb"))]
        return {"seconds": seconds, "note": "; ".join(parts)}
    # analysis steps: load (untimed), then time the analysis
    from tyokyky_eval.inputs.project import load_project

    project = load_project(folder / "params-parquet.yaml")
    run, note = _mixed_recipe(project) if step == "prepost_mixedlm" else _recipe(step, project)
    rss_before = psutil.Process().memory_info().rss
    started = time.perf_counter()
    run()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    return {"seconds": seconds, "note": note, "step_extra_mib": max(0, peak - rss_before) / 2**20}


# -- parent side: run each step in a child, measure it ------------------------------------------------
def _tree_rss(pid: int) -> int:
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += p.memory_info().rss
    return total


def measure(step: str, size: int, workdir: Path, timeout: float) -> dict:
    """Run ``step`` in a child process; adds ``peak_mib`` and ``status`` to what the child reports."""
    out = workdir / f"{step}-{size}.json"
    command = [sys.executable, __file__, "--child", step, "--size", str(size), "--workdir", str(workdir),
               "--child-out", str(out)]
    proc = subprocess.Popen(command, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    sampled, done = [0], threading.Event()

    def sample():
        while not done.wait(0.1):
            sampled[0] = max(sampled[0], _tree_rss(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
    timer.start()
    stderr = proc.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    timer.cancel()
    done.set()
    sampler.join()
    with contextlib.suppress(ProcessLookupError):  # leftovers of the step (a kernel left behind)
        os.killpg(proc.pid, signal.SIGKILL)
    peak_mib = max(usage.ru_maxrss * 1024, sampled[0]) / 2**20
    if proc.returncode == 0 and out.is_file():
        return {**json.loads(out.read_text()), "peak_mib": peak_mib, "status": "ok"}
    if proc.returncode == -signal.SIGKILL:
        return {"status": f"> {timeout:.0f} s (stopped)", "peak_mib": peak_mib}
    last = (stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
    return {"status": f"failed: {last[:200]}", "peak_mib": peak_mib}


# -- report -------------------------------------------------------------------------------------------
def _n(n: int) -> str:
    """1000000 → '1 000 000'."""
    return f"{n:,}".replace(",", " ")


def slope(points: list[tuple[int, float]]) -> float | None:
    """Least-squares slope of log(seconds) on log(clients): 1 = linear, 2 = quadratic."""
    points = [(n, s) for n, s in points if s and s > 0]
    if len(points) < 2:
        return None
    xs, ys = [math.log(n) for n, _ in points], [math.log(s) for _, s in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else None


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    mem = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0)
    versions = {}
    for package in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return {"cpu": cpu, "logical_cpus": os.cpu_count(), "usable_cpus": len(os.sched_getaffinity(0)),
            "ram_gib": mem / 2**20, "os": platform.platform(), "python": platform.python_version(),
            "versions": versions, "commit": commit.stdout.strip() or "unknown"}


def _cell(result: dict | None, key: str, fmt: str) -> str:
    if result is None:
        return ""
    if result.get("status") != "ok":
        if key == "seconds":
            return "stopped" if result["status"].startswith(">") else "failed"
        return fmt.format(result["peak_mib"]) if key == "peak_mib" else ""
    value = result.get(key)
    return "" if value is None else fmt.format(value)


def ratios(results: dict, sizes: list[int]) -> list[tuple[int, float, float | None, float | None]]:
    """(clients, floor seconds, run seconds, run / floor) for every size whose floor finished; the
    run and the ratio are None where the run was not measured or did not finish."""
    out = []
    for n in sizes:
        floor, run = results.get(("floor", n), {}), results.get(("run", n), {})
        if floor.get("status") == "ok":
            seconds = run["seconds"] if run.get("status") == "ok" else None
            out.append((n, floor["seconds"], seconds, None if seconds is None else seconds / floor["seconds"]))
    return out


def report(results: dict, sizes: list[int], info: dict, load: tuple, started: str) -> str:
    steps = list(dict.fromkeys(step for step, _ in results))
    header = "| step | " + " | ".join(_n(n) for n in sizes) + " |"
    rule = "|---|" + "---:|" * len(sizes)
    lines = [
        "# Benchmark results", "",
        f"Run {started} with `benchmarks/run.py --sizes {','.join(map(str, sizes))}` "
        f"(commit {info['commit']}). Synthetic cohorts from `tyokyky_eval.demo.generate`.", "",
        "## Machine", "",
        f"- CPU: {info['cpu']}; {info['logical_cpus']} logical CPUs, {info['usable_cpus']} usable by this process",
        f"- RAM: {info['ram_gib']:.1f} GiB; {info['os']}; Python {info['python']}",
        "- Packages: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()),
        f"- Load average (1 min) at start {load[0]:.2f}, at end {load[1]:.2f}: "
        + ("**the machine was shared with other work; times are pessimistic**" if max(load) > 0.5 * info["usable_cpus"]
           else "the machine was otherwise idle"), "",
        "## Wall-clock seconds", "", header, rule,
    ]
    for step in steps:
        lines.append(f"| {step} | " + " | ".join(_cell(results.get((step, n)), "seconds", "{:.2f}") for n in sizes) + " |")
    lines += ["", "## Peak memory (MiB, RSS of the step's whole process tree)", "", header, rule]
    for step in steps:
        lines.append(f"| {step} | " + " | ".join(_cell(results.get((step, n)), "peak_mib", "{:.0f}") for n in sizes) + " |")
    extra = [s for s in steps if any("step_extra_mib" in (results.get((s, n)) or {}) for n in sizes)]
    if extra:
        lines += ["", "Extra peak of the analysis itself, over the loaded data (MiB):", "", header, rule]
        for step in extra:
            lines.append(f"| {step} | " + " | ".join(_cell(results.get((step, n)), "step_extra_mib", "{:.0f}")
                                                     for n in sizes) + " |")
    lines += ["", "## Scaling exponent", "",
              "Slope of log(seconds) on log(clients): 1 = linear, 2 = quadratic. Small cohorts are dominated by "
              "fixed costs (imports, kernel start), so the slope over the two largest sizes is the one to judge.", "",
              "| step | all sizes | two largest sizes |", "|---|---:|---:|"]
    for step in steps:
        points = [(n, results[(step, n)]["seconds"]) for n in sizes
                  if results.get((step, n), {}).get("status") == "ok"]
        fits = [slope(points), slope(points[-2:])]
        lines.append(f"| {step} | " + " | ".join("" if f is None else f"{f:.2f}" for f in fits) + " |")
    lines += ["", "## The run against its floor", "",
              ("The whole run (`run`) against the same appendix computed in one process (`floor`): what the "
               "notebooks, kernels and writing cost beyond the statistics. Both are measured in the same run, "
               "so the ratio depends far less on the machine and its load than the seconds do."), "",
              "| clients | floor (s) | run (s) | run / floor |", "|---:|---:|---:|---:|"]
    lines += [f"| {_n(n)} | {floor:.2f} | " + ("not measured | |" if ratio is None else f"{run:.2f} | {ratio:.2f} |")
              for n, floor, run, ratio in ratios(results, sizes)]
    failures = [(step, n, results[(step, n)]["status"]) for step in steps for n in sizes
                if results.get((step, n), {}).get("status", "ok") != "ok"]
    if failures:
        lines += ["", "## Failed or stopped steps", ""]
        lines += [f"- {step}, {_n(n)} clients: {status}" for step, n, status in failures]
    notes = {step: f"{results[(step, n)]['note']} (at {_n(n)} clients)"
             for step in steps for n in sizes if results.get((step, n), {}).get("note")}
    lines += ["", "## Steps", "",
              "- kernel: papermill executing a one-cell notebook (`pass`): the fixed cost of every notebook.",
              f"- generate: `demo.generate`; {notes.get('generate', '')}",
              "- read_csv / read_parquet: `readers.read_table` on the input files alone (the floor of loading).",
              "- load_csv / load_parquet: `project.load_project`: reading, column and value maps, validation.",
              "- analysis steps: on the loaded Parquet project; what is timed:"]
    lines += [f"  - {step}: {notes[step]}" for step in steps if step in ANALYSES + ("prepost_mixedlm",) and step in notes]
    lines += ["- floor: in one process, `load_project` on the CSV project, then every section it has data for "
              "(`load_section`: the protected appendix, audited once) published(), text() and figures()"
              + (f"; {notes['floor']}" if "floor" in notes else "."),
              "- run: the whole `tyokyky-eval run --no-pdf` (`runner.run_project(..., pdf=False)`) on the CSV "
              "project (validation, every notebook, HTML)" + (f"; {notes['run']}" if "run" in notes else ".")]
    run = results.get(("run", 100_000))
    lines += ["", "## Targets (100 000 clients, 2 cores)", ""]
    if run is None:
        lines.append("- full appendix < 2 min and < 4 GiB: not measured in this run")
    elif run.get("status") != "ok":
        lines.append(f"- full appendix: {run['status']} (peak {run['peak_mib']:.0f} MiB): **not met**")
    else:
        met = run["seconds"] < TARGET_SECONDS and run["peak_mib"] < TARGET_MIB
        lines.append(f"- full appendix: {run['seconds']:.0f} s, {run['peak_mib']:.0f} MiB peak "
                     f"(targets {TARGET_SECONDS} s, {TARGET_MIB} MiB): **{'met' if met else 'not met'}**")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="comma-separated client counts")
    parser.add_argument("--steps", help="comma-separated steps to measure (default: all; generate always runs): "
                                        + ", ".join(STEPS))
    parser.add_argument("--skip-run", action="store_true", help="leave out the whole `tyokyky-eval run`")
    parser.add_argument("--run-max", type=int, default=100_000, help="largest cohort for the whole run")
    parser.add_argument("--analyses-max", type=int,
                        help="largest cohort for the analysis steps and the floor (default: all)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "RESULTS.md"))
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before a step is stopped")
    parser.add_argument("--workdir", help="where the cohorts are written (default: a temporary folder, removed)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        result = child(args.child, args.size, Path(args.workdir))
        Path(args.child_out).write_text(json.dumps(result))
        return 0

    chosen = STEPS if args.steps is None else args.steps.split(",")
    if unknown := sorted(set(chosen) - set(STEPS)):
        parser.error(f"unknown steps {', '.join(unknown)}; the steps are {', '.join(STEPS)}")
    sizes = sorted(int(s) for s in args.sizes.split(","))
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="tyokyky-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started, load_start = time.strftime("%Y-%m-%d %H:%M %Z"), os.getloadavg()[0]
    results: dict = {}

    def do(step, size):
        results[(step, size)] = measure(step, size, workdir, args.timeout)
        r = results[(step, size)]
        print(f"{size:>9} {step:<16} {r.get('seconds', float('nan')):9.2f} s {r['peak_mib']:8.0f} MiB  "
              f"{r['status']}", flush=True)
        return r

    try:
        for size in sizes:
            if size == sizes[0] and "kernel" in chosen:  # the kernel's cost does not depend on the cohort: once
                do("kernel", size)
            if do("generate", size)["status"] != "ok":
                continue
            steps = ["read_csv", "read_parquet", "load_csv", "load_parquet"]
            if args.analyses_max is None or size <= args.analyses_max:
                steps += [*ANALYSES, "prepost_mixedlm", "floor"]
            if not args.skip_run and size <= args.run_max:
                steps.append("run")
            for step in steps:
                if step in chosen:
                    do(step, size)
            shutil.rmtree(workdir / str(size), ignore_errors=True)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    text = report(results, sizes, machine(), (load_start, os.getloadavg()[0]), started)
    out = Path(args.out)
    if out.is_file() and NOTES_MARKER in (old := out.read_text(encoding="utf-8")):
        text += "\n" + old[old.index(NOTES_MARKER):]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    for n, floor, run, ratio in ratios(results, sizes):
        if ratio is not None:
            print(f"{n:>9} run / floor {run:.2f} s / {floor:.2f} s = {ratio:.2f}")
    print(f"wrote {args.out}")
    return 0 if all(r["status"] == "ok" for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

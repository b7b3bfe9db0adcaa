"""Benchmark: the package's Cox step against statsmodels' fit alone, in one process (issue 11).

Run on purpose, never in the test suite::

    .venv/bin/python benchmarks/cox.py                       # 200 000 clients, 5 repeats, appends to RESULTS.md
    .venv/bin/python benchmarks/cox.py --clients 20000 --repeats 3 --no-write

Times, on the same synthetic cohort and in the same process (so both see the same machine and load):

- ``PHReg(time, exog, status, ties="efron").fit()``: statsmodels' Cox fit alone (model set-up included);
- ``survival.cox_model(tte, exog, options)``: the package's whole Cox step (the same fit, the
  coefficient table and the proportional-hazards test ``schoenfeld.ph_test``);
- ``schoenfeld.ph_test`` alone, on the fitted coefficients (for the breakdown).

The two main measurements alternate in order (fit first, then Cox step first, …) so that a change
of load during the run hits both alike; the ratio is of the medians, and the median of the
per-repeat (paired) ratios is reported too. Wall-clock seconds with ``time.perf_counter`` and CPU
seconds of the process with ``time.process_time``. Target: the Cox step ≤ 1.5 × the fit alone.
The result is appended to ``benchmarks/RESULTS.md`` below the hand-written notes marker, so that a
rerun of ``run.py`` keeps it.
"""
from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import ROOT, _n, append_to_notes, machine  # noqa: E402

TARGET_RATIO = 1.5


def cohort(clients: int, seed: int = 2023) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``tte`` (``time_days``, ``event``) and two covariates (``age``, ``female``) for ``clients``
    synthetic clients: exponential times to a job with a hazard depending on both covariates,
    uniform censoring within two years, times in whole days (so with ties, as in the projects)."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 65, clients).astype(float)
    female = rng.integers(0, 2, clients).astype(float)
    to_job = rng.exponential(400 * np.exp(0.02 * (age - 40) - 0.2 * female))
    censored = rng.uniform(30, 730, clients)
    tte = pd.DataFrame({"time_days": np.floor(np.minimum(to_job, censored)), "event": to_job <= censored})
    return tte, pd.DataFrame({"age": age, "female": female})


def _timed(fn):
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, value


def measure(clients: int, repeats: int, seed: int) -> dict:
    from statsmodels.duration.hazard_regression import PHReg

    from tyokyky_eval.stats import survival
    from tyokyky_eval.stats.schoenfeld import ph_test

    tte, exog = cohort(clients, seed)
    options = survival.Options()
    time_days, status, x = tte["time_days"].to_numpy(float), tte["event"].to_numpy(int), exog.to_numpy(float)

    def fit():
        return PHReg(time_days, x, status, ties="efron").fit()

    def cox():
        return survival.cox_model(tte, exog, options)

    small_tte, small_exog = cohort(2_000, seed + 1)  # warm-up: imports and first-call costs, untimed
    PHReg(small_tte["time_days"].to_numpy(float), small_exog.to_numpy(float), small_tte["event"].to_numpy(int),
          ties="efron").fit()
    survival.cox_model(small_tte, small_exog, options)

    runs = {"fit": [], "cox": [], "ph": []}
    params = None
    for repeat in range(repeats):
        order = ("fit", "cox") if repeat % 2 == 0 else ("cox", "fit")
        for what in order:
            wall, cpu, value = _timed(fit if what == "fit" else cox)
            runs[what].append((wall, cpu))
            if what == "fit":
                params = value.params
            else:
                result = value
        wall, cpu, _ = _timed(lambda: ph_test(time_days, status, x, params, names=list(exog.columns)))
        runs["ph"].append((wall, cpu))
    assert np.allclose(result.table["coef"], params, rtol=1e-10, atol=0), "cox_model and PHReg disagree"
    unique_times = len(np.unique(time_days[status == 1]))
    return {"runs": runs, "n": clients, "events": int(status.sum()), "event_times": unique_times,
            "repeats": repeats, "ph": result.ph}


def summary(result: dict) -> dict:
    runs = result["runs"]
    med = {what: [statistics.median(r[i] for r in runs[what]) for i in (0, 1)] for what in runs}
    paired = [c[0] / f[0] for f, c in zip(runs["fit"], runs["cox"])]
    return {"median": med,
            "min": {what: min(r[0] for r in runs[what]) for what in runs},
            "max": {what: max(r[0] for r in runs[what]) for what in runs},
            "ratio": med["cox"][0] / med["fit"][0], "ratio_cpu": med["cox"][1] / med["fit"][1],
            "ratio_paired": statistics.median(paired)}


def report(result: dict, s: dict, info: dict, load: tuple, started: str) -> str:
    busy = max(load) > 0.5 * info["usable_cpus"]
    met = s["ratio"] <= TARGET_RATIO
    blas = os.environ.get("OPENBLAS_CORETYPE")
    rows = [("statsmodels `PHReg(time, exog, status, ties=\"efron\").fit()` alone", "fit"),
            ("`survival.cox_model` (the same fit + coefficient table + PH test)", "cox"),
            ("of which `schoenfeld.ph_test` (timed separately)", "ph")]
    lines = [
        "", f"## Cox step against statsmodels ({started}, commit {info['commit']})", "",
        f"`benchmarks/cox.py --clients {result['n']} --repeats {result['repeats']}`: {_n(result['n'])} synthetic "
        f"clients, 2 covariates (age, female), times in whole days ({_n(result['events'])} events at "
        f"{_n(result['event_times'])} distinct times); all timings in one process, the fit and the Cox step "
        "alternating in order; wall-clock seconds.", "",
        "| what | median | min | max | CPU s (median) |", "|---|---:|---:|---:|---:|",
    ]
    for label, key in rows:
        lines.append(f"| {label} | {s['median'][key][0]:.2f} | {s['min'][key]:.2f} | {s['max'][key]:.2f} "
                     f"| {s['median'][key][1]:.2f} |")
    lines += [
        "",
        f"- **Ratio `cox_model` / `PHReg.fit()`: {s['ratio']:.2f}** (medians; paired per-repeat median "
        f"{s['ratio_paired']:.2f}; CPU seconds {s['ratio_cpu']:.2f}). Target ≤ {TARGET_RATIO}: "
        f"**{'met' if met else 'not met'}**.",
        f"- Machine: {info['cpu']}; {info['usable_cpus']} usable CPUs; Python {info['python']}; "
        + ", ".join(f"{k} {v}" for k, v in info["versions"].items() if k in ("numpy", "scipy", "pandas", "statsmodels"))
        + (f"; OPENBLAS_CORETYPE={blas}" if blas else "") + ".",
        f"- Load average (1 min) at start {load[0]:.2f}, at end {load[1]:.2f}: "
        + ("**the machine was shared with other work; absolute times are pessimistic, the ratio (same "
           "process, alternating order) much less so**" if busy else "the machine was otherwise idle") + ".",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "RESULTS.md"), help="file the result is appended to")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    started, load_start = time.strftime("%Y-%m-%d %H:%M %Z"), os.getloadavg()[0]
    result = measure(args.clients, args.repeats, args.seed)
    text = report(result, summary(result), machine(), (load_start, os.getloadavg()[0]), started)
    print(text)
    if not args.no_write:
        append_to_notes(Path(args.out), text)
        print(f"appended to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What a user waits for outside the jobs: CLI start, task loading, the first worker, each
job's own overhead, and the report, on a 10-job constant-predictor run of a cached task.

    python tests/benchmarks/command_overhead.py [--repeats 3] [--cold-start] [--source DIR]

``--source DIR`` runs the CLI from another source tree (e.g. an older commit unpacked with
``git archive``) to compare, with the same data and machine.

Prints (medians over --repeats runs of the whole command, each into a fresh run directory):
- CLI start: wall time of `--help`, `list suites` and a bad-input error (targets < 0.5 s);
- suite/task load: command start to plan.json (suite read, cached task loaded and copied
  into the run directory, jobs planned);
- first-worker latency: command start to the first worker's started.json (target < 1 s);
- per-job overhead: a job's wall time minus its fit and predict time (median over jobs);
- results final: last job's end to results.csv written; exit: to the command's exit;
- report: how long after the command's exit the background report's index.html appears;
- total outside jobs: whole-command wall minus the time when a job was running (target
  < 2 s; the AutoML Benchmark spends 3.0-4.4 s on the same 10 semeion folds).

The task is semeion from the shared datasets (1593 x 256, 10 classes) when present, else a
generated Parquet file of the same shape; a first, unmeasured run fills the task cache.
Load averages are printed before and after: other processes on the cores skew wall times.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("AUTOML_BENCH_SHARED", ROOT.parent / "shared"))
CLI = [sys.executable, "-m", "bench"]

SUITE = """
name: overhead-10
folds: 10
seed: 0
constraint: {{budget_s: 30, cores: 1, memory_mb: 2048}}
frameworks: [constant]
tasks:
  - name: {name}
    file: {{path: {path}, target: {target}}}
"""


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs"


def data(tmp: Path) -> tuple[str, Path, str]:
    semeion = SHARED / "datasets" / "semeion.parquet"
    if semeion.exists():
        return "semeion", semeion, "class"
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.integers(0, 2, size=(1593, 256)).astype(float),
                         columns=[f"f{i}" for i in range(256)])  # fmt: skip
    frame["class"] = rng.integers(0, 10, size=1593).astype(str)
    path = tmp / "generated-1593x256.parquet"
    frame.to_parquet(path)
    return "generated", path, "class"


def timed(args, env, cwd) -> tuple[float, float]:
    """(wall, CPU seconds) of one CLI command; CPU time is what load does not inflate."""
    import resource

    def cpu():
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        return ru.ru_utime + ru.ru_stime

    c0, t0 = cpu(), time.monotonic()
    subprocess.run([*CLI, *map(str, args)], env=env, cwd=cwd, capture_output=True, text=True)
    return time.monotonic() - t0, cpu() - c0


def union(intervals) -> float:
    total, end = 0.0, -np.inf
    for a, b in sorted(intervals):
        if b > end:
            total += b - max(a, end)
            end = b
    return total


def one_run(suite: Path, out: Path, env, cwd, extra) -> dict:
    import resource

    from bench.planning.plan import job_dir

    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.time()
    p = subprocess.run([*CLI, "run", "--suite", suite, "--out", out, *extra], env=env, cwd=cwd,
                       capture_output=True, text=True)  # fmt: skip
    t_exit = time.time()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime
    if p.returncode != 0:
        sys.exit(f"run failed:\n{p.stdout}\n{p.stderr}")
    df = pd.read_csv(out / "results.csv")
    assert len(df) == 10 and (df["status"] == "ok").all(), df["error_message"]
    jobs = []
    for r in df.itertuples():
        d = job_dir(out, r.framework, r.task, r.fold, r.job_id)
        jobs.append((json.loads((d / "started.json").read_text())["time"],
                     (d / "outcome.json").stat().st_mtime))  # fmt: skip
    html = out / "report" / "index.html"
    deadline = time.time() + 300
    while "--no-report" not in extra and not html.exists() and time.time() < deadline:
        time.sleep(0.05)
    last_end = max(e for _, e in jobs)
    wall = t_exit - t0
    return {
        "wall": wall,
        "load": (out / "plan.json").stat().st_mtime - t0,
        "first_worker": min(s for s, _ in jobs) - t0,
        "per_job": statistics.median(df["duration"] - df["training_duration"]
                                     - df["predict_duration"]),  # fmt: skip
        "results_final": (out / "results.csv").stat().st_mtime - last_end,
        "exit_after_last_job": t_exit - last_end,
        "report_after_exit": html.stat().st_mtime - t_exit if html.exists() else float("nan"),
        "outside": wall - union(jobs),
        "cpu": cpu,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cold-start", action="store_true", help="pass --cold-start to run")
    ap.add_argument("--source", type=Path, default=ROOT, help="source tree of the CLI to time")
    args = ap.parse_args()
    print(f"load average before: {load()}; CLI from {args.source}")
    tmp = Path(tempfile.mkdtemp(prefix="automl-bench-command-overhead-"))
    env = {**os.environ, "AUTOML_BENCH_CACHE": str(tmp / "cache"),
           "PYTHONPATH": os.pathsep.join(p for p in (str(args.source.resolve()),
                                                     os.environ.get("PYTHONPATH")) if p)}  # fmt: skip
    try:
        starts = {}
        for label, a in (("--help", ["--help"]), ("list suites", ["list", "suites"]),
                         ("bad input", ["run", "--suite", "no-such-suite"])):  # fmt: skip
            times = [timed(a, env, tmp) for _ in range(max(3, args.repeats))]
            starts[label] = [statistics.median(t[i] for t in times) for i in (0, 1)]
        print("CLI start, median wall (CPU): "
              + ", ".join(f"{k} {w:.2f} s ({c:.2f} s)" for k, (w, c) in starts.items())
              + " (target < 0.5 s)")  # fmt: skip

        name, path, target = data(tmp)
        suite = tmp / "suite.yaml"
        suite.write_text(SUITE.format(name=name, path=path, target=target))
        extra = ["--cold-start"] if args.cold_start else []
        one_run(suite, tmp / "fill-cache", env, tmp, [*extra, "--no-report"])
        runs = [one_run(suite, tmp / f"run-{i}", env, tmp, extra) for i in range(args.repeats)]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"10 constant-predictor jobs on {name} (cached task), 1 slot, {args.repeats} runs, "
              f"medians:")  # fmt: skip
        print(f"  whole command             {med['wall']:.2f} s (CPU of driver, launcher and "
              f"workers: {med['cpu']:.2f} s)")  # fmt: skip
        print(f"  suite/task load           {med['load']:.2f} s after the command started")
        print(f"  first-worker latency      {med['first_worker']:.2f} s after the command "
              "started (target < 1 s)")  # fmt: skip
        print(f"  per-job overhead          {med['per_job']:.3f} s (job wall - fit - predict)")
        print(f"  results final             {med['results_final']:.2f} s after the last job; "
              f"command exits {med['exit_after_last_job']:.2f} s after it")  # fmt: skip
        when = med["report_after_exit"]
        print(f"  report                    ready {abs(when):.2f} s "
              + ("after the command exited (background)" if when >= 0 else
                 "before the command exited (built in the foreground)"))  # fmt: skip
        print(f"  total outside jobs        {med['outside']:.2f} s (target < 2 s)")
    finally:
        print(f"load average after: {load()}")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Benchmark (not a test): what the harness costs per job, how well slots are packed, and how
precisely a timeout is enforced. Prints numbers; run from the repository root:

    python tests/benchmarks/overhead.py            # all three, ~1.5 min on 2 idle cores
    python tests/benchmarks/overhead.py --only overhead --compare-cold

1. overhead: 20 constant-predictor jobs on digits (20 folds), 1 slot: per job, wall time
   minus fit and predict time (median, max). Target: median <= 0.5 s (AMLB: 3.15 s).
2. makespan: 20 jobs of a test adapter that sleeps its whole 5 s budget, on 2 slots:
   sum of budgets / (slots x wall of the whole command). Target >= 0.9.
3. timeout precision: a test adapter that never returns (and one that also ignores SIGTERM)
   with a 2 s budget: time of death minus budget, against grace (target: <= grace + 2 s).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
ENV = {
    **os.environ,
    "AUTOML_BENCH_FRAMEWORKS": str(TESTS / "misbehaving_frameworks.yaml"),
    "PYTHONPATH": os.pathsep.join(
        p for p in (str(TESTS), str(ROOT), os.environ.get("PYTHONPATH")) if p
    ),
}


def cli(*args) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "automl_bench", *map(str, args)], cwd=ROOT, env=ENV,
                          capture_output=True, text=True)  # fmt: skip
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        sys.exit(f"command failed: {args}\n{proc.stderr[-3000:]}")
    return wall, proc


def suite(tmp: Path, name: str, folds: int, budget: float, framework: str, task: str) -> Path:
    path = tmp / f"{name}.yaml"
    path.write_text(
        f"name: {name}\nfolds: {folds}\nseed: 0\n"
        f"constraint: {{budget_s: {budget}, cores: 1, memory_mb: 1024}}\n"
        f"frameworks: [{framework}]\ntasks:\n  - {task}\n"
    )
    return path


def load() -> str:
    la = os.getloadavg()
    return f"load average {la[0]:.1f} / {la[1]:.1f} / {la[2]:.1f} on {os.cpu_count()} CPUs"


def overhead(tmp: Path, cold: bool) -> None:
    s = suite(tmp, "overhead", 20, 60, "constant", "{name: digits, sklearn: {dataset: digits}}")
    out = tmp / ("overhead-cold" if cold else "overhead")
    wall, _ = cli("run", "--suite", s, "--out", out, "--parallel", 1,
                  *(["--cold-start"] if cold else []))  # fmt: skip
    df = pd.read_csv(out / "results.csv")
    assert (df["status"] == "ok").all(), df["error_message"]
    ovh = df["duration"] - df["training_duration"] - df["predict_duration"]
    mode = "cold (fresh interpreter per job)" if cold else "warm (forked from the launcher)"
    print(f"overhead per job, {mode}, {len(df)} constant jobs on digits, 1 slot:")
    print(f"  median {statistics.median(ovh):.3f} s, max {ovh.max():.3f} s "
          f"(fit+predict median {statistics.median(df['training_duration'] + df['predict_duration']):.3f} s; "
          f"whole command {wall:.1f} s)")  # fmt: skip


def makespan(tmp: Path) -> None:
    budget, jobs, slots = 5, 20, 2
    task = "{name: small, generated: {rows: 200, features: 8, informative: 4, classes: 3}}"
    s = suite(tmp, "makespan", jobs, budget, "sleeps", task)
    out = tmp / "makespan"
    t0 = time.time()
    cpu0 = _children_cpu()
    wall, _ = cli("run", "--suite", s, "--out", out, "--parallel", slots)
    cpu = _children_cpu() - cpu0
    df = pd.read_csv(out / "results.csv")
    assert len(df) == jobs and (df["status"] == "ok").all(), df["error_message"]
    from automl_bench.planning.plan import job_dir

    dirs = [job_dir(out, r.framework, r.task, r.fold, r.job_id) for r in df.itertuples()]
    starts = [json.loads((d / "started.json").read_text())["time"] for d in dirs]
    ends = [(d / "outcome.json").stat().st_mtime for d in dirs]
    inner = max(ends) - min(starts)
    total = budget * jobs
    print(f"makespan, {jobs} jobs sleeping their {budget} s budget on {slots} slots:")
    print(f"  efficiency {total / (slots * wall):.3f} = {total} / ({slots} x {wall:.1f} s whole "
          f"command); jobs alone {total / (slots * inner):.3f} ({inner:.1f} s first worker start "
          "to last outcome)")  # fmt: skip
    print(f"  outside the jobs: {min(starts) - t0:.1f} s from command start to first worker "
          f"(interpreter, imports, tasks, launcher), {t0 + wall - max(ends):.1f} s after the "
          "last outcome (scoring, store, report)")  # fmt: skip
    print(f"  CPU of the whole command (driver, launcher, {jobs} sleeping workers): {cpu:.1f} s "
          f"= {cpu / wall:.2f} of a core on average")  # fmt: skip


def _children_cpu() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def precision(tmp: Path) -> None:
    budget, setup, margin, predict, kill = 2.0, 2.0, 0.1, 1.0, 1.0
    task = "{name: small, generated: {rows: 200, features: 8, informative: 4, classes: 3}}"
    s = suite(tmp, "precision", 2, budget, "sleeps_past_budget", task)
    out = tmp / "precision"
    cli("run", "--suite", s, "--out", out, "--folds", 1, "--parallel", 2, "--frameworks",
        "sleeps_past_budget,ignores_sigterm", "--setup-grace", setup, "--grace-margin", margin,
        "--predict-grace", predict, "--kill-grace", kill)  # fmt: skip
    df = pd.read_csv(out / "results.csv").set_index("framework")
    print(f"timeout precision, budget {budget:g} s, grace = setup as used (at most {setup:g}) + "
          f"{margin:g} x budget + predict {predict:g} s, SIGKILL {kill:g} s after SIGTERM:")  # fmt: skip
    for fw in ("sleeps_past_budget", "ignores_sigterm"):
        r = df.loc[fw]
        grace = r["grace_s"]
        print(f"  {fw:18} {r['status']}: died {r['duration'] - budget:.2f} s after the budget, "
              f"{r['duration'] - budget - grace:+.2f} s past the limit (budget + grace); "
              f"target <= grace + 2 = {grace + 2:g} s after the budget")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["overhead", "makespan", "precision"])
    ap.add_argument("--compare-cold", action="store_true", help="also measure cold starts")
    args = ap.parse_args()
    print(f"before: {load()}")
    with tempfile.TemporaryDirectory(prefix="automl-bench-overhead-") as d:
        tmp = Path(d)
        if args.only in (None, "overhead"):
            overhead(tmp, cold=False)
            if args.compare_cold:
                overhead(tmp, cold=True)
        if args.only in (None, "makespan"):
            makespan(tmp)
        if args.only in (None, "precision"):
            precision(tmp)
    print(f"after: {load()}")


if __name__ == "__main__":
    main()

"""How well one long run's anytime trajectories rank the frameworks at shorter budgets.

Run (from the repository root, after `make install`):

    .venv/bin/python tests/benchmarks/anytime_ranking.py \
        [--frameworks flaml,h2o,xgboost,lightgbm,rf] [--tasks semeion,...] \
        [--long 120] [--short 30,60] [--parallel 2] [--out DIR] \
        [--run-budgets 30,60,120 | --analyse-only] [--also OTHER_OUT ...]

It runs the suite of the twelve datasets in ../shared/datasets that
tests/benchmarks/budget_adherence.py writes (file tasks, 2-fold stratified, fold 0 only: half
the rows train; 1 core, 4096 MB) with `automl-bench run` once per budget (the constant
predictor is added to every run, for the report's normalisation; it is not ranked), each
budget into its own run directory DIR/budget-<b>. A budget whose run directory already holds
a result for every planned job is not run again (so budgets can be run in separate calls); ``--also DIR`` adds the tasks of another call's
output directory to the analysis (so the datasets can be run in two halves).

Then, per task, it ranks the frameworks twice for each short budget s:
- from the long run's trajectories: each framework's ``best_loss`` at s seconds
  (trajectory.parquet: its backend's best validation log loss so far; a framework with no
  model yet at s, or no trajectory, ranks last);
- from the real s-second runs: the test fold's log loss (``result``, negated; a failed job
  ranks last);
and prints Spearman's rho and Kendall's tau between the two (scipy.stats) per task, then
their means over the tasks where they are defined. As a reference it prints the same
correlations for the long run's final test result (no trajectory: "rank at s as at the full
budget"), so the trajectory's worth is seen against the obvious shortcut.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
from budget_adherence import DATASETS, suite_yaml  # noqa: E402

REPO = ROOT.parents[1]


def uptime() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def run_dir(out: Path, budget: float) -> Path:
    return out / f"budget-{budget:g}"


def complete(path: Path) -> bool:
    """The run directory holds a result for every job of its plan."""
    plan, csv = path / "plan.json", path / "results.csv"
    if not plan.exists() or not csv.exists():
        return False
    return len(pd.read_csv(csv)) >= len(json.loads(plan.read_text()))


def run_budget(budget: float, args, suite: Path) -> None:
    out = run_dir(args.out, budget)
    if complete(out):
        print(f"budget {budget:g} s: {out} is complete, not run again", flush=True)
        return
    cmd = [str(REPO / ".venv" / "bin" / "automl-bench"), "run", "--suite", str(suite),
           "--frameworks", "constant," + args.frameworks, "--budget", f"{budget:g}",
           "--folds", "1", "--parallel", str(args.parallel), "--out", str(out), "--no-report"]  # fmt: skip
    print(f"$ {' '.join(cmd)}\n  start: {time.strftime('%H:%M:%S')} {uptime()}", flush=True)
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    print(f"  took {time.monotonic() - t0:.0f} s, exit {proc.returncode}; end {uptime()}",
          flush=True)  # fmt: skip
    if proc.returncode != 0:
        print(proc.stderr[-3000:])


def trajectory_at(path: Path | None, t: float) -> float:
    """best_loss of the trajectory at ``t`` seconds (inf: no model yet, or no trajectory)."""
    if path is None or not path.exists():
        return math.inf
    tr = pd.read_parquet(path)
    before = tr[tr["elapsed_s"] <= t]
    return float(before["best_loss"].iloc[-1]) if len(before) else math.inf


def trajectory_file(out: Path, framework: str, task: str) -> Path | None:
    found = sorted((out / "jobs").glob(f"{framework}-{task}-f0-*"))
    return found[-1] / "trajectory.parquet" if found else None


def correlate(a: list[float], b: list[float]) -> tuple[float, float]:
    """Spearman and Kendall between two lists of losses (lower is better; inf ranks last,
    ties share a rank). NaN when either side has no spread."""
    ra, rb = stats.rankdata(a), stats.rankdata(b)
    if len(set(ra)) < 2 or len(set(rb)) < 2:
        return math.nan, math.nan
    return float(stats.spearmanr(ra, rb).statistic), float(stats.kendalltau(ra, rb).statistic)


def losses_on_test_folds(df: pd.DataFrame, task: str, frameworks: list[str]) -> list[float]:
    """Test-fold log loss per framework (-result); inf for a job without a result."""
    out = []
    for fw in frameworks:
        g = df[(df["task"] == task) & (df["framework"] == fw) & (df["status"] == "ok")]
        v = -float(g["result"].iloc[0]) if len(g) and pd.notna(g["result"].iloc[0]) else math.inf
        out.append(v)
    return out


def load(out: Path, budgets) -> dict | None:
    """budget -> results of the run directory DIR/budget-<b> (None if one is missing)."""
    results = {}
    for b in budgets:
        csv = run_dir(out, b) / "results.csv"
        if not csv.exists():
            print(f"no results for budget {b:g} s ({csv}): run it first")
            return None
        results[b] = pd.read_csv(csv)
    return results


def analyse(args, tasks: list[str]) -> int:
    frameworks = [f for f in args.frameworks.split(",") if f]
    # (out dir, task) pairs: this call's tasks, then those of the --also directories
    where = [(args.out, t) for t in tasks]
    for other in args.also:
        done = load(other, [args.long])
        if done is None:
            return 1
        where += [(other, t) for t in sorted(done[args.long]["task"].unique())]
    loaded = {}
    for out in dict.fromkeys(o for o, _ in where):
        loaded[out] = load(out, [args.long, *args.short])
        if loaded[out] is None:
            return 1
    head = f"{'task':<15}"
    for s in args.short:
        head += f"{f'traj@{s:g} rho':>14}{'tau':>7}{'final rho':>11}{'tau':>7}"
    print(f"\nframeworks ranked: {', '.join(frameworks)}; trajectories of the {args.long:g} s run "
          f"versus real runs at {', '.join(f'{s:g}' for s in args.short)} s (test log loss)\n")
    print(head)
    rows = []
    for out, task in where:
        results, long_dir = loaded[out], run_dir(out, args.long)
        line, row = f"{task:<15}", {"task": task}
        final = losses_on_test_folds(results[args.long], task, frameworks)
        for s in args.short:
            traj = [trajectory_at(trajectory_file(long_dir, fw, task), s) for fw in frameworks]
            real = losses_on_test_folds(results[s], task, frameworks)
            rho, tau = correlate(traj, real)
            frho, ftau = correlate(final, real)
            row.update({f"rho_{s:g}": rho, f"tau_{s:g}": tau, f"final_rho_{s:g}": frho,
                        f"final_tau_{s:g}": ftau,
                        f"traj_{s:g}": dict(zip(frameworks, traj, strict=True)),
                        f"real_{s:g}": dict(zip(frameworks, real, strict=True))})  # fmt: skip
            line += f"{rho:>14.2f}{tau:>7.2f}{frho:>11.2f}{ftau:>7.2f}"
        rows.append(row)
        print(line)
    table = pd.DataFrame(rows)
    line = f"{'mean':<15}"
    for s in args.short:
        for c in (f"rho_{s:g}", f"tau_{s:g}", f"final_rho_{s:g}", f"final_tau_{s:g}"):
            width = 14 if c.startswith("rho") else (11 if c.startswith("final_rho") else 7)
            line += f"{np.nanmean(table[c].to_numpy(dtype=float)):>{width}.2f}"
    print(line)
    missing = [(fw, t) for out, t in where for fw in frameworks
               if not (trajectory_file(run_dir(out, args.long), fw, t)
                       or Path("/nonexistent")).exists()]  # fmt: skip
    if missing:
        print("\nno trajectory (ranked last at every s): "
              + ", ".join(f"{fw} on {t}" for fw, t in missing))
    print(f"\n{uptime()}")
    table.to_json(args.out / "anytime_ranking.json", orient="records", indent=1)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frameworks", default="flaml,h2o,xgboost,lightgbm,rf")
    ap.add_argument("--tasks", default=",".join(DATASETS))
    ap.add_argument("--long", type=float, default=120.0)
    ap.add_argument("--short", default="30,60")
    ap.add_argument("--run-budgets", default=None, help="budgets to run (default: all)")
    ap.add_argument("--analyse-only", action="store_true", help="only read the stored runs")
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--out", type=Path, default=REPO / "results" / "anytime-ranking")
    ap.add_argument("--also", type=Path, action="append", default=[],
                    help="analyse the runs in this directory too (another call's --out)")
    args = ap.parse_args()
    args.short = [float(x) for x in args.short.split(",") if x]
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    unknown = [t for t in tasks if t not in DATASETS]
    if unknown:
        print(f"unknown task(s) {unknown}; known: {DATASETS}")
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    suite = args.out / "suite.yaml"
    suite.write_text(suite_yaml(tasks))
    if not args.analyse_only:
        todo = args.run_budgets or ",".join(f"{b:g}" for b in [*args.short, args.long])
        for b in [float(x) for x in todo.split(",") if x]:
            run_budget(b, args, suite)
    return analyse(args, tasks)


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    raise SystemExit(main())

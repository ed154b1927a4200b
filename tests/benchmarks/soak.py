"""Soak (not a test): many consecutive quick jobs must all finish ok, with no false failure
and no process left behind. Run from the repository root:

    python tests/benchmarks/soak.py                # 200 constant jobs on 2 slots
    python tests/benchmarks/soak.py --jobs 400 --parallel 2

Jobs: the constant predictor on digits and on a generated task, 100 folds each (so 200 jobs
are 2 tasks x 100 folds). Prints the status counts, the harness's own CPU use and timing.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import psutil

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=200, help="multiple of 2 up to 200")
    ap.add_argument("--parallel", type=int, default=2)
    args = ap.parse_args()
    folds = max(2, min(100, args.jobs // 2))
    with tempfile.TemporaryDirectory(prefix="automl-bench-soak-") as d:
        tmp = Path(d)
        suite = tmp / "soak.yaml"
        suite.write_text(
            f"name: soak\nfolds: {folds}\nseed: 0\n"
            "constraint: {budget_s: 30, cores: 1, memory_mb: 1024}\nframeworks: [constant]\n"
            "tasks:\n  - {name: digits, sklearn: {dataset: digits}}\n"
            "  - {name: gen, generated: {rows: 1000, features: 20, informative: 5, classes: 4}}\n"
        )
        out = tmp / "run"
        la = os.getloadavg()
        t0 = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "bench", "run", "--suite", suite, "--out", out,
             "--parallel", str(args.parallel)],
            cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
        wall = time.monotonic() - t0
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            sys.exit(proc.stderr[-3000:])
        df = pd.read_csv(out / "results.csv")
        leftovers = [
            p.pid for p in psutil.process_iter()
            if _env(p).get("AUTOML_BENCH_JOB_DIR", "").startswith(str(out))
        ]  # fmt: skip
        counts = df["status"].value_counts().to_dict()
        ovh = df["duration"] - df["training_duration"] - df["predict_duration"]
        print(f"load average before: {la[0]:.1f} on {os.cpu_count()} CPUs")
        print(f"{len(df)} jobs on {args.parallel} slots in {wall:.1f} s: {counts}")
        print(f"false failures: {len(df) - counts.get('ok', 0)}; attempts > 1: "
              f"{int((df['attempts'] > 1).sum())}; duplicates: {int(df['job_id'].duplicated().sum())}; "
              f"leftover processes: {len(leftovers)}")  # fmt: skip
        print(f"per job: wall median {df['duration'].median():.3f} s, overhead median "
              f"{ovh.median():.3f} s / max {ovh.max():.3f} s")  # fmt: skip
        print(f"CPU of driver + launcher + workers: {ru.ru_utime + ru.ru_stime:.1f} s "
              f"({(ru.ru_utime + ru.ru_stime) / wall:.2f} cores on average)")  # fmt: skip


def _env(p) -> dict:
    try:
        return p.environ()
    except psutil.Error:
        return {}


if __name__ == "__main__":
    main()

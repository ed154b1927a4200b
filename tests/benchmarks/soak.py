"""Soak (not a test): many consecutive quick jobs must all finish ok, with no false failure
and no process left behind. Run from the repository root:

    python tests/benchmarks/soak.py                # 200 constant jobs on 2 slots
    python tests/benchmarks/soak.py --jobs 1000 --hogs 2   # contended: two CPU hogs beside

Jobs: the constant predictor, 100 folds per task: digits and a generated task, then the
real datasets of ../shared/datasets (segment, letter, optdigits, ...) for more than 200 jobs.
``--hogs N`` runs N CPU-bound processes beside the run for its whole duration. Prints the
status counts (every job must be ok: 0 false failures), the CPU share the jobs got
(``cpu_share``), whether the report flags contention, the harness's own CPU use and timing.
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
SHARED = Path(os.environ.get("AUTOML_BENCH_SHARED", ROOT.parent / "shared")) / "datasets"
# real datasets whose every class has >= 100 rows (100 stratified folds), with their target
REAL = ["segment", "letter", "optdigits", "satimage", "mfeat-factors", "mfeat-pixel",
        "mice-protein", "semeion", "cnae-9"]  # fmt: skip


def _tasks(n: int) -> str:
    lines = ["  - {name: digits, sklearn: {dataset: digits}}",
             "  - {name: gen, generated: {rows: 1000, features: 20, informative: 5, classes: 4}}"]  # fmt: skip
    for name in REAL:
        if len(lines) >= n:
            break
        path = SHARED / f"{name}.parquet"
        if not path.exists():
            sys.exit(f"{path} is absent: more than 200 jobs need the shared datasets")
        target = pd.read_parquet(path).columns[-1]
        lines.append(f"  - {{name: {name}, file: {{path: {path}, target: {target}}}}}")
    if len(lines) < n:
        sys.exit(f"at most {len(lines) * 100} jobs")
    return "\n".join(lines[:n]) + "\n"


def _hog() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=200,
                    help="up to 200: 2 tasks; more: 100 folds per task, up to 1100")  # fmt: skip
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--hogs", type=int, default=0, help="CPU-bound processes running beside")
    args = ap.parse_args()
    n_tasks = max(2, -(-args.jobs // 100))
    folds = max(2, min(100, args.jobs // n_tasks))
    with tempfile.TemporaryDirectory(prefix="automl-bench-soak-") as d:
        tmp = Path(d)
        suite = tmp / "soak.yaml"
        suite.write_text(
            f"name: soak\nfolds: {folds}\nseed: 0\n"
            "constraint: {budget_s: 30, cores: 1, memory_mb: 1024}\nframeworks: [constant]\n"
            "tasks:\n" + _tasks(n_tasks)
        )
        out = tmp / "run"
        hogs = [_hog() for _ in range(args.hogs)]
        la = os.getloadavg()
        t0 = time.monotonic()
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "automl_bench", "run", "--suite", suite, "--out", out,
                 "--parallel", str(args.parallel), "--no-report"],
                cwd=ROOT, capture_output=True, text=True,
            )  # fmt: skip
        finally:
            for h in hogs:
                h.kill()
                h.wait()
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
        share = df["cpu_share"] if "cpu_share" in df.columns else pd.Series(dtype=float)
        print(f"cpu_share recorded for {int(share.notna().sum())} of {len(df)} jobs: median "
              f"{share.median():.3f}, p10 {share.quantile(0.1):.3f}, below 0.8: "
              f"{int((share < 0.8).sum())}; load at start median "
              f"{df['load_at_start'].median():.1f} (with {args.hogs} CPU hogs beside)")  # fmt: skip
        rep = subprocess.run([sys.executable, "-m", "automl_bench", "report", out], cwd=ROOT,
                             capture_output=True, text=True)  # fmt: skip
        md = (out / "report" / "report.md").read_text() if rep.returncode == 0 else ""
        flag = next((ln for ln in md.splitlines() if ln.startswith("- Contention:")), None)
        print(f"report exit {rep.returncode}; contention flag: "
              f"{flag[2:] if flag else 'absent'}")  # fmt: skip


def _env(p) -> dict:
    try:
        return p.environ()
    except psutil.Error:
        return {}


if __name__ == "__main__":
    main()

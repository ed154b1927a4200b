"""When the fit deadline and the predict allowance stop a job, in seconds.

Run (from the repository root, after `make install`):

    .venv/bin/python tests/benchmarks/fit_deadline.py [--executor local|dask] [--budget 8]
        [--predict-grace 6] [--out DIR]

Runs tests/deadline_frameworks.yaml's adapters (one sleeps an hour in fit, one fits in 1 s
and sleeps an hour in predict) and the constant predictor through `automl-bench run` and
prints, per job: its status and ``limit_phase``, when it was stopped (``duration``, seconds
from launch), the fit limit (setup as used, at most its allowance, + budget x 1.1), the start
of prediction (from the worker's phase marks) and the predict deadline, the deadline the one
hard limit of before would have set (setup + budget x 1.1 + the predict allowance), and the
machine's load average when it started.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
SUITE = """name: fit-deadline
folds: 2
seed: 0
constraint: {{budget_s: {budget}, cores: 1, memory_mb: 1000}}
frameworks: [constant]
tasks:
  - name: small
    generated: {{rows: 120, features: 8, informative: 4, classes: 3, seed: 0}}
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--executor", default="local", choices=["local", "dask"])
    ap.add_argument("--budget", type=float, default=8)
    ap.add_argument("--predict-grace", type=float, default=6)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    out = a.out or Path(tempfile.mkdtemp(prefix="fit-deadline-")) / "run"
    suite = out.parent / "suite.yaml"
    suite.write_text(SUITE.format(budget=a.budget))
    env = {**os.environ, "AUTOML_BENCH_FRAMEWORKS": str(ROOT / "tests/deadline_frameworks.yaml"),
           "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}  # fmt: skip
    cmd = [sys.executable, "-m", "automl_bench", "run", "--suite", str(suite), "--out", str(out),
           "--folds", "1", "--parallel", "2", "--no-report", "--no-inference",
           "--frameworks", "sleeps_in_fit,hangs_in_predict,constant", "--executor", a.executor,
           "--predict-grace", str(a.predict_grace), "--predict-ratio", "0"]  # fmt: skip
    subprocess.run(cmd, env=env, check=True, capture_output=True, cwd=ROOT)
    df = pd.read_csv(out / "results.csv")
    for _, r in df.iterrows():
        fit_limit = min(r.setup_duration, r.setup_allowance_s) + r.budget_s + r.margin_s
        marks = next(out.glob(f"jobs/{r.framework}-*/phases.json"), None)
        marks = json.loads(marks.read_text()) if marks else {}
        began = marks["predict"] - marks["setup"] if "predict" in marks else None
        print(f"{r.framework:17s} {r.status:8s} phase={r.limit_phase!s:8s} "
              f"stopped={r.duration:6.2f}s fit_limit={fit_limit:6.2f}s "
              + (f"predict_began={began:5.2f}s predict_deadline={began + r.predict_allowance_s:6.2f}s "
                 if began is not None else "")
              + f"one_deadline_of_before={fit_limit + r.predict_allowance_s:6.2f}s "
              f"load_at_start={r.load_at_start}")  # fmt: skip


if __name__ == "__main__":
    main()

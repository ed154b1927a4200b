"""Throughput of constant-predictor jobs: Dask LocalCluster with 1 vs 2 workers, and the
per-job overhead of the Dask path against the local executor.

    PYTHONPATH=. python tests/benchmarks/dask_throughput.py [--jobs 40] [--out DIR]

Runs the same 40 jobs (constant predictor, 4 generated tasks x 10 folds) four ways: local
executor with 1 and 2 slots, Dask LocalCluster with 1 and 2 workers (one core each). The
timed phase runs from the moment the jobs are planned to the last stored row, so cluster
start-up is reported separately, not folded into throughput. Prints one line per
configuration, then the 2-vs-1 worker ratio and the per-job overhead of Dask over local
(serial runs, so overhead is not hidden by parallelism). The machine's load average is
printed too: other processes on the same cores skew every number.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

SUITE = """
name: dask-throughput
folds: {folds}
seed: 0
constraint: {{budget_s: 30, cores: 1, memory_mb: 1024}}
frameworks: [constant]
tasks:
{tasks}
"""


class Clock:
    """A reporter that only records when jobs were planned and when each row was stored."""

    def planned(self, total, done, todo, run_dir):
        self.t0, self.todo, self.done_at, self.durations = time.perf_counter(), todo, [], []

    def started(self, task):
        pass

    def done(self, row):
        self.done_at.append(time.perf_counter())
        self.durations.append(row["duration"])


def run(kind: str, parallel: int, suite: Path, out: Path) -> dict:
    from bench.runner import RunOptions, execute, prepare

    opts = RunOptions(suite=str(suite), out=out, parallel=parallel, executor=kind)
    prep = prepare(opts)
    clock = Clock()
    t = time.perf_counter()
    summary = execute(prep, opts, clock)
    total = time.perf_counter() - t
    assert summary.statuses == {"ok": clock.todo}, summary.statuses
    phase = clock.done_at[-1] - clock.t0
    return {
        "label": f"{kind:5} x{parallel}",
        "jobs": clock.todo,
        "phase_s": phase,
        "startup_s": total - phase,
        "jobs_per_s": clock.todo / phase,
        "per_job_s": phase / clock.todo,
        "worker_wall_s": statistics.median(clock.durations),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=40, help="jobs per configuration (x10 folds)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    n_tasks = max(1, args.jobs // 10)
    tasks = "\n".join(
        f"  - name: g{i}\n    generated: {{rows: 300, features: 20, informative: 5, "
        f"classes: 3, seed: {i}}}"
        for i in range(n_tasks)
    )
    base = args.out or Path(tempfile.mkdtemp(prefix="dask-throughput-"))
    base.mkdir(parents=True, exist_ok=True)
    suite = base / "suite.yaml"
    suite.write_text(SUITE.format(folds=10, tasks=tasks))
    print(f"cpus available: {len(os.sched_getaffinity(0))}, load average before: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    res = {}
    for kind, parallel in (("local", 1), ("dask", 1), ("local", 2), ("dask", 2)):
        r = run(kind, parallel, suite, base / f"{kind}-{parallel}")
        res[(kind, parallel)] = r
        print(
            f"{r['label']}: {r['jobs']} jobs in {r['phase_s']:.1f}s = {r['jobs_per_s']:.2f} "
            f"jobs/s ({r['per_job_s']:.3f} s/job; start-up/shutdown {r['startup_s']:.1f}s; "
            f"median worker wall {r['worker_wall_s']:.2f}s)"
        )
    d1, d2 = res[("dask", 1)], res[("dask", 2)]
    l1 = res[("local", 1)]
    print(f"dask throughput 2 vs 1 workers: {d2['jobs_per_s'] / d1['jobs_per_s']:.2f}x")
    print(
        f"per-job overhead of the Dask path over local (serial): "
        f"{(d1['per_job_s'] - l1['per_job_s']) * 1000:+.0f} ms/job "
        f"({d1['per_job_s']:.3f} vs {l1['per_job_s']:.3f} s/job)"
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; runs in {base}")


if __name__ == "__main__":
    main()

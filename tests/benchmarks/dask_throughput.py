"""Throughput of constant-predictor jobs: Dask LocalCluster with 1 vs 2 workers, and the
per-job overhead of the Dask path against the local executor.

    PYTHONPATH=. python tests/benchmarks/dask_throughput.py [--jobs 40] [--out DIR]

Runs 40 jobs (constant predictor, 4 generated tasks x 10 folds) four ways: local
executor with 1 and 2 slots, Dask LocalCluster with 1 and 2 workers (one core each), in
rounds of 10 jobs with the four ways interleaved. The timed phase runs from the moment the jobs are planned to the last stored row, so cluster
start-up is reported separately, not folded into throughput. Prints one line per
configuration, then the 2-vs-1 worker ratio and the per-job overhead of Dask over local
(serial runs, so overhead is not hidden by parallelism), and the engine's own CPU time per
job, which load from other processes does not inflate the way it inflates wall time. The
machine's load average is printed too: other processes on the same cores skew wall times.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import psutil

SUITE = """
name: dask-throughput
folds: {folds}
seed: 0
constraint: {{budget_s: 30, cores: 1, memory_mb: 1024}}
frameworks: [constant]
tasks:
{tasks}
"""


def engine_cpu() -> dict[int, float]:
    """CPU seconds so far of this process and its long-lived descendants (Dask workers),
    leaving out the job subprocesses (their CPU is the job's, recorded in its row)."""
    me = psutil.Process()
    out = {}
    for p in [me, *me.children(recursive=True)]:
        try:
            if "automl_bench.execution.worker" in p.cmdline():
                continue
            t = p.cpu_times()
            out[p.pid] = t.user + t.system
        except psutil.Error:
            continue
    return out


class Clock:
    """A reporter that records when jobs were planned and each row stored, and the engine's
    own CPU time (driver, scheduler, Dask workers) in between."""

    def planned(self, total, done, todo, run_dir):
        self.t0, self.todo, self.done_at, self.durations = time.perf_counter(), todo, [], []
        self.cpu0 = engine_cpu()

    def started(self, task):
        pass

    def done(self, row):
        self.done_at.append(time.perf_counter())
        self.durations.append(row["duration"])
        if len(self.done_at) == self.todo:
            cpu1 = engine_cpu()
            self.engine_cpu = sum(cpu1[p] - c for p, c in self.cpu0.items() if p in cpu1)


def run(kind: str, parallel: int, suite: Path, out: Path) -> dict:
    from automl_bench.run.execute import execute
    from automl_bench.run.options import RunOptions
    from automl_bench.run.prepare import prepare

    opts = RunOptions(suite=str(suite), out=out, parallel=parallel, executor=kind)
    prep = prepare(opts)
    clock = Clock()
    t = time.perf_counter()
    summary = execute(prep, opts, clock)
    total = time.perf_counter() - t
    assert summary.statuses == {"ok": clock.todo}, summary.statuses
    phase = clock.done_at[-1] - clock.t0
    return {"jobs": clock.todo, "phase": phase, "startup": total - phase,
            "durations": clock.durations, "engine_cpu": clock.engine_cpu}  # fmt: skip


CONFIGS = (("local", 1), ("dask", 1), ("local", 2), ("dask", 2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=40, help="jobs per configuration (x10)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    rounds = max(1, args.jobs // 10)
    base = args.out or Path(tempfile.mkdtemp(prefix="dask-throughput-"))
    base.mkdir(parents=True, exist_ok=True)
    print(f"cpus available: {len(os.sched_getaffinity(0))}, load average before: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    # Rounds of 10 jobs, configurations interleaved, so that load from other processes falls
    # on all of them alike rather than on whichever ran during a busy minute.
    acc = {
        c: {"jobs": 0, "phase": 0.0, "startup": [], "durations": [], "engine_cpu": 0.0}
        for c in CONFIGS
    }
    for r in range(rounds):
        suite = base / f"suite-{r}.yaml"
        task = (f"  - name: g{r}\n    generated: {{rows: 300, features: 20, informative: 5, "
                f"classes: 3, seed: {r}}}")  # fmt: skip
        suite.write_text(SUITE.format(folds=10, tasks=task))
        for kind, parallel in CONFIGS:
            res = run(kind, parallel, suite, base / f"{kind}-{parallel}-{r}")
            a = acc[(kind, parallel)]
            a["jobs"] += res["jobs"]
            a["phase"] += res["phase"]
            a["startup"].append(res["startup"])
            a["durations"] += res["durations"]
            a["engine_cpu"] += res["engine_cpu"]
    for (kind, parallel), a in acc.items():
        a["per_job"] = a["phase"] / a["jobs"]
        a["outside"] = a["per_job"] - statistics.mean(a["durations"]) / parallel
        print(
            f"{kind:5} x{parallel}: {a['jobs']} jobs in {a['phase']:.1f}s = "
            f"{a['jobs'] / a['phase']:.2f} jobs/s ({a['per_job']:.3f} s/job; mean worker "
            f"wall {statistics.mean(a['durations']):.2f}s; start-up+shutdown "
            f"{statistics.median(a['startup']):.1f}s per run)"
        )
    d1, d2, l1 = acc[("dask", 1)], acc[("dask", 2)], acc[("local", 1)]
    l2 = acc[("local", 2)]
    print(f"dask throughput 2 vs 1 workers: {d1['per_job'] / d2['per_job']:.2f}x "
          f"(local 2 vs 1 slots: {l1['per_job'] / l2['per_job']:.2f}x)")  # fmt: skip
    print(
        f"per-job overhead of the Dask path over local (serial): "
        f"{(d1['per_job'] - l1['per_job']) * 1000:+.0f} ms/job wall "
        f"({d1['per_job']:.3f} vs {l1['per_job']:.3f} s/job); time outside the worker "
        f"subprocess per job: dask {d1['outside'] * 1000:.0f} ms, local "
        f"{l1['outside'] * 1000:.0f} ms"
    )
    print(
        "engine CPU per job (driver + scheduler + Dask workers, jobs excluded; load-proof): "
        + ", ".join(
            f"{k} x{n} {a['engine_cpu'] / a['jobs'] * 1000:.0f} ms" for (k, n), a in acc.items()
        )
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; runs in {base}")


if __name__ == "__main__":
    main()

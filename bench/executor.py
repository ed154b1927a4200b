"""Local executor: runs each job's worker in its own process group, in parallel slots packed
by cores, and enforces wall time and memory on the whole process tree.

Limits (recorded per row):
- wall time: ``budget + grace`` where ``grace = setup_s + margin * budget``. The setup
  allowance covers interpreter/JVM start and data loading; the margin covers backends that
  finish their last step a little late. On breach the tree is terminated, then killed:
  status ``timeout``.
- memory: the tree's total RSS is sampled every ``poll_s`` seconds; above ``memory_mb`` the
  tree is killed: status ``memory``.
- cores: the worker pins itself to the CPU ids it is given before importing any numeric
  library, and BLAS/OpenMP thread variables are set to the job's cores.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from bench.proctree import ProcessTree

THREAD_VARIABLES = (
    "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
    "NUMEXPR_MAX_THREADS", "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS", "AUTOML_BENCH_CORES",
)  # fmt: skip


@dataclass(frozen=True)
class Limits:
    setup_s: float = 15.0
    margin: float = 0.10
    poll_s: float = 0.05

    def grace(self, budget_s: float) -> float:
        return self.setup_s + self.margin * budget_s


@dataclass
class Task:
    """One job's work for the executor: the job dir holds spec.json; results go beside it."""

    job_id: str
    job_dir: Path
    budget_s: float
    cores: int
    memory_mb: int
    python: str = sys.executable


@dataclass
class Outcome:
    status: str
    wall: float
    grace_s: float
    cpu_time: float = 0.0
    peak_rss_mb: float = 0.0
    exit_signal: str | None = None
    worker: dict = field(default_factory=dict)
    error_type: str | None = None
    error_message: str | None = None


def available_cpus() -> list[int]:
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


class _Running:
    def __init__(self, task: Task, cpus: list[int], limits: Limits):
        self.task, self.cpus = task, cpus
        self.grace = limits.grace(task.budget_s)
        self.deadline_s = task.budget_s + self.grace
        spec_path = task.job_dir / "spec.json"
        spec = json.loads(spec_path.read_text())
        spec["cpus"] = cpus
        spec_path.write_text(json.dumps(spec, indent=1))
        for stale in ("outcome.json", "predictions.parquet"):
            (task.job_dir / stale).unlink(missing_ok=True)
        env = dict(os.environ)
        env.update({v: str(task.cores) for v in THREAD_VARIABLES})
        self.log = open(task.job_dir / "worker.log", "ab")
        self.start = time.monotonic()
        self.proc = subprocess.Popen(
            [task.python, "-m", "bench.worker", str(task.job_dir)],
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        self.tree = ProcessTree(self.proc.pid)
        self.killed_for: str | None = None
        self.rusage_cpu = 0.0

    def poll(self) -> bool:
        """True once the worker has exited and been reaped."""
        pid, status, ru = os.wait4(self.proc.pid, os.WNOHANG)
        if pid == 0:
            return False
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        self.rusage_cpu = ru.ru_utime + ru.ru_stime
        return True

    def enforce(self) -> None:
        rss = self.tree.sample()
        if time.monotonic() - self.start > self.deadline_s:
            self.killed_for = "timeout"
        elif rss > self.task.memory_mb * 1024 * 1024:
            self.killed_for = "memory"
        if self.killed_for:
            self.tree.kill()

    def finish(self) -> Outcome:
        wall = time.monotonic() - self.start
        # Reap anything of the job still running (e.g. a server its backend left behind).
        if self.tree.alive():
            self.tree.kill(grace=1.0)
        self.log.close()
        rc = self.proc.returncode
        sig = signal.Signals(-rc).name if rc is not None and rc < 0 else None
        out = Outcome(
            status="failed",
            wall=wall,
            grace_s=self.grace,
            cpu_time=max(self.tree.cpu_time, self.rusage_cpu),
            peak_rss_mb=self.tree.peak_rss / 2**20,
            exit_signal=sig,
        )
        outcome_file = self.task.job_dir / "outcome.json"
        worker = json.loads(outcome_file.read_text()) if outcome_file.exists() else {}
        out.worker = worker
        if self.killed_for == "timeout":
            out.status, out.error_type = "timeout", "Timeout"
            out.error_message = f"killed after {wall:.1f}s: budget {self.task.budget_s:g}s + grace {self.grace:.1f}s"
        elif self.killed_for == "memory":
            out.status, out.error_type = "memory", "MemoryLimit"
            out.error_message = (
                f"process tree RSS {out.peak_rss_mb:.0f} MB exceeded {self.task.memory_mb} MB"
            )
        elif worker.get("status") in ("ok", "failed"):
            out.status = worker["status"]
            out.error_type = worker.get("error_type")
            out.error_message = worker.get("error_message")
        else:
            out.error_type = "WorkerCrashed"
            out.error_message = f"worker exited with {sig or f'code {rc}'} and wrote no outcome"
        return out


class LocalExecutor:
    def __init__(self, parallel: int = 1, limits: Limits | None = None):
        self.parallel = max(1, parallel)
        self.limits = limits or Limits()

    def run(self, tasks: list[Task], on_start=None, on_done=None) -> None:
        pending = deque(tasks)
        free = available_cpus()
        running: list[_Running] = []
        try:
            while pending or running:
                while pending and len(running) < self.parallel:
                    need = min(pending[0].cores, len(available_cpus()))
                    if len(free) < need and running:
                        break
                    cpus, free = (free[:need], free[need:]) if len(free) >= need else (free, [])
                    task = pending.popleft()
                    running.append(_Running(task, cpus or available_cpus()[:need], self.limits))
                    if on_start:
                        on_start(task)
                for r in list(running):
                    if r.poll():
                        running.remove(r)
                        free = sorted(set(free) | set(r.cpus))
                        outcome = r.finish()
                        if on_done:
                            on_done(r.task, outcome)
                    else:
                        r.enforce()
                time.sleep(self.limits.poll_s)
        finally:
            for r in running:  # interrupted: take every still-running job down with us
                r.tree.kill(grace=1.0)

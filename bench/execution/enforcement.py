"""Per-job enforcement: one running job's process tree held to its limits.

- wall time, phase by phase (:mod:`automl_bench.execution.phase_deadline`): a job still in
  setup or still fitting at launch + setup (at most its allowance) + budget x (1 + margin),
  still predicting at the start of prediction + the predict allowance, or still measuring
  its model past that + the inference allowance, gets SIGTERM, and SIGKILL
  ``kill_grace_s`` later if anything is left: status ``timeout``, ``limit_phase`` the phase.
- memory: the tree's total RSS is sampled every ``poll_s`` seconds; when it exceeds
  ``memory_mb`` the tree's PSS is read (shared pages split between the processes sharing
  them, so a forked pool is not charged n times for its parent's pages) and above
  ``memory_mb`` the tree is killed at once: status ``memory``. The kernel's own peak RSS of
  the worker (``ru_maxrss``, reported at exit) catches a spike between two samples. The
  recorded ``peak_rss_mb`` is the largest amount charged (RSS sum, or PSS above the limit).
- cores: the worker pins itself to the CPU ids it is given (affinity is inherited by every
  thread and child; a thread that widens its own affinity is put back within
  ``REPIN_EVERY_S``), thread pools already loaded are resized (threadpoolctl), and the
  thread variables of :mod:`automl_bench.execution.job_env` are set to the job's cores.

Infrastructure failures (the worker could not start, it was SIGKILLed by someone other than
us, e.g. the kernel's OOM killer, or the launcher died) are marked ``infrastructure`` on the
outcome, for the executor to retry; a framework's own failure is a result.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

from automl_bench.execution import phase_deadline
from automl_bench.execution.job_env import job_env
from automl_bench.execution.jobs import Limits, Outcome, WorkItem
from automl_bench.execution.ownership import sweep_job
from automl_bench.execution.proctree import ProcessTree, proc_table

REPIN_EVERY_S = 0.25  # also how often the phase marks are read
STALE_FILES = ("outcome.json", "predictions.parquet", "started.json", "worker.json",
               "phases.json", "trajectory.parquet")  # fmt: skip


def oom_kills() -> int | None:
    """The kernel's count of OOM kills so far (None where unknown)."""
    try:
        with open("/proc/vmstat") as f:
            for line in f:
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class RunningJob:
    """One attempt of one job: started through a launcher, then watched on every tick."""

    def __init__(self, item: WorkItem, attempt: int, cpus: list[int], limits: Limits, launcher):
        spec_path = item.job_dir / "spec.json"
        spec = json.loads(spec_path.read_text())
        limits = limits.for_job(spec)
        self.item, self.attempt, self.cpus, self.limits = item, attempt, cpus, limits
        self.key = f"{item.job_id}:{attempt}"
        self.warm = limits.warm and os.path.abspath(item.python) == os.path.abspath(sys.executable)
        # the inference measurement's own allowance comes on top (not the training budget's)
        self.infer_s = float(spec.get("infer_allowance_s") or 0.0)
        self.start = time.monotonic()  # the job's clock starts now
        self.setup_used: float | None = None  # from the worker's phase marks
        self.measuring = False  # the worker wrote its outcome and measures its model
        self.deadline = phase_deadline.deadline(limits, item.budget_s, self.start, {})
        self.next_phase_check = 0.0
        _write_spec(spec_path, spec, cpus, attempt, limits, self.start, item.budget_s)
        for stale in STALE_FILES:
            (item.job_dir / stale).unlink(missing_ok=True)
        with open(item.job_dir / "worker.log", "ab") as log:
            log.write(f"--- attempt {attempt}: cpus {cpus}\n".encode())
        self.oom_before = oom_kills()
        self.pid: int | None = None
        self.tree: ProcessTree | None = None
        self.exit: dict | None = None
        self.killed_for: str | None = None
        self.limit_phase: str | None = None
        self.term_at: float | None = None
        self.peak = 0  # bytes charged to the tree: RSS sum, or PSS sum above the limit
        self.repinned, self.next_repin = 0, 0.0
        self.ended: float | None = None
        env = job_env(item.cores, item.job_dir, token=item.token)
        if not launcher.start(self.key, item.job_dir, item.cores, env,
                              None if self.warm else item.python, cpus):  # fmt: skip
            self.lost("the worker launcher is gone")

    @property
    def grace(self) -> float:
        return self.limits.grace(self.item.budget_s, self.setup_used)

    def lost(self, why: str) -> None:
        if self.exit is None:
            self.exit = {"event": "lost", "error": why}
            self.ended = time.monotonic()

    def on_event(self, ev: dict, table) -> None:
        kind = ev["event"]
        if kind == "started":
            self.pid = ev["pid"]
            self.tree = ProcessTree(self.pid, table)
            info = {"pid": self.pid, "start": self.tree.root_start}
            (self.item.job_dir / "worker.json").write_text(json.dumps(info))
        elif kind in ("exited", "spawn_failed"):
            self.exit = ev
            # the launcher's reap time (same monotonic clock), not when the driver read it
            self.ended = min(float(ev.get("t", time.monotonic())), time.monotonic())

    def enforce(self, table, now: float) -> None:
        if self.tree is None:
            return
        limit = self.item.memory_mb * 2**20
        used = self.tree.sample(table)
        if used > limit:  # the RSS sum counts shared pages once per process: charge PSS
            used = self.tree.pss(table)
        self.peak = max(self.peak, used)
        if self.exit is not None:
            return
        if now >= self.next_repin:  # a thread that widened its affinity is put back
            self.repinned += self.tree.repin(set(self.cpus), table)
            self.next_repin = now + REPIN_EVERY_S
        if now >= self.next_phase_check:
            self.read_phases()
            self.next_phase_check = now + REPIN_EVERY_S
        if self.killed_for is None:
            if now > self.deadline.at:
                self.read_phases()  # a phase may have begun since the last read
            if now > self.deadline.at:
                self.killed_for, self.term_at = "timeout", now
                self.limit_phase = self.deadline.phase
                self.tree.signal(signal.SIGTERM, table)
            elif used > limit:
                self.killed_for, self.limit_phase = "memory", self.deadline.phase
                self.tree.signal(signal.SIGKILL, table)
        elif self.killed_for == "memory" or now - self.term_at > self.limits.kill_grace_s:
            self.tree.signal(signal.SIGKILL, table)

    def read_phases(self) -> None:
        """Place the deadline of the phase the worker's marks say the job is in."""
        marks = phase_deadline.read_marks(self.item.job_dir)
        self.setup_used = phase_deadline.setup_used(self.start, marks)
        if self.killed_for is not None:  # the deadline that stopped it stays the one told
            return
        if self.infer_s and not self.measuring and "predict" in marks:
            # fit and predictions are done once the worker wrote the job's outcome (before
            # measuring its model): the measurement's allowance comes on top
            self.measuring = (self.item.job_dir / "outcome.json").exists()
        self.deadline = phase_deadline.deadline(self.limits, self.item.budget_s, self.start,
                                                marks, self.infer_s, self.measuring)  # fmt: skip

    def finish(self) -> Outcome:
        self.read_phases()
        ended = self.ended or time.monotonic()
        wall = ended - self.start
        left = self._kill_leftovers()
        ev = self.exit or {}
        code = ev.get("code")
        sig = signal.Signals(-code).name if isinstance(code, int) and code < 0 else None
        maxrss = (ev.get("maxrss_kb") or 0) * 1024
        out = Outcome(
            status="failed",
            wall=wall,
            grace_s=self.grace,
            cpu_time=max(self.tree.cpu_time if self.tree else 0.0, ev.get("cpu") or 0.0),
            peak_rss_mb=max(self.peak, maxrss) / 2**20,
            exit_signal=sig,
            attempts=self.attempt,
            setup_duration=self.setup_used,
            limits=self.limits.parts(self.item.budget_s),
            limit_phase=self.limit_phase,
        )
        out.worker = self._worker_outcome(left)
        self._judge(out, ev, sig, maxrss)
        return out

    def _kill_leftovers(self) -> int:
        """Kill what is left of the job's tree (e.g. a server the backend left behind: the
        job is over, so is it); the number of processes killed."""
        left = 0
        if self.tree is not None:
            table = proc_table()
            self.enforce(table, time.monotonic())
            left = len(self.tree.alive(table))
            if left:
                self.tree.kill_now()
        if (self.exit or {}).get("event") == "lost":  # its launcher died: a process not yet
            left += sweep_job(self.item.job_dir, self.item.token)  # seen, found by its env
        return left

    def _worker_outcome(self, left: int) -> dict:
        """The worker's own outcome.json (empty if none), with what the executor adds."""
        worker = {}
        try:
            worker = json.loads((self.item.job_dir / "outcome.json").read_text())
        except (OSError, ValueError):
            worker = {}
        info = dict(worker.get("info") or {})
        info.update(cpus=self.cpus, start="warm" if self.warm else "cold")
        if left:
            info["killed_leftover_processes"] = left
        if self.repinned:
            info["repinned_threads"] = self.repinned
        worker["info"] = info
        return worker

    def _judge(self, out: Outcome, ev: dict, sig: str | None, maxrss: int) -> None:
        """Set the outcome's status and error from how the job ended."""
        worker, code = out.worker, ev.get("code")
        if ev.get("event") in ("spawn_failed", "lost"):
            out.infrastructure = True
            out.error_type = "LauncherDied" if ev["event"] == "lost" else "WorkerDidNotStart"
            out.error_message = ev.get("error")
        elif self.killed_for == "timeout":
            out.status, out.error_type = "timeout", "Timeout"
            why = phase_deadline.describe(self.deadline, self.limits, self.item.budget_s,
                                          self.setup_used, self.infer_s)  # fmt: skip
            out.error_message = f"stopped after {out.wall:.1f}s: {why}"
        elif self.killed_for == "memory" or maxrss > self.item.memory_mb * 2**20:
            out.status, out.error_type = "memory", "MemoryLimit"
            out.error_message = (f"process tree RSS {out.peak_rss_mb:.0f} MB exceeded "
                                 f"{self.item.memory_mb} MB")  # fmt: skip
        elif worker.get("status") in ("ok", "failed"):
            out.status = worker["status"]
            out.error_type = worker.get("error_type")
            out.error_message = worker.get("error_message")
        elif not (self.item.job_dir / "started.json").exists():
            out.infrastructure, out.error_type = True, "WorkerDidNotStart"
            out.error_message = (f"worker exited with {sig or f'code {code}'} before it started"
                                 f" ({self.item.python}); see worker.log")  # fmt: skip
        elif sig == "SIGKILL":
            self._judge_sigkill(out)
        else:
            out.error_type = "WorkerCrashed"
            out.error_message = f"worker exited with {sig or f'code {code}'} and wrote no outcome"

    def _judge_sigkill(self, out: Outcome) -> None:
        oom = oom_kills()
        if oom is not None and self.oom_before is not None and oom > self.oom_before:
            # out of memory is the job's result, not an infrastructure failure
            out.status, out.error_type = "memory", "OutOfMemory"
            out.error_message = (f"killed by the kernel's OOM killer (process tree peak "
                                 f"{out.peak_rss_mb:.0f} MB, limit {self.item.memory_mb} MB)")  # fmt: skip
        else:
            out.infrastructure, out.error_type = True, "KilledByOS"
            out.error_message = "worker was SIGKILLed by someone other than the harness"


def _write_spec(path, spec: dict, cpus, attempt: int, limits: Limits, launched: float,
                budget_s: float) -> None:  # fmt: skip
    """What the worker needs of this attempt: its CPU ids, the limits' parts (it tells the
    adapter a setup overrun and places its own hard limit) and the launch time."""
    spec["cpus"], spec["attempt"] = cpus, attempt
    spec["setup_allowance_s"] = limits.setup_s
    spec["launched_monotonic"] = launched
    spec["margin"], spec["predict_allowance_s"] = limits.margin, limits.predict_s
    # the hard limit once the measurement has begun, before the real setup is known (the
    # worker moves it as its phases begin)
    infer = float(spec.get("infer_allowance_s") or 0.0)
    spec["hard_limit_monotonic"] = launched + budget_s + limits.grace(budget_s) + infer
    path.write_text(json.dumps(spec, indent=1))

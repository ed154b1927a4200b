"""The local executor: runs each job's worker isolated, in parallel slots packed by cores and
memory (:mod:`automl_bench.execution.slots`), each held to its limits
(:mod:`automl_bench.execution.enforcement`).

Workers are started by a launcher (:mod:`automl_bench.execution.launcher_client`: warm fork,
or exec of ``WorkItem.python``), which also guarantees that nothing of a job outlives it or
the driver: one per run, the one the CLI started early if it fits
(:mod:`automl_bench.execution.launcher_prestart`), or one lent by a pool kept across runs
(:mod:`automl_bench.execution.launcher_pool`, on a Dask node).

Failures of the infrastructure (the worker could not start, it was SIGKILLed by someone
other than us, e.g. the kernel's OOM killer, or the launcher died) are retried up to
``retries`` times; the number of attempts is recorded. A framework's own failure is a
result and is not retried.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections import Counter, deque

from automl_bench.execution.enforcement import RunningJob
from automl_bench.execution.job_env import launcher_env
from automl_bench.execution.jobs import Limits, Outcome, WorkItem
from automl_bench.execution.launcher_client import Launcher, LauncherError
from automl_bench.execution.launcher_prestart import take_prestarted
from automl_bench.execution.ownership import sweep_owned
from automl_bench.execution.proctree import proc_table
from automl_bench.execution.protocol import Admit, Gate, OnDone, OnStart
from automl_bench.execution.slots import SlotPlan, Slots, plan_slots

MAX_LAUNCHER_STARTS = 4


def sweep_stale(items: list[WorkItem]) -> None:
    """Kill what an earlier, killed driver's workers left running (e.g. if its launcher was
    killed at the same moment): recorded in each job dir's worker.json. Only processes that
    carry this job's directory and the run's token in their environment are signalled: a
    worker.json naming someone else's process changes nothing."""
    for t in items:
        rec = t.job_dir / "worker.json"
        if rec.exists():
            try:
                info = json.loads(rec.read_text())
                sweep_owned(int(info["pid"]), float(info["start"]), t.job_dir, t.token)
            except (ValueError, KeyError, TypeError, OverflowError):
                pass


class LocalExecutor:
    mode = "local"

    def __init__(self, parallel: int = 1, limits: Limits | None = None,
                 oversubscribe: bool = False, pool=None):  # fmt: skip
        self.parallel = max(1, parallel)
        self.limits = limits or Limits()
        self.oversubscribe = oversubscribe
        self.pool = pool  # launcher_pool.LauncherPool: launchers kept across runs

    def plan(self, items: list[WorkItem]) -> SlotPlan:
        cores = max((t.cores for t in items), default=1)
        memory = max((t.memory_mb for t in items), default=1)
        return plan_slots(self.parallel, cores, memory, self.oversubscribe)

    def notes(self, items: list[WorkItem]) -> list[str]:
        return list(self.plan(items).notes) if items else []

    def close(self) -> None:
        """Nothing is held between runs (each run closes or returns its launcher)."""

    def run(self, items: list[WorkItem], on_start: OnStart | None = None,
            on_done: OnDone | None = None, admit: Admit | None = None,
            gate: Gate | None = None) -> None:  # fmt: skip
        if not items:
            return
        sweep_stale(items)
        run = _Run(self, Slots(self.plan(items)), items, on_start, on_done, admit, gate)
        try:
            run.loop()
        finally:
            run.stop()

    def launcher(self, items: list[WorkItem]) -> tuple[Launcher, int]:
        """A ready launcher for these items (with their adapters loaded, when warm) and the
        cores its thread pools are sized for."""
        preload, warm = set(), False
        for t in items:
            if not self.limits.warm or os.path.abspath(t.python) != os.path.abspath(sys.executable):
                continue
            warm = True
            try:
                adapter = json.loads((t.job_dir / "spec.json").read_text()).get("adapter", "")
                preload.add(adapter)  # module:Class: the launcher also loads its warm_imports
            except (OSError, ValueError):
                pass
        common = Counter(t.cores for t in items).most_common(1)
        cores = common[0][0] if common else 1
        modules = sorted(p for p in preload if p)
        if self.pool is not None:
            return self.pool.acquire(launcher_env(cores), cores, modules, warm), cores
        early = take_prestarted(cores, modules) if warm else None
        return early or Launcher(launcher_env(cores), modules, warm=warm), cores


class _Run:
    """One call of :meth:`LocalExecutor.run`: its queue, its running jobs, its launcher."""

    def __init__(self, executor: LocalExecutor, slots: Slots, items, on_start, on_done,
                 admit, gate):  # fmt: skip
        self.ex, self.limits, self.slots = executor, executor.limits, slots
        self.on_start, self.on_done, self.admit, self.gate = on_start, on_done, admit, gate
        self.pending = deque((t, 1) for t in items)
        self.running: dict[str, RunningJob] = {}
        self.finished: list[tuple[WorkItem, Outcome]] = []  # told after the next jobs start
        self.launcher: Launcher | None = None
        self.launcher_cores, self.launcher_starts = 1, 0

    def loop(self) -> None:
        while self.pending or self.running or self.finished:
            self.ensure_launcher()
            self.start_jobs()
            for item, outcome in self.finished:  # scoring and storing while the next run
                if self.on_done:
                    self.on_done(item, outcome)
            self.finished = []
            self.watch()

    def ensure_launcher(self) -> None:
        """A live launcher while jobs wait: a dead one's jobs are lost, and once none runs
        it is replaced (at most MAX_LAUNCHER_STARTS times)."""
        if not self.pending or (self.launcher is not None and not self.launcher.dead):
            return
        for r in self.running.values():
            r.lost("the worker launcher died")
        if self.running:
            return
        if self.launcher is not None:
            self.launcher.close()
        if self.launcher_starts >= MAX_LAUNCHER_STARTS:
            raise LauncherError(f"the worker launcher died {self.launcher_starts} times; giving up")
        self.launcher_starts += 1
        self.launcher, self.launcher_cores = self.ex.launcher([t for t, _ in self.pending])

    def start_jobs(self) -> None:
        while self.pending and not self.launcher.dead:
            item, attempt = self.pending[0]
            if not self.slots.fits(item.cores, item.memory_mb, len(self.running)):
                break
            if self.gate is not None and not self.gate(len(self.running)):
                break
            if attempt == 1 and self.admit is not None and not self.admit(item):
                self.pending.popleft()  # never starts (its framework left the race)
                continue
            self.pending.popleft()
            cpus = self.slots.take(item.cores, item.memory_mb)
            r = RunningJob(item, attempt, cpus, self.limits, self.launcher)
            self.running[r.key] = r
            if self.on_start and attempt == 1:
                self.on_start(item)

    def watch(self) -> None:
        """One tick: read the launcher's events, hold every running job to its limits, and
        collect the jobs that ended (retrying infrastructure failures)."""
        if self.launcher is not None and self.launcher.dead:
            for r in self.running.values():
                r.lost("the worker launcher died")
        events = self.launcher.events(self.limits.poll_s) if self.running else []
        table = proc_table()
        for ev in events:
            r = self.running.get(ev.get("key"))
            if r is not None:
                r.on_event(ev, table)
        now = time.monotonic()
        for r in self.running.values():
            r.enforce(table, now)
        for key in [k for k, r in self.running.items() if r.exit is not None]:
            r = self.running.pop(key)
            outcome = r.finish()
            self.slots.give_back(r.cpus, r.item.memory_mb)
            if outcome.infrastructure and r.attempt <= self.limits.retries:
                self.pending.appendleft((r.item, r.attempt + 1))
                continue
            if outcome.infrastructure:
                outcome.error_message = (f"{outcome.error_message} (infrastructure failure, "
                                         f"{r.attempt} attempts)")  # fmt: skip
            self.finished.append((r.item, outcome))

    def stop(self) -> None:
        for r in self.running.values():  # interrupted: take every still-running job down
            if r.tree is not None:
                r.tree.signal(signal.SIGKILL)
        if self.launcher is not None and self.ex.pool is not None:
            self.ex.pool.release(self.launcher, self.launcher_cores, reusable=not self.running)
        elif self.launcher is not None:
            self.launcher.close()

"""Local executor: runs each job's worker isolated, in parallel slots packed by cores and
memory, and enforces wall time, memory and cores on the whole process tree.

Limits (recorded per row):
- wall time: ``setup + budget x (1 + margin) + predict_s``. ``setup`` is the time the job
  really took before its backend's search could start (worker start, data load, the
  adapter's setup step such as H2O's JVM start and frame upload), read from the worker's
  phase marks (``phases.json``), capped by the setup allowance ``setup_s``; until the mark
  appears the allowance itself counts. The margin covers backends that finish their last
  step a little late; the predict allowance covers prediction: at least ``predict_s``, and
  for a test set that is large next to its training set up to ``predict_ratio`` x budget x
  test rows / training rows (``Limits.predict_allowance``; the runner writes each job's into
  its spec.json, so a large ensemble scoring a large test set is not killed for it). Each
  part is recorded in the row
  (``setup_allowance_s``, ``margin_s``, ``predict_allowance_s``; ``grace_s`` is their sum
  beyond the budget as applied). Setup that runs past its allowance is taken from the
  budget (the worker tells the adapter). On breach the tree gets SIGTERM, and SIGKILL
  ``kill_grace_s`` later if anything is left: status ``timeout``.
  A job that measures its model's deployability (``spec.json``'s ``infer_allowance_s``)
  gets that allowance on top once its fit and predictions are done (the worker writes the
  job's outcome before it starts measuring); a fit that overruns is killed as before.
- memory: the tree's total RSS is sampled every ``poll_s`` seconds; when it exceeds
  ``memory_mb`` the tree's PSS is read (shared pages split between the processes sharing
  them, so a forked pool is not charged n times for its parent's pages) and above
  ``memory_mb`` the tree is killed at once: status ``memory``. The kernel's own peak RSS of
  the worker (``ru_maxrss``, reported at exit) catches a spike between two samples. The
  recorded ``peak_rss_mb`` is the largest amount charged (RSS sum, or PSS above the limit).
- cores: the worker pins itself to the CPU ids it is given (affinity is inherited by every
  thread and child; a thread that widens its own affinity is put back within
  ``REPIN_EVERY_S``), thread pools already loaded are resized (threadpoolctl), and the
  thread variables of BLAS/OpenMP/numexpr/Arrow/joblib and ``-XX:ActiveProcessorCount``
  for Java (``JAVA_TOOL_OPTIONS``) are set to the job's cores.

Workers are started by :mod:`automl_bench.execution.launcher` (warm fork, or exec of ``WorkItem.python``), which
also guarantees that nothing of a job outlives it or the driver.

Failures of the infrastructure (the worker could not start, it was SIGKILLed by someone
other than us, e.g. the kernel's OOM killer, or the launcher died) are retried up to
``retries`` times; the number of attempts is recorded. A framework's own failure is a
result and is not retried.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field, replace
from pathlib import Path

import psutil

from automl_bench.errors import BadInput
from automl_bench.execution.launcher import Launcher, LauncherError
from automl_bench.execution.ownership import TOKEN_VARIABLE, sweep_job, sweep_owned
from automl_bench.execution.proctree import ProcessTree, proc_table

THREAD_VARIABLES = (
    "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
    "NUMEXPR_MAX_THREADS", "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS", "GOTO_NUM_THREADS",
    "ARROW_NUM_THREADS", "LOKY_MAX_CPU_COUNT", "RAYON_NUM_THREADS", "POLARS_MAX_THREADS",
    "AUTOML_BENCH_CORES",
)  # fmt: skip
JOB_MARKER = "AUTOML_BENCH_JOB_DIR"  # in every job process's environment (found by tests)
MAX_LAUNCHER_STARTS = 4
REPIN_EVERY_S = 0.25


@dataclass(frozen=True)
class Limits:
    setup_s: float = 60.0
    margin: float = 0.10
    predict_s: float = 15.0
    predict_ratio: float = 2.0  # see predict_allowance
    poll_s: float = 0.05
    kill_grace_s: float = 1.0
    infer_s: float = 30.0  # deployability measurement after fit, added to the hard limit
    retries: int = 2
    warm: bool = True

    def grace(self, budget_s: float, setup_used: float | None = None) -> float:
        """Seconds beyond the budget before a job is killed: setup (as used, at most the
        allowance) + margin x budget + the predict allowance."""
        setup = self.setup_s if setup_used is None else min(max(setup_used, 0.0), self.setup_s)
        return setup + self.margin * budget_s + self.predict_s

    def predict_allowance(self, budget_s: float, train_rows: int, test_rows: int) -> float:
        """One job's predict allowance, known before it starts: at least ``predict_s``; up
        to ``predict_ratio`` x budget x test rows / training rows, i.e. predicting may cost
        per row up to ``predict_ratio`` times what searching cost per training row. An
        ensemble of thousands of trees scores 10,000 rows in 20-45 s on one core (AutoGluon
        on letter at 30 s), far past a fixed 15 s; the allowance grows with the budget as
        the ensemble does."""
        scaled = self.predict_ratio * budget_s * test_rows / max(train_rows, 1)
        return round(max(self.predict_s, scaled), 3)

    def for_job(self, spec: dict) -> Limits:
        """These limits with the job's own predict allowance from its spec (if larger)."""
        own = float(spec.get("predict_allowance_s") or 0.0)
        return replace(self, predict_s=own) if own > self.predict_s else self

    def parts(self, budget_s: float) -> dict:
        return {"setup_allowance_s": self.setup_s, "margin_s": self.margin * budget_s,
                "predict_allowance_s": self.predict_s}  # fmt: skip


@dataclass
class WorkItem:
    """One job's work for the executor: the job dir holds spec.json; results go beside it."""

    job_id: str
    job_dir: Path
    budget_s: float
    cores: int
    memory_mb: int
    python: str = sys.executable
    token: str | None = None  # the run's token, in every job process's environment


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
    attempts: int = 1
    infrastructure: bool = False  # a failure of ours or the OS's, not the framework's
    setup_duration: float | None = None  # seconds before the backend's search could start
    limits: dict = field(default_factory=dict)  # the parts of the hard limit (Limits.parts)


def available_cpus() -> list[int]:
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def available_memory_mb() -> int:
    return int(psutil.virtual_memory().available / 2**20)


# -- packing -------------------------------------------------------------------------------


@dataclass
class SlotPlan:
    slots: int
    cpus: list[int]
    memory_mb: int
    oversubscribe: bool
    notes: list[str] = field(default_factory=list)


def check_fits(cores: int, memory_mb: int, oversubscribe: bool, cpus=None, machine_mb=None):
    """BadInput if one job alone needs more than this machine has (unless oversubscribing)."""
    n = len(cpus if cpus is not None else available_cpus())
    mem = machine_mb if machine_mb is not None else available_memory_mb()
    if oversubscribe:
        return
    if cores > n:
        raise BadInput(f"constraint asks for cores={cores} per job but this machine has {n} "
                       "CPUs; lower cores or pass --oversubscribe")  # fmt: skip
    if memory_mb > mem:
        raise BadInput(f"constraint asks for memory_mb={memory_mb} per job but {mem} MB are "
                       "available; lower memory_mb or pass --oversubscribe")  # fmt: skip


def plan_slots(parallel: int, cores: int, memory_mb: int, oversubscribe: bool = False,
               cpus=None, machine_mb=None) -> SlotPlan:  # fmt: skip
    """How many jobs may run at once so that their cores and memory fit the machine."""
    cpus = list(cpus if cpus is not None else available_cpus())
    mem = machine_mb if machine_mb is not None else available_memory_mb()
    check_fits(cores, memory_mb, oversubscribe, cpus, mem)
    fit = max(1, min(len(cpus) // max(cores, 1), mem // max(memory_mb, 1)))
    plan = SlotPlan(min(parallel, fit), cpus, mem, oversubscribe)
    need = f"{parallel} x ({cores} cores, {memory_mb} MB)"
    have = f"{len(cpus)} CPUs, {mem} MB available"
    if parallel > fit and oversubscribe:
        plan.slots = parallel
        plan.notes.append(f"oversubscribing: {need} on {have}; jobs share cores and their "
                          "timings are not comparable to an unshared run")  # fmt: skip
    elif parallel > fit:
        plan.notes.append(f"--parallel {parallel} reduced to {fit}: {need} does not fit "
                          f"{have} (--oversubscribe to run {parallel} anyway)")  # fmt: skip
    elif oversubscribe and (cores > len(cpus) or memory_mb > mem):
        plan.notes.append(f"oversubscribing: one job asks for {cores} cores, {memory_mb} MB "
                          f"on {have}")  # fmt: skip
    return plan


# -- environment of a job ------------------------------------------------------------------


def job_env(cores: int, job_dir: Path, base: dict | None = None, token: str | None = None) -> dict:
    """Variables a job's processes get on top of the driver's environment."""
    base = os.environ if base is None else base
    env = {v: str(cores) for v in THREAD_VARIABLES}
    java = base.get("JAVA_TOOL_OPTIONS", "")
    env["JAVA_TOOL_OPTIONS"] = f"{java} -XX:ActiveProcessorCount={cores}".strip()
    env[JOB_MARKER] = str(job_dir)
    if token:
        env[TOKEN_VARIABLE] = token
    return env


def _oom_kills() -> int | None:
    try:
        with open("/proc/vmstat") as f:
            for line in f:
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


# -- one running job -------------------------------------------------------------------------


class _Running:
    def __init__(self, item: WorkItem, attempt: int, cpus: list[int], limits: Limits, launcher):
        spec_path = item.job_dir / "spec.json"
        spec = json.loads(spec_path.read_text())
        limits = limits.for_job(spec)
        self.item, self.attempt, self.cpus, self.limits = item, attempt, cpus, limits
        self.grace = limits.grace(item.budget_s)
        self.deadline_s = item.budget_s + self.grace
        self.setup_used: float | None = None  # from the worker's phase marks
        self.next_phase_check = 0.0
        self.key = f"{item.job_id}:{attempt}"
        self.warm = limits.warm and os.path.abspath(item.python) == os.path.abspath(sys.executable)
        # the inference measurement's own allowance comes on top (not the training budget's)
        self.infer_s = float(spec.get("infer_allowance_s") or 0.0)
        self.measuring = False  # the worker has started its inference measurement
        spec["cpus"], spec["attempt"] = cpus, attempt
        spec["setup_allowance_s"] = limits.setup_s
        spec["launched_monotonic"] = time.monotonic()  # the job's clock starts now
        spec["margin"], spec["predict_allowance_s"] = limits.margin, limits.predict_s
        # the hard limit once the measurement has begun, on this machine's monotonic clock,
        # before the real setup is known (the worker tightens it once its fit starts)
        spec["hard_limit_monotonic"] = spec["launched_monotonic"] + self.deadline_s + self.infer_s
        spec_path.write_text(json.dumps(spec, indent=1))
        for stale in ("outcome.json", "predictions.parquet", "started.json", "worker.json",
                      "phases.json", "trajectory.parquet"):  # fmt: skip
            (item.job_dir / stale).unlink(missing_ok=True)
        with open(item.job_dir / "worker.log", "ab") as log:
            log.write(f"--- attempt {attempt}: cpus {cpus}\n".encode())
        self.oom_before = _oom_kills()
        self.pid: int | None = None
        self.tree: ProcessTree | None = None
        self.exit: dict | None = None
        self.killed_for: str | None = None
        self.term_at: float | None = None
        self.peak = 0  # bytes charged to the tree: RSS sum, or PSS sum above the limit
        self.repinned, self.next_repin = 0, 0.0
        self.start = spec["launched_monotonic"]
        self.ended: float | None = None
        env = job_env(item.cores, item.job_dir, token=item.token)
        if not launcher.start(self.key, item.job_dir, item.cores, env,
                              None if self.warm else item.python, cpus):  # fmt: skip
            self.lost("the worker launcher is gone")

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
        if self.setup_used is None and now >= self.next_phase_check:
            self.read_phases()
            self.next_phase_check = now + REPIN_EVERY_S
        if self.infer_s and not self.measuring and (self.item.job_dir / "outcome.json").exists():
            # fit and predictions are done (the worker wrote the job's outcome before measuring
            # its model): the measurement's allowance comes on top of budget and grace
            self.measuring, self.deadline_s = True, self.deadline_s + self.infer_s
        if self.killed_for is None:
            if now - self.start > self.deadline_s:
                self.killed_for, self.term_at = "timeout", now
                self.tree.signal(signal.SIGTERM, table)
            elif used > limit:
                self.killed_for = "memory"
                self.tree.signal(signal.SIGKILL, table)
        elif self.killed_for == "memory" or now - self.term_at > self.limits.kill_grace_s:
            self.tree.signal(signal.SIGKILL, table)

    def read_phases(self) -> None:
        """Once the worker marks the start of fit, the deadline moves to the real end of
        setup (at most the allowance) + budget x (1 + margin) + the predict allowance."""
        try:
            marks = json.loads((self.item.job_dir / "phases.json").read_text())
            fit = float(marks["fit"])
        except (OSError, ValueError, KeyError, TypeError):
            return
        self.setup_used = fit - self.start
        self.grace = self.limits.grace(self.item.budget_s, self.setup_used)
        self.deadline_s = self.item.budget_s + self.grace + (self.infer_s if self.measuring else 0)

    def finish(self) -> Outcome:
        if self.setup_used is None:
            self.read_phases()
        ended = self.ended or time.monotonic()
        wall = ended - self.start
        left = 0
        if self.tree is not None:
            table = proc_table()
            self.enforce(table, time.monotonic())
            left = len(self.tree.alive(table))
            if left:  # e.g. a server the backend left behind: the job is over, so is it
                self.tree.kill_now()
        ev = self.exit or {}
        if ev.get("event") == "lost":  # its launcher died: a process not yet seen is found
            left += sweep_job(self.item.job_dir, self.item.token)  # by its environment
        code = ev.get("code")
        sig = signal.Signals(-code).name if isinstance(code, int) and code < 0 else None
        maxrss = (ev.get("maxrss_kb") or 0) * 1024
        peak = max(self.peak, maxrss)
        out = Outcome(
            status="failed",
            wall=wall,
            grace_s=self.grace,
            cpu_time=max(self.tree.cpu_time if self.tree else 0.0, ev.get("cpu") or 0.0),
            peak_rss_mb=peak / 2**20,
            exit_signal=sig,
            attempts=self.attempt,
            setup_duration=self.setup_used,
            limits=self.limits.parts(self.item.budget_s),
        )
        outcome_file = self.item.job_dir / "outcome.json"
        worker = {}
        if outcome_file.exists():
            try:
                worker = json.loads(outcome_file.read_text())
            except ValueError:
                worker = {}
        started = (self.item.job_dir / "started.json").exists()
        info = dict(worker.get("info") or {})
        info.update(cpus=self.cpus, start="warm" if self.warm else "cold")
        if left:
            info["killed_leftover_processes"] = left
        if self.repinned:
            info["repinned_threads"] = self.repinned
        worker["info"] = info
        out.worker = worker
        limit_b = self.item.memory_mb * 2**20
        if ev.get("event") in ("spawn_failed", "lost"):
            out.infrastructure = True
            out.error_type = "LauncherDied" if ev["event"] == "lost" else "WorkerDidNotStart"
            out.error_message = ev.get("error")
        elif self.killed_for == "timeout":
            out.status, out.error_type = "timeout", "Timeout"
            out.error_message = (f"killed after {wall:.1f}s: budget {self.item.budget_s:g}s + "
                                 f"grace {self.grace:.1f}s" + (f" + inference {self.infer_s:g}s"
                                 if self.measuring else ""))  # fmt: skip
        elif self.killed_for == "memory" or maxrss > limit_b:
            out.status, out.error_type = "memory", "MemoryLimit"
            out.error_message = (f"process tree RSS {out.peak_rss_mb:.0f} MB exceeded "
                                 f"{self.item.memory_mb} MB")  # fmt: skip
        elif worker.get("status") in ("ok", "failed"):
            out.status = worker["status"]
            out.error_type = worker.get("error_type")
            out.error_message = worker.get("error_message")
        elif not started:
            out.infrastructure, out.error_type = True, "WorkerDidNotStart"
            out.error_message = (f"worker exited with {sig or f'code {code}'} before it started"
                                 f" ({self.item.python}); see worker.log")  # fmt: skip
        elif sig == "SIGKILL":
            oom = _oom_kills()
            by_oom = oom is not None and self.oom_before is not None and oom > self.oom_before
            if by_oom:  # out of memory is the job's result, not an infrastructure failure
                out.status, out.error_type = "memory", "OutOfMemory"
                out.error_message = (f"killed by the kernel's OOM killer (process tree peak "
                                     f"{out.peak_rss_mb:.0f} MB, limit {self.item.memory_mb} MB)")  # fmt: skip
            else:
                out.infrastructure, out.error_type = True, "KilledByOS"
                out.error_message = "worker was SIGKILLed by someone other than the harness"
        else:
            out.error_type = "WorkerCrashed"
            out.error_message = f"worker exited with {sig or f'code {code}'} and wrote no outcome"
        return out


# -- the executor ----------------------------------------------------------------------------

_prestarted: dict = {}  # cores -> Launcher started early, before the driver's own imports


@atexit.register
def close_prestarted() -> None:
    while _prestarted:
        _prestarted.popitem()[1].close()


def _launcher_env(cores: int) -> dict:
    return {**os.environ, **{v: str(cores) for v in THREAD_VARIABLES}}


def prestart_launcher(suite: str | None = None, cores: int | None = None,
                      adapters: list[str] = ()) -> None:  # fmt: skip
    """Start the warm launcher now, so its imports overlap with the driver's (the CLI calls
    this first thing). ``cores`` (else read from the suite file, else 1) sizes the thread
    pools it loads; the executor uses it only if its run's jobs have those cores. Called
    again with the run's ``adapters`` (``module:Class``), the launcher started for ``cores``
    loads them and what their jobs import while the driver loads the run's data."""
    if cores is None:
        try:
            from automl_bench.planning.suite import load_suite

            cores = load_suite(suite)[0].constraint.cores if suite else 1
        except Exception:  # the run itself reports a bad suite
            return
    if cores not in _prestarted:
        try:
            _prestarted[cores] = Launcher(_launcher_env(cores), list(adapters), warm=True,
                                          wait=False)  # fmt: skip
        except OSError:
            pass
    elif adapters:
        _prestarted[cores].preload(list(adapters))


def _sweep_stale(items: list[WorkItem]) -> None:
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
    def __init__(self, parallel: int = 1, limits: Limits | None = None,
                 oversubscribe: bool = False, pool=None):  # fmt: skip
        self.parallel = max(1, parallel)
        self.limits = limits or Limits()
        self.oversubscribe = oversubscribe
        self.launcher_info: dict = {}
        self.gate = None  # called before each job starts; False: not yet (run --exclusive)
        self.admit = None  # called as a job's slot is given: False drops the job (run --race)
        self.pool = pool  # automl_bench.execution.launcher_pool.LauncherPool: launchers kept across runs

    def plan(self, items: list[WorkItem]) -> SlotPlan:
        cores = max((t.cores for t in items), default=1)
        memory = max((t.memory_mb for t in items), default=1)
        return plan_slots(self.parallel, cores, memory, self.oversubscribe)

    def _launcher(self, items: list[WorkItem]) -> Launcher:
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
            launcher = self.pool.acquire(_launcher_env(cores), cores, modules, warm)
            self.launcher_info, self._pooled_cores = launcher.info, cores
            return launcher
        early = _prestarted.pop(cores, None) if warm else None
        for other in list(_prestarted):
            _prestarted.pop(other).close()
        if early is not None and not early.dead and early.preload(modules):
            early.wait_ready()
            launcher = early
        else:
            if early is not None:
                early.close()
            launcher = Launcher(_launcher_env(cores), modules, warm=warm)
        self.launcher_info = launcher.info
        return launcher

    def run(self, items: list[WorkItem], on_start=None, on_done=None) -> None:
        if not items:
            return
        plan = self.plan(items)
        _sweep_stale(items)
        launcher, launcher_starts = None, 0
        pending = deque((t, 1) for t in items)
        running: dict[str, _Running] = {}
        finished: list[tuple[WorkItem, Outcome]] = []  # reported after the next jobs started
        free_cpus, free_mem, rr = list(plan.cpus), plan.memory_mb, 0
        try:
            while pending or running or finished:
                if pending and (launcher is None or launcher.dead):
                    for r in running.values():
                        r.lost("the worker launcher died")
                    if not running:
                        if launcher is not None:
                            launcher.close()
                        if launcher_starts >= MAX_LAUNCHER_STARTS:
                            raise LauncherError(
                                f"the worker launcher died {launcher_starts} times; giving up"
                            )
                        launcher_starts += 1
                        launcher = self._launcher([t for t, _ in pending])
                while pending and not launcher.dead and len(running) < plan.slots:
                    item, attempt = pending[0]
                    need = min(item.cores, len(plan.cpus))
                    fits = plan.oversubscribe or not running or (
                        len(free_cpus) >= need and free_mem >= item.memory_mb)  # fmt: skip
                    if not fits or (self.gate is not None and not self.gate(len(running))):
                        break
                    if attempt == 1 and self.admit is not None and not self.admit(item):
                        pending.popleft()  # never starts (its framework left the race)
                        continue
                    if plan.oversubscribe:
                        cpus = [plan.cpus[(rr + i) % len(plan.cpus)] for i in range(need)]
                        rr += need
                    else:
                        cpus = free_cpus[:need] or plan.cpus[:need]
                        free_cpus = free_cpus[need:]
                        free_mem -= item.memory_mb
                    pending.popleft()
                    r = _Running(item, attempt, sorted(cpus), self.limits, launcher)
                    running[r.key] = r
                    if on_start and attempt == 1:
                        on_start(item)
                for item, outcome in finished:  # scoring and storing while the next jobs run
                    if on_done:
                        on_done(item, outcome)
                finished = []
                if launcher is not None and launcher.dead:
                    for r in running.values():
                        r.lost("the worker launcher died")
                events = launcher.events(self.limits.poll_s) if running else []
                table = proc_table()
                for ev in events:
                    r = running.get(ev.get("key"))
                    if r is not None:
                        r.on_event(ev, table)
                now = time.monotonic()
                for r in running.values():
                    r.enforce(table, now)
                for key in [k for k, r in running.items() if r.exit is not None]:
                    r = running.pop(key)
                    outcome = r.finish()
                    if not plan.oversubscribe:
                        free_cpus = sorted(set(free_cpus) | set(r.cpus))
                        free_mem += r.item.memory_mb
                    if outcome.infrastructure and r.attempt <= self.limits.retries:
                        pending.appendleft((r.item, r.attempt + 1))
                        continue
                    if outcome.infrastructure:
                        outcome.error_message = (
                            f"{outcome.error_message} (infrastructure failure, "
                            f"{r.attempt} attempts)"
                        )
                    finished.append((r.item, outcome))
        finally:
            for r in running.values():  # interrupted: take every still-running job down
                if r.tree is not None:
                    r.tree.signal(signal.SIGKILL)
            if launcher is not None and self.pool is not None:
                self.pool.release(launcher, self._pooled_cores, reusable=not running)
            elif launcher is not None:
                launcher.close()

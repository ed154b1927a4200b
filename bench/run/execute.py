"""Execute a prepared run: write its files, decide what is left to run, store the rows of
jobs that cannot run (task unavailable, backend not installed, task unsupported), hand the
rest to the executor (local slots or Dask; racing decides which start) and store each
outcome as it comes."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from rich.text import Text

from automl_bench import timeline
from automl_bench.data import taskcache
from automl_bench.errors import BadInput
from automl_bench.execution import contention
from automl_bench.execution import fingerprint as environment
from automl_bench.execution.jobs import Outcome, WorkItem
from automl_bench.execution.local_executor import LocalExecutor
from automl_bench.execution.protocol import Executor
from automl_bench.execution.runlock import run_lock
from automl_bench.planning import capabilities
from automl_bench.planning.plan import Job, job_folder, plan_jobs
from automl_bench.race import live as race_live
from automl_bench.race import rule as race
from automl_bench.race.rule import RACED_OUT
from automl_bench.results import rundir
from automl_bench.results.store import Store
from automl_bench.run import environments, resume
from automl_bench.run.options import RunOptions
from automl_bench.run.prepare import Prepared
from automl_bench.run.rows import Rows, job_spec

CONSTANT = "automl_bench_adapters.constant:ConstantPredictor"


@dataclass
class RunSummary:
    run_dir: Path
    planned: int
    executed: int
    statuses: dict


@dataclass
class _Run:
    """One execution's state, shared by its steps."""

    prep: Prepared
    opts: RunOptions
    run_dir: Path
    cached: dict  # task name -> CachedTask
    missing: dict  # task name -> Unavailable (its data could not be loaded)
    jobs: list
    variants: dict  # framework name -> Variant
    fold_rows: dict  # task name -> [(training rows, test rows) per fold]
    reporter: object = None

    @property
    def profiles(self) -> dict:
        return {t.name: t.profile for t in self.prep.tasks}

    def write_spec(self, j: Job, job_dir: Path) -> None:
        job_dir.mkdir(parents=True, exist_ok=True)
        spec = job_spec(j, self.cached[j.task])
        spec["adapter_paths"] = list(self.variants[j.framework].paths)
        spec["infer_allowance_s"] = self.opts.limits.infer_s if self.opts.inference else 0.0
        train, test = self.fold_rows[j.task][j.fold]
        spec["predict_allowance_s"] = self.opts.limits.predict_allowance(j.budget_s, train, test)
        (job_dir / "spec.json").write_text(json.dumps(spec, indent=1))


def _executor(prep: Prepared, opts: RunOptions) -> Executor:
    if opts.executor == "dask":
        from automl_bench.execution.dask_executor import DaskExecutor

        c = prep.constraint
        return DaskExecutor.connect(opts.scheduler, opts.parallel, c.cores, c.memory_mb,
                                    opts.limits)  # fmt: skip
    return LocalExecutor(opts.parallel, opts.limits, opts.oversubscribe)


def execute(prep: Prepared, opts: RunOptions, reporter=None) -> RunSummary:
    executor = _executor(prep, opts)  # a Dask cluster is reached before anything is written
    try:
        run_dir = prep.run_dir
        # environments first: a requirement pip cannot resolve is bad input, found before
        # anything is written
        built = environments.ensure(prep.variants, reporter.say if reporter else None)
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise BadInput(f"--out {run_dir}: cannot be created ({e.strerror})") from None
        with run_lock(run_dir):  # one driver per run directory
            if prep.identity is not None and opts.check_run_dir:
                rundir.check(run_dir, prep.identity)  # again, now that we hold the lock
                rundir.claim(run_dir, prep.identity)
            _clean_remote(run_dir, reporter)
            return _execute(_start(prep, opts, run_dir, reporter, built), executor)
    finally:
        executor.close()


def _clean_remote(run_dir: Path, reporter) -> None:
    """What killed or crashed jobs of an earlier attempt left in a cloud account: stopped
    and deleted before anything else runs, each resource said."""
    from automl_bench.execution import remote_cleanup

    lines, _ok = remote_cleanup.clean(run_dir)
    for line in lines:
        if reporter:
            reporter.say(f"cleanup: {line}")


def _start(prep: Prepared, opts: RunOptions, run_dir: Path, reporter, built: dict) -> _Run:
    """Materialise the tasks, plan the jobs and write the run's own files (``built``: the
    backends' environments this run built, name -> seconds)."""
    cached = {t.name: taskcache.materialise(t, run_dir) for t in prep.tasks}
    missing = {u.name: u for u in prep.unavailable}
    cached.update({u.name: taskcache.unavailable(u.name, prep.suite.folds, u.reason)
                   for u in prep.unavailable})  # fmt: skip
    jobs = plan_jobs(prep.variants, list(cached.values()), prep.constraint, prep.seed, opts.folds)
    shutil.copyfile(prep.suite_path, run_dir / "suite.yaml")
    (run_dir / "plan.json").write_text(json.dumps([j.to_dict() for j in jobs], indent=1))
    # the machine and packages; and the backends' environments this run built, with the
    # seconds each took
    built = {name: {"build_s": round(s, 1)} for name, s in (built or {}).items()}
    (run_dir / "environment.json").write_text(json.dumps(
        {**environment.describe(), **({"environments_built": built} if built else {})}, indent=1))
    fold_rows = {t.name: [(len(tr), len(te)) for tr, te in t.splits] for t in prep.tasks}
    return _Run(prep, opts, run_dir, cached, missing, jobs,
                {v.name: v for v in prep.variants}, fold_rows, reporter)  # fmt: skip


def _execute(run: _Run, executor: Executor) -> RunSummary:
    tracker = None
    if run.opts.mlflow:
        from automl_bench.results.mlflow_tracking import MlflowTracker

        tracker = MlflowTracker(run.run_dir, run.opts.mlflow_uri)
    with Store(run.run_dir / "results.sqlite") as store:
        resume.forget_recovered(store, set(run.cached) - set(run.missing))
        superseded = resume.superseded(store, run.jobs)
        installed = {name: v.status()[0] for name, v in run.variants.items()}
        todo = resume.to_run(run.jobs, store, set(run.missing), installed,
                             run.opts.rerun_failed, run.opts.race)  # fmt: skip
        if run.reporter:
            run.reporter.budgets = sorted({j.budget_s for j in run.jobs})  # each line names its own
            run.reporter.planned(len(run.jobs), len(run.jobs) - len(todo), len(todo), run.run_dir)
        rows = Rows(store, run.cached, run.variants, superseded, run.reporter, tracker)
        runnable = _store_unrunnable(run, todo, rows, superseded)
        try:
            _run_jobs(run, runnable, rows, executor)
        finally:
            store.export_csv(run.run_dir / "results.csv")
            if tracker:  # rows stored before --mlflow was given, or whose logging failed
                tracker.sync(store.frame(), run.run_dir)
        statuses = pd.Series(list(store.statuses().values())).value_counts().to_dict()
    return RunSummary(run.run_dir, len(run.jobs), len(todo), statuses)


def _store_unrunnable(run: _Run, todo: list[Job], rows: Rows, superseded: dict) -> list[Job]:
    """Store the rows of the jobs that cannot run; return the others."""
    # Tasks whose data could not be loaded: every job is a failed row naming the cause
    # (rewritten each run, so the row always tells the latest attempt).
    for j in [j for j in todo if j.task in run.missing]:
        u = run.missing[j.task]
        rows.put(j, Outcome(status="failed", wall=u.seconds, grace_s=0.0,
                            error_type="TaskUnavailable", error_message=u.reason),
                 replace=False)  # fmt: skip
    # Jobs whose backend is not installed are results too: skipped, with the fix. So are
    # jobs whose task the backend declares it cannot handle.
    runnable = []
    access = {name: capabilities.no_access(v) for name, v in run.variants.items()
              if any(j.framework == name for j in todo)}  # fmt: skip
    for j in [j for j in todo if j.task not in run.missing]:
        reason, error_type = _unrunnable(run, j, access.get(j.framework))
        if reason is None:
            runnable.append(j)
        elif j.id not in superseded:  # a result from when it was installed: kept, not replaced
            rows.put(j, Outcome(status="skipped", wall=0.0, grace_s=0.0, error_type=error_type,
                                error_message=reason), replace=False)  # fmt: skip
    return runnable


def _unrunnable(run: _Run, j: Job, no_access: str | None) -> tuple[str | None, str]:
    """(why the job cannot run, its error type); (None, "") when it can. Checked before the
    job starts, so nothing is created remotely for a job a service would refuse."""
    variant = run.variants[j.framework]
    ok, reason = variant.status()
    if not ok:
        return reason, "NotInstalled"
    train_rows = run.fold_rows[j.task][j.fold][0] if j.task in run.fold_rows else None
    reason = capabilities.unsupported(capabilities.of(variant), run.cached[j.task].task_type,
                                      run.profiles.get(j.task, {}), j.budget_s, train_rows)
    if reason is not None:
        return reason, "Unsupported"
    return (no_access, "NoAccess") if no_access else (None, "")


def _work_items(run: _Run, runnable: list[Job], write_specs: bool) -> list[WorkItem]:
    items = []
    for j in runnable:
        job_dir = run.run_dir / "jobs" / job_folder(j.framework, j.task, j.fold, j.id)
        if write_specs:
            run.write_spec(j, job_dir)
        item = WorkItem(j.id, job_dir, j.budget_s, j.cores, j.memory_mb)
        item.token = run.prep.identity.token if run.prep.identity else None
        # an adapter with its own environment runs its worker with that env's interpreter
        python = run.variants[j.framework].python()
        if python:
            item.python = python
        items.append(item)
    return items


def _run_jobs(run: _Run, runnable: list[Job], rows: Rows, executor: Executor) -> None:
    by_id = {j.id: j for j in run.jobs}
    live, admit = None, None
    if run.opts.race:  # rounds; a job's directory is written only once it may start
        constants = [v.name for v in run.prep.variants if v.adapter == CONSTANT]
        live = race_live.LiveRace(run.run_dir, rows.store, run.jobs,
                                  run.opts.race_rule or race.Rule(), constants)  # fmt: skip
        runnable = race_live.ordered(runnable, [v.name for v in run.prep.variants],
                                     [t.name for t in run.prep.tasks])  # fmt: skip

        def admit(item: WorkItem) -> bool:
            job = by_id[item.job_id]
            return race_live.admit(live, job, lambda: run.write_spec(job, item.job_dir),
                                   lambda drop: _raced_out(rows, job, drop))  # fmt: skip

    items = _work_items(run, runnable, write_specs=live is None)
    if items and run.reporter:
        for note in executor.notes(items):
            run.reporter.console.print(Text("note: ", "yellow") + Text(str(note)),
                                       highlight=False)  # fmt: skip
    loads: dict = {}  # job id -> the machine's load average when the job started

    def on_start(item: WorkItem) -> None:
        loads[item.job_id] = contention.load_now()
        if run.reporter:
            run.reporter.started(item)

    def on_done(item: WorkItem, outcome: Outcome) -> None:
        timeline.mark("job done")
        extra = {"mode": executor.mode, "load_at_start": loads.get(item.job_id)}
        rows.put_scored(by_id[item.job_id], outcome, item.job_dir, extra)
        if live is not None:
            live.refresh()  # a round complete: the decision is taken now

    gate = None
    if run.opts.exclusive:
        gate = contention.QuietGate(run.opts.exclusive_wait,
                                    run.reporter.console if run.reporter else None)  # fmt: skip
    executor.run(items, on_start=on_start, on_done=on_done, admit=admit, gate=gate)


def _raced_out(rows: Rows, j: Job, drop) -> None:
    rows.put(j, Outcome(status=RACED_OUT, wall=0.0, grace_s=0.0, error_type="RacedOut",
                        error_message=drop.message()), extra=drop.columns())  # fmt: skip

"""Orchestrate a run: suite -> validated tasks -> jobs -> resume filter -> executor -> store.

Everything that can be wrong with the user's input is checked in :func:`prepare`, before the
run directory is touched, so bad input writes nothing.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
from rich.text import Text

from automl_bench import timeline
from automl_bench.data import taskcache
from automl_bench.data.sources import SourceContext, TaskUnavailable
from automl_bench.errors import BadInput
from automl_bench.execution import contention, inference
from automl_bench.execution import fingerprint as environment
from automl_bench.execution import predictions_file as predictions
from automl_bench.execution import trajectory_file as trajectory
from automl_bench.execution.executor import Limits, LocalExecutor, Outcome, WorkItem, check_fits
from automl_bench.execution.runlock import run_lock
from automl_bench.planning import budgets, capabilities, registry
from automl_bench.planning.options import check_run_options
from automl_bench.planning.plan import Job, job_folder, plan_jobs
from automl_bench.planning.suite import Constraint, Suite, TaskSpec, load_suite
from automl_bench.race import live as race_live
from automl_bench.race import rule as race
from automl_bench.race.rule import RACED_OUT
from automl_bench.results import rundir
from automl_bench.results.cost import job_cost
from automl_bench.results.scoring import METRICS, headline, score
from automl_bench.results.starvation import budget_columns
from automl_bench.results.store import Store
from automl_bench.run import environments
from automl_bench.run.precheck import check_optional

CONSTANT = "automl_bench_adapters.constant:ConstantPredictor"

log = logging.getLogger("automl_bench.run.runner")


@dataclass
class RunOptions:
    suite: str = "default"
    frameworks: list[str] | None = None
    budget: float | None = None
    budgets: list[float] | None = None  # several budgets: every job is planned at each
    folds: int | None = None
    seed: int | None = None
    out: Path | None = None
    parallel: int = 1
    rerun_failed: bool = False
    oversubscribe: bool = False
    executor: str = "local"  # local | dask
    scheduler: str | None = None  # Dask scheduler address; None: start a LocalCluster
    mlflow: bool = False
    mlflow_uri: str | None = None  # None: SQLite store and artifacts inside the run dir
    limits: Limits = field(default_factory=Limits)
    inference: bool = True  # measure deployability after fit (automl_bench.execution.inference)
    openml_cache: Path | None = None  # the user's OpenML cache (default: openml's config)
    openml_server: str | None = None  # for OpenML tasks that name no server
    cache_dir: Path | None = None  # bench's cross-run task cache (default ~/.cache/automl-bench)
    check_run_dir: bool = True  # refuse a --out that is not ours or holds another run (rundir)
    exclusive: bool = False  # wait before each job until the machine is quiet
    exclusive_wait: float = 600.0  # at most this long per job, then run and say so
    race: bool = False  # run --race: rounds, frameworks dropped when significantly worse
    race_rule: object = None  # automl_bench.race.rule.Rule (None: its defaults)


@dataclass
class Unavailable:
    """A task whose data could not be had (e.g. OpenML offline): its jobs are failed rows."""

    name: str
    reason: str
    seconds: float


@dataclass
class Prepared:
    suite: Suite
    suite_path: Path
    run_dir: Path
    variants: list
    constraint: Constraint
    seed: int
    tasks: list  # LoadedTask
    unavailable: list = field(default_factory=list)  # Unavailable
    identity: rundir.RunIdentity | None = None


def source_context(opts: RunOptions, suite_path: Path) -> SourceContext:
    from automl_bench.planning.suite import check_server

    ctx = SourceContext.from_env(
        suite_path.parent,
        openml_cache=opts.openml_cache,
        openml_server=opts.openml_server,
        cache_root=opts.cache_dir,
    )
    if ctx.openml_server is not None:
        try:
            check_server(ctx.openml_server)
        except ValueError as e:  # the value may come from the environment: never echoed
            raise BadInput(f"--openml-server (or $AUTOML_BENCH_OPENML_SERVER): {e}") from None
    return ctx


def suite_tasks(suite: Suite, ctx: SourceContext) -> tuple[list[TaskSpec], list[Unavailable]]:
    """The suite's own tasks plus those of its OpenML suite (if any and reachable)."""
    specs, missing = list(suite.tasks), []
    if suite.openml_suite is not None:
        from automl_bench.data.sources.openml_tasks import suite_task_ids

        t0 = time.perf_counter()
        try:
            ids = suite_task_ids(suite.openml_suite, ctx)
        except TaskUnavailable as e:
            name = f"openml-suite-{suite.openml_suite}"
            missing.append(Unavailable(name, str(e), time.perf_counter() - t0))
            log.warning("%s: its tasks cannot be listed, recorded as failed: %s", name, e)
        else:
            have = {s.openml.task for s in specs if s.openml is not None}
            names = {s.name for s in specs}
            for tid in ids:
                if tid not in have and f"openml-t-{tid}" not in names:
                    specs.append(TaskSpec(name=f"openml-t-{tid}", openml={"task": tid}))
    return specs, missing


def load_tasks(suite: Suite, path: Path, ctx: SourceContext):
    """Load and validate every task: (loaded, unavailable). BadInput names suite file and task."""
    specs, unavailable = suite_tasks(suite, ctx)
    tasks = []
    for t in specs:
        t0 = time.perf_counter()
        try:
            tasks.append(taskcache.load(t, suite, ctx))
        except BadInput as e:
            raise BadInput(f"{path}: task {t.name!r}: {e}") from None
        except TaskUnavailable as e:
            u = Unavailable(t.name, str(e), time.perf_counter() - t0)
            unavailable.append(u)
            log.warning("task %r unavailable after %.1f s, its jobs are recorded as failed: %s",
                        t.name, u.seconds, e)  # fmt: skip
    return tasks, unavailable


def prepare(opts: RunOptions) -> Prepared:
    check_run_options(opts)
    _check_optional(opts)
    suite, path = load_suite(opts.suite)
    names = opts.frameworks or suite.frameworks
    variants = registry.labelled([registry.get(n) for n in names])
    if opts.budget is not None and not opts.budget > 0:
        raise BadInput(f"--budget must be > 0 seconds (got {opts.budget})")
    if opts.inference and not opts.limits.infer_s > 0:
        raise BadInput(f"--infer-allowance must be > 0 seconds (got {opts.limits.infer_s}); "
                       "use --no-inference to skip the measurement")  # fmt: skip
    if opts.folds is not None and opts.folds < 1:
        raise BadInput(f"--folds must be >= 1 (got {opts.folds})")
    constraint = budgets.override(suite.constraint, opts.budget, opts.budgets)
    seed = suite.seed if opts.seed is None else opts.seed
    if seed != suite.seed:
        suite = suite.model_copy(update={"seed": seed})
    tasks, unavailable = load_tasks(suite, path, source_context(opts, path))
    if tasks and not opts.scheduler:  # jobs will run here: never more than the machine has
        try:
            check_fits(constraint.cores, constraint.memory_mb, opts.oversubscribe)
        except BadInput as e:
            raise BadInput(f"{path}: constraint {constraint.name}: {e}") from None
    from automl_bench.paths import results_dir

    run_dir = Path(opts.out) if opts.out else results_dir() / suite.name
    ident = rundir.identity(suite, constraint, tasks, unavailable)
    if opts.check_run_dir:  # the run directory is ours (or new) and holds no other run
        rundir.check(run_dir, ident)
    taskcache.commit(tasks)  # every task is valid: freshly parsed ones enter the cache
    return Prepared(suite, path, run_dir, variants, constraint, seed, tasks, unavailable, ident)


def _spec(job: Job, task: taskcache.CachedTask) -> dict:
    return {
        **job.to_dict(),
        "params": job.params,
        "data_path": str(task.data_path),
        "folds_path": str(task.folds_path),
        "target_column": task.target_column,
        "classes": task.classes,
    }


def build_row(job: Job, task: taskcache.CachedTask, variant, outcome: Outcome, scores) -> dict:
    w = outcome.worker
    metric, result = (
        headline(task.task_type, scores) if scores else (headline(task.task_type, _nan())[0], None)
    )
    row = {
        "id": task.source_id,
        "task": job.task,
        "framework": job.framework,
        "constraint": job.constraint,
        "fold": job.fold,
        "type": task.task_type,
        "result": result,
        "metric": metric,
        "mode": "local",
        "version": variant.backend_version(),
        "params": job.params_json,
        "app_version": environment.describe()["app_version"],
        "utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "duration": outcome.wall,
        "training_duration": w.get("training_duration"),
        "predict_duration": w.get("predict_duration"),
        "models_count": w.get("models_count"),
        "seed": job.seed,
        "info": json.dumps(w.get("info") or {}),
        **{m: (scores or {}).get(m) for m in METRICS},
        "status": outcome.status,
        "error_type": outcome.error_type,
        "error_message": outcome.error_message,
        "cpu_time": outcome.cpu_time,
        "peak_rss_mb": outcome.peak_rss_mb,
        "budget_s": job.budget_s,
        "cores": job.cores,
        "memory_mb": job.memory_mb,
        "grace_s": outcome.grace_s,
        "exit_signal": outcome.exit_signal,
        "cost_usd": job_cost(outcome.wall, job.cores),
        "cpu_share": contention.cpu_share(outcome.cpu_time, outcome.wall, job.cores),
        "attempts": outcome.attempts,
        "job_id": job.id,
        "environment": environment.fingerprint(),
        **budget_columns(job.budget_s, outcome),
        **inference.row_values(w),
        **trajectory.row_values(w),
    }
    return row


def _forget_recovered(store: Store, loaded: set) -> None:
    """Drop failed rows of an earlier run for tasks that could not be loaded then but loaded
    now (their jobs get real ids and run), so results never show both."""
    df = store.frame()
    if df.empty:
        return
    stale = df[df["task"].isin(loaded) & (df["error_type"] == "TaskUnavailable")]
    if len(stale):
        store.delete(stale["job_id"].tolist())


def _superseded(store: Store, jobs: list[Job]) -> dict[str, list[str]]:
    """Stored rows that a planned job replaces once it has its own row: same framework, task,
    fold, constraint and seed under another id (e.g. the backend's version changed)."""
    df = store.frame()
    if df.empty:
        return {}
    ids = {j.id for j in jobs}
    old = df[~df["job_id"].isin(ids)]
    by_key: dict[tuple, list[str]] = {}
    cols = ["framework", "task", "fold", "constraint", "seed", "job_id"]
    for r in old[cols].itertuples(index=False):
        k = (r.framework, r.task, int(r.fold), r.constraint, int(r.seed))
        by_key.setdefault(k, []).append(r.job_id)
    out = {}
    for j in jobs:
        found = by_key.get((j.framework, j.task, j.fold, j.constraint, j.seed))
        if found:
            out[j.id] = found
    return out


def _nan():
    return dict.fromkeys(METRICS, math.nan)


@dataclass
class RunSummary:
    run_dir: Path
    planned: int
    already_done: int
    executed: int
    statuses: dict


def _check_optional(opts: RunOptions) -> None:
    """Options that need an optional extra: say how to install it before anything runs."""
    check_optional(opts.executor, opts.scheduler, opts.mlflow)
    if opts.exclusive and opts.executor != "local":
        raise BadInput("--exclusive waits for this machine to be quiet: it works with the local "
                       "executor only")  # fmt: skip
    if opts.race and opts.executor != "local":
        raise BadInput("--race decides which jobs start as results come in: it works with the "
                       "local executor only")  # fmt: skip


def _executor(prep: Prepared, opts: RunOptions):
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
            return _execute(prep, opts, run_dir, reporter, executor, built)
    finally:
        if hasattr(executor, "close"):
            executor.close()


def _environment_record(built: dict | None) -> dict:
    """The machine and packages; and the backends' environments this run built, with the
    seconds each took."""
    built = {name: {"build_s": round(s, 1)} for name, s in (built or {}).items()}
    return {**environment.describe(), **({"environments_built": built} if built else {})}


def _execute(prep: Prepared, opts: RunOptions, run_dir: Path, reporter, executor,
             built: dict | None = None) -> RunSummary:  # fmt: skip
    cached = {t.name: taskcache.materialise(t, run_dir) for t in prep.tasks}
    missing = {
        u.name: (u, taskcache.unavailable(u.name, prep.suite.folds, u.reason))
        for u in prep.unavailable
    }
    cached.update({name: ct for name, (_, ct) in missing.items()})
    jobs = plan_jobs(prep.variants, list(cached.values()), prep.constraint, prep.seed, opts.folds)
    shutil.copyfile(prep.suite_path, run_dir / "suite.yaml")
    (run_dir / "plan.json").write_text(json.dumps([j.to_dict() for j in jobs], indent=1))
    (run_dir / "environment.json").write_text(json.dumps(_environment_record(built), indent=1))
    by_id = {j.id: j for j in jobs}
    variants = {v.name: v for v in prep.variants}

    tracker = None
    if opts.mlflow:
        from automl_bench.results.mlflow_tracking import MlflowTracker

        tracker = MlflowTracker(run_dir, opts.mlflow_uri)

    with Store(run_dir / "results.sqlite") as store:
        done = store.statuses()
        _forget_recovered(store, set(cached) - set(missing))
        superseded = _superseded(store, jobs)
        installed = {name: v.status()[0] for name, v in variants.items()}
        todo = [
            j for j in jobs
            if j.task in missing
            or j.id not in done
            or (done[j.id] == "skipped" and installed[j.framework])  # installed since
            or (opts.rerun_failed and done[j.id] not in ("ok", "skipped", RACED_OUT))
            or (done[j.id] == RACED_OUT and not opts.race)  # a run without --race runs them
        ]  # fmt: skip
        already = len(jobs) - len(todo)
        if reporter:
            reporter.budgets = sorted({j.budget_s for j in jobs})  # each line names its own
            reporter.planned(len(jobs), already, len(todo), run_dir)

        # Tasks whose data could not be loaded: every job is a failed row naming the cause
        # (rewritten each run, so the row always tells the latest attempt).
        for j in [j for j in todo if j.task in missing]:
            u = missing[j.task][0]
            outcome = Outcome(status="failed", wall=u.seconds, grace_s=0.0,
                              error_type="TaskUnavailable", error_message=u.reason)  # fmt: skip
            row = build_row(j, cached[j.task], variants[j.framework], outcome, None)
            store.put(row)
            if reporter:
                reporter.done(row)
        todo = [j for j in todo if j.task not in missing]

        # Jobs whose backend is not installed are results too: skipped, with the fix.
        # So are jobs whose task the backend declares it cannot handle.
        runnable = []
        profiles = {t.name: t.profile for t in prep.tasks}
        for j in todo:
            ok, reason = variants[j.framework].status()
            error_type = "NotInstalled"
            if ok:
                reason = capabilities.unsupported(capabilities.of(variants[j.framework]),
                                                  cached[j.task].task_type, profiles.get(j.task, {}))  # fmt: skip
                error_type = "Unsupported"
            if reason is None:
                runnable.append(j)
                continue
            if j.id in superseded:  # a result from when it was installed: kept, not replaced
                continue
            outcome = Outcome(status="skipped", wall=0.0, grace_s=0.0, error_type=error_type,
                              error_message=reason)  # fmt: skip
            row = build_row(j, cached[j.task], variants[j.framework], outcome, None)
            store.put(row)
            if reporter:
                reporter.done(row)

        fold_rows = {t.name: [(len(tr), len(te)) for tr, te in t.splits] for t in prep.tasks}

        def write_spec(j: Job, job_dir: Path) -> None:
            job_dir.mkdir(parents=True, exist_ok=True)
            spec = _spec(j, cached[j.task])
            spec["adapter_paths"] = list(variants[j.framework].paths)
            spec["infer_allowance_s"] = opts.limits.infer_s if opts.inference else 0.0
            train, test = fold_rows[j.task][j.fold]
            spec["predict_allowance_s"] = opts.limits.predict_allowance(j.budget_s, train, test)
            (job_dir / "spec.json").write_text(json.dumps(spec, indent=1))

        live = None
        if opts.race:  # rounds; a job's directory is written only once it may start
            live = race_live.LiveRace(run_dir, store, jobs, opts.race_rule or race.Rule(),
                                      [v.name for v in prep.variants if v.adapter == CONSTANT])
            runnable = race_live.ordered(runnable, [v.name for v in prep.variants],
                                         [t.name for t in prep.tasks])  # fmt: skip
        tasks = []
        for j in runnable:
            job_dir = run_dir / "jobs" / job_folder(j.framework, j.task, j.fold, j.id)
            if live is None:
                write_spec(j, job_dir)
            task = WorkItem(j.id, job_dir, j.budget_s, j.cores, j.memory_mb)
            task.token = prep.identity.token if prep.identity else None
            # an adapter with its own environment runs its worker with that env's interpreter
            python = variants[j.framework].python()
            if python:
                task.python = python
            tasks.append(task)

        def on_done(task: WorkItem, outcome: Outcome) -> None:
            timeline.mark("job done")
            job = by_id[task.job_id]
            ct = cached[job.task]
            scores, repaired = None, None
            if outcome.status == "ok":
                try:  # labels from the task's own files, never from the worker
                    checked = predictions.check(task.job_dir, ct.dir, ct.digest, job.fold,
                                                ct.classes)  # fmt: skip
                    scores, repaired = score(checked.proba, checked.truth), checked.repaired_rows
                    if repaired:
                        outcome.worker.setdefault("info", {})["repaired"] = checked.problems
                except Exception as e:  # unreadable or inconsistent predictions: a failure
                    outcome.status, outcome.error_type = "failed", "BadPredictions"
                    outcome.error_message = str(e) if isinstance(e, predictions.BadPredictions) \
                        else f"{type(e).__name__}: {e}"
            row = build_row(job, ct, variants[job.framework], outcome, scores)
            row["mode"] = getattr(executor, "mode", "local")
            row["repaired_rows"] = repaired
            row["load_at_start"] = loads.get(task.job_id)
            store.put(row, replaces=superseded.get(job.id, ()))
            if live is not None:
                live.refresh()  # a round complete: the decision is taken now
            if tracker:
                tracker.log_job(row, task.job_dir)
            if reporter:
                reporter.done(row)

        def raced_out(j: Job, drop) -> None:
            outcome = Outcome(status=RACED_OUT, wall=0.0, grace_s=0.0, error_type="RacedOut",
                              error_message=drop.message())  # fmt: skip
            row = {**build_row(j, cached[j.task], variants[j.framework], outcome, None),
                   **drop.columns()}  # fmt: skip
            store.put(row, replaces=superseded.get(j.id, ()))
            if reporter:
                reporter.done(row)

        if live is not None:
            executor.admit = lambda item: race_live.admit(
                live, by_id[item.job_id], lambda: write_spec(by_id[item.job_id], item.job_dir),
                lambda drop: raced_out(by_id[item.job_id], drop))  # fmt: skip

        if tasks and reporter and hasattr(executor, "plan"):
            for note in executor.plan(tasks).notes:
                reporter.console.print(Text("note: ", "yellow") + Text(str(note)), highlight=False)
        loads: dict = {}  # job id -> the machine's load average when the job started

        def on_start(task: WorkItem) -> None:
            loads[task.job_id] = contention.load_now()
            if reporter:
                reporter.started(task)

        if opts.exclusive and hasattr(executor, "gate"):
            executor.gate = contention.QuietGate(opts.exclusive_wait,
                                                 reporter.console if reporter else None)  # fmt: skip
        try:
            executor.run(tasks, on_start=on_start, on_done=on_done)
        finally:
            store.export_csv(run_dir / "results.csv")
            if tracker:  # rows stored before --mlflow was given, or whose logging failed
                tracker.sync(store.frame(), run_dir)
        statuses = pd.Series(list(store.statuses().values())).value_counts().to_dict()
    return RunSummary(run_dir, len(jobs), already, len(todo), statuses)

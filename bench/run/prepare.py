"""Prepare a run: suite -> validated tasks -> framework variants, constraint and run identity.

Everything that can be wrong with the user's input is checked here, before the run directory
is touched, so bad input writes nothing.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from automl_bench.data import taskcache
from automl_bench.data.sources import SourceContext, TaskUnavailable
from automl_bench.errors import BadInput
from automl_bench.execution.slots import check_fits
from automl_bench.planning import budgets, registry
from automl_bench.planning.options import check_run_options
from automl_bench.planning.suite import (
    Constraint,
    Suite,
    TaskSpec,
    check_unique_frameworks,
    load_suite,
)
from automl_bench.results import rundir
from automl_bench.run.options import RunOptions
from automl_bench.run.precheck import check_optional

log = logging.getLogger("automl_bench.run.prepare")


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
    check_unique_frameworks(names)
    variants = registry.labelled([registry.get(n) for n in names])
    for v in variants:  # an adapter that does not import stops the run before it starts
        v.check_adapter()
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


def _check_optional(opts: RunOptions) -> None:
    """Options that need an optional extra: say how to install it before anything runs."""
    check_optional(opts.executor, opts.scheduler, opts.mlflow)
    if opts.exclusive and opts.executor != "local":
        raise BadInput("--exclusive waits for this machine to be quiet: it works with the local "
                       "executor only")  # fmt: skip
    if opts.race and opts.executor != "local":
        raise BadInput("--race decides which jobs start as results come in: it works with the "
                       "local executor only")  # fmt: skip

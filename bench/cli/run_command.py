"""`automl-bench run`: check the inputs, start the warm launcher early, prepare and execute
the run, print its leaderboard, then build its report (in the background by default)."""

from __future__ import annotations

import os
import traceback
from pathlib import Path

from rich.text import Text

from automl_bench import timeline
from automl_bench.cli.console import err, out
from automl_bench.cli.run_options import plan_fields, race_rule
from automl_bench.errors import BadInput


def cmd_run(args) -> int:
    from types import SimpleNamespace

    from automl_bench.execution.launcher_prestart import close_prestarted, prestart_launcher
    from automl_bench.planning.options import number
    from automl_bench.run.precheck import check_run_inputs

    number("--tolerance", args.tolerance)  # the report's, checked before the run
    fields = _run_fields(args)
    # the warm launcher starts first: its imports overlap with everything below
    warm_local = not args.cold_start and fields["executor"] == "local"
    early = _peek_cores(args.suite) if warm_local else None
    if early:
        prestart_launcher(cores=early)
    try:  # bad input fails here, before the data libraries are imported
        cores = check_run_inputs(SimpleNamespace(**fields))
    except BadInput:
        close_prestarted()
        raise
    timeline.mark("checked")
    if warm_local:  # the run's adapters are known: the launcher loads what their jobs import
        prestart_launcher(cores=cores, adapters=_run_adapters(args.suite, fields["frameworks"]))
    from automl_bench.run.execute import execute
    from automl_bench.run.options import RunOptions
    from automl_bench.run.prepare import prepare
    from automl_bench.run.progress import Reporter

    opts = RunOptions(**fields)
    prep = prepare(opts)  # all input checks happen here, before anything is written
    timeline.mark("loaded")
    if opts.race:
        _warn_small_race(prep, opts)
    reporter = Reporter(err)
    try:
        summary = execute(prep, opts, reporter)
    finally:
        reporter.close()
    timeline.mark("stored")
    _print_summary(summary, prep.suite.name, args.metric)
    if args.no_report:
        return 0
    if not args.wait_report:
        from automl_bench.report.background import missing_report_packages, start_report

        if missing_report_packages():
            return report_after_run(summary.run_dir, args)  # says what to install
        html, log = start_report(summary.run_dir, _decision_args(args))
        out.print(f"report: {html} (being built in the background, ready in a few seconds; "
                  f"its log: {log})", highlight=False)  # fmt: skip
        return 0
    return report_after_run(summary.run_dir, args)


def _decision_args(args) -> list[str]:
    """`run`'s --metric and --tolerance, for the `report` command that builds its report."""
    out = ["--metric", args.metric] if args.metric else []
    return out + (["--tolerance", str(args.tolerance)] if args.tolerance is not None else [])


def _warn_small_race(prep, opts) -> None:
    """Before a race starts: say when the suite has fewer task x fold blocks than the race
    needs before it may drop anything (it would run the whole grid), and what would do."""
    from automl_bench.race.rule import Rule

    rule = opts.race_rule or Rule()
    folds = [min(len(t.splits), opts.folds or len(t.splits)) for t in prep.tasks]
    blocks = sum(folds)
    if blocks >= rule.min_blocks:
        return
    most = max(max((len(t.splits) for t in prep.tasks), default=0), 1)
    need = -(-rule.min_blocks // max(len(prep.tasks), 1))  # folds per task that would do
    fix = (f"--folds {need} (the tasks have up to {most} folds)" if need <= most and
           (opts.folds or most) < need else f"more tasks (at least {rule.min_blocks} task x fold "
           "blocks)")  # fmt: skip
    err.print(Text(
        f"warning: --race cannot drop any framework on this suite: it has {blocks} task x fold "
        f"block(s) ({len(prep.tasks)} task(s) x {max(folds, default=0)} fold(s)), fewer than "
        f"the {rule.min_blocks} the race needs before its first decision, so the whole grid "
        f"runs. What would: {fix}, or --race-min-blocks {max(blocks, 2)}.", "yellow"))  # fmt: skip


def _run_fields(args) -> dict:
    if not args.race and (args.race_alpha is not None or args.race_min_blocks is not None
                          or args.race_run_winner is not None):  # fmt: skip
        raise BadInput("--race-alpha, --race-min-blocks and --race-run-winner set the racing "
                       "rule: give --race too")
    run_limits = dict(kill_grace_s=args.kill_grace, retries=args.retries,
                      warm=not args.cold_start, infer_s=args.infer_allowance)  # fmt: skip
    return plan_fields(
        args,
        run_limits,
        seed=args.seed,
        # `..` taken lexically: a/missing/../../mine is ./mine, checked before anything is
        # made (the kernel's way would first create a/missing to walk back out of it)
        out=Path(os.path.normpath(args.out)) if args.out else None,
        rerun_failed=args.rerun_failed,
        oversubscribe=args.oversubscribe,
        inference=not args.no_inference,
        executor=args.executor or ("dask" if args.scheduler else "local"),
        scheduler=args.scheduler,
        mlflow=args.mlflow is not None,
        mlflow_uri=args.mlflow or None,
        exclusive=args.exclusive,
        exclusive_wait=args.exclusive_wait,
        race=args.race,
        race_rule=race_rule(args, None),
    )


def _print_summary(summary, suite_name: str, metric: str | None = None) -> None:
    """The store and results.csv are final here: the leaderboard is read from them."""
    from automl_bench.report.leaderboard import leaderboard
    from automl_bench.report.terminal import table

    out.print(table(leaderboard([summary.run_dir], metric=metric)[0], f"Leaderboard: {suite_name}"))
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.statuses.items()))
    out.print(f"executed {summary.executed} of {summary.planned} jobs ({counts})")
    out.print(Text(f"results: {summary.run_dir / 'results.csv'}"))
    out.print(Text(f"run directory: {summary.run_dir}"))


def _peek_cores(suite: str) -> int | None:
    """A suite's cores per job, read without validating it (the run checks the suite)."""
    from automl_bench.paths import suites_dir
    from automl_bench.yamlio import read_yaml

    p = Path(suite)
    path = p if p.suffix in (".yaml", ".yml") or p.exists() else suites_dir() / f"{suite}.yaml"
    try:  # bounded: a huge or endless file is refused by the run's own checks, not parsed here
        cores = read_yaml(path)["constraint"].get("cores", 1)
    except Exception:
        return None
    return cores if isinstance(cores, int) and cores >= 1 else None


def _run_adapters(suite: str, frameworks: list[str] | None) -> list[str]:
    """The adapters (``module:Class``) of a run whose inputs were checked."""
    from automl_bench.planning import registry
    from automl_bench.planning.suite import load_suite

    names = frameworks or load_suite(suite)[0].frameworks  # parsed once: cached
    return sorted({registry.get(n).adapter for n in names})


def report_after_run(run_dir: Path, args=None) -> int:
    try:
        from automl_bench.report import write_report
    except ImportError as e:
        err.print(Text(f"report not built ({e}): pip install -e '.[report]', then "
                       f"automl-bench report {run_dir}"))  # fmt: skip
        return 0
    try:
        from automl_bench.race.report_section import section as race_section

        written = write_report([run_dir], race_section=race_section,
                               metric=getattr(args, "metric", None),
                               tolerance=getattr(args, "tolerance", None))  # fmt: skip
    except Exception:
        err.print("building the report failed (the run's results are stored; rebuild with "
                  f"`automl-bench report {run_dir}`):\n" + traceback.format_exc(),
                  markup=False, highlight=False)  # fmt: skip
        return 1
    out.print(Text(f"report: {written.html}"))
    return 0

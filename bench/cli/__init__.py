"""Command line: ``automl-bench run|list|show|env|race`` (also ``python -m automl_bench``).

Exit codes: 0 success (failed jobs are results, not errors), 2 bad input (the message names
the file, field or value), 1 internal error.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from pathlib import Path

from rich.console import Console
from rich.text import Text

from automl_bench import timeline
from automl_bench.errors import BadInput


def _console(stderr: bool = False) -> Console:
    c = Console(stderr=stderr)
    # not a terminal (CI, pipes): print full tables instead of truncating at 80 columns
    return c if c.is_terminal else Console(stderr=stderr, width=160)


out = _console()
err = _console(stderr=True)


def _positive_int(text):
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1 (got {text})")
    return v


class DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show an option's default only when it has one the help text does not already state."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.default in (None, False) or "default" in text:
            return text
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    from automl_bench.execution.jobs import Limits

    d = Limits()
    p = argparse.ArgumentParser(
        prog="automl-bench",
        description="Benchmark AutoML systems on multi-class tasks under enforced budgets.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser(
        "run",
        help="plan and run a suite's jobs (framework x task x fold)",
        description=(
            "Plan jobs (framework x task x fold), run each in an isolated worker, score the "
            "saved predictions and store one row per job. Running the same command again "
            "resumes: only jobs without a stored row run."
        ),
        formatter_class=DefaultsFormatter,
    )
    r.add_argument("--suite", default="default", help="suite name (see `list suites`) or YAML path")
    r.add_argument("--frameworks", help="comma-separated framework variants (default: the suite's)")
    r.add_argument(
        "--budget", type=float, help="training budget per job in seconds (overrides the suite)"
    )
    r.add_argument("--budgets", metavar="S1,S2,...",
                   help="several training budgets in seconds, e.g. 30,60,120: every job runs at "
                        "each and the report draws budget curves (overrides the suite)")  # fmt: skip
    r.add_argument("--folds", type=_positive_int, help="run only the first N folds of each task")
    r.add_argument(
        "--seed", type=int, help="seed for fold assignment and backends (default: the suite's)"
    )
    r.add_argument("--out", type=Path, help="run directory (default: results/<suite name>)")
    r.add_argument(
        "--parallel",
        type=_positive_int,
        default=1,
        help="parallel job slots, packed by cores and memory (never more than the machine has)",
    )
    r.add_argument(
        "--rerun-failed", action="store_true", help="also rerun jobs whose stored status is not ok"
    )
    r.add_argument("--setup-grace", type=float, default=d.setup_s,
                   help="setup allowance: seconds at most for worker start, data load and a "
                        "backend's setup (H2O's JVM start, data upload), not charged to the "
                        "budget; setup past it comes out of the budget")  # fmt: skip
    r.add_argument("--grace-margin", type=float, default=d.margin,
                   help="extra fraction of the budget allowed before a job is killed as timeout")  # fmt: skip
    r.add_argument("--predict-grace", type=float, default=d.predict_s,
                   help="predict allowance: seconds at least allowed after the budget for "
                        "prediction; a large test set gets more (--predict-ratio)")
    r.add_argument("--predict-ratio", type=float, default=d.predict_ratio,
                   help="a job's predict allowance is at least this x budget x test rows / "
                        "training rows: predicting may cost per row up to this multiple of "
                        "what the search cost per training row (0: --predict-grace only)")  # fmt: skip
    r.add_argument("--kill-grace", type=float, default=d.kill_grace_s,
                   help="seconds between SIGTERM and SIGKILL of a job's process tree on timeout")  # fmt: skip
    r.add_argument("--oversubscribe", action="store_true",
                   help="run --parallel slots even when their cores/memory exceed the machine's")  # fmt: skip
    r.add_argument("--retries", type=int, default=d.retries,
                   help="retries of infrastructure failures (worker could not start, killed by "
                        "the OS); framework errors are results, rerun with --rerun-failed")  # fmt: skip
    r.add_argument("--exclusive", action="store_true",
                   help="before each job, wait until other processes use less than 10%% of the "
                        "machine's CPUs (timings comparable to a quiet machine)")  # fmt: skip
    r.add_argument("--exclusive-wait", type=float, default=600.0, metavar="SECONDS",
                   help="with --exclusive: longest wait per job before it runs anyway")  # fmt: skip
    r.add_argument("--cold-start", action="store_true",
                   help="start each worker as a fresh interpreter instead of forking a warm one")  # fmt: skip
    r.add_argument("--no-inference", action="store_true",
                   help="skip the deployability measurement after fit (latency of 1 and 1,000 "
                        "rows, memory, model size on disk)")  # fmt: skip
    r.add_argument("--infer-allowance", type=float, default=d.infer_s,
                   help="seconds a job may spend on the deployability measurement, on top of "
                        "its budget and grace")  # fmt: skip
    _data_options(r)
    r.add_argument("--no-report", action="store_true",
                   help="do not build the comparison report (RUN_DIR/report) at the end")  # fmt: skip
    r.add_argument("--wait-report", action="store_true",
                   help="build the report before exiting (exit code 1 if that fails) instead "
                        "of in the background once the results are stored")  # fmt: skip
    r.add_argument("--executor", choices=["local", "dask"], default=None,
                   help="where jobs run: local slots, or a Dask cluster (default: local; "
                        "dask when --scheduler is given)")  # fmt: skip
    r.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler address (tcp://host:8786) or scheduler file; with "
                        "--executor dask and no address a LocalCluster of --parallel slots is "
                        "started")  # fmt: skip
    r.add_argument("--mlflow", nargs="?", const="", default=None, metavar="TRACKING_URI",
                   help="log every job as an MLflow run; without a URI the store is SQLite "
                        "inside the run directory")  # fmt: skip
    r.add_argument("--race", action="store_true",
                   help="race: run fold 0 of every task first, then fold 1, ...; after each "
                        "round drop the frameworks significantly worse than the leader (their "
                        "remaining jobs are stored as raced_out and never run); the race ends "
                        "when one framework is left")  # fmt: skip
    _race_rule_options(r)

    ra = sub.add_parser(
        "race",
        help="replay the racing rule on a finished run: when each framework would have been "
             "dropped and the compute the race would have used",
        description=("Replay the racing rule of `run --race` on a finished run's results, "
                     "without running anything, and compare its verdict with the full run's."),
    )  # fmt: skip
    ra.add_argument("--replay", type=Path, required=True, metavar="RUN_DIR",
                    help="run directory to replay (it is only read)")  # fmt: skip
    _race_rule_options(ra, "default: the run's own race rule if it was raced, else ")

    rp = sub.add_parser(
        "report",
        help="build the comparison report (HTML, Markdown, CSV) from one or several runs",
        description=(
            "Write index.html (self-contained), report.md and tables/*.csv comparing the "
            "frameworks in the given run directories, and print the leaderboard."
        ),
    )
    rp.add_argument("run_dirs", type=Path, nargs="+", metavar="RUN_DIR")
    rp.add_argument("--out", type=Path,
                    help="output directory (default: RUN_DIR/report for one run, "
                    "reports/<names> for several)")  # fmt: skip
    rp.add_argument("--prices", type=Path,
                    help="price table YAML (default: $AUTOML_BENCH_PRICES or the shipped one)")  # fmt: skip
    rp.add_argument("--impute-missing", action="store_true",
                    help="also compare on tasks some framework never ran, giving it the constant "
                         "predictor's result there (default: compare on the tasks every "
                         "framework ran and list the rest)")  # fmt: skip

    e = sub.add_parser(
        "estimate",
        help="before running: jobs, CPU-hours, dollars and expected wall time",
        formatter_class=DefaultsFormatter,
    )
    e.add_argument("--suite", default="default", help="suite name or YAML path")
    e.add_argument("--frameworks", help="comma-separated framework variants (default: the suite's)")
    e.add_argument("--budget", type=float, help="training budget per job in seconds")
    e.add_argument("--budgets", metavar="S1,S2,...", help="several budgets, as for run")
    e.add_argument("--folds", type=_positive_int, help="only the first N folds of each task")
    e.add_argument("--parallel", type=_positive_int, default=1, help="parallel job slots")
    e.add_argument("--prices", type=Path, help="price table YAML")
    e.add_argument("--calibrate", type=Path, nargs="+", metavar="RUN_DIR",
                   help="refit the timing model from runs measured on this machine")  # fmt: skip
    e.add_argument("--setup-grace", type=float, default=d.setup_s, help="as for run")
    e.add_argument("--grace-margin", type=float, default=d.margin, help="as for run")
    e.add_argument("--predict-grace", type=float, default=d.predict_s, help="as for run")
    e.add_argument("--predict-ratio", type=float, default=d.predict_ratio, help="as for run")
    _data_options(e)

    ls = sub.add_parser(
        "list",
        help="list frameworks or suites and whether they can run here, or a suite's task profiles",
    )
    ls.add_argument("what", nargs="?", choices=["frameworks", "suites", "tasks"],
                    help="what to list (default: frameworks and suites)")  # fmt: skip
    ls.add_argument("--suite", default="default", help="for `list tasks`: suite name or YAML path")
    _data_options(ls)

    s = sub.add_parser("show", help="print a run's leaderboard and its task profiles")
    s.add_argument("run_dir", type=Path)

    ev = sub.add_parser(
        "env",
        help="per-adapter virtual environments (backends whose pins clash with the main install)",
    )
    esub = ev.add_subparsers(dest="env_command", required=True)
    ec = esub.add_parser(
        "create",
        help="build (or with --force rebuild) an adapter's environment",
        formatter_class=DefaultsFormatter,
    )
    ec.add_argument("name", help="environment name (see `env list`)")
    ec.add_argument("--force", action="store_true", help="rebuild even if it exists")
    ec.add_argument("--python", help="base interpreter for the venv (default: this one)")
    esub.add_parser("list", help="list the environments and whether they are ready")
    return p


def _data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--openml-cache",
        type=Path,
        default=os.environ.get("AUTOML_BENCH_OPENML_CACHE") or None,
        help="OpenML cache directory to read tasks from (never modified destructively; "
        "env AUTOML_BENCH_OPENML_CACHE; default: openml's configured cache)",
    )
    p.add_argument(
        "--openml-server",
        default=os.environ.get("AUTOML_BENCH_OPENML_SERVER") or None,
        help="OpenML server for tasks that name none: www, test or an API URL "
        "(env AUTOML_BENCH_OPENML_SERVER; default: openml's configured server)",
    )
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=os.environ.get("AUTOML_BENCH_CACHE") or None,
        help="cross-run columnar task cache (env AUTOML_BENCH_CACHE; "
        "default ~/.cache/automl-bench)",
    )


def _budgets(text):
    from automl_bench.planning.budgets import parse

    return None if text is None else parse(text)


def _split(text):
    return [f.strip() for f in text.split(",") if f.strip()] if text else None


def _race_rule_options(p, prefix: str = "default: ") -> None:
    from automl_bench.race import rule as race

    p.add_argument("--race-alpha", type=float, default=None,
                   help=f"significance level of each race decision ({prefix}{race.ALPHA})")  # fmt: skip
    p.add_argument("--race-min-blocks", type=int, default=None,
                   help=f"task x fold blocks needed before the race drops anything "
                        f"({prefix}{race.MIN_BLOCKS})")  # fmt: skip
    p.add_argument("--race-run-winner", action="store_const", const=True, default=None,
                   help="when one framework is left, run its remaining folds too (for its "
                        "score on every fold; the race's verdict does not change); by default "
                        "the race ends there")  # fmt: skip


def _race_rule(args, default):
    from automl_bench.race import rule as race

    if args.race_alpha is None and args.race_min_blocks is None and args.race_run_winner is None:
        return default
    try:
        return race.check_rule(race.ALPHA if args.race_alpha is None else args.race_alpha,
                               race.MIN_BLOCKS if args.race_min_blocks is None
                               else args.race_min_blocks, bool(args.race_run_winner))  # fmt: skip
    except ValueError as e:
        raise BadInput(str(e)) from None


def cmd_race(args) -> int:
    from automl_bench.race.replay import render, replay

    rp = replay(args.replay, _race_rule(args, None))
    for line in render(rp):
        out.print(Text(line), highlight=False)
    return 0


def cmd_run(args) -> int:
    from types import SimpleNamespace

    from automl_bench.execution.jobs import Limits
    from automl_bench.execution.launcher_prestart import close_prestarted, prestart_launcher
    from automl_bench.run.precheck import check_run_inputs

    if not args.race and (args.race_alpha is not None or args.race_min_blocks is not None
                          or args.race_run_winner is not None):  # fmt: skip
        raise BadInput("--race-alpha, --race-min-blocks and --race-run-winner set the racing "
                       "rule: give --race too")
    fields = dict(
        suite=args.suite,
        frameworks=_split(args.frameworks),
        budget=args.budget,
        budgets=_budgets(args.budgets),
        folds=args.folds,
        seed=args.seed,
        out=args.out,
        parallel=args.parallel,
        rerun_failed=args.rerun_failed,
        oversubscribe=args.oversubscribe,
        limits=Limits(
            setup_s=args.setup_grace,
            margin=args.grace_margin,
            predict_s=args.predict_grace,
            predict_ratio=args.predict_ratio,
            kill_grace_s=args.kill_grace,
            retries=args.retries,
            warm=not args.cold_start,
            infer_s=args.infer_allowance,
        ),  # fmt: skip
        inference=not args.no_inference,
        openml_cache=args.openml_cache,
        openml_server=args.openml_server,
        cache_dir=args.cache_dir,
        executor=args.executor or ("dask" if args.scheduler else "local"),
        scheduler=args.scheduler,
        mlflow=args.mlflow is not None,
        mlflow_uri=args.mlflow or None,
        exclusive=args.exclusive,
        exclusive_wait=args.exclusive_wait,
        race=args.race,
        race_rule=_race_rule(args, None),
    )
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
    from automl_bench.report.leaderboard import leaderboard, render
    from automl_bench.run.progress import Reporter
    from automl_bench.run.runner import RunOptions, execute, prepare

    opts = RunOptions(**fields)
    prep = prepare(opts)  # all input checks happen here, before anything is written
    timeline.mark("loaded")
    reporter = Reporter(err)
    try:
        summary = execute(prep, opts, reporter)
    finally:
        reporter.close()
    timeline.mark("stored")
    # the store and results.csv are final here: the report is built from them
    out.print(render(leaderboard([summary.run_dir])[0], f"Leaderboard: {prep.suite.name}"))
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.statuses.items()))
    out.print(f"executed {summary.executed} of {summary.planned} jobs ({counts})")
    out.print(Text(f"results: {summary.run_dir / 'results.csv'}"))
    out.print(Text(f"run directory: {summary.run_dir}"))
    if args.no_report:
        return 0
    if not args.wait_report:
        from automl_bench.report.background import missing_report_packages, start_report

        if missing_report_packages():
            return _report_after_run(summary.run_dir)  # says what to install
        html, log = start_report(summary.run_dir)
        out.print(f"report: {html} (being built in the background, ready in a few seconds; "
                  f"its log: {log})", highlight=False)  # fmt: skip
        return 0
    return _report_after_run(summary.run_dir)


def _peek_cores(suite: str) -> int | None:
    """A suite's cores per job, read without validating it (the run checks the suite)."""
    import yaml

    from automl_bench.paths import suites_dir

    p = Path(suite)
    path = p if p.suffix in (".yaml", ".yml") or p.exists() else suites_dir() / f"{suite}.yaml"
    try:
        cores = yaml.safe_load(path.read_text())["constraint"].get("cores", 1)
    except Exception:
        return None
    return cores if isinstance(cores, int) and cores >= 1 else None


def _run_adapters(suite: str, frameworks: list[str] | None) -> list[str]:
    """The adapters (``module:Class``) of a run whose inputs were checked."""
    from automl_bench.planning import registry
    from automl_bench.planning.suite import load_suite

    names = frameworks or load_suite(suite)[0].frameworks  # parsed once: cached
    return sorted({registry.get(n).adapter for n in names})


def _report_after_run(run_dir: Path) -> int:
    try:
        from automl_bench.report import write_report
    except ImportError as e:
        err.print(Text(f"report not built ({e}): pip install -e '.[report]', then "
                       f"automl-bench report {run_dir}"))  # fmt: skip
        return 0
    try:
        from automl_bench.race.report_section import section as race_section

        written = write_report([run_dir], race_section=race_section)
    except Exception:
        err.print("building the report failed (the run's results are stored; rebuild with "
                  f"`automl-bench report {run_dir}`):\n" + traceback.format_exc(),
                  markup=False, highlight=False)  # fmt: skip
        return 1
    out.print(Text(f"report: {written.html}"))
    return 0


def cmd_report(args) -> int:
    from automl_bench.race.report_section import section as race_section
    from automl_bench.report import write_report
    from automl_bench.report.console import render

    written = write_report(args.run_dirs, args.out, args.prices,
                           impute_missing=args.impute_missing, race_section=race_section)  # fmt: skip
    out.print(render(written.report))
    out.print(Text(f"report: {written.html}"))
    out.print(Text(f"markdown: {written.markdown}"))
    out.print(Text(f"tables: {written.out_dir / 'tables'}"))
    return 0


def cmd_estimate(args) -> int:
    from automl_bench.execution.jobs import Limits
    from automl_bench.results.cost import load_prices
    from automl_bench.run.estimate import estimate, render
    from automl_bench.run.runner import RunOptions

    opts = RunOptions(
        suite=args.suite,
        frameworks=_split(args.frameworks),
        budget=args.budget,
        budgets=_budgets(args.budgets),
        folds=args.folds,
        parallel=args.parallel,
        limits=Limits(setup_s=args.setup_grace, margin=args.grace_margin,
                      predict_s=args.predict_grace, predict_ratio=args.predict_ratio),
        openml_cache=args.openml_cache,
        openml_server=args.openml_server,
        cache_dir=args.cache_dir,
        check_run_dir=False,  # estimating writes nothing
    )
    est = estimate(opts, load_prices(args.prices), calibrate_from=args.calibrate)
    for line in render(est):
        out.print(line)
    return 0


def cmd_list(args) -> int:
    from rich.table import Table

    if args.what is None:  # everything that needs no suite
        for what in ("frameworks", "suites"):
            cmd_list(argparse.Namespace(**{**vars(args), "what": what}))
        return 0
    if args.what == "frameworks":
        from automl_bench.planning import registry

        t = Table(title="Frameworks")
        for c in ("name", "adapter", "status", "description"):
            t.add_column(c)
        for name, v in sorted(registry.variants().items()):
            ok, reason = v.status()
            t.add_row(name, v.adapter, Text("installed", "green") if ok else Text(reason, "red"),
                      Text(v.description))  # fmt: skip
        out.print(t)
        from automl_bench.planning.capabilities import table as capability_table

        out.print(capability_table(registry.variants()))
    elif args.what == "tasks":
        from automl_bench.data.profile import table
        from automl_bench.planning.suite import load_suite
        from automl_bench.run.runner import load_tasks, source_context

        suite, path = load_suite(args.suite)
        ctx = source_context(_data_opts(args), path)
        loaded, unavailable = load_tasks(suite, path, ctx)
        profiles = {t.name: t.profile for t in loaded}
        profiles.update({u.name: f"unavailable: {u.reason}" for u in unavailable})
        out.print(table(profiles, Text(f"Tasks of suite {suite.name} ({path})")))
    else:
        from automl_bench.planning.suite import list_suites, load_suite

        t = Table(title="Suites")
        for c in ("name", "tasks", "folds", "constraint", "frameworks", "path"):
            t.add_column(c)
        for name, path in list_suites():
            try:
                s, _ = load_suite(str(path))
                n = str(len(s.tasks)) + (f" + openml/s/{s.openml_suite}" if s.openml_suite else "")
                t.add_row(name, n, str(s.folds), s.constraint.name,
                          ",".join(s.frameworks), Text(str(path)))  # fmt: skip
            except BadInput as e:
                t.add_row(name, "-", "-", "-", Text(f"invalid: {e}", "red"), Text(str(path)))
        out.print(t)
    return 0


def cmd_show(args) -> int:
    from automl_bench.report.leaderboard import leaderboard, render
    from automl_bench.results.rundir import check_store
    from automl_bench.results.store import Store

    db = args.run_dir / "results.sqlite"
    check_store(args.run_dir, expect_results=True)  # a damaged store is named, exit 2
    if not db.exists():
        raise BadInput(f"{args.run_dir}: not a run directory (no results.sqlite)")
    with Store(db) as store:
        df = store.frame()
    out.print(render(leaderboard([args.run_dir])[0], f"Leaderboard: {args.run_dir}"))
    _show_starved(df)
    counts = df["status"].value_counts().to_dict() if not df.empty else {}
    out.print(f"{len(df)} jobs: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    profiles = _run_profiles(args.run_dir)
    if profiles:
        from automl_bench.data.profile import table

        out.print(table(profiles))
    return 0


def _show_starved(df) -> None:
    """Jobs whose backend could search for less than half its budget, with that flag."""
    from automl_bench.results import starvation

    table = starvation.render(df)
    if table is not None:
        out.print(table)


def _run_profiles(run_dir: Path) -> dict:
    import json

    profiles = {}
    for p in sorted((run_dir / "tasks").glob("*/profile.json")):
        try:
            profiles[p.parent.name] = json.loads(p.read_text())
        except (OSError, ValueError):
            profiles[p.parent.name] = f"unreadable profile {p}"
    return profiles


def _data_opts(args):
    from automl_bench.run.runner import RunOptions

    return RunOptions(openml_cache=args.openml_cache, openml_server=args.openml_server,
                      cache_dir=args.cache_dir)  # fmt: skip


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (tests and wrappers replace it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def _setup_logging() -> None:
    """Warnings and notes from the harness (e.g. validation fixes) go to stderr."""
    logger = logging.getLogger("automl_bench")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        h = _StderrHandler()
        h.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        logger.addHandler(h)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def cmd_env(args) -> int:
    from automl_bench.planning import backend_envs as envs

    if args.env_command == "list":
        from rich.table import Table

        t = Table(title=f"Environments in {envs.envs_dir()}")
        for c in ("name", "status", "versions", "description"):
            t.add_column(c)
        for row in envs.listing():
            ok = row["status"] == "ready"
            versions = ", ".join(f"{k} {v}" for k, v in row["versions"].items() if v)
            t.add_row(row["name"], Text("ready", "green") if ok else Text(row["status"], "red"),
                      Text(versions), Text(row["description"]))  # fmt: skip
        out.print(t)
        return 0
    envs.spec(args.name)  # unknown name: BadInput before anything is written
    err.print(Text(f"creating environment {args.name} in {envs.env_path(args.name)} (pip "
                   f"output: {envs.envs_dir() / (args.name + '.log')})"), highlight=False)  # fmt: skip
    try:
        info = envs.create(args.name, python=args.python, force=args.force, log_to=sys.stderr)
    except envs.EnvError as e:
        err.print(Text("error: ", "red") + Text(str(e)), highlight=False)
        return 1
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items() if v)
    out.print(Text(f"environment {args.name} ready: {info['python']} ({versions})"),
              highlight=False)  # fmt: skip
    return 0


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging()
    try:
        commands = {"run": cmd_run, "list": cmd_list, "show": cmd_show, "report": cmd_report,
                    "estimate": cmd_estimate, "env": cmd_env, "race": cmd_race}  # fmt: skip
        return commands[args.command](args)
    except BadInput as e:
        err.print(Text("error: ", "red") + Text(str(e)), highlight=False)
        return 2
    except KeyboardInterrupt:
        err.print("interrupted; finished jobs are stored, rerun the same command to resume")
        return 130
    except Exception:
        err.print("internal error:\n" + traceback.format_exc(), markup=False, highlight=False)
        return 1


def entry() -> None:
    """The console script and ``python -m automl_bench``: :func:`main`, then exit without tearing
    down numpy, pandas, scikit-learn and pyarrow one object at a time, which takes longer
    than a short command itself. Exit handlers still run and output is flushed; with a
    thread still running the normal exit waits for it."""
    import atexit
    import threading

    code = main()
    timeline.mark("exit")
    if threading.active_count() > 1:
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":
    entry()

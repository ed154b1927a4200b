"""The command line's grammar: one argparse sub-parser per command, and the option groups
several commands share (what a run plans and its limits, the data sources, the race rule).
What each command does is in :mod:`automl_bench.cli.commands` and
:mod:`automl_bench.cli.run_command`."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


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
    _run_parser(sub, d)
    _race_parser(sub)
    _report_parser(sub)
    _estimate_parser(sub, d)
    _list_parser(sub)
    sub.add_parser("show", help="print a run's leaderboard and its task profiles").add_argument(
        "run_dir", type=Path)  # fmt: skip
    sub.add_parser("cleanup", help="stop and delete what a run's cloud jobs left running in "
                   "your account (jobs killed, timed out or interrupted), one line per "
                   "resource").add_argument("run_dir", type=Path)  # fmt: skip
    _env_parser(sub)
    ca = sub.add_parser("check-adapter", formatter_class=DefaultsFormatter,
                        help="check a framework's adapter against the adapter contract on real "
                        "data: one row per check, pass or fail and why (exit 1 when one fails)")
    ca.add_argument("name", help="framework (see `list frameworks`), e.g. lightgbm, flaml:2.3.6")
    ca.add_argument("--budget", type=float, default=2.0,
                    help="training budget of each fit, seconds (the time limit check also "
                    "uses twice this)")  # fmt: skip
    return p


def _plan_options(p: argparse.ArgumentParser, d) -> None:
    """What a run plans and the limits of its jobs: `run` and `estimate` take the same."""
    p.add_argument("--suite", default="hd-real",
                   help="suite name (see `list suites`) or YAML path (default: hd-real, real "
                        "high-dimensional multi-class data shipped with automl-bench, offline)")  # fmt: skip
    p.add_argument("--frameworks", help="comma-separated framework variants (default: the suite's)")
    p.add_argument(
        "--budget", type=float, help="training budget per job in seconds (overrides the suite)"
    )
    p.add_argument("--budgets", metavar="S1,S2,...",
                   help="several training budgets in seconds, e.g. 30,60,120: every job runs at "
                        "each and the report draws budget curves (overrides the suite)")  # fmt: skip
    p.add_argument("--folds", type=_positive_int, help="run only the first N folds of each task")
    p.add_argument("--parallel", type=_positive_int, default=1,
                   help="parallel job slots, packed by cores and memory (never more than the "
                        "machine has)")  # fmt: skip
    p.add_argument("--setup-grace", type=float, default=d.setup_s,
                   help="setup allowance: seconds at most for worker start, data load and a "
                        "backend's setup (H2O's JVM start, data upload), not charged to the "
                        "budget; setup past it comes out of the budget")  # fmt: skip
    p.add_argument("--grace-margin", type=float, default=d.margin,
                   help="extra fraction of the budget allowed before a job is killed as timeout")  # fmt: skip
    p.add_argument("--predict-grace", type=float, default=d.predict_s,
                   help="predict allowance: seconds at least allowed after the budget for "
                        "prediction; a large test set gets more (--predict-ratio)")
    p.add_argument("--predict-ratio", type=float, default=d.predict_ratio,
                   help="a job's predict allowance is at least this x budget x test rows / "
                        "training rows: predicting may cost per row up to this multiple of "
                        "what the search cost per training row (0: --predict-grace only)")  # fmt: skip
    _data_options(p)


def _run_parser(sub, d) -> None:
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
    _plan_options(r, d)
    r.add_argument(
        "--seed", type=int, help="seed for fold assignment and backends (default: the suite's)"
    )
    r.add_argument("--out", type=Path, help="run directory (default: results/<suite name>)")
    r.add_argument(
        "--rerun-failed", action="store_true", help="also rerun jobs whose stored status is not ok"
    )
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
    r.add_argument("--no-report", action="store_true",
                   help="do not build the comparison report (RUN_DIR/report) at the end")  # fmt: skip
    r.add_argument("--wait-report", action="store_true",
                   help="build the report before exiting (exit code 1 if that fails) instead "
                        "of in the background once the results are stored")  # fmt: skip
    _decision_options(r)
    _where_options(r)
    r.add_argument("--race", action="store_true",
                   help="race: run fold 0 of every task first, then fold 1, ...; after each "
                        "round drop the frameworks significantly worse than the leader (their "
                        "remaining jobs are stored as raced_out and never run); the race ends "
                        "when one framework is left")  # fmt: skip
    _race_rule_options(r)


def _where_options(r) -> None:
    """Where a run's jobs execute and where they are tracked."""
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


def _race_parser(sub) -> None:
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


def _report_parser(sub) -> None:
    rp = sub.add_parser(
        "report",
        help="build the comparison report (HTML, Markdown, CSV) from one or several runs",
        description=(
            "Write index.html (self-contained), report.md and tables/*.csv comparing the "
            "frameworks in the given run directories, and print the leaderboard. With "
            "--reference, published results (e.g. AMLB's) stand beside the run on the tasks "
            "they share, labelled with their source and constraint, and are never ranked with it."
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
    rp.add_argument("--reference", action="append", default=[],
                    metavar="FILE[:SOURCE[,CONSTRAINT]]",
                    help="published results to show beside the run, never ranked with it "
                         "(repeatable): a results CSV in AMLB's format (AMLB's results.csv, its "
                         "2019 all_results.csv or 2023 amlb_2023Q2.csv, or a run's results.csv). "
                         "Tasks match by OpenML task id, else by name. SOURCE labels it (default: "
                         "the file's folder and name); its constraint comes from the file's "
                         "constraint column, else from CONSTRAINT, else from the file's path "
                         "(tables/1h/...: 1h). With a constraint column, CONSTRAINT selects its "
                         "rows. E.g. --reference 'all_results.csv:AMLB 2019,1h8c' "
                         "--reference 'amlb_2023Q2.csv:AMLB 2023,1h8c_gp3'")  # fmt: skip
    _decision_options(rp)


def _decision_options(p) -> None:
    """The report's decision metric and tie tolerance: `report` and `run` (for its report)."""
    from automl_bench.report.metric import CHOICES

    p.add_argument("--metric", choices=CHOICES, default=None,
                   help="the decision metric that ranks, normalises and decides (default: "
                        "logloss when every task is multi-class, as AMLB)")  # fmt: skip
    p.add_argument("--tolerance", type=float, default=None, metavar="SCORE",
                   help="in the summary, a system whose normalised score is within SCORE of "
                        "the best counts as good as it (default: not significantly worse by "
                        "the Nemenyi test)")  # fmt: skip


def _estimate_parser(sub, d) -> None:
    e = sub.add_parser(
        "estimate",
        help="before running: jobs, CPU-hours, dollars and expected wall time",
        formatter_class=DefaultsFormatter,
    )
    _plan_options(e, d)
    e.add_argument("--prices", type=Path, help="price table YAML")
    e.add_argument("--calibrate", type=Path, nargs="+", metavar="RUN_DIR",
                   help="refit the timing model from runs measured on this machine")  # fmt: skip


def _list_parser(sub) -> None:
    ls = sub.add_parser(
        "list",
        help="list frameworks or suites and whether they can run here, or a suite's task profiles",
    )
    ls.add_argument("what", nargs="?", choices=["frameworks", "suites", "tasks"],
                    help="what to list (default: frameworks and suites)")  # fmt: skip
    ls.add_argument("--suite", default="default", help="for `list tasks`: suite name or YAML path")
    _data_options(ls)


def _env_parser(sub) -> None:
    ev = sub.add_parser(
        "env",
        help="the environments of backends that do not run in this one (their own "
        "requirements, or a pinned version such as flaml:2.3.6)",
    )
    esub = ev.add_subparsers(dest="env_command", required=True)
    ec = esub.add_parser(
        "create",
        help="build (or with --force rebuild) a framework's environment",
        formatter_class=DefaultsFormatter,
    )
    ec.add_argument("name", help="framework (e.g. autogluon, flaml:2.3.6; see `env list`)")
    ec.add_argument("--force", action="store_true", help="rebuild even if it exists")
    ec.add_argument("--python", help="base interpreter for the venv (default: this one)")
    el = esub.add_parser("list", help="list the environments and whether they are ready")
    el.add_argument("--names", action="store_true",
                    help="print only the names of the frameworks that have one, one a line")
    er = esub.add_parser("remove", help="delete an environment")
    er.add_argument("name", help="framework (e.g. flaml:2.3.6) or environment name")


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

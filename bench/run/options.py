"""What a run is given: :class:`RunOptions`, built by the command line (``run`` and
``estimate`` alike) and read by every step of the run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from automl_bench.execution.jobs import Limits


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

"""The checks of a run's input that need no data library, done before numpy, pandas and
scikit-learn are imported, so that a wrong suite, framework, option or price file is
reported in a fraction of a second. :func:`automl_bench.run.prepare.prepare` runs the full checks
(task data included) afterwards; everything here is a subset of them.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from automl_bench.errors import BadInput


def check_optional(executor: str, scheduler: str | None, mlflow: bool) -> None:
    """Options that need an optional extra: say how to install it before anything runs."""
    if executor not in ("local", "dask"):
        raise BadInput(f"--executor must be local or dask (got {executor!r})")
    if scheduler and executor != "dask":
        raise BadInput("--scheduler needs --executor dask")
    if executor == "dask" and importlib.util.find_spec("distributed") is None:
        raise BadInput("--executor dask needs Dask distributed: pip install 'automl-bench[dask]'")
    if mlflow and importlib.util.find_spec("mlflow") is None:
        raise BadInput("--mlflow needs MLflow: pip install 'automl-bench[mlflow]'")


def check_run_dir(run_dir: Path) -> None:
    """The run directory must be (or be creatable as) a writable directory."""
    from automl_bench.results.rundir import check_writable_target

    check_writable_target(run_dir)


def check_run_inputs(opts) -> int:
    """Check what can be checked cheaply in ``opts`` (anything with the fields of
    :class:`automl_bench.run.options.RunOptions`); return the cores one job of the run asks for."""
    from automl_bench.paths import results_dir
    from automl_bench.planning import registry
    from automl_bench.planning.options import check_run_options
    from automl_bench.planning.suite import check_unique_frameworks, load_suite
    from automl_bench.results.cost import load_prices

    check_optional(opts.executor, opts.scheduler, opts.mlflow)
    suite, _ = load_suite(opts.suite)
    check_unique_frameworks(opts.frameworks or [])
    for name in opts.frameworks or suite.frameworks:
        registry.get(name)
    check_run_options(opts)  # the same numeric checks prepare() makes, before anything loads
    check_run_dir(Path(opts.out) if opts.out else results_dir() / suite.name)
    load_prices()  # a bad $AUTOML_BENCH_PRICES file fails here, before anything is written
    return suite.constraint.cores

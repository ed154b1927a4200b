"""Numeric command-line options checked before anything is written: finite and in range.

A value such as ``nan`` or ``inf`` would switch enforcement off (``nan`` compares false with
every deadline), a negative grace would time out every job: each is refused, naming the
option and the value, with exit code 2.
"""

from __future__ import annotations

import math

from automl_bench.errors import BadInput

MAX_SEED = 2**32 - 1  # numpy's and most backends' seed range
MAX_BUDGET_S = 7 * 24 * 3600.0


def number(option: str, value, lo: float | None = None, hi: float | None = None,
           lo_open: bool = False) -> None:  # fmt: skip
    """BadInput unless ``value`` is a finite number within [lo, hi] (``lo_open``: > lo)."""
    if value is None:
        return
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        raise BadInput(f"{option} must be a number (got {str(value)[:50]!r})") from None
    if not math.isfinite(v):
        raise BadInput(f"{option} must be a finite number (got {value})")
    if lo is not None and (v <= lo if lo_open else v < lo):
        raise BadInput(f"{option} must be {'>' if lo_open else '>='} {lo:g} (got {value})")
    if hi is not None and v > hi:
        raise BadInput(f"{option} must be <= {hi:g} (got {value})")


def check_limits(limits) -> None:
    number("--setup-grace", limits.setup_s, 0, 3600)
    number("--grace-margin", limits.margin, 0, 10)
    number("--predict-grace", limits.predict_s, 0, 3600)
    number("--predict-ratio", limits.predict_ratio, 0, 100)
    number("--kill-grace", limits.kill_grace_s, 0, 600)
    number("--retries", limits.retries, 0, 10)


def check_run_options(opts) -> None:
    """The numeric options of ``run`` / ``estimate`` (a automl_bench.run.runner.RunOptions)."""
    number("--budget", opts.budget, 0, MAX_BUDGET_S, lo_open=True)
    several = getattr(opts, "budgets", None)
    if several is not None:
        from automl_bench.planning.budgets import check_option

        if opts.budget is not None:
            raise BadInput("give --budget (one budget) or --budgets (several), not both")
        check_option(several, "--budgets")
    number("--folds", opts.folds, 1, 100)
    number("--seed", opts.seed, 0, MAX_SEED)
    number("--parallel", opts.parallel, 1, 1024)
    check_limits(opts.limits)
    wait = getattr(opts, "exclusive_wait", None)
    number("--exclusive-wait", wait, 0, MAX_BUDGET_S)

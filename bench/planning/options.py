"""Numeric options checked before anything is written: one table, :data:`OPTIONS`, gives every
numeric option of ``run``, ``estimate`` and ``race`` its range, and every check reads it.

A value such as ``nan`` or ``inf`` would switch enforcement off (``nan`` compares false with
every deadline, an infinite allowance makes a job's hard limit infinite), a negative grace
would time out every job, a budget of a nanosecond would store a result at 500,000 times its
budget: each is refused, naming the option, the value and the range, with exit code 2. An
option added to the command line gets its row here (a test checks that every numeric option
has one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from automl_bench.errors import BadInput
from automl_bench.planning.budgets import MAX_BUDGET_S, MIN_BUDGET_S, check_option

MAX_SEED = 2**32 - 1  # numpy's and most backends' seed range


@dataclass(frozen=True)
class Range:
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False  # the value must be > lo (else >= lo)
    hi_open: bool = False  # the value must be < hi (else <= hi)
    why: str = ""  # said with a refusal

    def problem(self, option: str, value) -> str | None:
        """What is wrong with ``value`` for ``option`` (None: nothing)."""
        try:
            v = float(value)
        except (TypeError, ValueError, OverflowError):
            return f"{option} must be a number (got {str(value)[:50]!r})"
        if not math.isfinite(v):
            return f"{option} must be a finite number (got {value})"
        if self.lo is not None and (v <= self.lo if self.lo_open else v < self.lo):
            bound = f"{'>' if self.lo_open else '>='} {self.lo:g}"
        elif self.hi is not None and (v >= self.hi if self.hi_open else v > self.hi):
            bound = f"{'<' if self.hi_open else '<='} {self.hi:g}"
        else:
            return None
        return f"{option} must be {bound} (got {value})" + (f": {self.why}" if self.why else "")


_BUDGET = Range(MIN_BUDGET_S, MAX_BUDGET_S,
                why="a job's own start-up and scoring take about a second, so a shorter "
                    "budget measures the harness, not the backend")  # fmt: skip

# option -> (where its value is on a run's options, its range)
OPTIONS: dict[str, tuple[str, Range]] = {
    "--budget": ("budget", _BUDGET),
    "--folds": ("folds", Range(1, 100)),
    "--seed": ("seed", Range(0, MAX_SEED)),
    "--parallel": ("parallel", Range(1, 1024)),
    "--exclusive-wait": ("exclusive_wait", Range(0, MAX_BUDGET_S)),
    "--setup-grace": ("limits.setup_s", Range(0, 3600)),
    "--grace-margin": ("limits.margin", Range(0, 10)),
    "--predict-grace": ("limits.predict_s", Range(0, 3600)),
    "--predict-ratio": ("limits.predict_ratio", Range(0, 100)),
    "--kill-grace": ("limits.kill_grace_s", Range(0, 600)),
    "--retries": ("limits.retries", Range(0, 10)),
    "--infer-allowance": ("limits.infer_s", Range(0, 3600, lo_open=True,
                                                  why="use --no-inference to skip the "
                                                      "measurement")),
    "--race-alpha": ("race_rule.alpha", Range(0, 1, lo_open=True, hi_open=True)),
    "--race-min-blocks": ("race_rule.min_blocks", Range(2, 100_000)),
    # the report's: a normalised-score gap within which a cheaper system counts as tied
    "--tolerance": ("tolerance", Range(0, 1)),
}


def problem(option: str, value) -> str | None:
    """What is wrong with ``value`` for ``option`` by :data:`OPTIONS` (None: nothing)."""
    return None if value is None else OPTIONS[option][1].problem(option, value)


def number(option: str, value) -> None:
    """BadInput unless ``value`` (None: not given) is within ``option``'s range."""
    said = problem(option, value)
    if said:
        raise BadInput(said)


def _value(opts, path: str):
    for name in path.split("."):
        opts = getattr(opts, name, None)
        if opts is None:
            return None
    return opts


def check_run_options(opts) -> None:
    """Every numeric option of ``run`` / ``estimate`` (a automl_bench.run.options.RunOptions)
    by :data:`OPTIONS`, and ``--budgets`` (each value as ``--budget``)."""
    several = getattr(opts, "budgets", None)
    if several is not None:
        if opts.budget is not None:
            raise BadInput("give --budget (one budget) or --budgets (several), not both")
        check_option(several, "--budgets")
    for option, (path, _) in OPTIONS.items():
        number(option, _value(opts, path))

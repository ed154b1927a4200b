"""Budgets as an axis: a suite's or the command line's list of budgets, checked once.

A suite gives one budget (``constraint.budget_s: 60``) or several (``constraint.budgets:
[30, 60, 120]``; a one-element list is the single budget). ``run --budgets 30,60,120``
overrides either. Every job is planned at each budget; the budget is part of the job id, so a
resumed run reruns nothing and a run extended with a new budget runs that budget's jobs only.

A run directory keeps the budgets it was made with: a later run into it may give the same
budgets or more (extending it), never fewer or others, which would leave results of a budget
the run no longer names (:func:`change`).
"""

from __future__ import annotations

import math

from automl_bench.errors import BadInput

MAX_BUDGETS = 50  # budgets per run: each multiplies the number of jobs
MIN_BUDGET_S = 1.0  # a job's start-up and scoring take about this long: less measures the harness
MAX_BUDGET_S = 7 * 24 * 3600.0


def shown(budgets) -> str:
    return ", ".join(f"{float(b):g}" for b in budgets)


def check(values, where: str = "budgets") -> list[float]:
    """The budgets sorted ascending; ValueError naming the value at fault unless each is a
    finite number from ``MIN_BUDGET_S`` to ``MAX_BUDGET_S``, and no value repeats."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValueError(f"{where} must be a list of seconds, e.g. [30, 60, 120] (got "
                         f"{str(values)[:50]!r})")  # fmt: skip
    out = []
    for v in values:
        if isinstance(v, bool):
            raise ValueError(f"{where}: {v!r} is not a number of seconds")
        try:
            b = float(v)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"{where}: {str(v)[:50]!r} is not a number of seconds") from None
        if not math.isfinite(b):
            raise ValueError(f"{where}: every budget must be a finite number (got {v})")
        if not b >= MIN_BUDGET_S:
            raise ValueError(f"{where}: every budget must be >= {MIN_BUDGET_S:g} second (got "
                             f"{v}): a job's own start-up and scoring take about a second, so a "
                             "shorter budget measures the harness, not the backend")  # fmt: skip
        if b > MAX_BUDGET_S:
            raise ValueError(f"{where}: every budget must be <= {MAX_BUDGET_S:g} seconds "
                             f"(got {v})")  # fmt: skip
        if b in out:
            raise ValueError(f"{where}: budget {b:g} is given twice")
        out.append(b)
    if not out:
        raise ValueError(f"{where}: give at least one budget")
    if len(out) > MAX_BUDGETS:
        raise ValueError(f"{where}: at most {MAX_BUDGETS} budgets (got {len(out)})")
    return sorted(out)


def parse(text: str, option: str = "--budgets") -> list[float]:
    """``"30,60,120"`` -> [30.0, 60.0, 120.0]; BadInput naming the option and the value."""
    items = [x.strip() for x in str(text).split(",")]
    if any(not x for x in items):
        raise BadInput(f"{option} must be comma-separated seconds such as 30,60,120 (got "
                       f"{str(text)[:80]!r})")  # fmt: skip
    return check_option(items, option)


def check_option(values, option: str) -> list[float]:
    """:func:`check` for a command-line value: BadInput (exit 2) naming the value at fault."""
    try:
        return check(values, option)
    except ValueError as e:
        raise BadInput(str(e)) from None


def of(constraint) -> list[float]:
    """A constraint's budgets, smallest first (one for a single-budget constraint)."""
    return list(constraint.budgets) if constraint.budgets else [float(constraint.budget_s)]


def override(constraint, budget: float | None = None, budgets=None):
    """The constraint with ``--budget`` or ``--budgets`` applied (neither: unchanged). The
    options were checked first (automl_bench.planning.options.check_run_options: not both, each value)."""
    if budget is not None:
        return constraint.model_copy(update={"budget_s": float(budget), "budgets": None})
    if budgets is not None:
        values = check_option(budgets, "--budgets")
        return constraint.model_copy(update={"budget_s": values[-1], "budgets": values})
    return constraint


def single(constraint, budget: float):
    """The constraint of one job: ``budget`` alone."""
    return constraint.model_copy(update={"budget_s": float(budget), "budgets": None})


def from_marker(constraint: dict) -> list[float]:
    """The budgets a run directory's marker records."""
    if constraint.get("budgets"):
        return sorted(float(b) for b in constraint["budgets"])
    return [float(constraint["budget_s"])] if "budget_s" in constraint else []


def change(old: list[float], new: list[float]) -> str | None:
    """What is wrong with running budgets ``new`` into a run that has ``old`` (None: nothing:
    the same budgets, or more)."""
    if not old or set(old) <= set(new):
        return None
    if len(old) == 1 and len(new) == 1:
        what = f"budget_s {old[0]:g} -> {new[0]:g}"
    else:
        what = f"budgets {shown(old)} -> {shown(new)}"
    both = sorted(set(old) | set(new))
    return (f"{what} (a run keeps its budgets and may add more: to extend it give "
            f"--budgets {','.join(f'{b:g}' for b in both)})")

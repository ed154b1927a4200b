"""When a job is stopped: one deadline per phase, each placed by the worker's phase marks.

The worker rewrites ``JOB_DIR/phases.json`` as each phase starts (monotonic seconds, the
clock the driver shares: ``setup``, ``fit``, ``predict``). From them:
- in setup (no ``fit`` mark yet): launch + the setup allowance + budget x (1 + margin); a
  setup that long leaves no budget to search;
- fitting: launch + setup (as used, at most the allowance) + budget x (1 + margin): a
  backend that overruns its fit is stopped there, and cannot spend the predict allowance
  searching;
- predicting: the start of prediction + the predict allowance;
- measuring the model (the worker wrote its outcome, ``measuring``): the predict deadline +
  the inference allowance.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from automl_bench.execution.jobs import Limits

MARKS_FILE = "phases.json"


@dataclass(frozen=True)
class Deadline:
    phase: str  # setup | fit | predict | inference (jobs.PHASES)
    at: float  # monotonic seconds


def read_marks(job_dir: Path) -> dict:
    """The worker's phase marks (empty until it wrote them, or if unreadable)."""
    try:
        marks = json.loads((Path(job_dir) / MARKS_FILE).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(marks, dict):
        return {}
    out = {}
    for phase in ("setup", "fit", "predict"):
        try:
            out[phase] = float(marks[phase])
        except (KeyError, TypeError, ValueError):
            continue
    return out


def setup_used(launched: float, marks: dict) -> float | None:
    """Seconds from launch to the start of fit, once the worker marked it."""
    return marks["fit"] - launched if "fit" in marks else None


def deadline(limits: Limits, budget_s: float, launched: float, marks: dict,
             infer_s: float = 0.0, measuring: bool = False) -> Deadline:  # fmt: skip
    """The deadline of the phase the job is in (see the module's docstring)."""
    if "predict" in marks:
        at = marks["predict"] + limits.predict_s
    elif measuring:  # an outcome without a predict mark (a worker of another version)
        at = launched + limits.fit_limit(budget_s, setup_used(launched, marks)) + limits.predict_s
    elif "fit" in marks:
        return Deadline("fit", launched + limits.fit_limit(budget_s, setup_used(launched, marks)))
    else:
        return Deadline("setup", launched + limits.fit_limit(budget_s))
    if measuring:
        return Deadline("inference", at + infer_s)
    return Deadline("predict", at)


def describe(d: Deadline, limits: Limits, budget_s: float, setup: float | None,
             infer_s: float = 0.0) -> str:  # fmt: skip
    """Why a job was stopped at ``d``, for its row's error message."""
    fit = (f"budget {budget_s:g}s x {1 + limits.margin:g} after setup "
           f"{limits.setup(setup):.1f}s")  # fmt: skip
    if d.phase == "setup":
        return f"still in setup at its allowance {limits.setup_s:g}s + {fit}"
    if d.phase == "fit":
        return f"still fitting at {fit}"
    if d.phase == "predict":
        return f"still predicting {limits.predict_s:g}s (its predict allowance) after it began"
    return (f"still measuring its model past the predict allowance {limits.predict_s:g}s + the "
            f"inference allowance {infer_s:g}s")  # fmt: skip

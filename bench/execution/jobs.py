"""The job types every executor shares: a job's limits (:class:`Limits`), its work
(:class:`WorkItem`) and what came of it (:class:`Outcome`).

Limits (recorded per row), each counted from the start of its own phase, read from the
worker's phase marks (``phases.json``, see :mod:`automl_bench.execution.phase_deadline`):
- setup: the time before the backend's search can start (worker start, data load, the
  adapter's setup step such as H2O's JVM start and frame upload) may take up to ``setup_s``;
  setup that runs past it is taken from the budget (the worker tells the adapter).
- fit: a job still fitting at ``launch + setup (at most setup_s) + budget x (1 + margin)``
  is stopped as ``timeout``. The margin covers backends that finish their last step a
  little late.
- predict: prediction gets its allowance from the moment it starts: at least
  ``predict_s``, and for a test set that is large next to its training set up to
  ``predict_ratio`` x budget x test rows / training rows (:meth:`Limits.predict_allowance`;
  the runner writes each job's into its spec.json).
- inference: a job that measures its model's deployability gets ``infer_s`` more once its
  outcome is written.
On breach the tree gets SIGTERM, and SIGKILL ``kill_grace_s`` later if anything is left.
The row records each part (``setup_allowance_s``, ``margin_s``, ``predict_allowance_s``),
``grace_s`` (their sum as applied: the most beyond the budget a job may take) and
``limit_phase``, the phase a limit stopped the job in.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

PHASES = ("setup", "fit", "predict", "inference")  # the values of Outcome.limit_phase


@dataclass(frozen=True)
class Limits:
    setup_s: float = 60.0
    margin: float = 0.10
    predict_s: float = 15.0
    predict_ratio: float = 2.0  # see predict_allowance
    poll_s: float = 0.05
    kill_grace_s: float = 1.0
    infer_s: float = 30.0  # deployability measurement after fit, added to the hard limit
    retries: int = 2
    warm: bool = True

    def grace(self, budget_s: float, setup_used: float | None = None) -> float:
        """Seconds beyond the budget a job may take at most: setup (as used, at most the
        allowance) + margin x budget + the predict allowance."""
        return self.setup(setup_used) + self.margin * budget_s + self.predict_s

    def setup(self, setup_used: float | None) -> float:
        """The setup seconds the limits count: as used, at most the allowance (the
        allowance itself until the real setup is known)."""
        return self.setup_s if setup_used is None else min(max(setup_used, 0.0), self.setup_s)

    def fit_limit(self, budget_s: float, setup_used: float | None = None) -> float:
        """Seconds after launch at which a job still fitting is stopped."""
        return self.setup(setup_used) + budget_s * (1 + self.margin)

    def predict_allowance(self, budget_s: float, train_rows: int, test_rows: int) -> float:
        """One job's predict allowance, known before it starts: at least ``predict_s``; up
        to ``predict_ratio`` x budget x test rows / training rows, i.e. predicting may cost
        per row up to ``predict_ratio`` times what searching cost per training row. An
        ensemble of thousands of trees scores 10,000 rows in 20-45 s on one core (AutoGluon
        on letter at 30 s), far past a fixed 15 s; the allowance grows with the budget as
        the ensemble does."""
        scaled = self.predict_ratio * budget_s * test_rows / max(train_rows, 1)
        return round(max(self.predict_s, scaled), 3)

    def for_job(self, spec: dict) -> Limits:
        """These limits with the job's own predict allowance from its spec (if larger)."""
        own = float(spec.get("predict_allowance_s") or 0.0)
        return replace(self, predict_s=own) if own > self.predict_s else self

    def parts(self, budget_s: float) -> dict:
        return {"setup_allowance_s": self.setup_s, "margin_s": self.margin * budget_s,
                "predict_allowance_s": self.predict_s}  # fmt: skip


@dataclass
class WorkItem:
    """One job's work for the executor: the job dir holds spec.json; results go beside it."""

    job_id: str
    job_dir: Path
    budget_s: float
    cores: int
    memory_mb: int
    python: str = sys.executable
    token: str | None = None  # the run's token, in every job process's environment


@dataclass
class Outcome:
    status: str
    wall: float
    grace_s: float
    cpu_time: float = 0.0
    peak_rss_mb: float = 0.0
    exit_signal: str | None = None
    worker: dict = field(default_factory=dict)
    error_type: str | None = None
    error_message: str | None = None
    attempts: int = 1
    infrastructure: bool = False  # a failure of ours or the OS's, not the framework's
    setup_duration: float | None = None  # seconds before the backend's search could start
    limits: dict = field(default_factory=dict)  # the parts of the hard limit (Limits.parts)
    limit_phase: str | None = None  # the phase (PHASES) a time or memory limit stopped it in

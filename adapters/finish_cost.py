"""What a backend spends after its own time limit, measured, so an adapter can keep it back.

Some backends treat their time limit as the end of the search, not of ``fit``: H2O finishes
the model in training and its stacked ensembles (whose metalearner grows with rows x
classes x base models), AutoGluon fits its weighted ensemble and saves the predictor. An
adapter hands such a backend ``time_limit`` less the finishing cost its :class:`FinishCost`
predicts for the data at hand, instead of a fixed share of the budget.

The cost model is linear in measured terms, in CPU seconds of one free core::

    cpu_seconds = base_s + per_budget * budget + rows / 1e4 * rows_s
                  + rows x classes / 1e5 * rc_s + rows x features x classes / 1e8 * rfc_s

and, for a backend whose finishing work is CPU-bound (H2O's, AutoGluon's), the wall seconds
kept back are ``cpu_seconds / share + wall_s``, where ``wall_s`` is what does not speed up
with a free core (waiting on a server's answers) and ``share`` is the share of its core the
job gets right now (:func:`cpu_share`, a 0.3 s probe in the adapter's setup step): on a
machine where other processes compete for the cores, the same finishing work takes longer
in wall time. The result is capped at ``max_share`` of the budget (the backend always gets
most of its budget; a job left with less than half is flagged ``starved`` by the harness).
The coefficients each adapter ships were fitted on fit-time overruns measured with
``tests/benchmarks/budget_adherence.py`` (1 core, budgets 30 s and 60 s, the twelve shared
datasets and a generated 100-class task).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

MIN_SHARE = 0.2  # below this the probe says more about its own noise than about the load


def cpu_share(probe_s: float = 0.3) -> float:
    """Share of a core this process gets now: CPU time over wall time of a busy loop."""
    wall0, cpu0 = time.perf_counter(), time.thread_time()
    x = 0
    while time.perf_counter() - wall0 < probe_s:
        x += 1
    wall, cpu = time.perf_counter() - wall0, time.thread_time() - cpu0
    return max(MIN_SHARE, min(1.0, cpu / wall)) if wall > 0 else 1.0


@dataclass(frozen=True)
class FinishCost:
    base_s: float = 0.0
    per_budget: float = 0.0
    rows_s: float = 0.0
    rc_s: float = 0.0
    rfc_s: float = 0.0
    wall_s: float = 0.0
    max_share: float = 0.4

    def seconds(self, budget: float, rows: int, features: int, classes: int,
                share: float = 1.0) -> float:  # fmt: skip
        s = (
            self.base_s
            + self.per_budget * budget
            + self.rows_s * rows / 1e4
            + self.rc_s * rows * classes / 1e5
            + self.rfc_s * rows * features * classes / 1e8
        )
        s = s / max(MIN_SHARE, min(1.0, share)) + self.wall_s
        return max(0.0, min(s, self.max_share * budget))

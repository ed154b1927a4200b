"""What a backend spends after its own time limit, measured, so an adapter can keep it back.

Some backends treat their time limit as the end of the search, not of ``fit``: H2O finishes
the model in training and its stacked ensembles (whose metalearner grows with rows x
classes x base models), AutoGluon fits its weighted ensemble and saves the predictor. An
adapter hands such a backend ``time_limit`` less the finishing cost its :class:`FinishCost`
predicts for the data at hand, instead of a fixed share of the budget.

The cost model is linear in three measured terms::

    seconds = base_s + per_budget * budget + rows x classes / 1e5 * rc_s
              + rows x features x classes / 1e8 * rfc_s

and is capped at ``max_share`` of the budget (the backend always gets most of its budget;
a job left with less than half is flagged ``starved`` by the harness). The coefficients each
adapter ships were fitted on fit-time overruns measured with
``tests/benchmarks/budget_adherence.py`` (1 core, budgets 30 s and 60 s, the twelve shared
datasets and a generated 100-class task).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FinishCost:
    base_s: float = 0.0
    per_budget: float = 0.0
    rc_s: float = 0.0
    rfc_s: float = 0.0
    max_share: float = 0.4

    def seconds(self, budget: float, rows: int, features: int, classes: int) -> float:
        s = (
            self.base_s
            + self.per_budget * budget
            + self.rc_s * rows * classes / 1e5
            + self.rfc_s * rows * features * classes / 1e8
        )
        return max(0.0, min(s, self.max_share * budget))

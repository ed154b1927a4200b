"""The one decision metric of a report: ranks, normalised scores, win rates, the critical
difference, ratings, Pareto fronts and the summary all use it, so no two columns can point
opposite ways. Log loss for multi-class tasks by default, as AMLB; ``--metric`` chooses
accuracy or balanced accuracy instead."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Metric:
    key: str  # as the command line spells it
    column: str  # the results column it reads
    name: str  # as the report names it
    higher_is_better: bool

    def score(self, values):
        """Values turned higher-is-better (log loss is negated)."""
        return values if self.higher_is_better else -values

    @property
    def direction(self) -> str:
        return "higher is better" if self.higher_is_better else "lower is better"

    @property
    def named(self) -> str:
        """``log loss (lower is better)``: the form every caption uses."""
        return f"{self.name} ({self.direction})"


METRICS = {
    "logloss": Metric("logloss", "logloss", "log loss", False),
    "accuracy": Metric("accuracy", "acc", "accuracy", True),
    "balanced_accuracy": Metric("balanced_accuracy", "balacc", "balanced accuracy", True),
}
# runs holding binary tasks, by default: AMLB's own `result` (AUC for binary, log loss for
# multi-class), so no task is scored by a metric its type does not use
AMLB_RESULT = Metric("result", "result", "AMLB result (AUC for binary tasks, minus log loss "
                     "for multi-class)", True)  # fmt: skip
CHOICES = tuple(METRICS)


def choose(key: str | None, results: pd.DataFrame) -> Metric:
    """The metric asked for, else log loss when every task is multi-class, else AMLB's
    result column."""
    if key:
        return METRICS[key]
    kinds = set(results["metric"].dropna().astype(str)) if "metric" in results else set()
    if kinds <= {"neg_logloss"}:
        return METRICS["logloss"]
    return AMLB_RESULT

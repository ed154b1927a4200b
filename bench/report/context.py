"""What every section builder reads: the runs, the price table, the decision metric and the
numbers several sections share (the score grid, leaderboard, ranks, tests), computed once."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from automl_bench.report import aggregate as ag
from automl_bench.report import budget_curves, stats, validation
from automl_bench.report import starved as starved_jobs
from automl_bench.report.load import Loaded
from automl_bench.report.metric import Metric, choose
from automl_bench.results.cost import PriceTable


@dataclass
class ReportContext:
    full: Loaded  # every budget
    loaded: Loaded  # the budget the comparisons are at (the largest)
    at_one_budget: str | None  # the sentence saying so, when the runs hold several budgets
    prices: PriceTable
    metric: Metric
    n_boot: int
    impute_missing: bool
    tolerance: float | None  # normalised-score gap within which a cheaper system counts as tied
    grid: ag.Grid
    board: pd.DataFrame
    matrix: pd.DataFrame  # tasks x frameworks, mean decision score (higher is better)
    pairwise: pd.DataFrame
    imputed: set  # frameworks whose values include imputed ones
    cd: stats.CriticalDifference | None
    wins: pd.DataFrame
    ratings: stats.Ratings | None
    per_task: pd.DataFrame
    pareto: pd.DataFrame
    starved: pd.DataFrame
    suspect: pd.DataFrame  # jobs whose test loss is implausibly worse than their validation
    # published results to show beside the run (report --reference), never ranked with it
    references: list = field(default_factory=list)  # automl_bench.report.reference_file.Reference

    @property
    def score_name(self) -> str:
        """What the Pareto charts' vertical axis shows."""
        par = self.pareto
        if not par.empty and par["normalised"].notna().any():
            return f"normalised score ({self.metric.name})"
        return f"mean {self.metric.name}" + ("" if self.metric.higher_is_better else " (negated)")

    @property
    def results(self) -> pd.DataFrame:
        """Every result row of the runs, every budget."""
        return self.full.results


def make_context(full: Loaded, prices: PriceTable, n_boot: int = 1000,
                 impute_missing: bool = False, metric: str | None = None,
                 tolerance: float | None = None, references=()) -> ReportContext:  # fmt: skip
    loaded, at_one_budget = budget_curves.focus(full)
    chosen = choose(metric, full.results)
    grid = ag.build_grid(loaded, impute_missing, chosen)
    board = ag.leaderboard(loaded, grid, prices)
    matrix = ag.task_matrix(grid)
    order = list(board["framework"]) if not board.empty else []
    cells = grid.cells
    imputed = set(cells.loc[cells["imputed"], "label"]) if not cells.empty else set()
    several = len(grid.frameworks) >= 2
    anchor = next((f for f in grid.frameworks if f in loaded.constant_labels), None)
    suspect = validation.suspect_jobs(full)
    per_task = ag.per_task(loaded, grid)
    if not per_task.empty:
        marks = validation.counts(suspect)
        per_task["suspect"] = [marks.get((t, f), 0) for t, f in
                               zip(per_task["task"], per_task["framework"], strict=True)]  # fmt: skip
    return ReportContext(
        full=full, loaded=loaded, at_one_budget=at_one_budget, prices=prices, metric=chosen,
        n_boot=n_boot, impute_missing=impute_missing, tolerance=tolerance, grid=grid,
        board=board, matrix=matrix, pairwise=ag.pairwise(grid, order), imputed=imputed,
        cd=stats.critical_difference(matrix) if len(grid.frameworks) else None,
        wins=stats.win_rates(matrix) if several else pd.DataFrame(),
        ratings=stats.bradley_terry(matrix, anchor, n_boot=n_boot) if several else None,
        per_task=per_task, pareto=ag.pareto_table(loaded, board, grid),
        starved=starved_jobs.jobs(full.results), suspect=suspect, references=list(references),
    )  # fmt: skip

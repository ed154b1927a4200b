"""The run's leaderboard for the terminal (``run`` and ``show``).

It is the report's leaderboard, computed by the report's aggregation
(:mod:`automl_bench.report.aggregate`: a failed job takes the constant predictor's result, ranks
are over tasks, intervals resample tasks), so the terminal and the report never disagree.
"""

from __future__ import annotations

from pathlib import Path


def leaderboard(run_dirs, impute_missing: bool = False, metric: str | None = None):
    """(the report's leaderboard Table, the board DataFrame) for one or several runs: the
    same numbers as the report's, bootstrap draws and seed included. Render it with
    :func:`automl_bench.report.terminal.table`."""
    from automl_bench.report import aggregate as ag
    from automl_bench.report import budget_curves, tables
    from automl_bench.report.load import load_runs
    from automl_bench.report.metric import choose
    from automl_bench.results.cost import load_prices

    full = load_runs([Path(r) for r in run_dirs])
    loaded, at_one_budget = budget_curves.focus(full)  # several budgets: the largest
    chosen = choose(metric, full.results)
    grid = ag.build_grid(loaded, impute_missing, chosen)
    board = ag.leaderboard(loaded, grid, load_prices())
    table = tables.leaderboard(board, chosen)
    if at_one_budget:
        table.caption = budget_curves.caption(full) + " " + table.caption
    return table, board

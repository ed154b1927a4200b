"""The run's leaderboard for the terminal (``run`` and ``show``).

It is the report's leaderboard, computed by the report's aggregation
(:mod:`automl_bench.report.aggregate`: a failed job takes the constant predictor's result, ranks
are over tasks, intervals resample tasks), so the terminal and the report never disagree.
"""

from __future__ import annotations

from pathlib import Path

from rich.table import Table
from rich.text import Text


def leaderboard(run_dirs, impute_missing: bool = False):
    """(the report's leaderboard Table, the board DataFrame) for one or several runs: the
    same numbers as the report's, bootstrap draws and seed included."""
    from automl_bench.report import aggregate as ag
    from automl_bench.report import budget_curves, tables
    from automl_bench.report.load import load_runs
    from automl_bench.results.cost import load_prices

    full = load_runs([Path(r) for r in run_dirs])
    loaded, at_one_budget = budget_curves.focus(full)  # several budgets: the largest
    grid = ag.build_grid(loaded, impute_missing)
    board = ag.leaderboard(loaded, grid, load_prices())
    table = tables.leaderboard(board)
    if at_one_budget:
        table.caption = budget_curves.caption(full) + " " + table.caption
    return table, board


def render(table, title: str = "Leaderboard") -> Table:
    """A report Table (automl_bench.report.tables) as a rich table; cells are text, never markup."""
    t = Table(title=Text(title), caption=Text(table.caption) if table.caption else None)
    if table.empty:
        t.add_column("no framework has results yet")
        return t
    for c in table.columns:
        t.add_column(Text(c), justify="left" if c == "framework" else "right")
    for row in table.rows:
        t.add_row(*[Text(c) for c in row])
    return t

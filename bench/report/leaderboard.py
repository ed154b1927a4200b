"""The run's leaderboard for the terminal (``run`` and ``show``).

It is the report's leaderboard, computed by the report's aggregation
(:mod:`bench.report.aggregate`: a failed job takes the constant predictor's result, ranks
are over tasks, intervals resample tasks), so the terminal and the report never disagree.
"""

from __future__ import annotations

from pathlib import Path

from rich.table import Table
from rich.text import Text


def leaderboard(run_dirs, impute_missing: bool = False):
    """(the report's leaderboard Table, the board DataFrame) for one or several runs: the
    same numbers as the report's, bootstrap draws and seed included."""
    from bench.report import aggregate as ag
    from bench.report import tables
    from bench.report.load import load_runs
    from bench.results.cost import load_prices

    loaded = load_runs([Path(r) for r in run_dirs])
    grid = ag.build_grid(loaded, impute_missing)
    board = ag.leaderboard(loaded, grid, load_prices())
    return tables.leaderboard(board), board


def render(table, title: str = "Leaderboard") -> Table:
    """A report Table (bench.report.tables) as a rich table; cells are text, never markup."""
    t = Table(title=Text(title), caption=Text(table.caption) if table.caption else None)
    if table.empty:
        t.add_column("no framework has results yet")
        return t
    for c in table.columns:
        t.add_column(Text(c), justify="left" if c == "framework" else "right")
    for row in table.rows:
        t.add_row(*[Text(c) for c in row])
    return t

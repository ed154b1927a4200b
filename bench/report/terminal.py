"""The report for the terminal (rich): a report Table as a rich table, and the report's
leaderboard with its summary. Cells are text, never rich markup."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text


def table(t, title: str = "Leaderboard") -> Table:
    """A report Table (automl_bench.report.tables) as a rich table."""
    out = Table(title=Text(title), caption=Text(t.caption) if t.caption else None)
    if t.empty:
        out.add_column("no framework has results yet")
        return out
    for c in t.columns:
        out.add_column(Text(c), justify="left" if c == "framework" else "right")
    for row in t.rows:
        out.add_row(*[Text(c) for c in row])
    return out


def report(r) -> Group:
    """The built report's leaderboard, then its summary, one line per sentence."""
    return Group(table(r.leaderboard), *[Text("- " + c) for c in r.conclusions])

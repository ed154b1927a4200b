"""The report's leaderboard and conclusions for the terminal (rich)."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text


def render(report) -> Group:
    t = Table(title="Leaderboard")
    lb = report.leaderboard
    if lb.empty:
        t.add_column("no framework has results")
    for c in lb.columns:
        t.add_column(c, justify="left" if c == "framework" else "right")
    for row in lb.rows:
        t.add_row(*[Text(c) for c in row])  # Text: names are not parsed as rich markup
    lines = [Text("- " + c) for c in report.conclusions]
    return Group(t, *lines)

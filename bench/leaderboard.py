"""The run's leaderboard as a table: one line per framework, best first."""

from __future__ import annotations

import pandas as pd


def leaderboard(results: pd.DataFrame) -> pd.DataFrame:
    """Mean scores over ok jobs, jobs counts by status, and mean rank over (task, fold).

    Rank is computed on ``result`` (higher is better) among frameworks that finished the same
    (task, fold); a failed job takes the worst rank of its (task, fold).
    """
    if results.empty:
        return pd.DataFrame()
    df = results.copy()
    ok = df[df["status"] == "ok"]
    df["rank"] = df.groupby(["task", "fold"])["result"].rank(ascending=False, method="average")
    worst = df.groupby(["task", "fold"])["framework"].transform("count")
    df["rank"] = df["rank"].fillna(worst)
    g = ok.groupby("framework")
    table = pd.DataFrame(
        {
            "jobs": df.groupby("framework").size(),
            "ok": g.size(),
            "acc": g["acc"].mean(),
            "balacc": g["balacc"].mean(),
            "logloss": g["logloss"].mean(),
            "auc_ovr": g["auc_ovr"].mean(),
            "rank": df.groupby("framework")["rank"].mean(),
            "train_s": g["training_duration"].mean(),
            "cost_usd": df.groupby("framework")["cost_usd"].sum(),
        }
    )
    table["ok"] = table["ok"].fillna(0).astype(int)
    return table.sort_values(["rank", "logloss"]).reset_index()


def render(table: pd.DataFrame, title: str = "Leaderboard"):
    from rich.table import Table

    t = Table(title=title)
    if table.empty:
        t.add_column("no results yet")
        return t
    for col in table.columns:
        t.add_column(col, justify="left" if col == "framework" else "right")
    for _, r in table.iterrows():
        cells = []
        for col in table.columns:
            v = r[col]
            if isinstance(v, float):
                cells.append("-" if pd.isna(v) else f"{v:.4f}" if col != "cost_usd" else f"{v:.5f}")
            else:
                cells.append(str(v))
        t.add_row(*cells)
    return t

"""Checks on a task's data before any job starts. Each problem names the task and the cause."""

from __future__ import annotations

import pandas as pd

from bench.errors import BadInput


def check_task(name: str, X: pd.DataFrame, y: pd.Series, n_folds: int | None) -> None:
    where = f"task {name!r}"
    if len(X) != len(y):
        raise BadInput(f"{where}: {len(X)} feature rows but {len(y)} labels")
    if X.shape[1] == 0:
        raise BadInput(f"{where}: no feature columns")
    dupes = X.columns[X.columns.duplicated()].tolist()
    if dupes:
        raise BadInput(f"{where}: duplicate column names: {', '.join(map(str, dupes))}")
    if y.isna().any():
        raise BadInput(f"{where}: target has {int(y.isna().sum())} missing labels")
    counts = y.value_counts()
    if len(counts) < 2:
        raise BadInput(f"{where}: target has a single class ({counts.index[0]!r}); need >= 2")
    if n_folds is not None and counts.min() < n_folds:
        small = counts[counts < n_folds]
        raise BadInput(
            f"{where}: class(es) {', '.join(repr(c) for c in small.index)} have fewer rows "
            f"({', '.join(map(str, small.values))}) than folds ({n_folds})"
        )

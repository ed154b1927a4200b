"""Checks on a task's data before any job starts. Each problem names the task, its file and cause.

Rules (each an error, ``BadInput``, unless marked as a fix):

- the target has missing labels, a single class, continuous (non-integer float) values, or
  mixes string and numeric labels (``1`` and ``"1"`` would silently become one class);
- a class has fewer rows than the number of stratified folds;
- no feature columns, duplicate column names, or non-finite values (+/-inf) in a feature;
- fixed splits (OpenML, test file, fold column) with an empty or out-of-range fold;
- FIX, logged and recorded in the task's profile: columns whose every value is missing are
  dropped (they carry no information; OpenML's anneal has six). If every feature is missing,
  that is an error.
- FIX: a categorical target becomes plain labels (its unused categories are not classes).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from automl_bench.errors import BadInput

log = logging.getLogger("automl_bench.data.validate")


def _names(cols, limit: int = 8) -> str:
    cols = [str(c) for c in cols]
    more = f" (and {len(cols) - limit} more)" if len(cols) > limit else ""
    return ", ".join(repr(c) for c in cols[:limit]) + more


INT64 = (-(2**63), 2**63 - 1)


def check_wide_ints(where: str, what: str, s: pd.Series) -> None:
    """Integers beyond 64 bits (a CSV column of 2**70, read as numbers or kept as the text it
    was written in) cannot be stored in a columnar file: an error naming the column and a
    value, not a crash when the task is written."""
    if pd.api.types.is_numeric_dtype(s):
        return
    lo, hi = INT64
    for v in s:
        if isinstance(v, str) and v.lstrip("-").isdigit():
            v = int(v)
        if isinstance(v, int) and not isinstance(v, bool) and not lo <= v <= hi:
            shown = str(v)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            raise BadInput(f"{where}: {what} holds integers beyond 64 bits (e.g. {shown}); "
                           "use integers of at most 64 bits, or labels that are not numbers")  # fmt: skip


def _written_numbers(y: pd.Series) -> pd.Series | None:
    """Labels written as text (a CSV's, kept as written) that are all numbers, as numbers;
    None otherwise."""
    if pd.api.types.is_numeric_dtype(y) or not all(isinstance(v, str) for v in y):
        return None
    numbers = pd.to_numeric(y, errors="coerce")
    return None if numbers.isna().any() else numbers


def check_labels(where: str, y: pd.Series, n_folds: int | None) -> pd.Series:
    if isinstance(y.dtype, pd.CategoricalDtype):
        y = y.astype(object).where(y.notna(), None)
    check_wide_ints(where, "target", y)
    if y.isna().any():
        raise BadInput(f"{where}: target has {int(y.isna().sum())} missing labels")
    numbers = y if pd.api.types.is_float_dtype(y) else _written_numbers(y)
    if numbers is not None and not np.all(np.mod(numbers.to_numpy(dtype=float), 1) == 0):
        raise BadInput(
            f"{where}: target has non-integer numbers (e.g. "
            f"{float(numbers[np.mod(numbers, 1) != 0].iloc[0])}): "
            "it looks like a regression target; only classification is supported"
        )
    if y.dtype == object:
        kinds = {("string" if isinstance(v, str) else "numeric") for v in y}
        if len(kinds) > 1:
            s = next(v for v in y if isinstance(v, str))
            n = next(v for v in y if not isinstance(v, str))
            raise BadInput(
                f"{where}: target mixes string and numeric labels (e.g. {s!r} and {n!r}); "
                "make them one type in the data file"
            )
    counts = y.value_counts()
    if len(counts) < 2:
        raise BadInput(f"{where}: target has a single class ({counts.index[0]!r}); need >= 2")
    if n_folds is not None and counts.min() < n_folds:
        small = counts[counts < n_folds]
        raise BadInput(
            f"{where}: class(es) {_names(small.index)} have fewer rows "
            f"({', '.join(map(str, small.values))}) than folds ({n_folds}); "
            "use fewer folds or drop those rows"
        )
    return y


def check_features(where: str, X: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    notes = []
    if X.shape[1] == 0:
        raise BadInput(f"{where}: no feature columns")
    dupes = X.columns[X.columns.duplicated()].unique().tolist()
    if dupes:
        raise BadInput(f"{where}: duplicate column names: {_names(dupes)}")
    numeric = X.select_dtypes(include="number")
    if numeric.shape[1]:
        values = numeric.to_numpy(dtype=float, na_value=np.nan)
        bad = np.isinf(values)
        if bad.any():
            cols = numeric.columns[bad.any(axis=0)]
            raise BadInput(
                f"{where}: {int(bad.sum())} non-finite values (inf) in column(s) {_names(cols)}; "
                "replace them with missing values or finite numbers"
            )
    empty = X.columns[X.isna().all(axis=0)].tolist()
    if empty:
        if len(empty) == X.shape[1]:
            raise BadInput(f"{where}: every feature column is entirely missing")
        X = X.drop(columns=empty)
        notes.append(f"dropped {len(empty)} all-missing column(s): {_names(empty, 20)}")
    return X, notes


def check_splits(where: str, splits, n_rows: int) -> None:
    for i, (tr, te) in enumerate(splits):
        tr, te = np.asarray(tr), np.asarray(te)
        if len(tr) == 0 or len(te) == 0:
            raise BadInput(f"{where}: fold {i} has {len(tr)} training and {len(te)} test rows")
        lo, hi = min(tr.min(), te.min()), max(tr.max(), te.max())
        if lo < 0 or hi >= n_rows:
            raise BadInput(f"{where}: fold {i} refers to row {hi if hi >= n_rows else lo} "
                           f"but the data has {n_rows} rows")  # fmt: skip


def check_task(name: str, X: pd.DataFrame, y: pd.Series, n_folds: int | None,
               origin: str = "", splits=None) -> tuple[pd.DataFrame, pd.Series, list[str]]:  # fmt: skip
    """Validate one task's data; return (features, labels, notes on fixes applied).

    ``n_folds`` is the number of stratified folds the harness will make (None when the source
    fixes its own ``splits``).
    """
    where = origin or f"task {name!r}"  # callers prefix the suite file and task name
    if len(X) != len(y):
        raise BadInput(f"{where}: {len(X)} feature rows but {len(y)} labels")
    if len(X) == 0:
        raise BadInput(f"{where}: no rows")
    X, notes = check_features(where, X)
    y = check_labels(where, y, n_folds)
    if splits is not None:
        check_splits(where, splits, len(X))
    for note in notes:
        log.warning("task %r%s: %s", name, f" ({origin})" if origin else "", note)
    return X, y, notes

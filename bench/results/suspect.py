"""Validation against test: a job whose test log loss is implausibly worse than the backend's
own validation log loss of the model it kept (``validation_loss``, the last point of its
trajectory) scored a model other than the one it validated, or one its last step broke.

The rule (:data:`RULE`): a job is ``suspect`` when its test log loss is above both
:data:`RATIO` x its validation log loss and the constant predictor's test log loss on the
same task and fold (a model worse than the class prior cannot be what a search kept).
"""

from __future__ import annotations

import pandas as pd

RATIO = 3.0
RULE = (f"A job is suspect when its test log loss is above both {RATIO:g}x the backend's own "
        "validation log loss of the model it kept (the last point of its trajectory) and the "
        "constant predictor's test log loss on the same task and fold.")  # fmt: skip


def flags(results: pd.DataFrame, constant_logloss: pd.Series) -> pd.Series:
    """Boolean per row of ``results`` (ok jobs with a validation loss can be suspect);
    ``constant_logloss``: the constant predictor's test log loss indexed by (task, fold)."""
    if results.empty or "validation_loss" not in results:
        return pd.Series(False, index=results.index)
    test = pd.to_numeric(results["logloss"], errors="coerce")
    valid = pd.to_numeric(results["validation_loss"], errors="coerce")
    keys = list(zip(results["task"], results["fold"].astype(int), strict=True))
    floor = pd.Series([constant_logloss.get(k) for k in keys], index=results.index, dtype=float)
    out = (results["status"] == "ok") & valid.notna() & floor.notna()
    return out & (test > RATIO * valid) & (test > floor)

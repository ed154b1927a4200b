"""Anytime trajectories: the backend's incumbent (its best model so far) over time.

After ``fit`` an adapter's ``trajectory()`` returns one row per point at which the backend
evaluated a model, taken from what the backend records anyway (see each adapter), or None
when the backend recorded nothing usable. The worker writes it as ``trajectory.parquet``
beside the predictions. Columns (fixed):

- ``elapsed_s``: seconds since ``fit`` started (the budget's clock: a backend server's start
  and the data's transfer into it are setup, before it), when the evaluation finished;
  non-decreasing.
- ``best_loss``: the lowest validation loss of any model evaluated so far (non-increasing).
- ``loss_name``: which loss (``log_loss`` for every default variant: lower is better).
- ``model``: the incumbent at that point (the model whose loss is ``best_loss``).
- ``loss``: the loss of the model evaluated at that point (may be worse than ``best_loss``).
- ``evaluated``: the model evaluated at that point.
- ``validation``: on what data the losses were measured (a holdout, cross-validation,
  out-of-bag rows), in the backend's own terms.

Validation losses are each backend's own: measured on different rows by different schemes,
so they tell how a system's search progressed, not which system generalises best (the
test-fold scores do that).
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

COLUMNS = ("elapsed_s", "best_loss", "loss_name", "model", "loss", "evaluated", "validation")
LOG_LOSS = "log_loss"


def incumbents(points, loss_name: str, validation: str) -> pd.DataFrame | None:
    """The trajectory frame from ``points``: (elapsed_s, loss, evaluated model) per evaluation,
    in any order. Evaluations without a finite loss (a failed trial) keep the incumbent;
    those before the first finite loss are dropped. None when no loss is finite."""
    rows = []
    for elapsed, loss, name in points:
        try:
            elapsed, loss = float(elapsed), float(loss)
        except (TypeError, ValueError):
            continue
        if not math.isfinite(elapsed):
            continue
        rows.append((max(0.0, elapsed), loss if math.isfinite(loss) else math.nan, str(name)))
    rows.sort(key=lambda r: r[0])  # stable: evaluations at the same second keep their order
    out, best, best_name = [], math.inf, None
    for elapsed, loss, name in rows:
        if loss == loss and loss < best:
            best, best_name = loss, name
        if best_name is None:
            continue
        out.append((elapsed, best, loss_name, best_name, loss, name, validation))
    if not out:
        return None
    return pd.DataFrame(out, columns=list(COLUMNS))


def check(frame) -> pd.DataFrame:
    """``frame`` with the fixed columns in order, checked: elapsed_s non-decreasing and
    best_loss non-increasing (ValueError naming the column otherwise)."""
    frame = pd.DataFrame(frame)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"trajectory lacks columns {missing}")
    extra = [c for c in frame.columns if c not in COLUMNS]
    frame = frame[list(COLUMNS) + extra].reset_index(drop=True)
    for c in ("elapsed_s", "best_loss", "loss"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
    for c in ("loss_name", "model", "evaluated", "validation"):
        frame[c] = frame[c].astype(str)
    if (np.diff(frame["elapsed_s"].to_numpy()) < 0).any():
        raise ValueError("trajectory elapsed_s decreases")
    if (np.diff(frame["best_loss"].to_numpy()) > 1e-12).any():
        raise ValueError("trajectory best_loss increases")
    return frame


def multiclass_log_loss(proba: np.ndarray, y: np.ndarray, eps: float = 1e-15) -> float:
    """Mean log loss of ``proba`` (rows x class codes) for class codes ``y``."""
    p = np.clip(proba[np.arange(len(y)), y], eps, 1.0)
    return float(-np.mean(np.log(p)))


def inner_split(y: np.ndarray, fraction: float, seed: int):
    """A stratified inner validation split of the training rows: about ``fraction`` of each
    class's rows (rounded), never a class's last row, so every class stays in training.
    Returns (train_index, valid_index), or None when ``fraction`` gives no validation row."""
    if not fraction or fraction <= 0:
        return None
    rng = np.random.RandomState(int(seed))
    valid = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        k = min(int(round(float(fraction) * len(idx))), len(idx) - 1)
        if k > 0:
            valid.append(rng.permutation(idx)[:k])
    if not valid:
        return None
    valid = np.sort(np.concatenate(valid))
    train = np.setdiff1d(np.arange(len(y)), valid)
    return train, valid


def wall_to_elapsed(adapter, wall: float) -> float:
    """A wall-clock time (``time.time()``) as seconds since the adapter's fit started."""
    started = getattr(adapter, "fit_started_", None)
    if started is None:
        return math.nan
    fit_start_wall = time.time() - (time.monotonic() - started)
    return float(wall) - fit_start_wall


class RoundClock:
    """Seconds since the adapter's fit started at the end of each boosting round."""

    def __init__(self, adapter):
        self.adapter = adapter
        self.ends: list[float] = []

    def tick(self) -> None:
        self.ends.append(self.adapter.elapsed())

    def xgboost_callback(self):
        import xgboost

        clock = self

        class RecordRoundEnd(xgboost.callback.TrainingCallback):
            def after_iteration(self, model, epoch, evals_log):
                clock.tick()
                return False

        return RecordRoundEnd()

    def lightgbm_callback(self):
        def record_round_end(env):
            self.tick()

        record_round_end.order = 5  # before the deadline's stop (order 100)
        return record_round_end

    def catboost_callback(self):
        clock = self

        class RecordRoundEnd:  # CatBoost asks its callbacks in order: put it before the deadline's
            def after_iteration(self, info):
                clock.tick()
                return True

        return RecordRoundEnd()

    def rounds(self, losses, name: str, validation: str, loss_name: str = LOG_LOSS):
        """The trajectory of a boosted model: one point per round reached, its model the
        model of that many rounds."""
        n = min(len(self.ends), len(losses))
        points = [(self.ends[i], losses[i], f"{name} ({i + 1} rounds)") for i in range(n)]
        return incumbents(points, loss_name, validation)

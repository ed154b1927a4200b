"""Intervals that mean what they say.

A benchmark's verdict is about the next task a user brings, so the uncertainty of a
framework's mean score (and of the difference between two frameworks) comes from resampling
*tasks*, with the folds of each drawn task resampled inside it (a two-stage bootstrap). With
fewer than :data:`MIN_TASKS` tasks no interval is given: a handful of tasks cannot say what
a new one would show, and an interval from them would look more certain than it is.

Per-task cells describe the folds of one task: below :data:`MIN_FOLDS` folds they show the
range of the fold values (a t-interval from 2 or 3 folds spans most of the metric's range);
from :data:`MIN_FOLDS` folds on, a 95% t-interval. Every interval is clipped to the metric's
range.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MIN_TASKS = 5
MIN_FOLDS = 5
N_BOOT = 2000
LEVEL = 0.95
RANGES = {"acc": (0.0, 1.0), "balacc": (0.0, 1.0), "logloss": (0.0, np.inf),
          "f1_macro": (0.0, 1.0), "auc_ovr": (0.0, 1.0)}  # fmt: skip


def metric_range(metric: str, difference: bool = False) -> tuple[float, float]:
    """The values a metric (or a difference of two of its values) can take."""
    lo, hi = RANGES.get(metric, (-np.inf, np.inf))
    if metric == "result":  # neg_logloss (<= 0) or auc ([0, 1]): bounded above by 1 at most
        lo, hi = -np.inf, 1.0
    if difference:
        span = hi - lo
        return -span, span
    return lo, hi


def clip(lo: float, hi: float, bounds: tuple[float, float]) -> tuple[float, float]:
    if pd.isna(lo) or pd.isna(hi):
        return lo, hi
    return float(max(lo, bounds[0])), float(min(hi, bounds[1]))


def as_matrix(per_task) -> np.ndarray:
    """Ragged fold values per task -> tasks x folds array padded with NaN (NaNs dropped)."""
    rows = [np.asarray(v, dtype=float) for v in per_task]
    rows = [v[~np.isnan(v)] for v in rows]
    rows = [v for v in rows if len(v)]
    width = max((len(v) for v in rows), default=0)
    out = np.full((len(rows), width), np.nan)
    for i, v in enumerate(rows):
        out[i, : len(v)] = v
    return out


def task_bootstrap(values: np.ndarray, n_boot: int = N_BOOT, seed: int = 0,
                   min_tasks: int = MIN_TASKS) -> tuple[float, float, float]:  # fmt: skip
    """Mean over tasks of fold means, with a 95% interval from a two-stage bootstrap.

    ``values`` is tasks x folds (NaN where a task has fewer folds). Each draw takes as many
    tasks as there are, with replacement, and for each drawn task as many of its folds'
    deviations from the task mean, with replacement. As recommended for two-stage data
    (Davison and Hinkley, Bootstrap Methods, 1997, section 3.8) the task means are shrunk
    towards the grand mean so that the folds' noise, which the task means already carry, is
    not counted twice, and fold deviations are scaled by sqrt(F / (F - 1)). The percentile
    interval is then widened by sqrt(n / (n - 1)) * t(n - 1) / z for n tasks, the small-sample
    correction of the plain bootstrap's spread. NaN bounds with fewer than ``min_tasks``.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim == 1:
        v = v[:, None]
    counts = (~np.isnan(v)).sum(axis=1)
    v = v[counts > 0]
    counts = counts[counts > 0]
    n = len(v)
    if n == 0:
        return np.nan, np.nan, np.nan
    means = np.nanmean(v, axis=1)
    point = float(means.mean())
    if n < max(2, min_tasks):
        return point, np.nan, np.nan
    order = np.argsort(np.isnan(v), axis=1, kind="stable")  # each task's values first
    resid = np.take_along_axis(v, order, axis=1) - means[:, None]
    width = resid.shape[1]
    valid = np.arange(width)[None, :] < counts[:, None]
    resid = np.where(valid, resid, 0.0)
    dof = int((counts - 1).sum())
    within = float((resid**2).sum() / dof) if dof else 0.0
    between = float(means.var(ddof=1))
    shrink = np.sqrt(max(0.0, 1.0 - within * np.mean(1.0 / counts) / between)) if between > 0 else 0.0
    level = point + shrink * (means - point)
    resid = resid * np.sqrt(counts / np.maximum(counts - 1, 1))[:, None]

    rng = np.random.default_rng(seed)
    tasks = rng.integers(0, n, (n_boot, n))
    c_t = counts[tasks]
    folds = (rng.random((n_boot, n, width)) * c_t[..., None]).astype(np.int64)
    drawn = resid[tasks[..., None], folds]
    mask = np.arange(width)[None, None, :] < c_t[..., None]
    boots = (level[tasks] + np.where(mask, drawn, 0.0).sum(axis=2) / c_t).mean(axis=1)
    a = (1 - LEVEL) / 2
    lo, hi = np.quantile(boots, [a, 1 - a])
    from scipy import stats as st  # here: the run's leaderboard (few tasks) does without it

    widen = np.sqrt(n / (n - 1)) * st.t.ppf(1 - a, n - 1) / st.norm.ppf(1 - a)
    centre = float(boots.mean())
    return point, float(centre + widen * (lo - centre)), float(centre + widen * (hi - centre))


def fold_summary(values, metric: str) -> tuple[float, float, float, str]:
    """(mean, low, high, kind) over one task's folds: the fold range below MIN_FOLDS folds
    ("range"), else a 95% t-interval clipped to the metric's range ("t")."""
    v = np.asarray([x for x in values if pd.notna(x)], dtype=float)
    if len(v) == 0:
        return np.nan, np.nan, np.nan, "none"
    m = float(v.mean())
    if len(v) < 2:
        return m, np.nan, np.nan, "none"
    if len(v) < MIN_FOLDS:
        return m, float(v.min()), float(v.max()), "range"
    from scipy import stats as st

    half = float(st.t.ppf(0.5 + LEVEL / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    lo, hi = clip(m - half, m + half, metric_range(metric))
    return m, lo, hi, "t"

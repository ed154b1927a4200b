"""Balanced accuracy, macro F1 and binary ROC AUC in NumPy, computed exactly as scikit-learn
computes them (same operations in the same order, so the same floating-point results:
``tests/test_scoring.py`` compares them bit for bit with scikit-learn's).

Why not call scikit-learn: importing ``sklearn.metrics`` costs the driver about a second of
CPU (it loads SciPy's statistics module), paid while the run's first jobs wait for it.
Each function follows the scikit-learn code it replaces (``balanced_accuracy_score``,
``f1_score(average="macro", zero_division=0)``, ``roc_auc_score`` of a binary target) for
the inputs the scorer gives it: integer class indices, finite scores, no sample weights.
"""

from __future__ import annotations

import numpy as np


def _encoded(truth: np.ndarray, pred: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """The labels present in either array (sorted), and both arrays as indices into them."""
    labels = np.union1d(truth, pred)
    return len(labels), np.searchsorted(labels, truth), np.searchsorted(labels, pred)


def balanced_accuracy(truth: np.ndarray, pred: np.ndarray) -> float:
    """Mean recall over the classes present in ``truth``."""
    n, t, p = _encoded(truth, pred)
    confusion = np.bincount(t * n + p, minlength=n * n).reshape(n, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_class = np.diagonal(confusion) / np.sum(confusion, axis=1)
    if np.any(np.isnan(per_class)):  # a predicted class absent from truth: no recall
        per_class = per_class[~np.isnan(per_class)]
    return float(np.mean(per_class))


def f1_macro(truth: np.ndarray, pred: np.ndarray) -> float:
    """Unweighted mean F1 over the classes present in ``truth`` or ``pred`` (0 where a class
    has neither true nor predicted rows, which cannot happen for a present class)."""
    n, t, p = _encoded(truth, pred)
    tp_sum = np.bincount(t[t == p], minlength=n)
    pred_sum = np.bincount(p, minlength=n)
    true_sum = np.bincount(t, minlength=n)
    denominator = 1 * true_sum.astype(np.float64) + pred_sum.astype(np.float64)
    numerator = (1 + 1) * tp_sum.astype(np.float64)
    zero = denominator == 0
    denominator[zero] = 1
    f = numerator / denominator
    f[zero] = 0.0
    if f.shape[0] == 0 or np.all(np.isnan(f)):
        return float("nan")
    return float(np.nanmean(f))


def roc_auc(positive: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve of ``score`` for the boolean target ``positive`` (NaN when
    only one of the two classes is present). Raises ValueError on NaN or infinite scores."""
    score = np.asarray(score, dtype=np.float64)
    if not np.all(np.isfinite(score)):
        raise ValueError("Input contains NaN or infinity (probabilities to score)")
    positive = np.asarray(positive)
    if len(np.unique(positive)) != 2:
        return float("nan")
    # scores in decreasing order; one threshold at the last row of each run of equal scores
    order = np.flip(np.argsort(np.flip(score), kind="stable"))
    order = len(score) - 1 - order
    score, y = score[order], positive[order].astype(np.int32).astype(np.float64)
    thresholds = np.concatenate([np.nonzero(np.diff(score))[0], [y.size - 1]])
    tps = np.cumulative_sum(y * 1.0, dtype=np.float64)[thresholds]
    fps = 1 + thresholds.astype(np.float64) - tps
    if fps.shape[0] > 2:  # drop points collinear with their neighbours (no corner)
        keep = np.where(np.concatenate([[True], np.logical_or(np.diff(fps, 2), np.diff(tps, 2)),
                                        [True]]))[0]  # fmt: skip
        fps, tps = fps[keep], tps[keep]
    tps = np.concatenate([[0.0], tps])
    fps = np.concatenate([[0.0], fps])
    fpr, tpr = fps / fps[-1], tps / tps[-1]
    # trapezoidal rule over the increasing false-positive rates
    d = fpr[1:] - fpr[:-1]
    return float(1 * np.sum(d * (tpr[1:] + tpr[:-1]) / 2.0, dtype=np.float64))

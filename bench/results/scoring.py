"""Metrics recomputed by the harness from saved predictions (adapters' own numbers are ignored).

Correct when a class is absent from a fold's test rows (it simply contributes no terms) and
when a test label was unseen in training (its probability column holds zeros, so log loss is
clipped, not infinite, and the row counts as an error).
"""

from __future__ import annotations

import numpy as np

EPS = 1e-15
METRICS = ("acc", "balacc", "logloss", "f1_macro", "auc_ovr")


def score(proba: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Metrics of probabilities ``proba`` (n x K, columns in the task's class order) against
    ``truth`` (n indices into the task's classes). The predicted class is the most probable."""
    proba = np.asarray(proba, dtype=float)
    ti = np.asarray(truth, dtype=np.int64)
    if proba.ndim != 2 or len(proba) != len(ti):
        raise ValueError(f"{len(ti)} labels for probabilities of shape {proba.shape}")
    if len(ti) and (ti.min() < 0 or ti.max() >= proba.shape[1]):
        raise ValueError("truth holds a class index outside the task's classes")
    pred = proba.argmax(axis=1)
    # imported here: the driver starts its first jobs before it scores anything
    from sklearn.metrics import balanced_accuracy_score, f1_score

    p_true = np.clip(proba[np.arange(len(ti)), ti], EPS, 1.0)
    return {
        "acc": float(np.mean(pred == ti)),
        "balacc": float(balanced_accuracy_score(ti, pred)),
        "logloss": float(-np.mean(np.log(p_true))),
        "f1_macro": float(f1_score(ti, pred, average="macro", zero_division=0)),
        "auc_ovr": _auc_ovr(ti, proba),
    }


def _auc_ovr(ti: np.ndarray, proba: np.ndarray) -> float:
    """Macro one-vs-rest AUC over the classes present in the test rows (NaN if fewer than 2)."""
    from sklearn.metrics import roc_auc_score

    present = np.unique(ti)
    if len(present) < 2:
        return float("nan")
    if proba.shape[1] == 2:
        return float(roc_auc_score(ti == 1, proba[:, 1]))
    return float(np.mean([roc_auc_score(ti == c, proba[:, c]) for c in present]))


def headline(task_type: str, scores: dict[str, float]) -> tuple[str, float]:
    """AMLB's `result` column: higher is better; neg_logloss for multi-class, auc for binary."""
    if task_type == "binary":
        return "auc", scores["auc_ovr"]
    return "neg_logloss", -scores["logloss"]

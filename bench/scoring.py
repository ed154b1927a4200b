"""Metrics recomputed by the harness from saved predictions (adapters' own numbers are ignored).

Correct when a class is absent from a fold's test rows (it simply contributes no terms) and
when a test label was unseen in training (its probability column holds zeros, so log loss is
clipped, not infinite, and the row counts as an error).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EPS = 1e-15
METRICS = ("acc", "balacc", "logloss", "f1_macro", "auc_ovr")


def score(predictions: pd.DataFrame, classes: list) -> dict[str, float]:
    # imported here: the driver starts its first jobs before it scores anything
    from sklearn.metrics import balanced_accuracy_score, f1_score

    labels = [str(c) for c in classes]
    proba = predictions[labels].to_numpy(dtype=float)
    truth = predictions["truth"].astype(str).to_numpy()
    pred = predictions["predictions"].astype(str).to_numpy()
    idx = {c: i for i, c in enumerate(labels)}
    unknown = sorted(set(truth) - set(idx))
    if unknown:
        raise ValueError(f"truth labels {unknown} are not among the task's classes {labels}")
    ti = np.array([idx[t] for t in truth])

    p_true = np.clip(proba[np.arange(len(ti)), ti], EPS, 1.0)
    out = {
        "acc": float(np.mean(pred == truth)),
        "balacc": float(balanced_accuracy_score(truth, pred)),
        "logloss": float(-np.mean(np.log(p_true))),
        "f1_macro": float(f1_score(truth, pred, average="macro", zero_division=0)),
        "auc_ovr": _auc_ovr(ti, proba),
    }
    return out


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

"""Metrics recomputed from predictions, including the awkward cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from automl_bench.results.scoring import score


def _preds(proba, truth, classes):
    """(probabilities, index of each true label among ``classes``), as the driver scores."""
    return np.asarray(proba, float), np.array([classes.index(t) for t in truth])


def test_perfect_and_known_values():
    classes = ["a", "b", "c"]
    s = score(*_preds(np.eye(3)[[0, 1, 2, 1]], ["a", "b", "c", "b"], classes))
    assert s["acc"] == 1.0 and s["balacc"] == 1.0 and s["f1_macro"] == 1.0 and s["auc_ovr"] == 1.0
    assert s["logloss"] == pytest.approx(0.0, abs=1e-12)
    p = [[0.5, 0.25, 0.25], [0.2, 0.6, 0.2]]
    s = score(*_preds(p, ["a", "c"], classes))
    assert s["logloss"] == pytest.approx(-(math.log(0.5) + math.log(0.2)) / 2)
    assert s["acc"] == 0.5


def test_class_absent_from_test_part():
    classes = [0, 1, 2, 3]
    p = [[0.7, 0.1, 0.1, 0.1], [0.1, 0.7, 0.1, 0.1], [0.6, 0.2, 0.1, 0.1]]
    s = score(*_preds(p, [0, 1, 0], classes))  # classes 2 and 3 not in the test rows
    assert s["acc"] == 1.0
    assert s["auc_ovr"] == 1.0  # averaged over the present classes only
    assert s["logloss"] == pytest.approx(-(2 * math.log(0.7) + math.log(0.6)) / 3)


def test_label_unseen_in_training_is_clipped_not_infinite():
    classes = ["x", "y", "z"]  # "z" never seen in training: its column is all zeros
    p = [[0.9, 0.1, 0.0], [0.2, 0.8, 0.0]]
    s = score(*_preds(p, ["x", "z"], classes))
    assert math.isfinite(s["logloss"]) and s["logloss"] > 10
    assert s["acc"] == 0.5


def test_single_class_in_test_gives_nan_auc_not_a_crash():
    classes = ["a", "b"]
    s = score(*_preds([[0.8, 0.2], [0.6, 0.4]], ["a", "a"], classes))
    assert math.isnan(s["auc_ovr"]) and s["acc"] == 1.0

"""The tuned random forest (AMLB's TunedRandomForest) on real data with budgets of a few
seconds: the values of max_features it tries, probabilities in class order, the search and
the refit inside the budget, the trajectory of the values scored, one core, categoricals and
missing values."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from automl_bench_adapters.trajectory import COLUMNS
from automl_bench_adapters.tuned_random_forest import TunedRandomForest, max_features_values


def _split(X, y):
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


@pytest.mark.parametrize("features", [1, 2, 4, 20, 64, 216, 2000])
def test_the_values_tried_start_at_sqrt_and_reach_every_feature(features):
    values = max_features_values(features, 10)
    assert values[0] == max(1, int(np.sqrt(features)))
    assert values[1:] == sorted(values[1:]) and len(set(values)) == len(values) <= 10
    assert min(values) == 1 and max(values) == features
    assert max_features_values(features, 1) == values[:1]


def test_every_value_scored_the_best_refit_probabilities_in_class_order(load_dataset):
    X, y = load_dataset("segment")
    Xtr, Xte, ytr, yte = _split(X, y)
    # 9 values x 5 folds x 20 trees on 1,600 rows: a few seconds of a budget of 60
    model = TunedRandomForest(time_limit=60, cores=1, seed=0, cv_trees=20,
                              n_estimators=50).fit(Xtr, ytr)  # fmt: skip
    values = max_features_values(X.shape[1], 10)
    tr = model.trajectory()
    assert list(tr.columns) == list(COLUMNS) and len(tr) == len(values) == model.models_count_
    assert list(tr["evaluated"]) == [f"RandomForestClassifier (max_features={v})" for v in values]
    assert (tr["validation"] == "5-fold cross-validation of the training rows (20 trees per "
                               "fold)").all()  # fmt: skip
    assert (np.diff(tr["elapsed_s"]) >= 0).all() and (np.diff(tr["best_loss"]) <= 1e-12).all()
    # the value refit is the one with the lowest cross-validated loss, with every tree
    best = values[int(np.argmin(tr["loss"]))]
    assert model.best_model_ == f"RandomForestClassifier (max_features={best}, 50 trees)"
    assert model.model_[-1].max_features == best and model.stop_reason_ == "converged"
    assert model.timings_["search_end_s"] <= tr["elapsed_s"].iloc[-1] + 0.5
    proba = model.predict_proba_unchecked(Xte)
    assert list(model.classes_) == sorted(y.unique()) and proba.shape == (len(Xte), 7)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    means = np.array([proba[yte.to_numpy() == c].mean(axis=0) for c in model.classes_])
    assert (means.argmax(axis=1) == np.arange(7)).all(), means.round(2)


def test_search_and_refit_end_inside_the_budget(load_dataset):
    X, y = load_dataset("optdigits")  # 5,620 rows x 64 features: far more search than 3 s
    model = TunedRandomForest(time_limit=3, cores=1, seed=0)
    t0 = time.monotonic()
    model.fit(X, y)
    fit_s = time.monotonic() - t0
    assert fit_s <= 3 * 1.1 + 0.3, (fit_s, model.timings_)
    assert model.stop_reason_ == "deadline"
    assert model.models_count_ < len(max_features_values(64, 10))
    assert len(model.model_[-1].estimators_) >= 1  # a forest, refit on every row
    t = model.timings_
    assert t["search_end_s"] + t["refit_s"] <= fit_s
    tr = model.trajectory()
    assert tr is None or tr["elapsed_s"].iloc[-1] <= t["search_end_s"]


def test_one_core_one_seed(load_dataset):
    X, y = load_dataset("segment")
    Xtr, Xte, ytr, _ = _split(X, y)
    fits = []
    for _ in range(2):
        t0, c0 = time.monotonic(), _cpu()
        model = TunedRandomForest(time_limit=60, cores=1, seed=3, cv_trees=10, n_estimators=30,
                                  candidates=3).fit(Xtr, ytr)  # fmt: skip
        fits.append((model, (_cpu() - c0) / (time.monotonic() - t0)))
    (a, share), (b, _) = fits
    forest = a.model_[-1]
    assert forest.n_jobs == 1 and forest.random_state == 3
    assert share <= 1.1, share  # one core's worth of CPU at most, whatever the load
    assert a.stop_reason_ == b.stop_reason_ == "converged" and a.best_model_ == b.best_model_
    np.testing.assert_array_equal(a.predict_proba(Xte), b.predict_proba(Xte))


def test_anneal_categoricals_missing_values_and_rare_classes(load_dataset):
    """anneal: string columns, 63% missing cells, a class of 8 rows (fewer than the folds hold
    once split): every fold's forest predicts the classes it saw, in their columns."""
    X, y = load_dataset("anneal")
    Xtr, Xte, ytr, yte = _split(X, y)
    model = TunedRandomForest(time_limit=60, cores=1, seed=0, cv_trees=10, n_estimators=30,
                              candidates=4).fit(Xtr, ytr)  # fmt: skip
    tr = model.trajectory()
    assert len(tr) == 4 and np.isfinite(tr["loss"]).all()
    proba = model.predict_proba_unchecked(Xte)
    assert proba.shape == (len(Xte), 5)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    assert set(model.predict(Xte)) <= set(y.unique())

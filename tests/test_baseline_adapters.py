"""The baseline adapters on real data: probabilities well formed, labels of any type, scores;
and a short real run of the smoke suite with the CatBoost and tuned random forest baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

from automl_bench.planning import registry
from automl_bench_adapters.constant import ConstantPredictor
from automl_bench_adapters.lgbm import LightGBM
from automl_bench_adapters.random_forest import RandomForest
from automl_bench_adapters.xgb import XGBoost

BASELINES = [RandomForest, XGBoost, LightGBM]


def _split(X, y, seed=0):
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)


@pytest.mark.parametrize("cls", BASELINES, ids=lambda c: c.__name__)
def test_semeion_string_labels(cls, load_dataset, tmp_path):
    X, y = load_dataset("semeion")
    Xtr, Xte, ytr, yte = _split(X, y)
    model = cls(time_limit=10, cores=1, seed=0, scratch_dir=str(tmp_path)).fit(Xtr, ytr)
    proba = model.predict_proba(Xte)
    assert proba.shape == (len(Xte), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    assert list(model.classes_) == sorted(y.unique())
    # predict is the arg-max of predict_proba, mapped back to the original string labels
    assert (model.predict(Xte) == model.classes_[proba.argmax(axis=1)]).all()
    # 10-digit handwriting: all three reach well above 0.8 with default settings
    assert accuracy_score(yte, model.predict(Xte)) >= 0.80


@pytest.mark.parametrize("cls", BASELINES, ids=lambda c: c.__name__)
def test_anneal_categoricals_missing_numeric_labels(cls, load_dataset):
    X, y = load_dataset("anneal")
    codes = {c: i * 10 + 3 for i, c in enumerate(sorted(y.unique()))}  # numeric, non-contiguous
    y = y.map(codes).astype(int)
    Xtr, Xte, ytr, yte = _split(X, y)
    model = cls(time_limit=10, cores=1, seed=0).fit(Xtr, ytr)
    assert set(model.classes_) == set(codes.values())
    proba = model.predict_proba(Xte)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    assert accuracy_score(yte, model.predict(Xte)) >= 0.90


def test_constant_predictor_is_the_training_prior(load_dataset):
    X, y = load_dataset("arrhythmia")
    model = ConstantPredictor().fit(X, y)
    prior = y.value_counts(normalize=True).reindex(model.classes_).to_numpy()
    np.testing.assert_allclose(model.predict_proba(X.iloc[:5]), np.tile(prior, (5, 1)))


def test_cores_and_seed_reach_the_backend():
    import pandas as pd
    from sklearn.datasets import load_digits

    d = load_digits(as_frame=True)
    X, y = d.data, pd.Series(d.target)
    a = RandomForest(cores=2, seed=7, n_estimators=20).fit(X, y)
    b = RandomForest(cores=2, seed=7, n_estimators=20).fit(X, y)
    assert a.model_[-1].n_jobs == 2 and a.model_[-1].random_state == 7
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert XGBoost(cores=2, seed=3, n_estimators=5).fit(X, y).model_.get_params()["n_jobs"] == 2
    assert LightGBM(cores=2, seed=3, n_estimators=5).fit(X, y).model_.get_params()["n_jobs"] == 2


def test_smoke_run_with_catboost_and_tuned_rf_gives_ok_rows(tmp_path):
    """The smoke suite at a 3 s budget, one fold: every job ok, each fit inside its budget
    (plus the worker's 10% margin), with a model, a trajectory and a saved model's size."""
    ok, reason = registry.get("catboost").status()
    if not ok:
        pytest.skip(f"catboost: {reason}")
    out = tmp_path / "run"
    proc = run_cli("run", "--suite", "smoke", "--frameworks", "constant,catboost,tuned_rf",
                   "--budget", 3, "--folds", 1, "--parallel", 2, "--out", out, "--no-report",
                   env={"AUTOML_BENCH_CACHE": str(tmp_path / "cache")})  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = pd.read_csv(out / "results.csv")
    assert sorted(rows["framework"]) == sorted(["constant", "catboost", "tuned_rf"] * 2)
    assert (rows["status"] == "ok").all(), rows[["framework", "task", "error_message"]]
    ours = rows[rows["framework"] != "constant"]
    assert (ours["training_duration"] <= ours["budget_s"] * 1.1).all(), ours["training_duration"]
    assert ours["stop_reason"].isin(["converged", "deadline"]).all()
    assert (ours["models_count"] >= 1).all() and (ours["model_size_mb"] > 0).all()
    catboost = rows[rows["framework"] == "catboost"]
    assert (catboost["trajectory_points"] == catboost["rounds"]).all()
    assert catboost["best_model"].str.startswith("CatBoostClassifier (").all()
    assert rows.loc[rows["framework"] == "tuned_rf", "best_model"].str.contains(
        r"^RandomForestClassifier \(max_features=\d+, \d+ trees\)$").all()

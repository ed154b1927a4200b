"""Boosting baselines stop at their time budget instead of running all rounds."""

from __future__ import annotations

import pytest
from sklearn.datasets import make_classification

from automl_bench_adapters.lgbm import LightGBM
from automl_bench_adapters.xgb import XGBoost


@pytest.mark.parametrize("cls", [XGBoost, LightGBM], ids=lambda c: c.__name__)
def test_boosting_stops_at_time_limit(cls):
    import pandas as pd

    X, y = make_classification(600, 300, n_informative=30, n_classes=8, random_state=0)
    X = pd.DataFrame(X)
    model = cls(time_limit=1.0, n_estimators=100_000, learning_rate=0.01).fit(X, y)
    # far below 100k rounds, at any load; how close the fit kept to 1 s is measured by
    # tests/benchmarks/budget_adherence.py
    assert 1 <= model.rounds_ < 100_000
    assert model.predict_proba(X).shape == (600, 8)
    # the row says so: the deadline, not the round count, ended it
    assert model.stop_reason_ == "deadline" and str(model.rounds_) in model.best_model_


@pytest.mark.parametrize("cls", [XGBoost, LightGBM], ids=lambda c: c.__name__)
def test_boosting_that_finishes_its_rounds_converged(cls):
    import pandas as pd

    X, y = make_classification(200, 10, n_informative=5, n_classes=3, random_state=0)
    model = cls(time_limit=60.0, n_estimators=20).fit(pd.DataFrame(X), y)
    assert model.rounds_ == 20 and model.stop_reason_ == "converged"
    assert 55 < model.search_budget_s_ <= 60

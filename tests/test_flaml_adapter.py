"""FLAML behind the adapter interface, on real data with short budgets."""

from __future__ import annotations

import time

import numpy as np
import pytest
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

from automl_bench_adapters.base import AdapterError
from automl_bench_adapters.flaml_automl import FLAML

pytest.importorskip("flaml", reason="FLAML is not installed: pip install -e '.[flaml]'")


def _split(X, y):
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


def test_semeion_string_labels(load_dataset, tmp_path):
    X, y = load_dataset("semeion")
    Xtr, Xte, ytr, yte = _split(X, y)
    model = FLAML(time_limit=10, cores=1, seed=0, scratch_dir=str(tmp_path)).fit(Xtr, ytr)
    proba = model.predict_proba(Xte)
    assert list(model.classes_) == sorted(y.unique())
    assert proba.shape == (len(Xte), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    assert (model.predict(Xte) == model.classes_[proba.argmax(axis=1)]).all()
    # labels line up with the probability columns: far above guessing (0.10); the 0.85 floor
    # depends on how much search the machine allowed: tests/benchmarks/budget_adherence.py
    assert accuracy_score(yte, model.predict(Xte)) >= 0.5
    # what the backend did: the budget handed to FLAML, the chosen learner, why it ended
    assert 8.4 <= model.search_budget_s_ <= 10  # less a wrap-up of at most 15%
    assert model.best_model_ == model.best_estimator_
    assert model.stop_reason_ in ("converged", "budget", "deadline")
    # extras: trials run, best loss per estimator, the chosen one first
    assert model.models_count_ >= 2
    board = model.leaderboard_
    assert {"estimator", "best_loss", "trials"} <= set(board.columns)
    assert board["trials"].sum() == model.models_count_
    assert board.iloc[0]["best"] and board.iloc[0]["estimator"] == model.best_estimator_
    assert model.model_._state.metric == "log_loss"
    assert (tmp_path / "flaml.log").exists()  # FLAML's log stays in the job's scratch


def test_anneal_categoricals_missing_numeric_labels(load_dataset):
    X, y = load_dataset("anneal")  # 32 string columns, 22175 missing values
    codes = {c: 10 * i + 3 for i, c in enumerate(sorted(y.unique()))}
    y = y.map(codes).astype(int)
    Xtr, Xte, ytr, yte = _split(X, y)
    model = FLAML(time_limit=5, cores=1, seed=0).fit(Xtr, ytr)
    assert list(model.classes_) == sorted(codes.values())
    proba = model.predict_proba(Xte)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    pred = model.predict(Xte)
    assert pred.dtype.kind == "i"  # integer labels come back as integers
    # the majority class alone is 76%: a label mix-up would fall below it
    assert accuracy_score(yte, pred) > yte.value_counts(normalize=True).max()


def test_no_model_in_budget_is_an_adapter_error(load_dataset):
    X, y = load_dataset("arrhythmia")
    with pytest.raises(AdapterError, match="FLAML found no model within time_budget"):
        FLAML(time_limit=0.01, cores=1, seed=0).fit(X, y)


# FLAML bounds neither its final retraining on all rows nor a trial of a learner that cannot
# be stopped: the adapter does (adapters/flaml_deadline.py). Learners made slow on purpose,
# run by the real FLAML: one that cannot be stopped (it sleeps), one that boosts slowly and is
# stopped by the time it is given.


def _with_learner(name, learner):
    class WithLearner(FLAML):
        def _run(self, automl, X, y, budget):
            automl.add_learner(name, learner)
            super()._run(automl, X, y, budget)

    return WithLearner


@pytest.mark.parametrize("sleeps_in", ["second trial", "retraining"])
def test_a_learner_that_cannot_be_stopped_is_left_at_the_time_limit(load_dataset, sleeps_in):
    from flaml.automl.model import KNeighborsEstimator

    class Sleeps(KNeighborsEstimator):  # k-NN: trials and retraining cost next to nothing
        calls = 0

        def fit(self, X_train, y_train, budget=None, free_mem_ratio=0, **kwargs):
            type(self).calls += 1
            if kwargs.get("is_retrain") if sleeps_in == "retraining" else type(self).calls == 2:
                time.sleep(120)  # far beyond the 8 s budget: only leaving it ends fit
            return super().fit(X_train, y_train, budget, free_mem_ratio, **kwargs)

    X, y = load_dataset("semeion")
    Xtr, Xte, ytr, yte = _split(X, y)
    # 300 rows, k-NN and a holdout: a trial takes milliseconds even on a busy machine, so the
    # second trial starts, and the search ends close enough to its end that FLAML's
    # retraining (estimated at a trial's cost) has time to start
    Xtr, ytr = Xtr.iloc[:300], ytr.iloc[:300]
    model = _with_learner("sleepy", Sleeps)(time_limit=8, cores=1, seed=0,
                                             estimator_list=["sleepy"], eval_method="holdout")  # fmt: skip
    t0 = time.monotonic()
    model.fit(Xtr, ytr)
    assert time.monotonic() - t0 < 120  # the 120 s sleep did not hold fit
    assert Sleeps.calls >= 2
    assert model.timings_["abandoned_at_limit"] == 1.0, model.timings_
    assert model.stop_reason_ == "deadline"
    if sleeps_in == "retraining":  # it started, and was left
        assert "retrain_skipped" not in model.timings_
    # the model kept is the best trial's, fitted: real probabilities in class order
    proba = model.predict_proba(Xte)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    assert list(model.classes_) == sorted(y.unique())
    assert accuracy_score(yte, model.predict(Xte)) >= 0.3  # guessing: 0.10


def test_a_slow_boosting_retraining_stops_at_the_time_it_is_given(load_dataset):
    from flaml.automl.model import LGBMEstimator

    X, y = load_dataset("semeion")
    Xtr, Xte, ytr, yte = _split(X, y)

    class BoostsSlowlyOnAllRows(LGBMEstimator):
        def fit(self, X_train, y_train, budget=None, free_mem_ratio=0, **kwargs):
            if len(X_train) == len(Xtr):  # the retraining: all rows, 1000 rounds of 0.2 s
                self.params["n_estimators"] = 1000
                kwargs["callbacks"] = [lambda env: time.sleep(0.2)]
            return super().fit(X_train, y_train, budget, free_mem_ratio, **kwargs)

    adapter = _with_learner("slow_lgbm", BoostsSlowlyOnAllRows)
    model = adapter(time_limit=8, cores=1, seed=0, estimator_list=["slow_lgbm"],
                    eval_method="holdout")  # fmt: skip
    t0 = time.monotonic()
    model.fit(Xtr, ytr)
    assert time.monotonic() - t0 < 200  # unbounded, the retraining alone takes 200 s
    assert model.timings_["abandoned_at_limit"] == 0.0
    assert model.timings_["retrain_skipped"] == 0.0
    assert 0 < model.timings_["retrain_given_s"] <= 8
    booster = model.model_.model.estimator
    assert 1 <= booster.n_estimators < 1000  # boosting stopped at the time given
    proba = model.predict_proba(Xte)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    assert list(model.classes_) == sorted(y.unique())

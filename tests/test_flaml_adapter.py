"""FLAML behind the adapter interface, on real data with short budgets."""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split

from automl_bench.paths import shipped_data_dir
from automl_bench_adapters.base import AdapterError
from automl_bench_adapters.flaml_automl import FLAML
from automl_bench_adapters.preprocess import as_category

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


# A learner that "cannot be stopped" waits on RELEASE: after each test it is released and
# every thread the test left (FLAML's search, abandoned by the adapter at its time limit) is
# waited for, so no FLAML thread of one test runs on into the next test's search (FLAML keeps
# its search state in module globals, which such a thread would change under it).
RELEASE = threading.Event()


@pytest.fixture(autouse=True)
def _no_thread_outlives_its_test():
    before = set(threading.enumerate())
    RELEASE.clear()
    yield
    RELEASE.set()
    deadline = time.monotonic() + 60
    for t in set(threading.enumerate()) - before:
        t.join(timeout=max(0.0, deadline - time.monotonic()))


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
                RELEASE.wait(120)  # far beyond the 8 s budget: only leaving it ends fit
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


def test_a_slow_boosting_retraining_cut_at_the_time_it_is_given_is_not_deployed(load_dataset):
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
    # retrain_safety 4: the search ends early enough for the retraining to start even on a
    # busy machine (else it is skipped, rightly, and there is nothing to cut)
    model = adapter(time_limit=8, cores=1, seed=0, estimator_list=["slow_lgbm"],
                    eval_method="holdout", retrain_safety=4)  # fmt: skip
    t0 = time.monotonic()
    model.fit(Xtr, ytr)
    assert time.monotonic() - t0 < 200  # unbounded, the retraining alone takes 200 s
    assert model.timings_["abandoned_at_limit"] == 0.0
    assert model.timings_["retrain_skipped"] == 0.0
    assert 0 < model.timings_["retrain_given_s"] <= 8
    # boosting stopped at the time given, short of the validated rounds: a model cut to a few
    # rounds is not the one validated, the best trial's model is deployed instead
    assert model.timings_["retrain_cut"] == 1.0, model.timings_
    assert model.timings_["deployed_rounds"] == model.timings_["validated_rounds"]
    assert model.model_.model is model.model_._search_states["slow_lgbm"].trained_estimator
    proba = model.predict_proba(Xte)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    assert list(model.classes_) == sorted(y.unique())


# The model deployed is the model validated (issues 24 and 29). FLAML's search stops a
# trial's boosting at the trial's time limit but records the n_estimators it proposed: retrained
# as recorded, a trial validated at a few rounds boosts many more (on mfeat-factors, validation
# log loss 0.205, test 4.418). Data from the repository: mfeat-factors ships with the package.

MFEAT = shipped_data_dir() / "hd-real" / "mfeat-factors.parquet"


def _mfeat():
    df = pd.read_parquet(MFEAT)
    return df.drop(columns=["class"]), df["class"]


def _rounds(flaml_estimator) -> int:
    """Boosting rounds a FLAML LightGBM estimator's fitted model predicts with."""
    inner = flaml_estimator.model
    return int(inner.best_iteration_ or inner.booster_.current_iteration())


def _deployed(model):
    kept = getattr(model, "kept_trial_model_", None)
    return kept if kept is not None else model.model_.model


def test_a_trial_cut_short_is_deployed_with_the_rounds_it_was_validated_with():
    from flaml.automl.model import LGBMEstimator

    X, y = _mfeat()
    Xtr, Xte, ytr, yte = _split(X.iloc[:800], y.iloc[:800])
    trials = []  # (learning rate, leaves, rounds trained) of every trial

    class CutShort(LGBMEstimator):
        """Every trial proposes 400 rounds of 0.02 s and is given 0.3 s: its boosting stops
        at a few rounds, as FLAML's trials near the end of a search are stopped."""

        def fit(self, X_train, y_train, budget=None, free_mem_ratio=0, **kwargs):
            kwargs["callbacks"] = [lambda env: time.sleep(0.02)]
            if len(X_train) == len(Xtr):  # the final retraining, on all rows: as configured
                return super().fit(X_train, y_train, budget, free_mem_ratio, **kwargs)
            self.params["n_estimators"] = 400
            out = super().fit(X_train, y_train, min(budget or 0.3, 0.3), free_mem_ratio, **kwargs)
            trials.append((self.params["learning_rate"], self.params["num_leaves"], _rounds(self)))
            return out

    # 20 s: room for the retraining, so the search is not abandoned at the limit (an abandoned
    # search thread may still move best_config, which the test reads after fit)
    model = _with_learner("cut_short", CutShort)(time_limit=20, cores=1, seed=0,
                                                 estimator_list=["cut_short"],
                                                 eval_method="holdout")  # fmt: skip
    model.fit(Xtr, ytr)
    validated = model.model_._search_states["cut_short"].best_config
    assert validated["n_estimators"] == 400  # what FLAML records: the rounds it proposed
    rounds = {(lr, leaves): r for lr, leaves, r in trials}
    validated_rounds = rounds[validated["learning_rate"], validated["num_leaves"]]
    assert validated_rounds < 400  # the validated model was cut short
    deployed = _deployed(model)
    # the deployed model: the validated configuration with the validated rounds
    assert deployed.params["learning_rate"] == validated["learning_rate"]
    assert deployed.params["num_leaves"] == validated["num_leaves"]
    assert _rounds(deployed) == validated_rounds, model.timings_
    assert model.timings_["deployed_rounds"] == model.timings_["validated_rounds"]
    proba = model.predict_proba(Xte)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)


def test_after_an_abandoned_retraining_the_best_trial_model_predicts(tmp_path):
    import copy

    from flaml.automl.model import LGBMEstimator

    X, y = _mfeat()
    Xtr, Xte, ytr, yte = _split(X.iloc[:600], y.iloc[:600])
    snapshots = []  # a copy of every trial's fitted model, taken when its trial ended

    class RetrainHangs(LGBMEstimator):
        def fit(self, X_train, y_train, budget=None, free_mem_ratio=0, **kwargs):
            if len(X_train) == len(Xtr):  # the final retraining: left at the time limit
                RELEASE.wait(120)
            out = super().fit(X_train, y_train, budget, free_mem_ratio, **kwargs)
            snapshots.append(copy.deepcopy(self))
            return out

    # retrain_safety 4: the retraining starts (rather than being skipped) on a busy machine
    model = _with_learner("hangs", RetrainHangs)(time_limit=8, cores=1, seed=0,
                                                 scratch_dir=str(tmp_path),
                                                 estimator_list=["hangs"], retrain_safety=4,
                                                 eval_method="holdout")  # fmt: skip
    t0 = time.monotonic()
    model.fit(Xtr, ytr)
    assert time.monotonic() - t0 < 60  # the 120 s sleep did not hold fit
    assert model.timings_["abandoned_at_limit"] == 1.0, model.timings_
    # the best trial as FLAML's search selected it: the lowest loss on FLAML's holdout
    state = model.model_._state
    losses = [log_loss(state.y_val, s.predict_proba(state.X_val), labels=s.classes_)
              for s in snapshots]  # fmt: skip
    best = snapshots[int(np.argmin(losses))]
    assert min(losses) == pytest.approx(model.trajectory()["best_loss"].iloc[-1], rel=1e-6)
    Xp, _ = as_category(Xte.reset_index(drop=True), model.categories_)
    expected = np.zeros((len(Xte), len(model.classes_)))
    expected[:, np.asarray(model.model_.classes_).astype(int)] = best.predict_proba(
        model.model_.preprocess(Xp))
    np.testing.assert_allclose(model.predict_proba(Xte), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fold", [0, 1])
def test_mfeat_factors_deploys_the_validated_rounds(fold, tmp_path):
    """The model deployed on each mfeat-factors fold has the validated trial's rounds
    (boosting rounds, or trees), and its validation loss is recorded. Whether the test log
    loss stays within issue 29's rule (above both 3x the validation loss and the constant's:
    flagged) depends on what a 20 s search found, so that is measured by
    tests/benchmarks/flaml_validated_model.py (`--part hd-real --tasks mfeat-factors`), not
    asserted here: a CI run once saw fold 1 at test 4.53 against validation 0.20 (issue 29)."""
    from automl_bench.data.folds import stratified_folds

    X, y = _mfeat()
    tr, te = stratified_folds(y, 2, 0)[fold]
    model = FLAML(time_limit=20, cores=1, seed=0, scratch_dir=str(tmp_path))
    model.fit(X.iloc[tr], y.iloc[tr])
    proba = model.predict_proba(X.iloc[te])
    assert proba.shape == (len(te), len(model.classes_))
    assert np.isfinite(model.trajectory()["best_loss"].iloc[-1])
    if "validated_rounds" in model.timings_:
        assert model.timings_["deployed_rounds"] == model.timings_["validated_rounds"]

"""FLAML kept inside the job's time limit.

FLAML bounds its search by ``time_budget`` but not everything inside it: a trial of a learner
that cannot be stopped (SGD, logistic regression, k-NN, SVC) runs as long as it takes (an SGD
trial started at 23 s of a 60 s budget on a 100-class task was still running 40 s past the
budget), and the final retraining of the chosen configuration on all rows
(``retrain_full=True``) runs with no time limit at all (FLAML sets its ``time_budget`` to -1
first). Three parts keep it inside:

- :class:`RetrainGuard`, while FLAML searches, ends the search early by what the retraining is
  measured to cost (FLAML's own estimate for its best configuration so far, times a safety
  factor), instead of by a fixed share of the budget.
- :class:`BoundedRetrain` bounds the retraining itself, because that estimate can be wrong (a
  trial that ends after the search's end can become the best: XGBoost on letter at 60 s,
  whose retraining took 11.6 s where 2.9 s were left). When less time is left than FLAML
  estimates the retraining needs, the best trial's model is kept without retraining, as FLAML
  itself does when its time budget runs out first (a boosted model cut to a few rounds would
  be worse). Otherwise learners that stop at a time limit of their own are given the time
  left: FLAML's LightGBM, XGBoost and CatBoost check the clock after every boosting round;
  for random forest and extra trees FLAML times one and four trees and grows as many as fit.
  What is retrained is the validated model's configuration with the rounds that model was
  trained with (FLAML records the ``n_estimators`` it proposed, while a trial's boosting
  stops at the trial's time limit), and a retraining its time limit stopped short of those
  rounds is not deployed: the best trial's model is.
- :func:`fit_until`: FLAML's whole fit runs on a thread. If it has not returned at the job's
  time limit (a trial or a retraining that cannot be stopped is still running), the adapter
  stops waiting and keeps the model the best trial trained (on FLAML's training split, the
  model FLAML itself uses with ``retrain_full=False``; it is there because the adapter sets
  ``model_history=True``, which keeps each learner's best trial model). The abandoned thread
  ends with the job's process.
"""

from __future__ import annotations

import threading
import time


def _stops_itself(learner) -> bool:
    """Does FLAML's learner class honour the ``budget`` its fit is given?"""
    try:
        from flaml.automl.model import CatBoostEstimator, LGBMEstimator, XGBoostEstimator
    except ImportError:  # FLAML moved its classes: unbounded; fit_until still guards
        return False
    return isinstance(learner, type) and issubclass(
        learner, (LGBMEstimator, XGBoostEstimator, CatBoostEstimator)
    )


def best_trial_model(automl):
    """The model FLAML's best trial trained (kept by ``model_history=True``), or None."""
    try:
        model = automl._search_states[automl._best_estimator].trained_estimator
    except (AttributeError, KeyError, TypeError):
        return None
    return model if getattr(model, "model", None) is not None else None


def fitted_rounds(model) -> int | None:
    """Boosting rounds (trees, for a forest) a FLAML estimator's fitted model predicts with, or
    None for a learner without rounds. FLAML's learners stop boosting at the time limit they
    are given, but FLAML records the configuration it proposed, not the rounds trained: a trial
    cut short is validated with fewer rounds than its configuration's ``n_estimators``."""
    inner = getattr(model, "model", None)
    if inner is None:
        return None
    try:
        if hasattr(inner, "booster_"):  # LightGBM: best_iteration_ once a callback stopped it
            return int(getattr(inner, "best_iteration_", 0) or inner.booster_.current_iteration())
        if hasattr(inner, "get_booster"):  # XGBoost
            booster = inner.get_booster()
            best = getattr(booster, "best_iteration", None)
            return int(best) + 1 if best is not None else int(booster.num_boosted_rounds())
        if hasattr(inner, "estimators_"):  # random forest, extra trees
            return len(inner.estimators_)
        if hasattr(inner, "tree_count_"):  # CatBoost
            return int(inner.tree_count_)
    except Exception:  # not fitted, or the library changed: unknown
        return None
    return None


def as_validated(config: dict, rounds: int | None) -> dict:
    """FLAML's configuration with ``n_estimators`` set to the rounds the validated model has."""
    if rounds is None or "n_estimators" not in config:
        return config
    return {**config, "n_estimators": int(rounds)}


class _Call(threading.Thread):
    def __init__(self, call):
        super().__init__(daemon=True, name="flaml-fit")
        self.call, self.error = call, None

    def run(self) -> None:
        try:
            self.call()
        except BaseException as e:  # handed to the caller's thread
            self.error = e


def free_others(automl, keep) -> None:
    """Free every learner's best-trial model but ``keep`` (the model predictions use): what
    ``model_history=True`` kept only as a fallback is not part of the fitted model."""
    for state in getattr(automl, "_search_states", {}).values():
        model = getattr(state, "trained_estimator", None)
        if model is not None and model is not keep and getattr(model, "model", None) is not None:
            model.cleanup()


def fit_until(fit, automl, deadline: float):
    """Run ``fit()`` (FLAML's fit) on a thread until ``deadline`` (wall clock). Returns None
    when it returned in time (its exception, if any, is raised here), else the best trial's
    model to use instead; with no such model it waits for fit to return."""
    call = _Call(fit)
    call.start()
    call.join(max(deadline - time.time(), 0.0))
    if call.is_alive():
        model = best_trial_model(automl)
        if model is not None:
            model.cleanup = lambda: None  # FLAML's thread frees replaced models: not this one
            try:  # once its trial ends, FLAML's thread ends its search (and BoundedRetrain
                automl._state.time_budget = 0.001  # returns at once: see its ``left``)
            except AttributeError:
                pass
            return model
        call.join()  # nothing to fall back on: the harness's hard limit still holds
    if call.error is not None:
        raise call.error
    return None


class BoundedRetrain:
    """Wraps ``automl._state._train_with_config`` so the final retraining (``is_retrain``)
    retrains the validated model's configuration, rounds included, and is deployed only when
    it is that configuration trained in full; else the best trial's model (the validated model
    itself) is kept.

    The retraining runs only when the time left until halfway between ``end`` (where the
    search budget ends, wall clock) and ``deadline`` (the job's time limit) covers FLAML's
    estimate of it, and a learner that stops itself is given that time. Its ``n_estimators``
    is the number of rounds the best trial's model was trained with (FLAML's search stops a
    trial's boosting at the trial's time limit, and keeps the proposed ``n_estimators`` as the
    configuration: retrained as recorded, a trial validated at 12 rounds of learning rate 0.6
    boosts 200). A retraining that its time limit stopped short of those rounds is not the
    validated configuration: the best trial's model is kept instead.

    After fit: ``seconds`` (the retraining's wall time), ``given_s`` (the time limit handed to
    a learner that stops itself; None for the others), ``skipped`` (too little time was left:
    the best trial's model is kept without retraining), ``cut`` (the retraining stopped short
    of the validated rounds: the best trial's model is kept), ``validated_rounds`` (the best
    trial's model's rounds, None for a learner without rounds).
    """

    def __init__(self, automl, guard: RetrainGuard, end: float, deadline: float):
        self.automl, self.guard, self.end, self.deadline = automl, guard, end, deadline
        self.seconds: float | None = None
        self.given_s: float | None = None
        self.skipped = self.cut = False
        self.validated_rounds: int | None = None
        self.left = None  # the model fit_until kept, when it stopped waiting for FLAML
        state = automl._state
        self._train = state._train_with_config
        state._train_with_config = self._bounded

    def _bounded(self, estimator, config_w_resource, sample_size=None, is_retrain=False):
        if not is_retrain:
            return self._train(estimator, config_w_resource, sample_size, is_retrain)
        self.guard.stop()  # the search is over: nothing may move the retraining's limit
        fallback = best_trial_model(self.automl)
        if self.left is not None:  # fit_until already left FLAML: nothing is waiting for it
            return fallback, 0.0
        # the retraining may run halfway into the wrap-up margin between the end of the
        # search budget and the job's time limit (FLAML's own wrap-up after it is short)
        left = (self.end + self.deadline) / 2 - time.time()
        need = self.guard.retrain_cost()  # FLAML's own estimate for the best configuration
        if fallback is not None and need is not None and left < need:
            # no time for it (the last trial ended late): the best trial's model, as FLAML
            # itself decides when its time_budget is left, rather than a retraining cut short
            self.skipped, self.seconds = True, 0.0
            return fallback, 0.0
        self.validated_rounds = fitted_rounds(fallback)
        config = as_validated(config_w_resource, self.validated_rounds)
        model, seconds = self._retrain(estimator, config, sample_size, left)
        if fallback is not None and self.validated_rounds is not None:
            if (fitted_rounds(model) or 0) < self.validated_rounds:
                self.cut = True  # stopped short of the validated rounds: not that model
                return fallback, seconds
        return model, seconds

    def _retrain(self, estimator, config, sample_size, left: float):
        """FLAML's retraining of ``config`` on all rows, a learner that stops itself given
        ``left`` seconds."""
        state, start, is_retrain = self.automl._state, time.time(), True
        if _stops_itself(state.learner_classes.get(estimator)):
            # FLAML hands its learner time_budget - time_from_start; is_retrain=False lets
            # random forest and extra trees time their first trees against it
            self.given_s = max(left, 0.01)
            state.time_from_start = start - self.automl._start_time_flag
            state.time_budget = state.time_from_start + self.given_s
            is_retrain = False
        try:
            return self._train(estimator, config, sample_size, is_retrain)
        finally:
            state.time_budget = -1  # as FLAML left it
            self.seconds = time.time() - start


class RetrainGuard(threading.Thread):
    """Keeps FLAML's end of search at ``end`` (wall clock) less the measured cost of the
    final retraining of its best configuration so far (moving it back later when a cheaper
    configuration becomes the best, up to FLAML's own time_budget).

    FLAML reads ``_state.time_budget`` (seconds after its own start) before every trial and
    bounds each trial by it; it sets it to -1 itself when the retraining starts, and the
    guard never touches that value.
    """

    def __init__(self, automl, end: float, safety: float, every_s: float = 0.1):
        super().__init__(daemon=True, name="flaml-retrain-guard")
        self.automl, self.end, self.safety, self.every_s = automl, end, safety, every_s
        self._halt = threading.Event()
        self.lowered = False
        self.retrain_s = 0.0
        self.last_budget: float | None = None

    def stop(self) -> None:
        self._halt.set()
        self.join(5)

    def search_end_s(self, budget: float) -> float:
        """Where FLAML's end of search was last set (seconds after its start)."""
        return self.last_budget if self.last_budget is not None else budget

    def retrain_cost(self) -> float | None:
        """FLAML's estimate of retraining its best configuration so far on all rows."""
        a = self.automl
        state = getattr(a, "_state", None)
        best = getattr(a, "_best_estimator", None)
        if state is None or best is None or not hasattr(a, "data_size_full"):
            return None
        search = a._search_states.get(best)
        if search is None or not getattr(search, "best_config_sample_size", None):
            return None
        est = search.est_retrain_time(a.data_size_full)
        if getattr(state, "eval_method", None) == "cv":  # time2eval covers k fits of (k-1)/k
            k = max(2, int(getattr(a, "_settings", {}).get("n_splits", 5) or 5))
            est = est / (k - 1)
        return est

    def run(self) -> None:
        original = None
        while not self._halt.wait(self.every_s):
            try:
                state = getattr(self.automl, "_state", None)
                start = getattr(self.automl, "_start_time_flag", None)
                if state is None or start is None or getattr(state, "time_budget", -1) <= 0:
                    continue
                if original is None:
                    original = state.time_budget
                cost = self.retrain_cost()
                if cost is None:
                    continue
                est = cost * self.safety
                # the best configuration changes as FLAML searches: follow its cost both ways
                target = min(original, max(self.end - start - est, 0.01))
                if state.time_budget > 0 and target != state.time_budget:
                    state.time_budget = target
                self.lowered = target < original
                self.retrain_s = est
                self.last_budget = target
            except Exception:  # FLAML's internals changed: its own time_budget still holds
                continue

"""FLAML's final retraining, kept inside the job's time limit.

FLAML retrains its chosen configuration on all rows after the search (``retrain_full=True``)
and runs that step with no time limit of its own (it sets its ``time_budget`` to -1 first).
Two parts keep it inside the budget:

- :class:`RetrainGuard`, while FLAML searches, ends the search early by what the retraining is
  measured to cost (FLAML's own estimate for its best configuration so far, times a safety
  factor), instead of by a fixed share of the budget.
- :class:`BoundedRetrain` bounds the retraining itself, because that estimate can be wrong: a
  trial that ends after the search's end can become the best (XGBoost on letter at 60 s:
  retraining took 11.6 s where 2.9 s were left), and a learner can need far longer on all rows
  than on the trial's (SGD on a 100-class task: ~46 s where 2.7 s were estimated). So the
  retraining gets the time left until the end of the search budget:

  * learners that stop at a time limit of their own are given it: FLAML's LightGBM, XGBoost
    and CatBoost check the clock after every boosting round; for random forest and extra
    trees FLAML times one and four trees and then grows as many as fit;
  * the others (SGD, logistic regression, k-NN, SVC) cannot be stopped. Every retraining runs
    on a thread, and one still running at the job's time limit is abandoned: the adapter keeps
    the model the best trial trained (on FLAML's training split, the model FLAML itself uses
    with ``retrain_full=False``; FLAML keeps it because the adapter sets
    ``model_history=True``, which keeps each learner's best trial model). The abandoned
    thread ends with the job's process.
"""

from __future__ import annotations

import threading
import time


def _stops_itself(learner) -> bool:
    """Does FLAML's learner class honour the ``budget`` its fit is given?"""
    try:
        from flaml.automl.model import CatBoostEstimator, LGBMEstimator, XGBoostEstimator
    except ImportError:  # FLAML moved its classes: run unbounded, the thread still guards
        return False
    return isinstance(learner, type) and issubclass(
        learner, (LGBMEstimator, XGBoostEstimator, CatBoostEstimator)
    )


class _Call(threading.Thread):
    def __init__(self, call):
        super().__init__(daemon=True, name="flaml-retrain")
        self.call, self.result, self.error = call, None, None

    def run(self) -> None:
        try:
            self.result = self.call()
        except BaseException as e:  # handed to the caller's thread
            self.error = e

    def outcome(self):
        if self.error is not None:
            raise self.error
        return self.result


class BoundedRetrain:
    """Wraps ``automl._state._train_with_config`` so the final retraining (``is_retrain``)
    gets the time left until ``end`` (where the search budget ends, wall clock) and is
    abandoned for the best trial's model at ``deadline`` (the job's time limit).

    After fit: ``seconds`` (the retraining's wall time, until it ended or was abandoned),
    ``given_s`` (the time limit handed to a learner that stops itself; None for the others),
    ``abandoned``.
    """

    def __init__(self, automl, guard: RetrainGuard, end: float, deadline: float):
        self.automl, self.guard, self.end, self.deadline = automl, guard, end, deadline
        self.seconds: float | None = None
        self.given_s: float | None = None
        self.abandoned = False
        state = automl._state
        self._train = state._train_with_config
        state._train_with_config = self._bounded

    def _bounded(self, estimator, config_w_resource, sample_size=None, is_retrain=False):
        if not is_retrain:
            return self._train(estimator, config_w_resource, sample_size, is_retrain)
        self.guard.stop()  # the search is over: nothing may move the retraining's limit
        state, start = self.automl._state, time.time()
        if _stops_itself(state.learner_classes.get(estimator)):
            # FLAML hands its learner time_budget - time_from_start; is_retrain=False lets
            # random forest and extra trees time their first trees against it
            self.given_s = max(self.end - start, 0.01)
            state.time_from_start = start - self.automl._start_time_flag
            state.time_budget = state.time_from_start + self.given_s
            is_retrain = False
        call = _Call(lambda: self._train(estimator, config_w_resource, sample_size, is_retrain))
        call.start()
        try:
            call.join(max(self.deadline - time.time(), 0.0))
            fallback = self.automl._search_states[estimator].trained_estimator
            if call.is_alive() and getattr(fallback, "model", None) is not None:
                self.abandoned = True
                self.seconds = time.time() - start
                return fallback, self.seconds
            call.join()  # nothing to fall back on: the job's own limit still holds
        finally:
            state.time_budget = -1  # as FLAML left it
        self.seconds = time.time() - start
        return call.outcome()


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

    def retrain_estimate(self) -> float | None:
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
        return est * self.safety

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
                est = self.retrain_estimate()
                if est is None:
                    continue
                # the best configuration changes as FLAML searches: follow its cost both ways
                target = min(original, max(self.end - start - est, 0.01))
                if state.time_budget > 0 and target != state.time_budget:
                    state.time_budget = target
                self.lowered = target < original
                self.retrain_s = est
                self.last_budget = target
            except Exception:  # FLAML's internals changed: its own time_budget still holds
                continue

"""FLAML (Microsoft): cost-frugal hyperparameter search over several learners.

Budget mapping: FLAML's ``time_budget`` = the job's whole time limit, its cores ``n_jobs``,
its seed ``seed``; the optimised metric is log loss unless the variant says otherwise.
FLAML's defaults are kept otherwise: in particular it retrains the chosen configuration on
all rows after the search (``retrain_full=True``), a step FLAML runs without a time limit (it
took 0.1-0.5 x the budget on wide tasks). :mod:`automl_bench_adapters.flaml_deadline` keeps it, and the
trials FLAML cannot stop, inside the budget: the search ends early by what the retraining is
measured to cost (FLAML's own estimate for its best configuration so far, times
``retrain_safety``), the retraining is given the time left (boosting and forests stop at it)
or skipped when too little is left, and if FLAML is still busy at the job's time limit the
best trial's model is used. The model deployed is the model validated: the retraining is the
best trial's configuration with the rounds that trial's model was trained with (FLAML records
the ``n_estimators`` it proposed, not the rounds a trial's time limit let it boost), and a
retraining its time limit stops short is replaced by the best trial's model. ``timings_``
records ``validated_rounds`` and ``deployed_rounds`` (boosting rounds or trees of the best
trial's model and of the model deployed) and ``retrain_cut``. The model sized and saved
(``deployable_model``) is the chosen learner's fitted model, not FLAML's AutoML object.
(``retrain_full="budget"`` is FLAML's own in-budget retraining, but it covers holdout only and
cost far more trials: 4 instead of 27 on semeion at 12 s.)

After fit the adapter exposes ``models_count_`` (trials run: every configuration FLAML
evaluated; AMLB counts ``len(config_history)``, only the configurations that improved on the
best so far, so its number is smaller), ``best_model_`` (the chosen learner),
``stop_reason_`` and ``leaderboard_`` (best loss, trials and training time per estimator).

``trajectory()`` reads FLAML's search log (``log_file_name`` in the scratch directory, FLAML's
default ``log_type="better"``: one record per trial that improved on the best so far, with
its seconds since FLAML's start and its validation loss: the variant's metric as FLAML's
loss, log loss by default, on FLAML's holdout or cross-validation, whichever it chose).

On a budget too small for any trial FLAML returns no model: that is an
:class:`AdapterError` (a failed job with a clear message), not a crash in predict.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd

from automl_bench_adapters.base import AdapterError, BaseAdapter, Capabilities, Requirements
from automl_bench_adapters.finish_cost import cpu_share
from automl_bench_adapters.flaml_deadline import (
    BoundedRetrain,
    RetrainGuard,
    best_trial_model,
    fit_until,
    fitted_rounds,
    free_others,
)
from automl_bench_adapters.preprocess import as_category
from automl_bench_adapters.stop_reason import stop_reason


class FLAML(BaseAdapter):
    requirements = Requirements(packages=("flaml", "lightgbm", "xgboost"), extra="flaml")
    capabilities = Capabilities(notes=("time budget is FLAML's own time_budget",))
    distribution = "flaml"

    def __init__(
        self,
        time_limit=60.0,
        cores=1,
        memory_mb=None,
        seed=0,
        scratch_dir=None,
        metric="log_loss",
        estimator_list="auto",
        eval_method="auto",
        retrain_full=True,
        retrain_safety=1.3,
        verbose=0,
    ):
        super().__init__(time_limit, cores, memory_mb, seed, scratch_dir)
        self.metric = metric
        self.estimator_list = estimator_list
        self.eval_method = eval_method
        self.retrain_full = retrain_full
        self.retrain_safety = retrain_safety
        self.verbose = verbose

    def _setup(self, X, y):
        """Import the backend (seconds of interpreter work, not search)."""
        import importlib

        importlib.import_module("flaml.automl")
        self._share = cpu_share()

    def _fit(self, X, y):
        from flaml import AutoML

        # FLAML's own transformer handles categoricals, but it needs pandas category dtype
        # with fixed categories so predict-time frames are coded the same way.
        X, self.categories_ = as_category(X)
        automl = AutoML()
        # FLAML's own wrap-up after the search and the trial in flight at its end: ~1 CPU
        # second (measured), longer in wall time when other processes share the core
        share = getattr(self, "_share", 1.0)
        budget = self.remaining() - min(1.0 / share, 0.15 * float(self.time_limit))
        if budget < 1.0:  # a tiny budget: FLAML gets what is left (and may find no model)
            budget = max(0.01, 0.9 * self.remaining())
        now = time.time()
        deadline = now + self.remaining()
        guard = RetrainGuard(automl, now + budget, self.retrain_safety)
        retrain = BoundedRetrain(automl, guard, end=now + budget, deadline=deadline)
        guard.start()
        try:
            kept = fit_until(lambda: self._run(automl, X, y, budget), automl, deadline)
        finally:
            guard.stop()
        # past the time limit FLAML was still training something it cannot stop: the best
        # trial's model is used, whatever FLAML's thread does after this
        self.kept_trial_model_ = retrain.left = kept
        # rounds (trees) of the validated model: the best trial's
        validated = fitted_rounds(kept if kept is not None else best_trial_model(automl))
        free_others(automl, kept if kept is not None else automl.model)
        self.search_budget_s_ = budget
        self.timings_ = self._timings(guard, retrain, share, budget)
        if validated is not None:
            self.timings_["validated_rounds"] = float(validated)
        if kept is not None:  # FLAML's log after this is of models not kept
            self._kept_at = time.time() - getattr(automl, "_start_time_flag", now)
        # FLAML's search was allowed ``budget``; what it used is the fit's time so far
        self.stop_reason_ = stop_reason(self.elapsed(), budget, lowered=guard.lowered,
                                        cut_short=kept is not None or retrain.skipped)
        if automl.model is None and kept is None:
            raise AdapterError(
                f"FLAML found no model within time_budget={self.time_limit:g}s "
                f"({self._trials(automl)} trials finished): raise the budget"
            )
        self.model_ = automl
        rounds = fitted_rounds(self._deployed())
        if rounds is not None:
            self.timings_["deployed_rounds"] = float(rounds)
        self.models_count_ = self._trials(automl)
        self.leaderboard_ = self._leaderboard(automl)
        self.best_estimator_ = self.best_model_ = self._learner(automl, kept)
        # FLAML's label transformer orders classes by its own encoding: keep the map
        self._proba_columns = np.asarray(automl.classes_).astype(int)

    @staticmethod
    def _timings(guard, retrain, share: float, budget: float) -> dict:
        """How the search ended and what the final retraining took, was given and kept."""
        out = {"retrain_estimate_s": guard.retrain_s, "cpu_share": share,
               "search_end_s": guard.search_end_s(budget),
               "abandoned_at_limit": float(retrain.left is not None)}  # fmt: skip
        if retrain.seconds is not None:  # what the final retraining took, and was given
            out["retrain_s"] = retrain.seconds
            out["retrain_skipped"] = float(retrain.skipped)
            out["retrain_cut"] = float(retrain.cut)  # stopped short: the trial's model kept
            if retrain.given_s is not None:
                out["retrain_given_s"] = retrain.given_s
        return out

    @staticmethod
    def _learner(automl, kept) -> str:
        """The learner whose model predictions use (FLAML's thread, left at the time limit,
        may still change its own best after the kept model was taken)."""
        for name, state in getattr(automl, "_search_states", {}).items():
            if kept is not None and getattr(state, "trained_estimator", None) is kept:
                return name
        return automl.best_estimator

    def _run(self, automl, X, y, budget: float) -> None:
        log_file = os.path.join(self.scratch_dir, "flaml.log") if self.scratch_dir else ""
        automl.fit(
            X,
            y,
            task="classification",
            metric=self.metric,
            time_budget=budget,
            n_jobs=int(self.cores),
            seed=int(self.seed),
            estimator_list=self.estimator_list,
            eval_method=self.eval_method,
            retrain_full=self.retrain_full,
            # keeps each learner's best trial model: the fallback when the final
            # retraining or a trial cannot finish in time (automl_bench_adapters.flaml_deadline)
            model_history=self.retrain_full is True,
            log_file_name=log_file,
            verbose=self.verbose,
        )

    @staticmethod
    def _trials(automl) -> int:
        return int(sum(getattr(automl, "_iter_per_learner", {}).values()))

    @staticmethod
    def _leaderboard(automl) -> pd.DataFrame:
        trials = getattr(automl, "_iter_per_learner", {})
        rows = []
        for name, state in automl._search_states.items():
            loss = state.best_loss
            rows.append(
                {
                    "estimator": name,
                    "best_loss": None if not np.isfinite(loss) else float(loss),
                    "trials": int(trials.get(name, 0)),
                    "best_config_train_time_s": getattr(state, "best_config_train_time", None),
                    "best": name == automl.best_estimator,
                }
            )
        board = pd.DataFrame(rows)
        return board.sort_values("best_loss", na_position="last").reset_index(drop=True)

    def trajectory(self):
        """FLAML's improving trials from its search log, as seconds since fit started."""
        automl = getattr(self, "model_", None)
        path = os.path.join(self.scratch_dir, "flaml.log") if self.scratch_dir else ""
        if automl is None or not path or not os.path.exists(path):
            return None
        from flaml.automl.training_log import training_log_reader

        from automl_bench_adapters.trajectory import LOG_LOSS, incumbents, wall_to_elapsed

        start = getattr(automl, "_start_time_flag", None)  # FLAML's own start (time.time())
        offset = wall_to_elapsed(self, start) if start is not None else 0.0
        kept_at = getattr(self, "_kept_at", float("inf"))  # trials ended after: not kept
        with training_log_reader(path) as reader:
            points = [(offset + r.wall_clock_time, r.validation_loss, r.learner)
                      for r in reader.records() if r.wall_clock_time <= kept_at]  # fmt: skip
        state = getattr(automl, "_state", None)
        method = getattr(state, "eval_method", None) or str(self.eval_method)
        if method == "cv":
            folds = getattr(automl, "_settings", {}).get("n_splits") or 5
            validation = f"FLAML {folds}-fold cross-validation"
        else:
            split = getattr(automl, "_settings", {}).get("split_ratio") or 0.1
            validation = f"FLAML holdout ({split:.0%} of the training rows)"
        name = LOG_LOSS if self.metric == "log_loss" else f"FLAML loss of {self.metric}"
        return incumbents(points, name, validation)

    def _deployed(self):
        """FLAML's estimator the predictions use: the kept trial's model, else FLAML's."""
        kept = getattr(self, "kept_trial_model_", None)
        return kept if kept is not None else self.model_.model

    def deployable_model(self):
        """The fitted model of FLAML's chosen learner (e.g. a LightGBM classifier), as FLAML's
        ``best_model_for_estimator`` holds it: not the AutoML object, which holds the search
        state and the adapter's threads."""
        return self._deployed().estimator

    def _predict_proba(self, X):
        X, _ = as_category(X, self.categories_)
        kept = getattr(self, "kept_trial_model_", None)
        if kept is not None:  # FLAML's own preprocessing, then the kept model
            raw = np.asarray(kept.predict_proba(self.model_.preprocess(X)), dtype=float)
        else:
            raw = np.asarray(self.model_.predict_proba(X), dtype=float)
        proba = np.zeros((len(X), len(self.classes_)))
        proba[:, self._proba_columns] = raw
        return proba

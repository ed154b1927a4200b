"""LightGBM baseline with default hyperparameters and native categorical support."""

from __future__ import annotations

from adapters.base import BaseAdapter, Capabilities, Requirements
from adapters.deadline import Deadline
from adapters.preprocess import as_category


class LightGBM(BaseAdapter):
    requirements = Requirements(packages=("lightgbm",))
    capabilities = Capabilities(notes=("native categoricals and missing values",))
    distribution = "lightgbm"

    def __init__(
        self,
        time_limit=60.0,
        cores=1,
        memory_mb=None,
        seed=0,
        scratch_dir=None,
        n_estimators=200,
        learning_rate=0.1,
        num_leaves=31,
    ):
        super().__init__(time_limit, cores, memory_mb, seed, scratch_dir)
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves

    def _fit(self, X, y):
        import lightgbm

        deadline = Deadline(self.remaining())
        X, self.categories_ = as_category(X)
        self.model_ = lightgbm.LGBMClassifier(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            n_jobs=self.cores,
            random_state=self.seed,
            verbose=-1,
        ).fit(X, y, callbacks=[deadline.lightgbm_callback()])
        self.models_count_ = 1
        self.rounds_ = int(self.model_.booster_.current_iteration())
        self.best_model_ = f"{type(self.model_).__name__} ({self.rounds_} rounds)"
        self.search_budget_s_ = deadline.seconds
        self.stop_reason_ = "deadline" if deadline.hit else "converged"

    def _predict_proba(self, X):
        X, _ = as_category(X, self.categories_)
        return self.model_.predict_proba(X)

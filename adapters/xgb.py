"""XGBoost baseline with default hyperparameters and native categorical support."""

from __future__ import annotations

from adapters.base import BaseAdapter, Capabilities, Requirements
from adapters.deadline import Deadline
from adapters.preprocess import as_category


class XGBoost(BaseAdapter):
    requirements = Requirements(packages=("xgboost",))
    capabilities = Capabilities(notes=("native categoricals and missing values",))
    distribution = "xgboost"

    def __init__(
        self,
        time_limit=60.0,
        cores=1,
        memory_mb=None,
        seed=0,
        scratch_dir=None,
        n_estimators=200,
        learning_rate=0.1,
        max_depth=6,
    ):
        super().__init__(time_limit, cores, memory_mb, seed, scratch_dir)
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth

    def _fit(self, X, y):
        import xgboost

        deadline = Deadline(self.remaining())
        X, self.categories_ = as_category(X)
        self.model_ = xgboost.XGBClassifier(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            max_depth=self.max_depth,
            n_jobs=self.cores,
            random_state=self.seed,
            tree_method="hist",
            enable_categorical=True,
            objective="multi:softprob" if len(self.classes_) > 2 else "binary:logistic",
            callbacks=[deadline.xgboost_callback()],
        ).fit(X, y)
        # the deadline callback only matters during fit; without it the model pickles
        self.model_.set_params(callbacks=None)
        self.models_count_ = 1
        self.rounds_ = int(self.model_.get_booster().num_boosted_rounds())
        self.best_model_ = f"{type(self.model_).__name__} ({self.rounds_} rounds)"
        self.search_budget_s_ = deadline.seconds
        self.stop_reason_ = "deadline" if deadline.hit else "converged"

    def _predict_proba(self, X):
        X, _ = as_category(X, self.categories_)
        return self.model_.predict_proba(X)

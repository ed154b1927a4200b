"""XGBoost baseline with default hyperparameters and native categorical support.

Anytime trajectory: ``validation_fraction`` of the training rows (stratified, the job's
seed; never a class's last row) is held out as an inner validation split, the booster is
trained on the rest and its log loss on the split is recorded after every round, with the
round's end time: one trajectory point per round reached. The final model is that booster,
so it trains on 90% of the rows by default; ``validation_fraction: 0`` trains on all of them
and records no trajectory.
"""

from __future__ import annotations

from automl_bench_adapters.base import BaseAdapter, Capabilities, Requirements
from automl_bench_adapters.deadline import Deadline
from automl_bench_adapters.preprocess import as_category
from automl_bench_adapters.trajectory import RoundClock, inner_split


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
        validation_fraction=0.1,
    ):
        super().__init__(time_limit, cores, memory_mb, seed, scratch_dir)
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.validation_fraction = validation_fraction

    def _fit(self, X, y):
        import xgboost

        deadline = Deadline(self.remaining())
        X, self.categories_ = as_category(X)
        self.round_clock_, self.validation_rows_ = RoundClock(self), 0
        fit_kwargs, split = {}, inner_split(y, self.validation_fraction, self.seed)
        if split is not None:
            train, valid = split
            fit_kwargs = {"eval_set": [(X.iloc[valid], y[valid])], "verbose": False}
            X, y = X.iloc[train], y[train]
            self.validation_rows_ = len(valid)
        self.model_ = xgboost.XGBClassifier(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            max_depth=self.max_depth,
            n_jobs=self.cores,
            random_state=self.seed,
            tree_method="hist",
            enable_categorical=True,
            objective="multi:softprob" if len(self.classes_) > 2 else "binary:logistic",
            eval_metric="mlogloss" if len(self.classes_) > 2 else "logloss",
            callbacks=[self.round_clock_.xgboost_callback(), deadline.xgboost_callback()],
        ).fit(X, y, **fit_kwargs)
        # the deadline callback only matters during fit; without it the model pickles
        self.model_.set_params(callbacks=None)
        self.models_count_ = 1
        self.rounds_ = int(self.model_.get_booster().num_boosted_rounds())
        self.best_model_ = f"{type(self.model_).__name__} ({self.rounds_} rounds)"
        self.search_budget_s_ = deadline.seconds
        self.stop_reason_ = "deadline" if deadline.hit else "converged"

    def trajectory(self):
        """Log loss on the inner validation split after each round (None without a split)."""
        if not getattr(self, "validation_rows_", 0):
            return None
        history = self.model_.evals_result().get("validation_0", {})
        losses = next(iter(history.values()), [])
        return self.round_clock_.rounds(
            losses, "XGBClassifier", f"inner holdout ({self.validation_fraction:.0%} of the training rows)"
        )

    def _predict_proba(self, X):
        X, _ = as_category(X, self.categories_)
        return self.model_.predict_proba(X)

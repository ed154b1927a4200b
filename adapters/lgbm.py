"""LightGBM baseline with default hyperparameters and native categorical support.

Anytime trajectory: as for XGBoost (:mod:`automl_bench_adapters.xgb`), ``validation_fraction`` of the
training rows is an inner validation split the booster does not train on, and its log loss
there after every round is recorded with the round's end time.
"""

from __future__ import annotations

from automl_bench_adapters.base import BaseAdapter, Capabilities, Requirements
from automl_bench_adapters.deadline import Deadline
from automl_bench_adapters.preprocess import as_category
from automl_bench_adapters.trajectory import RoundClock, inner_split


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
        validation_fraction=0.1,
    ):
        super().__init__(time_limit, cores, memory_mb, seed, scratch_dir)
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.validation_fraction = validation_fraction

    def _fit(self, X, y):
        import lightgbm

        deadline = Deadline(self.remaining())
        X, self.categories_ = as_category(X)
        self.round_clock_, self.validation_rows_ = RoundClock(self), 0
        fit_kwargs, split = {}, inner_split(y, self.validation_fraction, self.seed)
        if split is not None:
            train, valid = split
            fit_kwargs = _eval_kwargs(lightgbm, X.iloc[valid], y[valid])
            fit_kwargs["eval_metric"] = "multi_logloss" if len(self.classes_) > 2 else "binary_logloss"
            X, y = X.iloc[train], y[train]
            self.validation_rows_ = len(valid)
        self.model_ = lightgbm.LGBMClassifier(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            n_jobs=self.cores,
            random_state=self.seed,
            verbose=-1,
        ).fit(X, y, callbacks=[self.round_clock_.lightgbm_callback(),
                               deadline.lightgbm_callback()], **fit_kwargs)  # fmt: skip
        self.models_count_ = 1
        self.rounds_ = int(self.model_.booster_.current_iteration())
        self.best_model_ = f"{type(self.model_).__name__} ({self.rounds_} rounds)"
        self.search_budget_s_ = deadline.seconds
        self.stop_reason_ = "deadline" if deadline.hit else "converged"

    def trajectory(self):
        """Log loss on the inner validation split after each round (None without a split)."""
        if not getattr(self, "validation_rows_", 0):
            return None
        history = (self.model_.evals_result_ or {}).get("valid_0", {})
        losses = next(iter(history.values()), [])
        return self.round_clock_.rounds(
            losses, "LGBMClassifier", f"inner holdout ({self.validation_fraction:.0%} of the training rows)"
        )

    def _predict_proba(self, X):
        X, _ = as_category(X, self.categories_)
        return self.model_.predict_proba(X)


def _eval_kwargs(lightgbm, X, y) -> dict:
    """The validation rows as this LightGBM version takes them (4.7 renamed eval_set)."""
    import inspect

    if "eval_X" in inspect.signature(lightgbm.LGBMClassifier.fit).parameters:
        return {"eval_X": (X,), "eval_y": (y,)}
    return {"eval_set": [(X, y)]}

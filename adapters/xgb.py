"""XGBoost baseline with default hyperparameters and native categorical support; its inner
validation split, round clock, deadline and trajectory are :mod:`automl_bench_adapters.boosting`'s."""

from __future__ import annotations

from automl_bench_adapters.base import Capabilities, Requirements
from automl_bench_adapters.boosting import BoostedTrees


class XGBoost(BoostedTrees):
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
        super().__init__(time_limit, cores, memory_mb, seed, scratch_dir, n_estimators,
                         learning_rate, validation_fraction)  # fmt: skip
        self.max_depth = max_depth

    def _boost(self, X, y, valid, deadline):
        import xgboost

        fit_kwargs = {} if valid is None else {"eval_set": [valid], "verbose": False}
        multi = len(self.classes_) > 2
        model = xgboost.XGBClassifier(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            max_depth=self.max_depth,
            n_jobs=self.cores,
            random_state=self.seed,
            tree_method="hist",
            enable_categorical=True,
            objective="multi:softprob" if multi else "binary:logistic",
            eval_metric="mlogloss" if multi else "logloss",
            callbacks=[self.round_clock_.xgboost_callback(), deadline.xgboost_callback()],
        ).fit(X, y, **fit_kwargs)
        # the deadline callback only matters during fit; without it the model pickles
        model.set_params(callbacks=None)
        return model, model.get_booster().num_boosted_rounds()

    def _validation_losses(self):
        history = self.model_.evals_result().get("validation_0", {})
        return next(iter(history.values()), [])

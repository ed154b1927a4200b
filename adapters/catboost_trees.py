"""CatBoost baseline: symmetric trees, its own categorical encoding (ordered target statistics)
and missing values; its inner validation split, round clock, deadline and trajectory are
:mod:`automl_bench_adapters.boosting`'s.

Unlike the XGBoost and LightGBM baselines it stops early: once the log loss on the inner
validation split has not improved for ``early_stopping_rounds`` rounds, boosting ends
(``converged``) and the model keeps the rounds up to its best validation loss (CatBoost's
``use_best_model``), as it also does when the deadline stops it. ``learning_rate: null`` is
CatBoost's own choice, from the rows and the number of rounds. Nothing is written to disk
(``allow_writing_files``: CatBoost's training log would go into the working directory).
"""

from __future__ import annotations

import pandas as pd

from automl_bench_adapters.base import Capabilities, Requirements
from automl_bench_adapters.boosting import BoostedTrees


class CatBoost(BoostedTrees):
    requirements = Requirements(packages=("catboost",))
    capabilities = Capabilities(notes=("native categoricals (target statistics) and missing "
                                       "values",))  # fmt: skip
    distribution = "catboost"
    warm_imports = (*BoostedTrees.warm_imports, "catboost")

    def __init__(
        self,
        time_limit=60.0,
        cores=1,
        memory_mb=None,
        seed=0,
        scratch_dir=None,
        n_estimators=1000,
        learning_rate=None,
        depth=6,
        early_stopping_rounds=50,
        validation_fraction=0.1,
    ):
        super().__init__(time_limit, cores, memory_mb, seed, scratch_dir, n_estimators,
                         learning_rate, validation_fraction)  # fmt: skip
        self.depth = depth
        self.early_stopping_rounds = early_stopping_rounds

    def _features(self, X):
        """Categories as their codes (-1: missing, or unseen at fit), which CatBoost takes
        as categorical values (it rejects NaN there); numbers as floats, NaN kept."""
        X = X.copy()
        for c in X.columns:
            if isinstance(X[c].dtype, pd.CategoricalDtype):
                X[c] = X[c].cat.codes.astype("int32")
            else:
                X[c] = X[c].astype("float64")
        return X

    def _boost(self, X, y, valid, deadline):
        import catboost

        loss = "MultiClass" if len(self.classes_) > 2 else "Logloss"
        model = catboost.CatBoostClassifier(
            iterations=int(self.n_estimators),
            learning_rate=self.learning_rate,
            depth=self.depth,
            loss_function=loss,
            thread_count=int(self.cores),
            random_seed=int(self.seed),
            cat_features=[c for c in self.categories_ if c in X.columns],
            allow_writing_files=False,
            verbose=False,
        )
        fit_kwargs = {}
        if valid is not None:
            fit_kwargs = {"eval_set": valid, "use_best_model": True,
                          "early_stopping_rounds": self.early_stopping_rounds}  # fmt: skip
        model.fit(X, y, callbacks=[self.round_clock_.catboost_callback(),
                                   deadline.catboost_callback()], **fit_kwargs)  # fmt: skip
        return model, len(self._losses(model)) or model.tree_count_

    def _fit(self, X, y):
        super()._fit(X, y)
        # the model kept: the rounds up to the best validation loss, which may be fewer
        # than the rounds reached (``rounds_``)
        self.best_model_ = f"CatBoostClassifier ({self.model_.tree_count_} rounds)"

    def _validation_losses(self):
        return self._losses(self.model_)

    @staticmethod
    def _losses(model) -> list[float]:
        history = model.get_evals_result().get("validation", {})
        return list(next(iter(history.values()), []))

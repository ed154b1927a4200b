"""LightGBM baseline with default hyperparameters and native categorical support; its inner
validation split, round clock, deadline and trajectory are :mod:`automl_bench_adapters.boosting`'s."""

from __future__ import annotations

from automl_bench_adapters.base import Capabilities, Requirements
from automl_bench_adapters.boosting import BoostedTrees


class LightGBM(BoostedTrees):
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
        super().__init__(time_limit, cores, memory_mb, seed, scratch_dir, n_estimators,
                         learning_rate, validation_fraction)  # fmt: skip
        self.num_leaves = num_leaves

    def _boost(self, X, y, valid, deadline):
        import lightgbm

        fit_kwargs = {}
        if valid is not None:
            fit_kwargs = _eval_kwargs(lightgbm, *valid)
            fit_kwargs["eval_metric"] = "multi_logloss" if len(self.classes_) > 2 else "binary_logloss"
        model = lightgbm.LGBMClassifier(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            n_jobs=self.cores,
            random_state=self.seed,
            verbose=-1,
        ).fit(X, y, callbacks=[self.round_clock_.lightgbm_callback(),
                               deadline.lightgbm_callback()], **fit_kwargs)  # fmt: skip
        return model, model.booster_.current_iteration()

    def _validation_losses(self):
        history = (self.model_.evals_result_ or {}).get("valid_0", {})
        return next(iter(history.values()), [])


def _eval_kwargs(lightgbm, X, y) -> dict:
    """The validation rows as this LightGBM version takes them (4.7 renamed eval_set)."""
    import inspect

    if "eval_X" in inspect.signature(lightgbm.LGBMClassifier.fit).parameters:
        return {"eval_X": (X,), "eval_y": (y,)}
    return {"eval_set": [(X, y)]}

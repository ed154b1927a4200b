"""What the boosting baselines (XGBoost, LightGBM, CatBoost) share: the inner validation
split, the round clock and its trajectory, the deadline that stops boosting, and what they
report.

``validation_fraction`` of the training rows (stratified, the job's seed; never a class's last
row) is held out as an inner validation split; the booster is trained on the rest and its log
loss on the split is recorded after every round with the round's end time: one trajectory
point per round reached. The final model is that booster, so it trains on 90% of the rows by
default; ``validation_fraction: 0`` trains on all of them and records no trajectory. Boosting
stops after ``n_estimators`` rounds (``converged``; also when a subclass's early stop ends it
sooner, as CatBoost's does) or at the deadline (``deadline``).

A subclass says how its library boosts (:meth:`BoostedTrees._boost`) and where it keeps the
validation losses (:meth:`BoostedTrees._validation_losses`), and may say how its library takes
the features (:meth:`BoostedTrees._features`: XGBoost and LightGBM take pandas categories).
"""

from __future__ import annotations

from automl_bench_adapters.base import BaseAdapter
from automl_bench_adapters.deadline import Deadline
from automl_bench_adapters.preprocess import as_category
from automl_bench_adapters.trajectory import RoundClock, inner_split


class BoostedTrees(BaseAdapter):
    reproducible = True  # one seed, one model

    def __init__(self, time_limit=60.0, cores=1, memory_mb=None, seed=0, scratch_dir=None,
                 n_estimators=200, learning_rate=0.1, validation_fraction=0.1):  # fmt: skip
        super().__init__(time_limit, cores, memory_mb, seed, scratch_dir)
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.validation_fraction = validation_fraction

    # -- to implement -------------------------------------------------------------------
    def _boost(self, X, y, valid, deadline: Deadline):
        """Fit and return the library's classifier on (X, y), with ``valid`` (X, y) as its
        evaluation set when not None, stopping at ``deadline`` (and ticking
        ``self.round_clock_``) after each round; return (model, rounds boosted)."""
        raise NotImplementedError

    def _validation_losses(self) -> list[float]:
        """The log loss on the validation rows after each round."""
        raise NotImplementedError

    def _features(self, X):
        """The features as the library takes them, from ``X`` with its non-numeric columns
        cast to categories fixed at fit (``self.categories_``); at fit and at predict."""
        return X

    # -- shared -------------------------------------------------------------------------
    def _fit(self, X, y):
        deadline = Deadline(self.remaining())
        X, self.categories_ = as_category(X)
        X = self._features(X)
        self.round_clock_, self.validation_rows_ = RoundClock(self), 0
        valid, split = None, inner_split(y, self.validation_fraction, self.seed)
        if split is not None:
            train, held = split
            valid = (X.iloc[held], y[held])
            X, y = X.iloc[train], y[train]
            self.validation_rows_ = len(held)
        self.model_, rounds = self._boost(X, y, valid, deadline)
        self.models_count_ = 1
        self.rounds_ = int(rounds)
        self.best_model_ = f"{type(self.model_).__name__} ({self.rounds_} rounds)"
        self.search_budget_s_ = deadline.seconds
        self.stop_reason_ = "deadline" if deadline.hit else "converged"

    def trajectory(self):
        """Log loss on the inner validation split after each round (None without a split)."""
        if not getattr(self, "validation_rows_", 0):
            return None
        return self.round_clock_.rounds(
            self._validation_losses(), type(self.model_).__name__,
            f"inner holdout ({self.validation_fraction:.0%} of the training rows)",
        )  # fmt: skip

    def _predict_proba(self, X):
        X, _ = as_category(X, self.categories_)
        return self.model_.predict_proba(self._features(X))

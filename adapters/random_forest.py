"""scikit-learn RandomForest baseline (categoricals ordinal-encoded, NaN handled natively).

Anytime trajectory: the forest is grown in ``trajectory_steps`` equal batches of trees
(scikit-learn's ``warm_start``, which draws the same trees as one fit), and after each batch
its out-of-bag log loss is recorded (each training row predicted by the trees that did not
see it; rows no tree has left out yet are skipped): one point per batch, on rows the forest
did not train on, without holding any out. ``trajectory_steps: 1`` grows it in one go.

It keeps to ``time_limit``: when another batch would end past the deadline
(:class:`automl_bench_adapters.deadline.Deadline`, as the boosting baselines), it stops with the
trees it has (``stop_reason_`` ``deadline``).
"""

from __future__ import annotations

import inspect
import time

import numpy as np

from automl_bench_adapters.base import BaseAdapter, Capabilities
from automl_bench_adapters.deadline import Deadline
from automl_bench_adapters.preprocess import ordinal_encoder
from automl_bench_adapters.trajectory import LOG_LOSS, incumbents, multiclass_log_loss


class RandomForest(BaseAdapter):
    reproducible = True  # one seed, one model
    capabilities = Capabilities(notes=("categoricals ordinal-encoded",))
    warm_imports = (*BaseAdapter.warm_imports, "sklearn.ensemble")

    def __init__(
        self,
        time_limit=60.0,
        cores=1,
        memory_mb=None,
        seed=0,
        scratch_dir=None,
        n_estimators=300,
        max_features="sqrt",
        trajectory_steps=10,
    ):
        super().__init__(time_limit, cores, memory_mb, seed, scratch_dir)
        self.n_estimators = n_estimators
        self.max_features = max_features
        self.trajectory_steps = trajectory_steps

    def _fit(self, X, y):
        from sklearn.pipeline import make_pipeline

        encoder = ordinal_encoder().fit(X)
        Xe = encoder.transform(X)
        deadline = Deadline(self.remaining())
        forest = self._grow(Xe, y, self.max_features, deadline, out_of_bag=True)
        self.model_ = make_pipeline(encoder, forest)
        self.models_count_ = 1
        self.best_model_ = f"RandomForestClassifier ({len(forest.estimators_)} trees)"
        self.search_budget_s_ = deadline.seconds
        self.stop_reason_ = "deadline" if deadline.hit else "converged"

    def _grow(self, Xe, y, max_features, deadline: Deadline, out_of_bag: bool):
        """The forest of ``n_estimators`` trees on the encoded rows ``Xe``, grown in
        ``trajectory_steps`` batches that stop at ``deadline`` (the forest keeps the trees it
        has); with ``out_of_bag``, each batch's out-of-bag log loss goes into
        ``oob_points_``."""
        from sklearn.ensemble import RandomForestClassifier

        n = int(self.n_estimators)
        steps = max(1, min(int(self.trajectory_steps or 1), n))
        forest = RandomForestClassifier(
            n_estimators=n,
            max_features=max_features,
            n_jobs=self.cores,
            random_state=self.seed,
            warm_start=steps > 1,
        )
        self.oob_points_ = []
        oob = None
        if out_of_bag and steps > 1:
            oob = _OutOfBag(np.asarray(Xe, dtype=np.float32), y, len(self.classes_))
        for k in range(1, steps + 1):
            started = time.monotonic()
            forest.set_params(n_estimators=round(n * k / steps))
            forest.fit(Xe, y)
            if oob is not None:
                loss = oob.add(forest.estimators_)
                self.oob_points_.append((self.elapsed(), loss, len(forest.estimators_)))
            # another batch would take as long as this one: stop if it would end past the
            # deadline (the forest keeps the trees it has)
            if k < steps and deadline.left() < time.monotonic() - started:
                deadline.hit = True
                break
        forest.set_params(warm_start=False, n_estimators=len(forest.estimators_))
        return forest

    def trajectory(self):
        """Out-of-bag log loss after each batch of trees (None when grown in one go)."""
        points = [(t, loss, f"RandomForestClassifier ({k} trees)")
                  for t, loss, k in getattr(self, "oob_points_", [])]  # fmt: skip
        return incumbents(points, LOG_LOSS, "out-of-bag training rows") if points else None

    def _predict_proba(self, X):
        return self.model_.predict_proba(X)


class _OutOfBag:
    """Out-of-bag class probabilities, summed tree by tree as the forest grows (what
    scikit-learn's ``oob_score`` computes over the whole forest, here once per tree)."""

    def __init__(self, X: np.ndarray, y: np.ndarray, n_classes: int):
        from sklearn.ensemble import _forest

        self.X, self.y, self.done = X, y, 0
        self.sum = np.zeros((len(y), n_classes))
        self._unsampled = _forest._generate_unsampled_indices
        self._with_weight = "sample_weight" in inspect.signature(self._unsampled).parameters

    def _rows(self, tree) -> np.ndarray:
        n = len(self.y)  # bootstrap of n rows (max_samples unset)
        if self._with_weight:
            return self._unsampled(tree.random_state, n, n, None)
        return self._unsampled(tree.random_state, n, n)

    def add(self, trees) -> float:
        """Add the trees not seen yet; the log loss over rows some tree has left out."""
        for tree in trees[self.done:]:
            rows = self._rows(tree)
            if len(rows):
                self.sum[rows] += tree.predict_proba(self.X[rows], check_input=False)
        self.done = len(trees)
        seen = self.sum.sum(axis=1) > 0
        if not seen.any():
            return float("nan")
        proba = self.sum[seen] / self.sum[seen].sum(axis=1, keepdims=True)
        return multiclass_log_loss(proba, self.y[seen])

"""Constant predictor: the training class prior for every row (the score floor).

Its trajectory is one point: the prior's log loss on the training rows (the entropy of the
class distribution; the prior is not searched, so there is nothing else to record)."""

from __future__ import annotations

import numpy as np

from automl_bench_adapters.base import BaseAdapter, Capabilities
from automl_bench_adapters.trajectory import LOG_LOSS, incumbents, multiclass_log_loss


class ConstantPredictor(BaseAdapter):
    reproducible = True  # one seed, one model
    capabilities = Capabilities(notes=("ignores features",))
    warm_imports = ()  # numpy only: its jobs need no scikit-learn

    def _fit(self, X, y):
        counts = np.bincount(y, minlength=len(self.classes_))
        self.prior_ = counts / counts.sum()
        self.models_count_ = 1
        self.best_model_ = "class prior"
        self.stop_reason_ = "converged"
        self.point_ = (self.elapsed(), multiclass_log_loss(np.tile(self.prior_, (len(y), 1)), y))

    def trajectory(self):
        elapsed, loss = self.point_
        return incumbents([(elapsed, loss, "class prior")], LOG_LOSS, "training rows")

    def _predict_proba(self, X):
        return np.tile(self.prior_, (len(X), 1))

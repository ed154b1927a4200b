"""Constant predictor: the training class prior for every row (the score floor)."""

from __future__ import annotations

import numpy as np

from adapters.base import BaseAdapter, Capabilities


class ConstantPredictor(BaseAdapter):
    capabilities = Capabilities(notes=("ignores features",))
    warm_imports = ()  # numpy only: its jobs need no scikit-learn

    def _fit(self, X, y):
        counts = np.bincount(y, minlength=len(self.classes_))
        self.prior_ = counts / counts.sum()
        self.models_count_ = 1
        self.best_model_ = "class prior"
        self.stop_reason_ = "converged"

    def _predict_proba(self, X):
        return np.tile(self.prior_, (len(X), 1))

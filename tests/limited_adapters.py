"""TEST ADAPTERS with narrow capabilities or none of the optional extras, registered for tests
through ``AUTOML_BENCH_FRAMEWORKS`` with tests/ on PYTHONPATH (never shipped as frameworks)."""

from __future__ import annotations

from sklearn.linear_model import LogisticRegression

from automl_bench_adapters.base import BaseAdapter, Capabilities
from automl_bench_adapters.constant import ConstantPredictor


class NumericMulticlassOnly(BaseAdapter):
    """Plain logistic regression: it really cannot take missing values or strings, and
    declares multi-class only."""

    capabilities = Capabilities(
        task_types=("multiclass",), missing_values=False, categoricals=False,
        notes=("plain logistic regression",),
    )  # fmt: skip

    def _fit(self, X, y):
        self.model_ = LogisticRegression(max_iter=200).fit(X.to_numpy(dtype=float), y)
        self.models_count_ = 1

    def _predict_proba(self, X):
        return self.model_.predict_proba(X.to_numpy(dtype=float))


class CannotSave(ConstantPredictor):
    """A constant predictor whose backend has no save format."""

    def save_model(self, path):
        raise NotImplementedError("this backend has no save format")


class HangsAfterFirstPredict(ConstantPredictor):
    """Predicts the test rows, then hangs on every later prediction (a backend that stalls
    while its model is being measured)."""

    def _predict_proba(self, X):
        import time

        self._calls = getattr(self, "_calls", 0) + 1
        if self._calls > 1:
            time.sleep(3600)
        return super()._predict_proba(X)

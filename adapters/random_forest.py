"""scikit-learn RandomForest baseline (categoricals ordinal-encoded, NaN handled natively)."""

from __future__ import annotations

from adapters.base import BaseAdapter, Capabilities
from adapters.preprocess import ordinal_encoder


class RandomForest(BaseAdapter):
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
    ):
        super().__init__(time_limit, cores, memory_mb, seed, scratch_dir)
        self.n_estimators = n_estimators
        self.max_features = max_features

    def _fit(self, X, y):
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.pipeline import make_pipeline

        forest = RandomForestClassifier(
            n_estimators=self.n_estimators,
            max_features=self.max_features,
            n_jobs=self.cores,
            random_state=self.seed,
        )
        self.model_ = make_pipeline(ordinal_encoder(), forest).fit(X, y)
        self.models_count_ = 1
        self.best_model_ = f"RandomForestClassifier ({self.n_estimators} trees)"
        self.stop_reason_ = "converged"  # fits all its trees; it has no time limit of its own

    def _predict_proba(self, X):
        return self.model_.predict_proba(X)

"""A worked example of an adapter: k-nearest neighbours from scikit-learn, with imputation of
missing values and one-hot categoricals, so it declares both capabilities."""

from __future__ import annotations

from automl_bench_adapters.base import BaseAdapter, Capabilities, Requirements


class NearestNeighbours(BaseAdapter):
    requirements = Requirements(packages=("sklearn",))
    capabilities = Capabilities(notes=("median-imputed, scaled, categoricals one-hot",))
    distribution = "scikit-learn"  # the version a row records
    reproducible = True  # no randomness: one seed, one model
    warm_imports = (*BaseAdapter.warm_imports, "sklearn.neighbors", "sklearn.impute")

    def __init__(self, time_limit=60.0, cores=1, memory_mb=None, seed=0, scratch_dir=None,
                 n_neighbors=15):  # fmt: skip
        super().__init__(time_limit, cores, memory_mb, seed, scratch_dir)
        self.n_neighbors = n_neighbors  # stored verbatim: get_params and clone rely on it

    def _fit(self, X, y):  # y: codes 0..K-1; the base class maps them back to the labels
        from sklearn.compose import make_column_transformer
        from sklearn.impute import SimpleImputer
        from sklearn.neighbors import KNeighborsClassifier
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        numeric = X.select_dtypes("number").columns
        other = X.columns.difference(numeric)
        features = make_column_transformer(
            (make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            (make_pipeline(SimpleImputer(strategy="most_frequent"),
                           OneHotEncoder(handle_unknown="ignore")), other),
        )  # fmt: skip
        k = max(1, min(int(self.n_neighbors), len(y) - 1))
        self.model_ = make_pipeline(features, KNeighborsClassifier(k, n_jobs=self.cores))
        self.model_.fit(X, y)
        # what the backend did: one model, nothing left to try
        self.models_count_, self.best_model_ = 1, f"KNeighborsClassifier (k={k})"
        self.stop_reason_ = "converged"

    def _predict_proba(self, X):  # one column per class code, in code order
        return self.model_.predict_proba(X)

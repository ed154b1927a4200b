"""EvalML (Alteryx), run in its own environment (it pins pandas < 2.1, hence numpy < 2).

``automl-bench env create evalml`` builds the environment. Budget mapping: ``max_time`` =
the job's time limit less ``final_fit_reserve`` (30%: EvalML checks its clock only between
pipelines, each a 3-fold CV, and trains the best pipeline on all rows after the search; with
15% kept back fits ran 1.15-1.47x the budget at 30 s), ``n_jobs`` = its cores,
``random_seed`` = its seed, the objective is log loss (multiclass, or binary for two classes).

EvalML's oversampler is off by default (``sampler_method=None``): EvalML 0.84 passes
``n_jobs`` to imbalanced-learn's SMOTENC, which imbalanced-learn 0.12+ no longer accepts, and
with imbalanced-learn 0.11 SMOTENC fails on rare classes (anneal) with a broadcast error; either
way every pipeline with the sampler scored NaN. Pass ``sampler_method: auto`` to turn it on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adapters.base import AdapterError, BaseAdapter, Capabilities, Requirements
from adapters.preprocess import as_category


class EvalML(BaseAdapter):
    requirements = Requirements(packages=("evalml",), environment="evalml")
    capabilities = Capabilities(notes=("runs in its own environment",
                                       "classes with < 3 training rows get probability 0"))
    distribution = "evalml"

    def __init__(
        self,
        time_limit=60.0,
        cores=1,
        memory_mb=None,
        seed=0,
        scratch_dir=None,
        automl_algorithm="default",
        ensembling=False,
        sampler_method=None,
        final_fit_reserve=0.3,
        min_class_count=3,
    ):
        super().__init__(time_limit, cores, memory_mb, seed, scratch_dir)
        self.automl_algorithm = automl_algorithm
        self.ensembling = ensembling
        self.sampler_method = sampler_method
        self.final_fit_reserve = final_fit_reserve
        self.min_class_count = min_class_count

    def _prepare(self, X: pd.DataFrame) -> pd.DataFrame:
        """Fixed categories and explicit woodwork types, the same at fit and predict time.

        Left to itself woodwork infers each frame's types anew (a test fold's column can come
        out Boolean or Unknown where training's was Categorical, and EvalML then refuses to
        predict), and tries to parse every string column as a date.
        """
        fitting = not hasattr(self, "categories_")
        X, cats = as_category(X, None if fitting else self.categories_)
        if fitting:
            self.categories_ = cats
            self.logical_types_ = {
                c: "Categorical" if isinstance(X[c].dtype, pd.CategoricalDtype) else "Double"
                for c in X.columns
            }
        X = X[list(self.logical_types_)]
        X = X.astype({c: "float64" for c, t in self.logical_types_.items() if t == "Double"})
        X.ww.init(logical_types=self.logical_types_)
        return X

    def _fit(self, X, y):
        import woodwork  # noqa: F401  (registers the DataFrame.ww accessor)
        from evalml.automl import AutoMLSearch

        for attr in ("categories_", "logical_types_"):
            self.__dict__.pop(attr, None)
        # EvalML raises unless every class is in the training and the validation part of each
        # of its 3 CV folds: classes with fewer rows are left out (probability 0), as
        # AutoGluon does on its own.
        counts = np.bincount(y, minlength=len(self.classes_))
        keep = counts[y] >= self.min_class_count
        self.dropped_classes_ = [self.classes_[k] for k in np.flatnonzero(
            (counts > 0) & (counts < self.min_class_count))]  # fmt: skip
        X, y = X.loc[keep].reset_index(drop=True), y[keep]
        if len(np.unique(y)) < 2:
            raise AdapterError(
                f"EvalML needs >= 2 classes with >= {self.min_class_count} rows each "
                f"(class counts: {counts.tolist()})"
            )
        binary = len(np.unique(y)) == 2
        max_time = max(1.0, self.budget_less(self.final_fit_reserve))
        automl = AutoMLSearch(
            X_train=self._prepare(X),
            y_train=pd.Series(y, name="target"),
            problem_type="binary" if binary else "multiclass",
            objective="Log Loss Binary" if binary else "Log Loss Multiclass",
            max_time=max_time,
            random_seed=int(self.seed),
            n_jobs=int(self.cores),
            automl_algorithm=self.automl_algorithm,
            ensembling=self.ensembling,
            sampler_method=self.sampler_method,
            verbose=False,
        )
        automl.search(interactive_plot=False)
        best = automl.best_pipeline
        if best is None:
            raise AdapterError(f"EvalML found no pipeline within max_time={max_time:.0f}s")
        self.model_ = best
        self.search_ = automl
        board = pd.DataFrame(automl.full_rankings)
        keep = [c for c in ("id", "pipeline_name", "search_order", "mean_cv_score",
                            "validation_score", "percent_better_than_baseline") if c in board]  # fmt: skip
        self.leaderboard_ = board[keep].reset_index(drop=True)
        self.models_count_ = int(len(board))

    def save_model(self, path: str) -> str:
        """The best pipeline in EvalML's own format (``PipelineBase.save``, cloudpickle)."""
        import os

        self.model_.save(os.path.join(path, "pipeline.pkl"))
        return "evalml-pipeline"

    def _predict_proba(self, X):
        raw = self.model_.predict_proba(self._prepare(X))
        raw = pd.DataFrame(raw)
        proba = np.zeros((len(X), len(self.classes_)))
        for col in raw.columns:  # columns are the class codes the pipeline learned
            proba[:, int(col)] = raw[col].to_numpy(dtype=float)
        return proba

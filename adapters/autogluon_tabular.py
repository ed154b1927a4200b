"""AutoGluon tabular (AWS), run in its own environment (it pins pandas < 2.4).

``automl-bench env create autogluon`` builds the environment; jobs of this adapter start
their worker with its interpreter. Budget mapping: ``time_limit`` = the job's time limit less
``finish_reserve`` (10%: AutoGluon fits its weighted ensemble and saves the predictor after
its own deadline; without it fits ran 1.08-1.10x the budget at 30 s),
``num_cpus`` = its cores, ``memory_limit`` = its memory limit (AutoGluon's soft limit, in GB)
less ``python_headroom_mb``, models' seeds = its seed (``ag_args_ensemble.model_random_seed``;
AutoGluon's own holdout split keeps its fixed seed). Presets are framework variants:
``autogluon`` (medium_quality, AutoGluon's default) and ``autogluon_best`` (best_quality).
The problem type is set explicitly so integer class codes are never taken for regression.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile

import numpy as np
import pandas as pd

from adapters.base import AdapterError, BaseAdapter, Capabilities, Requirements

TARGET = "__target__"


class AutoGluon(BaseAdapter):
    requirements = Requirements(packages=("autogluon.tabular",), environment="autogluon")
    capabilities = Capabilities(notes=("runs in its own environment",
                                       "classes too rare to learn get probability 0"))
    distribution = "autogluon.tabular"

    def __init__(
        self,
        time_limit=60.0,
        cores=1,
        memory_mb=None,
        seed=0,
        scratch_dir=None,
        presets="medium_quality",
        eval_metric="log_loss",
        python_headroom_mb=512,
        excluded_model_types=None,
        finish_reserve=0.1,
        verbosity=0,
    ):
        super().__init__(time_limit, cores, memory_mb, seed, scratch_dir)
        self.presets = presets
        self.eval_metric = eval_metric
        self.python_headroom_mb = python_headroom_mb
        self.excluded_model_types = excluded_model_types
        self.finish_reserve = finish_reserve
        self.verbosity = verbosity

    def _fit(self, X, y):
        from autogluon.tabular import TabularPredictor

        n_classes = len(self.classes_)
        train = X.copy()
        train[TARGET] = y
        root = self.scratch_dir or tempfile.mkdtemp(prefix="automl-bench-ag-")
        kwargs = {}
        if self.memory_mb:
            kwargs["memory_limit"] = max(0.5, (self.memory_mb - self.python_headroom_mb) / 1024)
        excluded = list(self.excluded_model_types or [])
        if importlib.util.find_spec("fastai") is None and "FASTAI" not in excluded:
            excluded.append("FASTAI")  # not installed: don't spend budget failing to import it
        predictor = TabularPredictor(
            label=TARGET,
            problem_type="binary" if n_classes == 2 else "multiclass",
            eval_metric=self.eval_metric,
            path=os.path.join(root, "autogluon-models"),
            verbosity=self.verbosity,
        )
        try:
            predictor.fit(
                train,
                time_limit=self.budget_less(self.finish_reserve),
                presets=self.presets,
                num_cpus=int(self.cores),
                num_gpus=0,
                ag_args_ensemble={"model_random_seed": int(self.seed)},
                excluded_model_types=excluded or None,
                **kwargs,
            )
        except (ValueError, RuntimeError, AssertionError) as e:
            if "No models were trained" in str(e) or "Trainer has no fit models" in str(e):
                raise AdapterError(
                    f"AutoGluon trained no model within time_limit={self.time_limit:g}s: {e}"
                ) from e
            raise
        names = predictor.model_names()
        if not names:
            raise AdapterError(f"AutoGluon trained no model within time_limit={self.time_limit:g}s")
        self.model_ = predictor
        board = predictor.leaderboard(silent=True)
        self.leaderboard_ = pd.DataFrame(board)
        self.models_count_ = len(names)
        self.best_model_ = predictor.model_best

    def save_model(self, path: str) -> str:
        """AutoGluon's predictor folder, as deployed: ``clone_for_deployment`` copies the
        predictor and keeps only the models the best one needs for prediction."""
        import os

        self.model_.clone_for_deployment(os.path.join(path, "predictor"))
        return "autogluon-predictor"

    def _predict_proba(self, X):
        raw = self.model_.predict_proba(X, as_multiclass=True)
        proba = np.zeros((len(X), len(self.classes_)))
        # columns are the class codes AutoGluon kept (it drops classes too rare to learn)
        for col in raw.columns:
            proba[:, int(col)] = raw[col].to_numpy(dtype=float)
        return proba

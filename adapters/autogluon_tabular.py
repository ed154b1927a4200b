"""AutoGluon tabular (AWS), run in its own environment (it pins pandas < 2.4).

``automl-bench env create autogluon`` builds the environment; jobs of this adapter start
their worker with its interpreter. Budget mapping: ``time_limit`` = the job's time limit less
``finish_cost``, what AutoGluon is measured to spend past its own limit (the weighted
ensemble over its models' validation predictions, which grows with rows x classes, saving
the predictor, reading back the leaderboard; see :mod:`automl_bench_adapters.finish_cost`),
each model may train for ``model_time_ratio`` (0.8) of the time AutoGluon has left
(``ag_args_fit.max_time_limit_ratio``; AutoGluon's default, 1.0, lets a model train to the
limit and then predict its validation rows past it: LightGBMXT on letter (10,000 rows x 26
classes) spent 0.21-0.24 x its fit time predicting them, 5.5 s past the limit under load),
a model is not started when less time is left than ``start_cost_s`` gives it (CPU seconds by
model name prefix, over the job's core share; default ``START_COST_S``; see
:mod:`automl_bench_adapters.autogluon_start_guard`), the ones skipped so in
``skipped_at_start_``,
``num_cpus`` = its cores, ``memory_limit`` = its memory limit (AutoGluon's soft limit, in GB)
less ``python_headroom_mb``, models' seeds = its seed (``ag_args_ensemble.model_random_seed``;
AutoGluon's own holdout split keeps its fixed seed). Presets are framework variants:
``autogluon`` (medium_quality, AutoGluon's default) and ``autogluon_best`` (best_quality).
The problem type is set explicitly so integer class codes are never taken for regression.
``models_count_`` is the number of models in the predictor (weighted ensembles included),
the length of AutoGluon's leaderboard, as in AMLB.

``trajectory()`` reads AutoGluon's leaderboard after fit: each model's validation score
(``score_val``, negated: log loss) in the order the models were fit (``fit_order``), each at
the time AutoGluon's search started plus the fit and validation-prediction times of the models
fit up to it (AutoGluon's own timings; its bookkeeping between models is not in them, so
points can come slightly early).
"""

from __future__ import annotations

import importlib.util
import os
import tempfile

import numpy as np
import pandas as pd

from automl_bench_adapters.autogluon_start_guard import start_guard
from automl_bench_adapters.base import (
    AdapterError,
    BaseAdapter,
    Capabilities,
    Requirements,
    label_column,
)
from automl_bench_adapters.finish_cost import FinishCost, cpu_share
from automl_bench_adapters.stop_reason import stop_reason

TARGET = "__target__"
# measured past time_limit (tests/benchmarks/budget_adherence.py, 30 s, 13 tasks, quiet
# machine, core share 0.94-1.0): 0.0-0.4 s on the small tasks, 0.8 s on the 100-class task
# (800 rows), 1.3-1.5 s on optdigits and satimage (2,800-3,200 rows), 4.1 s on letter (10,000
# rows x 26 classes): the model in training at the deadline finishing, then predicting its
# validation rows and the weighted ensemble over them, which grow with the rows (and
# classes). Under load the same work took ~14 s on letter (core share ~0.3): it is CPU work,
# so the reserve is scaled by the job's core share like H2O's. With 2 CPU-bound processes
# beside 2 jobs on 2 cores, letter ran 11.1 s past its limit at a core share of ~0.7 (7.8
# CPU seconds: its largest model, LightGBMXT, was the last one and ran 3 s past its own time
# limit before predicting its validation rows), hence 6.0 s per 10,000 rows, not 3.8.
# base_s: the weighted ensemble AutoGluon fits whatever time is left (0.4 s quiet, 0.6-1.0 s
# beside 2 CPU-bound processes, 9 models, 300 rows) and saving the predictor (0.4-0.6 s).
FINISH_COST = FinishCost(base_s=1.0, rows_s=6.0, rc_s=0.5, max_share=0.4)
# CPU seconds a model spends before it can find that it will not fit in the time left.
# AutoGluon starts a model while 1% of its time limit is left (0.2 s of 20 s): beside 2
# CPU-bound processes its NeuralNetTorch, started with 0.4-0.7 s left, took 2.6-2.8 s to give
# up ("Time limit exceeded... Skipping"), and the job ran 2-3 s past its limit, past the fit
# deadline of a 20 s budget. A model is skipped when less than its start cost is left.
START_COST_S = {"NeuralNet": 3.0}


class AutoGluon(BaseAdapter):
    requirements = Requirements(packages=("autogluon.tabular",))
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
        finish_cost=None,
        model_time_ratio=0.8,
        start_cost_s=None,
        verbosity=0,
    ):
        super().__init__(time_limit, cores, memory_mb, seed, scratch_dir)
        self.presets = presets
        self.eval_metric = eval_metric
        self.python_headroom_mb = python_headroom_mb
        self.excluded_model_types = excluded_model_types
        self.finish_cost = finish_cost
        self.model_time_ratio = model_time_ratio
        self.start_cost_s = start_cost_s
        self.verbosity = verbosity

    def _setup(self, X, y):
        """Import the backend (seconds of interpreter work, not search)."""
        import importlib

        importlib.import_module("autogluon.tabular")
        # the libraries of its models, which AutoGluon imports lazily inside fit
        for name in ("autogluon.tabular.models", "lightgbm", "catboost", "xgboost", "torch"):
            try:
                importlib.import_module(name)
            except ImportError:
                pass
        self._share = cpu_share()

    def _fit(self, X, y):
        from autogluon.tabular import TabularPredictor

        n_classes = len(self.classes_)
        train = X.copy()
        target = label_column(X.columns, TARGET)  # a feature may be called __target__
        train[target] = y
        root = self.scratch_dir or tempfile.mkdtemp(prefix="automl-bench-ag-")
        kwargs = {}
        if self.memory_mb:
            kwargs["memory_limit"] = max(0.5, (self.memory_mb - self.python_headroom_mb) / 1024)
        excluded = list(self.excluded_model_types or [])
        if importlib.util.find_spec("fastai") is None and "FASTAI" not in excluded:
            excluded.append("FASTAI")  # not installed: don't spend budget failing to import it
        predictor = TabularPredictor(
            label=target,
            problem_type="binary" if n_classes == 2 else "multiclass",
            eval_metric=self.eval_metric,
            path=os.path.join(root, "autogluon-models"),
            verbosity=self.verbosity,
        )
        cost = FinishCost(**self.finish_cost) if self.finish_cost else FINISH_COST
        share = getattr(self, "_share", 1.0)
        reserve = cost.seconds(float(self.time_limit), len(X), X.shape[1], n_classes, share)
        limit = max(1.0, self.remaining() - reserve)
        self.search_budget_s_ = limit
        self.timings_ = {"finish_reserve_s": reserve, "cpu_share": share,
                         "before_fit_s": self.elapsed()}  # fmt: skip
        guard = start_guard(START_COST_S if self.start_cost_s is None else self.start_cost_s, share)
        try:
            predictor.fit(
                train,
                time_limit=limit,
                presets=self.presets,
                num_cpus=int(self.cores),
                num_gpus=0,
                ag_args_ensemble={"model_random_seed": int(self.seed)},
                ag_args_fit={"max_time_limit_ratio": float(self.model_time_ratio)},
                excluded_model_types=excluded or None,
                **({"callbacks": [guard]} if guard else {}),
                **kwargs,
            )
        except (ValueError, RuntimeError, AssertionError) as e:
            if "No models were trained" in str(e) or "Trainer has no fit models" in str(e):
                raise AdapterError(
                    f"AutoGluon trained no model within time_limit={self.time_limit:g}s: {e}"
                ) from e
            raise
        self.timings_["autogluon_fit_end_s"] = self.elapsed()
        self.skipped_at_start_ = guard.skipped if guard else []  # "name (s left)", in order
        self.timings_["skipped_at_start"] = len(self.skipped_at_start_)
        names = predictor.model_names()
        if not names:
            raise AdapterError(f"AutoGluon trained no model within time_limit={self.time_limit:g}s")
        self.model_ = predictor
        board = predictor.leaderboard(silent=True)
        self.leaderboard_ = pd.DataFrame(board)
        self.models_count_ = len(names)
        self.best_model_ = predictor.model_best
        self.timings_["end_s"] = self.elapsed()
        # AutoGluon ends early when every model of its preset is fit
        self.stop_reason_ = stop_reason(self.elapsed(), limit)

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

    def trajectory(self):
        """Each model's validation loss, placed by AutoGluon's fit order and fit times."""
        predictor = getattr(self, "model_", None)
        if predictor is None:
            return None
        from automl_bench_adapters.trajectory import LOG_LOSS, incumbents

        board = pd.DataFrame(predictor.leaderboard(silent=True))
        if board.empty or "score_val" not in board:
            return None
        if "fit_order" in board:
            board = board.sort_values("fit_order", kind="stable")
        else:  # AutoGluon lists its models in the order it fit them
            order = {m: i for i, m in enumerate(predictor.model_names())}
            board = board.assign(_order=board["model"].map(order)).sort_values("_order", kind="stable")
        spent = _sum_of(board, "fit_time_marginal", "fit_time") + _sum_of(
            board, "pred_time_val_marginal", "pred_time_val")
        start = float(getattr(self, "timings_", {}).get("before_fit_s", 0.0))
        ends = start + spent.cumsum()
        losses = -pd.to_numeric(board["score_val"], errors="coerce")  # higher-is-better, negated
        points = list(zip(ends, losses, board["model"].astype(str), strict=True))
        bagged = board["model"].astype(str).str.contains("_BAG_").any()
        validation = ("AutoGluon out-of-fold predictions (bagging)" if bagged
                      else "AutoGluon validation holdout (split from the training rows)")  # fmt: skip
        name = LOG_LOSS if self.eval_metric == "log_loss" else f"-{self.eval_metric} (AutoGluon score)"
        return incumbents(points, name, validation)


def _sum_of(board: pd.DataFrame, column: str, fallback: str) -> pd.Series:
    """A per-model timing column (seconds; missing as 0)."""
    col = column if column in board else fallback
    if col not in board:
        return pd.Series(0.0, index=board.index)
    return pd.to_numeric(board[col], errors="coerce").fillna(0.0)


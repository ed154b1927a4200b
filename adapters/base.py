"""The adapter contract every backend follows.

An adapter is a scikit-learn style classifier. The harness builds it with the job's
budget (``time_limit`` seconds, ``cores``, ``memory_mb``, ``seed``, ``scratch_dir``) plus
the framework variant's own parameters from YAML, then calls ``fit(X, y)`` with a pandas
DataFrame (numeric and categorical columns, possibly missing values) and a Series, and
``predict_proba(X)``. Adapters do not time themselves, save files or compute metrics: the
harness does that once, for all of them.

Subclasses implement ``_fit(X, y_encoded)`` and ``_predict_proba(X)``, and may override
``save_model(path)`` when the backend has a save format of its own; this base class owns
label encoding so every adapter returns one probability column per class in ``classes_``
order, whatever the labels' type (strings, integers, floats).
"""

from __future__ import annotations

import importlib.util
import shutil
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelEncoder


def _find_spec(name: str):
    try:
        return importlib.util.find_spec(name)
    except ModuleNotFoundError:  # "a.b" whose parent "a" is absent
        return None


@dataclass(frozen=True)
class Requirements:
    """What an adapter needs before it can run, so the harness can say so up front."""

    packages: tuple[str, ...] = ()  # importable module names
    java: bool = False
    extra: str | None = None  # pip extra that installs the packages
    environment: str | None = None  # name of its own virtual environment, if any

    def missing(self) -> list[str]:
        """Human-readable list of what is missing on this machine (empty when runnable).

        An adapter with its own ``environment`` is installed when that environment exists
        and holds its packages (see :mod:`bench.envs`); the main interpreter needs none.
        """
        if self.environment:
            from bench import envs

            out = envs.missing(self.environment, self.packages)
        else:
            out = [p for p in self.packages if _find_spec(p) is None]
        if self.java and shutil.which("java") is None:
            out.append("java")
        return out

    def python(self) -> str | None:
        """The interpreter that runs this adapter's jobs (None: the harness's own)."""
        if not self.environment:
            return None
        from bench import envs

        return str(envs.python_of(self.environment))

    def install_hint(self) -> str:
        if self.environment:
            return f"automl-bench env create {self.environment}"
        if self.extra:
            return f"pip install -e '.[{self.extra}]'"
        return "pip install -e ."


@dataclass(frozen=True)
class Capabilities:
    task_types: tuple[str, ...] = ("binary", "multiclass")
    missing_values: bool = True
    categoricals: bool = True
    notes: tuple[str, ...] = field(default_factory=tuple)


class AdapterError(RuntimeError):
    """A backend ran but could not produce a model (a framework failure, not a crash)."""


class BaseAdapter(ClassifierMixin, BaseEstimator):
    """Common budget arguments and label handling. Subclasses add their own parameters."""

    requirements: Requirements = Requirements()
    capabilities: Capabilities = Capabilities()
    distribution: str = "scikit-learn"  # the PyPI distribution whose version a row records

    def __init__(self, time_limit=60.0, cores=1, memory_mb=None, seed=0, scratch_dir=None):
        self.time_limit = time_limit
        self.cores = cores
        self.memory_mb = memory_mb
        self.seed = seed
        self.scratch_dir = scratch_dir

    # -- to implement -------------------------------------------------------------------
    def _fit(self, X: pd.DataFrame, y: np.ndarray) -> None:  # y: int codes 0..K-1
        raise NotImplementedError

    def _predict_proba(self, X: pd.DataFrame) -> np.ndarray:  # (n, K) in code order
        raise NotImplementedError

    # -- public API ---------------------------------------------------------------------
    def fit(self, X, y):
        X = self._check_X(X)
        y = pd.Series(y).reset_index(drop=True)
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
        if y.isna().any():
            raise ValueError("y contains missing labels")
        self._label_encoder = LabelEncoder().fit(y)
        self.classes_ = self._label_encoder.classes_
        self.n_features_in_ = X.shape[1]
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self._fit(X, self._label_encoder.transform(y))
        return self

    def predict_proba(self, X):
        X = self._check_X(X)
        proba = np.asarray(self._predict_proba(X), dtype=float)
        n_classes = len(self.classes_)
        if proba.shape != (len(X), n_classes):
            raise AdapterError(
                f"{type(self).__name__} returned probabilities of shape {proba.shape}, "
                f"expected {(len(X), n_classes)}"
            )
        proba = np.clip(np.nan_to_num(proba, nan=0.0), 0.0, None)
        sums = proba.sum(axis=1, keepdims=True)
        # a row of all zeros becomes uniform rather than a division by zero
        return np.where(sums > 0, proba / np.where(sums > 0, sums, 1.0), 1.0 / n_classes)

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def save_model(self, path: str) -> str:
        """Save the fitted model into the existing directory ``path`` in the backend's own
        format; return that format's name. The harness calls it (to measure the model's size
        on disk), never the adapter itself.

        Default: the fitted adapter, a scikit-learn estimator, as one joblib file (what
        scikit-learn recommends for its estimators). Backends with a format of their own
        (H2O's MOJO, AutoGluon's predictor folder, EvalML's pipeline file) override this.
        """
        import os

        import joblib

        joblib.dump(self, os.path.join(path, "model.joblib"))
        return "joblib"

    # -- helpers ------------------------------------------------------------------------
    def budget_less(self, reserve: float) -> float:
        """Seconds of the job's time limit left after keeping back the share ``reserve``."""
        return float(self.time_limit) * (1.0 - float(reserve))

    @staticmethod
    def _check_X(X) -> pd.DataFrame:
        if not isinstance(X, pd.DataFrame):
            X = pd.DataFrame(X)
        X = X.copy()
        X.columns = [str(c) for c in X.columns]
        return X.reset_index(drop=True)

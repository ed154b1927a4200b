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

The budget contract. ``time_limit`` is the wall time the backend may spend searching and
fitting its final model, counted from the start of ``fit``. Work that is not the backend's
search goes into the optional setup step, ``prepare(X, y)`` (subclasses implement
``_setup``): starting a backend's server (H2O's JVM), moving the training data into it. The
harness calls ``prepare`` before ``fit`` and times it apart, as ``setup_duration``; a plain
``fit`` without ``prepare`` runs the setup itself (inside ``fit``'s time). Where a backend's
own time limit is soft (it finishes a step after its deadline), the adapter hands the backend
its budget less what that step is measured to cost, so ``fit`` as a whole keeps to
``time_limit``.

After ``fit`` every adapter reports what the backend did: ``models_count_`` (models it
evaluated), ``best_model_`` (the one it kept), ``stop_reason_`` (``converged``: it ran out of
things to try; ``budget``: the backend's own time limit ended the search; ``deadline``: the
adapter cut the search short to finish inside ``time_limit``), ``search_budget_s_`` (seconds
the backend was allowed to search) and, for boosting, ``rounds_``; and ``trajectory()``:
the backend's incumbent over time (see :mod:`automl_bench_adapters.trajectory`), None when it records none.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from automl_bench_adapters.estimator import ClassifierEstimator


@dataclass(frozen=True)
class Requirements:
    """What an adapter needs before it can run, so the harness can say so up front (the
    harness checks it: :func:`automl_bench.planning.backend_envs.unmet`)."""

    packages: tuple[str, ...] = ()  # importable module names
    java: bool = False
    extra: str | None = None  # pip extra that installs the packages
    # (where it runs, in the harness's environment or one of its own, is its framework
    # definition's to say: adapters/frameworks.yaml)

    def install_hint(self) -> str:
        if self.extra:
            return f"pip install -e '.[{self.extra}]'"
        return "pip install -e ."


def label_column(columns, base: str = "__target__") -> str:
    """A name for the label column beside the features ``columns`` that no feature has (a
    feature may itself be called ``__target__``)."""
    names, name, i = {str(c) for c in columns}, base, 0
    while name in names:
        i += 1
        name = f"{base}{i}"
    return name


@dataclass(frozen=True)
class Capabilities:
    """What a backend can take. The limits (None: none) are a service's: a job outside them
    is skipped with the reason before anything is created remotely."""

    task_types: tuple[str, ...] = ("binary", "multiclass")
    missing_values: bool = True
    categoricals: bool = True
    notes: tuple[str, ...] = field(default_factory=tuple)
    min_train_rows: int | None = None
    max_train_rows: int | None = None
    max_columns: int | None = None
    max_classes: int | None = None
    min_budget_s: float | None = None
    remote: bool = False  # a managed service: runs and bills in the vendor's account


STOP_REASONS = ("converged", "budget", "deadline")


def encode_labels(y: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(classes, codes): the sorted distinct labels and each row's index among them, exactly
    as scikit-learn's ``LabelEncoder`` gives them (same classes, dtype and element types:
    nullable and Arrow numbers become float64, strings and categories object arrays)."""
    dtype = y.dtype
    if (isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.kind in "iufb"
            and not isinstance(dtype, pd.CategoricalDtype)):  # fmt: skip
        values = y.to_numpy(dtype=np.float64)
    else:
        values = np.asarray(y)
    if values.dtype == object:  # strings, categories, mixed Python objects
        classes = np.array(sorted(set(values)), dtype=object)
        index = {v: i for i, v in enumerate(classes)}
        return classes, np.array([index[v] for v in values], dtype=np.int64)
    classes, codes = np.unique(values, return_inverse=True)
    return classes, codes.astype(np.int64, copy=False)


class AdapterError(RuntimeError):
    """A backend ran but could not produce a model (a framework failure, not a crash)."""


class BaseAdapter(ClassifierEstimator):
    """Common budget arguments and label handling. Subclasses add their own parameters.

    A scikit-learn estimator (``get_params``, ``set_params``, ``clone``, pipelines) that does
    not import scikit-learn itself (:mod:`automl_bench_adapters.estimator`): an adapter whose backend
    needs it imports it, and lists the modules its jobs load in ``warm_imports``."""

    requirements: Requirements = Requirements()
    capabilities: Capabilities = Capabilities()
    distribution: str = "scikit-learn"  # the PyPI distribution whose version a row records
    # whether its jobs compute on their cores (the contention report compares their CPU share
    # with the cores they had); an adapter that mostly waits (a remote service) says False
    cpu_bound: bool = True
    # whether two fits with one seed predict the same (check-adapter holds it to that)
    reproducible: bool = False
    # modules every job of this adapter imports: the warm launcher loads them once, before it
    # forks the run's workers, instead of each job loading them (most adapters use these)
    warm_imports: tuple[str, ...] = ("sklearn.base", "sklearn.preprocessing", "sklearn.pipeline",
                                     "sklearn.compose", "sklearn.utils")  # fmt: skip

    def __init__(self, time_limit=60.0, cores=1, memory_mb=None, seed=0, scratch_dir=None):
        self.time_limit = time_limit
        self.cores = cores
        self.memory_mb = memory_mb
        self.seed = seed
        self.scratch_dir = scratch_dir

    @classmethod
    def missing_access(cls, params: dict) -> str | None:
        """Why jobs with the definition's ``params`` cannot run here (no credentials, an
        account setting missing), found without contacting anything; None: they can."""
        return None

    @classmethod
    def expected_billing(cls, params: dict, budget_s: float) -> tuple[list[dict], str]:
        """What a managed service is expected to bill for one job with the definition's
        ``params`` and a budget of ``budget_s``: pieces as in ``billed_usage_`` (service,
        instance_type, instance_count, seconds = instance-seconds), and the assumption they
        rest on in words. ([], ""): billed by no service."""
        return [], ""

    # -- to implement -------------------------------------------------------------------
    def _setup(self, X: pd.DataFrame, y: np.ndarray) -> None:
        """Work before the search that is not the backend's search (a server's start, data
        transfer into it). Called once per fit, by ``prepare`` or else by ``fit``."""

    def _fit(self, X: pd.DataFrame, y: np.ndarray) -> None:  # y: int codes 0..K-1
        raise NotImplementedError

    def _predict_proba(self, X: pd.DataFrame) -> np.ndarray:  # (n, K) in code order
        raise NotImplementedError

    # -- public API ---------------------------------------------------------------------
    def prepare(self, X, y):
        """The setup step (not charged to the budget): check and encode the data, then run
        the backend's setup (``_setup``). ``fit`` with the same X and y then skips both."""
        self._prepared = None
        Xc, codes = self._encode(X, y)
        self._setup(Xc, codes)
        self._prepared = (id(X), id(y), Xc, codes)
        return self

    def fit(self, X, y):
        prepared = getattr(self, "_prepared", None)
        self._prepared = None
        if prepared is not None and prepared[0] == id(X) and prepared[1] == id(y):
            Xc, codes = prepared[2], prepared[3]
        else:
            Xc, codes = self._encode(X, y)
            self._setup(Xc, codes)
        self.fit_started_ = time.monotonic()
        for attr in ("stop_reason_", "search_budget_s_", "best_model_", "rounds_"):
            self.__dict__.pop(attr, None)
        self._fit(Xc, codes)
        return self

    def _encode(self, X, y) -> tuple[pd.DataFrame, np.ndarray]:
        X = self._check_X(X)
        y = pd.Series(y).reset_index(drop=True)
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
        if y.isna().any():
            raise ValueError("y contains missing labels")
        self.classes_, codes = encode_labels(y)
        self.n_features_in_ = X.shape[1]
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return X, codes

    def predict_proba_unchecked(self, X) -> np.ndarray:
        """Probabilities as the backend computed them (shape checked, nothing repaired): what
        the harness scores, after counting every row it has to repair."""
        X = self._check_X(X)
        proba = np.asarray(self._predict_proba(X), dtype=float)
        n_classes = len(self.classes_)
        if proba.shape != (len(X), n_classes):
            raise AdapterError(
                f"{type(self).__name__} returned probabilities of shape {proba.shape}, "
                f"expected {(len(X), n_classes)}"
            )
        return proba

    def predict_proba(self, X):
        """Probabilities with NaN taken as 0, negatives clipped and rows renormalised (a row
        of all zeros becomes uniform), as scikit-learn users expect."""
        proba = self.predict_proba_unchecked(X)
        n_classes = len(self.classes_)
        proba = np.clip(np.nan_to_num(proba, nan=0.0, posinf=0.0, neginf=0.0), 0.0, None)
        sums = proba.sum(axis=1, keepdims=True)
        return np.where(sums > 0, proba / np.where(sums > 0, sums, 1.0), 1.0 / n_classes)

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def trajectory(self) -> pd.DataFrame | None:
        """After ``fit``: the backend's incumbent over time, one row per evaluation, with the
        columns of :data:`automl_bench_adapters.trajectory.COLUMNS` (elapsed_s, best_loss, loss_name,
        model, ...), from what the backend recorded while it searched; None when it recorded
        nothing usable (the default). The harness calls it after prediction, outside the
        budget, and stores it as ``trajectory.parquet``."""
        return None

    def deployable_model(self):
        """After ``fit``: the object a user of the backend would deploy, without what the
        adapter wraps around the backend's model to run it inside the budget (threads,
        closures, search state). ``save_model`` saves it; the harness measures its size.

        Default: the fitted adapter itself (a scikit-learn estimator holding the backend's
        model). An adapter whose fitted state holds more than the model (FLAML's AutoML object
        with the adapter's threads) returns the backend's model instead."""
        return self

    def save_model(self, path: str) -> str:
        """Save the deployable model (``deployable_model``) into the existing directory
        ``path`` in the backend's own format; return that format's name. The harness calls it
        (to measure the model's size on disk), never the adapter itself.

        Default: the deployable model as one joblib file (what scikit-learn recommends for
        its estimators). Backends with a format of their own (H2O's MOJO, AutoGluon's
        predictor folder, EvalML's pipeline file) override this.
        """
        import os

        import joblib

        joblib.dump(self.deployable_model(), os.path.join(path, "model.joblib"))
        return "joblib"

    # -- helpers ------------------------------------------------------------------------
    def elapsed(self) -> float:
        """Seconds since ``fit`` started (the budget's clock)."""
        return time.monotonic() - getattr(self, "fit_started_", time.monotonic())

    def remaining(self) -> float:
        """Seconds of ``time_limit`` left, counted from the start of ``fit``."""
        return float(self.time_limit) - self.elapsed()

    @staticmethod
    def _check_X(X) -> pd.DataFrame:
        if not isinstance(X, pd.DataFrame):
            X = pd.DataFrame(X)
        X = X.copy()
        X.columns = [str(c) for c in X.columns]
        return X.reset_index(drop=True)

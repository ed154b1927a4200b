"""EvalML (Alteryx), run in its own environment (it pins pandas < 2.1, hence numpy < 2).

``automl-bench env create evalml`` builds the environment. Budget mapping: EvalML checks its
clock (``max_time``) only before it starts a pipeline, each a 3-fold CV, and trains the best
pipeline on all rows after the search, so on its own it overruns by up to one pipeline plus
that final fit (1.15-1.47x the budget at 30 s, measured). The adapter measures both while
EvalML searches: after every pipeline it sets EvalML's ``max_time`` to the time limit less
the expected length of the next pipeline (the median of those evaluated so far) and less the
final fit (a third of the best pipeline's 3-fold CV time, times ``final_fit_safety``). A
pipeline far slower than the ones before it could still run past the time limit, so a timer
stops the search when the time left is just the final fit's (the search is then ended by
``deadline``); the best pipeline so far is then fitted on all rows, as EvalML would. ``n_jobs`` = its cores, ``random_seed`` = its seed, the objective is
log loss (multiclass, or binary for two classes). ``models_count_`` is the number of
pipelines EvalML evaluated (its rankings' length, the baseline included).

``trajectory()``: every pipeline EvalML evaluated, its mean cross-validated log loss (EvalML's
objective, on its own 3-fold split of the training rows) at the moment it finished, as the
search's callback saw it.

EvalML's oversampler is off by default (``sampler_method=None``): EvalML 0.84 passes
``n_jobs`` to imbalanced-learn's SMOTENC, which imbalanced-learn 0.12+ no longer accepts, and
with imbalanced-learn 0.11 SMOTENC fails on rare classes (anneal) with a broadcast error; either
way every pipeline with the sampler scored NaN. Pass ``sampler_method: auto`` to turn it on.
"""

from __future__ import annotations

import signal
import statistics
import threading
import time

import numpy as np
import pandas as pd

from automl_bench_adapters.base import AdapterError, BaseAdapter, Capabilities, Requirements
from automl_bench_adapters.preprocess import as_category
from automl_bench_adapters.stop_reason import stop_reason


class EvalML(BaseAdapter):
    requirements = Requirements(packages=("evalml",))
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
        final_fit_safety=1.5,
        min_class_count=3,
    ):
        super().__init__(time_limit, cores, memory_mb, seed, scratch_dir)
        self.automl_algorithm = automl_algorithm
        self.ensembling = ensembling
        self.sampler_method = sampler_method
        self.final_fit_safety = final_fit_safety
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

    def _setup(self, X, y):
        """Import the backend (seconds of interpreter work, not search)."""
        import importlib

        importlib.import_module("woodwork")
        importlib.import_module("evalml.automl")

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
        X = self._prepare(X)
        max_time = max(1.0, self.remaining() - 1.0)
        clock = _SearchClock(time.time() + self.remaining(), self.final_fit_safety)
        self.search_clock_ = clock
        automl = AutoMLSearch(
            X_train=X,
            y_train=pd.Series(y, name="target"),
            problem_type="binary" if binary else "multiclass",
            objective="Log Loss Binary" if binary else "Log Loss Multiclass",
            max_time=max_time,
            random_seed=int(self.seed),
            n_jobs=int(self.cores),
            automl_algorithm=self.automl_algorithm,
            ensembling=self.ensembling,
            sampler_method=self.sampler_method,
            add_result_callback=clock.after_pipeline,
            verbose=False,
        )
        with clock.hard_stop():
            try:
                automl.search(interactive_plot=False)
                stopped = False
            except _StopSearch:
                stopped = True
        self.search_budget_s_ = max_time
        if stopped:
            self._fit_best_so_far(automl, X, y)
            return
        end = float(automl.progress.max_time or max_time)
        self.timings_ = {"search_s": float(automl.search_duration), "search_end_s": end}
        self.stop_reason_ = stop_reason(automl.search_duration, end, lowered=clock.lowered)
        self._keep(automl, automl.best_pipeline, max_time)

    def _fit_best_so_far(self, automl, X, y) -> None:
        """The search was stopped mid-pipeline: fit its best pipeline on all rows."""
        ranked = automl.rankings
        ranked = ranked[ranked["mean_cv_score"].notna()] if len(ranked) else ranked
        if not len(ranked):
            raise AdapterError("EvalML evaluated no pipeline before its deadline")
        best = automl.get_pipeline(int(ranked.iloc[0]["id"]))
        best.fit(X, pd.Series(y, name="target"))
        self.stop_reason_ = "deadline"
        self._keep(automl, best, self.search_budget_s_)

    def _keep(self, automl, best, max_time) -> None:
        if best is None:
            raise AdapterError(f"EvalML found no pipeline within max_time={max_time:.0f}s")
        self.model_ = best
        self.search_ = automl
        board = pd.DataFrame(automl.full_rankings)
        keep = [c for c in ("id", "pipeline_name", "search_order", "mean_cv_score",
                            "validation_score", "percent_better_than_baseline") if c in board]  # fmt: skip
        self.leaderboard_ = board[keep].reset_index(drop=True)
        self.models_count_ = int(len(board))
        self.best_model_ = str(best.name)

    def trajectory(self):
        """Each evaluated pipeline's mean CV log loss when it finished (the search's callback)."""
        clock = getattr(self, "search_clock_", None)
        if clock is None or not clock.history:
            return None
        from automl_bench_adapters.trajectory import LOG_LOSS, incumbents, wall_to_elapsed

        points = [(wall_to_elapsed(self, wall), score, name) for wall, score, name in clock.history]
        splitter = getattr(getattr(self, "search_", None), "data_splitter", None)
        folds = getattr(splitter, "n_splits", None)
        validation = (f"EvalML {folds}-fold cross-validation" if folds
                      else f"EvalML {type(splitter).__name__ if splitter else 'validation'}")  # fmt: skip
        return incumbents(points, LOG_LOSS, validation)

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


class _StopSearch(BaseException):
    """Raised in the main thread when the search must end (not an Exception, so EvalML's
    per-pipeline error handling does not swallow it)."""


class _SearchClock:
    """EvalML's add_result_callback: after each pipeline, moves EvalML's ``max_time`` so the
    next pipeline and the final fit of the best one end by ``end`` (wall clock); and a
    timer that stops the search outright when only the final fit's time is left."""

    def __init__(self, end: float, safety: float):
        self.end, self.safety = end, safety
        self.last: float | None = None
        self.durations: list[float] = []
        self.best: tuple[float, float] | None = None  # (score, seconds) of the best pipeline
        self.lowered = False
        self.initial: float | None = None
        self.final_fit = 0.0
        self.armed = False
        self.automl = None
        self.history: list[tuple[float, float, str]] = []  # (wall time, score, pipeline)

    def stop_at(self) -> float:
        return self.end - self.final_fit

    def _on_timer(self, signum, frame) -> None:
        # only while pipelines are evaluated: EvalML sets search_duration when the search
        # loop ends, before its own final fit, which must not be interrupted
        searching = self.automl is not None and not hasattr(self.automl, "search_duration")
        if self.armed and searching and self.best is not None and time.time() >= self.stop_at():
            self.armed = False
            raise _StopSearch()

    def hard_stop(self):
        """Context manager: a SIGALRM timer (main thread only; elsewhere max_time alone)."""
        import contextlib

        @contextlib.contextmanager
        def timer():
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            previous = signal.signal(signal.SIGALRM, self._on_timer)
            signal.setitimer(signal.ITIMER_REAL, 0.25, 0.25)
            self.armed = True
            try:
                yield
            finally:
                self.armed = False
                signal.setitimer(signal.ITIMER_REAL, 0, 0)
                signal.signal(signal.SIGALRM, previous)

        return timer()

    def after_pipeline(self, result, trained_pipeline, automl) -> None:
        now = time.time()
        self.automl = automl
        progress = automl.progress
        start = progress.start_time or now
        took = now - (self.last if self.last is not None else start)
        first = self.last is None
        self.last = now
        try:  # EvalML passes the evaluated pipeline's own result
            score = float(result["mean_cv_score"])
        except (KeyError, TypeError, ValueError):
            score = float("nan")
        try:
            name = str(result.get("pipeline_name") or trained_pipeline.name)
        except Exception:
            name = "pipeline"
        self.history.append((now, score, name))
        if first:
            # EvalML's baseline (the class prior) comes first: its time is mostly the
            # search's own start, and fitting it again costs nothing, so it sets no pace
            if score == score:
                self.best = (score, 0.0)
            return
        self.durations.append(took)
        if score == score and (self.best is None or score < self.best[0]):  # log loss
            self.best = (score, took)
        final_fit = (self.best[1] if self.best else took) / 3.0 * self.safety
        self.final_fit = final_fit
        next_pipeline = statistics.median(self.durations)
        target = self.end - start - final_fit - next_pipeline
        if not progress.max_time:
            return
        if self.initial is None:
            self.initial = progress.max_time
        progress.max_time = min(self.initial, max(target, 0.01))
        self.lowered = progress.max_time < self.initial

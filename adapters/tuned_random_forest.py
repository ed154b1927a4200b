"""AMLB's TunedRandomForest baseline: scikit-learn's random forest with ``max_features`` chosen
by cross-validation within the time budget, then refit on all training rows.

The values tried (:func:`max_features_values`): scikit-learn's default sqrt(features) first,
then the others in increasing order, spaced evenly on a log scale below sqrt(features) and
above it up to every feature. Each value is scored by the out-of-fold log loss of
``cv_folds`` forests of ``cv_trees`` trees (stratified folds, the job's seed), grown in steps;
every value is scored with the same number of trees, so their losses compare. The value with
the lowest loss is refit on all rows as the forest of
:class:`~automl_bench_adapters.random_forest.RandomForest`: ``n_estimators`` trees grown in
batches that stop at the deadline.

The budget covers the search and the refit. Before each value and after each fit of one of
its folds, the search goes on only if the rest of that value's folds and the refit of the best
value so far (or of this one, whichever costs more) are predicted to end by the deadline. The
predictions come from the search's own measurements: a fixed cost per call to the forest's fit
or predict (measured once) and the seconds per tree of each value cross-validated so far (a
value not tried yet is interpolated between the tried values beside it, or above them all
scaled from the largest by its share of the features); the refit's trees cost ``FINISH_FACTOR`` times that per tree, on
k/(k-1) times a fold's rows, and its prediction is kept back with ``FINISH_MARGIN``. A value
whose folds would end too late is left out (``stop_reason_`` ``deadline``); with no value
scored, the refit uses sqrt(features). ``timings_`` records the reserve kept back for the
refit, when the search ended and what the refit took.

Trajectory: one point per value scored, its cross-validated log loss, when its folds ended.
"""

from __future__ import annotations

import math
import time

import numpy as np

from automl_bench_adapters.deadline import Deadline
from automl_bench_adapters.preprocess import ordinal_encoder
from automl_bench_adapters.random_forest import RandomForest
from automl_bench_adapters.trajectory import LOG_LOSS, incumbents, multiclass_log_loss

# The refit's seconds per tree over the folds' (which include predicting the held-out rows),
# and the margin kept on top of the refit's prediction. Measured on eight real datasets
# (anneal, segment, optdigits, mfeat-factors, cnae-9, micro-mass, arrhythmia, semeion; half
# of the rows, budget 60 s, 1 core, a shared 2-core machine): the refit took 0.73-1.09 times
# its prediction (median 0.95) with the machine's load at 2-3, and 0.78-1.34 times under a
# load of 4-5 (budgets 60-120 s, before the cost per call was taken apart). A refit that still
# runs late stops at the deadline with fewer trees.
FINISH_FACTOR = 1.0
FINISH_MARGIN = 1.35
CV_STEPS = 4  # the folds' forests grow in this many steps, after a first twentieth


def max_features_values(features: int, count: int) -> list[int]:
    """At most ``count`` values of ``max_features`` for ``features`` columns: sqrt first, then
    up to (count - 1) // 2 values below it and the rest above it (the last is every feature),
    log-spaced, in increasing order."""
    default = max(1, int(math.sqrt(features)))
    n_below = max(0, (int(count) - 1) // 2)
    n_above = max(0, int(count) - 1 - n_below)
    below = np.geomspace(1, default, n_below + 1)[:-1] if n_below and default > 1 else []
    above = np.geomspace(default, features, n_above + 1)[1:] if n_above else []
    values = [default, *(int(round(v)) for v in below), *(int(round(v)) for v in above)]
    values = [v for i, v in enumerate(values) if i == 0 or v != default]
    return list(dict.fromkeys(values))[: max(1, int(count))]


class TunedRandomForest(RandomForest):
    warm_imports = (*RandomForest.warm_imports, "sklearn.model_selection")

    def __init__(
        self,
        time_limit=60.0,
        cores=1,
        memory_mb=None,
        seed=0,
        scratch_dir=None,
        n_estimators=300,
        cv_folds=5,
        cv_trees=100,
        candidates=10,
        trajectory_steps=10,
    ):
        super().__init__(time_limit, cores, memory_mb, seed, scratch_dir, n_estimators,
                         "sqrt", trajectory_steps)  # fmt: skip
        self.cv_folds = cv_folds
        self.cv_trees = cv_trees
        self.candidates = candidates

    def _fit(self, X, y):
        from sklearn.pipeline import make_pipeline

        encoder = ordinal_encoder().fit(X)
        Xe = np.asarray(encoder.transform(X), dtype=np.float32)
        deadline = Deadline(self.remaining())
        search = _Search(self, Xe, y, deadline)
        best, cut_short = search.run()
        self.cv_points_ = search.points
        reserve = search.finish_s(best)
        refit_start = self.elapsed()
        forest = self._grow(Xe, y, best, deadline, out_of_bag=False)
        self.model_ = make_pipeline(encoder, forest)
        self.models_count_ = max(1, len(search.points))
        self.best_model_ = (f"RandomForestClassifier (max_features={best}, "
                            f"{len(forest.estimators_)} trees)")  # fmt: skip
        self.search_budget_s_ = deadline.seconds
        self.stop_reason_ = "deadline" if cut_short or deadline.hit else "converged"
        self.timings_ = {"finish_reserve_s": reserve, "search_end_s": refit_start,
                         "refit_s": self.elapsed() - refit_start, "max_features": best,
                         "values_scored": len(search.points)}  # fmt: skip

    def trajectory(self):
        """Cross-validated log loss of each ``max_features`` value scored."""
        points = getattr(self, "cv_points_", [])
        if not points:
            return None
        validation = (f"{self.folds_}-fold cross-validation of the training rows "
                      f"({int(self.cv_trees)} trees per fold)")  # fmt: skip
        rows = [(t, loss, f"RandomForestClassifier (max_features={v})") for t, loss, v in points]
        return incumbents(rows, LOG_LOSS, validation)


class _Search:
    """The cross-validation of the ``max_features`` values, within the deadline. Time is
    predicted as a fixed cost per call to the forest's fit or predict (``call_s``, measured
    once) plus a cost per tree (``per_tree``, measured per value)."""

    def __init__(self, adapter: TunedRandomForest, Xe, y, deadline: Deadline):
        self.adapter, self.Xe, self.y, self.deadline = adapter, Xe, y, deadline
        self.per_tree: dict[int, float] = {}  # seconds per tree and fold, measured
        self.points: list[tuple[float, float, int]] = []  # (elapsed, loss, value)
        self.folds = self._folds()
        adapter.folds_ = len(self.folds)
        trees = int(adapter.cv_trees)
        # each fold's forest grows to these sizes: a twentieth first (an untried value's first
        # measurement), then in CV_STEPS steps
        self.sizes = sorted({max(1, trees // 20),
                             *(round(trees * s / CV_STEPS) for s in range(1, CV_STEPS + 1))}
                            - {0})  # fmt: skip
        self.call_s = self._call_cost() if len(self.folds) else 0.0

    def _folds(self):
        import warnings

        from sklearn.model_selection import StratifiedKFold

        k = min(int(self.adapter.cv_folds), int(np.bincount(self.y).max()))
        if k < 2:
            return []
        cv = StratifiedKFold(k, shuffle=True, random_state=self.adapter.seed)
        with warnings.catch_warnings():  # a class with fewer rows than folds: still usable
            warnings.simplefilter("ignore", UserWarning)
            return list(cv.split(self.Xe, self.y))

    def _call_cost(self) -> float:
        """Seconds of a call to fit or predict beyond its trees: the quickest of three fits of
        one tree on a few rows."""
        from sklearn.ensemble import RandomForestClassifier

        forest = RandomForestClassifier(1, n_jobs=self.adapter.cores, random_state=0)
        X, y, times = self.Xe[:20], self.y[:20], []
        for _ in range(3):
            t0 = time.monotonic()
            forest.fit(X, y).predict_proba(X)
            times.append((time.monotonic() - t0) / 2)
        return min(times)

    def run(self) -> tuple[int, bool]:
        """(the value to refit, whether the deadline left values out)."""
        values = max_features_values(self.Xe.shape[1], self.adapter.candidates)
        if len(values) == 1 or not self.folds:
            return values[0], False
        k = len(self.folds)
        for value in values:
            calls = (len(self.sizes) + 1) * k  # the fits, then a prediction per fold
            if self.per_tree and not self._fits(value, int(self.adapter.cv_trees) * k, calls):
                return self.best(values[0]), True
            loss = self._score(value)
            if loss is None:  # its folds would have ended too late: left out
                return self.best(values[0]), True
            self.points.append((self.adapter.elapsed(), loss, value))
        return self.best(values[0]), False

    def best(self, default: int) -> int:
        return min(self.points, key=lambda p: p[1])[2] if self.points else default

    def cost_per_tree(self, value: int) -> float:
        """Seconds per tree and fold of ``value``: measured; else interpolated between the
        nearest measured values below and above it; above them all, the largest's scaled by
        the share of features; below them all, the smallest's."""
        if value in self.per_tree:
            return self.per_tree[value]
        lower = [v for v in self.per_tree if v < value]
        upper = [v for v in self.per_tree if v > value]
        if lower and upper:
            a, b = max(lower), min(upper)
            ca, cb = self.per_tree[a], self.per_tree[b]
            return ca + (cb - ca) * (value - a) / (b - a)
        if upper:
            return self.per_tree[min(upper)]
        return self.per_tree[max(lower)] * value / max(lower)

    def finish_s(self, value: int) -> float:
        """Predicted seconds of the refit of ``value`` on all rows (0 before any measurement):
        its trees, on k/(k-1) times the rows of a fold, and its batches' calls."""
        if not self.per_tree:
            return 0.0
        a, k = self.adapter, max(2, len(self.folds))
        n = int(a.n_estimators)
        trees_s = self.cost_per_tree(value) * FINISH_FACTOR * k / (k - 1) * n
        batches = max(1, min(int(a.trajectory_steps or 1), n))
        return (trees_s + batches * self.call_s) * FINISH_MARGIN

    def _fits(self, value: int, trees_left: int, calls_left: int) -> bool:
        """Whether ``trees_left`` fold trees of ``value`` in ``calls_left`` calls, and then the
        refit of the best value so far, or of ``value`` if it costs more, are predicted to end
        by the deadline."""
        finish = max(self.finish_s(self.best(value)), self.finish_s(value))
        folds = self.cost_per_tree(value) * trees_left + self.call_s * calls_left
        return folds + finish < self.deadline.left()

    def _score(self, value: int) -> float | None:
        """Out-of-fold log loss of ``value`` with ``cv_trees`` trees per fold; None when the
        deadline would come before its folds end (checked after each fold's fit)."""
        from sklearn.ensemble import RandomForestClassifier

        a, k = self.adapter, len(self.folds)
        forests = [RandomForestClassifier(max_features=value, n_jobs=a.cores,
                                          random_state=a.seed, warm_start=True)
                   for _ in self.folds]  # fmt: skip
        trees, grown, calls, started = int(a.cv_trees), 0, 0, time.monotonic()
        total_calls = (len(self.sizes) + 1) * k
        for size in self.sizes:
            for forest, (train, _) in zip(forests, self.folds, strict=True):
                grown += size - len(getattr(forest, "estimators_", ()))
                forest.set_params(n_estimators=size).fit(self.Xe[train], self.y[train])
                calls += 1
                self._measure(value, time.monotonic() - started, grown, calls)
                if grown < trees * k and not self._fits(value, trees * k - grown,
                                                        total_calls - calls):  # fmt: skip
                    return None
        proba = np.zeros((len(self.y), len(a.classes_)))
        for forest, (_, test) in zip(forests, self.folds, strict=True):
            proba[np.ix_(test, forest.classes_)] = forest.predict_proba(self.Xe[test])
        self._measure(value, time.monotonic() - started, trees * k, total_calls)
        return multiclass_log_loss(proba, self.y)

    def _measure(self, value: int, seconds: float, trees: int, calls: int) -> None:
        """Seconds per tree of ``value`` from ``seconds`` spent on ``trees`` in ``calls``
        (the calls' own cost taken out, at most three quarters of the time)."""
        self.per_tree[value] = max(seconds - calls * self.call_s, seconds / 4) / trees

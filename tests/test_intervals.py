"""Intervals that mean what they say: simulated benchmarks with known differences, the
Bradley-Terry fit against an independent logistic regression, per-task fold ranges."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl_bench.report import intervals as iv
from automl_bench.report import stats

N_BENCHMARKS = 1000


def simulated_coverage(n_tasks=15, n_folds=3, n=N_BENCHMARKS, seed=1) -> dict:
    """Three frameworks with true mean scores 0.80, 0.79, 0.77 over a population of tasks:
    each task shifts all of them (task difficulty) and each pair differently (task x
    framework effect); folds add noise. The share of benchmarks whose pairwise 95% interval
    covers the true difference, per pair."""
    truth = np.array([0.80, 0.79, 0.77])
    rng = np.random.default_rng(seed)
    pairs = [(0, 1), (0, 2), (1, 2)]
    hits = dict.fromkeys(pairs, 0)
    for b in range(n):
        task = rng.normal(0, 0.05, (n_tasks, 1, 1))
        inter = rng.normal(0, 0.015, (n_tasks, 3, 1))
        folds = rng.normal(0, 0.02, (n_tasks, 3, n_folds))
        scores = truth[None, :, None] + task + inter + folds  # tasks x frameworks x folds
        for a, c in pairs:
            _, lo, hi = iv.task_bootstrap(scores[:, a] - scores[:, c], n_boot=1000, seed=b)
            hits[(a, c)] += lo <= truth[a] - truth[c] <= hi
    return {k: v / n for k, v in hits.items()}


def test_pairwise_intervals_cover_the_true_difference_about_95_percent():
    cover = simulated_coverage()
    print("coverage of 95% pairwise intervals over", N_BENCHMARKS, "benchmarks:", cover)
    for pair, share in cover.items():
        assert 0.93 <= share <= 0.97, (pair, share)


def test_few_tasks_give_no_interval_and_unequal_folds_work():
    v = np.array([[0.9, 0.8], [0.3, 0.2], [0.5, 0.6], [0.7, np.nan]])
    m, lo, hi = iv.task_bootstrap(v)
    assert m == pytest.approx(np.mean([0.85, 0.25, 0.55, 0.7])) and np.isnan(lo) and np.isnan(hi)
    v = np.vstack([v, [[0.4, 0.5]]])
    m, lo, hi = iv.task_bootstrap(v)
    assert lo < m < hi
    # the interval reflects the spread between tasks, not the small spread between folds
    assert hi - lo > 0.2


def test_per_task_cells_show_the_fold_range_below_five_folds_and_clip():
    assert iv.fold_summary([0.2, 0.9], "acc") == (pytest.approx(0.55), 0.2, 0.9, "range")
    m, lo, hi, kind = iv.fold_summary([0.99, 1.0, 0.98, 1.0, 0.97], "acc")
    assert kind == "t" and hi == 1.0 and lo < m
    m, lo, hi, kind = iv.fold_summary([0.01, 0.5, 0.02, 0.9, 0.01], "logloss")
    assert kind == "t" and lo == 0.0


def test_bradley_terry_matches_an_independent_logistic_regression():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    strength = np.array([0.0, 0.5, 1.0, 1.5])
    scores = strength + rng.normal(0, 0.8, (40, 4))
    scores[rng.random((40, 4)) < 0.05] = 0.25  # some ties
    scores[:3, 1] = scores[:3, 2]
    matrix = pd.DataFrame(scores, columns=["a", "b", "c", "d"])
    ours = stats.bradley_terry(matrix, anchor="a", n_boot=1000)
    assert ours.n_boot == 1000
    # the same objective written as a logistic regression on +1/-1 battle rows, ties as half
    # a win each way: C weights the battles against 0.5 |w|^2 (the N(0, 1) prior)
    X, y, w = [], [], []
    for t in range(len(scores)):
        for i in range(4):
            for j in range(i + 1, 4):
                x = np.zeros(4)
                x[i], x[j] = 1.0, -1.0
                o = 1.0 if scores[t, i] > scores[t, j] else 0.5 if scores[t, i] == scores[t, j] else 0.0
                for label, weight in ((1, o), (0, 1 - o)):
                    if weight:
                        X.append(x)
                        y.append(label)
                        w.append(weight)
    lr = LogisticRegression(C=1.0, fit_intercept=False, tol=1e-10, max_iter=10_000)
    lr.fit(np.array(X), np.array(y), sample_weight=np.array(w))
    beta = lr.coef_[0] - lr.coef_[0][0]
    expected = stats.ELO_BASE + stats.ELO_SCALE * beta
    got = ours.table.set_index("framework")["elo"].reindex(["a", "b", "c", "d"]).to_numpy()
    assert got == pytest.approx(expected, abs=0.5)
    table = ours.table.set_index("framework")
    assert list(ours.table["framework"]) == ["d", "c", "b", "a"]
    assert (table["lo"] <= table["elo"]).all() and (table["elo"] <= table["hi"]).all()
    assert "Gaussian prior" in stats.prior_note()

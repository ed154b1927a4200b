"""The CatBoost baseline on real data with budgets of a few seconds: probabilities in class
order, labels of any type, categoricals and missing values, the deadline, the early stop, the
trajectory, one core, the seed and the saved model.

CatBoost runs in an environment of its own (its definition in adapters/frameworks.yaml says
why), so every scenario runs there: tests/catboost_probe.py, with that environment's
interpreter, fits the adapter and prints what these tests check. Skipped, with the command
that builds it, when the environment is absent (`make test` builds it).
"""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pytest
from conftest import ROOT

from automl_bench.planning import backend_envs, registry
from automl_bench_adapters.trajectory import COLUMNS

PROBE = ROOT / "tests" / "catboost_probe.py"


@pytest.fixture(scope="module")
def probe(datasets_dir) -> dict:
    """scenario -> what the probe printed for it (all scenarios, one interpreter)."""
    env = registry.get("catboost").environment()  # runs_in: own, always one of its own
    if gone := backend_envs.missing(env.name, ("catboost",)):
        pytest.skip(f"{'; '.join(gone)} missing: `make test` builds it (or run "
                    "`automl-bench env create catboost`)")  # fmt: skip
    python = str(backend_envs.python_of(env.name))
    proc = subprocess.run([python, str(PROBE), str(datasets_dir)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [json.loads(x[len("PROBE "):]) for x in proc.stdout.splitlines()
             if x.startswith("PROBE ")]  # fmt: skip
    return {out.pop("scenario"): out for out in lines}


def test_segment_string_labels_probabilities_in_class_order(probe):
    out = probe["segment"]
    assert out["classes"] == out["labels"] and out["shape"][1] == 7
    assert out["row_sum_error"] < 1e-9 and out["finite_nonnegative"]  # as CatBoost gave them
    # column j is class classes_[j]: each class's rows put most probability on its column
    means = np.array(out["class_means"])
    assert (means.argmax(axis=1) == np.arange(7)).all(), means.round(2)
    assert out["predict_is_argmax"]
    assert out["scratch_written"] == []  # CatBoost's training log is not written anywhere


def test_anneal_categoricals_missing_values_and_integer_labels(probe):
    out = probe["anneal"]
    assert out["missing_cells"] > 0 and out["string_columns"] > 0
    assert out["classes"] == out["labels"] == [3, 13, 23, 33, 43]
    # the string columns go to CatBoost as categoricals (its own encoding), and a value
    # never seen in training is predicted
    assert out["catboost_cat_features"] == out["string_columns"]
    assert out["row_sum_error"] < 1e-9 and set(out["predicted"]) <= set(out["labels"])


def test_boolean_labels(probe):
    out = probe["boolean"]
    assert out["classes"] == [False, True] and out["shape"][1] == 2
    # the True column is the first class's: higher on its rows
    assert out["true_column_on_true_rows"] > out["true_column_on_false_rows"]


def test_the_deadline_ends_the_fit_inside_its_budget(probe):
    out = probe["deadline"]
    # the budget, plus what CatBoost takes to stop after the round that crossed its deadline
    assert out["fit_s"] <= 2 * 1.1 + 0.5, out["fit_s"]
    assert out["stop_reason"] == "deadline" and 1 <= out["rounds"] < 100_000
    assert out["best_model"] == f"CatBoostClassifier ({out['kept']} rounds)"
    # one trajectory point per round reached, inside the fit, on the inner holdout
    assert out["columns"] == list(COLUMNS) and out["points"] == out["rounds"]
    elapsed, best = np.array(out["elapsed"]), np.array(out["best_loss"])
    assert (np.diff(elapsed) >= 0).all() and 0 <= elapsed[0] and elapsed[-1] <= out["fit_s"]
    assert np.isfinite(best).all() and (np.diff(best) <= 1e-12).all()
    assert out["loss_names"] == ["log_loss"]
    assert out["validation"] == ["inner holdout (10% of the training rows)"]
    assert out["evaluated"] == ["CatBoostClassifier (1 rounds)", "CatBoostClassifier (2 rounds)"]


def test_a_round_that_would_end_past_the_deadline_is_not_started(probe):
    out = probe["slow_rounds"]
    ends = np.array(out["round_ends"])
    assert out["stop_reason"] == "deadline" and out["rounds"] == len(ends) >= 1
    assert np.diff(ends).min(initial=ends[0]) > 0.2, ends  # rounds slow enough to matter
    # the deadline (98% of 4 s) was within one more round of the last one's end
    rounds_s = np.diff(ends, prepend=0.0)
    assert ends[-1] + rounds_s[-1] >= 0.98 * 4, ends
    assert out["fit_s"] <= 4 * 1.05, (out["fit_s"], ends)


def test_the_early_stop_keeps_the_best_rounds_and_converges(probe):
    out = probe["early_stop"]
    assert out["stop_reason"] == "converged" and out["rounds"] < 1000
    # it went 20 rounds past its best validation loss, then kept the rounds up to the best
    kept = out["kept"]
    assert out["rounds"] == kept + 20 == len(out["losses"])
    assert out["best_model"] == out["incumbent"] == f"CatBoostClassifier ({kept} rounds)"
    assert out["best_loss"] == pytest.approx(min(out["losses"]))
    assert out["best_loss"] == pytest.approx(out["losses"][kept - 1])


def test_one_core_one_seed_and_the_saved_model(probe):
    out = probe["cores_seed_save"]
    assert out["thread_count"] == 1 and out["random_seed"] == 5
    assert max(out["cpu_shares"]) <= 1.1, out["cpu_shares"]  # one core's worth, at any load
    assert out["stop_reasons"] == ["converged", "converged"] and out["same_predictions"]
    assert out["thread_count_2_cores"] == 2
    assert out["saved_format"] == "joblib" and out["reloaded_same"]

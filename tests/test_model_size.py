"""Every backend's model is sized: a short real run of each built-in backend, and its result
row's ``model_size_mb`` filled, from what the backend would deploy (the adapter's
``deployable_model()``), not from the adapter's wrappers (FLAML's AutoML object with the
adapter's threads could not be pickled: "model size not measured" on every FLAML job).

The worker sizes every model with ``inference.measure``; AutoGluon's and EvalML's go through
it in tests/test_env_adapters.py (their semeion case), H2O's in tests/test_h2o_adapter.py
(its deployability case): each needs 20 s of budget and seconds of start-up, so they are not
run again here."""

from __future__ import annotations

import joblib
import numpy as np
import pandas as pd
import pytest
from conftest import run_cli

from automl_bench.planning import registry

SUITE = """
name: model-size
folds: 2
seed: 0
constraint: {budget_s: 5, cores: 1, memory_mb: 3072}
frameworks: [FRAMEWORKS]
tasks:
  - name: gen-300x20
    generated: {rows: 300, features: 20, informative: 6, classes: 4, seed: 1}
"""
HERE = ["constant", "rf", "tuned_rf", "xgboost", "lightgbm", "flaml"]  # the harness's
OWN_ENV = ["catboost"]  # in an environment of its own, when built


def _ready(name: str) -> bool:
    """Its environment (named after its requirements) is built and holds the backend."""
    return registry.get(name).status()[0]


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    frameworks = HERE + [n for n in OWN_ENV if _ready(n)]
    d = tmp_path_factory.mktemp("size")
    suite = d / "suite.yaml"
    suite.write_text(SUITE.replace("FRAMEWORKS", ", ".join(frameworks)))
    proc = run_cli("run", "--suite", suite, "--out", d / "run", "--folds", 1, "--no-report")
    assert proc.returncode == 0, proc.stderr
    return pd.read_csv(d / "run" / "results.csv").set_index("framework")


@pytest.mark.parametrize("framework", HERE + OWN_ENV)
def test_model_size_is_filled_after_a_short_real_run(rows, framework):
    if framework in OWN_ENV and not _ready(framework):
        pytest.skip(f"{framework}'s environment is not built: automl-bench env create {framework}")
    row = rows.loc[framework]
    assert row["status"] == "ok", (row["error_type"], row["error_message"])
    assert row["model_size_mb"] > 0, row["infer_note"]
    assert isinstance(row["model_format"], str) and row["model_format"]
    assert "model size not measured" not in str(row["infer_note"])


def test_flaml_saves_its_learner_model_not_the_automl_object(tmp_path):
    """What FLAML's size measures: the chosen learner's fitted model, which loads and predicts
    on its own (after FLAML's preprocessing), without FLAML's AutoML object or the adapter."""
    pytest.importorskip("flaml")
    from sklearn.datasets import make_classification

    from automl_bench_adapters.flaml_automl import FLAML

    X, y = make_classification(n_samples=300, n_features=20, n_informative=6, n_classes=4,
                               random_state=1)  # fmt: skip
    X = pd.DataFrame(X, columns=[f"f{i}" for i in range(20)])
    adapter = FLAML(time_limit=5, cores=1, seed=0).fit(X, y)
    assert adapter.save_model(str(tmp_path)) == "joblib"
    saved = joblib.load(tmp_path / "model.joblib")
    assert type(saved).__module__.split(".")[0] in {"lightgbm", "xgboost", "sklearn", "catboost"}
    proba = saved.predict_proba(adapter.model_.preprocess(X))
    np.testing.assert_allclose(proba, adapter.predict_proba(X), rtol=1e-9, atol=1e-12)

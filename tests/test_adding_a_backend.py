"""docs/adding-a-backend.md's worked example: the code the guide shows is the file, and that
file's adapter fits real data, passes check-adapter and runs in a suite."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import ROOT, run_cli

from automl_bench.planning import registry

EXAMPLE = ROOT / "docs" / "example"
ENV = {"AUTOML_BENCH_FRAMEWORKS": str(EXAMPLE / "frameworks.yaml"), "COLUMNS": "200"}


def test_the_guide_shows_the_example_files():
    guide = (ROOT / "docs" / "adding-a-backend.md").read_text()
    for name in ("nearest_neighbours.py", "frameworks.yaml"):
        assert (EXAMPLE / name).read_text() in guide, name


@pytest.fixture
def example(monkeypatch):
    monkeypatch.setenv("AUTOML_BENCH_FRAMEWORKS", ENV["AUTOML_BENCH_FRAMEWORKS"])
    registry.variants.cache_clear()
    yield registry.get("knn")
    registry.variants.cache_clear()


def test_the_example_adapter_fits_real_data(example):
    """semeion (shipped), with missing cells and a categorical column added: the example
    declares both, so it must take them."""
    import numpy as np

    df = pd.read_parquet(ROOT / "bench" / "datasets" / "hd-real" / "semeion.parquet")
    X, y = df.drop(columns=["class"]).astype(float), df["class"]
    X = X.mask(np.random.default_rng(0).random(X.shape) < 0.05)
    X["pen"] = pd.Categorical(np.resize(["blue", "black", None], len(X)))
    model = example.adapter_class()(**example.params).fit(X.iloc[::2], y.iloc[::2])
    proba = model.predict_proba(X.iloc[1::2])
    assert proba.shape == (len(X.iloc[1::2]), 10) and list(model.classes_) == sorted(y.unique())
    # far above the 0.1 of guessing: a label mix-up would fail (k-NN does no search, so this
    # does not depend on a budget)
    assert (model.predict(X.iloc[1::2]) == y.iloc[1::2].to_numpy()).mean() > 0.5
    assert example.environment() is None and example.status()[0]


def test_the_example_passes_check_adapter_and_runs_in_a_suite(tmp_path):
    proc = run_cli("check-adapter", "knn", "--budget", 1, env=ENV, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    out = tmp_path / "run"
    proc = run_cli("run", "--suite", "smoke", "--frameworks", "constant,knn", "--out", out,
                   "--folds", 1, "--no-report", env=ENV, cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = pd.read_csv(out / "results.csv")
    assert set(rows["status"]) == {"ok"} and set(rows["framework"]) == {"constant", "knn"}

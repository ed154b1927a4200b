"""Deployability measurements (automl_bench.execution.inference): plausible latencies on real data, the
allowance, the stated reasons when something cannot be measured, and the columns a run
stores (or skips with --no-inference)."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import ROOT, adapter_env, run_cli
from limited_adapters import CannotSave

from automl_bench.execution import inference
from automl_bench.results.store import COLUMNS
from automl_bench_adapters.lgbm import LightGBM

TESTS = ROOT / "tests"


def test_batch_is_the_test_rows_resampled_to_1000(load_dataset):
    X, _ = load_dataset("micro-mass")  # 571 rows: resampled with replacement
    batch = inference.batch_of(X.iloc[:171])
    assert len(batch) == 1000 and list(batch.columns) == list(X.columns)
    assert batch.duplicated().any()
    big = pd.concat([X] * 3, ignore_index=True)  # 1,713 rows: a sample without replacement
    sampled = inference.batch_of(big.reset_index())
    assert len(sampled) == 1000 and sampled["index"].is_unique


def test_latency_is_plausible_on_real_data(load_dataset, tmp_path):
    X, y = load_dataset("semeion")
    model = LightGBM(time_limit=30, n_estimators=50).fit(X.iloc[:1200], y.iloc[:1200])
    out = inference.measure(model, X.iloc[1200:], tmp_path, allowance_s=30)
    # predicting 1,000 rows of 256 features through 50 x 10 trees takes longer than 1 row
    assert out["infer_1k_ms"] > out["infer_1_ms"] > 0, out
    assert out["infer_first_ms"] > 0
    assert out["infer_rows_per_s"] == pytest.approx(1000 / (out["infer_1k_ms"] / 1000))
    assert out["infer_peak_rss_mb"] >= 0
    assert out["model_format"] == "joblib" and out["model_size_mb"] > 0.01
    assert out["infer_note"] is None and out["infer_allowance_s"] == 30
    assert 0 < out["infer_duration"] < out["infer_allowance_s"]  # kept to its allowance
    assert not (tmp_path / "model").exists()  # the size is kept, the saved copy is not


def test_a_backend_without_a_save_format_says_why(load_dataset, tmp_path):
    X, y = load_dataset("cnae-9")
    out = inference.measure(CannotSave().fit(X, y), X, tmp_path, allowance_s=10)
    assert out["model_size_mb"] is None and out["model_format"] is None  # not a zero
    assert "model size not measured: NotImplementedError: this backend has no save format" in (
        out["infer_note"]
    )
    assert out["infer_1_ms"] > 0  # the rest was measured


def test_repetitions_keep_to_the_allowance(load_dataset, tmp_path):
    X, y = load_dataset("semeion")
    model = LightGBM(time_limit=30, n_estimators=100).fit(X, y)
    out = inference.measure(model, X, tmp_path, allowance_s=0.01)
    # at least one timing of each is always taken; the shortfall is stated
    assert out["infer_1_ms"] > 0 and out["infer_1k_ms"] > 0
    assert "0.01s to measure: 1 one-row and 1 batch repetitions" in out["infer_note"]


SUITE = """
name: infer-check
folds: 2
seed: 0
constraint: {budget_s: 10, cores: 1, memory_mb: 2048}
frameworks: [constant, lightgbm, cannot_save]
tasks:
  - name: cnae-9
    file: {path: hd-real/cnae-9.parquet, target: class}
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    d = tmp_path_factory.mktemp("infer-env")
    (d / "frameworks.yaml").write_text(
        "cannot_save:\n  adapter: limited_adapters:CannotSave\n  description: TEST ADAPTER\n"
        "hangs:\n  adapter: limited_adapters:HangsAfterFirstPredict\n  description: TEST ADAPTER\n"
    )
    (d / "suite.yaml").write_text(SUITE)
    return d, adapter_env(d / "frameworks.yaml")


def test_a_run_stores_the_inference_columns(env):
    d, e = env
    p = run_cli("run", "--suite", d / "suite.yaml", "--out", d / "run", "--folds", 1,
                "--infer-allowance", 20, "--no-report", env=e)  # fmt: skip
    assert p.returncode == 0, p.stderr[-3000:]
    df = pd.read_csv(d / "run" / "results.csv")
    assert set(inference.COLUMNS) <= set(COLUMNS) == set(df.columns)
    df = df.set_index("framework")
    assert (df["status"] == "ok").all(), df[["status", "error_message"]]
    for fw in ("constant", "lightgbm"):
        r = df.loc[fw]
        assert r["infer_1k_ms"] > 0 and r["infer_1_ms"] > 0 and r["infer_rows_per_s"] > 0
        assert r["model_size_mb"] > 0 and r["model_format"] == "joblib"
        assert r["infer_allowance_s"] == 20 and 0 < r["infer_duration"] < r["infer_allowance_s"]
    assert df.loc["lightgbm", "infer_1k_ms"] > df.loc["lightgbm", "infer_1_ms"]
    assert pd.isna(df.loc["cannot_save", "model_size_mb"])
    assert "no save format" in df.loc["cannot_save", "infer_note"]


def test_no_inference_skips_the_measurement_and_says_so(env):
    d, e = env
    p = run_cli("run", "--suite", d / "suite.yaml", "--out", d / "run-no", "--folds", 1,
                "--frameworks", "lightgbm", "--no-inference", "--no-report", env=e)  # fmt: skip
    assert p.returncode == 0, p.stderr[-3000:]
    r = pd.read_csv(d / "run-no" / "results.csv").iloc[0]
    assert r["status"] == "ok" and pd.isna(r["infer_1_ms"]) and pd.isna(r["model_size_mb"])
    assert r["infer_note"] == "not measured (--no-inference)"


def test_bad_allowance_is_bad_input(env, tmp_path):
    d, e = env
    p = run_cli("run", "--suite", d / "suite.yaml", "--out", tmp_path / "r",
                "--infer-allowance", 0, env=e)  # fmt: skip
    assert p.returncode == 2 and "--infer-allowance must be > 0" in p.stderr
    assert not (tmp_path / "r").exists()


def test_a_measurement_that_hangs_never_costs_the_job_its_result(env):
    d, e = env
    p = run_cli("run", "--suite", d / "suite.yaml", "--out", d / "run-hangs", "--folds", 1,
                "--frameworks", "hangs", "--infer-allowance", 3, "--no-report", env=e)  # fmt: skip
    assert p.returncode == 0, p.stderr[-3000:]
    r = pd.read_csv(d / "run-hangs" / "results.csv").iloc[0]
    # the worker gave up at its allowance, before the hard limit: the job is ok and scored
    assert r["status"] == "ok" and r["acc"] > 0, r[["status", "error_type", "error_message"]]
    assert r["infer_note"] == (
        "not measured: the measurement did not finish within the 3s it had (allowance 3s)"
    )
    assert pd.isna(r["infer_1_ms"]) and pd.isna(r["model_size_mb"])
    assert r["duration"] < r["budget_s"] + r["grace_s"] + 3


def test_a_late_fit_shortens_the_measurement_to_the_hard_limit(load_dataset, tmp_path):
    import json
    import time

    X, y = load_dataset("cnae-9")
    model = LightGBM(time_limit=30, n_estimators=20).fit(X, y)
    (tmp_path / "scratch").mkdir()

    def write(path, obj):
        path.write_text(json.dumps(obj, default=str))

    spec = {"infer_allowance_s": 30, "hard_limit_monotonic": time.monotonic() + 6}
    out = inference.run_for_job(model, X, tmp_path, spec, {"status": "ok"}, write)
    assert out["infer_1_ms"] > 0 and out["infer_allowance_s"] == 30
    assert "s left of the 30s allowance (the fit ran late)" in out["infer_note"]
    assert time.monotonic() < spec["hard_limit_monotonic"]  # it ended before the hard limit
    # the finished job's outcome was on disk before the measurement began
    assert json.loads((tmp_path / "outcome.json").read_text())["status"] == "ok"

    spec["hard_limit_monotonic"] = time.monotonic() + 2  # 0.5 s after the exit margin
    out = inference.run_for_job(model, X, tmp_path, spec, {"status": "ok"}, write)
    assert out["infer_1_ms"] is None and out["infer_allowance_s"] == 30
    assert out["infer_note"] == (
        "not measured: fit and prediction left no time before the job's hard limit"
    )

"""A suite over five real datasets (shipped or in tests/data), in the formats users bring
(ARFF, CSV with an id column, Parquet under a data root), end to end with the baselines."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli
from data_files import write_arff

SUITE = """
name: shared-five
folds: 2
seed: 0
constraint: {budget_s: 10, cores: 1, memory_mb: 2048}
frameworks: [constant, rf, lightgbm]
tasks:
  - name: anneal            # categoricals, 6 all-missing columns
    file: {path: data/anneal.arff, target: class}
  - name: arrhythmia        # missing values, 13 classes, 452 x 279
    file: {path: data/arrhythmia.csv, target: class, ignore: [patient_id]}
  - name: semeion           # 256 binary features, under the data root
    file: {path: "${AUTOML_BENCH_DATA}/semeion.parquet", target: class}
  - name: cnae-9            # 856 features, 99% zeros
    file: {path: cnae-9.parquet, target: class}
  - name: segment
    file: {path: segment.parquet, target: class}
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory, datasets_dir):
    d = tmp_path_factory.mktemp("shared5")
    (d / "data").mkdir()
    write_arff(pd.read_parquet(datasets_dir / "anneal.parquet"), d / "data/anneal.arff")
    arr = pd.read_parquet(datasets_dir / "arrhythmia.parquet")
    arr.insert(0, "patient_id", np.arange(len(arr)))
    arr.to_csv(d / "data/arrhythmia.csv", index=False)
    (d / "suite.yaml").write_text(SUITE)
    out = d / "run"
    env = {"AUTOML_BENCH_DATA": str(datasets_dir), "AUTOML_BENCH_CACHE": str(d / "cache")}
    proc = run_cli("run", "--suite", d / "suite.yaml", "--out", out, "--folds", 2,
                   "--parallel", 2, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc


def test_every_job_ran_and_scored(run):
    out, _ = run
    df = pd.read_csv(out / "results.csv")
    assert len(df) == 5 * 3 * 2
    assert (df["status"] == "ok").all(), df.loc[df["status"] != "ok", ["task", "framework",
                                                                       "error_message"]]  # fmt: skip
    acc = df.groupby(["task", "framework"])["acc"].mean().unstack()
    # the learners beat the class prior everywhere
    assert (acc["rf"] > acc["constant"] + 0.05).all(), acc
    assert (acc["lightgbm"] > acc["constant"] + 0.05).all(), acc


def test_profiles_describe_the_data(run):
    out, _ = run
    prof = {t: json.loads((out / "tasks" / t / "profile.json").read_text())
            for t in ("anneal", "arrhythmia", "semeion", "cnae-9", "segment")}  # fmt: skip
    assert prof["arrhythmia"]["features"] == 279  # patient_id ignored
    assert prof["arrhythmia"]["missing_ratio"] > 0 and prof["semeion"]["features"] == 256
    assert prof["anneal"]["categorical"] > 0 and prof["anneal"]["features"] == 32
    assert prof["cnae-9"]["sparsity"] > 0.99 and prof["cnae-9"]["features"] == 856
    assert prof["segment"]["classes"] == 7

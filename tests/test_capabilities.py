"""Declared capabilities are used: a job whose task the backend cannot handle is stored
skipped with the reason before it starts, and `list frameworks` shows the table."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import ROOT, adapter_env, run_cli

TESTS = ROOT / "tests"
SUITE = """
name: caps
folds: 2
seed: 0
constraint: {budget_s: 10, cores: 1, memory_mb: 2048}
frameworks: [numeric_only, constant]
tasks:
  - name: iris
    sklearn: {dataset: iris}
  - name: breast-cancer
    sklearn: {dataset: breast_cancer}
  - name: arrhythmia
    file: {path: hd-real/arrhythmia.parquet, target: class}
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    d = tmp_path_factory.mktemp("caps")
    (d / "frameworks.yaml").write_text(
        "numeric_only:\n  adapter: limited_adapters:NumericMulticlassOnly\n"
        "  description: TEST ADAPTER\n"
    )
    (d / "suite.yaml").write_text(SUITE)
    return d, {**adapter_env(d / "frameworks.yaml"), "AUTOML_BENCH_CACHE": str(d / "cache")}


def test_unsupported_jobs_are_skipped_with_the_reason(env):
    d, e = env
    p = run_cli("run", "--suite", d / "suite.yaml", "--out", d / "run", "--folds", 1,
                "--no-report", "--no-inference", env=e)  # fmt: skip
    assert p.returncode == 0, p.stderr[-3000:]
    df = pd.read_csv(d / "run" / "results.csv").set_index(["framework", "task"])
    assert (df.xs("constant")["status"] == "ok").all()
    assert df.loc[("numeric_only", "iris"), "status"] == "ok"
    binary = df.loc[("numeric_only", "breast-cancer")]
    assert binary["status"] == "skipped" and binary["error_type"] == "Unsupported"
    assert binary["error_message"] == "binary tasks are not supported (supports multiclass)"
    missing = df.loc[("numeric_only", "arrhythmia")]
    assert missing["status"] == "skipped" and missing["error_type"] == "Unsupported"
    assert "missing values (0.32% of cells)" in missing["error_message"]
    # never started: no job directory was made for them
    jobs = {p.name for p in (d / "run" / "jobs").iterdir()}
    assert binary["job_id"] not in jobs and missing["job_id"] not in jobs


def test_list_frameworks_shows_the_capability_table(env):
    _, e = env
    p = run_cli("list", "frameworks", env={**e, "COLUMNS": "200"})
    assert p.returncode == 0, p.stderr
    table = p.stdout.split("Capabilities")[1]
    row = next(line for line in table.splitlines() if "numeric_only" in line)
    cells = [c.strip() for c in row.strip("│ ").split("│")]
    assert cells == ["numeric_only", "multiclass", "no", "no", "plain logistic regression"]
    h2o = next(line for line in table.splitlines() if line.strip("│ ").startswith("h2o "))
    assert "binary, multiclass" in h2o and "starts a JVM per job" in h2o

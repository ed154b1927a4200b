"""Truth from the data: the driver scores with the task's own labels, checks the worker's row
ids, aligns classes by value and type, and counts (or rejects) repaired rows. Any label or
feature name is legal data. Real data from tests/data, real runs through the CLI."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, adapter_env, run_cli

from automl_bench.execution import predictions_file as predictions
from automl_bench.planning import plan

TESTS = ROOT / "tests"
ENV = adapter_env(TESTS / "verdict_frameworks.yaml")


def _rows(run_dir) -> pd.DataFrame:
    with sqlite3.connect(run_dir / "results.sqlite") as c:
        rows = [json.loads(r) for (r,) in c.execute("SELECT row_json FROM results")]
    return pd.DataFrame(rows)


def _suite(path, name, tasks: dict, frameworks, folds=2):
    lines = [f"name: {name}", f"folds: {folds}", "seed: 0",
             "constraint: {budget_s: 10, cores: 1, memory_mb: 2048}",
             f"frameworks: [{', '.join(frameworks)}]", "tasks:"]  # fmt: skip
    for t, (file, target) in tasks.items():
        lines += [f"  - name: {t}", f"    file: {{path: {file}, target: {target}}}"]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def optdigits_run(tmp_path_factory, datasets_dir):
    d = tmp_path_factory.mktemp("optdigits")
    suite = _suite(d / "suite.yaml", "integrity",
                   {"optdigits": (datasets_dir / "optdigits.parquet", "class")},
                   ["constant", "other_type_classes", "nan_one_row", "nan_many_rows"])  # fmt: skip
    p = run_cli("run", "--suite", suite, "--out", d / "run", "--parallel", "2", "--no-report",
                env=ENV)  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    return d / "run", _rows(d / "run")


def test_classes_of_another_type_are_bad_predictions(optdigits_run):
    _, rows = optdigits_run
    bad = rows[rows["framework"] == "other_type_classes"]
    assert len(bad) == 2
    assert set(bad["status"]) == {"failed"} and set(bad["error_type"]) == {"BadPredictions"}
    msg = bad["error_message"].iloc[0]
    assert "probability on a class the task does not have" in msg and "(float)" in msg
    assert bad["logloss"].isna().all()  # never the all-zero-column log loss of ~34.5


def test_a_few_repaired_rows_are_counted_many_fail_the_job(optdigits_run):
    _, rows = optdigits_run
    one = rows[rows["framework"] == "nan_one_row"]
    assert set(one["status"]) == {"ok"} and set(one["repaired_rows"]) == {1}  # 1 of 2810 rows
    const = rows[rows["framework"] == "constant"].set_index("fold")
    # the repaired row became uniform; the rest is the prior, scored like the constant's
    assert (one.set_index("fold")["acc"] - const["acc"]).abs().max() < 1e-3
    many = rows[rows["framework"] == "nan_many_rows"]
    assert set(many["status"]) == {"failed"} and set(many["error_type"]) == {"BadPredictions"}
    assert "50 of 2810 rows" in many["error_message"].iloc[0]
    assert set(const["repaired_rows"]) == {0}


def test_row_ids_that_do_not_match_the_fold_are_rejected(optdigits_run):
    run, rows = optdigits_run
    job = rows[(rows["framework"] == "constant") & (rows["fold"] == 0)].iloc[0]
    job_dir = plan.job_dir(run, job["framework"], job["task"], job["fold"], job["job_id"])
    task_dir = run / "tasks" / "optdigits"
    meta = json.loads((task_dir / "meta.json").read_text())
    good = predictions.check(job_dir, task_dir, meta["digest"], 0, meta["classes"])
    assert good.repaired_rows == 0 and len(good.truth) == 2810
    proba, tags, ids = predictions.read(job_dir / predictions.FILE)
    shuffled = np.random.default_rng(0).permutation(ids)
    predictions.write(job_dir, proba, [t["value"] for t in tags], shuffled)
    with pytest.raises(predictions.BadPredictions, match="row ids do not match fold 0"):
        predictions.check(job_dir, task_dir, meta["digest"], 0, meta["classes"])


RESERVED = ["row", "truth", "predictions", "proba:row", "__target__", "1", "x"]


def test_reserved_labels_and_a_feature_named_target_score_correctly(tmp_path, datasets_dir):
    df = pd.read_parquet(datasets_dir / "segment.parquet")
    labels = sorted(df["class"].unique())
    assert len(labels) == len(RESERVED)
    df["class"] = df["class"].map(dict(zip(labels, RESERVED, strict=True)))
    features = [c for c in df.columns if c != "class"]
    df["__target__"] = df[features[0]]  # a feature with the harness's label column name
    df["row"] = df[features[1]]
    data = tmp_path / "segment-reserved.parquet"
    df.to_parquet(data, index=False)
    suite = _suite(tmp_path / "suite.yaml", "reserved", {"seg": (data, "class")},
                   ["constant", "rf"])  # fmt: skip
    p = run_cli("run", "--suite", suite, "--out", tmp_path / "run", "--no-report", env=ENV)
    assert p.returncode == 0, p.stdout + p.stderr
    rows = _rows(tmp_path / "run")
    assert set(rows["status"]) == {"ok"}, rows[["framework", "error_message"]]
    task = tmp_path / "run" / "tasks" / "seg"
    meta = json.loads((task / "meta.json").read_text())
    assert meta["target_column"] == "__target__1" and sorted(meta["classes"]) == sorted(RESERVED)
    stored = pd.read_parquet(task / "data.parquet")
    assert stored["__target__"].tolist() == df["__target__"].tolist()  # the feature, kept
    folds = json.loads((task / "folds.json").read_text())
    y = df["class"]
    for fold, f in enumerate(folds):
        prior = y.iloc[f["train"]].value_counts(normalize=True)
        expected = -np.log(prior.reindex(y.iloc[f["test"]]).to_numpy()).mean()
        const = rows[(rows["framework"] == "constant") & (rows["fold"] == fold)].iloc[0]
        assert const["logloss"] == pytest.approx(expected, rel=1e-9)
    rf = rows[rows["framework"] == "rf"]
    assert (rf["acc"] > 0.9).all() and (rf["logloss"] < rows[rows["framework"] == "constant"]
                                        ["logloss"].min()).all()  # fmt: skip

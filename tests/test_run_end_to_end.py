"""The CLI end to end on real offline data: rows, metrics, resume."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli, wait_for_report

from automl_bench.planning.plan import job_folder
from automl_bench.results.store import COLUMNS

SUITE = """
name: digits-check
folds: 3
seed: 0
constraint: {budget_s: 20, cores: 1, memory_mb: 2048}
frameworks: [constant, rf]
tasks:
  - name: digits
    sklearn: {dataset: digits}
  - name: gen-40x5
    generated: {rows: 150, features: 40, informative: 6, classes: 5, seed: 1}
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("e2e")
    suite = d / "suite.yaml"
    suite.write_text(SUITE)
    out = d / "run"
    proc = run_cli("run", "--suite", suite, "--out", out, "--folds", 2, "--parallel", 2)
    assert proc.returncode == 0, proc.stderr
    return suite, out, proc


def test_one_row_per_job_with_every_column(run):
    _, out, proc = run
    df = pd.read_csv(out / "results.csv")
    assert list(df.columns) == COLUMNS
    assert len(df) == 2 * 2 * 2  # frameworks x tasks x folds
    assert not df.duplicated(["framework", "task", "fold"]).any()
    assert (df["status"] == "ok").all(), df[["framework", "task", "error_message"]]
    assert (df["metric"] == "neg_logloss").all()
    np.testing.assert_allclose(df["result"], -df["logloss"])
    assert str(out) in proc.stdout
    for row in df.itertuples():
        folder = f"{row.framework}-{row.task}-f{row.fold}-{row.job_id[:8]}"  # readable, unique
        assert job_folder(row.framework, row.task, row.fold, row.job_id) == folder
        preds = pd.read_parquet(out / "jobs" / folder / "predictions.parquet")
        assert "row" in preds.columns and "truth" not in preds.columns  # labels: task files
        assert all(c.startswith("proba:") for c in preds.columns if c != "row")


def test_constant_logloss_is_cross_entropy_of_training_prior(run):
    _, out, _ = run
    df = pd.read_csv(out / "results.csv")
    data = pd.read_parquet(out / "tasks" / "digits" / "data.parquet")
    folds = json.loads((out / "tasks" / "digits" / "folds.json").read_text())
    y = data["__target__"].to_numpy()
    for fold in (0, 1):
        train, test = y[folds[fold]["train"]], y[folds[fold]["test"]]
        prior = pd.Series(train).value_counts(normalize=True)
        expected = -np.mean(np.log(prior.reindex(test).to_numpy()))
        got = df.query("framework == 'constant' and task == 'digits' and fold == @fold")
        assert got["logloss"].item() == pytest.approx(expected, rel=1e-9)


def test_random_forest_is_accurate_on_digits(run):
    _, out, _ = run
    df = pd.read_csv(out / "results.csv")
    rf = df.query("framework == 'rf' and task == 'digits'")
    assert (rf["acc"] >= 0.90).all(), rf["acc"].tolist()


def test_rerun_executes_nothing_then_exactly_the_deleted_job(run):
    suite, out, _ = run
    again = run_cli("run", "--suite", suite, "--out", out, "--folds", 2)
    assert again.returncode == 0, again.stderr
    assert "8 done, 0 to run" in again.stderr
    assert "nothing to run: every planned job has a stored result" in again.stderr
    assert "0/0" not in again.stderr and "-:--:--" not in again.stderr  # no empty bar
    assert "executed 0 of 8" in again.stdout

    df = pd.read_csv(out / "results.csv")
    victim = df.query("framework == 'rf' and task == 'gen-40x5' and fold == 1")["job_id"].item()
    with sqlite3.connect(out / "results.sqlite") as conn:
        conn.execute("DELETE FROM results WHERE job_id = ?", (victim,))
    third = run_cli("run", "--suite", suite, "--out", out, "--folds", 2)
    assert third.returncode == 0, third.stderr
    assert "7 done, 1 to run" in third.stderr
    assert "1/1" in third.stderr and "0/0" not in third.stderr  # the bar counts what runs now
    after = pd.read_csv(out / "results.csv")
    assert len(after) == 8 and victim in set(after["job_id"])


def test_report_is_built_after_the_command_has_exited(run):
    _, out, proc = run
    # the run's results were final when it exited; the report followed in its own process
    assert f"report: {out / 'report' / 'index.html'} (being built in the background" in (
        proc.stdout.replace("\n", "")
    )
    html = wait_for_report(out)
    assert "digits" in html.read_text()
    assert pd.read_csv(out / "report" / "tables" / "leaderboard.csv")["framework"].tolist()


def test_show_prints_the_leaderboard(run):
    _, out, _ = run
    proc = run_cli("show", out)
    assert proc.returncode == 0, proc.stderr
    assert "rf" in proc.stdout and "constant" in proc.stdout and "8 jobs: ok 8" in proc.stdout

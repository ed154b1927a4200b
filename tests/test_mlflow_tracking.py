"""`run --mlflow`: every job is an MLflow run, read back with MlflowClient from the SQLite
store MLflow keeps inside the run directory."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pandas as pd
import pytest
from conftest import ROOT, run_cli

pytest.importorskip("mlflow", reason="MLflow is not installed: pip install -e '.[mlflow]'")

from mlflow.tracking import MlflowClient  # noqa: E402

from automl_bench.planning.plan import job_folder  # noqa: E402
from automl_bench.results.mlflow_tracking import JOB_TAG, default_uris  # noqa: E402
from automl_bench.results.scoring import METRICS  # noqa: E402


def _runs(out):
    client = MlflowClient(default_uris(out)[0])
    exp = client.get_experiment_by_name(out.name)  # the experiment is named after the run
    assert exp is not None
    return client, client.search_runs([exp.experiment_id], max_results=1000)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("mlflow")
    out = d / "smoke-mlflow"
    proc = run_cli(
        "run", "--no-report", "--suite", "smoke", "--frameworks", "constant", "--folds", 1, "--out", out,
        "--mlflow", cwd=d,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return d, out


def test_one_mlflow_run_per_job_with_params_metrics_and_predictions(run):
    d, out = run
    rows = pd.read_csv(out / "results.csv").set_index("job_id")
    client, runs = _runs(out)
    by_job = {r.data.tags[JOB_TAG]: r for r in runs}
    assert len(runs) == len(rows) == 2 and set(by_job) == set(rows.index)
    for job_id, r in by_job.items():
        row = rows.loc[job_id]
        p, m = r.data.params, r.data.metrics
        assert p["framework"] == row["framework"] and p["task"] == row["task"]
        assert int(p["fold"]) == row["fold"] and float(p["budget_s"]) == row["budget_s"]
        assert int(p["cores"]) == row["cores"] and int(p["seed"]) == row["seed"]
        assert p["package.scikit-learn"] and p["package.numpy"]  # package versions
        for k in (*METRICS, "duration", "training_duration", "peak_rss_mb", "cost_usd"):
            if pd.notna(row[k]):
                assert m[k] == pytest.approx(row[k]), k
        assert r.data.tags["status"] == "ok" and r.info.status == "FINISHED"
        names = {a.path for a in client.list_artifacts(r.info.run_id)}
        assert "predictions.parquet" in names
        local = client.download_artifacts(r.info.run_id, "predictions.parquet", str(d))
        folder = job_folder(row["framework"], row["task"], row["fold"], job_id)
        saved = pd.read_parquet(out / "jobs" / folder / "predictions.parquet")
        pd.testing.assert_frame_equal(pd.read_parquet(local), saved)
    # MLflow's own files stay in the run directory, not ./mlruns where the command ran
    assert (out / "mlflow.db").exists() and (out / "mlflow-artifacts").is_dir()
    assert not (d / "mlruns").exists()


def test_rerun_replaces_the_jobs_mlflow_run_and_backfills_missing_ones(run):
    _, out = run
    rows = pd.read_csv(out / "results.csv")
    victim = rows["job_id"].iloc[0]
    with sqlite3.connect(out / "results.sqlite") as conn:
        conn.execute("DELETE FROM results WHERE job_id = ?", (victim,))
    client, before = _runs(out)
    old = next(r for r in before if r.data.tags[JOB_TAG] == victim)
    # and one MLflow run lost (as if the driver died between the store and MLflow)
    lost = next(r for r in before if r.data.tags[JOB_TAG] != victim)
    client.delete_run(lost.info.run_id)

    again = run_cli(
        "run", "--no-report", "--suite", "smoke", "--frameworks", "constant", "--folds", 1, "--out", out,
        "--mlflow",
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "1 done, 1 to run" in again.stderr
    _, after = _runs(out)
    jobs = [r.data.tags[JOB_TAG] for r in after]
    assert len(after) == 2 and sorted(jobs) == sorted(rows["job_id"])  # one run per job
    assert old.info.run_id not in {r.info.run_id for r in after}
    assert lost.data.tags[JOB_TAG] in jobs


def test_mlflow_not_installed_simulated_is_bad_input_before_anything_is_written(tmp_path):
    # MLflow is installed here, so its absence is simulated: find_spec answers None for it
    out = tmp_path / "run"
    code = (
        "import sys; sys.modules['mlflow'] = None; "
        "import importlib.util as u; u.find_spec = (lambda f: lambda n, *a: "
        "None if n == 'mlflow' else f(n, *a))(u.find_spec); "
        "from automl_bench.cli import main; "
        f"sys.exit(main(['run', '--suite', 'smoke', '--out', {str(out)!r}, '--mlflow']))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert "pip install 'automl-bench[mlflow]'" in proc.stderr
    assert not out.exists()

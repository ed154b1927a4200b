"""Runs of the harness with SageMaker Autopilot: without credentials its jobs are skipped at
once with what is missing; with AWS replaced by its test doubles (stubbed: Stubber for
SageMaker, moto for S3, inside the worker) a job ends ok with its billed cost, and no planted
secret reaches any file of the run; every way a job can end leaves nothing pending once
`cleanup` (or the next run) has been through."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import psutil
import pytest
from conftest import ROOT, adapter_env, run_cli

pytest.importorskip("boto3")
pytest.importorskip("moto")

import aws_doubles as aws  # noqa: E402

SUITE = """
name: cloud
folds: 2
seed: 0
constraint: {budget_s: 2, cores: 1, memory_mb: 2048}
frameworks: [sagemaker_autopilot]
tasks:
  - name: gen
    generated: {rows: 1100, features: 6, informative: 4, classes: 3, seed: 1}
  - name: small
    generated: {rows: 300, features: 6, informative: 4, classes: 3, seed: 2}
"""


@pytest.fixture
def env(tmp_path):
    (tmp_path / "suite.yaml").write_text(SUITE)
    e = {**adapter_env(ROOT / "tests" / "cloud_frameworks.yaml"),
         "AUTOML_BENCH_CACHE": str(tmp_path / "cache")}  # fmt: skip
    return tmp_path, e


def no_aws_env(home) -> dict:
    """No credentials from anywhere: no file (HOME, the config and credentials files point
    at nothing), no instance metadata; the AWS_ variables of this process are dropped too
    (``run_cli(..., drop=is_aws)``)."""
    return {"HOME": str(home), "AWS_CONFIG_FILE": str(home / "none"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "none"), "AWS_EC2_METADATA_DISABLED": "true"}


def is_aws(name: str) -> bool:
    return name.startswith("AWS_")


def run(d, e, *frameworks, out="run", extra=()):
    args = ["run", "--suite", d / "suite.yaml", "--out", d / out, "--folds", 1, "--no-report",
            "--no-inference", *extra]
    if frameworks:
        args += ["--frameworks", ",".join(frameworks)]
    return run_cli(*args, env=e, timeout=300)


def test_no_credentials_skips_at_once_stubbed(env, tmp_path):
    d, e = env
    t0 = time.perf_counter()
    p = run_cli("run", "--suite", d / "suite.yaml", "--out", d / "run", "--folds", 1,
                "--no-report", env={**no_aws_env(tmp_path), **e}, timeout=120,
                drop=is_aws)  # fmt: skip
    wall = time.perf_counter() - t0
    assert p.returncode == 0, p.stderr[-3000:]
    df = pd.read_csv(d / "run" / "results.csv").set_index("task")
    assert (df["status"] == "skipped").all()
    assert df.loc["gen", "error_type"] == "NoAccess"
    for missing in ("no AWS credentials", "no role", "no bucket"):
        assert missing in df.loc["gen", "error_message"]
    # the service's limit is checked first: 300 rows, 150 to train on a fold
    assert df.loc["small", "error_type"] == "Unsupported"
    assert "fewer than the 500 the service needs" in df.loc["small", "error_message"]
    assert not (d / "run" / "jobs").exists() or not any((d / "run" / "jobs").iterdir())
    print(f"no-credentials run: {wall:.2f} s wall")
    assert wall < 60


def test_job_ok_billed_and_no_secret_in_any_file_stubbed(env, monkeypatch):
    d, e = env
    aws.plant_credentials(monkeypatch)
    p = run(d, e, "autopilot_ok")
    assert p.returncode == 0, p.stderr[-3000:]
    df = pd.read_csv(d / "run" / "results.csv").set_index("task")
    row = df.loc["gen"]
    assert row["status"] == "ok", row["error_message"]
    # 100 + 50 training, 60 processing on ml.m5.4xlarge, 200 s transform on ml.m5.xlarge
    assert row["vendor_billed_s"] == pytest.approx(410)
    assert row["vendor_cost_usd"] == pytest.approx(210 / 3600 * 0.922 + 200 / 3600 * 0.23, abs=1e-5)
    assert "billed" in json.loads(row["info"])
    assert df.loc["small", "status"] == "skipped"
    ledgers = list((d / "run" / "jobs").glob("*/remote-resources.jsonl"))
    assert len(ledgers) == 1
    states = [json.loads(x)["state"] for x in ledgers[0].read_text().splitlines()]
    assert states.count("done") == 4
    found = []
    for f in (d / "run").rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            found += [(f, k) for k, v in aws.FAKE_SECRETS.items() if v.encode() in data]
    assert found == []
    assert p.stdout.count(aws.FAKE_SECRETS["AWS_SECRET_ACCESS_KEY"]) == 0
    assert p.stderr.count(aws.FAKE_SECRETS["AWS_SECRET_ACCESS_KEY"]) == 0


def test_failed_job_releases_everything_stubbed(env, monkeypatch):
    d, e = env
    aws.plant_credentials(monkeypatch)
    p = run(d, e, "autopilot_fail")
    assert p.returncode == 0, p.stderr[-3000:]
    row = pd.read_csv(d / "run" / "results.csv").set_index("task").loc["gen"]
    assert row["status"] == "failed" and row["error_type"] == "RemoteJobFailed"
    assert "the service failed the job" in row["error_message"]
    ledger = next((d / "run" / "jobs").glob("*/remote-resources.jsonl"))
    from automl_bench_adapters.remote_ledger import Ledger

    assert Ledger(ledger).pending() == []


def _cleanup_stubbed(monkeypatch, run_dir, job_status="InProgress"):
    """`automl-bench cleanup RUN_DIR` in this process, the services replaced by their
    doubles: the job the killed worker left is described, stopped; its S3 folder deleted."""
    from automl_bench.cli import main

    with aws.autopilot(monkeypatch) as (stubber, _s3):
        aws.queue_release(stubber, transform=False, model=False, job_status=job_status)
        code = main(["cleanup", str(run_dir)])
        stubber.assert_no_pending_responses()
    return code


def _job_and_folder_left_then_cleaned_up(monkeypatch, capsys, run_dir) -> None:
    """The ledger holds the AutoML job and its S3 folder; cleanup stops and deletes both, one
    line each, and leaves nothing pending."""
    from automl_bench_adapters.remote_ledger import Ledger

    ledger = Ledger(next((run_dir / "jobs").glob("*/remote-resources.jsonl")))
    assert [x.kind for x in ledger.pending()] == ["s3_prefix", "automl_job"]
    assert _cleanup_stubbed(monkeypatch, run_dir) == 0
    said = capsys.readouterr().out
    assert "automl_job" in said and "stopped" in said and "s3_prefix" in said
    assert ledger.pending() == []


def test_timeout_then_cleanup_stops_the_job_stubbed(env, monkeypatch, capsys):
    """The service never ends the job; the adapter stops it at its deadline, the harness
    kills the worker at its hard limit (SIGKILL, nothing released); cleanup stops the job
    and deletes the job's S3 folder, one line each, then has nothing left to do."""
    d, e = env
    aws.plant_credentials(monkeypatch)
    p = run(d, e, "autopilot_hang", extra=["--setup-grace", "5", "--grace-margin", "0.5"])
    assert p.returncode == 0, p.stderr[-3000:]
    row = pd.read_csv(d / "run" / "results.csv").set_index("task").loc["gen"]
    assert row["status"] == "timeout"
    _job_and_folder_left_then_cleaned_up(monkeypatch, capsys, d / "run")
    from automl_bench.cli import main

    assert main(["cleanup", str(d / "run")]) == 0
    assert "nothing left to clean up" in capsys.readouterr().out


def test_malformed_ledger_is_bad_input_and_untouched(tmp_path, capsys):
    from automl_bench.cli import main

    job = tmp_path / "run" / "jobs" / "x-job"
    job.mkdir(parents=True)
    ledger = job / "remote-resources.jsonl"
    ledger.write_text('{"key": "a", "state": "intent", "kind": "model"}\n')
    assert main(["cleanup", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert str(ledger) in err and "line 1" in err and "'name'" in err
    assert ledger.read_text() == '{"key": "a", "state": "intent", "kind": "model"}\n'


def test_report_marks_vendor_billed_rows_stubbed(env, monkeypatch):
    """A report of a run with a job SageMaker billed: the cost section says which framework
    the vendor bills and at which prices, and shows the billed dollars beside machine time."""
    d, e = env
    aws.plant_credentials(monkeypatch)
    p = run(d, e, "autopilot_ok", "constant")
    assert p.returncode == 0, p.stderr[-3000:]
    p = run_cli("report", d / "run", "--out", d / "report", env=e, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    md = " ".join((d / "report" / "report.md").read_text().replace("\\_", "_").split())
    assert ("† Billed by the vendor: autopilot_ok by Amazon SageMaker (AWS), in your own "
            "account, at prices of 2026-12-07") in md
    # 210 instance-seconds on ml.m5.4xlarge ($0.922/h) + 200 on ml.m5.xlarge ($0.23/h)
    usd = 210 / 3600 * 0.922 + 200 / 3600 * 0.23
    cost = pd.read_csv(d / "report" / "tables" / "cost.csv").set_index("framework")
    assert cost.loc["autopilot_ok", "vendor_usd"] == pytest.approx(usd, abs=1e-6)
    assert cost.loc["autopilot_ok", "vendor_h"] == pytest.approx(410 / 3600, abs=1e-6)
    assert pd.isna(cost.loc["constant", "vendor_usd"])  # billed by no vendor
    assert "billed by the vendor †" in md and "ml.m5.4xlarge" in md
    board = pd.read_csv(d / "report" / "tables" / "leaderboard.csv").set_index("framework")
    assert board.loc["autopilot_ok", "vendor_cost_usd"] == pytest.approx(usd, abs=1e-6)
    assert f"+ ${usd:.5f} †" in md  # the leaderboard's cost cell: machine time + the bill
    # the cost a decision weighs (Pareto front, cheapest system) is machine time + the bill
    front = pd.read_csv(d / "report" / "tables" / "pareto.csv").set_index("framework")
    assert front.loc["autopilot_ok", "cost_usd"] == pytest.approx(
        board.loc["autopilot_ok", "cost_usd"] + usd, abs=1e-6)
    assert "how the tool" not in md.lower()


def _job_created(run_dir) -> bool:
    from automl_bench_adapters.remote_ledger import Ledger

    for path in run_dir.glob("jobs/*/remote-resources.jsonl"):
        if any(x.kind == "automl_job" and x.state == "created" for x in Ledger(path).entries()):
            return True
    return False


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl_c", "driver_sigkill"])
def test_interrupted_run_leaves_nothing_once_cleaned_up_stubbed(env, monkeypatch, capsys, sig):
    """Ctrl-C, or the driver SIGKILLed, while the service's job runs: the worker is gone with
    the driver, the ledger holds the job and its S3 folder, and cleanup stops and deletes
    both, leaving the ledger with nothing pending."""
    d, e = env
    aws.plant_credentials(monkeypatch)
    cmd = [sys.executable, "-m", "automl_bench", "run", "--suite", d / "suite.yaml", "--out",
           d / "run", "--folds", "1", "--no-report", "--no-inference", "--frameworks",
           "autopilot_hang", "--budget", "60"]  # fmt: skip
    driver = subprocess.Popen(list(map(str, cmd)), env={**os.environ, **e}, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        give_up = time.monotonic() + 180
        while not _job_created(d / "run") and driver.poll() is None:
            assert time.monotonic() < give_up, "the AutoML job was never created"
            time.sleep(0.1)
        worker = json.loads(next((d / "run" / "jobs").glob("*/worker.json")).read_text())["pid"]
        driver.send_signal(sig)
        _out, err = driver.communicate(timeout=120)
    finally:
        driver.kill()
    assert driver.returncode == (130 if sig == signal.SIGINT else -signal.SIGKILL), err[-3000:]
    with contextlib.suppress(psutil.NoSuchProcess):  # the worker dies with the driver
        psutil.Process(worker).wait(timeout=30)
    _job_and_folder_left_then_cleaned_up(monkeypatch, capsys, d / "run")

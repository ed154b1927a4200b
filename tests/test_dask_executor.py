"""The Dask executor on real LocalClusters: same rows as the local executor, resume, a worker
killed mid-job, node-side CPU leases and orphan reaping, and clear errors for bad clusters."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import psutil
import pytest
from conftest import ROOT, kill_slack, run_cli

pytest.importorskip("distributed", reason="Dask is not installed: pip install -e '.[dask]'")

from distributed import Client, LocalCluster  # noqa: E402

from automl_bench.execution import node_job  # noqa: E402
from automl_bench.execution.node_job import job_dirs, lease_cpus, reap_orphans, run_folder  # noqa: E402
from automl_bench.execution.ownership import JOB_VARIABLE, TOKEN_VARIABLE  # noqa: E402
from automl_bench.execution.proctree import proc_table  # noqa: E402
from automl_bench.planning.plan import job_folder  # noqa: E402
from automl_bench.results.scoring import METRICS  # noqa: E402
from automl_bench.results.store import COLUMNS  # noqa: E402


@pytest.fixture(scope="module")
def smoke_runs(tmp_path_factory):
    """The smoke suite run twice: local slots, and `--executor dask` (its own LocalCluster
    with two worker processes), the latter with --mlflow."""
    d = tmp_path_factory.mktemp("dask-smoke")
    local = run_cli("run", "--no-report", "--suite", "smoke", "--out", d / "local", "--parallel", 2)
    assert local.returncode == 0, local.stderr
    dask = run_cli(
        "run", "--no-report", "--suite", "smoke", "--out", d / "dask", "--parallel", 2, "--executor", "dask",
        "--mlflow",
    )  # fmt: skip
    assert dask.returncode == 0, dask.stderr
    return d / "local", d / "dask", dask


def test_dask_run_gets_the_same_rows_as_the_local_executor(smoke_runs):
    local_dir, dask_dir, _ = smoke_runs
    local = pd.read_csv(local_dir / "results.csv").set_index("job_id").sort_index()
    dask = pd.read_csv(dask_dir / "results.csv").set_index("job_id").sort_index()
    assert list(pd.read_csv(dask_dir / "results.csv").columns) == COLUMNS
    assert len(dask) == 8 and list(dask.index) == list(local.index)  # same job specs
    assert (dask["status"] == "ok").all(), dask[["framework", "task", "error_message"]]
    assert (dask["mode"] == "dask").all() and (local["mode"] == "local").all()
    assert (dask["attempts"] == 1).all()
    # constant and rf (seeded) are deterministic: every score is equal, not just close
    for m in METRICS:
        np.testing.assert_array_equal(dask[m].to_numpy(), local[m].to_numpy(), err_msg=m)
    # the same enforcement ran on the node: measured tree memory and CPU, the same limit
    # parts, and a grace placed after the setup as it ran there
    assert (dask["peak_rss_mb"] > 50).all() and (dask["cpu_time"] > 0).all()
    for part in ("setup_allowance_s", "margin_s", "predict_allowance_s"):
        assert (dask[part] == local[part]).all(), part
    used = dask["setup_duration"].clip(upper=dask["setup_allowance_s"])
    expected = used + dask["margin_s"] + dask["predict_allowance_s"]
    assert ((dask["grace_s"] - expected).abs() < 1e-6).all()
    # predictions came back through the engine into the driver's run dir; node dirs are gone
    for job_id, row in dask.iterrows():
        folder = dask_dir / "jobs" / job_folder(row["framework"], row["task"], row["fold"], job_id)
        preds = pd.read_parquet(folder / "predictions.parquet")
        assert "row" in preds.columns and "truth" not in preds.columns  # labels: task files
        assert all(c.startswith("proba:") for c in preds.columns if c != "row")
        assert "Dask worker host" in (folder / "worker.log").read_text()
    assert not [p for p in job_dirs() if p.name[:16] in set(dask.index)]


def test_dask_run_logs_every_job_to_mlflow(smoke_runs):
    mlflow = pytest.importorskip("mlflow", reason="MLflow is not installed: pip install -e '.[mlflow]'")
    _, dask_dir, _ = smoke_runs
    client = mlflow.tracking.MlflowClient(f"sqlite:///{dask_dir / 'mlflow.db'}")
    exp = client.get_experiment_by_name(dask_dir.name)
    runs = client.search_runs([exp.experiment_id])
    assert len(runs) == 8 and {r.data.params["mode"] for r in runs} == {"dask"}
    assert all("acc" in r.data.metrics for r in runs)


def test_dask_run_resumes_like_the_local_one(smoke_runs):
    _, dask_dir, _ = smoke_runs
    again = run_cli(
        "run", "--no-report", "--suite", "smoke", "--out", dask_dir, "--executor", "dask"
    )
    assert again.returncode == 0, again.stderr
    assert "8 done, 0 to run" in again.stderr
    assert "executed 0 of 8" in again.stdout


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster started outside the CLI, reached with --scheduler ADDRESS."""
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        resources={"cores": 1, "memory_mb": 4096},
        dashboard_address=":0",
    ) as c:
        yield c


def _pooled_launchers():
    """In a Dask worker: (launchers its pool started, pids of its idle launchers)."""
    from automl_bench.execution.node_job import LAUNCHERS

    idle = [launcher.pid for group in LAUNCHERS._idle.values() for launcher in group]
    return LAUNCHERS.started, idle


def test_each_dask_worker_keeps_one_warm_launcher_that_dies_with_it(cluster, tmp_path):
    out = tmp_path / "run"
    proc = run_cli("run", "--no-report", "--suite", "smoke", "--frameworks", "constant",
                   "--out", out, "--scheduler", cluster.scheduler_address)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    df = pd.read_csv(out / "results.csv")
    assert len(df) == 4 and (df["status"] == "ok").all()
    assert {json.loads(i)["start"] for i in df["info"]} == {"warm"}
    with Client(cluster) as client:
        pools = client.run(_pooled_launchers)
        # 4 jobs on 2 single-threaded workers: at most one launcher each, kept after the jobs
        assert all(started <= 1 and len(idle) == started for started, idle in pools.values())
        assert sum(started for started, _ in pools.values()) >= 1
        # a second run reuses them: a worker that has a launcher starts no other
        again = run_cli("run", "--no-report", "--suite", "smoke", "--frameworks", "constant",
                        "--out", tmp_path / "again", "--scheduler", cluster.scheduler_address)  # fmt: skip
        assert again.returncode == 0, again.stderr
        after = client.run(_pooled_launchers)
        for address, (started, idle) in pools.items():
            if started:
                assert after[address] == (started, idle), (pools, after)
        # a launcher kept across jobs dies with its Dask worker process
        address, (_, idle) = next((a, p) for a, p in pools.items() if p[1])
        launcher = psutil.Process(idle[0])
        worker_pid = client.run(os.getpid, workers=[address])[address]
        assert launcher.ppid() == worker_pid
    os.kill(worker_pid, signal.SIGKILL)
    gone, _ = psutil.wait_procs([launcher], timeout=30)
    assert gone, "the launcher outlived its Dask worker process"


def _job_process(worker_pids):
    """A running rf_slow job on this node (its node job dir names the Dask worker that owns
    it and the job's worker process), that job's spec and its Dask worker's pid."""
    for d in job_dirs():
        try:
            spec = json.loads((d / "spec.json").read_text())
            owner = json.loads((d / "owner.json").read_text())["owner"]["pid"]
            job = psutil.Process(json.loads((d / "worker.json").read_text())["pid"])
        except (OSError, ValueError, KeyError, psutil.Error):
            continue
        if spec["framework"] == "rf_slow" and owner in worker_pids and job.is_running():
            return job, spec, owner
    return None, None, None


def test_worker_killed_mid_job_is_retried_and_no_row_is_lost(cluster, tmp_path):
    out = tmp_path / "run"
    fw = tmp_path / "frameworks.yaml"  # a forest slow enough to be caught mid-job
    fw.write_text(
        "rf_slow:\n  adapter: automl_bench_adapters.random_forest:RandomForest\n  params: {n_estimators: 2000}\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "automl_bench", "run", "--suite", "smoke", "--folds", "1",
         "--frameworks", "rf_slow,constant", "--out", str(out), "--no-report",
         "--scheduler", cluster.scheduler_address],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "AUTOML_BENCH_FRAMEWORKS": str(fw)},
    )  # fmt: skip
    with Client(cluster) as client:
        worker_pids = set(client.run(os.getpid).values())
    job = spec = owner = None
    deadline = time.monotonic() + 120
    while job is None and time.monotonic() < deadline and proc.poll() is None:
        job, spec, owner = _job_process(worker_pids)
        time.sleep(0.02)
    assert job is not None, "no rf_slow job started on the cluster"
    os.kill(owner, signal.SIGKILL)  # the Dask worker process running it, mid-job
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr

    df = pd.read_csv(out / "results.csv")
    assert len(df) == 4 and df["job_id"].is_unique  # row count equals job count
    assert (df["status"] == "ok").all(), df[["framework", "error_type", "error_message"]]
    killed = df.set_index("job_id").loc[spec["id"]]
    assert killed["attempts"] == 2  # rescheduled as an infrastructure retry
    assert killed["acc"] > 0.5
    # the killed worker's job tree (its own session) was reaped, not left running
    assert not job.is_running() or job.status() == psutil.STATUS_ZOMBIE


def test_wall_time_is_enforced_on_the_node(cluster, tmp_path):
    fw = tmp_path / "frameworks.yaml"
    fw.write_text(
        "rf_huge:\n  adapter: automl_bench_adapters.random_forest:RandomForest\n"
        "  params: {n_estimators: 50000}\n"
    )
    out = tmp_path / "run"
    proc = run_cli(
        "run", "--no-report", "--suite", "smoke", "--frameworks", "rf_huge", "--folds", 1, "--budget", 1,
        "--setup-grace", 2, "--grace-margin", 0, "--predict-grace", 0, "--predict-ratio", 0,
        "--out", out,
        "--scheduler", cluster.scheduler_address, env={"AUTOML_BENCH_FRAMEWORKS": str(fw)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    df = pd.read_csv(out / "results.csv")
    assert len(df) == 2 and (df["status"] == "timeout").all(), df[["status", "error_message"]]
    # grace = the setup as it ran on the node (at most the 2 s allowance) + 0 + 0
    assert (df["error_type"] == "Timeout").all() and (df["grace_s"] <= 2).all()
    assert ((df["grace_s"] - df["setup_duration"].clip(upper=2)).abs() < 1e-6).all()
    # killed at budget + grace, plus the node's poll/kill slack at that load (5 s when quiet),
    # not after the 50,000 trees
    slack = df["load_at_start"].map(lambda load: kill_slack(load, quiet=5.0))
    assert (df["duration"] <= df["budget_s"] + df["grace_s"] + slack).all(), df["duration"]


def test_scheduler_that_cannot_be_reached_is_bad_input(tmp_path):
    out = tmp_path / "run"
    proc = run_cli(
        "run", "--no-report", "--suite", "smoke", "--out", out, "--scheduler", "tcp://127.0.0.1:9",
        env={"AUTOML_BENCH_DASK_CONNECT_S": "2"},
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "--scheduler tcp://127.0.0.1:9" in proc.stderr
    assert not out.exists()


def test_workers_without_resources_are_bad_input(tmp_path):
    with LocalCluster(n_workers=1, processes=False, protocol="tcp", dashboard_address=":0") as c:
        out = tmp_path / "run"
        proc = run_cli(
            "run",
            "--no-report",
            "--suite",
            "smoke",
            "--out",
            out,
            "--scheduler",
            c.scheduler_address,
        )
    assert proc.returncode == 2, proc.stderr
    assert "--resources" in proc.stderr and "cores=1" in proc.stderr
    assert not out.exists()


def test_cpu_leases_on_one_node_are_disjoint():
    cpus = sorted(os.sched_getaffinity(0))
    with lease_cpus(1) as a, lease_cpus(1) as b:
        assert len(a) == len(b) == 1
        if len(cpus) >= 2:
            assert a != b  # two jobs on one node never share a core while cores are free
    with lease_cpus(len(cpus)) as everything:
        assert everything == cpus
        with lease_cpus(1) as extra:  # oversubscribed: shares instead of waiting forever
            assert len(extra) == 1


def test_orphaned_job_tree_of_a_dead_owner_is_reaped_and_a_stranger_never():
    # an "owner" (stand-in for a Dask worker process) that starts a job in its own session,
    # the job carrying the run's token and its dir as every job process does, records itself
    # in owner.json as node_job does, and dies without cleaning up
    token = "orphan-test-token"
    job_dir = run_folder(token) / "orphan-test"
    job_dir.mkdir(exist_ok=True)
    job_env = {**os.environ, TOKEN_VARIABLE: token, JOB_VARIABLE: str(job_dir)}
    owner = subprocess.Popen(
        [sys.executable, "-c",
         "import json, os, subprocess, sys, psutil\n"
         f"job = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'],"
         f" start_new_session=True, env={job_env!r})\n"
         "me = psutil.Process()\n"
         f"open({str(job_dir / 'owner.json')!r}, 'w').write(json.dumps({{"
         f"'owner': {{'pid': me.pid, 'create_time': me.create_time()}}, 'token': {token!r}}}))\n"
         "print(job.pid, flush=True)\n"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    job_pid = int(owner.stdout.readline())
    owner.wait(timeout=30)
    # the executor's record of the job's worker, as _Running writes it
    start = proc_table()[job_pid].start
    (job_dir / "worker.json").write_text(json.dumps({"pid": job_pid, "start": start}))
    # a second dir of a dead owner whose worker.json names a process that is not the job's
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                                start_new_session=True)  # fmt: skip
    forged = run_folder(token) / "forged"
    forged.mkdir(exist_ok=True)
    (forged / "owner.json").write_text(json.dumps({"owner": {"pid": owner.pid,
                                                             "create_time": 0}, "token": token}))
    (forged / "worker.json").write_text(json.dumps({"pid": stranger.pid,
                                                    "start": proc_table()[stranger.pid].start}))
    job = psutil.Process(job_pid)
    assert job.is_running()
    try:
        assert reap_orphans() >= 1
        with contextlib.suppress(psutil.Error):
            job.wait(timeout=10)
        assert not job.is_running() or job.status() == psutil.STATUS_ZOMBIE
        assert stranger.poll() is None  # named by a planted record, not proven ours: alive
        assert not job_dir.exists() and not forged.exists()
    finally:
        stranger.kill()
        stranger.wait()


def test_a_job_dir_is_made_even_when_another_jobs_reaper_removes_the_empty_run_folder(
    monkeypatch,
):
    # CI: two workers on one node, one job's reap_orphans() removed the other's run folder
    # (still empty) between its creation and the job dir's, and the job failed with
    # FileNotFoundError. Here the other reaper runs at exactly that point, on the first try.
    real, calls = node_job.run_folder, []

    def folder_then_reaped(token):
        d = real(token)
        calls.append(d)
        if len(calls) == 1:
            reap_orphans()
            assert not d.exists()  # the empty folder is gone, as in CI
        return d

    monkeypatch.setattr(node_job, "run_folder", folder_then_reaped)
    job_dir = node_job.new_job_dir("reaped-run-folder-token", "job-1")
    try:
        assert job_dir.is_dir() and job_dir.parent == real("reaped-run-folder-token")
        assert len(calls) == 2
    finally:
        shutil.rmtree(job_dir.parent)

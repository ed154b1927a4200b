"""Enforced budgets, for real: misbehaving test adapters (tests/misbehaving_adapters.py) run
through the CLI; statuses, limits and the absence of any surviving process are checked with
psutil. Also: SIGKILL of the driver halfway and a rerun, retries of infrastructure failures,
slot packing, the run-directory lock."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
from conftest import ROOT, adapter_env, kill_slack, run_cli

from automl_bench.errors import BadInput
from automl_bench.execution.job_env import JOB_MARKER, job_env
from automl_bench.execution.jobs import Limits, WorkItem
from automl_bench.execution.local_executor import LocalExecutor
from automl_bench.execution.runlock import run_lock
from automl_bench.execution.slots import plan_slots
from automl_bench.planning.plan import job_folder

TESTS = Path(__file__).resolve().parent
ENV = adapter_env(TESTS / "misbehaving_frameworks.yaml")
TASK = """
tasks:
  - name: small
    generated: {rows: 120, features: 8, informative: 4, classes: 3, seed: 0}
"""
# a setup allowance that covers spawns_threads' compiling its JVM's busy loop on a busy core
# (its fit must end by setup + budget x 1.1: a fit still running then is a timeout)
BUDGET, SETUP_GRACE, PREDICT_GRACE, KILL_GRACE, MEMORY_MB = 8, 30.0, 1.0, 1.0, 600
MISBEHAVING = {  # framework -> expected status; the sleepers first and last keep the run short
    "sleeps_past_budget": "timeout",
    "constant": "ok",
    "rf": "ok",
    "aborts": "failed",
    "leaves_daemon": "ok",
    "eats_memory": "memory",
    "spawns_threads": "ok",
    "ignores_sigterm": "timeout",
}


def _suite(tmp: Path, name: str, folds: int, budget: float, frameworks: str) -> Path:
    path = tmp / f"{name}.yaml"
    path.write_text(
        f"name: {name}\nfolds: {folds}\nseed: 0\n"
        f"constraint: {{budget_s: {budget}, cores: 1, memory_mb: {MEMORY_MB}}}\n"
        f"frameworks: [{frameworks}]\n{TASK}"
    )
    return path


def _cli(*args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "automl_bench", *map(str, args)],
        cwd=ROOT,
        env={**os.environ, **ENV},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def survivors(run_dir: Path, driver_pid: int | None = None) -> list[str]:
    """Every process of the run still alive: pids the test adapters recorded, processes
    whose environment names a job of this run, the workers' sessions, the launcher."""
    found = []
    for rec in run_dir.glob("jobs/*/scratch/pids.txt"):
        for line in rec.read_text().splitlines():
            pid, created = int(line.split()[0]), float(line.split()[1])
            try:
                p = psutil.Process(pid)
                if abs(p.create_time() - created) < 0.05 and p.status() != psutil.STATUS_ZOMBIE:
                    found.append(f"recorded {pid} {p.cmdline()}")
            except psutil.NoSuchProcess:
                pass
    sessions = set()
    for rec in run_dir.glob("jobs/*/worker.json"):
        sessions.add(json.loads(rec.read_text())["pid"])
    for p in psutil.process_iter(["pid", "cmdline", "status"]):
        if p.info["status"] == psutil.STATUS_ZOMBIE or p.pid == os.getpid():
            continue
        try:
            env = p.environ()
            sid = os.getsid(p.pid)
        except (psutil.Error, OSError):
            continue
        cmd = p.info["cmdline"] or []
        if env.get(JOB_MARKER, "").startswith(str(run_dir)):
            found.append(f"job env {p.pid} {cmd}")
        elif sid in sessions and p.create_time() > run_dir.stat().st_ctime - 1:
            found.append(f"worker session {sid}: {p.pid} {cmd}")
        elif driver_pid and "automl_bench.execution.launcher" in cmd and str(driver_pid) in cmd:
            found.append(f"launcher {p.pid} {cmd}")
    return found


def _wait_gone(run_dir: Path, driver_pid: int | None, within: float) -> list[str]:
    deadline = time.monotonic() + within
    while True:
        left = survivors(run_dir, driver_pid)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


# -- misbehaving adapters in one run ---------------------------------------------------------


@pytest.fixture(scope="module")
def misbehaving(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("misbehaving")
    suite = _suite(tmp, "misbehaving", 2, BUDGET, "constant")
    out = tmp / "run"
    proc = _cli("run", "--suite", suite, "--out", out, "--folds", 1, "--parallel", 2,
                "--frameworks", ",".join(MISBEHAVING), "--setup-grace", SETUP_GRACE,
                "--predict-grace", PREDICT_GRACE, "--predict-ratio", 0,
                "--kill-grace", KILL_GRACE)  # fmt: skip
    stdout, stderr = proc.communicate(timeout=240)
    assert proc.returncode == 0, stderr
    left = survivors(out, proc.pid)  # right after the driver exits, before any grace
    df = pd.read_csv(out / "results.csv").set_index("framework")
    return out, df, left, stderr


def test_each_misbehaviour_gets_its_status_and_the_others_finish(misbehaving):
    _, df, _, stderr = misbehaving
    got = df["status"].to_dict()
    assert got == MISBEHAVING, (got, stderr[-3000:])
    assert df.loc["aborts", "exit_signal"] == "SIGABRT"
    assert df.loc["aborts", "error_type"] == "WorkerCrashed"
    assert df.loc["ignores_sigterm", "exit_signal"] == "SIGKILL"  # TERM was ignored
    assert (df["attempts"] == 1).all()  # none of these is an infrastructure failure


def test_no_process_of_any_job_survives(misbehaving):
    out, _, left, _ = misbehaving
    assert left == []
    recorded = sum(len(p.read_text().splitlines()) for p in out.glob("jobs/*/scratch/pids.txt"))
    assert recorded >= 12  # the adapters did start children, daemons, a JVM ...


def test_timeouts_are_killed_within_grace_of_the_limit(misbehaving):
    _, df, _, _ = misbehaving
    # grace = setup as used (at most the allowance) + budget x 0.1 + the predict allowance
    rows = df.loc[["sleeps_past_budget", "ignores_sigterm"]]
    assert (rows["setup_allowance_s"] == SETUP_GRACE).all()
    assert (rows["predict_allowance_s"] == PREDICT_GRACE).all()
    assert (rows["margin_s"] == 0.1 * BUDGET).all()
    used = rows["setup_duration"]
    assert (used > 0).all(), used
    expected = used.clip(upper=SETUP_GRACE) + 0.1 * BUDGET + PREDICT_GRACE
    assert ((rows["grace_s"] - expected).abs() < 1e-6).all(), (rows["grace_s"], expected)
    # still fitting at its fit deadline (setup as used + budget x 1.1; the predict allowance
    # is for predicting, counted from prediction's start): killed after that limit, never
    # before, and long before the hour it would have slept, within a slack for the driver's
    # watch that grows with the machine's load; the row says the fit was stopped
    row = df.loc["sleeps_past_budget"]
    limit = BUDGET + row["grace_s"] - row["predict_allowance_s"]
    assert limit <= row["duration"] <= limit + kill_slack(row["load_at_start"]), row.to_dict()
    assert row["limit_phase"] == "fit"
    # SIGTERM ignored by it and its child: SIGKILL follows after the kill grace
    row = df.loc["ignores_sigterm"]
    limit = BUDGET + row["grace_s"] - row["predict_allowance_s"] + KILL_GRACE
    assert limit <= row["duration"] <= limit + kill_slack(row["load_at_start"]), row.to_dict()
    assert row["limit_phase"] == "fit"


@pytest.mark.parametrize("ratio", [2, 0])
def test_predict_allowance_grows_with_the_test_set(tmp_path, ratio):
    # 2 folds: as many test rows as training rows. The job sleeps its whole 3 s budget, then
    # takes 3 s to predict: past the fixed 1 s allowance (--predict-ratio 0: timeout), inside
    # the default 2 x budget x test rows / training rows = 6 s (ok)
    suite = _suite(tmp_path, "predict", 2, 3, "sleeps_then_predicts_slowly")
    out = tmp_path / "run"
    proc = _cli("run", "--suite", suite, "--out", out, "--folds", 1, "--no-report",
                "--no-inference", "--predict-grace", 1, "--predict-ratio", ratio)  # fmt: skip
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    row = pd.read_csv(out / "results.csv").iloc[0]
    spec = json.loads(next(out.glob("jobs/*/spec.json")).read_text())
    expected = 6.0 if ratio else 1.0
    assert row["predict_allowance_s"] == expected and spec["predict_allowance_s"] == expected
    assert abs(row["grace_s"] - (min(row["setup_duration"], 60) + 0.3 + expected)) < 1e-6
    if ratio:
        assert row["status"] == "ok" and row["predict_duration"] >= 3.0, row.to_dict()
    else:
        assert row["status"] == "timeout" and row["error_type"] == "Timeout", row.to_dict()


def test_memory_breach_is_killed_near_the_limit(misbehaving):
    _, df, _, _ = misbehaving
    row = df.loc["eats_memory"]
    assert row["error_type"] == "MemoryLimit" and row["exit_signal"] == "SIGKILL"
    # it would have gone on to 8 GB; it was stopped past the limit, long before (how many MB
    # past depends on how fast it allocates between two samples: a benchmark's number)
    assert MEMORY_MB < row["peak_rss_mb"] < 4000, row["peak_rss_mb"]


def _folder(run_dir: Path, row) -> Path:
    """The job folder of a results row indexed by framework."""
    return run_dir / "jobs" / job_folder(row.name, row["task"], row["fold"], row["job_id"])


def test_job_pinned_to_one_core_uses_at_most_one_core(misbehaving):
    out, df, _, _ = misbehaving
    row = df.loc["spawns_threads"]
    assert len(json.loads(row["info"])["cpus"]) == 1 and row["cores"] == 1
    # pinned to one CPU, its tree cannot burn more CPU seconds than wall seconds (10% for the
    # sampling of exited children); a load only lowers the ratio
    assert row["cpu_time"] <= 1.1 * row["duration"], (row["cpu_time"], row["duration"])
    report = json.loads((_folder(out, row) / "scratch" / "report.json").read_text())
    assert report["threads"] >= 4 and report["processes"] >= 2  # it asked for far more
    if "java_available_processors" in report:  # Java saw the job's cores, not the machine's
        assert report["java_available_processors"] == 1
    if len(report.get("widened_affinity_to", [])) > 1:  # it widened: the executor undid it
        assert json.loads(row["info"])["repinned_threads"] >= 1
    for fw in ("constant", "rf"):  # well-behaved jobs start pinned and stay so
        assert "repinned_threads" not in json.loads(df.loc[fw, "info"])


def test_leftover_daemon_of_an_ok_job_is_killed(misbehaving):
    out, df, left, _ = misbehaving
    pids = (_folder(out, df.loc["leaves_daemon"]) / "scratch" / "pids.txt").read_text().splitlines()
    assert len(pids) == 3  # the adapter, the daemon's first fork, the daemon itself
    assert left == []


# -- the driver killed with SIGKILL halfway, then the same command again -------------------


def test_driver_sigkill_then_rerun_loses_and_duplicates_nothing(tmp_path):
    suite = _suite(tmp_path, "crash", 8, 10, "sleeps_1s_grandchild")
    out = tmp_path / "run"
    args = ("run", "--suite", suite, "--out", out, "--parallel", 2)
    first = _cli(*args)
    db = out / "results.sqlite"
    deadline = time.monotonic() + 120
    before = {}
    while time.monotonic() < deadline and first.poll() is None:
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
                before = dict(conn.execute("SELECT job_id, row_json FROM results"))
        except sqlite3.OperationalError:  # not created yet
            pass
        if len(before) >= 3:
            break
        time.sleep(0.1)
    assert first.poll() is None, "the first run ended before it could be killed"
    os.kill(first.pid, signal.SIGKILL)
    first.communicate()
    with sqlite3.connect(db) as conn:
        before = dict(conn.execute("SELECT job_id, row_json FROM results"))
    assert 3 <= len(before) < 8
    # the launcher sees the driver gone and kills every worker and grandchild (these ignore
    # SIGTERM and left their session)
    assert _wait_gone(out, first.pid, within=60) == []

    second = _cli(*args)
    stdout, stderr = second.communicate(timeout=120)
    assert second.returncode == 0, stderr
    assert f"{len(before)} done, {8 - len(before)} to run" in stderr
    df = pd.read_csv(out / "results.csv")
    assert len(df) == 8 and df["job_id"].is_unique and (df["status"] == "ok").all()
    with sqlite3.connect(db) as conn:
        after = dict(conn.execute("SELECT job_id, row_json FROM results"))
    assert {k: after[k] for k in before} == before  # finished rows untouched
    assert survivors(out, second.pid) == []


def test_a_stop_signal_only_flags_the_launcher_so_its_cleanup_always_runs():
    """The driver's death brings the launcher EOF and SIGTERM at once. Its SIGTERM/SIGHUP
    handler sets the stop flag and raises nothing: a SystemExit raised after the serve loop had
    ended on EOF, before the cleanup began, once ended the launcher with its workers'
    children alive (the test above caught it 1 run in 5 with 2 CPU hogs)."""
    code = (
        "import os, signal\n"
        "from automl_bench.execution.launcher import _Server\n"
        "s = _Server(os.getppid())\n"
        "s.install_signals()\n"
        "for sig in (signal.SIGTERM, signal.SIGHUP):\n"
        "    os.kill(os.getpid(), sig)\n"
        "    sum(range(1000))  # the handler runs here, in Python code\n"
        "print('stopping' if s.stopping else 'running', flush=True)\n"
    )  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    assert out.returncode == 0 and out.stdout.strip() == "stopping", out


def test_launcher_killed_midrun_jobs_are_retried_and_nothing_survives(tmp_path):
    suite = _suite(tmp_path, "lost", 4, 10, "sleeps_1s_grandchild")
    out = tmp_path / "run"
    proc = _cli("run", "--suite", suite, "--out", out, "--parallel", 2)
    deadline, victims = time.monotonic() + 120, []
    while time.monotonic() < deadline and not victims:
        launchers = [p for p in psutil.process_iter(["cmdline"])
                     if "automl_bench.execution.launcher" in (p.info["cmdline"] or [])
                     and str(proc.pid) in p.info["cmdline"]]  # fmt: skip
        victims = [p for p in launchers if len(p.children()) >= 2]  # two jobs running
        time.sleep(0.05)
    assert victims, "never saw the launcher with two running jobs"
    victims[0].kill()
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    df = pd.read_csv(out / "results.csv")
    assert len(df) == 4 and (df["status"] == "ok").all(), df["error_message"]
    assert (df["attempts"] == 2).sum() >= 1  # the jobs it was running were retried
    assert survivors(out, proc.pid) == []


# -- retries: infrastructure failures retried, framework errors are results -----------------


def test_infrastructure_failures_are_retried_framework_errors_are_not(tmp_path):
    suite = _suite(tmp_path, "retries", 2, 30, "killed_by_os_once,always_killed_by_os,raises")
    out = tmp_path / "run"
    # cold start: the same guarantees for workers exec'd as a fresh interpreter
    args = ("run", "--suite", suite, "--out", out, "--folds", 1, "--parallel", 2,
            "--retries", 1, "--cold-start")  # fmt: skip
    proc = run_cli(*args, env=ENV)
    assert proc.returncode == 0, proc.stderr
    df = pd.read_csv(out / "results.csv").set_index("framework")
    assert df.loc["killed_by_os_once", ["status", "attempts"]].tolist() == ["ok", 2]
    gone = df.loc["always_killed_by_os"]
    assert [gone["status"], gone["attempts"], gone["error_type"]] == ["failed", 2, "KilledByOS"]
    assert "2 attempts" in gone["error_message"]
    assert df.loc["raises", ["status", "attempts", "error_type"]].tolist() == [
        "failed", 1, "RuntimeError"
    ]  # fmt: skip
    assert all(json.loads(i)["start"] == "cold" for i in df["info"])
    assert survivors(out) == []

    again = run_cli(*args, env=ENV)
    assert "executed 0 of 3" in again.stdout, again.stderr
    rerun = run_cli(*args[:-1], "--rerun-failed", env=ENV)  # warm this time
    assert "executed 2 of 3" in rerun.stdout, rerun.stderr


def test_worker_that_cannot_start_is_retried_then_reported(tmp_path):
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    (job_dir / "spec.json").write_text(json.dumps({"adapter": "automl_bench_adapters.constant:X"}))
    task = WorkItem("j", job_dir, 5, 1, 512, python=str(tmp_path / "no-such-python"))
    outcomes = []
    LocalExecutor(1, Limits(retries=2)).run([task], on_done=lambda t, o: outcomes.append(o))
    (o,) = outcomes
    assert (o.status, o.error_type, o.attempts) == ("failed", "WorkerDidNotStart", 3)
    assert "no-such-python" in (job_dir / "worker.log").read_text()


# -- packing ----------------------------------------------------------------------------------


def test_slots_are_packed_by_cores_and_memory():
    cpus, mem = [0, 1], 8000
    assert plan_slots(4, 1, 1000, cpus=cpus, machine_mb=mem).slots == 2  # cores bind
    assert plan_slots(4, 1, 3000, cpus=cpus, machine_mb=mem).slots == 2
    assert plan_slots(2, 1, 5000, cpus=cpus, machine_mb=mem).slots == 1  # memory binds
    assert plan_slots(2, 2, 1000, cpus=cpus, machine_mb=mem).slots == 1
    reduced = plan_slots(4, 1, 1000, cpus=cpus, machine_mb=mem)
    assert "reduced to 2" in reduced.notes[0] and "--oversubscribe" in reduced.notes[0]
    over = plan_slots(4, 1, 1000, oversubscribe=True, cpus=cpus, machine_mb=mem)
    assert over.slots == 4 and "oversubscribing" in over.notes[0]
    with pytest.raises(BadInput, match="cores=3.*--oversubscribe"):
        plan_slots(1, 3, 1000, cpus=cpus, machine_mb=mem)
    with pytest.raises(BadInput, match="memory_mb=9000"):
        plan_slots(1, 1, 9000, cpus=cpus, machine_mb=mem)
    assert plan_slots(1, 3, 1000, oversubscribe=True, cpus=cpus, machine_mb=mem).slots == 1


def test_constraint_larger_than_machine_is_bad_input_before_writing(tmp_path):
    suite = tmp_path / "big.yaml"
    suite.write_text(
        "name: big\nfolds: 2\nconstraint: {budget_s: 5, cores: 4096, memory_mb: 512}\n"
        f"frameworks: [constant]\n{TASK}"
    )
    proc = run_cli("run", "--suite", suite, "--out", tmp_path / "run", "--parallel", 2)
    assert proc.returncode == 2, proc.stderr
    assert "cores=4096" in proc.stderr and "--oversubscribe" in proc.stderr
    assert not (tmp_path / "run").exists()


def test_second_driver_on_the_same_run_dir_is_refused(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    with run_lock(out):
        proc = run_cli("run", "--suite", "smoke", "--out", out, "--folds", 1)
    assert proc.returncode == 2
    assert "in use by another automl-bench run" in proc.stderr


# -- Java ---------------------------------------------------------------------------------


def test_java_gets_the_job_cores_and_h2o_accepts_the_banner(tmp_path):
    if not any(
        os.access(os.path.join(d, "java"), os.X_OK) for d in os.environ["PATH"].split(os.pathsep)
    ):
        pytest.skip("java is not installed (Java 17, e.g. apt-get install openjdk-17-jre-headless)")
    env = {**os.environ, **job_env(1, tmp_path)}
    version = subprocess.run(["java", "-XshowSettings:system", "-version"], env=env,
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert "Picked up JAVA_TOOL_OPTIONS: -XX:ActiveProcessorCount=1" in version.stderr
    pytest.importorskip("h2o.backend.server", reason="H2O is not installed: pip install -e '.[h2o]'")
    # h2o parses `java -version` output; the JVM's "Picked up ..." banner must not break it
    code = "import h2o.backend.server as s; s.H2OLocalServer._check_java('java', False)"
    check = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


# -- soak -----------------------------------------------------------------------------------


def test_two_hundred_quick_jobs_on_two_slots_without_a_false_failure(tmp_path):
    suite = tmp_path / "soak.yaml"
    suite.write_text(
        "name: soak\nfolds: 100\nseed: 0\n"
        "constraint: {budget_s: 30, cores: 1, memory_mb: 1024}\nframeworks: [constant]\n"
        "tasks:\n  - {name: digits, sklearn: {dataset: digits}}\n"
        "  - {name: gen, generated: {rows: 1000, features: 20, informative: 5, classes: 4}}\n"
    )
    out = tmp_path / "run"
    proc = run_cli("run", "--suite", suite, "--out", out, "--parallel", 2)
    assert proc.returncode == 0, proc.stderr
    df = pd.read_csv(out / "results.csv")
    assert len(df) == 200 and df["job_id"].is_unique
    assert (df["status"] == "ok").all(), df.loc[df["status"] != "ok", "error_message"]
    assert (df["attempts"] == 1).all()
    assert survivors(out) == []

"""One job on a cluster node: the node side of the Dask executor.

A Dask task calls :func:`run_job` on whichever worker node the scheduler picked. Nothing is
shared with the driver but what travels through the engine: the job's spec (a dict) and the
task's cached data (``data.parquet`` and ``folds.json`` as bytes). The node writes them into
its own temporary job dir, runs the same worker subprocess as the local executor
(``python -m bench.worker JOB_DIR`` via :class:`bench.executor._Running`, so the same wall
time and memory enforcement on the whole process tree), and returns the outcome and the
files the worker wrote (predictions, outcome, log) as bytes. The driver alone writes the run
directory and the store.

Node bookkeeping, all under ``$TMPDIR/automl-bench-node-<uid>/``:
- ``cpus/cpu<N>.lock``: a job pins itself to CPU ids it holds ``flock`` locks on, so jobs
  from several Dask worker processes on one node never share a core (the kernel drops the
  locks when a process dies, so a killed worker leaks none).
- ``jobs/<tmp>/owner.json``: which Dask worker process owns the job dir and which process
  group runs the job. A Dask worker killed mid-job leaves its job's process tree running (it
  is in its own session); :func:`reap_orphans`, called before every job and by the driver at
  the end of a run, kills such trees and removes their dirs.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path

import psutil

from bench.executor import Limits, Task, _Running, available_cpus
from bench.proctree import ProcessTree

EVENT_TOPIC = "automl-bench-job"
# Files of a finished job dir sent back to the driver (inputs and scratch stay on the node).
RETURNED = ("predictions.parquet", "outcome.json", "worker.log", "leaderboard.csv")
LOG_TAIL_BYTES = 1 << 20

_active: dict[str, _Running] = {}  # key -> running job in this process (for teardown)
_active_lock = threading.Lock()
_env_lock = threading.Lock()


def node_dir() -> Path:
    d = Path(tempfile.gettempdir()) / f"automl-bench-node-{os.getuid()}"
    (d / "jobs").mkdir(parents=True, exist_ok=True)
    (d / "cpus").mkdir(parents=True, exist_ok=True)
    return d


@contextlib.contextmanager
def lease_cpus(n: int):
    """Hold ``n`` CPU ids of this process's affinity that no other job on the node holds."""
    mine = available_cpus()
    n = max(1, min(n, len(mine)))
    held: list[tuple[int, int]] = []
    base = node_dir() / "cpus"
    try:
        for cpu in mine:
            fd = os.open(base / f"cpu{cpu}.lock", os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            held.append((cpu, fd))
            if len(held) == n:
                break
        cpus = [c for c, _ in held]
        # More jobs than cores (the worker declared more `cores` than it has): share rather
        # than wait, as the local executor does when a job needs more cores than are free.
        cpus += [c for c in mine if c not in cpus][: n - len(cpus)]
        yield sorted(cpus)
    finally:
        for _, fd in held:
            os.close(fd)


def _ensure_importable() -> None:
    """Make ``bench``/``adapters`` importable by the job subprocess, as they are here."""
    root = str(Path(__file__).resolve().parent.parent)
    with _env_lock:
        parts = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        if root not in parts:
            os.environ["PYTHONPATH"] = os.pathsep.join([root, *parts])


def _identity(p: psutil.Process) -> dict:
    return {"pid": p.pid, "create_time": p.create_time()}


def _same_process(ident: dict | None) -> psutil.Process | None:
    if not ident:
        return None
    try:
        p = psutil.Process(ident["pid"])
        if abs(p.create_time() - ident["create_time"]) < 0.01:
            return p
    except (psutil.NoSuchProcess, KeyError, TypeError):
        pass
    return None


def reap_orphans() -> int:
    """Kill job trees whose owning Dask worker process is gone; remove their dirs."""
    reaped = 0
    for d in (node_dir() / "jobs").iterdir():
        try:
            owner = json.loads((d / "owner.json").read_text())
        except (OSError, ValueError):
            # not yet written by a starting job, or left half-made: judge by age
            try:
                if time.time() - d.stat().st_mtime < 3600:
                    continue
            except OSError:  # another job's reaper got there first
                continue
            owner = {}
        if _same_process(owner.get("owner")) is not None:
            continue
        job = _same_process(owner.get("job"))
        if job is not None:
            ProcessTree(job.pid).kill(grace=1.0)
            reaped += 1
        shutil.rmtree(d, ignore_errors=True)
    return reaped


def kill_active() -> None:
    """Kill every job tree this process runs (the Dask worker is closing)."""
    with _active_lock:
        running = list(_active.values())
    for r in running:
        r.tree.kill(grace=1.0)


def _log_start(key: str, host: str) -> None:
    with contextlib.suppress(Exception):  # no Dask worker here (a direct call): no event
        from distributed import get_worker

        get_worker().log_event(EVENT_TOPIC, {"key": key, "event": "start", "host": host})


def _abandoned(key: str) -> bool:
    """True when the scheduler no longer wants this task (the driver cancelled the run)."""
    try:
        from distributed import get_worker

        ts = get_worker().state.tasks.get(key)
        return ts is None or ts.state in ("cancelled", "released", "forgotten")
    except Exception:
        return False


def run_job(payload: dict, data: dict, limits: Limits) -> dict:
    """Run one job here; return ``{"outcome": dict, "files": {name: bytes}, "host": str}``.

    ``payload``: ``spec`` (the job's spec.json contents), ``job_id``, ``key`` (the Dask
    key), ``budget_s``, ``cores``, ``memory_mb``, ``python`` (None: this node's interpreter).
    ``data``: the files named by the spec's ``data_path`` and ``folds_path``, as
    ``{file name: bytes}``.
    """
    _ensure_importable()
    reap_orphans()
    host = socket.gethostname()
    key = payload["key"]
    jobs = node_dir() / "jobs"
    job_dir = Path(tempfile.mkdtemp(prefix=f"{payload['job_id']}-", dir=jobs))
    me = _identity(psutil.Process())
    owner_file = job_dir / "owner.json"
    owner_file.write_text(json.dumps({"owner": me}))
    running = None
    try:
        for name, blob in data.items():
            (job_dir / name).write_bytes(blob)
        spec = dict(payload["spec"])
        for field in ("data_path", "folds_path"):  # the driver's paths, mapped to this node's
            spec[field] = str(job_dir / Path(spec[field]).name)
        (job_dir / "spec.json").write_text(json.dumps(spec, indent=1))
        task = Task(
            payload["job_id"], job_dir, payload["budget_s"], payload["cores"],
            payload["memory_mb"], payload.get("python") or sys.executable,
        )  # fmt: skip
        with lease_cpus(task.cores) as cpus:
            _log_start(key, host)
            running = _Running(task, cpus, limits)
            with _active_lock:
                _active[key] = running
            with contextlib.suppress(psutil.NoSuchProcess):
                job = _identity(psutil.Process(running.proc.pid))
                owner_file.write_text(json.dumps({"owner": me, "job": job}))
            next_check = time.monotonic() + 1.0
            while not running.poll():
                running.enforce()
                if time.monotonic() > next_check:
                    next_check = time.monotonic() + 1.0
                    if _abandoned(key):
                        running.tree.kill(grace=1.0)
                time.sleep(limits.poll_s)
            outcome = running.finish()
        files = {}
        for name in RETURNED:
            path = job_dir / name
            if path.exists():
                blob = path.read_bytes()
                files[name] = blob[-LOG_TAIL_BYTES:] if name == "worker.log" else blob
        return {"outcome": asdict(outcome), "files": files, "host": host}
    finally:
        with _active_lock:
            _active.pop(key, None)
        if running is not None and running.tree.alive():
            running.tree.kill(grace=1.0)
        shutil.rmtree(job_dir, ignore_errors=True)

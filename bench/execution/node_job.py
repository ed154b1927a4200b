"""One job on a cluster node: the node side of the Dask executor.

A Dask task calls :func:`run_job` on whichever worker node the scheduler picked. Nothing is
shared with the driver but what travels through the engine: the job's spec (a dict) and the
task's cached data (the files the spec names, as bytes). The node writes them into its own
temporary job dir and runs the job through the local executor with one slot
(:class:`automl_bench.execution.local_executor.LocalExecutor`: the same launcher, worker subprocess, wall-time,
memory and core enforcement, and retries of infrastructure failures as a local run; the
Dask worker process keeps its warm launchers across jobs, :mod:`automl_bench.execution.launcher_pool`), then
returns the outcome and the files the worker wrote (predictions, outcome, phase marks, log) as
bytes.
The driver alone writes the run directory and the store.

Node bookkeeping, all under ``$TMPDIR/automl-bench-node-<uid>/`` (made private to the user):
- ``cpus/cpu<N>.lock``: a job runs on CPU ids it holds ``flock`` locks on, so jobs from
  several Dask worker processes on one node never share a core (the kernel drops the locks
  when a process dies, so a killed worker leaks none).
- ``jobs/<run>/<job id>-<tmp>/``: a job's dir, in a folder of its run (named by a digest of
  the run's token: two runs with the same job ids never meet). ``owner.json`` records which
  Dask worker process owns it and the run's token; the executor's ``worker.json`` beside it
  names the job's worker. The launcher takes a job down with it when its Dask worker dies;
  :func:`reap_orphans`, called before every job, when a worker starts and by the driver at
  the end of a run, sweeps whatever a dead owner left anyway and removes its dir. As in a
  local run, a process is signalled only once it is proven the job's: it carries the run's
  token and the job's dir in its environment (:mod:`automl_bench.execution.ownership`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
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

from automl_bench.execution.jobs import Limits, Outcome, WorkItem
from automl_bench.execution.launcher_pool import LauncherPool
from automl_bench.execution.local_executor import LocalExecutor
from automl_bench.execution.ownership import sweep_owned
from automl_bench.execution.slots import available_cpus

EVENT_TOPIC = "automl-bench-job"
# Files of a finished job dir sent back to the driver (inputs and scratch stay on the node).
RETURNED = ("predictions.parquet", "outcome.json", "worker.log", "leaderboard.csv", "phases.json",
            "trajectory.parquet")
LOG_TAIL_BYTES = 1 << 20

# Warm launchers of this Dask worker process, kept across its jobs; they die with it.
LAUNCHERS = LauncherPool()
_active: dict[str, tuple[Path, str]] = {}  # key -> (job dir, run token): jobs running here
_active_lock = threading.Lock()


def node_dir() -> Path:
    d = Path(tempfile.gettempdir()) / f"automl-bench-node-{os.getuid()}"
    d.mkdir(mode=0o700, exist_ok=True)
    (d / "jobs").mkdir(exist_ok=True)
    (d / "cpus").mkdir(exist_ok=True)
    return d


def run_folder(token: str) -> Path:
    """The folder of one run's job dirs on this node."""
    d = node_dir() / "jobs" / hashlib.sha256(token.encode()).hexdigest()[:16]
    d.mkdir(exist_ok=True)
    return d


def new_job_dir(token: str, job_id: str) -> Path:
    """A fresh dir for one job of run ``token``. Another job's :func:`reap_orphans` removes
    a run folder while it is empty, so the folder may go between our creating it and our
    making the job dir in it: then make both again (once ours is in, the folder is kept)."""
    for _ in range(100):
        with contextlib.suppress(FileNotFoundError):
            return Path(tempfile.mkdtemp(prefix=f"{job_id}-", dir=run_folder(token)))
    raise OSError(f"could not make a job dir in {run_folder(token)}: removed again each time")


def job_dirs() -> list[Path]:
    """Every job dir on this node, of every run."""
    out = []
    for run in (node_dir() / "jobs").iterdir():
        with contextlib.suppress(OSError):  # another reaper removed it meanwhile
            out += [d for d in run.iterdir() if d.is_dir()]
    return out


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
    for d in job_dirs():
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
        reaped += _sweep(d, owner.get("token"))
        shutil.rmtree(d, ignore_errors=True)
    for run in (node_dir() / "jobs").iterdir():
        with contextlib.suppress(OSError):  # empty (its jobs are gone), or another's to remove
            run.rmdir()
    return reaped


def kill_active() -> None:
    """Kill every job tree this process runs and close its idle launchers (the Dask worker
    is closing)."""
    with _active_lock:
        running = list(_active.values())
    for job_dir, token in running:
        _sweep(job_dir, token)
    LAUNCHERS.close()


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


@contextlib.contextmanager
def _thread_affinity(cpus: list[int]):
    """Restrict the calling thread (and what it starts) to ``cpus``; Linux affinity is per
    thread, so the Dask worker's other task threads keep theirs."""
    old = os.sched_getaffinity(0)
    os.sched_setaffinity(0, set(cpus))
    try:
        yield
    finally:
        os.sched_setaffinity(0, old)


def _sweep(job_dir: Path, token: str | None) -> int:
    """Kill the job's worker tree recorded in ``worker.json`` (if it is still that one), each
    process only once it is proven the job's."""
    try:
        info = json.loads((job_dir / "worker.json").read_text())
        return sweep_owned(int(info["pid"]), float(info["start"]), job_dir, token)
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def _watch(key: str, job_dir: Path, token: str, done: threading.Event) -> None:
    """Kill the job (and any retry of it) once the scheduler no longer wants the task."""
    while not done.wait(1.0):
        if _abandoned(key):
            while not done.wait(0.2):
                _sweep(job_dir, token)
            return


def run_job(payload: dict, data: dict, limits: Limits) -> dict:
    """Run one job here; return ``{"outcome": dict, "files": {name: bytes}, "host": str}``.

    The job runs through the local executor (one slot, restricted to CPUs leased on this
    node), so enforcement, retries of infrastructure failures and the outcome are exactly
    those of a local run.

    ``payload``: ``spec`` (the job's spec.json contents), ``job_id``, ``key`` (the Dask
    key), ``token`` (the run's), ``budget_s``, ``cores``, ``memory_mb``, ``python`` (None:
    this node's interpreter).
    ``data``: the files named by the spec's ``data_path`` and ``folds_path``, as
    ``{file name: bytes}``.
    """
    reap_orphans()
    host = socket.gethostname()
    key, token = payload["key"], payload["token"]
    job_dir = new_job_dir(token, payload["job_id"])
    (job_dir / "owner.json").write_text(json.dumps({"owner": _identity(psutil.Process()),
                                                    "token": token}))  # fmt: skip
    done = threading.Event()
    try:
        for name, blob in data.items():
            (job_dir / name).write_bytes(blob)
        spec = dict(payload["spec"])
        for field in ("data_path", "folds_path"):  # the driver's paths, mapped to this node's
            spec[field] = str(job_dir / Path(spec[field]).name)
        (job_dir / "spec.json").write_text(json.dumps(spec, indent=1))
        task = WorkItem(
            payload["job_id"], job_dir, payload["budget_s"], payload["cores"],
            payload["memory_mb"], payload.get("python") or sys.executable, token=token,
        )  # fmt: skip
        with lease_cpus(task.cores) as cpus, _thread_affinity(cpus):
            _log_start(key, host)
            with _active_lock:
                _active[key] = (job_dir, token)
            threading.Thread(target=_watch, args=(key, job_dir, token, done), daemon=True).start()
            got: list[Outcome] = []
            executor = LocalExecutor(1, limits, oversubscribe=len(cpus) < task.cores,
                                     pool=LAUNCHERS)  # fmt: skip
            executor.run([task], on_done=lambda _t, o: got.append(o))
        outcome = got[0]
        files = {}
        for name in RETURNED:
            path = job_dir / name
            if path.exists():
                blob = path.read_bytes()
                files[name] = blob[-LOG_TAIL_BYTES:] if name == "worker.log" else blob
        return {"outcome": asdict(outcome), "files": files, "host": host}
    finally:
        done.set()
        with _active_lock:
            _active.pop(key, None)
        _sweep(job_dir, token)
        shutil.rmtree(job_dir, ignore_errors=True)

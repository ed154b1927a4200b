"""Whether a process read from disk is provably one of this run's job processes.

A run directory is user-writable: a ``jobs/<id>/worker.json`` may name any pid and start
time. Before a resumed run kills what an earlier driver's worker left running, every process
is checked here first: it must carry the run's token (``TOKEN_VARIABLE``, set in every job
process's environment) together with the job's directory, or, for a warm worker (forked from
the launcher, so its ``/proc/<pid>/environ`` is the launcher's), have that job's
``worker.log`` open as its standard output. Anything else is never signalled.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from automl_bench.execution.proctree import ProcessTree, proc_table, signal_pids

TOKEN_VARIABLE = "AUTOML_BENCH_RUN_TOKEN"
JOB_VARIABLE = "AUTOML_BENCH_JOB_DIR"


def _environ(pid: int) -> dict[str, str]:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            raw = f.read()
    except OSError:
        return {}
    env = {}
    for item in raw.split(b"\0"):
        k, sep, v = item.partition(b"=")
        if sep:
            env[k.decode(errors="replace")] = v.decode(errors="replace")
    return env


def _writes_log(pid: int, log: Path) -> bool:
    try:
        want = os.stat(log)
    except OSError:
        return False
    for fd in (1, 2):
        try:
            st = os.stat(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (want.st_dev, want.st_ino):
            return True
    return False


def is_ours(pid: int, job_dir: Path, token: str | None) -> bool:
    """True only if ``pid`` is provably a process of this run's job in ``job_dir``."""
    if pid <= 1 or pid == os.getpid():
        return False
    job_dir = Path(job_dir)
    env = _environ(pid)
    if token and env.get(TOKEN_VARIABLE) == token and env.get(JOB_VARIABLE) == str(job_dir):
        return True
    return _writes_log(pid, job_dir / "worker.log")


def sweep_owned(pid: int, start: float, job_dir: Path, token: str | None) -> int:
    """Kill what is left of an earlier worker (pid, start) of this job: its tree and session,
    each process only once it is proven ours. Returns how many were killed."""
    tree = ProcessTree(pid, {})
    tree.root_start, tree.members = start, {}
    table = proc_table()
    root = table.get(pid)
    if root is not None and root.start == start:
        tree.members[pid] = start
    found = tree.alive(table)
    owned = {p: table[p].start for p in found if p in table and is_ours(p, job_dir, token)}
    if owned:
        signal_pids(owned, signal.SIGKILL, table)
    return len(owned)


def sweep_job(job_dir: Path, token: str | None) -> int:
    """Kill every live process whose environment carries this job's directory (and the run's
    token, when there is one): what a job left running when its launcher died before the
    driver saw it (e.g. a grandchild that left the worker's session at once). Used only for
    a job this driver launched itself. Returns how many were killed."""
    table = proc_table()
    want = str(Path(job_dir))
    owned = {}
    for pid, proc in table.items():
        if pid <= 1 or pid == os.getpid():
            continue
        env = _environ(pid)
        if env.get(JOB_VARIABLE) == want and (token is None or env.get(TOKEN_VARIABLE) == token):
            owned[pid] = proc.start
    if owned:
        signal_pids(owned, signal.SIGKILL, table)
    return len(owned)

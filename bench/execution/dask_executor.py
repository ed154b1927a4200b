"""Dask executor: the same jobs, the same enforcement, on a Dask cluster.

The driver submits one Dask task per job. Each task runs :func:`automl_bench.execution.node_job.run_job` on a
worker node, which starts the usual worker subprocess there under the usual wall-time and
memory limits (:mod:`automl_bench.execution.node_job`). Jobs ask for Dask worker *resources*
``{"cores": job cores, "memory_mb": job memory}``, so a node never runs more jobs than its
declared cores and memory hold; workers declare them when started::

    dask worker tcp://scheduler:8786 --nthreads 8 --resources "cores=8 memory_mb=30000"

No shared filesystem: each task's cached data (``data.parquet`` + ``folds.json``) is
submitted once per run as a small Dask task of its own, so it reaches each node through the
engine and, having lineage, is recomputed if the worker holding it dies. Predictions, outcome
and log come back as bytes; only the driver writes the run directory and the store.

Lost workers: when a worker process dies mid-job, the scheduler reschedules its tasks
(up to ``distributed.scheduler.allowed-failures`` times, 3 by default), and each future
resolves once, so the driver writes each job's row exactly once. A job whose workers keep
dying is recorded as ``failed`` with error type ``WorkerLost``. The number of attempts that
started (plus the node's own retries) is the row's ``attempts``.

Without a scheduler address a LocalCluster is started: ``parallel`` job slots of the suite's
cores each, never more cores than the machine has, the same packing as the local executor.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import uuid
from collections import Counter, deque
from pathlib import Path

import psutil
from distributed import Client, LocalCluster, WorkerPlugin
from distributed.client import FutureCancelledError
from distributed.scheduler import KilledWorker

import automl_bench
from automl_bench.errors import BadInput
from automl_bench.execution.jobs import Limits, Outcome, WorkItem
from automl_bench.execution.node_job import EVENT_TOPIC, kill_active, reap_orphans, run_job
from automl_bench.execution.protocol import Admit, Gate, OnDone, OnStart
from automl_bench.execution.slots import available_cpus

CONNECT_S = float(os.environ.get("AUTOML_BENCH_DASK_CONNECT_S", 15))
WAIT_FOR_WORKERS_S = float(os.environ.get("AUTOML_BENCH_DASK_WAIT_S", 300))
WRITTEN_BACK = ("predictions.parquet", "outcome.json", "leaderboard.csv", "trajectory.parquet",
                "phases.json")  # fmt: skip


class NodeJobsPlugin(WorkerPlugin):
    """On each worker: reap orphaned job trees at start, kill running ones at close."""

    name = "automl-bench-node-jobs"
    idempotent = True

    def setup(self, worker) -> None:
        reap_orphans()

    def teardown(self, worker) -> None:
        kill_active()


def _data(blobs: dict) -> dict:
    """A task's cached files: a Dask task of their own so they have lineage."""
    return blobs


def local_cluster_shape(parallel: int, cores: int, memory_mb: int) -> tuple[int, int, int]:
    """(workers, cores per worker, memory_mb per worker) for a LocalCluster of ``parallel``
    job slots: never more cores in total than this machine has (as the local executor packs),
    and every worker large enough for one job."""
    ncpu = len(available_cpus())
    cores = max(1, cores)
    total = max(cores, min(ncpu, parallel * cores))
    workers = max(1, min(parallel, total // cores))
    per_worker = total // workers
    mem = max(memory_mb, psutil.virtual_memory().total // 2**20 // workers)
    return workers, per_worker, mem


class DaskExecutor:
    mode = "dask"

    def __init__(self, client: Client, cluster: LocalCluster | None = None, limits=None):
        self.client, self.cluster = client, cluster
        self.limits = limits or Limits()
        self.attempts: dict[str, int] = {}  # job id -> attempts that started

    @classmethod
    def connect(
        cls,
        scheduler: str | None,
        parallel: int,
        cores: int,
        memory_mb: int,
        limits: Limits | None = None,
    ) -> DaskExecutor:
        """Connect to ``scheduler`` (or start a LocalCluster) and check that some worker can
        run a job of ``cores`` and ``memory_mb``. Raises BadInput naming what is wrong."""
        cluster = None
        if scheduler:
            try:
                if Path(scheduler).is_file():  # `dask scheduler --scheduler-file FILE`
                    client = Client(scheduler_file=scheduler, timeout=f"{CONNECT_S:g}s")
                else:
                    client = Client(scheduler, timeout=f"{CONNECT_S:g}s")
            except Exception as e:
                raise BadInput(
                    f"--scheduler {scheduler}: cannot connect to a Dask scheduler there within "
                    f"{CONNECT_S:g}s (AUTOML_BENCH_DASK_CONNECT_S): {e}"
                ) from None
        else:
            n, per, mem = local_cluster_shape(parallel, cores, memory_mb)
            cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=per,
                processes=True,
                resources={"cores": per, "memory_mb": mem},
                dashboard_address=":0",  # any free port: no clash warnings
                silence_logs=logging.ERROR,
            )
            client = Client(cluster)
        ex = cls(client, cluster, limits)
        try:
            ex._check_workers(scheduler or "LocalCluster", cores, memory_mb)
            client.register_plugin(NodeJobsPlugin())
        except BaseException:
            ex.close()
            raise
        return ex

    def _check_workers(self, where: str, cores: int, memory_mb: int) -> None:
        try:
            self.client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS_S)
        except Exception:
            raise BadInput(
                f"Dask scheduler {where}: no worker joined within {WAIT_FOR_WORKERS_S:g}s "
                "(set AUTOML_BENCH_DASK_WAIT_S to wait longer)"
            ) from None
        workers = self.client.scheduler_info(n_workers=-1)["workers"]
        fits = [
            a for a, w in workers.items()
            if w.get("resources", {}).get("cores", 0) >= cores
            and w.get("resources", {}).get("memory_mb", 0) >= memory_mb
        ]  # fmt: skip
        if not fits:
            have = sorted({json.dumps(w.get("resources", {})) for w in workers.values()})
            raise BadInput(
                f"Dask scheduler {where}: no worker offers the resources a job needs "
                f"(cores={cores}, memory_mb={memory_mb}); workers declare {', '.join(have)}. "
                f'Start workers with: dask worker ADDRESS --nthreads N --resources "cores=N '
                f'memory_mb=M" (N >= {cores}, M >= {memory_mb})'
            )
        try:  # every worker must run our code: same package, importable
            versions = self.client.run(lambda: __import__("automl_bench").__version__)
        except Exception as e:
            raise BadInput(
                f"Dask scheduler {where}: workers cannot import the harness ({e}); install "
                "automl-bench with the [dask] extra in the workers' environment"
            ) from None
        other = {a: v for a, v in versions.items() if v != automl_bench.__version__}
        if other:
            raise BadInput(
                f"Dask scheduler {where}: workers run automl-bench {sorted(set(other.values()))}"
                f", this driver {automl_bench.__version__}: install the same version on every worker"
            )

    def notes(self, items: list[WorkItem]) -> list[str]:
        return []

    def slots(self, items: list[WorkItem]) -> int:
        """How many of these jobs the cluster's workers can run at once (by their declared
        ``cores`` resource; at least one)."""
        cores = max((t.cores for t in items), default=1)
        workers = self.client.scheduler_info(n_workers=-1)["workers"].values()
        return max(1, sum(int(w.get("resources", {}).get("cores", 0)) // max(cores, 1)
                          for w in workers))  # fmt: skip

    def run(self, tasks: list[WorkItem], on_start: OnStart | None = None,
            on_done: OnDone | None = None, admit: Admit | None = None,
            gate: Gate | None = None) -> None:  # fmt: skip
        """Submit the jobs (all at once; with ``admit`` or ``gate``, each only as a slot of
        the cluster frees, so the callbacks decide with the results so far) and tell each
        one's outcome as its future resolves."""
        if not tasks:
            return
        steered = admit is not None or gate is not None
        run = _DaskRun(self, tasks, self.slots(tasks) if steered else len(tasks),
                       on_start, on_done, admit, gate)  # fmt: skip
        try:
            run.loop()
        finally:
            run.stop()
        if run.lost:
            raise RuntimeError(
                f"{len(run.lost)} jobs got no result (the Dask scheduler dropped them, e.g. the "
                "connection to it was lost); rerun the same command to resume"
            )

    def _outcome(self, task: WorkItem, fut, starts: int) -> Outcome | None:
        """The job's outcome from its finished future; ``starts``: Dask attempts that began
        (more than one when a worker died mid-job). None when the task was cancelled."""
        for stale in WRITTEN_BACK:
            (task.job_dir / stale).unlink(missing_ok=True)
        try:
            spec = json.loads((task.job_dir / "spec.json").read_text())
        except (OSError, ValueError):
            spec = {}
        grace = self.limits.for_job(spec).grace(task.budget_s)
        try:
            res = fut.result()
        except (FutureCancelledError, KeyboardInterrupt):
            return None
        except KilledWorker as e:
            return Outcome(
                status="failed", wall=0.0, grace_s=grace, error_type="WorkerLost",
                error_message=f"the Dask worker running this job died on every attempt: {e}",
                attempts=starts, infrastructure=True,
            )  # fmt: skip
        except Exception as e:
            if fut.status == "cancelled":
                return None
            return Outcome(
                status="failed", wall=0.0, grace_s=grace, error_type="DaskTaskError",
                error_message=f"{type(e).__name__}: {e}"[:2000], attempts=starts,
                infrastructure=True,
            )  # fmt: skip
        files = res["files"]
        for name in WRITTEN_BACK:
            if name in files:
                tmp = task.job_dir / f"{name}.tmp"
                tmp.write_bytes(files[name])
                tmp.replace(task.job_dir / name)
        with open(task.job_dir / "worker.log", "ab") as log:
            log.write(f"--- attempt on Dask worker host {res['host']} ---\n".encode())
            log.write(files.get("worker.log", b""))
        outcome = Outcome(**res["outcome"])
        outcome.attempts += starts - 1  # the node's own retries, plus lost Dask workers
        info = outcome.worker.setdefault("info", {})
        if isinstance(info, dict):
            info["host"] = res["host"]
        return outcome

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()
                reap_orphans()  # a LocalCluster's nodes are this machine


class _DaskRun:
    """One call of :meth:`DaskExecutor.run`: the jobs not yet submitted, the futures not yet
    resolved, and the start events the nodes send."""

    def __init__(self, ex: DaskExecutor, tasks: list[WorkItem], capacity: int, on_start,
                 on_done, admit, gate):  # fmt: skip
        self.ex, self.client, self.capacity = ex, ex.client, capacity
        self.on_start, self.on_done, self.admit, self.gate = on_start, on_done, admit, gate
        self.token = uuid.uuid4().hex[:8]
        self.events: queue.SimpleQueue = queue.SimpleQueue()
        self.client.subscribe_topic(EVENT_TOPIC, lambda ev: self.events.put(("start", ev[1])))
        self.waiting = deque(tasks)
        self.blobs: dict = {}  # (data path, folds path) -> the future holding their bytes
        self.by_key: dict[str, WorkItem] = {}
        self.pending: dict = {}  # key -> future not yet resolved
        self.starts: Counter = Counter()
        self.lost: list[str] = []

    def submit_ready(self) -> None:
        while self.waiting and len(self.pending) < self.capacity:
            t = self.waiting[0]
            if self.gate is not None and not self.gate(len(self.pending)):
                return
            self.waiting.popleft()
            if self.admit is not None and not self.admit(t):
                continue  # never starts (its framework left the race)
            self.submit(t)

    def submit(self, t: WorkItem) -> None:
        spec = json.loads((t.job_dir / "spec.json").read_text())
        src = (spec["data_path"], spec["folds_path"])
        if src not in self.blobs:
            files = {Path(f).name: Path(f).read_bytes() for f in src}
            self.blobs[src] = self.client.submit(
                _data, files, key=f"automl-bench-data-{self.token}-{len(self.blobs)}", pure=False
            )
        key = f"automl-bench-job-{t.job_id}-{self.token}"
        payload = {
            "spec": spec, "job_id": t.job_id, "key": key, "token": t.token or self.token,
            "budget_s": t.budget_s,
            "cores": t.cores, "memory_mb": t.memory_mb, "python": _portable_python(t),
        }  # fmt: skip
        fut = self.client.submit(
            run_job, payload, self.blobs[src], self.ex.limits, key=key, pure=False,
            resources={"cores": t.cores, "memory_mb": t.memory_mb},
        )  # fmt: skip
        fut.add_done_callback(lambda f: self.events.put(("done", f)))
        self.by_key[key] = t
        self.pending[key] = fut

    def loop(self) -> None:
        while self.waiting or self.pending:
            self.submit_ready()
            try:
                kind, item = self.events.get(timeout=1.0 if self.pending else 0.2)
            except queue.Empty:  # safety net: a completion whose callback we missed
                done = [f for f in self.pending.values() if f.done()]
                if not done:
                    continue
                kind, item = "done", done[0]
            if kind == "start":
                self.started(item)
            else:
                self.resolved(item)

    def started(self, ev) -> None:
        key = ev.get("key") if isinstance(ev, dict) else None
        if key in self.pending:
            self.starts[key] += 1
            if self.starts[key] == 1 and self.on_start:
                self.on_start(self.by_key[key])

    def resolved(self, fut) -> None:
        if fut.key not in self.pending:  # already handled: a row is written once
            return
        del self.pending[fut.key]
        task = self.by_key[fut.key]
        self.ex.attempts[task.job_id] = max(1, self.starts[fut.key])
        outcome = self.ex._outcome(task, fut, self.ex.attempts[task.job_id])
        if outcome is None:
            self.lost.append(task.job_id)
        elif self.on_done:
            self.on_done(task, outcome)

    def stop(self) -> None:
        self.client.unsubscribe_topic(EVENT_TOPIC)
        if self.pending:  # interrupted: running tasks see the cancel and kill their jobs
            self.client.cancel(list(self.pending.values()), force=True)
        self.client.cancel(list(self.blobs.values()), force=True)
        try:
            self.client.run(reap_orphans)
        except Exception:
            pass


def _portable_python(task: WorkItem) -> str | None:
    """None (the node's own interpreter) unless the job asks for another one explicitly."""
    import sys

    return None if task.python == sys.executable else task.python

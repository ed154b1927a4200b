"""H2O's JVM and its REST interface as the H2O adapter uses them: a free port pair, the
client's connection, stopping the server, the state of H2O's jobs and the cancel at the
deadline (a thread that cancels the AutoML run and every model it is still building)."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time

from automl_bench_adapters.base import AdapterError


def free_port_pair(host: str = "127.0.0.1") -> int:
    """A port p with p and p+1 both free (H2O uses p for REST and p+1 internally)."""
    for _ in range(50):
        with socket.socket() as a:
            a.bind((host, 0))
            port = a.getsockname()[1]
            if port >= 65535:
                continue
            try:
                with socket.socket() as b:
                    b.bind((host, port + 1))
            except OSError:
                continue
            return port
    raise AdapterError("no free port pair found for the H2O JVM")


def jvm_args(cores: int) -> list[str]:
    """JVM options that size the JVM's own threads (garbage collector, compilers) to the
    job's cores rather than to every CPU of the machine."""
    return [f"-XX:ActiveProcessorCount={max(1, int(cores))}"]


@contextlib.contextmanager
def started_on(cores: int):
    """Within the block the calling thread runs on ``cores`` of the CPUs it may use, so the
    JVM it starts inherits that set: every JVM thread, its JIT compilers included (they kept a
    second core busy beside H2O's ``nthreads=1`` pool: CPU share 1.65), then shares the job's
    cores. Where a host has already pinned the job to its cores this changes nothing; the
    thread's own set comes back after."""
    if not hasattr(os, "sched_setaffinity"):  # not Linux: the OS offers no such setting
        yield
        return
    allowed = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, allowed[: max(1, int(cores))])
    try:
        yield
    finally:
        os.sched_setaffinity(0, allowed)


# H2O's client prints this notice on every connect once its JVM build is more than 100
# days old (the JVM decides; h2o offers no setting to turn it off). A benchmark pins its
# backend's version on purpose, so the notice is dropped; anything else h2o prints stays.
OLD_BUILD_NOTICE = ("Warning: Your H2O cluster version is (", "Please download and install the "
                    "latest version from: https://h2o-release.s3.amazonaws.com")  # fmt: skip


def connect(h2o, server) -> None:
    """``h2o.connect`` to our JVM, without the client's build-age notice."""
    import io

    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            h2o.connect(server=server, verbose=False)
    finally:
        kept = [line for line in printed.getvalue().splitlines()
                if not line.startswith(OLD_BUILD_NOTICE)]  # fmt: skip
        if kept:
            print("\n".join(kept), flush=True)


def stop_server(server, timeout: float = 3.0) -> None:
    """Stop an H2OLocalServer's JVM and wait until its process is gone."""
    proc = getattr(server, "_process", None)
    if proc is None:
        return
    import psutil

    try:
        jvm = psutil.Process(proc.pid)
    except psutil.NoSuchProcess:
        proc.poll()
        return
    if proc.poll() is None:
        proc.terminate()  # nothing in the JVM needs saving: a short grace, then SIGKILL
        try:
            proc.wait(timeout)
        except Exception:
            proc.kill()
            proc.wait(30)
    try:  # whatever it started (it starts nothing today) goes too
        for child in jvm.children(recursive=True):
            child.kill()
    except psutil.NoSuchProcess:
        pass
    server._process = None


def job_states() -> dict[str, str]:
    """Status of every job the JVM knows, by the key of what it builds (a model's id)."""
    import h2o

    states = {}
    for job in h2o.api("GET /3/Jobs").get("jobs") or []:
        dest = (job.get("dest") or {}).get("name")
        if dest:
            states[dest] = job.get("status", "")
    return states


def _cancel(job_key: str) -> None:
    import h2o

    try:  # returns when the job has stopped (H2O waits for it), or raises if it has ended
        h2o.api(f"POST /3/Jobs/{job_key}/cancel")
    except Exception:
        pass


class CancelAt(threading.Thread):
    """Cancels an H2O AutoML run at ``end`` (monotonic clock) if it is still running.

    Cancelling the AutoML job alone does not stop the model it is building: H2O lets a
    stacked ensemble's metalearner (cross-validated, one GLM per fold, each costly on many
    classes) run to its end, 8-19 s on a 100-class task. So every job still running in the
    JVM (this adapter's own) is cancelled, each from its own thread since H2O answers a cancel
    only once the job has stopped; a model builder stops at its next iteration.
    """

    def __init__(self, aml, end: float):
        super().__init__(daemon=True, name="h2o-cancel-at-deadline")
        self.aml, self.end = aml, end
        self.fired = False
        self._halt = threading.Event()

    def stop(self) -> None:
        self._halt.set()
        self.join(1)  # it only sends cancels from threads of their own: never long

    def run(self) -> None:

        import h2o

        while not self._halt.wait(min(0.2, max(0.0, self.end - time.monotonic()))):
            if time.monotonic() < self.end:
                continue
            job = getattr(self.aml, "_job", None)
            if job is None:
                continue
            self.fired = True  # before the call: the client may see the cancel first
            keys = [job.job_key]
            try:
                for j in h2o.api("GET /3/Jobs").get("jobs") or []:
                    key = (j.get("key") or {}).get("name")
                    if key and key != job.job_key and j.get("status") in ("RUNNING", "CREATED"):
                        keys.append(key)
            except Exception:
                pass
            for key in reversed(keys):  # the models in training first, then the AutoML run
                threading.Thread(target=_cancel, args=(key,), daemon=True).start()
            return

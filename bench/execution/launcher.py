"""The launcher's server: the process that starts job workers, a warm fork server that also
supervises every job's processes. Its client, the driver's handle on it, is
:mod:`automl_bench.execution.launcher_client`.

The executor starts one launcher per run
(``python -m automl_bench.execution.launcher DRIVER_PID [--cold] [MODULE...]``)
and talks to it with JSON lines: ``start`` requests on stdin; ``ready``, ``started``,
``spawn_failed`` and ``exited`` events on stdout (with CLOCK_MONOTONIC times, which the
driver shares, so a job's end is when it was reaped, not when the driver got to it).

Why a separate process:
- Speed. The launcher imports numpy, pandas, pyarrow, the run's adapter modules and what
  their jobs import (their ``warm_imports``: scikit-learn for most, nothing more for the
  constant predictor) once; each job is a ``fork()`` of it, so a job does not pay ~1.5 s of
  interpreter start and imports. Jobs whose interpreter is not this one (``WorkItem.python``, e.g. an
  adapter's own virtual environment) are forked the same way and then ``exec`` that
  interpreter with ``-m automl_bench.execution.worker JOB_DIR`` (the cold path: files in, files out).
- No orphans, by operating-system mechanisms rather than best effort:
  * every worker calls ``setsid()`` (its own session and process group) and
    ``PR_SET_PDEATHSIG(SIGKILL)``: it dies with the launcher, whatever kills the launcher;
  * every worker is a child subreaper (``PR_SET_CHILD_SUBREAPER``), so a grandchild whose
    parent exits (H2O's JVM is started with ``setsid``) is re-parented to the worker and
    stays in the job's tree while the job runs;
  * the launcher is a subreaper too: what a finished worker leaves behind is re-parented to
    it, and any child of the launcher that is not a live worker is killed at once;
  * the launcher runs in its own session, so a signal to the driver's process group does
    not reach it. When the driver dies (even by SIGKILL) its end of the launcher's stdin
    closes; the launcher then SIGKILLs every process below it and exits. A parent-death
    signal (SIGTERM) is a second trigger for the same cleanup.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import sys
import time

from automl_bench import timeline
from automl_bench.execution.process_control import (
    become_subreaper,
    die_with_parent,
    pin,
    set_name,
)

# what every job imports; scikit-learn is not among them: an adapter that needs it says so
# (its class's ``warm_imports``), and the launcher loads those once it knows the run's adapters
WARM_MODULES = ("numpy", "pandas", "pyarrow.parquet", "threadpoolctl", "joblib", "automl_bench_adapters.base",
                "automl_bench.execution.worker", "automl_bench.execution.inference",
                "automl_bench.execution.predictions_file")  # fmt: skip


# -- server (the launcher process) -------------------------------------------------------


class _Server:
    def __init__(self, driver_pid: int):
        self.driver_pid = driver_pid
        self.pid = os.getpid()
        self.workers: dict[int, str] = {}  # pid -> key
        self.buf = b""
        self.stopping = False

    def emit(self, event: dict) -> None:
        data = (json.dumps(event) + "\n").encode()
        while data:
            data = data[os.write(1, data) :]

    # signals
    def install_signals(self) -> int:
        def stop(signum, frame):
            # a flag, not an exception: the driver's death brings EOF and this SIGTERM at once,
            # and an exception raised as the serve loop ended on EOF landed before the cleanup
            # could begin, so the launcher exited leaving its workers' children alive
            # (re-parented to init); the wakeup fd below ends the loop's wait
            self.stopping = True

        for s in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, stop)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
        r, w = os.pipe()
        os.set_blocking(w, False)
        os.set_blocking(r, False)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(w, warn_on_full_buffer=False)
        return r

    def warm_up(self, modules: list[str], exercise: bool = True) -> dict:
        """Import ``modules``: module names, or ``module:Class`` for an adapter, whose
        ``warm_imports`` (what each of its jobs imports) are loaded too."""
        import importlib

        t0 = time.perf_counter()
        failed = {}
        for name in modules:
            module, _, cls = name.partition(":")
            try:
                imported = importlib.import_module(module)
                adapter = getattr(imported, cls) if cls else None
                own_env = getattr(getattr(adapter, "requirements", None), "environment", None)
                # an adapter with its own environment runs its jobs in another interpreter
                extra = () if own_env else getattr(adapter, "warm_imports", ())
                for more in extra:
                    importlib.import_module(more)
            except Exception as e:  # a module that cannot load here fails in its job instead
                failed[name] = f"{type(e).__name__}: {e}"
        try:
            if exercise:
                _exercise_data_path()
        except Exception as e:
            failed["data path"] = f"{type(e).__name__}: {e}"
        return {"import_s": round(time.perf_counter() - t0, 3), "preload_failed": failed}

    def serve(self, preload: list[str], warm: bool = True) -> None:
        become_subreaper()
        die_with_parent(signal.SIGTERM, self.driver_pid)
        wake = self.install_signals()
        info = self.warm_up([*WARM_MODULES, *preload]) if warm else {"import_s": 0.0}
        timeline.mark("launcher ready")
        self.emit({"event": "ready", "pid": self.pid, **info})
        sel = selectors.DefaultSelector()
        sel.register(0, selectors.EVENT_READ, "stdin")
        sel.register(wake, selectors.EVENT_READ, "wake")
        last_sweep = time.monotonic()
        while not self.stopping:
            for key, _ in sel.select(timeout=0.5):
                if key.data == "wake":
                    try:
                        os.read(wake, 4096)
                    except BlockingIOError:
                        pass
                else:
                    self.read_commands()
            if self.reap() or time.monotonic() - last_sweep > 0.5:
                self.sweep()
                last_sweep = time.monotonic()

    def read_commands(self) -> None:
        chunk = os.read(0, 65536)
        if not chunk:  # the driver is gone (or closed us): stop
            self.stopping = True
            return
        self.buf += chunk
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            if line.strip():
                msg = json.loads(line)
                if msg.get("op") == "start":
                    self.spawn(msg)
                elif msg.get("op") == "preload":  # the run's adapters, once known
                    self.warm_up(msg["modules"], exercise=False)
                    timeline.mark("launcher preloaded")
                elif msg.get("op") == "exit":
                    self.stopping = True

    def spawn(self, msg: dict) -> None:
        try:
            pid = os.fork()
        except OSError as e:
            self.emit({"event": "spawn_failed", "key": msg["key"], "error": f"fork: {e}"})
            return
        if pid == 0:  # the job's worker
            code = 70
            try:
                code = _child(msg, self.pid)
            except BaseException:
                import traceback

                try:
                    traceback.print_exc()
                    sys.stderr.flush()
                except Exception:
                    pass
            finally:
                os._exit(code)
        self.workers[pid] = msg["key"]
        pin(pid, msg.get("cpus"))  # before the driver hears of it (the child pins itself too)
        self.emit({"event": "started", "key": msg["key"], "pid": pid, "t": time.monotonic()})

    def reap(self) -> bool:
        """Wait for every exited child; report workers. True if a worker exited."""
        any_worker = False
        while True:
            try:
                pid, status, ru = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return any_worker
            if pid == 0:
                return any_worker
            key = self.workers.pop(pid, None)
            if key is None:
                continue  # a leftover of a finished job, already killed
            any_worker = True
            self.emit({
                "event": "exited", "key": key, "pid": pid, "t": time.monotonic(),
                "code": os.waitstatus_to_exitcode(status),
                "cpu": ru.ru_utime + ru.ru_stime, "maxrss_kb": ru.ru_maxrss,
            })  # fmt: skip

    def sweep(self) -> None:
        """Kill every child that is not a live worker: what finished jobs left behind."""
        from automl_bench.execution.proctree import descendants, proc_table

        table = proc_table()
        for p in list(table.values()):
            if p.ppid == self.pid and p.pid not in self.workers and not p.zombie:
                _kill_all([p.pid, *descendants(p.pid, table)], table)
        self.reap()

    def shutdown(self) -> None:
        """SIGKILL everything below the launcher until nothing is left (a stop signal that
        comes meanwhile only sets the flag again: it cannot interrupt this)."""
        from automl_bench.execution.proctree import descendants, proc_table

        for _ in range(500):
            table = proc_table()
            below = descendants(self.pid, table)
            for pid in self.workers:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            _kill_all(below, table)
            self.reap()
            if not below:
                return
            time.sleep(0.01)


def _exercise_data_path() -> None:
    """Run what every job runs once, on a toy frame, so the modules pandas and pyarrow import
    lazily (parquet datasets, pandas compatibility, dataframe interchange) are loaded here,
    once, instead of in every forked worker. Single-threaded: no thread pool is started
    in the process that forks."""
    import tempfile

    import numpy as np
    import pandas as pd

    from automl_bench_adapters.base import encode_labels

    df = pd.DataFrame({"x": np.arange(4.0), "c": pd.Categorical(list("abab")), "y": list("pqpq")})
    with tempfile.TemporaryDirectory(prefix="automl-bench-warm-") as d:
        path = os.path.join(d, "warm.parquet")
        df.to_parquet(path, index=False)
        back = pd.read_parquet(path, use_threads=False)
    encode_labels(back["y"])
    back.drop(columns=["y"]).iloc[[0, 1]].reset_index(drop=True).copy()


def _kill_all(pids, table) -> None:
    for pid in pids:
        p = table.get(pid)
        if p is not None and not p.zombie:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def _child(msg: dict, launcher_pid: int) -> int:
    """In the forked child: become the job's isolated worker, then run it (warm) or exec it."""
    pin(0, msg.get("cpus"))  # first: even a cold interpreter's start-up runs on its cores
    os.setsid()
    die_with_parent(signal.SIGKILL, launcher_pid)
    set_name(b"bench-worker")  # what ps -o comm / top show for a warm worker
    signal.set_wakeup_fd(-1)
    for s in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, signal.SIG_DFL)
    job_dir = msg["job_dir"]
    log = os.open(os.path.join(job_dir, "worker.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)  # never the driver's pipe: the driver must see EOF when we die
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.close(null)
    python = msg.get("python")
    if python:  # cold path: another interpreter (or cold start asked for)
        env = {**os.environ, **msg["env"]}
        for s in (signal.SIGPIPE, signal.SIGXFSZ):
            signal.signal(s, signal.SIG_DFL)  # as subprocess does before exec
        try:
            os.execve(python, [python, "-m", "automl_bench.execution.worker", job_dir], env)
        except OSError as e:
            os.write(2, f"could not start worker {python}: {e}\n".encode())
            return 127
    os.environ.update(msg["env"])
    import atexit

    from automl_bench.execution import worker

    atexit._clear()  # the launcher's exit handlers are not the job's
    sys.argv = [worker.__file__, job_dir]
    code = worker.main([job_dir], warm_cores=int(msg["cores"]))
    atexit._run_exitfuncs()  # backends shut down their servers and pools at exit
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    return code


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    server = _Server(int(argv[0]))
    cold = argv[1:2] == ["--cold"]
    try:
        server.serve(argv[2:] if cold else argv[1:], warm=not cold)
    finally:
        for _ in range(10):  # an error in the cleanup (the driver's pipe is broken): again
            try:
                server.shutdown()
                break
            except BaseException:
                continue
        # nothing is buffered (events go out with os.write); skip the finalisation of
        # numpy/pandas/sklearn, which would keep the driver waiting for a dead launcher
        os._exit(0)


if __name__ == "__main__":
    raise SystemExit(main())

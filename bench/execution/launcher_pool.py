"""Warm launchers kept across jobs by a long-lived process (a Dask worker on a cluster node).

A local run starts one launcher (:mod:`automl_bench.execution.launcher`) and closes it at the end. A Dask
worker runs one job per Dask task, so without this pool every job would pay the launcher's
start and imports (about a second). The pool lends each job a ready launcher for the job's
cores and returns it afterwards; a job never shares its launcher with a job running at the
same time (several Dask threads get one launcher each), so events need no routing.

Cleanup is as for a local run: every launcher is started by one long-lived thread of the
pool (its parent-death signal is tied to that thread, which lives as long as the process),
its stdin is a pipe from this process, and when this process dies, by any signal, the
launcher sees end of file and kills everything below it. A launcher that died, or whose
job was interrupted, is closed instead of being lent again.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

from automl_bench.execution.launcher_client import Launcher


class LauncherPool:
    def __init__(self) -> None:
        self._idle: dict[tuple[int, bool], list[Launcher]] = {}
        self._lock = threading.Lock()
        self._starter: ThreadPoolExecutor | None = None
        self.started = 0  # launchers started by this pool (for tests and benchmarks)

    def acquire(self, env: dict, cores: int, modules: list[str], warm: bool) -> Launcher:
        """A ready launcher whose thread pools are sized for ``cores``, with ``modules``
        imported (warm) or none imported (cold: it only execs other interpreters)."""
        key = (cores, warm)
        with self._lock:
            idle = self._idle.get(key, [])
            while idle:
                launcher = idle.pop()
                if not launcher.dead and launcher.proc.poll() is None:
                    break
                launcher.close()
            else:
                launcher = None
            if self._starter is None:
                self._starter = ThreadPoolExecutor(1, thread_name_prefix="automl-bench-launchers")
        if launcher is not None:
            if warm and modules and not launcher.preload(modules):
                launcher.close()
                launcher = None
            else:
                return launcher
        launcher = self._starter.submit(self._start, env, modules, warm).result()
        self.started += 1
        return launcher

    @staticmethod
    def _start(env: dict, modules: list[str], warm: bool) -> Launcher:
        # the launcher may run any job's worker: give it the whole process's CPUs, not the
        # CPUs the requesting job's thread is restricted to
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, os.sched_getaffinity(os.getpid()))
        return Launcher(env, modules, warm=warm)

    def release(self, launcher: Launcher, cores: int, reusable: bool = True) -> None:
        """Take ``launcher`` back after a job; close it unless it is healthy and idle."""
        if not reusable or launcher.dead or launcher.proc.poll() is not None:
            launcher.close()
            return
        with self._lock:
            self._idle.setdefault((cores, launcher.warm), []).append(launcher)

    def close(self) -> None:
        """Close every idle launcher (the process is shutting down)."""
        with self._lock:
            idle = [launcher for group in self._idle.values() for launcher in group]
            self._idle.clear()
        for launcher in idle:
            launcher.close()

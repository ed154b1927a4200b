"""TEST ADAPTERS THAT MISBEHAVE ON PURPOSE: they exist only to prove that the executor
enforces budgets and leaves no process behind. Registered for tests through
``AUTOML_BENCH_FRAMEWORKS=tests/misbehaving_frameworks.yaml`` (never shipped as frameworks).

Each one appends ``pid create_time`` of every process it starts to ``scratch_dir/pids.txt``,
so a test can check with psutil that none of them survived.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil

from automl_bench_adapters.base import BaseAdapter

# a process that ignores SIGTERM, leaves the job's session and sleeps (like a stubborn server)
STUBBORN = (
    "import os, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); os.setsid(); "
    "time.sleep(3600)"
)
# a classic daemon: fork, setsid, fork again, the middle process exits (re-parents the last)
DAEMON = (
    "import os, sys, time\n"
    "if os.fork(): sys.exit(0)\n"
    "os.setsid()\n"
    "if os.fork(): sys.exit(0)\n"
    "open(sys.argv[1], 'a').write(f'{os.getpid()} {__import__(\"psutil\").Process().create_time()}\\n')\n"
    "time.sleep(3600)\n"
)
BUSY_JAVA = """
public class Busy {
    public static void main(String[] a) throws Exception {
        int n = Integer.parseInt(a[0]);
        long end = System.currentTimeMillis() + (long) (Double.parseDouble(a[1]) * 1000);
        System.out.println(Runtime.getRuntime().availableProcessors());
        System.out.flush();
        Thread[] ts = new Thread[n];
        for (int i = 0; i < n; i++) {
            ts[i] = new Thread(() -> { long x = 0; while (System.currentTimeMillis() < end) x++; });
            ts[i].start();
        }
        for (Thread t : ts) t.join();
    }
}
"""


class _Recorder(BaseAdapter):
    """Constant predictor that records the pids it starts."""

    def _record(self, pid: int) -> None:
        Path(self.scratch_dir).mkdir(parents=True, exist_ok=True)
        with open(Path(self.scratch_dir) / "pids.txt", "a") as f:
            f.write(f"{pid} {psutil.Process(pid).create_time()}\n")

    def _spawn(self, code: str, *args) -> subprocess.Popen:
        p = subprocess.Popen([sys.executable, "-c", code, *map(str, args)])
        self._record(p.pid)
        return p

    def _constant(self, y):
        counts = np.bincount(y, minlength=len(self.classes_))
        self.prior_ = counts / counts.sum()

    def _fit(self, X, y):
        self._record(os.getpid())
        self._constant(y)
        self._misbehave()

    def _misbehave(self) -> None:
        pass

    def _predict_proba(self, X):
        return np.tile(self.prior_, (len(X), 1))


class SleepsPastBudget(_Recorder):
    """Sleeps an hour whatever its budget: must end as ``timeout``."""

    def _misbehave(self):
        time.sleep(3600)


class IgnoresSigterm(_Recorder):
    """Ignores SIGTERM, and starts a child that ignores it too and leaves the job's session;
    then sleeps past its budget. Only SIGKILL of the whole tree ends it: ``timeout``."""

    def _misbehave(self):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        self._spawn(STUBBORN)
        time.sleep(3600)


class EatsMemory(_Recorder):
    """Allocates (and touches) 20 MB every 20 ms, up to 8 GB: must end as ``memory``."""

    def _misbehave(self):
        hoard = []
        for _ in range(400):
            hoard.append(np.ones(20 * 2**20 // 8))
            time.sleep(0.02)


class Aborts(_Recorder):
    """Starts a sleeping child, then aborts (SIGABRT): ``failed`` with exit signal SIGABRT."""

    def _misbehave(self):
        self._spawn("import time; time.sleep(3600)")
        os.abort()


class SpawnsThreads(_Recorder):
    """Asks for every core the machine has, several times over: widens its CPU affinity to
    all CPUs, then starts a JVM with 4 busy threads
    per CPU, then 4 Python threads per CPU hashing (the GIL is released) and 2 busy
    processes per CPU, all for ``seconds``. Pinned to one core, the tree's CPU time stays
    within its wall time."""

    seconds = 2.0

    def _setup(self, X, y):
        """Compile the JVM's busy loop before the budget's clock starts (compiling on a busy
        core takes seconds that would otherwise come out of the fit, now that a fit running
        past budget x 1.1 is stopped as a timeout)."""
        self.java_cmd_ = None
        if not _java():
            return
        import shutil

        src = Path(self.scratch_dir) / "Busy.java"
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_text(BUSY_JAVA)
        if shutil.which("javac"):
            subprocess.run(["javac", "-d", str(src.parent), str(src)], check=True)
            self.java_cmd_ = ["java", "-cp", str(src.parent), "Busy"]
        else:  # a JRE only: the source launcher compiles it as it starts
            self.java_cmd_ = ["java", str(src)]

    def _misbehave(self):
        n = os.cpu_count() or 1
        # busy for at most a third of the time it has left (setup past its allowance on a
        # busy machine comes out of the budget): it must misbehave, not overrun
        seconds = min(self.seconds, max(0.3, self.remaining() / 3))
        report = {"cpu_count": n, "threads": 4 * n, "processes": 2 * n}
        if hasattr(os, "sched_setaffinity"):  # the bluntest way to ask for every core
            os.sched_setaffinity(0, range(n))
            report["widened_affinity_to"] = sorted(os.sched_getaffinity(0))
        java = None
        if self.java_cmd_:  # started first: a JVM takes a while to start on a busy core
            java = subprocess.Popen([*self.java_cmd_, str(4 * n), str(seconds)],
                                    stdout=subprocess.PIPE)  # fmt: skip
            self._record(java.pid)
            report["java_available_processors"] = int(java.stdout.readline())
            report["java_threads"] = 4 * n
        end = time.monotonic() + seconds

        def hash_until_end():
            block = b"x" * 2**20
            while time.monotonic() < end:
                hashlib.sha256(block).digest()

        busy = "import sys, time\nend = time.monotonic() + float(sys.argv[1])\nwhile time.monotonic() < end: pass"
        procs = [self._spawn(busy, seconds) for _ in range(2 * n)]
        threads = [threading.Thread(target=hash_until_end) for _ in range(4 * n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for p in procs:
            p.wait()
        if java is not None:
            java.wait()
        (Path(self.scratch_dir) / "report.json").write_text(json.dumps(report))


def _java() -> bool:
    import shutil

    return shutil.which("java") is not None


class LeavesDaemon(_Recorder):
    """Starts a daemon (double fork + setsid) and returns normally: ``ok``, and the daemon
    must not outlive the job."""

    def _misbehave(self):
        pids = Path(self.scratch_dir) / "pids.txt"
        self._spawn(DAEMON, pids).wait()
        deadline = time.monotonic() + 20
        while len(pids.read_text().splitlines()) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)  # until the daemon has recorded itself


class Sleeps(_Recorder):
    """Sleeps ``seconds`` (default: its whole budget), optionally with a grandchild that left
    the session; then predicts the prior (taking ``predict_seconds``): ``ok``. For makespan,
    crash-resume and predict-allowance tests."""

    def __init__(self, time_limit=60.0, cores=1, memory_mb=None, seed=0, scratch_dir=None,
                 seconds=None, grandchild=False, predict_seconds=0.0):  # fmt: skip
        super().__init__(time_limit, cores, memory_mb, seed, scratch_dir)
        self.seconds = seconds
        self.grandchild = grandchild
        self.predict_seconds = predict_seconds

    def _misbehave(self):
        if self.grandchild:
            self._spawn(STUBBORN)
        time.sleep(self.time_limit if self.seconds is None else self.seconds)

    def _predict_proba(self, X):
        time.sleep(self.predict_seconds)
        return super()._predict_proba(X)


class KilledByOsOnce(_Recorder):
    """SIGKILLs itself on its first attempt, as the kernel's OOM killer would (we cannot make
    the real one fire safely on a shared machine): an infrastructure failure, retried."""

    def _misbehave(self):
        marker = Path(self.scratch_dir) / "first-attempt"
        if not marker.exists():
            marker.write_text("killed")
            os.kill(os.getpid(), signal.SIGKILL)


class AlwaysKilledByOs(_Recorder):
    """SIGKILLs itself on every attempt: retried, then recorded as failed (KilledByOS)."""

    def _misbehave(self):
        os.kill(os.getpid(), signal.SIGKILL)


class Raises(_Recorder):
    """A framework error: a result (``failed``), never retried."""

    def _misbehave(self):
        raise RuntimeError("this test adapter always fails")


class SlowSetup(_Recorder):
    """Sleeps ``setup_seconds`` in its setup step (as a slow server start would), then fits
    the class prior, sleeping ``fit_share`` of the time limit it is left with."""

    def __init__(self, time_limit=60.0, cores=1, memory_mb=None, seed=0, scratch_dir=None,
                 setup_seconds=5.0, fit_share=0.0):  # fmt: skip
        super().__init__(time_limit, cores, memory_mb, seed, scratch_dir)
        self.setup_seconds = setup_seconds
        self.fit_share = fit_share

    def _setup(self, X, y):
        time.sleep(self.setup_seconds)

    def _misbehave(self):
        self.search_budget_s_ = float(self.time_limit)
        time.sleep(self.fit_share * float(self.time_limit))

"""Contention made visible: the CPU share each job got, the machine's load when it started,
and ``run --exclusive``, which waits before each job until the machine is quiet.

``cpu_share = cpu_time / (wall x cores)``: 1.0 when the job's processes kept all of its cores
busy for its whole wall time. A CPU-bound backend that got much less (below
``LOW_SHARE``) shared its cores with other work, so its wall-clock budget bought less search
than on a quiet machine; the report flags such jobs and counts them.
"""

from __future__ import annotations

import math
import os
import time

import psutil

LOW_SHARE = 0.8  # below this a CPU-bound job is flagged as contended
QUIET_BUSY = 0.10  # the machine is quiet when others use less than this share of its CPUs
WINDOW_S = 1.0  # CPU use is measured over this window


def cpu_share(cpu_time, wall, cores) -> float | None:
    """CPU time / (wall x cores), or None when it cannot be computed (no wall time, or no
    process ran: a task that could not be loaded, a backend that is not installed)."""
    try:
        cpu, w, c = float(cpu_time), float(wall), float(cores)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(cpu) and math.isfinite(w)) or w <= 0 or c <= 0 or cpu <= 0:
        return None
    return round(cpu / (w * c), 4)


def load_now() -> float | None:
    """The machine's 1-minute load average (runnable processes), or None where unknown."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def is_cpu_bound(framework: str) -> bool:
    """Whether a framework variant's backend keeps its cores busy while it runs (adapters
    that mostly wait, e.g. on a remote service, declare ``cpu_bound = False``)."""
    from automl_bench.planning import registry

    try:
        return bool(registry.get(framework).adapter_class().cpu_bound)  # BaseAdapter's: True
    except Exception:  # unknown, not importable here, or not a BaseAdapter: CPU-bound
        return True


def contended(df):
    """Rows of CPU-bound frameworks whose ``cpu_share`` is below ``LOW_SHARE`` (a DataFrame
    with framework, status, cpu_share; rows without a share are not judged)."""
    import pandas as pd

    if df is None or df.empty or "cpu_share" not in df.columns:
        return df.iloc[0:0] if df is not None else None
    share = pd.to_numeric(df["cpu_share"], errors="coerce")
    bound = df["framework"].map({f: is_cpu_bound(f) for f in df["framework"].unique()})
    mask = share.notna() & (share < LOW_SHARE) & bound.astype(bool)
    if "status" in df.columns:
        mask &= df["status"].isin(["ok", "timeout", "memory", "failed"])
    return df[mask]


def summary(df) -> str | None:
    """One sentence for the report, or None when no job is flagged."""
    bad = contended(df)
    if bad is None or bad.empty:
        return None
    judged = int(df["cpu_share"].notna().sum()) if "cpu_share" in df.columns else len(df)
    share = bad["cpu_share"].astype(float)
    text = (f"{len(bad)} of {judged} jobs of CPU-bound backends got less than {LOW_SHARE:.0%} "
            f"of their cores (CPU share median {share.median():.2f}, min {share.min():.2f}): "
            "the machine was shared, so their wall-clock budget bought less search than on a "
            "quiet machine")  # fmt: skip
    if "load_at_start" in bad.columns:
        load = bad["load_at_start"].astype(float).dropna()
        if len(load):
            text += f"; load average at their start: median {load.median():.1f}"
    return text + ". Rerun them with `run --exclusive` on a quiet machine for comparable timings."


class QuietGate:
    """Before each job: is the machine quiet? Others' CPU use (the machine's busy CPU time
    less this run's own processes') over the last ``WINDOW_S`` must be below ``QUIET_BUSY``
    of the CPUs. Never blocks for long: the executor asks again on its next tick, so running
    jobs stay watched. After ``max_wait_s`` of waiting for one job it lets the job run."""

    def __init__(self, max_wait_s: float = 600.0, console=None, busy: float = QUIET_BUSY):
        self.max_wait_s, self.console, self.busy = max_wait_s, console, busy
        self.n_cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)  # fmt: skip
        self.waiting_since: float | None = None
        self.last: tuple[float, float, float] | None = None
        self.others = 0.0
        self.waits: list[float] = []

    def _ours(self) -> float:
        me = psutil.Process()
        total = sum(me.cpu_times()[:2])
        for c in me.children(recursive=True):
            try:
                total += sum(c.cpu_times()[:2])
            except psutil.Error:
                pass
        return total

    def _sample(self) -> tuple[float, float, float]:
        t = psutil.cpu_times()
        busy = sum(t) - t.idle - getattr(t, "iowait", 0.0)
        return time.monotonic(), busy, self._ours()

    def measure(self, block: bool = True) -> float | None:
        """Others' CPU use over the last window, as a share of this machine's CPUs (None:
        the window is not over yet and ``block`` is false)."""
        now = self._sample()
        if self.last is None or now[0] - self.last[0] < WINDOW_S:
            if self.last is None:
                self.last = now
            if not block:
                return None
            time.sleep(max(0.0, WINDOW_S - (now[0] - self.last[0])))
            now = self._sample()
        dt = max(now[0] - self.last[0], 1e-6)
        ours = max(0.0, now[2] - self.last[2])
        others = max(0.0, (now[1] - self.last[1]) - ours) / dt / self.n_cpus
        self.last, self.others = now, others
        return others

    def __call__(self, running: int = 0) -> bool:
        """True when the next job may start."""
        if self.waiting_since is None:
            self.waiting_since = time.monotonic()
            self.last = None
        others = self.measure(block=not running)  # jobs running: do not stall their watch
        if others is None:
            return False
        waited = time.monotonic() - self.waiting_since
        if others < self.busy:
            self._done(waited, None)
            return True
        if waited >= self.max_wait_s:
            self._done(waited, others)
            return True
        if self.console is not None and not getattr(self, "_said", False):
            self._said = True
            self.console.print(
                f"--exclusive: waiting for the machine to be quiet (other processes use "
                f"{others:.0%} of its {self.n_cpus} CPUs; waiting for < {self.busy:.0%}, at "
                f"most {self.max_wait_s:g} s per job)",
                markup=False, highlight=False,
            )  # fmt: skip
        return False

    def _done(self, waited: float, others: float | None) -> None:
        if self.console is not None and getattr(self, "_said", False):
            msg = (f"--exclusive: machine quiet after {waited:.1f} s" if others is None else
                   f"--exclusive: still busy after {waited:.0f} s ({others:.0%} of the CPUs "
                   "used by other processes); running the job anyway")  # fmt: skip
            self.console.print(msg, markup=False, highlight=False)
        self.waits.append(waited)
        self.waiting_since, self._said = None, False

"""A job's process tree: measure it (RSS, CPU time) and kill all of it.

The worker runs as leader of its own process group (session). Children that move to a new
group (some launchers setsid their servers) are still found by walking the tree from the
leader, and are remembered, so a kill reaches them after the leader is gone.
"""

from __future__ import annotations

import os
import signal
import time

import psutil


class ProcessTree:
    def __init__(self, pid: int):
        self.pid = pid
        self.pgid = pid  # the worker is started with start_new_session=True
        self.known: dict[int, psutil.Process] = {}
        self.cpu_by_pid: dict[int, float] = {}
        self.peak_rss = 0
        try:
            self.known[pid] = psutil.Process(pid)
        except psutil.NoSuchProcess:
            pass

    def _refresh(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self.pid)
            for child in root.children(recursive=True):
                self.known.setdefault(child.pid, child)
        except psutil.NoSuchProcess:
            pass
        return [p for p in self.known.values() if _alive(p)]

    def sample(self) -> int:
        """Current RSS of the whole tree in bytes; updates peak RSS and CPU time."""
        rss = 0
        for p in self._refresh():
            try:
                with p.oneshot():
                    rss += p.memory_info().rss
                    t = p.cpu_times()
                    self.cpu_by_pid[p.pid] = t.user + t.system + t.children_user + t.children_system
            except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
                continue
        self.peak_rss = max(self.peak_rss, rss)
        return rss

    @property
    def cpu_time(self) -> float:
        return sum(self.cpu_by_pid.values())

    def kill(self, grace: float = 2.0) -> None:
        """SIGTERM the group and every known member, then SIGKILL whatever is left."""
        self._refresh()
        self._signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and self.alive():
            time.sleep(0.05)
        self._signal(signal.SIGKILL)

    def _signal(self, sig) -> None:
        try:
            os.killpg(self.pgid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        for p in list(self.known.values()):
            try:
                p.send_signal(sig)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass

    def alive(self) -> list[psutil.Process]:
        """Members still running (zombies awaiting their parent's wait do not count)."""
        return [p for p in self.known.values() if _alive(p)]


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False

"""A job's process tree: find every member, measure it (RSS, CPU time), kill all of it.

Membership of a job's tree, re-read on every sample from one scan of the process table:
- the worker and its descendants (the worker is a child subreaper, so a grandchild whose
  parent exits is re-parented to the worker and stays in the tree);
- every process in the worker's session, even one re-parented elsewhere;
- every process ever seen in the tree (remembered by pid and start time, so a process that
  left with ``setsid`` is still killed, and a recycled pid is not).

On Linux one pass over ``/proc/*/stat`` gives parent, session, CPU time and RSS of every
process, so sampling all running jobs costs one scan per tick; elsewhere psutil is used.
"""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass

import psutil

_LINUX_PROC = sys.platform.startswith("linux") and os.path.isdir("/proc/self")
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    sid: int
    start: float  # start time in clock ticks since boot (Linux) or epoch seconds: identity only
    cpu: float  # own user + system seconds (not counting children)
    rss: int  # bytes
    zombie: bool


def _read_stat(pid: int) -> Proc | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    # the command name (field 2) may contain spaces or parentheses: split after the last ')'
    rest = data[data.rfind(b")") + 2 :].split()
    # rest[0] is field 3 (state); field n is rest[n - 3]
    return Proc(
        pid=pid,
        ppid=int(rest[1]),
        sid=int(rest[3]),
        start=float(rest[19]),
        cpu=(int(rest[11]) + int(rest[12])) / _TICK,
        rss=int(rest[21]) * _PAGE,
        zombie=rest[0] in (b"Z", b"X"),
    )


def proc_table() -> dict[int, Proc]:
    """A snapshot of every process on the machine, keyed by pid."""
    table: dict[int, Proc] = {}
    if _LINUX_PROC:
        for name in os.listdir("/proc"):
            if name.isdigit():
                p = _read_stat(int(name))
                if p is not None:
                    table[p.pid] = p
        return table
    attrs = ["pid", "ppid", "create_time", "cpu_times", "memory_info", "status"]
    for p in psutil.process_iter(attrs):
        i = p.info
        if i["cpu_times"] is None or i["memory_info"] is None:
            continue
        try:
            sid = os.getsid(i["pid"])
        except OSError:
            sid = -1
        table[i["pid"]] = Proc(
            i["pid"], i["ppid"] or 0, sid, i["create_time"],
            i["cpu_times"].user + i["cpu_times"].system, i["memory_info"].rss,
            i["status"] == psutil.STATUS_ZOMBIE,
        )  # fmt: skip
    return table


def _pss(pid: int, fallback: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return fallback


def descendants(root: int, table: dict[int, Proc]) -> list[int]:
    children: dict[int, list[int]] = {}
    for p in table.values():
        children.setdefault(p.ppid, []).append(p.pid)
    out, stack = [], [root]
    while stack:
        for c in children.get(stack.pop(), ()):
            out.append(c)
            stack.append(c)
    return out


def signal_pids(members: dict[int, float], sig: int, table: dict[int, Proc] | None = None) -> None:
    """Send ``sig`` to each (pid, start) still alive with the same start time."""
    table = proc_table() if table is None else table
    for pid, start in members.items():
        p = table.get(pid)
        if p is not None and p.start == start and not p.zombie:
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass


class ProcessTree:
    """The process tree of one job, rooted at its worker (a session leader)."""

    def __init__(self, pid: int, table: dict[int, Proc] | None = None):
        self.pid = pid
        table = proc_table() if table is None else table
        root = table.get(pid)
        self.root_start = root.start if root else None
        self.members: dict[int, float] = {pid: root.start} if root else {}
        self.cpu_by_member: dict[tuple[int, float], float] = {}
        self.peak_rss = 0
        self.rss = 0

    def _collect(self, table: dict[int, Proc]) -> list[Proc]:
        root = table.get(self.pid)
        if root is not None and self.root_start is None:
            self.root_start = root.start
            self.members[self.pid] = root.start
        rooted = root is not None and root.start == self.root_start
        found = descendants(self.pid, table) if rooted else []
        # same session (the worker is its leader), started no earlier than the worker; not
        # when the worker's pid now belongs to another process (a recycled pid)
        if self.root_start is not None and (root is None or rooted):
            found += [
                p.pid for p in table.values()
                if p.sid == self.pid and p.start >= self.root_start
            ]  # fmt: skip
        for pid in found:
            p = table.get(pid)
            if p is not None:
                self.members.setdefault(pid, p.start)
        live = []
        for pid, start in self.members.items():
            p = table.get(pid)
            if p is not None and p.start == start:
                live.append(p)
        return live

    def sample(self, table: dict[int, Proc] | None = None) -> int:
        """Current RSS of the whole tree in bytes; updates peak RSS and CPU time."""
        table = proc_table() if table is None else table
        rss = 0
        for p in self._collect(table):
            self.cpu_by_member[(p.pid, p.start)] = p.cpu
            if not p.zombie:
                rss += p.rss
        self.rss = rss
        self.peak_rss = max(self.peak_rss, rss)
        return rss

    def pss(self, table: dict[int, Proc] | None = None) -> int:
        """Proportional set size of the tree in bytes: a page shared by n processes counts
        1/n to each (forked pools share most of their parent's pages, so a sum of RSS
        overstates them). Costlier than RSS: read only when the RSS sum exceeds a limit."""
        table = proc_table() if table is None else table
        total = 0
        for p in self._collect(table):
            if not p.zombie:
                total += _pss(p.pid, p.rss)
        return total

    def repin(self, cpus: set[int], table: dict[int, Proc] | None = None) -> int:
        """Put back on ``cpus`` every thread of the tree that widened its CPU affinity (any
        thread may call sched_setaffinity on itself). Returns how many were moved back."""
        if not hasattr(os, "sched_setaffinity") or not _LINUX_PROC:
            return 0
        table = proc_table() if table is None else table
        moved = 0
        for p in self._collect(table):
            if p.zombie:
                continue
            try:
                tids = [int(t) for t in os.listdir(f"/proc/{p.pid}/task")]
            except OSError:
                continue
            for tid in tids:
                try:
                    if not os.sched_getaffinity(tid) <= cpus:
                        os.sched_setaffinity(tid, cpus)
                        moved += 1
                except OSError:
                    pass
        return moved

    @property
    def cpu_time(self) -> float:
        """CPU seconds of every member ever seen (each counted once, at its last sample)."""
        return sum(self.cpu_by_member.values())

    def alive(self, table: dict[int, Proc] | None = None) -> list[int]:
        """Members still running (zombies awaiting their parent's wait do not count)."""
        table = proc_table() if table is None else table
        return [p.pid for p in self._collect(table) if not p.zombie]

    def signal(self, sig: int, table: dict[int, Proc] | None = None) -> None:
        """Signal the worker's process group and every member of the tree."""
        table = proc_table() if table is None else table
        self._collect(table)
        if self.root_start is not None:
            root = table.get(self.pid)
            if root is not None and root.start == self.root_start:
                try:
                    os.killpg(self.pid, sig)
                except (ProcessLookupError, PermissionError):
                    pass
        signal_pids(self.members, sig, table)

    def kill_now(self, wait_s: float = 2.0) -> bool:
        """SIGKILL every member until none is left (or ``wait_s`` passes). True if all gone."""
        import time

        deadline = time.monotonic() + wait_s
        while True:
            table = proc_table()
            if not self.alive(table):
                return True
            self.signal(signal.SIGKILL, table)
            if time.monotonic() > deadline:
                return not self.alive()
            time.sleep(0.02)

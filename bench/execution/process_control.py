"""Linux process controls a job's processes set on themselves: child subreaper,
parent-death signal, process name, CPU affinity. Shared by the launcher (server) and the
worker, so neither imports the other for them."""

from __future__ import annotations

import os
import sys

PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15
PR_SET_CHILD_SUBREAPER = 36


def prctl(option: int, arg) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(option, arg, 0, 0, 0) == 0


def become_subreaper() -> bool:
    """Orphaned descendants of this process are re-parented to it (Linux >= 3.4)."""
    return prctl(PR_SET_CHILD_SUBREAPER, 1)


def die_with_parent(sig: int, expected_parent: int) -> bool:
    """Get ``sig`` when the parent exits; exit now if it already has. False if unsupported."""
    ok = prctl(PR_SET_PDEATHSIG, int(sig))
    if os.getppid() != expected_parent:  # the parent died before prctl took effect
        os._exit(1)
    return ok


def set_name(name: bytes) -> bool:
    """What ``ps -o comm`` and ``top`` show for this process."""
    return prctl(PR_SET_NAME, name)


def pin(pid: int, cpus) -> None:
    """Restrict ``pid`` (0: this process) to ``cpus``; nothing if none are given."""
    if cpus and hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(pid, set(cpus))
        except OSError:
            pass

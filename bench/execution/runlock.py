"""One driver per run directory: an advisory lock the kernel releases when the driver dies.

Two drivers on one run directory would run the same jobs twice; a driver killed with SIGKILL
leaves no stale lock behind (``flock`` locks die with the process), so a rerun just works.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from automl_bench.errors import BadInput


@contextmanager
def run_lock(run_dir: Path):
    path = Path(run_dir) / ".lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # not POSIX: no lock
            pass
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "?"
            raise BadInput(
                f"{run_dir} is in use by another automl-bench run (pid {holder}); wait for it "
                "or choose another --out"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)

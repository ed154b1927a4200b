"""Marks of a command's phases, for timing it (``tests/benchmarks/command_overhead.py``).

With ``$AUTOML_BENCH_TIMELINE`` naming a file, :func:`mark` appends one JSON line per phase
reached: the phase, the process id, the wall-clock time and the CPU seconds the process has
used so far (its interpreter's start included). Without the variable it does nothing.
"""

from __future__ import annotations

import json
import os
import time

VARIABLE = "AUTOML_BENCH_TIMELINE"


def mark(phase: str) -> None:
    path = os.environ.get(VARIABLE)
    if not path:
        return
    line = json.dumps({"phase": phase, "pid": os.getpid(), "time": time.time(),
                       "cpu": time.process_time()})  # fmt: skip
    try:
        with open(path, "a") as f:
            f.write(line + "\n")
    except OSError:  # timing is a diagnostic: never a reason for a command to fail
        pass

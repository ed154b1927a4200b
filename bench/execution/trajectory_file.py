"""A job's anytime trajectory file, ``JOB_DIR/trajectory.parquet``.

The worker asks the fitted adapter for its trajectory (``adapter.trajectory()``, see
:mod:`automl_bench_adapters.trajectory` for the columns and what each backend records) after prediction,
outside the budget, and writes it here; the result row's ``trajectory_points`` says how many
points it holds (0: the backend recorded none, so there is no file; empty: the job did not
get that far). The report reads the files back (:mod:`automl_bench.report.anytime`).

Extracting a trajectory never costs a job its result: it runs before the job's outcome is
written, so within the predict allowance, with a time limit (what that allowance has left,
at most ``MAX_S``), and whatever goes wrong is a note in the job's info, not a failure.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pandas as pd

FILE = "trajectory.parquet"
MAX_S = 30.0
MARGIN_S = 2.0  # left before the hard limit for the rest of the worker's work


def _extract(adapter, timeout: float):
    """adapter.trajectory() in a daemon thread, given at most ``timeout`` seconds."""
    box: dict = {}

    def call():
        try:
            box["frame"] = adapter.trajectory()
        except Exception as e:  # a backend's records changed shape: no trajectory, a note
            box["error"] = f"{type(e).__name__}: {e}"

    t = threading.Thread(target=call, daemon=True, name="trajectory")
    t.start()
    t.join(timeout)
    if t.is_alive():
        return None, f"not extracted within {timeout:.3g} s"
    return box.get("frame"), box.get("error")


def limit(spec: dict) -> float | None:
    """When the job would be killed before its outcome exists (monotonic clock): its hard
    limit less the inference allowance, which the executor grants only once the outcome is
    written."""
    hard = spec.get("hard_limit_monotonic")
    if hard is None:
        return None
    return float(hard) - float(spec.get("infer_allowance_s") or 0)


def write(job_dir: Path, adapter, hard_limit_monotonic: float | None = None) -> dict:
    """Write the adapter's trajectory (if any) to ``JOB_DIR/trajectory.parquet``; return the
    outcome's ``trajectory_points`` and, when something went wrong, ``trajectory_note``."""
    if not callable(getattr(adapter, "trajectory", None)):
        return {"trajectory_points": 0}
    timeout = MAX_S
    if hard_limit_monotonic is not None:
        timeout = min(MAX_S, float(hard_limit_monotonic) - time.monotonic() - MARGIN_S)
    if timeout <= 0.5:
        return {"trajectory_points": 0, "trajectory_note": "no time left before the hard limit"}
    frame, error = _extract(adapter, timeout)
    if error:
        return {"trajectory_points": 0, "trajectory_note": error[:500]}
    if frame is None or len(frame) == 0:
        return {"trajectory_points": 0}
    from automl_bench_adapters.trajectory import check

    try:
        frame = check(frame)
    except ValueError as e:
        return {"trajectory_points": 0, "trajectory_note": f"rejected: {e}"}
    path = Path(job_dir) / FILE
    tmp = path.with_name(f".{FILE}.{os.getpid()}.tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)
    return {"trajectory_points": len(frame)}


def read(job_dir: Path) -> pd.DataFrame | None:
    """A job's trajectory, or None when it has none (or the file is unreadable)."""
    path = Path(job_dir) / FILE
    if not path.exists():
        return None
    try:
        return pd.read_parquet(path)
    except Exception:  # a damaged file: the report says the job has no trajectory
        return None


def row_values(worker: dict | None) -> dict:
    """The result row's trajectory column from the worker's outcome."""
    return {"trajectory_points": (worker or {}).get("trajectory_points")}


def final_validation_loss(job_dir: Path) -> float | None:
    """The backend's validation log loss of its final incumbent (the trajectory's last
    ``best_loss``), None when the job recorded no log-loss trajectory."""
    frame = read(job_dir)
    if frame is None or frame.empty or "best_loss" not in frame:
        return None
    last = frame.iloc[-1]
    if last.get("loss_name") != "log_loss":
        return None
    try:
        value = float(last["best_loss"])
    except (TypeError, ValueError):
        return None
    return value if value == value else None

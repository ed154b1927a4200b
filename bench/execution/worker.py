"""The job worker: files in, files out. Run as ``python -m automl_bench.execution.worker JOB_DIR``.

Reads ``JOB_DIR/spec.json`` (adapter, params, budget, data and fold paths), fits the adapter
on the fold's training rows, predicts the test rows, and writes
``JOB_DIR/predictions.parquet`` (the adapter's probabilities as returned and the test row
ids, see :mod:`automl_bench.execution.predictions_file`; no labels: the driver takes those from the task files)
and ``JOB_DIR/outcome.json`` (durations, models count, or the error).
Then, outside the training budget, it measures the fitted model's deployability
(:mod:`automl_bench.execution.inference`: latency, throughput, memory, size on disk).
Outcome files are written atomically and last, so the driver never reads half a result.
Metrics are not computed here: the driver scores the saved predictions itself.

Phases: the worker calls the adapter's setup step (``prepare``: e.g. H2O's JVM start and
frame upload), then ``fit``, then ``predict_proba``, and rewrites ``JOB_DIR/phases.json``
(atomically) as each phase starts, with the system-wide monotonic clock, so the driver can
place each phase's deadline (see :mod:`automl_bench.execution.phase_deadline`). Setup
that runs past the driver's setup allowance comes out of the budget: the adapter is told
its shortened time limit, and a job left with less than half its budget is marked
``starved`` (see :mod:`automl_bench.results.starvation`).

``JOB_DIR/started.json`` is written first: a worker that exits without it could not start
(an infrastructure failure the executor retries). Usually the worker is not a fresh
interpreter but a fork of the warm launcher (:mod:`automl_bench.execution.launcher`), which calls
:func:`main` with ``warm_cores``; ``python -m automl_bench.execution.worker`` is the cold path, used for
another interpreter (an adapter's own environment) or ``--cold-start``.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

from automl_bench.execution.jobs import Limits
from automl_bench.execution.phase_deadline import deadline


def _write_json(path: Path, obj) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, indent=1, default=str))
    tmp.replace(path)


def pin_cpus(cpus) -> None:
    """Restrict this process (and every thread or child it starts later) to ``cpus``."""
    if cpus and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(cpus))


def limit_loaded_thread_pools(cores: int):
    """Resize thread pools of native libraries already loaded (a warm start forks a process
    that imported them): BLAS and OpenMP via threadpoolctl, Arrow's CPU pool. Libraries
    loaded later read the thread variables the executor set."""
    from threadpoolctl import threadpool_limits

    limiter = threadpool_limits(limits=cores)
    if "pyarrow" in sys.modules:
        sys.modules["pyarrow"].set_cpu_count(cores)
    return limiter


def run(job_dir: Path, warm_cores: int | None = None) -> dict:
    spec = json.loads((job_dir / "spec.json").read_text())
    pin_cpus(spec.get("cpus"))
    from automl_bench.execution.process_control import become_subreaper

    # orphaned grandchildren (a setsid'd JVM whose launcher exited) stay in our tree
    become_subreaper()
    limiter = limit_loaded_thread_pools(warm_cores) if warm_cores else None  # noqa: F841
    # heavy imports only after pinning, so thread pools size themselves to the pinned cores
    import pandas as pd

    from automl_bench.execution import predictions_file as predictions

    adapter = _adapter(spec, job_dir)
    df = pd.read_parquet(spec["data_path"])
    fold = json.loads(Path(spec["folds_path"]).read_text())[spec["fold"]]
    target = spec["target_column"]
    train, test = df.iloc[fold["train"]], df.iloc[fold["test"]]
    X_train, y_train = train.drop(columns=[target]), train[target]
    X_test = test.drop(columns=[target])  # its labels stay here: the driver reads them
    del df, train, test

    phases = Phases(job_dir, spec)
    if hasattr(adapter, "prepare"):
        adapter.prepare(X_train, y_train)
    granted = phases.fit_starts(float(spec["budget_s"]))
    spec["hard_limit_monotonic"] = phases.hard_limit(spec)  # setup is known now
    if granted < float(spec["budget_s"]) and "time_limit" in adapter.get_params():
        adapter.set_params(time_limit=granted)  # setup ran past its allowance
    t0 = time.perf_counter()
    adapter.fit(X_train, y_train)
    t1 = time.perf_counter()
    phases.mark("predict")
    spec["hard_limit_monotonic"] = phases.hard_limit(spec)  # counted from predict's start
    proba = predictions.raw_proba(adapter, X_test)
    t2 = time.perf_counter()

    # as returned: the driver aligns classes, checks and counts repairs, and scores
    predictions.write(job_dir, proba, list(adapter.classes_), fold["test"])
    info = {}
    leaderboard = getattr(adapter, "leaderboard_", None)
    if leaderboard is not None:
        pd.DataFrame(leaderboard).to_csv(job_dir / "leaderboard.csv", index=False)
        info["leaderboard"] = "leaderboard.csv"
    if getattr(adapter, "timings_", None):  # the adapter's own phases (e.g. H2O's search)
        info["timings"] = {k: round(float(v), 3) for k, v in adapter.timings_.items()}
    from automl_bench.execution import inference
    from automl_bench.execution import trajectory_file as trajectory

    traj = trajectory.write(job_dir, adapter, trajectory.limit(spec))
    if traj.get("trajectory_note"):
        info["trajectory"] = traj["trajectory_note"]

    outcome = {
        "status": "ok",
        "training_duration": t1 - t0,
        "predict_duration": t2 - t1,
        "models_count": getattr(adapter, "models_count_", None),
        **phases.summary(),
        **backend_report(adapter, granted),
        "trajectory_points": traj["trajectory_points"],
        "info": info,
    }
    if getattr(adapter, "billed_usage_", None) is not None:  # a service's billed compute
        outcome["billed_usage"] = list(adapter.billed_usage_)
    if getattr(adapter, "measures_inference", True):
        outcome["inference"] = inference.run_for_job(adapter, X_test, job_dir, spec, outcome,
                                                     _write_json)  # fmt: skip
    else:
        outcome["inference"] = inference.skipped("not measured: the model runs in a managed "
                                                 "service, where each prediction is a batch job")
    return outcome


def _adapter(spec: dict, job_dir: Path):
    """The job's adapter, constructed with the budget arguments and the variant's params."""
    import importlib

    for folder in spec.get("adapter_paths") or ():  # a user's adapter outside any package
        if folder not in sys.path:
            sys.path.insert(0, folder)
    module, _, cls_name = spec["adapter"].partition(":")
    cls = getattr(importlib.import_module(module), cls_name)
    scratch = job_dir / "scratch"
    scratch.mkdir(exist_ok=True)
    return cls(time_limit=spec["budget_s"], cores=spec["cores"], memory_mb=spec["memory_mb"],
               seed=spec["seed"], scratch_dir=str(scratch), **spec["params"])


class Phases:
    """The job's phase marks in ``phases.json``: monotonic seconds at which setup, fit and
    predict started. ``launched`` (from the spec) is when the driver started the job."""

    def __init__(self, job_dir: Path, spec: dict):
        self.path = job_dir / "phases.json"
        self.launched = float(spec.get("launched_monotonic") or time.monotonic())
        self.setup_allowance = spec.get("setup_allowance_s")
        self.marks = {"setup": self.launched}
        self._write()

    def _write(self) -> None:
        _write_json(self.path, self.marks)

    def mark(self, phase: str) -> None:
        self.marks[phase] = time.monotonic()
        self._write()

    def fit_starts(self, budget: float) -> float:
        """Mark the start of fit; return the seconds of budget the adapter still has."""
        self.mark("fit")
        setup = self.marks["fit"] - self.launched
        over = 0.0 if self.setup_allowance is None else setup - float(self.setup_allowance)
        self.granted = budget - max(0.0, over)
        self.marks["granted_s"] = self.granted
        self._write()
        return max(0.0, self.granted)

    def summary(self) -> dict:
        return {"setup_duration": self.marks["fit"] - self.launched}

    def hard_limit(self, spec: dict) -> float | None:
        """When the executor stops this job (monotonic clock) once it measures its model,
        as far as the marks so far tell: fitting, launch + setup (at most its allowance) +
        budget x (1 + margin) + the predict allowance; predicting, the start of prediction +
        the predict allowance; then the inference allowance on top. The executor's own clock
        starts a little later, so this errs early."""
        if self.setup_allowance is None or spec.get("margin") is None:
            return spec.get("hard_limit_monotonic")
        limits = Limits(setup_s=float(self.setup_allowance), margin=float(spec["margin"]),
                        predict_s=float(spec.get("predict_allowance_s") or 0))  # fmt: skip
        return deadline(limits, float(spec["budget_s"]), self.launched, self.marks,
                        float(spec.get("infer_allowance_s") or 0), measuring=True).at


class BadStopReason(ValueError):
    """An adapter said it stopped for a reason outside ``STOP_REASONS``."""


def backend_report(adapter, granted: float) -> dict:
    """What the backend did: its best model, why it stopped, the seconds it could search."""
    from automl_bench_adapters.base import STOP_REASONS

    search = getattr(adapter, "search_budget_s_", None)
    stop = getattr(adapter, "stop_reason_", None)
    if stop is not None and stop not in STOP_REASONS:
        raise BadStopReason(f"{type(adapter).__name__}.stop_reason_ is {stop!r}, not one of "
                            f"{', '.join(STOP_REASONS)}")  # fmt: skip
    return {
        "best_model": getattr(adapter, "best_model_", None),
        "stop_reason": getattr(adapter, "stop_reason_", None),
        "rounds": getattr(adapter, "rounds_", None),
        "search_s": float(min(search, granted)) if search is not None else float(granted),
    }


def main(argv=None, warm_cores: int | None = None) -> int:
    """Run the job in JOB_DIR. ``warm_cores`` is set when forked from a warm launcher."""
    argv = sys.argv[1:] if argv is None else argv
    job_dir = Path(argv[0])
    # first sign of life: a worker that exits without this file could not start (an
    # infrastructure failure the executor retries), not a framework error
    _write_json(job_dir / "started.json", {"pid": os.getpid(), "python": sys.executable,
                                           "warm": bool(warm_cores), "time": time.time()})  # fmt: skip
    try:
        outcome = run(job_dir, warm_cores)
    except BaseException as e:  # the job's failure is a result, reported to the driver
        outcome = {
            "status": "failed",
            "error_type": type(e).__name__,
            "error_message": str(e)[:2000],
            "traceback": traceback.format_exc()[-8000:],
        }
    _write_json(job_dir / "outcome.json", outcome)
    return 0 if outcome["status"] == "ok" else 3


if __name__ == "__main__":
    raise SystemExit(main())

"""The job worker: files in, files out. Run as ``python -m bench.worker JOB_DIR``.

Reads ``JOB_DIR/spec.json`` (adapter, params, budget, data and fold paths), fits the adapter
on the fold's training rows, predicts the test rows, and writes
``JOB_DIR/predictions.parquet`` (one probability column per task class, ``predictions``,
``truth``, ``row``) and ``JOB_DIR/outcome.json`` (durations, models count, or the error).
Then, outside the training budget, it measures the fitted model's deployability
(:mod:`bench.inference`: latency, throughput, memory, size on disk).
Outcome files are written atomically and last, so the driver never reads half a result.
Metrics are not computed here: the driver scores the saved predictions itself.

``JOB_DIR/started.json`` is written first: a worker that exits without it could not start
(an infrastructure failure the executor retries). Usually the worker is not a fresh
interpreter but a fork of the warm launcher (:mod:`bench.launcher`), which calls
:func:`main` with ``warm_cores``; ``python -m bench.worker`` is the cold path, used for
another interpreter (an adapter's own environment) or ``--cold-start``.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path


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
    from bench.launcher import become_subreaper

    # orphaned grandchildren (a setsid'd JVM whose launcher exited) stay in our tree
    become_subreaper()
    limiter = limit_loaded_thread_pools(warm_cores) if warm_cores else None  # noqa: F841
    # heavy imports only after pinning, so thread pools size themselves to the pinned cores
    import importlib

    import numpy as np
    import pandas as pd

    module, _, cls_name = spec["adapter"].partition(":")
    cls = getattr(importlib.import_module(module), cls_name)
    scratch = job_dir / "scratch"
    scratch.mkdir(exist_ok=True)
    adapter = cls(
        time_limit=spec["budget_s"],
        cores=spec["cores"],
        memory_mb=spec["memory_mb"],
        seed=spec["seed"],
        scratch_dir=str(scratch),
        **spec["params"],
    )
    df = pd.read_parquet(spec["data_path"])
    fold = json.loads(Path(spec["folds_path"]).read_text())[spec["fold"]]
    target = spec["target_column"]
    train, test = df.iloc[fold["train"]], df.iloc[fold["test"]]
    X_train, y_train = train.drop(columns=[target]), train[target]
    X_test, y_test = test.drop(columns=[target]), test[target]
    del df, train, test

    t0 = time.perf_counter()
    adapter.fit(X_train, y_train)
    t1 = time.perf_counter()
    proba = adapter.predict_proba(X_test)
    t2 = time.perf_counter()

    # Align to the task's full class list: a class unseen in this training fold gets 0.
    classes = spec["classes"]
    index = {str(c): i for i, c in enumerate(adapter.classes_)}
    full = np.zeros((len(X_test), len(classes)))
    for j, c in enumerate(classes):
        if str(c) in index:
            full[:, j] = proba[:, index[str(c)]]
    preds = pd.DataFrame(full, columns=[str(c) for c in classes])
    preds["predictions"] = [classes[i] for i in full.argmax(axis=1)]
    preds["truth"] = y_test.to_numpy()
    preds["row"] = np.asarray(fold["test"], dtype=np.int64)
    preds.to_parquet(job_dir / "predictions.parquet.tmp", index=False)
    (job_dir / "predictions.parquet.tmp").replace(job_dir / "predictions.parquet")
    info = {}
    leaderboard = getattr(adapter, "leaderboard_", None)
    if leaderboard is not None:
        pd.DataFrame(leaderboard).to_csv(job_dir / "leaderboard.csv", index=False)
        info["leaderboard"] = "leaderboard.csv"
    from bench import inference

    outcome = {
        "status": "ok",
        "training_duration": t1 - t0,
        "predict_duration": t2 - t1,
        "models_count": getattr(adapter, "models_count_", None),
        "info": info,
    }
    outcome["inference"] = inference.run_for_job(adapter, X_test, job_dir, spec, outcome,
                                                 _write_json)  # fmt: skip
    return outcome


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

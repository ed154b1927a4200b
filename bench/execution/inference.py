"""Deployability measurements of a fitted model, taken by the worker after the test predictions.

What a team that runs the model cares about, measured the same way for every backend:

- ``infer_first_ms``: the first call of the measurement (one row), timed apart: whatever a
  backend does lazily on its first prediction shows here and nowhere else;
- ``infer_1_ms``: median latency to predict one row (``predict_proba``), warm, repeated;
- ``infer_1k_ms``: median latency to predict a batch of 1,000 rows, warm, repeated; the batch
  is the fold's test rows, resampled (seeded, with replacement) to 1,000 when there are fewer,
  a seeded sample of 1,000 when there are more;
- ``infer_rows_per_s``: 1,000 rows / ``infer_1k_ms``;
- ``infer_peak_rss_mb``: peak extra memory of the worker's process tree (the worker and its
  children, e.g. H2O's JVM) while predicting, above what it held just before;
- ``model_size_mb``: what the backend would deploy (the adapter's ``deployable_model()``:
  the backend's model, without the adapter's wrappers), saved in the backend's own format
  (the adapter's ``save_model``), ``model_format`` names that format;
- ``infer_duration``: seconds the measurement took (saving included), and
  ``infer_allowance_s``: the time it was allowed, which the executor adds to the job's hard
  limit (it is not part of the training budget).

The measurement keeps to its allowance: repetitions stop when the share of the allowance set
for them is spent (at least one of each is always taken), and the number taken is recorded.
Whatever could not be measured is left empty and ``infer_note`` says why, never a zero.
"""

from __future__ import annotations

import os
import shutil
import statistics
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

BATCH_ROWS = 1000
ONE_ROW_REPEATS = 7
BATCH_REPEATS = 3
# share of the allowance the timed repetitions may use; the rest is for saving the model
TIMING_SHARE = 0.4
SAMPLE_EVERY_S = 0.01
EXIT_MARGIN_S = 1.5  # the worker ends the measurement this long before the hard limit
MIN_WINDOW_S = 1.0  # less time than this left: not measured

COLUMNS = (
    "infer_first_ms", "infer_1_ms", "infer_1k_ms", "infer_rows_per_s", "infer_peak_rss_mb",
    "model_size_mb", "model_format", "infer_duration", "infer_allowance_s", "infer_note",
)  # fmt: skip


def batch_of(X: pd.DataFrame, rows: int = BATCH_ROWS, seed: int = 0) -> pd.DataFrame:
    """``rows`` rows of ``X``: resampled with replacement when it has fewer, else sampled."""
    rng = np.random.default_rng(seed)
    take = rng.choice(len(X), size=rows, replace=len(X) < rows)
    return X.iloc[np.sort(take)].reset_index(drop=True)


class _PeakRSS:
    """Samples the RSS of this process and its children in a thread: the peak above a base."""

    def __init__(self):
        import psutil

        self._me = psutil.Process()
        self._stop = threading.Event()
        self.base = self._rss()
        self.peak = self.base
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _rss(self) -> int:
        import psutil

        total = 0
        for p in [self._me, *self._me.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        return total

    def _run(self):
        while not self._stop.wait(SAMPLE_EVERY_S):
            self.peak = max(self.peak, self._rss())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())

    @property
    def extra_mb(self) -> float:
        return max(0, self.peak - self.base) / 2**20


def _timed(fn, X) -> float:
    t0 = time.perf_counter()
    fn(X)
    return (time.perf_counter() - t0) * 1000.0


def _repeat(fn, X, repeats: int, until: float) -> list[float]:
    """At least one timing, then more until ``repeats`` or the clock passes ``until``."""
    times = [_timed(fn, X)]
    while len(times) < repeats and time.perf_counter() < until:
        times.append(_timed(fn, X))
    return times


def dir_size_mb(path: Path) -> float:
    path = Path(path)
    if path.is_file():
        return path.stat().st_size / 2**20
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def measure(adapter, X_test: pd.DataFrame, work_dir: Path, allowance_s: float,
            seed: int = 0) -> dict:  # fmt: skip
    """Latency, throughput, memory and size of ``adapter`` (fitted); see the module doc."""
    start = time.perf_counter()
    out: dict = dict.fromkeys(COLUMNS)
    out["infer_allowance_s"] = float(allowance_s)
    notes: list[str] = []
    batch = batch_of(X_test, BATCH_ROWS, seed)
    one = batch.iloc[[0]].reset_index(drop=True)
    predict = adapter.predict_proba
    until = start + TIMING_SHARE * allowance_s
    try:
        out["infer_first_ms"] = _timed(predict, one)
        with _PeakRSS() as mem:
            # one-row calls get half the timing share, the batch calls the other half
            ones = _repeat(predict, one, ONE_ROW_REPEATS,
                           time.perf_counter() + (until - time.perf_counter()) / 2)  # fmt: skip
            batches = _repeat(predict, batch, BATCH_REPEATS, until)
        out["infer_1_ms"] = statistics.median(ones)
        out["infer_1k_ms"] = statistics.median(batches)
        out["infer_rows_per_s"] = BATCH_ROWS / (out["infer_1k_ms"] / 1000.0)
        out["infer_peak_rss_mb"] = mem.extra_mb
        out["infer_repeats"] = {"1": len(ones), str(BATCH_ROWS): len(batches)}
        if len(ones) < ONE_ROW_REPEATS or len(batches) < BATCH_REPEATS:
            notes.append(f"{allowance_s:.3g}s to measure: {len(ones)} one-row and "
                         f"{len(batches)} batch repetitions")  # fmt: skip
    except Exception as e:  # a backend that cannot predict again says why
        notes.append(f"latency not measured: {type(e).__name__}: {e}"[:500])
    model_dir = Path(work_dir) / "model"
    shutil.rmtree(model_dir, ignore_errors=True)
    model_dir.mkdir(parents=True)
    try:
        fmt = save_deployable(adapter, model_dir)
        out["model_size_mb"] = dir_size_mb(model_dir)
        out["model_format"] = fmt
        if getattr(adapter, "save_note_", None):
            notes.append(adapter.save_note_)
    except Exception as e:
        notes.append(f"model size not measured: {type(e).__name__}: {e}"[:500])
    finally:  # the size is the result; the saved model is not kept (a run holds many)
        shutil.rmtree(model_dir, ignore_errors=True)
    out["infer_note"] = "; ".join(notes) or None
    out["infer_duration"] = time.perf_counter() - start
    return out


def save_deployable(adapter, model_dir: Path) -> str:
    """Save what ``adapter`` would deploy into ``model_dir``; return the format's name. The
    adapter's ``save_model`` (which saves its ``deployable_model()``); an estimator without
    one is saved with joblib, its ``deployable_model()`` when it declares one."""
    if hasattr(adapter, "save_model"):
        return adapter.save_model(str(model_dir))
    import joblib

    deployable = getattr(adapter, "deployable_model", None)
    joblib.dump(deployable() if deployable else adapter, Path(model_dir) / "model.joblib")
    return "joblib"


def run_for_job(adapter, X_test: pd.DataFrame, job_dir: Path, spec: dict, outcome: dict,
                write_outcome) -> dict:  # fmt: skip
    """The worker's one call: measure within the job's allowance, or say why not.

    The job's result never depends on the measurement: before it starts, ``outcome`` (the
    finished job's) is written to ``JOB_DIR/outcome.json`` with a note, and should a
    prediction or the save hang past the allowance, the worker exits at once with that
    outcome, before the executor's hard limit (which includes the allowance) is reached.
    """
    allowance = float(spec.get("infer_allowance_s") or 0)
    if allowance <= 0:
        return skipped("not measured (--no-inference)")
    # a fit that ran late leaves less: never measure past the executor's hard limit
    window = allowance
    if spec.get("hard_limit_monotonic") is not None:
        window = min(allowance, float(spec["hard_limit_monotonic"]) - time.monotonic()
                     - EXIT_MARGIN_S)  # fmt: skip
    if window < MIN_WINDOW_S:
        out = skipped("not measured: fit and prediction left no time before the job's hard "
                      "limit")  # fmt: skip
        out["infer_allowance_s"] = allowance
        return out
    late = skipped(f"not measured: the measurement did not finish within the {window:.3g}s "
                   f"it had (allowance {allowance:g}s)")  # fmt: skip
    late["infer_allowance_s"] = allowance
    write_outcome(Path(job_dir) / "outcome.json", {**outcome, "inference": late})
    watchdog = threading.Timer(window, os._exit, args=(0,))
    watchdog.daemon = True
    watchdog.start()
    try:
        out = measure(adapter, X_test, Path(job_dir) / "scratch", window,
                      int(spec.get("seed") or 0))  # fmt: skip
        out["infer_allowance_s"] = allowance
        if window < allowance:
            short = f"{window:.3g}s left of the {allowance:g}s allowance (the fit ran late)"
            out["infer_note"] = "; ".join(filter(None, [short, out["infer_note"]]))
        return out
    except Exception as e:
        return skipped(f"not measured: {type(e).__name__}: {e}"[:500])
    finally:
        watchdog.cancel()


def skipped(reason: str) -> dict:
    """The columns of a job whose measurement did not run, with the reason."""
    out = dict.fromkeys(COLUMNS)
    out["infer_note"] = reason
    return out


def row_values(worker_outcome: dict) -> dict:
    """The result row's inference columns from the worker's outcome (empty when absent)."""
    got = (worker_outcome or {}).get("inference") or {}
    return {c: got.get(c) for c in COLUMNS}

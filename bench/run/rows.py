"""Rows: the one place a job's outcome becomes a stored row (scored from its saved
predictions, with the labels from the task's own files) and reaches the progress display and
MLflow."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone

from automl_bench.data import taskcache
from automl_bench.execution import contention, inference
from automl_bench.execution import fingerprint as environment
from automl_bench.execution import predictions_file as predictions
from automl_bench.execution import trajectory_file as trajectory
from automl_bench.execution.jobs import Outcome
from automl_bench.planning.plan import Job
from automl_bench.results.cost import job_cost, vendor_cost
from automl_bench.results.scoring import METRICS, headline, score
from automl_bench.results.starvation import budget_columns
from automl_bench.results.store import Store


class Rows:
    """Stores a job's row, logs it to MLflow (when tracking) and tells the progress display.

    ``cached``: task name -> its CachedTask; ``variants``: framework -> Variant;
    ``superseded``: job id -> the ids of the stored rows its row replaces."""

    def __init__(self, store: Store, cached: dict, variants: dict, superseded: dict,
                 reporter=None, tracker=None):  # fmt: skip
        self.store, self.cached, self.variants = store, cached, variants
        self.superseded, self.reporter, self.tracker = superseded, reporter, tracker

    def put(self, job: Job, outcome: Outcome, scores=None, extra: dict | None = None,
            job_dir=None, replace: bool = True) -> dict:  # fmt: skip
        row = build_row(job, self.cached[job.task], self.variants[job.framework], outcome, scores)
        row.update(extra or {})
        self.store.put(row, replaces=self.superseded.get(job.id, ()) if replace else ())
        if self.tracker and job_dir is not None:
            self.tracker.log_job(row, job_dir)
        if self.reporter:
            self.reporter.done(row)
        return row

    def put_scored(self, job: Job, outcome: Outcome, job_dir, extra: dict) -> dict:
        """A job the executor ran: scored from its predictions file when it ended ok."""
        scores, repaired = scored(outcome, job_dir, self.cached[job.task], job.fold)
        validation = trajectory.final_validation_loss(job_dir) if scores else None
        return self.put(job, outcome, scores, {**extra, "repaired_rows": repaired,
                                               "validation_loss": validation}, job_dir)  # fmt: skip


def scored(outcome: Outcome, job_dir, ct: taskcache.CachedTask, fold: int):
    """(scores, repaired rows) of an ok job; unreadable or inconsistent predictions turn the
    outcome into a failure (BadPredictions) and score nothing."""
    if outcome.status != "ok":
        return None, None
    try:  # labels from the task's own files, never from the worker
        checked = predictions.check(job_dir, ct.dir, ct.digest, fold, ct.classes)
    except Exception as e:
        outcome.status, outcome.error_type = "failed", "BadPredictions"
        outcome.error_message = str(e) if isinstance(e, predictions.BadPredictions) \
            else f"{type(e).__name__}: {e}"
        return None, None
    if checked.repaired_rows:
        outcome.worker.setdefault("info", {})["repaired"] = checked.problems
    return score(checked.proba, checked.truth), checked.repaired_rows


def job_spec(job: Job, task: taskcache.CachedTask) -> dict:
    return {
        **job.to_dict(),
        "params": job.params,
        "data_path": str(task.data_path),
        "folds_path": str(task.folds_path),
        "target_column": task.target_column,
        "classes": task.classes,
    }


def build_row(job: Job, task: taskcache.CachedTask, variant, outcome: Outcome, scores) -> dict:
    w = outcome.worker
    vendor_usd, billed_s, price_note = vendor_cost(w.get("billed_usage"))
    info = {**(w.get("info") or {}), **({"billed": w["billed_usage"]} if w.get("billed_usage")
                                         else {}), **({"price": price_note} if price_note else {})}
    metric, result = (
        headline(task.task_type, scores) if scores else (headline(task.task_type, _nan())[0], None)
    )
    row = {
        "id": task.source_id,
        "task": job.task,
        "framework": job.framework,
        "constraint": job.constraint,
        "fold": job.fold,
        "type": task.task_type,
        "result": result,
        "metric": metric,
        "mode": "local",
        "version": variant.backend_version(),
        "params": job.params_json,
        "app_version": environment.describe()["app_version"],
        "utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "duration": outcome.wall,
        "training_duration": w.get("training_duration"),
        "predict_duration": w.get("predict_duration"),
        "models_count": w.get("models_count"),
        "seed": job.seed,
        "info": json.dumps(info),
        **{m: (scores or {}).get(m) for m in METRICS},
        "status": outcome.status,
        "error_type": outcome.error_type,
        "error_message": outcome.error_message,
        "cpu_time": outcome.cpu_time,
        "peak_rss_mb": outcome.peak_rss_mb,
        "budget_s": job.budget_s,
        "cores": job.cores,
        "memory_mb": job.memory_mb,
        "grace_s": outcome.grace_s,
        "limit_phase": outcome.limit_phase,
        "exit_signal": outcome.exit_signal,
        "cost_usd": job_cost(outcome.wall, job.cores),
        "vendor_cost_usd": vendor_usd,
        "vendor_billed_s": billed_s,
        "cpu_share": contention.cpu_share(outcome.cpu_time, outcome.wall, job.cores),
        "attempts": outcome.attempts,
        "job_id": job.id,
        "environment": environment.fingerprint(),
        **budget_columns(job.budget_s, outcome),
        **inference.row_values(w),
        **trajectory.row_values(w),
    }
    return row


def _nan():
    return dict.fromkeys(METRICS, math.nan)

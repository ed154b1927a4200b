"""Every job of a run as an MLflow run (``automl-bench run ... --mlflow [TRACKING_URI]``).

One MLflow experiment per run directory, named after it; one MLflow run per job with
- params: framework, task, fold, budget, cores, memory, seed, the variant's parameters, the
  backend's version and the versions of the numeric packages;
- metrics: every score, the result, durations, CPU time, peak memory, cost, attempts;
- tags: job id, status, error, executor mode;
- artifacts: the predictions file (and the job's log and leaderboard when present).

With no URI the tracking store is SQLite inside the run directory (``mlflow.db``) with the
artifact root beside it (``mlflow-artifacts/``), instead of MLflow's default ``./mlruns`` in
whatever directory the command was started from. Browse it with the full ``mlflow``
package: ``mlflow ui --backend-store-uri sqlite:///RUN_DIR/mlflow.db``.

A job already logged (a resumed run) is not logged again; a job rerun (``--rerun-failed``)
replaces its MLflow run, so the experiment holds one run per job.
"""

from __future__ import annotations

import logging
import math
import time
from datetime import datetime
from pathlib import Path

from automl_bench.execution import fingerprint as environment
from automl_bench.errors import BadInput
from automl_bench.results.scoring import METRICS

log = logging.getLogger(__name__)

JOB_TAG = "automl_bench.job_id"
UTC_TAG = "automl_bench.utc"
PARAMS = ("framework", "task", "fold", "budget_s", "cores", "memory_mb", "seed", "constraint",
          "params", "version", "app_version", "id", "type", "metric", "mode")  # fmt: skip
MEASURES = ("result", "duration", "training_duration", "predict_duration", "cpu_time",
            "peak_rss_mb", "cost_usd", "models_count", "attempts", "grace_s", "repaired_rows",
            "setup_duration", "search_s", "rounds", "infer_1_ms", "infer_1k_ms",
            "infer_rows_per_s", "infer_peak_rss_mb", "model_size_mb")  # fmt: skip
ARTIFACTS = ("predictions.parquet", "leaderboard.csv", "worker.log", "trajectory.parquet")


def default_uris(run_dir: Path) -> tuple[str, str]:
    """(tracking URI, artifact root URI) inside the run directory."""
    run_dir = Path(run_dir).resolve()
    return f"sqlite:///{run_dir / 'mlflow.db'}", (run_dir / "mlflow-artifacts").as_uri()


def _number(v) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _text(v) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return str(v)


class MlflowTracker:
    def __init__(
        self, run_dir: Path, tracking_uri: str | None = None, experiment: str | None = None
    ):
        from mlflow.tracking import MlflowClient

        for name in ("mlflow", "alembic"):  # table creation chatter would cut the progress bar
            logging.getLogger(name).setLevel(logging.WARNING)

        self.run_dir = Path(run_dir)
        artifacts = None
        if not tracking_uri:
            tracking_uri, artifacts = default_uris(self.run_dir)
        self.uri = tracking_uri
        self.experiment_name = experiment or self.run_dir.resolve().name
        try:
            self.client = MlflowClient(tracking_uri)
            exp = self.client.get_experiment_by_name(self.experiment_name)
            if exp is None:
                self.experiment_id = self.client.create_experiment(
                    self.experiment_name,
                    artifact_location=artifacts,
                    tags={"automl_bench.run_dir": str(self.run_dir.resolve())},
                )
            else:
                self.experiment_id = exp.experiment_id
                if exp.lifecycle_stage == "deleted":
                    self.client.restore_experiment(exp.experiment_id)
            self.logged = self._existing()
        except Exception as e:
            raise BadInput(
                f"--mlflow {tracking_uri}: cannot use this tracking store: {e}"
            ) from None
        self.versions = environment.describe()["packages"]

    def _existing(self) -> dict[str, tuple[str, str]]:
        """job id -> (MLflow run id, utc of the row it logged), for runs already there."""
        out, token = {}, None
        while True:
            page = self.client.search_runs([self.experiment_id], max_results=1000, page_token=token)
            for r in page:
                job = r.data.tags.get(JOB_TAG)
                if job:
                    out[job] = (r.info.run_id, r.data.tags.get(UTC_TAG, ""))
            token = page.token
            if not token:
                return out

    def log_job(self, row: dict, job_dir: Path | None = None) -> str | None:
        """Log one stored row as an MLflow run; returns its run id (None if logging failed:
        the run goes on, and :meth:`sync` tries again at the end)."""
        try:
            return self._log(row, job_dir)
        except Exception as e:
            log.warning("MLflow: could not log job %s: %s", row.get("job_id"), e)
            return None

    def _log(self, row: dict, job_dir: Path | None) -> str:
        from mlflow.entities import Metric, Param

        job_id = row["job_id"]
        old = self.logged.get(job_id)
        if old:  # the job ran again: its new row replaces the old MLflow run
            self.client.delete_run(old[0])
        end_ms = _epoch_ms(row.get("utc"))
        duration = _number(row.get("duration")) or 0.0
        tags = {
            JOB_TAG: job_id,
            UTC_TAG: _text(row.get("utc")) or "",
            "status": row["status"],
            "automl_bench.run_dir": str(self.run_dir.resolve()),
            "environment": _text(row.get("environment")) or "",
        }
        for k in ("error_type", "error_message", "exit_signal"):
            if _text(row.get(k)):
                tags[k] = _text(row.get(k))[:5000]
        run = self.client.create_run(
            self.experiment_id,
            start_time=end_ms - int(duration * 1000),
            tags=tags,
            run_name=f"{row['framework']} {row['task']} fold {row['fold']}",
        )
        rid = run.info.run_id
        params = {k: _text(row.get(k)) for k in PARAMS}
        params.update({f"package.{p}": v for p, v in self.versions.items()})
        params = [Param(k, v[:6000]) for k, v in params.items() if v is not None]
        metrics = [
            Metric(k, n, end_ms, 0)
            for k in (*METRICS, *MEASURES)
            if (n := _number(row.get(k))) is not None
        ]
        self.client.log_batch(rid, metrics=metrics, params=params)
        job_dir = Path(job_dir) if job_dir else _job_dir(self.run_dir, row)
        for name in ARTIFACTS:
            if (job_dir / name).is_file():
                self.client.log_artifact(rid, str(job_dir / name))
        self.client.set_terminated(
            rid, "FINISHED" if row["status"] == "ok" else "FAILED", end_time=end_ms
        )
        self.logged[job_id] = (rid, tags[UTC_TAG])
        return rid

    def sync(self, frame, run_dir: Path | None = None) -> int:
        """Log every stored row not yet in MLflow as it is now; returns how many."""
        n = 0
        for row in frame.to_dict("records"):
            have = self.logged.get(row["job_id"])
            if have and have[1] == (_text(row.get("utc")) or ""):
                continue
            if self.log_job(row, _job_dir(Path(run_dir or self.run_dir), row)):
                n += 1
        return n


def _job_dir(run_dir: Path, row: dict) -> Path:
    from automl_bench.planning.plan import job_dir

    return job_dir(run_dir, row["framework"], row["task"], row["fold"], row["job_id"])


def _epoch_ms(utc) -> int:
    try:
        return int(datetime.fromisoformat(str(utc)).timestamp() * 1000)
    except (TypeError, ValueError):
        return int(time.time() * 1000)

"""The run's result store: embedded SQLite (WAL), one row per finished job, written atomically.

A row is inserted only once its job is complete and scored, inside one transaction, so a
crash never leaves half a row; the job id is the primary key, so a rerun never duplicates
one. ``results.csv`` is an export of this table in AMLB's column order plus ours.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd

from automl_bench.results.scoring import METRICS

# AMLB's results.csv columns, in its order, then its metric columns, then ours.
AMLB_COLUMNS = [
    "id", "task", "framework", "constraint", "fold", "type", "result", "metric", "mode",
    "version", "params", "app_version", "utc", "duration", "training_duration",
    "predict_duration", "models_count", "seed", "info",
]  # fmt: skip
OUR_COLUMNS = [
    "status", "error_type", "error_message", "cpu_time", "peak_rss_mb", "budget_s", "cores",
    "memory_mb", "grace_s", "exit_signal", "cost_usd", "attempts", "job_id", "environment",
    "repaired_rows", "cpu_share", "load_at_start",
    # the budget contract: setup measured apart, the hard limit's parts, what the backend did
    "setup_duration", "setup_allowance_s", "margin_s", "predict_allowance_s", "search_s",
    "starved", "best_model", "stop_reason", "rounds",
    "limit_phase",  # setup / fit / predict / inference: the phase a limit stopped the job in
    # deployability (automl_bench.execution.inference)
    "infer_first_ms", "infer_1_ms", "infer_1k_ms", "infer_rows_per_s", "infer_peak_rss_mb",
    "model_size_mb", "model_format", "infer_duration", "infer_allowance_s", "infer_note",
    # racing (run --race): a raced-out job's evidence (automl_bench.race.rule)
    "race_round", "race_test", "race_pvalue", "race_mean_rank", "race_leader",
    # anytime: points in the job's trajectory.parquet (automl_bench.execution.trajectory_file)
    # and the backend's own validation log loss of the model it kept (its last point)
    "trajectory_points", "validation_loss",
    # a managed service's billed compute (instance-seconds) priced from the price table's
    # services; cost_usd stays the machine time of the job on our side
    "vendor_cost_usd", "vendor_billed_s",
]  # fmt: skip
COLUMNS = AMLB_COLUMNS + list(METRICS) + OUR_COLUMNS
# raced_out: a job run --race did not start, its framework dropped (never imputed)
STATUSES = ("ok", "failed", "timeout", "memory", "skipped", "raced_out")

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    job_id TEXT PRIMARY KEY,
    framework TEXT NOT NULL,
    task TEXT NOT NULL,
    fold INTEGER NOT NULL,
    status TEXT NOT NULL,
    row_json TEXT NOT NULL
)
"""


class Store:
    def __init__(self, path: Path):
        self.path = Path(path)
        if self.path.exists():  # a damaged store is reported, never rebuilt over results
            from automl_bench.results.rundir import check_database

            check_database(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute(SCHEMA)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def put(self, row: dict, replaces=()) -> None:
        """Insert or replace one finished job's row, atomically; ``replaces``: ids of rows this
        one supersedes (deleted in the same transaction)."""
        if row["status"] not in STATUSES:
            raise ValueError(f"unknown status {row['status']!r}")
        unknown = set(row) - set(COLUMNS)
        if unknown:
            raise ValueError(f"unknown result columns {sorted(unknown)}")
        with self.conn:  # BEGIN ... COMMIT
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute(
                "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?)",
                (
                    row["job_id"], row["framework"], row["task"], int(row["fold"]),
                    row["status"], json.dumps(row, default=str),
                ),
            )  # fmt: skip
            self.conn.executemany("DELETE FROM results WHERE job_id = ?",
                                  [(j,) for j in replaces if j != row["job_id"]])  # fmt: skip

    def statuses(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT job_id, status FROM results"))

    def delete(self, job_ids) -> None:
        with self.conn:
            self.conn.executemany("DELETE FROM results WHERE job_id = ?", [(j,) for j in job_ids])

    def frame(self) -> pd.DataFrame:
        rows = [json.loads(r) for (r,) in self.conn.execute("SELECT row_json FROM results")]
        df = pd.DataFrame(rows, columns=COLUMNS)
        return df.sort_values(["task", "framework", "fold"], kind="stable").reset_index(drop=True)

    def export_csv(self, path: Path) -> Path:
        tmp = Path(path).with_suffix(".csv.tmp")
        self.frame().to_csv(tmp, index=False)
        tmp.replace(path)
        return Path(path)

"""Jobs: one per (framework variant, task, fold) with a stable id hashed from its inputs.

The inputs include the backend's installed version, so after an upgrade (or once a backend
that was missing is installed) a resumed run reruns its jobs instead of keeping old results.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from automl_bench.data.taskcache import CachedTask
from automl_bench.planning.registry import Variant
from automl_bench.planning.suite import Constraint


@dataclass(frozen=True)
class Job:
    framework: str
    adapter: str
    params_json: str
    task: str
    task_digest: str
    fold: int
    budget_s: float
    cores: int
    memory_mb: int
    seed: int
    version: str = ""  # the backend's version ("unknown" when it is not installed)

    @property
    def params(self) -> dict:
        return json.loads(self.params_json)

    @property
    def constraint(self) -> str:
        return Constraint(budget_s=self.budget_s, cores=self.cores, memory_mb=self.memory_mb).name

    @property
    def id(self) -> str:
        blob = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def to_dict(self) -> dict:
        return {"id": self.id, **asdict(self)}


def plan_jobs(
    variants: list[Variant],
    tasks: list[CachedTask],
    constraint: Constraint,
    seed: int,
    max_folds: int | None = None,
) -> list[Job]:
    """Every (variant, task, fold) at each of the constraint's budgets, smallest budget first."""
    from automl_bench.planning import budgets

    if len(budgets.of(constraint)) > 1:
        return [job for b in budgets.of(constraint)
                for job in plan_jobs(variants, tasks, budgets.single(constraint, b), seed,
                                     max_folds)]  # fmt: skip
    jobs = []
    versions = {v.name: _version(v) for v in variants}
    for task in tasks:
        n = task.n_folds if max_folds is None else min(max_folds, task.n_folds)
        for fold in range(n):
            for v in variants:
                jobs.append(
                    Job(
                        framework=v.name,
                        adapter=v.adapter,
                        params_json=json.dumps(v.params, sort_keys=True),
                        task=task.name,
                        task_digest=task.digest,
                        fold=fold,
                        budget_s=constraint.budget_s,
                        cores=constraint.cores,
                        memory_mb=constraint.memory_mb,
                        seed=seed,
                        version=versions[v.name],
                    )
                )
    return jobs


SHORT_ID = 8  # hex digits of the job id in its folder name


def job_folder(framework: str, task: str, fold: int, job_id: str) -> str:
    """A job's folder under ``RUN_DIR/jobs``, e.g. ``lightgbm-semeion-f3-1a2b3c4d``:
    readable in a listing, and unique through the start of the job id (which differs for
    the same framework, task and fold when budget, data, seed or parameters differ)."""
    name = f"{framework}-{task}-f{fold}-{job_id[:SHORT_ID]}"
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", name)


def job_dir(run_dir, framework: str, task: str, fold: int, job_id: str) -> Path:
    """Where a stored job's files are: its named folder, or the bare job id of a run
    directory written before folders were named."""
    jobs = Path(run_dir) / "jobs"
    named = jobs / job_folder(framework, task, int(fold), job_id)
    return jobs / job_id if not named.exists() and (jobs / job_id).is_dir() else named


def _version(variant: Variant) -> str:
    try:
        return str(variant.backend_version())
    except Exception:  # the adapter cannot even be imported: its jobs are skipped rows
        return "unknown"

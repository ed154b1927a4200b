"""Jobs: one per (framework variant, task, fold) with a stable id hashed from its inputs.

The inputs include the backend's installed version, so after an upgrade (or once a backend
that was missing is installed) a resumed run reruns its jobs instead of keeping old results.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from bench.registry import Variant
from bench.suite import Constraint
from bench.taskcache import CachedTask


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


def _version(variant: Variant) -> str:
    try:
        return str(variant.backend_version())
    except Exception:  # the adapter cannot even be imported: its jobs are skipped rows
        return "unknown"

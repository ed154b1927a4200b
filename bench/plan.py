"""Jobs: one per (framework variant, task, fold) with a stable id hashed from its inputs."""

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
                    )
                )
    return jobs

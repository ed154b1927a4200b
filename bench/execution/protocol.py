"""The executor protocol: what the run orchestration asks of an executor, whichever runs the
jobs (the local one, :mod:`automl_bench.execution.local_executor`, or a Dask cluster,
:mod:`automl_bench.execution.dask_executor`).

``run`` runs every item and calls back as each job starts and ends; racing and exclusive
runs steer it through two more callbacks, given to ``run`` (never set on the executor):
``admit`` is asked as a job's turn comes (False: the job never starts: its framework left
the race) and ``gate`` before each job starts (False: not yet, ask again on the next tick).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from automl_bench.execution.jobs import Outcome, WorkItem

OnStart = Callable[[WorkItem], None]
OnDone = Callable[[WorkItem, Outcome], None]
Admit = Callable[[WorkItem], bool]  # as a job's turn comes: False drops it
Gate = Callable[[int], bool]  # given the number of running jobs: False holds the next one


@runtime_checkable
class Executor(Protocol):
    mode: str  # the rows' ``mode`` column: where the jobs ran (local, dask)

    def notes(self, items: list[WorkItem]) -> list[str]:
        """What the user should know before these items run (e.g. fewer slots than asked)."""
        ...

    def run(self, items: list[WorkItem], on_start: OnStart | None = None,
            on_done: OnDone | None = None, admit: Admit | None = None,
            gate: Gate | None = None) -> None:  # fmt: skip
        """Run ``items``: ``on_start`` once per job as its first attempt starts, ``on_done``
        once per job with its outcome (a job ``admit`` dropped gets neither)."""
        ...

    def close(self) -> None:
        """Release what the executor holds (a cluster, launchers)."""
        ...

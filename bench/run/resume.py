"""Resume: which of a run's planned jobs still have to run, given the rows its store holds.

A job runs when it has no row; when its task could not be loaded before (its failed row is
rewritten); when it was skipped as not installed and its backend is installed now; with
``--rerun-failed`` when its row is not ok; and when it was raced out and this run does not
race. A stored row of the same framework, task, fold, constraint and seed under another id
(the backend's version changed) is superseded: replaced once the new job has its row.
"""

from __future__ import annotations

from automl_bench.planning.plan import Job
from automl_bench.race.rule import RACED_OUT
from automl_bench.results.store import Store


def to_run(jobs: list[Job], store: Store, missing: set, installed: dict,
           rerun_failed: bool, race: bool) -> list[Job]:  # fmt: skip
    """The jobs of ``jobs`` to run now (``missing``: tasks that could not be loaded;
    ``installed``: framework -> whether its backend is installed)."""
    done = store.statuses()
    return [
        j for j in jobs
        if j.task in missing
        or j.id not in done
        or (done[j.id] == "skipped" and installed[j.framework])  # installed since
        or (rerun_failed and done[j.id] not in ("ok", "skipped", RACED_OUT))
        or (done[j.id] == RACED_OUT and not race)  # a run without --race runs them
    ]  # fmt: skip


def forget_recovered(store: Store, loaded: set) -> None:
    """Drop failed rows of an earlier run for tasks that could not be loaded then but loaded
    now (their jobs get real ids and run), so results never show both."""
    df = store.frame()
    if df.empty:
        return
    stale = df[df["task"].isin(loaded) & (df["error_type"] == "TaskUnavailable")]
    if len(stale):
        store.delete(stale["job_id"].tolist())


def superseded(store: Store, jobs: list[Job]) -> dict[str, list[str]]:
    """Stored rows that a planned job replaces once it has its own row: same framework, task,
    fold, constraint and seed under another id (e.g. the backend's version changed)."""
    df = store.frame()
    if df.empty:
        return {}
    ids = {j.id for j in jobs}
    old = df[~df["job_id"].isin(ids)]
    by_key: dict[tuple, list[str]] = {}
    cols = ["framework", "task", "fold", "constraint", "seed", "job_id"]
    for r in old[cols].itertuples(index=False):
        k = (r.framework, r.task, int(r.fold), r.constraint, int(r.seed))
        by_key.setdefault(k, []).append(r.job_id)
    out = {}
    for j in jobs:
        found = by_key.get((j.framework, j.task, j.fold, j.constraint, j.seed))
        if found:
            out[j.id] = found
    return out

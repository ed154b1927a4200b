"""Both executors implement the executor protocol, racing's admission and --exclusive's gate
included, as arguments of ``run`` (nothing set on the executor): real jobs of the constant
predictor on a small generated task, run by the local executor and by a Dask LocalCluster."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from automl_bench.execution.jobs import Limits, WorkItem
from automl_bench.execution.local_executor import LocalExecutor
from automl_bench.execution.protocol import Executor

CONSTANT = "automl_bench_adapters.constant:ConstantPredictor"


def _items(tmp: Path, n: int) -> list[WorkItem]:
    """``n`` jobs of the constant predictor, each with its spec.json, on one small task."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(60, 4)), columns=list("abcd"))
    df["y"] = rng.choice(["p", "q", "r"], size=60)
    data, folds = tmp / "data.parquet", tmp / "folds.json"
    df.to_parquet(data, index=False)
    folds.write_text(json.dumps([{"train": list(range(40)), "test": list(range(40, 60))}]))
    items = []
    for i in range(n):
        job_dir = tmp / f"job{i}"
        job_dir.mkdir()
        spec = {"adapter": CONSTANT, "params": {}, "budget_s": 5, "cores": 1, "memory_mb": 512,
                "seed": 0, "fold": 0, "data_path": str(data), "folds_path": str(folds),
                "target_column": "y", "infer_allowance_s": 0}  # fmt: skip
        (job_dir / "spec.json").write_text(json.dumps(spec))
        items.append(WorkItem(f"job{i}", job_dir, 5, 1, 512))
    return items


def _steered_run(executor: Executor, items: list[WorkItem]) -> dict:
    """Run ``items`` with an admission that drops the second job and a gate that holds the
    first two asks; what each callback saw."""
    seen = {"started": [], "done": [], "admitted": [], "gate": []}

    def admit(item: WorkItem) -> bool:
        seen["admitted"].append(item.job_id)
        return item.job_id != "job1"

    def gate(running: int) -> bool:
        seen["gate"].append(running)
        return len(seen["gate"]) > 2

    executor.run(items, on_start=lambda t: seen["started"].append(t.job_id),
                 on_done=lambda t, o: seen["done"].append((t.job_id, o.status)),
                 admit=admit, gate=gate)  # fmt: skip
    return seen


def _check(seen: dict) -> None:
    assert sorted(seen["admitted"]) == ["job0", "job1", "job2"]
    assert sorted(seen["started"]) == ["job0", "job2"]  # job1 was dropped: it never starts
    assert sorted(seen["done"]) == [("job0", "ok"), ("job2", "ok")]
    assert len(seen["gate"]) >= 4 and seen["gate"][:3] == [0, 0, 0]  # held twice, then let


def test_local_executor_admits_and_gates_through_run(tmp_path):
    items = _items(tmp_path, 3)
    executor = LocalExecutor(1, Limits(predict_s=5))
    assert isinstance(executor, Executor)
    try:
        seen = _steered_run(executor, items)
    finally:
        executor.close()
    _check(seen)
    assert not (items[1].job_dir / "started.json").exists()


def test_dask_executor_admits_and_gates_through_run(tmp_path):
    pytest.importorskip("distributed")
    from automl_bench.execution.dask_executor import DaskExecutor

    items = _items(tmp_path, 3)
    executor = DaskExecutor.connect(None, 1, 1, 512, Limits(predict_s=5))
    assert isinstance(executor, Executor)
    try:
        assert executor.slots(items) >= 1 and executor.notes(items) == []
        seen = _steered_run(executor, items)
    finally:
        executor.close()
    _check(seen)

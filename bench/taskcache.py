"""Materialise each task once per run: a columnar file every job reads, plus its folds.

Layout under ``<run>/tasks/<task>/``: ``data.parquet`` (features plus the ``__target__``
column), ``folds.json`` (train/test row indices per fold) and ``meta.json`` (source id,
class labels, content hash). The content hash enters every job id, so a changed dataset or
fold assignment never resumes onto old results.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bench.folds import stratified_folds
from bench.sources import load_task
from bench.validate import check_task

TARGET = "__target__"


@dataclass(frozen=True)
class CachedTask:
    name: str
    dir: Path
    source_id: str
    classes: list  # sorted class labels (JSON scalars)
    n_folds: int
    digest: str
    task_type: str

    @property
    def data_path(self) -> Path:
        return self.dir / "data.parquet"

    @property
    def folds_path(self) -> Path:
        return self.dir / "folds.json"


def _digest(df: pd.DataFrame, folds) -> str:
    h = hashlib.sha256()
    h.update(pd.util.hash_pandas_object(df, index=False).values.tobytes())
    h.update(json.dumps([list(map(str, df.columns)), [str(t) for t in df.dtypes]]).encode())
    for tr, te in folds:
        h.update(np.asarray(tr, dtype=np.int64).tobytes())
        h.update(np.asarray(te, dtype=np.int64).tobytes())
    return h.hexdigest()[:16]


def _json_label(v):
    return v.item() if hasattr(v, "item") else v


@dataclass
class LoadedTask:
    """A task's data, validated and split, not yet written anywhere."""

    name: str
    frame: pd.DataFrame  # features plus TARGET
    source_id: str
    splits: list
    classes: list
    digest: str

    @property
    def task_type(self) -> str:
        return "binary" if len(self.classes) == 2 else "multiclass"


def load(spec, suite, base_dir: Path) -> LoadedTask:
    """Load, validate and split one task. Raises BadInput naming the task on bad data."""
    data = load_task(spec, base_dir)
    check_task(spec.name, data.X, data.y, None if data.splits else suite.folds)
    splits = data.splits or stratified_folds(data.y, suite.folds, suite.seed)
    df = data.X.copy()
    df.columns = [str(c) for c in df.columns]
    df[TARGET] = data.y.to_numpy()
    classes = sorted(pd.unique(data.y).tolist(), key=lambda v: (str(type(v)), v))
    return LoadedTask(
        spec.name, df, data.source_id, splits, [_json_label(c) for c in classes],
        _digest(df, splits),
    )  # fmt: skip


def materialise(task: LoadedTask, run_dir: Path) -> CachedTask:
    """Write the task's columnar file and folds once; reuse them when the digest matches."""
    out = run_dir / "tasks" / task.name
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "name": task.name,
        "source_id": task.source_id,
        "classes": task.classes,
        "n_folds": len(task.splits),
        "digest": task.digest,
        "task_type": task.task_type,
        "rows": int(len(task.frame)),
        "features": int(task.frame.shape[1] - 1),
    }
    old = out / "meta.json"
    if not (old.exists() and json.loads(old.read_text()).get("digest") == task.digest):
        task.frame.to_parquet(out / "data.parquet.tmp", index=False)
        (out / "data.parquet.tmp").replace(out / "data.parquet")
        folds = [
            {"train": list(map(int, tr)), "test": list(map(int, te))} for tr, te in task.splits
        ]
        (out / "folds.json").write_text(json.dumps(folds))
        old.write_text(json.dumps(meta, indent=1))
    return CachedTask(
        task.name, out, task.source_id, task.classes, len(task.splits), task.digest,
        task.task_type,
    )  # fmt: skip

"""The predictions file a job writes, and how the driver checks and scores it.

``JOB_DIR/predictions.parquet`` has a namespaced schema, so any class label is legal data:

- one column per class the adapter returned, in the adapter's order, named
  ``proba:<label>`` (``proba:<label>#<i>`` if two labels print alike);
- ``row``: the test row's position in the task's data file (bookkeeping never starts with
  ``proba:``, so it cannot collide with a class column);
- the schema's metadata key ``automl_bench.classes`` holds the adapter's class labels with
  their types (``[{"type": "int", "value": 3}, ...]``), so a label ``"1"`` is never taken
  for ``1``.

The worker writes the adapter's probabilities exactly as returned (no repair). The driver
(:func:`check`) takes the test labels from the run's task files and folds, never from the
worker, checks the row ids against the fold, aligns the adapter's classes to the task's by
value *and* type, and counts the rows it had to repair: NaN or infinite or negative
probabilities, probability on a class the task does not have, or a row that does not sum to
1. Above :data:`MAX_REPAIRED_SHARE` of the rows the job's predictions are rejected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

FILE = "predictions.parquet"
PREFIX = "proba:"
ROW = "row"
META_KEY = b"automl_bench.classes"
MAX_REPAIRED_SHARE = 0.001  # above 0.1% of a job's rows: BadPredictions
SUM_TOL = 1e-4  # a row whose probabilities sum this far from 1 needed repair


class BadPredictions(Exception):
    """The job's predictions cannot be scored (the job is stored ``failed``)."""


# -- labels with their type ----------------------------------------------------------------


def _plain(v):
    return v.item() if hasattr(v, "item") else v


def tag(v) -> dict:
    """A class label as JSON with its type: ``{"type": "int", "value": 3}``."""
    v = _plain(v)
    if isinstance(v, bool):
        return {"type": "bool", "value": v}
    if isinstance(v, int):
        return {"type": "int", "value": v}
    if isinstance(v, float):
        return {"type": "float", "value": v}
    if isinstance(v, str):
        return {"type": "str", "value": v}
    return {"type": type(v).__name__, "value": str(v)}


def key(t: dict) -> tuple:
    """Two labels are the same class when their keys are equal: numbers by value (1 == 1.0),
    strings by text, never a string and a number ("1" != 1)."""
    kind, value = t["type"], t["value"]
    if kind in ("int", "float"):
        return ("number", float(value))
    return (kind, value)


def label_key(v) -> tuple:
    return key(tag(v))


# -- the worker's side ---------------------------------------------------------------------


def raw_proba(adapter, X) -> np.ndarray:
    """The adapter's probabilities as it computed them: adapters built on
    :class:`automl_bench_adapters.base.BaseAdapter` expose them before their own clean-up, so the harness
    sees and counts what needed repair; other adapters' ``predict_proba`` is used as is."""
    fn = getattr(adapter, "predict_proba_unchecked", None) or adapter.predict_proba
    return np.asarray(fn(X), dtype=float)


def write(job_dir: Path, proba, classes, rows) -> Path:
    """Write the adapter's probabilities (columns in ``classes`` order) and the test rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    proba = np.asarray(proba, dtype=float)
    tags = [tag(c) for c in classes]
    if proba.ndim != 2 or proba.shape[1] != len(tags):
        raise BadPredictions(f"predict_proba returned shape {proba.shape} for "
                             f"{len(tags)} classes")  # fmt: skip
    names, seen = [], set()
    for i, t in enumerate(tags):
        name = PREFIX + str(t["value"])
        if name in seen:
            name = f"{name}#{i}"
        seen.add(name)
        names.append(name)
    arrays = [pa.array(proba[:, i]) for i in range(len(names))]
    arrays.append(pa.array(np.asarray(rows, dtype=np.int64)))
    table = pa.Table.from_arrays(arrays, names=[*names, ROW])
    table = table.replace_schema_metadata({META_KEY: json.dumps(tags).encode()})
    out = Path(job_dir) / FILE
    tmp = out.with_name(FILE + ".tmp")
    pq.write_table(table, tmp)
    tmp.replace(out)
    return out


# -- the driver's side ---------------------------------------------------------------------


@dataclass
class Checked:
    proba: np.ndarray  # (n, K) aligned to the task's classes, repaired
    truth: np.ndarray  # (n,) index of the true class among the task's classes
    repaired_rows: int
    problems: dict = field(default_factory=dict)  # kind -> rows


@lru_cache(maxsize=32)
def _task_truth(task_dir: str, digest: str):
    """(class keys, target values, folds) of a run's task, read from its files once."""
    d = Path(task_dir)
    meta = json.loads((d / "meta.json").read_text())
    target = meta.get("target_column", "__target__")
    y = pd.read_parquet(d / "data.parquet", columns=[target])[target]
    folds = json.loads((d / "folds.json").read_text())
    return y, folds


def truth_for(task_dir: Path, digest: str, fold: int, classes: list) -> tuple[np.ndarray, np.ndarray]:
    """(test row ids, index of each test row's label among ``classes``) from the task files."""
    y, folds = _task_truth(str(task_dir), digest)
    test = np.asarray(folds[fold]["test"], dtype=np.int64)
    index = {label_key(c): i for i, c in enumerate(classes)}
    labels = y.iloc[test].tolist()
    try:
        ti = np.fromiter((index[label_key(v)] for v in labels), dtype=np.int64, count=len(labels))
    except KeyError as e:
        raise BadPredictions(f"the task's test labels include {e.args[0][1]!r}, which is not "
                             "among its classes") from None  # fmt: skip
    return test, ti


def read(path: Path) -> tuple[np.ndarray, list[dict], np.ndarray]:
    """(probabilities in the adapter's class order, class tags, row ids) from a file."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as e:
        raise BadPredictions(f"{path.name} is unreadable: {e}") from None
    meta = (table.schema.metadata or {}).get(META_KEY)
    if meta is None:
        raise BadPredictions(f"{path.name} does not record its classes (written by another tool?)")
    tags = json.loads(meta)
    names = [n for n in table.column_names if n.startswith(PREFIX)]
    if len(names) != len(tags) or ROW not in table.column_names:
        raise BadPredictions(f"{path.name}: {len(names)} probability columns for {len(tags)} "
                             f"classes, row ids {'present' if ROW in table.column_names else 'missing'}")  # fmt: skip
    proba = np.column_stack([table.column(n).to_numpy(zero_copy_only=False).astype(float)
                             for n in names]) if names else np.zeros((table.num_rows, 0))  # fmt: skip
    rows = table.column(ROW).to_numpy(zero_copy_only=False)
    return proba, tags, rows


def check(job_dir: Path, task_dir: Path, digest: str, fold: int, classes: list) -> Checked:
    """Align, validate and repair a job's predictions against the task's own labels."""
    proba, tags, rows = read(Path(job_dir) / FILE)
    test, ti = truth_for(task_dir, digest, fold, classes)
    if len(rows) != len(test) or not np.array_equal(np.asarray(rows, dtype=np.int64), test):
        raise BadPredictions(
            f"the predictions' row ids do not match fold {fold}'s test rows "
            f"({len(rows)} rows written, {len(test)} in the fold)"
        )
    n, k = len(test), len(classes)
    index = {label_key(c): i for i, c in enumerate(classes)}
    aligned = np.zeros((n, k))
    unmatched = np.zeros(n, dtype=bool)
    used: set[int] = set()
    finite = np.isfinite(proba)
    nonfinite = ~finite.all(axis=1)
    clean = np.where(finite, proba, 0.0)
    negative = (clean < 0).any(axis=1)
    total = clean.sum(axis=1)
    clean = np.clip(clean, 0.0, None)
    for j, t in enumerate(tags):
        i = index.get(key(t))
        if i is None or i in used:  # a class the task does not have (or a duplicate)
            unmatched |= clean[:, j] > 0
            continue
        used.add(i)
        aligned[:, i] = clean[:, j]
    off_sum = np.abs(total - 1.0) > SUM_TOL
    problems = {
        "NaN or infinite probability": int(nonfinite.sum()),
        "negative probability": int(negative.sum()),
        "probability on a class the task does not have": int(unmatched.sum()),
        "row does not sum to 1": int((off_sum & ~nonfinite & ~negative & ~unmatched).sum()),
    }
    bad = nonfinite | negative | unmatched | off_sum
    repaired = int(bad.sum())
    problems = {k: v for k, v in problems.items() if v}
    if repaired > MAX_REPAIRED_SHARE * n:
        unknown = [t["value"] for t in tags if key(t) not in index]
        hint = ""
        if unknown:
            hint = (f"; the adapter's classes {unknown[:5]!r} ({', '.join(sorted({t['type'] for t in tags if key(t) not in index}))}) "
                    f"are not the task's {list(classes)[:5]!r}")  # fmt: skip
        raise BadPredictions(
            f"{repaired} of {n} rows would need repair (over {MAX_REPAIRED_SHARE:.1%}): "
            + ", ".join(f"{k}: {v}" for k, v in problems.items()) + hint
        )
    sums = aligned.sum(axis=1, keepdims=True)
    aligned = np.where(sums > 0, aligned / np.where(sums > 0, sums, 1.0), 1.0 / k)
    return Checked(aligned, ti, repaired, problems)

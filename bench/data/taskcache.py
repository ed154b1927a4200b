"""Columnar task data: a content-hashed cache across runs, and one copy per run for the jobs.

Cross-run cache (``<cache root>/tasks/<key>/``, root from ``--cache-dir`` /
``$AUTOML_BENCH_CACHE``, default ``~/.cache/automl-bench``): for sources parsed from files
(CSV, ARFF, Parquet, OpenML's cache) the key is a hash of the source files' bytes plus the
task options, computed without parsing; a hit reads ``data.arrow`` (Arrow IPC / Feather,
uncompressed: on wide tables ~4x faster to read than Parquet) plus ``splits.npz`` instead of
re-parsing; stratified folds drawn for an entry are kept beside it
(``folds-<k>-<seed>-sklearn<version>.npz``), so a run of a cached task starts its jobs
without importing scikit-learn. Entries are written only after every task of the run validated (bad
data is never cached), atomically (a temp folder renamed into place). Built-in sources
(scikit-learn, generated) are cheap to rebuild and are not cached.

Per run (``<run>/tasks/<task>/``): ``data.parquet`` (features plus the ``__target__``
column) which every job reads, ``folds.json`` (train/test row indices per fold),
``meta.json`` (source id, classes, content hash) and ``profile.json`` (automl_bench.data.profile). The
content hash enters every job id, so a changed dataset or fold assignment never resumes onto
old results.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from automl_bench.data.folds import stratified_folds
from automl_bench.data.profile import profile
from automl_bench.data.sources import SourceContext, TaskData, fingerprint, load_task
from automl_bench.data.validate import check_task

TARGET = "__target__"


def target_name(columns) -> str:
    """The label column's name in task files: ``__target__``, or ``__target__1``, ... when a
    feature already has that name (any feature name is legal data)."""
    names, name, i = {str(c) for c in columns}, TARGET, 0
    while name in names:
        i += 1
        name = f"{TARGET}{i}"
    return name

log = logging.getLogger("automl_bench.data.taskcache")


@dataclass(frozen=True)
class CachedTask:
    name: str
    dir: Path
    source_id: str
    classes: list  # sorted class labels (JSON scalars)
    n_folds: int
    digest: str
    task_type: str
    target_column: str = TARGET

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


def _canonical(X: pd.DataFrame) -> pd.DataFrame:
    """One dtype per kind of column, whether parsed now or read back from the cache: numbers
    and booleans stay, every other column becomes ``category`` of strings (which is what the
    adapters treat it as), with its categories as plain Python strings."""
    X = X.copy()
    X.columns = [str(c) for c in X.columns]
    for c in X.columns:
        col = X[c]
        if pd.api.types.is_numeric_dtype(col) and not isinstance(col.dtype, pd.CategoricalDtype):
            continue
        values = col.astype(object).where(col.notna(), None)
        values = values.map(lambda v: None if v is None else str(v))
        if isinstance(col.dtype, pd.CategoricalDtype):
            cats = [str(v) for v in col.cat.categories]
        else:
            cats = sorted(set(values.dropna()))
        X[c] = pd.Categorical(values, categories=pd.Index(cats, dtype=object))
    return X


# ---------------------------------------------------------------- the cross-run cache


def cache_dir(root: Path, key: str) -> Path:
    return Path(root) / "tasks" / key


def read_cached(root: Path | None, key: str) -> TaskData | None:
    if root is None:
        return None
    d = cache_dir(root, key)
    try:
        meta = json.loads((d / "meta.json").read_text())
        df = pd.read_feather(d / "data.arrow")
        splits = None
        if meta.get("n_splits"):
            with np.load(d / "splits.npz") as z:
                splits = [(z[f"train_{i}"], z[f"test_{i}"]) for i in range(meta["n_splits"])]
    except (OSError, ValueError, KeyError) as e:
        if d.exists():
            log.warning("task cache entry %s unreadable (%s); parsing the source again", d, e)
        return None
    y = df.pop(meta.get("target_column", TARGET)).rename("target")
    return TaskData(X=df, y=y, source_id=meta["source_id"], splits=splits,
                    origin=meta.get("origin", ""), fingerprint=key)  # fmt: skip


def write_cached(root: Path, key: str, data: TaskData) -> Path | None:
    final = cache_dir(root, key)
    if final.exists():
        return final
    tmp = None
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=final.parent))
        df = data.X.copy()
        target = target_name(df.columns)
        df[target] = data.y.to_numpy()
        df.reset_index(drop=True).to_feather(tmp / "data.arrow", compression="uncompressed")
        if data.splits:
            arrays = {}
            for i, (tr, te) in enumerate(data.splits):
                arrays[f"train_{i}"], arrays[f"test_{i}"] = np.asarray(tr), np.asarray(te)
            np.savez(tmp / "splits.npz", **arrays)
        meta = {"key": key, "source_id": data.source_id, "origin": data.origin,
                "n_splits": len(data.splits or []), "rows": len(df),
                "target_column": target}  # fmt: skip
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        try:
            os.replace(tmp, final)
        except OSError:  # another process stored the same key first
            shutil.rmtree(tmp, ignore_errors=True)
        return final
    except Exception as e:  # a cache that cannot be written costs speed, not correctness
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)  # no half-written entry is left behind
        log.warning("could not write task cache entry %s: %s", final, e)
        return None


def _folds_file(root: Path, key: str, n_folds: int, seed: int) -> Path:
    from importlib.metadata import version

    # stratified folds depend on the class column (fixed by the key), k, seed and the
    # scikit-learn that drew them
    return cache_dir(root, key) / f"folds-{n_folds}-{seed}-sklearn{version('scikit-learn')}.npz"


def read_folds(root: Path | None, key: str | None, n_folds: int, seed: int) -> list | None:
    """Stratified folds drawn for this cache entry before: a run of a cached task then does
    not need scikit-learn before its first job starts."""
    if root is None or not key:
        return None
    try:
        with np.load(_folds_file(root, key, n_folds, seed)) as z:
            return [(z[f"train_{i}"], z[f"test_{i}"]) for i in range(n_folds)]
    except (OSError, ValueError, KeyError):
        return None


def write_folds(root: Path, key: str, n_folds: int, seed: int, splits) -> None:
    path = _folds_file(root, key, n_folds, seed)
    if not path.parent.is_dir() or path.exists():
        return
    arrays = {}
    for i, (tr, te) in enumerate(splits):
        arrays[f"train_{i}"], arrays[f"test_{i}"] = np.asarray(tr), np.asarray(te)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.npz")
    try:
        np.savez(tmp, **arrays)
        os.replace(tmp, path)
    except OSError as e:  # costs speed next time, not correctness
        log.warning("could not write task cache folds %s: %s", path, e)
        tmp.unlink(missing_ok=True)


# ---------------------------------------------------------------- loading a task for a run


@dataclass
class LoadedTask:
    """A task's data, validated and split, not yet written anywhere."""

    name: str
    frame: pd.DataFrame  # features plus the label column (target_column)
    source_id: str
    splits: list
    classes: list
    digest: str
    profile: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    cache_hit: bool = False
    pending: tuple | None = None  # (cache root, key, TaskData) to store once the run is valid
    pending_folds: tuple | None = None  # (cache root, key, k, seed): stratified folds to store
    target_column: str = TARGET

    @property
    def task_type(self) -> str:
        return "binary" if len(self.classes) == 2 else "multiclass"


def load(spec, suite, ctx: SourceContext) -> LoadedTask:
    """Load (from the cache when the source's content is unchanged), validate and split one
    task. Raises BadInput naming the task and file on bad data, TaskUnavailable when the
    source cannot be reached."""
    key = fingerprint(spec, ctx)
    data = read_cached(ctx.cache_root, key) if key else None
    hit = data is not None
    if data is None:
        data = load_task(spec, ctx)
        key = key or data.fingerprint
    Xc = _canonical(data.X)
    X, y, notes = check_task(spec.name, Xc, data.y,
                             None if data.splits else suite.folds, data.origin, data.splits)  # fmt: skip
    splits, pending_folds = data.splits, None
    if not splits:
        splits = read_folds(ctx.cache_root, key, suite.folds, suite.seed) if hit else None
        if splits is None:
            splits = stratified_folds(y, suite.folds, suite.seed)
            if key and ctx.cache_root is not None:
                pending_folds = (ctx.cache_root, key, suite.folds, suite.seed)
    df = X.copy()
    target = target_name(df.columns)
    df[target] = y.to_numpy()
    classes = [_json_label(c) for c in sorted(pd.unique(y).tolist(),
                                              key=lambda v: (str(type(v)), v))]  # fmt: skip
    prof = profile(X, y, source_id=data.source_id, origin=data.origin, fixes=notes,
                   folds=len(splits), splits="source" if data.splits else "stratified")  # fmt: skip
    pending = None
    if not hit and key and ctx.cache_root is not None:
        pending = (ctx.cache_root, key,
                   TaskData(Xc, data.y, data.source_id, data.splits, data.origin))  # fmt: skip
    return LoadedTask(spec.name, df, data.source_id, splits, classes, _digest(df, splits),
                      prof, notes, hit, pending, pending_folds, target)  # fmt: skip


def commit(tasks: list[LoadedTask]) -> None:
    """Store freshly parsed tasks in the cross-run cache (call once all tasks validated)."""
    for t in tasks:
        if t.pending:
            write_cached(*t.pending)
            t.pending = None
        if t.pending_folds:
            write_folds(*t.pending_folds, t.splits)
            t.pending_folds = None


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
        "target_column": task.target_column,
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
    (out / "profile.json").write_text(json.dumps(task.profile, indent=1, default=str))
    return CachedTask(
        task.name, out, task.source_id, task.classes, len(task.splits), task.digest,
        task.task_type, task.target_column,
    )  # fmt: skip


def unavailable(name: str, n_folds: int, reason: str) -> CachedTask:
    """Stand-in for a task that could not be loaded: its jobs are recorded as failed."""
    digest = "unavailable-" + hashlib.sha256(name.encode()).hexdigest()[:8]
    return CachedTask(name, Path("."), f"unavailable/{name}", [], n_folds, digest, "multiclass")

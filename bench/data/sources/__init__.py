"""Task sources: each turns a suite's task spec into features, labels and optional fixed splits.

One module per source kind; ``load_task`` dispatches on the kind the spec names. A source
module offers ``load(source, ctx) -> TaskData`` and, when its input is a file whose parse is
worth skipping, ``fingerprint(source, ctx) -> str | None``: a content hash computed without
parsing, which keys the columnar task cache (automl_bench.data.taskcache).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd


class TaskUnavailable(Exception):
    """A task's data cannot be had right now (e.g. the OpenML server is unreachable and the
    task is not cached). Not bad input: the run records the task's jobs as failed and goes on.
    """


@dataclass
class SourceContext:
    """Where sources look for things: the suite's folder, data root, OpenML settings."""

    base_dir: Path
    openml_cache: Path | None = None  # the user's OpenML cache (read, never destroyed)
    openml_server: str | None = None  # default server for tasks that name none
    cache_root: Path | None = None  # bench's own cache root (columnar task cache, work copies)

    @classmethod
    def from_env(cls, base_dir: Path, **overrides) -> SourceContext:
        env = os.environ
        ctx = cls(
            base_dir=Path(base_dir),
            openml_cache=_path(env.get("AUTOML_BENCH_OPENML_CACHE")),
            openml_server=env.get("AUTOML_BENCH_OPENML_SERVER") or None,
            cache_root=default_cache_root(),
        )
        for k, v in overrides.items():
            if v is not None:
                setattr(ctx, k, Path(v) if k in ("openml_cache", "cache_root") else v)
        return ctx


def _path(text: str | None) -> Path | None:
    return Path(text).expanduser() if text else None


def default_cache_root() -> Path:
    """$AUTOML_BENCH_CACHE, else $XDG_CACHE_HOME/automl-bench, else ~/.cache/automl-bench."""
    if os.environ.get("AUTOML_BENCH_CACHE"):
        return Path(os.environ["AUTOML_BENCH_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(xdg) / "automl-bench"


@dataclass
class TaskData:
    X: pd.DataFrame
    y: pd.Series
    source_id: str  # stable identifier recorded as the results' `id` column
    # Fixed splits from the source (OpenML's, a test file, a fold column): list of
    # (train_idx, test_idx), else None (the harness makes stratified folds).
    splits: list[tuple[np.ndarray, np.ndarray]] | None = None
    origin: str = ""  # what to name in error messages: a file path, "OpenML task 1882 (...)"
    # content hash known only after loading (e.g. OpenML files fetched into a work copy)
    fingerprint: str | None = None
    notes: list[str] = field(default_factory=list)


def _module(kind: str):
    if kind == "sklearn":
        from automl_bench.data.sources import sklearn_data as m
    elif kind == "generated":
        from automl_bench.data.sources import generated as m
    elif kind == "file":
        from automl_bench.data.sources import files as m
    elif kind == "openml":
        from automl_bench.data.sources import openml_tasks as m
    else:  # pragma: no cover - the suite model admits no other kinds
        raise ValueError(f"unknown source kind {kind}")
    return m


def load_task(spec, ctx: SourceContext) -> TaskData:
    kind, source = spec.source
    return _module(kind).load(source, ctx)


def fingerprint(spec, ctx: SourceContext) -> str | None:
    """Content hash of the task's source files without parsing them, or None (not cached)."""
    kind, source = spec.source
    fp = getattr(_module(kind), "fingerprint", None)
    return fp(source, ctx) if fp else None

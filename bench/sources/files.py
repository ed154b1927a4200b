"""Local Parquet and CSV files with a target column."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from bench.errors import BadInput
from bench.sources import TaskData

DATA_ROOT_ENV = "AUTOML_BENCH_DATA"


def resolve(path: str, base_dir: Path) -> Path:
    """A relative path resolves against $AUTOML_BENCH_DATA if set, else the suite's folder."""
    p = Path(os.path.expandvars(path)).expanduser()
    if not p.is_absolute():
        p = Path(os.environ.get(DATA_ROOT_ENV, base_dir)) / p
    if not p.exists():
        raise BadInput(f"data file {p} does not exist (from path {path!r})")
    return p


def read_table(p: Path) -> pd.DataFrame:
    try:
        if p.suffix == ".parquet":
            return pd.read_parquet(p)
        if p.suffix in (".csv", ".gz"):
            return pd.read_csv(p)
    except Exception as e:
        raise BadInput(f"{p}: cannot be read as {p.suffix.lstrip('.')}: {e}") from None
    raise BadInput(f"{p}: unsupported file type {p.suffix!r} (use .parquet or .csv)")


def load(source, base_dir) -> TaskData:
    p = resolve(source.path, base_dir)
    df = read_table(p)
    if source.target not in df.columns:
        raise BadInput(
            f"{p}: target column {source.target!r} not found; columns include "
            f"{', '.join(map(str, list(df.columns)[:10]))}"
        )
    missing = [c for c in source.ignore if c not in df.columns]
    if missing:
        raise BadInput(f"{p}: ignored column(s) not found: {', '.join(missing)}")
    y = df[source.target].reset_index(drop=True)
    X = df.drop(columns=[source.target, *source.ignore]).reset_index(drop=True)
    return TaskData(X=X, y=y.rename("target"), source_id=f"file/{p.name}")

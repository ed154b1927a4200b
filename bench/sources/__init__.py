"""Task sources: each turns a suite's task spec into features, labels and optional fixed splits.

One module per source kind; ``load_task`` dispatches on the kind the spec names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass
class TaskData:
    X: pd.DataFrame
    y: pd.Series
    source_id: str  # stable identifier recorded as the results' `id` column
    # Fixed splits from the source (e.g. OpenML's): list of (train_idx, test_idx), else None.
    splits: list[tuple[np.ndarray, np.ndarray]] | None = None


def load_task(spec, base_dir: Path) -> TaskData:
    kind, source = spec.source
    if kind == "sklearn":
        from bench.sources.sklearn_data import load
    elif kind == "generated":
        from bench.sources.generated import load
    elif kind == "file":
        from bench.sources.files import load
    else:  # pragma: no cover - the suite model admits no other kinds
        raise ValueError(f"unknown source kind {kind}")
    return load(source, base_dir)

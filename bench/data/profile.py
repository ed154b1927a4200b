"""Dataset profile: the shape and difficulty markers of a task, stored with the run.

Written to ``<run>/tasks/<task>/profile.json`` and shown by ``show RUN`` and
``list tasks --suite NAME``. Definitions:

- ``features``: columns given to the frameworks (after validation fixes); ``numeric`` and
  ``categorical`` (everything non-numeric) split them;
- ``missing_ratio``: missing cells / all feature cells;
- ``sparsity``: zero cells / present numeric cells (cnae-9 ~0.99);
- ``imbalance``: rows of the majority class / rows of the minority class (1 = balanced);
- ``features_per_row``: features / rows (> 1 means more columns than rows).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def profile(X: pd.DataFrame, y: pd.Series, **extra) -> dict:
    rows, features = X.shape
    numeric = X.select_dtypes(include=["number", "bool"])
    counts = y.value_counts()
    values = numeric.to_numpy(dtype=float, na_value=np.nan) if numeric.shape[1] else np.empty(0)
    present = int(np.count_nonzero(~np.isnan(values))) if values.size else 0
    zeros = int(np.count_nonzero(values == 0)) if values.size else 0
    missing = int(X.isna().to_numpy().sum())
    return {
        "rows": int(rows),
        "features": int(features),
        "numeric": int(numeric.shape[1]),
        "categorical": int(features - numeric.shape[1]),
        "missing_ratio": round(missing / max(rows * features, 1), 6),
        "classes": int(len(counts)),
        "majority_class_rows": int(counts.max()),
        "minority_class_rows": int(counts.min()),
        "imbalance": round(float(counts.max() / counts.min()), 4),
        "sparsity": round(zeros / present, 6) if present else 0.0,
        "features_per_row": round(features / max(rows, 1), 6),
        **extra,
    }


def table(profiles: dict[str, dict], title: str = "Task profiles"):
    """A rich table: one row per task; ``profiles`` maps task name to profile or error text."""
    from rich.table import Table
    from rich.text import Text

    t = Table(title=title)
    for c in ("task", "rows", "features", "num/cat", "missing", "classes", "imbalance",
              "sparsity", "feat/rows", "source"):  # fmt: skip
        t.add_column(c, justify="left" if c in ("task", "source") else "right")
    for name, p in profiles.items():
        if isinstance(p, str):
            t.add_row(Text(name), *["-"] * 8, Text(p, "red"))
            continue
        t.add_row(
            Text(name), str(p["rows"]), str(p["features"]), f"{p['numeric']}/{p['categorical']}",
            f"{p['missing_ratio']:.1%}", str(p["classes"]), f"{p['imbalance']:.1f}",
            f"{p['sparsity']:.1%}", f"{p['features_per_row']:.3f}",
            Text(str(p.get("source_id", ""))).append(
                f" ({'; '.join(map(str, p['fixes']))})" if p.get("fixes") else "", "yellow"),
        )  # fmt: skip
    return t

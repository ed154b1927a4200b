"""Write real datasets in the formats users bring (ARFF, CSV) for tests and benchmarks."""

from __future__ import annotations

from pathlib import Path

import arff
import pandas as pd


def write_arff(df: pd.DataFrame, path: Path, relation: str = "data") -> Path:
    """Dense ARFF: non-numeric columns become nominal attributes, missing values '?'."""
    attributes, columns = [], []
    for c in df.columns:
        col = df[c]
        if pd.api.types.is_numeric_dtype(col) and not isinstance(col.dtype, pd.CategoricalDtype):
            attributes.append((str(c), "REAL"))
            columns.append([None if pd.isna(v) else float(v) for v in col])
        else:
            values = [None if pd.isna(v) else str(v) for v in col]
            nominal = sorted({v for v in values if v is not None})
            attributes.append((str(c), nominal or "REAL"))  # all missing: no values to list
            columns.append(values)
    rows = [list(r) for r in zip(*columns, strict=True)]
    Path(path).write_text(arff.dumps({"relation": relation, "attributes": attributes,
                                      "data": rows}))  # fmt: skip
    return Path(path)

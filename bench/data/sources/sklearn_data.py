"""Datasets bundled with scikit-learn (work offline on any machine)."""

from __future__ import annotations

import pandas as pd
from sklearn import datasets

from automl_bench.data.sources import TaskData


def load(source, ctx) -> TaskData:
    loader = getattr(datasets, f"load_{source.dataset}")
    bunch = loader(as_frame=True)
    X = bunch.data.reset_index(drop=True)
    y = pd.Series(bunch.target, name="target").reset_index(drop=True)
    return TaskData(X=X, y=y, source_id=f"sklearn/{source.dataset}",
                    origin=f"scikit-learn dataset {source.dataset!r}")  # fmt: skip

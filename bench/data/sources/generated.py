"""Generated high-dimensional multi-class problems (sklearn make_classification)."""

from __future__ import annotations

import pandas as pd
from sklearn.datasets import make_classification

from automl_bench.data.sources import TaskData


def load(source, ctx) -> TaskData:
    X, y = make_classification(
        n_samples=source.rows,
        n_features=source.features,
        n_informative=source.informative,
        n_redundant=0,
        n_classes=source.classes,
        n_clusters_per_class=1,
        class_sep=source.class_sep,
        random_state=source.seed,
    )
    width = len(str(source.features - 1))
    X = pd.DataFrame(X.astype("float32"), columns=[f"f{i:0{width}d}" for i in range(X.shape[1])])
    sid = (
        f"generated/rows={source.rows},features={source.features},informative={source.informative},"
        f"classes={source.classes},seed={source.seed},class_sep={source.class_sep:g}"
    )
    return TaskData(X=X, y=pd.Series(y, name="target"), source_id=sid, origin=sid)

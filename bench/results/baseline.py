"""The constant predictor's scores for a task's fold, recomputed from the run's task files.

Used to impute a failed job when the run did not include the ``constant`` framework (or its
job failed too): the training fold's class prior for every test row, scored by the same
scorer as every job (``automl_bench.results.scoring``).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from automl_bench.execution.predictions_file import BadPredictions, truth_for
from automl_bench.results.scoring import headline, score


@cache
def _task(task_dir: str):
    d = Path(task_dir)
    meta = json.loads((d / "meta.json").read_text())
    folds = json.loads((d / "folds.json").read_text())
    y = pd.read_parquet(d / "data.parquet", columns=[meta.get("target_column", "__target__")])
    return meta, folds, y.iloc[:, 0]


def constant_scores(task_dir: Path, fold: int) -> dict | None:
    """Metrics plus ``result`` of the class-prior predictor, or None if files are missing."""
    try:
        meta, folds, y = _task(str(task_dir))
        if not 0 <= fold < len(folds):
            return None
        classes = meta["classes"]
        _, truth = truth_for(Path(task_dir), str(meta.get("digest")), fold, classes)
        _, train = _train_truth(y, folds[fold]["train"], classes)
    except (OSError, ValueError, KeyError, TypeError, BadPredictions):
        return None
    prior = np.bincount(train, minlength=len(classes)).astype(float)
    prior = prior / prior.sum()
    out = score(np.tile(prior, (len(truth), 1)), truth)
    out["result"] = headline(meta.get("task_type", "multiclass"), out)[1]
    return out


def _train_truth(y: pd.Series, rows, classes):
    from automl_bench.execution.predictions_file import label_key

    index = {label_key(c): i for i, c in enumerate(classes)}
    return rows, np.array([index[label_key(v)] for v in y.iloc[rows].tolist()], dtype=np.int64)

"""The constant predictor's scores for a task's fold, recomputed from the run's task files.

Used to impute a failed job when the run did not include the ``constant`` framework (or its
job failed too): the training fold's class prior for every test row, scored by the same
scorer as every job (``bench.scoring``).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from bench.scoring import headline, score
from bench.taskcache import TARGET


@cache
def _task(task_dir: str):
    d = Path(task_dir)
    meta = json.loads((d / "meta.json").read_text())
    folds = json.loads((d / "folds.json").read_text())
    y = pd.read_parquet(d / "data.parquet", columns=[TARGET])[TARGET]
    return meta, folds, y


def constant_scores(task_dir: Path, fold: int) -> dict | None:
    """Metrics plus ``result`` of the class-prior predictor, or None if files are missing."""
    try:
        meta, folds, y = _task(str(task_dir))
    except (OSError, ValueError, KeyError):
        return None
    if not 0 <= fold < len(folds):
        return None
    classes = meta["classes"]
    labels = [str(c) for c in classes]
    train = y.iloc[folds[fold]["train"]].astype(str)
    truth = y.iloc[folds[fold]["test"]].astype(str).to_numpy()
    prior = train.value_counts().reindex(labels, fill_value=0).to_numpy(dtype=float)
    prior = prior / prior.sum()
    preds = pd.DataFrame(np.tile(prior, (len(truth), 1)), columns=labels)
    preds["predictions"] = labels[int(np.argmax(prior))]
    preds["truth"] = truth
    out = score(preds, classes)
    out["result"] = headline(meta.get("task_type", "multiclass"), out)[1]
    return out

"""Fit the CatBoost adapter on real data in the scenarios tests/test_catboost_adapter.py
checks, and print what it checks, one JSON line per scenario.

Run by the tests with CatBoost's environment's interpreter (catboost is not in the harness's
environment: see its definition in adapters/frameworks.yaml), and usable by hand:

    python tests/catboost_probe.py DATASETS_DIR [SCENARIO ...]

``DATASETS_DIR`` holds segment, anneal and optdigits as Parquet (tests/data/datasets).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from automl_bench_adapters.catboost_trees import CatBoost


def _load(data: Path, name: str):
    df = pd.read_parquet(data / f"{name}.parquet")
    return df.drop(columns=["class"]), df["class"]


def _split(X, y):
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def _labels(values) -> list:
    return [v.item() if hasattr(v, "item") else v for v in values]


def segment(data: Path) -> dict:
    """String labels, 7 classes: probabilities as CatBoost gave them, columns in class order
    (the mean probability of each column over each true class's rows)."""
    X, y = _load(data, "segment")
    Xtr, Xte, ytr, yte = _split(X, y)
    with tempfile.TemporaryDirectory() as scratch:
        model = CatBoost(time_limit=3, cores=1, seed=0, scratch_dir=scratch).fit(Xtr, ytr)
        proba = model.predict_proba_unchecked(Xte)
        written = os.listdir(scratch)
    means = [proba[yte.to_numpy() == c].mean(axis=0).tolist() for c in model.classes_]
    return {"classes": _labels(model.classes_), "labels": sorted(y.unique()),
            "shape": list(proba.shape), "row_sum_error": float(np.abs(proba.sum(1) - 1).max()),
            "finite_nonnegative": bool(np.isfinite(proba).all() and (proba >= 0).all()),
            "class_means": means, "scratch_written": written,
            "predict_is_argmax": bool((model.predict(Xte) ==
                                       model.classes_[proba.argmax(axis=1)]).all())}  # fmt: skip


def anneal(data: Path) -> dict:
    """String columns with missing cells, integer labels, a category unseen in training."""
    X, y = _load(data, "anneal")
    codes = {c: i * 10 + 3 for i, c in enumerate(sorted(y.unique()))}
    y = y.map(codes).astype(int)
    Xtr, Xte, ytr, _ = _split(X, y)
    model = CatBoost(time_limit=3, cores=1, seed=0).fit(Xtr, ytr)
    cats = [c for c in model.categories_ if len(model.categories_[c])]
    Xte = Xte.copy()
    Xte[cats[0]] = "a value never seen in training"
    proba = model.predict_proba_unchecked(Xte)
    return {"missing_cells": int(X.isna().sum().sum()), "string_columns": len(cats),
            "classes": _labels(model.classes_), "labels": sorted(codes.values()),
            "catboost_cat_features": len(model.model_.get_cat_feature_indices()),
            "row_sum_error": float(np.abs(proba.sum(1) - 1).max()),
            "predicted": sorted(set(_labels(model.predict(Xte))))}  # fmt: skip


def boolean(data: Path) -> dict:
    X, y = _load(data, "segment")
    y = y == sorted(y.unique())[0]
    model = CatBoost(time_limit=2, cores=1, seed=0, n_estimators=50).fit(X, y)
    proba = model.predict_proba(X)
    return {"classes": _labels(model.classes_), "shape": list(proba.shape),
            "true_column_on_true_rows": float(proba[y.to_numpy(), 1].mean()),
            "true_column_on_false_rows": float(proba[~y.to_numpy(), 1].mean())}  # fmt: skip


def deadline(data: Path) -> dict:
    """optdigits with 100,000 rounds at a small learning rate: the 2 s budget ends it."""
    X, y = _load(data, "optdigits")
    model = CatBoost(time_limit=2, cores=1, seed=0, n_estimators=100_000, learning_rate=0.01,
                     early_stopping_rounds=None)  # fmt: skip
    t0 = time.monotonic()
    model.fit(X, y)
    fit_s = time.monotonic() - t0
    tr = model.trajectory()
    return {"fit_s": fit_s, "stop_reason": model.stop_reason_, "rounds": model.rounds_,
            "best_model": model.best_model_, "kept": int(model.model_.tree_count_),
            "columns": list(tr.columns), "points": len(tr),
            "elapsed": tr["elapsed_s"].tolist(), "best_loss": tr["best_loss"].tolist(),
            "loss_names": sorted(tr["loss_name"].unique()),
            "validation": sorted(tr["validation"].unique()),
            "evaluated": tr["evaluated"].head(2).tolist()}  # fmt: skip


def slow_rounds(data: Path) -> dict:
    """A generated problem whose rounds take a good part of a second each (300 features x 10
    classes): a 4 s budget holds only a few, and the next one must not start past it."""
    from sklearn.datasets import make_classification

    X, y = make_classification(300, 300, n_informative=20, n_classes=10, random_state=0)
    model = CatBoost(time_limit=4, cores=1, seed=0, early_stopping_rounds=None)
    t0 = time.monotonic()
    model.fit(pd.DataFrame(X), y)
    fit_s = time.monotonic() - t0
    ends = model.trajectory()["elapsed_s"].tolist()
    return {"fit_s": fit_s, "stop_reason": model.stop_reason_, "rounds": model.rounds_,
            "round_ends": ends}  # fmt: skip


def early_stop(data: Path) -> dict:
    """A generated 3-class problem at a high learning rate: the validation loss stops
    improving long before 1000 rounds."""
    from sklearn.datasets import make_classification

    X, y = make_classification(400, 10, n_informative=5, n_classes=3, random_state=0)
    model = CatBoost(time_limit=60, cores=1, seed=0, learning_rate=0.5,
                     early_stopping_rounds=20).fit(pd.DataFrame(X), y)  # fmt: skip
    tr = model.trajectory()
    return {"stop_reason": model.stop_reason_, "rounds": model.rounds_,
            "kept": int(model.model_.tree_count_), "best_model": model.best_model_,
            "incumbent": tr["model"].iloc[-1], "best_loss": float(tr["best_loss"].iloc[-1]),
            "losses": tr["loss"].tolist()}  # fmt: skip


def cores_seed_save(data: Path) -> dict:
    """Two fits with one seed on 1 core, the CPU share of each; the thread count for 2 cores;
    the saved model, loaded back."""
    import joblib

    X, y = _load(data, "segment")
    Xtr, Xte, ytr, _ = _split(X, y)
    fits, shares = [], []
    for _ in range(2):
        t0, c0 = time.monotonic(), _cpu()
        fits.append(CatBoost(time_limit=30, cores=1, seed=5, n_estimators=150).fit(Xtr, ytr))
        shares.append((_cpu() - c0) / (time.monotonic() - t0))
    a, b = fits
    two = CatBoost(cores=2, n_estimators=5).fit(Xtr, ytr)
    with tempfile.TemporaryDirectory() as folder:
        fmt = a.save_model(folder)
        reloaded = joblib.load(Path(folder) / "model.joblib").predict_proba(Xte)
    params = a.model_.get_params()
    return {"thread_count": params["thread_count"], "random_seed": params["random_seed"],
            "cpu_shares": shares, "stop_reasons": [a.stop_reason_, b.stop_reason_],
            "same_predictions": bool(np.array_equal(a.predict_proba(Xte), b.predict_proba(Xte))),
            "thread_count_2_cores": two.model_.get_params()["thread_count"],
            "saved_format": fmt,
            "reloaded_same": bool(np.array_equal(reloaded, a.predict_proba(Xte)))}  # fmt: skip


SCENARIOS = {f.__name__: f for f in (segment, anneal, boolean, deadline, slow_rounds,
                                     early_stop, cores_seed_save)}  # fmt: skip


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    data, names = Path(argv[0]), argv[1:] or list(SCENARIOS)
    for name in names:
        out = SCENARIOS[name](data)
        sys.stdout.write("PROBE " + json.dumps({"scenario": name, **out}) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

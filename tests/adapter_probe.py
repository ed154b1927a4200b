"""Fit one adapter on a real dataset and print what the tests check, as one JSON line.

Run by the tests with an adapter environment's interpreter (AutoGluon and EvalML cannot be
imported beside the harness's pandas), and usable by hand:

    python tests/adapter_probe.py automl_bench_adapters.autogluon_tabular:AutoGluon DATASET.parquet \
        --budget 15 [--numeric-labels] [--params '{"presets": "best_quality"}']

Split: stratified 70/30 with seed 0. ``--numeric-labels`` maps the string classes to
non-contiguous integers (10 * rank + 3), so integer labels are exercised too.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
import time

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split


def probe(adapter: str, data: str, budget: float, numeric: bool, params: dict, cores: int = 1):
    module, _, name = adapter.partition(":")
    cls = getattr(importlib.import_module(module), name)
    df = pd.read_parquet(data)
    X, y = df.drop(columns=["class"]), df["class"]
    if numeric:
        codes = {c: 10 * i + 3 for i, c in enumerate(sorted(y.unique()))}
        y = y.map(codes).astype(int)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    with tempfile.TemporaryDirectory(prefix="adapter-probe-") as scratch:
        model = cls(
            time_limit=budget, cores=cores, memory_mb=4096, seed=0, scratch_dir=scratch, **params
        )
        t0 = time.perf_counter()
        model.fit(Xtr, ytr)
        fit_s = time.perf_counter() - t0
        proba = model.predict_proba(Xte)
        pred = model.predict(Xte)
        from pathlib import Path

        from automl_bench.execution.inference import measure

        trajectory = _trajectory(model, Path(scratch) / "trajectory", fit_s)
        inference = measure(model, Xte, Path(scratch) / "inference", allowance_s=30)
        saved = Path(scratch) / "saved"
        saved.mkdir()
        fmt = model.save_model(str(saved))
        reloaded = _reload_codes(fmt, saved, model, Xte)
        codes = _codes(model, pred)
    board = getattr(model, "leaderboard_", None)
    expected = sorted(y.unique())
    return {
        "adapter": adapter,
        "data": data,
        "budget": budget,
        "fit_s": fit_s,
        "classes": [c.item() if hasattr(c, "item") else c for c in model.classes_],
        "classes_sorted_as_labels": [str(c) for c in model.classes_] == [str(c) for c in expected],
        "proba_shape": list(proba.shape),
        "max_row_sum_error": float(np.abs(proba.sum(axis=1) - 1).max()),
        "predict_is_argmax": bool((pred == model.classes_[proba.argmax(axis=1)]).all()),
        "label_type_kept": type(pred[0]).__name__,
        "accuracy": float(accuracy_score(yte, pred)),
        "models_count": getattr(model, "models_count_", None),
        "leaderboard_rows": 0 if board is None else len(board),
        "leaderboard_models": [] if board is None else [str(m) for m in pd.DataFrame(board).iloc[:, 0]],
        "skipped_at_start": getattr(model, "skipped_at_start_", None),
        "inference": inference,
        "trajectory": trajectory,
        "saved_format": fmt,
        "reloaded_agreement": None if reloaded is None else float((reloaded == codes).mean()),
    }


def _codes(model, labels) -> np.ndarray:
    """Each label's index among the model's classes."""
    index = {c: i for i, c in enumerate(model.classes_)}
    return np.array([index[v] for v in labels])


def _trajectory(model, path, fit_s: float) -> dict:
    """What the harness's writer stores for this fit (trajectory.parquet), summarised."""
    from automl_bench.execution import trajectory_file as trajectory

    path.mkdir()
    written = trajectory.write(path, model)
    if not (path / trajectory.FILE).exists():
        return {"written": written}
    tr = pd.read_parquet(path / trajectory.FILE)
    t, best = tr["elapsed_s"].to_numpy(), tr["best_loss"].to_numpy()
    return {
        "written": written,
        "points": len(tr),
        "columns": list(tr.columns),
        "elapsed_non_decreasing": bool((np.diff(t) >= 0).all()),
        "first_s": float(t[0]),
        "last_s": float(t[-1]),
        "fit_s": fit_s,
        "best_non_increasing": bool((np.diff(best) <= 1e-12).all()),
        "best_finite": bool(np.isfinite(best).all()),
        "loss_names": sorted(tr["loss_name"].unique()),
        "evaluated": len(set(tr["evaluated"])),
        "validation": sorted(tr["validation"].unique()),
    }


def _reload_codes(fmt: str, path, model, X):
    """Class codes predicted by the saved model, loaded back with the backend's own loader
    (None for formats this probe does not reload)."""
    if fmt == "autogluon-predictor":
        from autogluon.tabular import TabularPredictor

        return TabularPredictor.load(str(path / "predictor")).predict(X).to_numpy().astype(int)
    if fmt == "evalml-pipeline":
        from evalml.pipelines import PipelineBase

        pipeline = PipelineBase.load(str(path / "pipeline.pkl"))
        return np.asarray(pipeline.predict(model._prepare(X))).astype(int)
    if fmt == "joblib":
        import joblib

        loaded = joblib.load(path / "model.joblib")
        return _codes(model, loaded.predict(X))
    return None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("adapter")
    ap.add_argument("data")
    ap.add_argument("--budget", type=float, default=15)
    ap.add_argument("--numeric-labels", action="store_true")
    ap.add_argument("--params", default="{}")
    args = ap.parse_args(argv)
    out = probe(args.adapter, args.data, args.budget, args.numeric_labels, json.loads(args.params))
    sys.stdout.write("PROBE " + json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Is the model FLAML deploys the model it validated? Validation vs test loss, fold by fold.

Two measurements (issues 24 and 29), each printed as a table:

- ``hundred``: FLAML vs LightGBM on a generated 100-class task of 1,599 rows x 64 features
  (scikit-learn's make_classification), 2 folds, 20 s;
- ``hd-real``: FLAML on the five hd-real tasks that ship with the package, 2 folds, 25 s.

Each row: FLAML's validation log loss (the last point of its trajectory, what its search log
says of the incumbent), the test log loss and accuracy, the constant predictor's test log loss,
``flagged`` (test log loss above both 3x the validation loss and the constant's), the learner
chosen, the rounds (boosting rounds, or trees) of the validated trial model and of the deployed
model, and how the final retraining went. The rounds are read from the models themselves, not
from the adapter, so the script measures an old adapter as well as a new one.

Adapters run in this process (no harness), with ``--hogs N`` busy processes beside them (two
by default, as in the issues; they are ended when the script ends)::

    python tests/benchmarks/flaml_validated_model.py --part hundred --hogs 2
    python tests/benchmarks/flaml_validated_model.py --part hd-real --hogs 2
    python tests/benchmarks/flaml_validated_model.py --part hd-real --tasks mfeat-factors
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification
from sklearn.metrics import accuracy_score, log_loss

import automl_bench_adapters.flaml_automl as flaml_module
from automl_bench.data.folds import stratified_folds
from automl_bench_adapters.base import AdapterError
from automl_bench_adapters.flaml_deadline import best_trial_model
from automl_bench_adapters.lgbm import LightGBM

HD_REAL = Path(__file__).resolve().parents[2] / "bench" / "datasets" / "hd-real"
HD_TASKS = ("cnae-9", "micro-mass", "semeion", "mfeat-factors", "arrhythmia")


def rounds(model) -> int | None:
    """Boosting rounds (trees for a forest) a FLAML estimator's fitted model predicts with."""
    inner = getattr(model, "model", None)
    if inner is None:
        return None
    if hasattr(inner, "booster_"):  # LightGBM: best_iteration_ when a callback stopped it
        return int(getattr(inner, "best_iteration_", 0) or inner.booster_.current_iteration())
    if hasattr(inner, "get_booster"):  # XGBoost
        return int(inner.get_booster().num_boosted_rounds())
    if hasattr(inner, "estimators_"):  # random forest, extra trees
        return len(inner.estimators_)
    if hasattr(inner, "tree_count_"):  # CatBoost
        return int(inner.tree_count_)
    return None


_seen: dict = {}
_free = flaml_module.free_others


def _spy(automl, keep):
    """Before the adapter frees the trial models: what the validated one was."""
    trial = best_trial_model(automl)
    state = automl._search_states.get(automl._best_estimator)
    _seen.update(validated_rounds=rounds(trial),
                 config_rounds=(state.best_config or {}).get("n_estimators") if state else None)
    _free(automl, keep)


flaml_module.free_others = _spy


def hundred_class():
    # 20 informative features, class_sep 3: LightGBM's defaults reach ~0.4 accuracy (a task
    # where the search matters; with class_sep 1.5 every system stays near the constant)
    X, y = make_classification(n_samples=1599, n_features=64, n_informative=20, n_redundant=0,
                               n_classes=100, n_clusters_per_class=1, class_sep=3.0,
                               random_state=0)  # fmt: skip
    X = pd.DataFrame(X.astype("float32"), columns=[f"f{i:02d}" for i in range(64)])
    return X, pd.Series(y, name="target")


def hd_real(name: str):
    df = pd.read_parquet(HD_REAL / f"{name}.parquet")
    return df.drop(columns=["class"]), df["class"]


def constant_loss(ytr, yte, classes) -> float:
    prior = ytr.value_counts(normalize=True).reindex(classes, fill_value=0).to_numpy()
    return log_loss(yte, np.tile(prior, (len(yte), 1)), labels=classes)


def run_one(name, make, X, y, fold, tr, te, budget) -> dict:
    _seen.clear()
    with tempfile.TemporaryDirectory() as scratch:
        model = make(time_limit=budget, cores=1, seed=0, scratch_dir=scratch)
        Xtr, ytr = X.iloc[tr], y.iloc[tr]
        model.prepare(Xtr, ytr)  # the setup step, timed apart as the harness does
        t0 = time.monotonic()
        try:
            model.fit(Xtr, ytr)
        except AdapterError as e:  # a failed job, as the harness records it
            return {"framework": name, "fold": fold, "error": str(e)[:80]}
        fit_s = time.monotonic() - t0
        proba = model.predict_proba(X.iloc[te])
        traj = model.trajectory()
    yte, classes = y.iloc[te], model.classes_
    row = {"framework": name, "fold": fold, "fit_s": round(fit_s, 1),
           "val_loss": float(traj["best_loss"].iloc[-1]) if traj is not None and len(traj) else None,
           "test_loss": log_loss(yte, proba, labels=classes),
           "test_acc": accuracy_score(yte, classes[proba.argmax(axis=1)]),
           "const_loss": constant_loss(y.iloc[tr], yte, classes)}  # fmt: skip
    if name == "flaml":
        timings = getattr(model, "timings_", {})
        deployed = getattr(model, "kept_trial_model_", None) or model.model_.model
        row.update(best=model.best_model_, config_rounds=_seen.get("config_rounds"),
                   validated_rounds=_seen.get("validated_rounds"), deployed_rounds=rounds(deployed),
                   abandoned=timings.get("abandoned_at_limit"),
                   retrain=_retrain_text(timings))  # fmt: skip
    v = row["val_loss"]
    row["flagged"] = bool(v is not None and row["test_loss"] > max(3 * v, row["const_loss"]))
    return row


def _retrain_text(t: dict) -> str:
    if t.get("abandoned_at_limit"):
        return "abandoned"
    if t.get("retrain_skipped"):
        return "skipped"
    if t.get("retrain_cut"):
        return f"cut at {t.get('retrain_s', 0):.2f}/{t.get('retrain_given_s', 0):.2f}s: trial kept"
    if "retrain_s" in t:
        return f"{t['retrain_s']:.2f}/{t.get('retrain_given_s', float('nan')):.2f}s"
    return "-"


def measure(part: str, budget: float | None, tasks=HD_TASKS) -> pd.DataFrame:
    rows = []
    if part in ("hundred", "all"):
        X, y = hundred_class()
        for fold, (tr, te) in enumerate(stratified_folds(y, 2, 0)):
            for name, make in (("flaml", flaml_module.FLAML), ("lightgbm", LightGBM)):
                row = run_one(name, make, X, y, fold, tr, te, budget or 20)
                rows.append({"task": "generated-100-class", **row})
                print(rows[-1], flush=True)
    if part in ("hd-real", "all"):
        for task in tasks:
            X, y = hd_real(task)
            for fold, (tr, te) in enumerate(stratified_folds(y, 2, 0)):
                row = run_one("flaml", flaml_module.FLAML, X, y, fold, tr, te, budget or 25)
                rows.append({"task": task, **row})
                print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("hundred", "hd-real", "all"), default="all")
    parser.add_argument("--budget", type=float, default=None, help="seconds (20 / 25)")
    parser.add_argument("--hogs", type=int, default=2, help="busy processes beside the run")
    parser.add_argument("--tasks", default=",".join(HD_TASKS), help="hd-real tasks to run")
    args = parser.parse_args()
    hogs = [subprocess.Popen(["yes"], stdout=subprocess.DEVNULL) for _ in range(args.hogs)]
    try:
        start_load = Path("/proc/loadavg").read_text().split()[:3]
        table = measure(args.part, args.budget, args.tasks.split(","))
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 30)
    print(f"\nload at start {' '.join(start_load)}, at end "
          f"{' '.join(Path('/proc/loadavg').read_text().split()[:3])}; hogs {args.hogs}")  # fmt: skip
    print(table.round(3).to_string(index=False))


if __name__ == "__main__":
    main()

"""Checks on a finished `make bench` run (the default suite): budgets kept, H2O not starved.

Run after `make bench` (from the repository root):

    .venv/bin/python tests/benchmarks/default_suite_budgets.py [results/default]

Prints every AutoML job's setup, training_duration / budget_s, predict, status and models,
then two checks: every AutoML job's ratio in [0.9, 1.1], and H2O's mean accuracy above the
constant predictor's by at least 0.2 on every task. Exit code 0 when both hold.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

AUTOML = ("flaml", "h2o", "autogluon", "autogluon_best", "evalml")
RATIO = (0.9, 1.1)
H2O_MARGIN = 0.2


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    run = Path(argv[0] if argv else "results/default")
    df = pd.read_csv(run / "results.csv")
    auto = df[df["framework"].isin(AUTOML)].copy()
    auto["ratio"] = auto["training_duration"] / auto["budget_s"]
    cols = ["framework", "task", "fold", "setup_duration", "ratio", "predict_duration", "status",
            "starved", "models_count", "best_model", "stop_reason", "acc"]  # fmt: skip
    with pd.option_context("display.width", 200, "display.max_colwidth", 40):
        print(auto[[c for c in cols if c in auto]].round(3).to_string(index=False))
    bad = auto[(auto["status"] != "ok") | ~auto["ratio"].between(*RATIO)]
    print(f"\nAutoML jobs: {len(auto)}; training_duration / budget_s from {auto['ratio'].min():.3f} "
          f"to {auto['ratio'].max():.3f} (median {auto['ratio'].median():.3f}); outside "
          f"[{RATIO[0]}, {RATIO[1]}] or not ok: {len(bad)}")  # fmt: skip
    acc = df[df["status"] == "ok"].groupby(["task", "framework"])["acc"].mean().unstack()
    ok = True
    if "h2o" in acc and "constant" in acc:
        margin = acc["h2o"] - acc["constant"]
        for task, m in margin.items():
            print(f"h2o - constant on {task}: {acc.loc[task, 'h2o']:.3f} - "
                  f"{acc.loc[task, 'constant']:.3f} = {m:+.3f}")  # fmt: skip
        ok = bool((margin >= H2O_MARGIN).all())
        print(f"H2O beats the constant predictor by >= {H2O_MARGIN} on every task: {ok}")
    return 0 if bad.empty and ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

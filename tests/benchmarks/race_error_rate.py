"""How often the racing rule drops a framework that is as good as the others (race-wide).

Run (from the repository root, after `make install`):

    .venv/bin/python tests/benchmarks/race_error_rate.py [--races 2000] [--frameworks 4]
        [--tasks 12] [--folds 5] [--alpha 0.05] [--min-blocks 5] [--seed 0]

Simulates races in which every framework is equally good: each block (task x fold) has a task
effect plus independent noise per framework, so the frameworks' scores are exchangeable. Each
race runs the rule of `run --race` (automl_bench.race.rule.trace, the code the harness uses) after every
round (one fold of every task) and records whether any framework was dropped. Prints the
share of races with at least one wrong drop (the race-wide error rate) with a 95% Wilson
interval, and the share of single decisions that dropped someone (the per-decision rate,
which the Friedman gate bounds by alpha). A second scenario makes one framework worse by one
noise standard deviation on every block and prints how often the rule drops it and after
which round (the race's power).
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import pandas as pd

from automl_bench.race import rule as race


def _rows(rng, k: int, tasks: int, folds: int, worse: float) -> pd.DataFrame:
    task_effect = rng.normal(0, 3, size=tasks)
    rows = []
    for t in range(tasks):
        for f in range(folds):
            for j in range(k):
                shift = -worse if j == k - 1 else 0.0
                rows.append({"framework": f"fw{j}", "task": f"t{t}", "fold": f, "budget_s": 10.0,
                             "status": "ok",
                             "result": task_effect[t] + shift + rng.normal()})  # fmt: skip
    return pd.DataFrame(rows)


def _wilson(x: int, n: int) -> tuple[float, float]:
    if n == 0:
        return math.nan, math.nan
    p, z = x / n, 1.96
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return c - h, c + h


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--races", type=int, default=2000)
    ap.add_argument("--frameworks", type=int, default=4)
    ap.add_argument("--tasks", type=int, default=12)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--alpha", type=float, default=race.ALPHA)
    ap.add_argument("--min-blocks", type=int, default=race.MIN_BLOCKS)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rule = race.Rule(a.alpha, a.min_blocks)
    rng = np.random.default_rng(a.seed)
    print(f"rule: {rule.describe()}")
    print(f"{a.races} races of {a.frameworks} frameworks on {a.tasks} tasks x {a.folds} folds "
          f"({a.folds} rounds of {a.tasks} blocks)")  # fmt: skip
    for worse, label in ((0.0, "all equally good"), (1.0, "last framework worse by 1 sd")):
        wrong = decisions = dropping = 0
        rounds: list[int] = []
        for _ in range(a.races):
            rows = _rows(rng, a.frameworks, a.tasks, a.folds, worse)
            tr = race.trace(rows, rows, {}, rule)
            tested = [d for d in tr.decisions if d.friedman_p is not None]
            decisions += len(tested)
            dropping += sum(1 for d in tested if d.dropped)
            last = f"fw{a.frameworks - 1}"
            wrongly = [f for (f, _), d in tr.drops.items()
                       if not d.won and (worse == 0.0 or f != last)]  # fmt: skip
            wrong += bool(wrongly)
            d = tr.dropped(last, 10.0)
            if worse and d is not None:
                rounds.append(d.round)
        lo, hi = _wilson(wrong, a.races)
        print(f"\n{label}:")
        print(f"  races with a wrong drop: {wrong}/{a.races} = {wrong / a.races:.3f} "
              f"[95% {lo:.3f}, {hi:.3f}]")  # fmt: skip
        print(f"  decisions that dropped anyone: {dropping}/{decisions} = "
              f"{dropping / max(decisions, 1):.3f}")  # fmt: skip
        if worse:
            print(f"  worse framework dropped in {len(rounds)}/{a.races} races; after round: "
                  + ", ".join(f"{r}: {rounds.count(r)}" for r in sorted(set(rounds))))  # fmt: skip


if __name__ == "__main__":
    main()

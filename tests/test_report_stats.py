"""The report's statistics against a hand-computed example, through the same code the report
uses (matrix level) and through a run directory holding those results (report level).

Example: three frameworks A, B, C on five tasks (higher is better, one fold each):

    task  A    B    C     ranks A B C
    t1    .9   .8   .7          1 2 3
    t2    .9   .7   .8          1 3 2
    t3    .9   .8   .7          1 2 3
    t4    .8   .9   .7          2 1 3
    t5    .9   .8   .8          1 2.5 2.5   (tie)

Mean ranks: A = 6/5 = 1.2, B = 10.5/5 = 2.1, C = 13.5/5 = 2.7.
Friedman: 12N/(k(k+1)) * sum(R^2) - 3N(k+1) = 5 * 13.14 - 60 = 5.7; tie correction
1 - sum(t^3 - t) / (N k (k^2 - 1)) = 1 - 6/120 = 0.95, so chi2 = 6.0, p = exp(-3) = 0.0498.
Nemenyi CD (alpha .05, k = 3, N = 5) = q(2.343) * sqrt(3*4 / (6*5)) = 1.4819 (Demsar's table).
|A - C| = 1.5 > CD: significant; |A - B| = 0.9 and |B - C| = 0.6 are not: cliques {A,B}, {B,C}.
Win rates (ties count 1/2): A>B 4/5 = .8, A>C 5/5 = 1, B>C (3 + .5)/5 = .7.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from automl_bench.report import aggregate, stats, write_report
from automl_bench.report.load import load_runs
from automl_bench.results.cost import load_prices
from automl_bench.results.store import Store

SCORES = {
    "t1": (0.9, 0.8, 0.7),
    "t2": (0.9, 0.7, 0.8),
    "t3": (0.9, 0.8, 0.7),
    "t4": (0.8, 0.9, 0.7),
    "t5": (0.9, 0.8, 0.8),
}
FW = ["A", "B", "C"]


@pytest.fixture
def matrix():
    return pd.DataFrame.from_dict(SCORES, orient="index", columns=FW)


def test_critical_difference_matches_hand_computation(matrix):
    cd = stats.critical_difference(matrix)
    assert cd.ranks.to_dict() == pytest.approx({"A": 1.2, "B": 2.1, "C": 2.7})
    assert cd.statistic == pytest.approx(6.0)
    assert cd.pvalue == pytest.approx(math.exp(-3.0), rel=1e-6)
    assert cd.cd == pytest.approx(1.4819, abs=5e-4)
    assert cd.pvalues.loc["A", "C"] < 0.05
    assert cd.pvalues.loc["A", "B"] > 0.05 and cd.pvalues.loc["B", "C"] > 0.05
    assert cd.cliques == [["A", "B"], ["B", "C"]]


def test_cd_diagram_draws_the_hand_computed_cliques(matrix):
    from automl_bench.report import plots

    cd = stats.critical_difference(matrix)
    png, artists = plots.cd_diagram(cd.ranks, cd.pvalues, cd.cd)
    assert png.startswith(b"\x89PNG")
    # each crossbar is drawn through the mean ranks of the frameworks it joins
    bars = sorted(sorted(np.round(line.get_xdata(), 6)) for (line,) in artists["crossbars"])
    assert bars == [[1.2, 2.1], [2.1, 2.7]]
    markers = sorted(round(float(m.get_offsets()[0, 0]), 6) for m in artists["markers"])
    assert markers == [1.2, 2.1, 2.7]


def test_win_rates_match_hand_computation(matrix):
    w = stats.win_rates(matrix)
    assert w.loc["A", "B"] == pytest.approx(0.8) and w.loc["B", "A"] == pytest.approx(0.2)
    assert w.loc["A", "C"] == pytest.approx(1.0) and w.loc["C", "A"] == pytest.approx(0.0)
    assert w.loc["B", "C"] == pytest.approx(0.7) and w.loc["C", "B"] == pytest.approx(0.3)
    assert np.isnan(w.loc["A", "A"])


def test_bradley_terry_orders_and_anchors(matrix):
    r = stats.bradley_terry(matrix, anchor="C", n_boot=100)
    t = r.table.set_index("framework")
    assert list(r.table["framework"]) == ["A", "B", "C"]
    assert t.loc["C", "elo"] == pytest.approx(1000.0)
    assert (t["lo"] <= t["elo"] + 1e-9).all() and (t["elo"] <= t["hi"] + 1e-9).all()
    assert t.loc["A", "lo"] > 1000  # A beats C on every resample of tasks


def test_degenerate_matrices_say_why():
    one_task = pd.DataFrame({"A": [0.9], "B": [0.8]}, index=["t1"])
    cd = stats.critical_difference(one_task)
    assert not cd.available and "at least two tasks" in cd.caveats[-1]
    one_fw = pd.DataFrame({"A": [0.9, 0.8]}, index=["t1", "t2"])
    assert "only one framework" in stats.critical_difference(one_fw).caveats[-1]
    r = stats.bradley_terry(one_task, anchor="B")
    assert r.table["lo"].isna().all() and "no interval" in r.caveats[-1]


def test_pareto_front():
    p = pd.DataFrame({"x": [1.0, 2.0, 3.0, 2.5], "y": [0.5, 0.8, 0.7, 0.9]})
    assert list(aggregate.pareto(p, "x", "y")) == [True, True, False, True]


def _row(framework, task, score, fold=0):
    return {
        "id": task, "task": task, "framework": framework, "constraint": "10s1c1024M", "fold": fold,
        "type": "multiclass", "result": score, "metric": "neg_logloss", "mode": "local",
        "params": "{}", "utc": "2026-01-01T00:00:00+00:00", "duration": 2.0,
        "training_duration": 1.0, "acc": score, "balacc": score, "logloss": -score,
        "status": "ok", "budget_s": 10.0, "cores": 1, "grace_s": 16.0, "cost_usd": 0.0,
        "job_id": f"{framework}-{task}-{fold}",
    }  # fmt: skip


def test_report_from_run_dir_matches_hand_computation(tmp_path):
    """The same example stored as a run's results (as another machine or tool would leave
    them): the report's CSV tables carry the hand-computed ranks and win rates."""
    run = tmp_path / "hand"
    with Store(run / "results.sqlite") as store:
        for task, scores in SCORES.items():
            for fw, s in zip(FW, scores, strict=True):
                store.put(_row(fw, task, s))
    (run / "plan.json").write_text(json.dumps([{"framework": f, "adapter": "x:Y"} for f in FW]))
    w = write_report([run], tmp_path / "out", n_boot=50)
    board = pd.read_csv(w.out_dir / "tables" / "leaderboard.csv").set_index("framework")
    assert board["mean_rank"].to_dict() == pytest.approx({"A": 1.2, "B": 2.1, "C": 2.7})
    wins = pd.read_csv(w.out_dir / "tables" / "win_rates.csv", index_col=0)
    assert wins.loc["A", "B"] == pytest.approx(0.8) and wins.loc["B", "C"] == pytest.approx(0.7)
    html = w.html.read_text()
    assert "chi-square = 6.000" in html and "critical difference at alpha 0.05: 1.482" in html
    # no constant predictor and no task files: the report says it cannot normalise
    loaded = load_runs([run])
    grid = aggregate.build_grid(loaded)
    assert any("cannot be imputed" in n for n in grid.notes)
    assert board["normalised"].isna().all()
    assert load_prices().usd_per_vcpu_hour == pytest.approx(0.048)

"""The budget contract through the CLI, with test adapters that are slow in their setup step
(tests/misbehaving_adapters.py:SlowSetup): setup is measured apart and the deadline placed
after its real end; setup past its allowance comes out of the budget, and a job left with
less than half its budget is stored ok but flagged starved, listed by `show` and the report."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import run_cli
from test_enforcement import ENV, _suite

BUDGET, SETUP_GRACE = 4, 4.0


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("starved")
    suite = _suite(tmp, "starved", 2, BUDGET, "constant")
    out = tmp / "run"
    proc = run_cli("run", "--suite", suite, "--out", out, "--folds", 1, "--parallel", 2,
                   "--frameworks", "slow_setup,slow_setup_in_allowance,constant",
                   "--setup-grace", SETUP_GRACE, "--predict-grace", 2, "--predict-ratio", 0,
                   env=ENV)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    df = pd.read_csv(out / "results.csv").set_index("framework")
    return out, df, proc


def test_setup_past_its_allowance_starves_the_job_which_stays_ok(run):
    _, df, _ = run
    assert (df["status"] == "ok").all(), df[["status", "error_message"]]
    row = df.loc["slow_setup"]
    assert row["setup_duration"] >= 7.0  # its 7 s sleep, measured as setup
    # 7 s of setup against a 4 s allowance: 3 s or more came out of the 4 s budget
    assert row["search_s"] <= BUDGET - (row["setup_duration"] - SETUP_GRACE) + 1e-6
    assert row["search_s"] < BUDGET / 2 and bool(row["starved"]) is True
    # setup was not charged to the fit: the fit (the class prior) took less than the 7 s sleep
    assert row["training_duration"] < row["setup_duration"] - 3


def test_setup_within_its_allowance_is_not_charged_and_the_deadline_follows_it(run):
    _, df, _ = run
    row = df.loc["slow_setup_in_allowance"]
    # 2 s of setup, then it sleeps its whole 4 s time limit in fit: it is not killed, since
    # the deadline counts from the real end of setup, and it is not starved
    assert row["setup_duration"] >= 2.0 and row["training_duration"] >= BUDGET - 0.05
    assert bool(row["starved"]) is False and row["search_s"] == BUDGET
    limit = row["setup_duration"] + BUDGET * 1.1 + 2
    assert abs(row["budget_s"] + row["grace_s"] - limit) < 1e-6
    assert bool(df.loc["constant", "starved"]) is False
    assert df.loc["constant", "best_model"] == "class prior"
    assert df.loc["constant", "stop_reason"] == "converged"


def test_show_lists_the_starved_job_with_its_flag(run):
    out, _, _ = run
    proc = run_cli("show", out, env=ENV)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "Starved jobs" in text
    starved_part = text[text.index("Starved jobs"):]
    assert "slow_setup" in starved_part and "starved" in starved_part
    assert "slow_setup_in_allowance" not in starved_part.split("jobs:")[0]


def test_report_has_a_starved_section_naming_the_job(run):
    out, _, _ = run
    proc = run_cli("report", out, env=ENV)
    assert proc.returncode == 0, proc.stderr
    md = (out / "report" / "report.md").read_text()
    assert "## Starved jobs" in md
    section = md.split("## Starved jobs", 1)[1].split("\n## ", 1)[0]
    assert "slow\\_setup" in section and "starved" in section
    assert "slow\\_setup\\_in\\_allowance" not in section
    assert "were starved" in md.split("## Leaderboard", 1)[0]  # in the conclusions too
    html = (out / "report" / "index.html").read_text()
    assert "Starved jobs" in html
    starved_csv = pd.read_csv(out / "report" / "tables" / "starved.csv")
    assert list(starved_csv["framework"]) == ["slow_setup"]


def test_prepare_runs_setup_once_and_fit_alone_runs_it_itself(tmp_path):
    import time

    import numpy as np
    from misbehaving_adapters import SlowSetup

    X = pd.DataFrame({"a": np.arange(20.0), "b": np.arange(20.0) % 3})
    y = pd.Series(["x", "y"] * 10)
    m = SlowSetup(time_limit=5, setup_seconds=0.5, scratch_dir=str(tmp_path))
    setups = []
    real_setup = m._setup
    m._setup = lambda *a: (setups.append(time.monotonic()), real_setup(*a))
    t0 = time.monotonic()
    m.prepare(X, y)
    assert time.monotonic() - t0 >= 0.5 and len(setups) == 1
    m.fit(X, y)  # the same data: setup is not run again
    assert len(setups) == 1
    assert list(m.classes_) == ["x", "y"] and m.predict(X).shape == (20,)
    t3 = time.monotonic()
    m.fit(X.copy(), y)  # other data (a plain fit, as in a pipeline): setup runs inside fit
    assert len(setups) == 2 and time.monotonic() - t3 >= 0.5
    # the budget's clock starts after setup, at fit proper: it leaves the 0.5 s sleep out
    assert 0 <= m.elapsed() <= time.monotonic() - setups[-1] - 0.5

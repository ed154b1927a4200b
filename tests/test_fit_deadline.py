"""The fit deadline (one deadline per phase), for real: test adapters that sleep in fit or in
predict run through the CLI, with the local executor and with the Dask executor's node path
(both enforce through automl_bench.execution.enforcement); the rows say which phase the
limit hit. The phase arithmetic itself is checked without processes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import adapter_env, run_cli

from automl_bench.execution.jobs import Limits
from automl_bench.execution.phase_deadline import deadline, describe

TESTS = Path(__file__).resolve().parent
ENV = adapter_env(TESTS / "deadline_frameworks.yaml")
BUDGET, MARGIN, PREDICT_S, KILL_GRACE = 8, 0.1, 6, 1.0
# how late the driver may notice a deadline and reap the job on a machine of its own (poll
# tick, phase-mark reading, SIGTERM, reap); divided by the CPU share a process gets now
REACT_S = 2.0


def cpu_share(probe_s: float = 0.3) -> float:
    """The share of a core a busy process gets now (CPU time / wall time of a busy loop)."""
    wall0, cpu0 = time.perf_counter(), time.thread_time()
    while time.perf_counter() - wall0 < probe_s:
        pass
    return max(0.05, min(1.0, (time.thread_time() - cpu0) / (time.perf_counter() - wall0)))


@pytest.fixture(scope="module", params=["local", "dask"])
def stopped(request, tmp_path_factory):
    if request.param == "dask":
        pytest.importorskip("distributed")
    tmp = tmp_path_factory.mktemp(f"deadline-{request.param}")
    suite = tmp / "suite.yaml"
    suite.write_text(
        f"name: deadline\nfolds: 2\nseed: 0\n"
        f"constraint: {{budget_s: {BUDGET}, cores: 1, memory_mb: 1000}}\n"
        "frameworks: [constant]\ntasks:\n  - name: small\n"
        "    generated: {rows: 120, features: 8, informative: 4, classes: 3, seed: 0}\n"
    )
    out = tmp / "run"
    share = cpu_share()
    proc = run_cli("run", "--suite", suite, "--out", out, "--folds", 1, "--parallel", 2,
                   "--frameworks", "sleeps_in_fit,hangs_in_predict,constant", "--no-report",
                   "--no-inference", "--executor", request.param, "--grace-margin", MARGIN,
                   "--predict-grace", PREDICT_S, "--predict-ratio", 0,
                   "--kill-grace", KILL_GRACE, env=ENV, timeout=600)  # fmt: skip
    share = min(share, cpu_share())
    assert proc.returncode == 0, proc.stderr
    df = pd.read_csv(out / "results.csv").set_index("framework")
    return out, df, REACT_S / share, request.param


def _marks(run_dir: Path, framework: str) -> dict:
    """The worker's phase marks, left in the job's folder (a Dask node sends them back)."""
    (found,) = run_dir.glob(f"jobs/{framework}-*/phases.json")
    return json.loads(found.read_text())


def test_a_job_still_fitting_is_stopped_at_setup_plus_budget_and_margin(stopped):
    _, df, slack, _ = stopped
    row = df.loc["sleeps_in_fit"]
    assert (row["status"], row["error_type"], row["limit_phase"]) == ("timeout", "Timeout", "fit")
    assert "still fitting" in row["error_message"], row["error_message"]
    fit_limit = min(row["setup_duration"], row["setup_allowance_s"]) + BUDGET * (1 + MARGIN)
    assert fit_limit <= row["duration"] <= fit_limit + KILL_GRACE + slack, (row["duration"], slack)
    # the predict allowance was not spent searching: stopped before setup + budget x 1.1 +
    # the predict allowance, where the one deadline of before stopped it
    assert row["duration"] < fit_limit + row["predict_allowance_s"] or slack > PREDICT_S
    # grace_s still tells the most the job could have taken beyond its budget
    assert abs(row["grace_s"] - (fit_limit - BUDGET + PREDICT_S)) < 1e-6


def test_the_predict_allowance_counts_from_the_start_of_prediction(stopped):
    run_dir, df, slack, _ = stopped
    row = df.loc["hangs_in_predict"]
    assert (row["status"], row["limit_phase"]) == ("timeout", "predict"), row.to_dict()
    assert "still predicting" in row["error_message"], row["error_message"]
    assert row["predict_allowance_s"] == PREDICT_S
    marks = _marks(run_dir, "hangs_in_predict")
    began = marks["predict"] - marks["setup"]  # seconds from launch to the start of predict
    assert began + PREDICT_S <= row["duration"] <= began + PREDICT_S + KILL_GRACE + slack
    # its fit took 1 s of its 8 s budget: stopped long before setup + budget x 1.1 +
    # the allowance (the one deadline of before)
    fit_limit = min(row["setup_duration"], row["setup_allowance_s"]) + BUDGET * (1 + MARGIN)
    assert row["duration"] >= PREDICT_S
    assert row["duration"] < fit_limit + PREDICT_S


def test_a_job_within_its_limits_has_no_limit_phase(stopped):
    _, df, _, _ = stopped
    row = df.loc["constant"]
    assert row["status"] == "ok" and pd.isna(row["limit_phase"]), row.to_dict()


def test_every_row_says_where_it_ran(stopped):
    _, df, _, executor = stopped
    assert (df["mode"] == executor).all(), df["mode"]


# -- the phase arithmetic, without processes ---------------------------------------------


LIMITS = Limits(setup_s=5.0, margin=0.1, predict_s=3.0)


def test_each_phase_has_its_own_deadline():
    launched = 100.0
    setup = deadline(LIMITS, 10, launched, {})
    assert (setup.phase, setup.at) == ("setup", pytest.approx(100 + 5 + 11))
    fitting = deadline(LIMITS, 10, launched, {"setup": 100.0, "fit": 101.5})
    assert (fitting.phase, fitting.at) == ("fit", pytest.approx(100 + 1.5 + 11))
    late_setup = deadline(LIMITS, 10, launched, {"fit": 109.0})  # past its 5 s allowance
    assert late_setup.at == pytest.approx(100 + 5 + 11)  # the overrun came out of the budget
    predicting = deadline(LIMITS, 10, launched, {"fit": 101.5, "predict": 104.0})
    assert (predicting.phase, predicting.at) == ("predict", pytest.approx(104 + 3))
    measuring = deadline(LIMITS, 10, launched, {"fit": 101.5, "predict": 104.0}, 30, True)
    assert (measuring.phase, measuring.at) == ("inference", pytest.approx(104 + 3 + 30))


def test_a_fit_that_ends_late_still_gets_its_whole_predict_allowance():
    marks = {"fit": 101.0, "predict": 101.0 + 10.9}  # inside budget x (1 + margin)
    d = deadline(LIMITS, 10, 100.0, marks)
    assert d.at - marks["predict"] == pytest.approx(LIMITS.predict_s)


def test_the_message_names_the_phase():
    for marks, words in [({}, "still in setup"), ({"fit": 101.0}, "still fitting"),
                         ({"fit": 101.0, "predict": 105.0}, "still predicting")]:  # fmt: skip
        d = deadline(LIMITS, 10, 100.0, marks)
        assert words in describe(d, LIMITS, 10, 1.0)

"""Against a real AWS account (opt-in: `pytest -m live_cloud`; deselected otherwise). Needs
credentials in boto3's chain and AUTOML_BENCH_AWS_ROLE_ARN, AUTOML_BENCH_AWS_BUCKET and
AUTOML_BENCH_AWS_REGION (see the README's "Cloud AutoML services"). It runs one Autopilot job
of 15 minutes on 600 generated rows and a batch transform: it costs money."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.live_cloud


def test_autopilot_live(tmp_path):
    needed = ("AUTOML_BENCH_AWS_ROLE_ARN", "AUTOML_BENCH_AWS_BUCKET", "AUTOML_BENCH_AWS_REGION")
    missing = [k for k in needed if not os.environ.get(k)]
    if missing:
        pytest.fail(f"set {', '.join(missing)} to run the live_cloud tests")
    from automl_bench_adapters.remote_ledger import Ledger, ledger_path
    from automl_bench_adapters.sagemaker_autopilot import SageMakerAutopilot

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(700, 5)), columns=list("abcde"))
    y = pd.Series(np.where(X["a"] + X["b"] > 0, "p", np.where(X["c"] > 0, "q", "r")))
    (tmp_path / "scratch").mkdir()
    a = SageMakerAutopilot(time_limit=900, scratch_dir=str(tmp_path / "scratch"),
                           role_arn=os.environ[needed[0]], bucket=os.environ[needed[1]],
                           region=os.environ[needed[2]], max_candidates=3)  # fmt: skip
    a.prepare(X[:600], y[:600]).fit(X[:600], y[:600])
    proba = a.predict_proba(X[600:])
    assert proba.shape == (100, 3) and a.billed_usage_
    assert (a.predict(X[600:]) == y[600:].to_numpy()).mean() > 0.6
    assert Ledger(ledger_path(a.scratch_dir)).pending() == []

"""Validation against test: each row records the backend's own validation log loss of the
model it kept (``validation_loss``); a job whose test log loss is above both 3x that and the
constant predictor's is suspect. A deliberately broken adapter (validated on one model,
deploying another) is flagged on every job; the baselines beside it are not."""

from __future__ import annotations

import pandas as pd
from conftest import ROOT, adapter_env, run_cli

from automl_bench.results import suspect


def test_a_model_other_than_the_validated_one_is_flagged(tmp_path):
    fw = ROOT / "tests" / "verdict_frameworks.yaml"
    out = tmp_path / "run"
    p = run_cli("run", "--suite", "smoke", "--frameworks",
                "constant,rf,validates_one_deploys_another", "--folds", "1", "--budget", "5",
                "--out", out, "--wait-report", "--no-inference",
                env=adapter_env(fw))  # fmt: skip
    assert p.returncode == 0, p.stderr[-3000:]
    df = pd.read_csv(out / "results.csv")
    assert (df["status"] == "ok").all(), df[["framework", "error_message"]]
    broken = df["framework"] == "validates_one_deploys_another"
    assert df.loc[broken, "validation_loss"].notna().all()
    constant = df[df["framework"] == "constant"].set_index(["task", "fold"])["logloss"]
    flagged = suspect.flags(df, constant)
    assert flagged[broken].all(), df.loc[broken, ["task", "logloss", "validation_loss"]]
    assert not flagged[~broken].any(), df.loc[~broken, ["framework", "logloss", "validation_loss"]]
    # the report: the count in the summary, the section, the per-task table's mark
    md = " ".join((out / "report" / "report.md").read_text().split())
    n = int(broken.sum())
    assert f"Validation vs test: {n} job(s) suspect" in md
    assert "## Validation vs test" in md and "validates\\_one\\_deploys\\_another (suspect: 1 fold)" in md
    table = pd.read_csv(out / "report" / "tables" / "suspect.csv")
    assert len(table) == n and set(table["label"]) == {"validates_one_deploys_another"}

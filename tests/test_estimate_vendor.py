"""`estimate` shows what a managed service will bill before a run: the budget x the instances
the definition declares, priced from the price table's dated `services`, beside the machine
time; a job outside the service's limits bills nothing; no credentials are needed."""

from __future__ import annotations

import re

import pytest
from conftest import run_cli

SUITE = """
name: cloud
folds: 2
seed: 0
constraint: {budget_s: 900, cores: 1, memory_mb: 2048}
frameworks: [sagemaker_autopilot, constant]
tasks:
  - name: gen
    generated: {rows: 1100, features: 6, informative: 4, classes: 3, seed: 1}
  - name: small
    generated: {rows: 300, features: 6, informative: 4, classes: 3, seed: 2}
"""

MINE = """
sagemaker_mine:
  extends: sagemaker_autopilot
  params: {estimate_instances: 4, estimate_instance_type: ml.m5.4xlarge}
"""


def _number(pattern, text):
    m = re.search(pattern, text)
    assert m, f"{pattern!r} not in:\n{text}"
    return float(m.group(1))


def _no_aws(tmp_path) -> dict:
    none = str(tmp_path / "none")
    return {"HOME": str(tmp_path), "AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none,
            "AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": "", "AWS_PROFILE": "",
            "AUTOML_BENCH_CACHE": str(tmp_path / "cache")}  # fmt: skip


def test_estimate_shows_the_vendors_bill_without_credentials(tmp_path):
    pytest.importorskip("boto3")
    (tmp_path / "suite.yaml").write_text(SUITE)
    p = run_cli("estimate", "--suite", tmp_path / "suite.yaml", env=_no_aws(tmp_path),
                timeout=120)  # fmt: skip
    assert p.returncode == 0, p.stderr[-3000:]
    out = " ".join(p.stdout.split())  # rich wraps long lines
    assert "billed by the vendor, USD" in out  # its own column beside the machine-time USD
    # 'small' trains on 150 rows a fold, under the service's 500: those 2 jobs bill nothing.
    # 'gen', 2 folds: 900 s of 1 ml.m5.2xlarge ($0.461/h) + 300 s of 1 ml.m5.xlarge ($0.23/h)
    usd = 2 * (900 * 0.461 + 300 * 0.23) / 3600
    assert _number(r"billed by the vendor: \$([\d.]+) expected", out) == pytest.approx(usd,
                                                                                       abs=0.006)
    assert _number(r"for ([\d.]+) instance-hours", out) == pytest.approx(2 * 1200 / 3600, abs=0.006)
    assert "service prices of 2026-12-07" in out
    assert "2 jobs are outside the service's limits and will be skipped, billed nothing" in out
    assert "assumed per job: the budget x 1 ml.m5.2xlarge" in out
    machine = _number(r"cost: \$([\d.]+) expected", out)
    assert f"on top of the ${machine:.4f} of machine time" in out


def test_estimate_takes_the_instances_a_definition_declares(tmp_path):
    pytest.importorskip("boto3")
    (tmp_path / "suite.yaml").write_text(SUITE)
    (tmp_path / "mine.yaml").write_text(MINE)
    env = {**_no_aws(tmp_path), "AUTOML_BENCH_FRAMEWORKS": str(tmp_path / "mine.yaml")}
    p = run_cli("estimate", "--suite", tmp_path / "suite.yaml", "--frameworks", "sagemaker_mine",
                "--folds", "1", env=env, timeout=120)  # fmt: skip
    assert p.returncode == 0, p.stderr[-3000:]
    out = " ".join(p.stdout.split())
    usd = (900 * 4 * 0.922 + 300 * 0.23) / 3600  # 4 x ml.m5.4xlarge for the budget
    assert _number(r"billed by the vendor: \$([\d.]+) expected", out) == pytest.approx(usd,
                                                                                       abs=0.006)
    assert "the budget x 4 ml.m5.4xlarge" in out


def test_estimate_without_a_managed_service_shows_no_vendor_bill():
    p = run_cli("estimate", "--suite", "smoke", "--frameworks", "constant", "--folds", "1")
    assert p.returncode == 0, p.stderr
    assert "billed by the vendor" not in p.stdout

"""SageMaker Autopilot's adapter against AWS's own test doubles (botocore's Stubber for
SageMaker, moto for S3; see tests/aws_doubles.py): the whole lifecycle, a failed job, a
budget overrun the adapter stops, and nothing left pending in the ledger after any of them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("boto3")
pytest.importorskip("moto")

import aws_doubles as aws  # noqa: E402

from automl_bench_adapters.remote import RemoteJobFailed  # noqa: E402
from automl_bench_adapters.remote_ledger import Ledger, ledger_path  # noqa: E402
from automl_bench_adapters.sagemaker_autopilot import SageMakerAutopilot  # noqa: E402


def data(n=600, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=list("abcd"))
    y = pd.Series(np.array(["x", "y", "z"])[rng.integers(0, k, n)])
    return X, y


def adapter(tmp_path, **kw):
    scratch = tmp_path / "job" / "scratch"
    scratch.mkdir(parents=True)
    return SageMakerAutopilot(time_limit=kw.pop("time_limit", 60), scratch_dir=str(scratch),
                              **{**aws.PARAMS, **kw})  # fmt: skip


def keys(s3):
    return [o["Key"] for o in s3.list_objects_v2(Bucket=aws.BUCKET).get("Contents", [])]


def test_autopilot_lifecycle_stubbed(tmp_path, monkeypatch):
    X, y = data()
    with aws.autopilot(monkeypatch) as (stubber, s3):
        a = adapter(tmp_path)
        a.prepare(X, y)
        assert any(k.endswith("train/train.csv") for k in keys(s3))
        aws.queue_search(stubber)
        a.fit(X, y)
        assert a.best_model_ == "best-candidate" and a.models_count_ == 2
        assert a.stop_reason_ == "converged"
        # training 100 + 50 billable seconds, the shared processing job once (60 s)
        assert sorted(p["seconds"] for p in a.billed_usage_) == [50.0, 60.0, 100.0]
        expected = np.tile([0.2, 0.3, 0.5], (5, 1))
        s3.put_object(Bucket=aws.BUCKET, Key=f"{a._folder}/transform-output/test.csv.out",
                      Body=aws.transform_output(expected, 3).encode())  # the service's answer
        aws.queue_predict(stubber)
        proba = a.predict_proba(X.head(5))
        stubber.assert_no_pending_responses()
        np.testing.assert_allclose(proba, expected)
        assert list(a.classes_) == ["x", "y", "z"]
        assert keys(s3) == []  # every object of the job deleted
    assert [p["kind"] for p in a.billed_usage_][-1] == "transform"
    ledger = Ledger(ledger_path(a.scratch_dir))
    kinds = [e.kind for e in ledger.entries()]
    assert kinds == ["s3_prefix", "automl_job", "model", "transform_job"]
    assert ledger.pending() == []


def test_autopilot_request_maps_the_budget_stubbed(tmp_path, monkeypatch):
    X, y = data()
    with aws.autopilot(monkeypatch) as (stubber, _s3):
        a = adapter(tmp_path, time_limit=90.7, max_candidates=5000)
        a.prepare(X, y)
        criteria = {"MaxAutoMLJobRuntimeInSeconds": 90, "MaxRuntimePerTrainingJobInSeconds": 90,
                    "MaxCandidates": 750}  # fmt: skip
        stubber.add_response("create_auto_ml_job_v2", {"AutoMLJobArn": "arn:aws:sagemaker:x"}, {
            "AutoMLJobName": a.job_name_, "RoleArn": aws.ROLE,
            "AutoMLJobInputDataConfig": [{"ChannelType": "training",
                                          "ContentType": "text/csv;header=present",
                                          "DataSource": {"S3DataSource": {
                                              "S3DataType": "S3Prefix",
                                              "S3Uri": f"s3://{aws.BUCKET}/{a._folder}/train/"}}}],
            "OutputDataConfig": {"S3OutputPath": f"s3://{aws.BUCKET}/{a._folder}/output/"},
            "AutoMLProblemTypeConfig": {"TabularJobConfig": {
                "TargetAttributeName": "__target__", "Mode": "AUTO",
                "ProblemType": "MulticlassClassification", "CompletionCriteria": criteria}}})
        stubber.add_response("describe_auto_ml_job_v2",
                             aws.job_description("job", "Completed", "Completed", best=True))
        aws.queue_usage(stubber)
        a.fit(X, y)
        stubber.assert_no_pending_responses()
        aws.queue_release(stubber, transform=False, model=False)
        a.release()


def test_autopilot_failed_job_stubbed(tmp_path, monkeypatch):
    X, y = data()
    with aws.autopilot(monkeypatch) as (stubber, s3):
        a = adapter(tmp_path)
        a.prepare(X, y)
        stubber.add_response("create_auto_ml_job_v2", {"AutoMLJobArn": "arn:aws:sagemaker:x"})
        stubber.add_response("describe_auto_ml_job_v2",
                             aws.job_description("job", "Failed", "Failed",
                                                 failure="ClientError: too few rows"))
        aws.queue_release(stubber, transform=False, model=False, job_status="Failed")
        with pytest.raises(RemoteJobFailed, match="too few rows"):
            a.fit(X, y)
        stubber.assert_no_pending_responses()
        assert keys(s3) == []
    assert Ledger(ledger_path(a.scratch_dir)).pending() == []


def test_autopilot_overrun_is_stopped_stubbed(tmp_path, monkeypatch):
    """The service keeps running past budget x (1 + stop_margin): the adapter stops it
    (StopAutoMLJob) and keeps the best candidate the stopped job has."""
    X, y = data()
    with aws.autopilot(monkeypatch) as (stubber, _s3):
        a = adapter(tmp_path, time_limit=0.001, stop_margin=0.0)  # past it at the first poll
        a.prepare(X, y)
        stubber.add_response("create_auto_ml_job_v2", {"AutoMLJobArn": "arn:aws:sagemaker:x"})
        stubber.add_response("describe_auto_ml_job_v2",
                             aws.job_description("job", "InProgress", "Training"))
        stubber.add_response("stop_auto_ml_job", {}, {"AutoMLJobName": a.job_name_})
        stubber.add_response("describe_auto_ml_job_v2",
                             aws.job_description("job", "Stopping", "Stopping"))
        stubber.add_response("describe_auto_ml_job_v2",
                             aws.job_description("job", "Stopped", "Stopped", best=True))
        aws.queue_usage(stubber)
        a.fit(X, y)
        stubber.assert_no_pending_responses()
        assert a.stop_reason_ == "deadline" and a.best_model_ == "best-candidate"
        aws.queue_release(stubber, transform=False, model=False, job_status="Stopped")
        a.release()
    assert Ledger(ledger_path(a.scratch_dir)).pending() == []


def test_ledger_written_before_the_call_returns_stubbed(tmp_path, monkeypatch):
    """The intent is on disk while CreateAutoMLJobV2 runs: a crash inside the call leaves
    the job in the ledger for cleanup."""
    X, y = data()
    with aws.autopilot(monkeypatch) as (stubber, _s3):
        a = adapter(tmp_path)
        a.prepare(X, y)
        seen = []
        stubber.client.meta.events.register(
            "before-parameter-build.sagemaker.CreateAutoMLJobV2",
            lambda **kw: seen.append([json.loads(x)["state"] for x in
                                      ledger_path(a.scratch_dir).read_text().splitlines()]))
        stubber.add_client_error("create_auto_ml_job_v2", "ThrottlingException", "slow down")
        aws.queue_release(stubber, transform=False, model=False, job_status="Completed")
        with pytest.raises(Exception, match="slow down"):
            a.fit(X, y)
    assert seen and seen[0][-1] == "intent"
